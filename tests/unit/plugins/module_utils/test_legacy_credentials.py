# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The legacy (cbapi: CB EDR / App Control) credential reader, compared with cbapi's own CredentialStoreFactory.

cbapi (requirements-test.txt) is the reference: every case is answered by ``cbapi.auth`` and by
``legacy_environment_credentials`` + ``load_profile`` and the two answers must be equal, value and type.
The search path is hermetic: HOME and the working directory are under tmp_path and /etc/carbonblack is
redirected there too (for cbapi's reader and ours alike; ``search_dirs`` and ``legacy_files``, conftest.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.carbonblack.cloud.plugins.module_utils.credentials import (
    LEGACY_KEYS,
    CredentialError,
    legacy_environment_credentials,
    load_profile,
)

try:
    from cbapi.auth import CredentialStoreFactory
    from cbapi.errors import CredentialError as CbapiCredentialError
    HAS_CBAPI = True
except ImportError:  # pragma: no cover - cbapi is a test-only reference
    HAS_CBAPI = False

needs_cbapi = pytest.mark.skipif(not HAS_CBAPI, reason="cbapi is not installed")

PRODUCTS = ("response", "protection")

BASIC = "[default]\nurl=https://edr.example.com\ntoken=0123456789abcdef0123456789abcdef01234567\n"
PROFILES = (BASIC + "[prod]\nurl=https://prod.example.com\ntoken=PRODTOKEN\nssl_verify=False\nproxy=http://proxy:3128\n"
            "[lab]\nurl=https://lab.example.com\ntoken=LABTOKEN\nssl_cert_file=/etc/ssl/lab.pem\nrabbitmq_pass=rmq\n")

# name: (files, profile, environment, credential_file). files maps "etc", "home" or "cwd" (the file
# credentials.<product> in that search directory) or a path under tmp_path to the file's text.
CASES = {
    "etc_only": ({"etc": BASIC}, None, {}, None),
    "home_only": ({"home": BASIC}, None, {}, None),
    "cwd_only": ({"cwd": BASIC}, None, {}, None),
    "later_directory_wins_key_by_key": (
        {"etc": "[default]\nurl=https://etc\ntoken=ETC\nssl_verify=no\nproxy=http://etc:1\n",
         "home": "[default]\nurl=https://home\nssl_verify_hostname=off\n",
         "cwd": "[default]\ntoken=CWD\n"}, "default", {}, None),
    "profile_from_two_directories": ({"etc": "[prod]\nurl=https://etc\n", "cwd": "[prod]\ntoken=CWD\n"}, "prod", {}, None),
    "several_profiles_prod": ({"home": PROFILES}, "prod", {}, None),
    "several_profiles_lab": ({"home": PROFILES}, "lab", {}, None),
    "empty_profile_name_is_default": ({"home": PROFILES}, "", {}, None),
    "default_section_fallbacks": (
        {"etc": "[DEFAULT]\nssl_verify=false\nrabbitmq_port=5005\ntoken=FROMDEFAULT\n",
         "home": "[default]\nurl=https://edr\n[other]\nurl=https://other\ntoken=OTHER\n"}, "other", {}, None),
    "default_section_supplies_token": (
        {"etc": "[DEFAULT]\ntoken=FROMDEFAULT\n", "home": "[default]\nurl=https://edr\n"}, None, {}, None),
    "booleans_converted": (
        {"home": "[default]\nurl=https://edr\ntoken=t\nssl_verify=OFF\nssl_verify_hostname=0\nssl_force_tls_1_2=Yes\n"
                 "ignore_system_proxy=on\n"}, None, {}, None),
    "booleans_not_words_kept": (
        {"home": "[default]\nurl=https://edr\ntoken=t\nssl_verify=/etc/ssl/ca.pem\nssl_verify_hostname=\n"
                 "ssl_force_tls_1_2=\"true\"\nignore_system_proxy=maybe\n"}, None, {}, None),
    "values_kept_as_written": (
        {"home": "[default]\nURL=https://edr ; comment\ntoken=\"quoted\"%(x)s%\norg_key=ORG\nrabbitmq_port=1234\n"
                 "rabbitmq_user=u\nrabbitmq_host=h\nunknown=dropped\n"}, None, {}, None),
    "section_names_case_sensitive": ({"home": "[Default]\nurl=https://edr\ntoken=t\n"}, None, {}, None),
    "missing_profile": ({"home": PROFILES}, "nothere", {}, None),
    "missing_token": ({"home": "[default]\nurl=https://edr\n"}, None, {}, None),
    "missing_url": ({"home": "[default]\ntoken=t\n"}, None, {}, None),
    "empty_token": ({"home": "[default]\nurl=https://edr\ntoken=\n"}, None, {}, None),
    "no_file_at_all": ({}, None, {}, None),
    "other_product_file_not_read": ({"home/.carbonblack/credentials.other": BASIC}, None, {}, None),
    "explicit_string": ({"c/one.ini": PROFILES, "home": "[default]\nurl=https://home\ntoken=HOME\n"}, "lab", {}, "c/one.ini"),
    "explicit_list_later_wins_missing_skipped": (
        {"c/one.ini": PROFILES, "c/two.ini": "[lab]\nurl=https://two\n"}, "lab", {}, ["c/one.ini", "c/missing.ini", "c/two.ini"]),
    "explicit_list_replaces_search_path": ({"home": BASIC, "c/one.ini": "[x]\nurl=https://x\ntoken=X\n"}, None, {}, ["c/one.ini"]),
    "explicit_empty_list": ({"home": BASIC}, None, {}, []),
    # cbapi's environment override (CredentialStoreFactory.getCredentialStore)
    "env_wins_over_files": ({"home": PROFILES}, None, {"CBAPI_URL": "https://env", "CBAPI_TOKEN": "ENVTOKEN"}, None),
    "env_ignores_profile": ({"home": PROFILES}, "prod", {"CBAPI_URL": "https://env", "CBAPI_TOKEN": "ENVTOKEN"}, None),
    "env_without_files": ({}, "nothere", {"CBAPI_URL": "https://env", "CBAPI_TOKEN": "ENVTOKEN"}, None),
    "env_ssl_verify_false": ({}, None, {"CBAPI_URL": "https://env", "CBAPI_TOKEN": "T", "CBAPI_SSL_VERIFY": "False"}, None),
    "env_ssl_verify_zero": ({}, None, {"CBAPI_URL": "https://env", "CBAPI_TOKEN": "T", "CBAPI_SSL_VERIFY": "0"}, None),
    "env_ssl_verify_not_a_word": ({}, None, {"CBAPI_URL": "https://env", "CBAPI_TOKEN": "T", "CBAPI_SSL_VERIFY": "/ca.pem"}, None),
    "env_ssl_verify_empty": ({}, None, {"CBAPI_URL": "https://env", "CBAPI_TOKEN": "T", "CBAPI_SSL_VERIFY": ""}, None),
    "env_org_key_not_used": ({}, None, {"CBAPI_URL": "https://env", "CBAPI_TOKEN": "T", "CBAPI_ORG_KEY": "ORG"}, None),
    "env_blank_values_count_as_set": ({"home": BASIC}, None, {"CBAPI_URL": " ", "CBAPI_TOKEN": " "}, None),
    "env_url_only_uses_files": ({"home": BASIC}, None, {"CBAPI_URL": "https://env"}, None),
    "env_token_only_uses_files": ({"home": BASIC}, None, {"CBAPI_TOKEN": "ENVTOKEN", "CBAPI_SSL_VERIFY": "no"}, None),
    "env_empty_url_uses_files": ({"home": BASIC}, None, {"CBAPI_URL": "", "CBAPI_TOKEN": "ENVTOKEN"}, None),
    "env_empty_token_no_files": ({}, None, {"CBAPI_URL": "https://env", "CBAPI_TOKEN": ""}, None),
    "env_ignored_with_credential_file": (
        {"c/one.ini": PROFILES}, "prod", {"CBAPI_URL": "https://env", "CBAPI_TOKEN": "ENVTOKEN"}, "c/one.ini"),
    "env_ignored_with_credential_file_list": (
        {"home": BASIC}, None, {"CBAPI_URL": "https://env", "CBAPI_TOKEN": "ENVTOKEN"}, ["c/none.ini"]),
}


def error_kind(text):
    """The kind of a credential error; the wording of ours differs from cbapi's (it names the files found)."""
    for start, kind in (("Cannot find credential profile ", "missing profile"), ("Token and/or URL not available for ", "no url or token")):
        if text.startswith(start):
            return ("error", kind)
    return ("error", text)


def cbapi_answer(product, profile, credential_file):
    """What cbapi's BaseAPI gets: CredentialStoreFactory.getCredentialStore(...).get_credentials(profile)."""
    try:
        return dict(CredentialStoreFactory.getCredentialStore(product, credential_file).get_credentials(profile))
    except CbapiCredentialError as exc:
        return error_kind(str(exc))


def our_answer(product, profile, credential_file):
    environment = legacy_environment_credentials(credential_file=credential_file)
    if environment is not None:
        return environment
    try:
        return load_profile(profile, credential_file=credential_file, product=product)
    except CredentialError as exc:
        return error_kind(str(exc))


def typed(answer):
    if isinstance(answer, dict):
        return [(key, type(value).__name__, value) for key, value in answer.items()]
    return answer


@needs_cbapi
@pytest.mark.parametrize("product", PRODUCTS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_cbapi(legacy_files, product, name):
    files, profile, environment, credential_file = CASES[name]
    credential_file = legacy_files(product, files, environment, credential_file)
    expected = cbapi_answer(product, profile, credential_file)
    assert typed(our_answer(product, profile, credential_file)) == typed(expected)
    if isinstance(expected, dict):
        assert list(expected) == list(LEGACY_KEYS)


@needs_cbapi
def test_search_path_matches_cbapi(search_dirs):
    from cbapi.auth import FileCredentialStore
    for product in PRODUCTS:
        theirs = [os.path.abspath(path) for path in FileCredentialStore(product).credential_search_path]
        with pytest.raises(CredentialError) as info:
            load_profile(product=product)
        assert ", ".join(theirs) in str(info.value)


# Written from cbapi 2.0.0 cbapi/auth.py (CredentialStoreFactory, EnvarCredentialStore, Credentials) and
# ../shared/docs/cb-onprem-facts.md section 4; runs without cbapi.
ENV_DEFAULTS = {"url": "https://env", "token": "T", "org_key": None, "ssl_verify": True, "ssl_verify_hostname": True,
                "ssl_cert_file": None, "ssl_force_tls_1_2": False, "proxy": None, "ignore_system_proxy": False,
                "rabbitmq_user": "cb", "rabbitmq_pass": None, "rabbitmq_host": "localhost", "rabbitmq_port": 5004}


@pytest.mark.parametrize("environ, credential_file, expected", [
    ({"CBAPI_URL": "https://env", "CBAPI_TOKEN": "T"}, None, ENV_DEFAULTS),
    ({"CBAPI_URL": "https://env", "CBAPI_TOKEN": "T", "CBAPI_ORG_KEY": "O"}, None, ENV_DEFAULTS),
    ({"CBAPI_URL": "https://env", "CBAPI_TOKEN": "T", "CBAPI_SSL_VERIFY": "No"}, None, dict(ENV_DEFAULTS, ssl_verify=False)),
    ({"CBAPI_URL": "https://env", "CBAPI_TOKEN": "T", "CBAPI_SSL_VERIFY": "ca.pem"}, None, dict(ENV_DEFAULTS, ssl_verify="ca.pem")),
    ({"CBAPI_URL": "https://env", "CBAPI_TOKEN": "T"}, "creds.ini", None),
    ({"CBAPI_URL": "https://env", "CBAPI_TOKEN": "T"}, [], None),
    ({"CBAPI_URL": "https://env", "CBAPI_TOKEN": ""}, None, None),
    ({"CBAPI_URL": "", "CBAPI_TOKEN": "T"}, None, None),
    ({"CBAPI_TOKEN": "T", "CBAPI_SSL_VERIFY": "no"}, None, None),
    ({}, None, None),
])
def test_environment_rule(environ, credential_file, expected):
    result = legacy_environment_credentials(credential_file=credential_file, environ=environ)
    assert result == expected
    if expected is not None:
        assert list(result) == list(LEGACY_KEYS)
        assert type(result["ssl_verify"]) is type(expected["ssl_verify"])


def test_environment_rule_reads_os_environ(monkeypatch):
    monkeypatch.setenv("CBAPI_URL", "https://env")
    monkeypatch.setenv("CBAPI_TOKEN", "T")
    assert legacy_environment_credentials() == ENV_DEFAULTS
    monkeypatch.delenv("CBAPI_TOKEN")
    assert legacy_environment_credentials() is None


def test_load_profile_does_not_apply_the_environment(legacy_files, monkeypatch):
    # The modules (module_utils/onprem.py) decide about the environment themselves.
    legacy_files("response", {"home": BASIC})
    monkeypatch.setenv("CBAPI_URL", "https://env")
    monkeypatch.setenv("CBAPI_TOKEN", "T")
    assert load_profile(product="response")["url"] == "https://edr.example.com"
