# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the credential-profile reader, compared with carbon-black-cloud-sdk where it is installed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import codecs
import configparser
import logging
import os

import pytest

from ansible_collections.carbonblack.cloud.plugins.module_utils import credentials as cred_mod
from ansible_collections.carbonblack.cloud.plugins.module_utils.redaction import SECRET_KEYS
from ansible_collections.carbonblack.cloud.plugins.module_utils.credentials import (
    BOOLEAN_KEYS,
    CREDENTIAL_KEYS,
    CredentialError,
    LEGACY_KEYS,
    SDK_DEFAULTS,
    default_search_path,
    environment_credentials,
    load_profile,
    parse_boolean,
    parse_integer,
)
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcConfigError
from credential_helpers import write

try:
    from cbc_sdk.credentials import Credentials as SdkCredentials, CredentialValue
    from cbc_sdk.credential_providers import EnvironCredentialProvider, FileCredentialProvider
    from cbc_sdk.errors import CredentialError as SdkCredentialError
    HAS_SDK = True
except ImportError:  # pragma: no cover - the SDK is a test-only reference
    HAS_SDK = False

needs_sdk = pytest.mark.skipif(not HAS_SDK, reason="carbon-black-cloud-sdk is not installed")
needs_clean_etc = pytest.mark.skipif(os.path.exists("/etc/carbonblack"), reason="/etc/carbonblack exists on this machine")

SDK_LOGGER = "cbc_sdk.credential_providers.file_credential_provider"
ENV_NAMES = ("CBC_URL", "CBAPI_URL", "CBC_TOKEN", "CBAPI_TOKEN", "CBC_ORG_KEY", "CBAPI_ORG_KEY", "CBC_SSL_VERIFY", "CBAPI_SSL_VERIFY")

SECRET = "S3CR3TV4LU3XYZ/APIID123"

BASIC = "[default]\nurl = https://defense.example.com\ntoken = ABC/DEF\norg_key = ORG1\n"


# ---------------------------------------------------------------- helpers

def typed(values):
    return dict((key, (type(value), value)) for key, value in values.items())


def sdk_profile(profile, credential_file=None):
    provider = FileCredentialProvider(credential_file)
    creds = provider.get_credentials(profile)
    assert list(creds.to_dict()) == list(CREDENTIAL_KEYS)
    return dict((key, getattr(creds, key)) for key in CREDENTIAL_KEYS)


def sdk_warnings(caplog, credential_file=None):
    """The SDK's security warnings while it reads the default profile (from its search path when no file is given)."""
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=SDK_LOGGER):
        sdk_profile("default", credential_file)
    return [record.getMessage() for record in caplog.records if record.name == SDK_LOGGER]


class Collector:
    def __init__(self):
        self.messages = []

    def __call__(self, text):
        self.messages.append(text)


@pytest.fixture
def env(home_and_work, monkeypatch):
    """Private HOME and working directory (conftest.py); returns (home/.carbonblack, cwd/.carbonblack)."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    return home_and_work["home"], home_and_work["cwd"]


# ---------------------------------------------------------------- constants and conversions

def test_public_constants():
    assert CREDENTIAL_KEYS == (
        "url", "token", "org_key", "ssl_verify", "ssl_verify_hostname", "ssl_cert_file", "ssl_force_tls_1_2", "proxy",
        "ignore_system_proxy", "integration", "csp_oauth_app_id", "csp_oauth_app_secret", "csp_api_token",
        "csp_url_override", "default_timeout")
    assert SECRET_KEYS == ("token", "csp_oauth_app_secret", "csp_api_token")
    assert set(BOOLEAN_KEYS) == {"ssl_verify", "ssl_verify_hostname", "ssl_force_tls_1_2", "ignore_system_proxy"}
    assert list(SDK_DEFAULTS) == list(CREDENTIAL_KEYS)
    assert issubclass(CredentialError, CbcConfigError)


@needs_sdk
def test_constants_match_sdk():
    assert tuple(member.name.lower() for member in CredentialValue) == CREDENTIAL_KEYS
    assert typed(SdkCredentials().to_dict()) == typed(SDK_DEFAULTS)
    assert {k.name.lower() for k in CredentialValue if k.requires_boolean_value()} == set(BOOLEAN_KEYS)


BOOLEAN_INPUTS = ["1", "yes", "on", "true", "0", "no", "off", "false", "TRUE", "True", "Off", "YeS", "ON", "nO", "FALSE",
                  True, False, 0, 1, 2, -1, "y", "n", "", " yes", "2", "truee", "none"]


@pytest.mark.parametrize("value", BOOLEAN_INPUTS)
def test_parse_boolean_rules(value):
    words = {"1": True, "yes": True, "on": True, "true": True, "0": False, "no": False, "off": False, "false": False}
    if isinstance(value, (bool, int)):
        assert parse_boolean(value, "ssl_verify") is bool(value)
    elif value.lower() in words:
        assert parse_boolean(value, "ssl_verify") is words[value.lower()]
    else:
        with pytest.raises(CredentialError) as info:
            parse_boolean(value, "ssl_verify")
        assert "ssl_verify" in str(info.value)
        assert repr(value) in str(info.value)


@needs_sdk
@pytest.mark.parametrize("value", BOOLEAN_INPUTS)
def test_parse_boolean_matches_sdk(value):
    try:
        expected = SdkCredentials({"ssl_verify": value}).ssl_verify
    except SdkCredentialError:
        with pytest.raises(CredentialError):
            parse_boolean(value, "ssl_verify")
    else:
        assert parse_boolean(value, "ssl_verify") is expected


INTEGER_INPUTS = ["1000", "0", "-5", " 42 ", "+7", "1_000", "300001", "abc", "", "1.5", "0x10", 12, True, 999999, 1.5, None]


@needs_sdk
@pytest.mark.parametrize("value", INTEGER_INPUTS)
def test_parse_integer_matches_sdk(value):
    try:
        expected = SdkCredentials({"default_timeout": value}).default_timeout
    except SdkCredentialError:
        with pytest.raises(CredentialError) as info:
            parse_integer(value, "default_timeout")
        assert "default_timeout" in str(info.value)
    else:
        result = parse_integer(value, "default_timeout")
        # the SDK clamps in Credentials(); parse_integer only converts
        assert (type(result), min(result, 300000)) == (type(expected), expected)


def test_parse_integer_plain():
    assert parse_integer("1000", "default_timeout") == 1000
    assert parse_integer(7, "default_timeout") == 7
    with pytest.raises(CredentialError, match="default_timeout"):
        parse_integer("soon", "default_timeout")


# ---------------------------------------------------------------- search path

def test_default_search_path_follows_home_and_cwd(env):
    home_dir, local_dir = env
    assert default_search_path() == [
        "/etc/carbonblack/credentials.psc", "/etc/carbonblack/credentials.cbc",
        os.path.join(home_dir, "credentials.psc"), os.path.join(home_dir, "credentials.cbc"),
        os.path.join(local_dir, "credentials.psc"), os.path.join(local_dir, "credentials.cbc"),
    ]
    assert default_search_path("response") == [
        "/etc/carbonblack/credentials.response", os.path.join(home_dir, "credentials.response"),
        os.path.join(local_dir, "credentials.response")]
    assert default_search_path("protection")[-1] == os.path.join(local_dir, "credentials.protection")


def test_default_search_path_changes_at_call_time(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "a"))
    monkeypatch.chdir(str(tmp_path))
    first = default_search_path()
    monkeypatch.setenv("HOME", str(tmp_path / "b"))
    sub = tmp_path / "sub"
    sub.mkdir()
    monkeypatch.chdir(str(sub))
    second = default_search_path()
    assert first[2].startswith(str(tmp_path / "a")) and second[2].startswith(str(tmp_path / "b"))
    assert first[4] == str(tmp_path / ".carbonblack" / "credentials.psc")
    assert second[4] == str(sub / ".carbonblack" / "credentials.psc")


def test_unknown_product():
    with pytest.raises(CredentialError, match="cbc, response, protection"):
        default_search_path("psc")
    with pytest.raises(CredentialError, match="product"):
        load_profile(product="defense")


# ---------------------------------------------------------------- comparison with the SDK, single file

SDK_CASES = {
    "basic": (BASIC, "default"),
    "booleans_lower": ("[p]\nssl_verify=false\nssl_verify_hostname=no\nssl_force_tls_1_2=on\nignore_system_proxy=1\n", "p"),
    "booleans_mixed_case": ("[p]\nssl_verify=FALSE\nssl_verify_hostname=Off\nssl_force_tls_1_2=True\nignore_system_proxy=YES\n", "p"),
    "booleans_digits": ("[p]\nssl_verify=0\nssl_verify_hostname=0\nssl_force_tls_1_2=1\nignore_system_proxy=On\n", "p"),
    "default_section": ("[DEFAULT]\nssl_verify=False\nproxy=http://proxy:8080\n[default]\nurl=https://x\n[other]\nproxy=none\n", "default"),
    "default_section_other": ("[DEFAULT]\nssl_verify=False\nproxy=http://proxy:8080\n[default]\nurl=https://x\n[other]\nproxy=none\n", "other"),
    "quotes_kept": ('[default]\nurl="https://quoted"\ntoken=\'A/B\'\n', "default"),
    "inline_comment_kept": ("[default]\ntoken=AB/CD ; comment\norg_key=ORG # not a comment\n", "default"),
    "full_line_comments": ("# comment\n; other\n[default]\n# c\nurl=https://x\n; c\n", "default"),
    "escaped_percent": ("[default]\ntoken=AB%%CD/EF\nproxy=http://u:p%%40ss@proxy:1\n", "default"),
    "interpolation_reference": ("[default]\nurl=https://x\nintegration=%(url)s/app\n", "default"),
    "interpolation_from_default": ("[DEFAULT]\nhost=h.example\n[default]\nurl=https://%(host)s\n", "default"),
    "case_insensitive_keys": ("[default]\nURL=https://x\nToken=A/B\nORG_KEY=K\nSSL_Verify=off\n", "default"),
    "colon_delimiter": ("[default]\nurl: https://x\ntoken : A/B\n", "default"),
    "spaces_around": ("[default]\n   url   =   https://x   \n\ttoken\t=\tA/B\t\n", "default"),
    "timeout_small": ("[default]\ndefault_timeout=1000\n", "default"),
    "timeout_clamped": ("[default]\ndefault_timeout=999999\n", "default"),
    "timeout_spaces_underscore": ("[default]\ndefault_timeout=1_000\n", "default"),
    "timeout_negative": ("[default]\ndefault_timeout=-5\n", "default"),
    "timeout_exact_max": ("[default]\ndefault_timeout=300000\n", "default"),
    "empty_value": ("[default]\ntoken=\nproxy=\n", "default"),
    "unknown_keys_ignored": ("[default]\nurl=https://x\nfoo=bar\nrabbitmq_user=cb\n", "default"),
    "csp_keys": ("[default]\nurl=https://x\ncsp_oauth_app_id=APP\ncsp_oauth_app_secret=SEC\ncsp_api_token=TOK\n"
                 "csp_url_override=https://csp.example/\nintegration=MyApp/1.0\nssl_cert_file=/etc/ca.pem\n", "default"),
    "multiline_value": ("[default]\nproxy=first\n  second\nurl=https://x\n", "default"),
    "section_with_spaces": ("[my profile]\nurl=https://x\n", "my profile"),
    "empty_section": ("[default]\n", "default"),
    "other_profile_present": (BASIC + "[prod]\nurl=https://prod\ntoken=P/Q\n", "prod"),
    "crlf_line_endings": (BASIC.replace("\n", "\r\n"), "default"),
    "unicode_value": (u"[default]\nintegration=Intégration/1.0\n", "default"),
}


@needs_sdk
@pytest.mark.parametrize("name", sorted(SDK_CASES))
def test_matches_sdk_explicit_file(env, tmp_path, name):
    content, profile = SDK_CASES[name]
    path = write(tmp_path / "conf" / "credentials.cbc", content)
    expected = sdk_profile(profile, path)
    assert typed(load_profile(profile, credential_file=path)) == typed(expected)
    # a one-element list and the list form give the same result
    assert typed(load_profile(profile, credential_file=[path])) == typed(expected)


@needs_sdk
@needs_clean_etc
@pytest.mark.parametrize("name", sorted(SDK_CASES))
def test_matches_sdk_default_search_path(env, name):
    content, profile = SDK_CASES[name]
    home_dir, dummy = env
    write(os.path.join(home_dir, "credentials.cbc"), content)
    expected = sdk_profile(profile)
    assert typed(load_profile(profile)) == typed(expected)


@needs_sdk
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le-bom", "utf-16-be-bom"])
def test_bom_encodings_match_sdk(env, tmp_path, encoding):
    text = BASIC + u"integration=Ünïcode/1\n"
    if encoding == "utf-16-le-bom":
        raw = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    elif encoding == "utf-16-be-bom":
        raw = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    else:
        raw = text.encode(encoding)
    path = write(tmp_path / "conf" / "credentials.cbc", None, raw=raw)
    result = load_profile(credential_file=path)
    assert result["url"] == "https://defense.example.com"
    assert result["integration"] == u"Ünïcode/1"
    assert typed(result) == typed(sdk_profile(None, path))


def test_defaults_filled_and_profile_none_means_default(env, tmp_path):
    path = write(tmp_path / "c" / "credentials.cbc", BASIC)
    result = load_profile(None, credential_file=path)
    assert list(result) == list(CREDENTIAL_KEYS)
    assert result["ssl_verify"] is True and result["default_timeout"] == 300000
    assert result["csp_url_override"] == "https://console.cloud.vmware.com"
    assert result["token"] == "ABC/DEF"


def test_fill_defaults_false_returns_only_present_keys(env, tmp_path):
    path = write(tmp_path / "c" / "credentials.cbc",
                 "[DEFAULT]\nssl_verify=no\n[default]\nurl=https://x\ndefault_timeout=500000\nfoo=bar\n")
    assert load_profile(credential_file=path, fill_defaults=False) == {
        "url": "https://x", "ssl_verify": False, "default_timeout": 300000}
    path2 = write(tmp_path / "c" / "empty.cbc", "[default]\n")
    assert load_profile(credential_file=path2, fill_defaults=False) == {}


# ---------------------------------------------------------------- merging

@needs_sdk
@needs_clean_etc
def test_merge_default_search_path_matches_sdk(env):
    home_dir, local_dir = env
    write(os.path.join(home_dir, "credentials.psc"), "[default]\nurl=https://home-psc\nproxy=http://home-psc-proxy\ntoken=HP/1\n")
    write(os.path.join(home_dir, "credentials.cbc"), "[default]\nurl=https://home-cbc\norg_key=HOMECBC\n[DEFAULT]\nssl_verify=no\n")
    write(os.path.join(local_dir, "credentials.psc"), "[default]\ntoken=LOCALPSC/2\n[extra]\nurl=https://extra\n")
    write(os.path.join(local_dir, "credentials.cbc"), "[other]\nurl=https://other\n")
    result = load_profile()
    assert result["url"] == "https://home-cbc"
    assert result["token"] == "LOCALPSC/2"
    assert result["org_key"] == "HOMECBC"
    assert result["proxy"] == "http://home-psc-proxy"
    assert result["ssl_verify"] is False
    for profile in ("default", "extra", "other"):
        assert typed(load_profile(profile)) == typed(sdk_profile(profile))


@needs_clean_etc
def test_merge_order_psc_before_cbc_and_home_before_cwd(env):
    home_dir, local_dir = env
    write(os.path.join(home_dir, "credentials.cbc"), "[default]\nurl=https://home\n")
    write(os.path.join(local_dir, "credentials.psc"), "[default]\nurl=https://local-psc\n")
    assert load_profile()["url"] == "https://local-psc"
    write(os.path.join(local_dir, "credentials.cbc"), "[default]\nurl=https://local-cbc\n")
    assert load_profile()["url"] == "https://local-cbc"


@needs_sdk
def test_explicit_list_later_wins_and_missing_skipped(env, tmp_path):
    first = write(tmp_path / "c" / "first.ini", "[default]\nurl=https://first\ntoken=F/1\n[DEFAULT]\norg_key=DEF\n")
    second = write(tmp_path / "c" / "second.ini", "[default]\nurl=https://second\n[DEFAULT]\norg_key=DEF2\n")
    missing = str(tmp_path / "c" / "missing.ini")
    files = [first, missing, second]
    result = load_profile(credential_file=files)
    assert (result["url"], result["token"], result["org_key"]) == ("https://second", "F/1", "DEF2")
    assert typed(result) == typed(sdk_profile("default", files))
    assert load_profile(credential_file=[second, first])["url"] == "https://first"


@needs_sdk
def test_default_section_loses_to_earlier_section_value(env, tmp_path):
    first = write(tmp_path / "c" / "a.ini", "[default]\nssl_verify=true\n")
    second = write(tmp_path / "c" / "b.ini", "[DEFAULT]\nssl_verify=false\n")
    assert load_profile(credential_file=[first, second])["ssl_verify"] is True
    assert sdk_profile("default", [first, second])["ssl_verify"] is True


@needs_sdk
def test_same_section_in_two_files_merges(env, tmp_path):
    first = write(tmp_path / "c" / "a.ini", "[default]\nurl=https://a\n")
    second = write(tmp_path / "c" / "b.ini", "[default]\ntoken=B/1\n")
    assert typed(load_profile(credential_file=[first, second])) == typed(sdk_profile("default", [first, second]))


def test_directory_in_search_path_is_skipped(env, tmp_path):
    directory = tmp_path / "c" / "dir.ini"
    directory.mkdir(parents=True)
    path = write(tmp_path / "c" / "real.ini", BASIC)
    assert load_profile(credential_file=[str(directory), path])["org_key"] == "ORG1"


def test_pathlike_credential_file(env, tmp_path):
    path = write(tmp_path / "c" / "real.ini", BASIC)
    assert load_profile(credential_file=tmp_path / "c" / "real.ini")["org_key"] == "ORG1"
    assert load_profile(credential_file=(path,))["org_key"] == "ORG1"
    with pytest.raises(CredentialError, match="credential_file"):
        load_profile(credential_file=[42])


# ---------------------------------------------------------------- errors

@needs_sdk
@pytest.mark.parametrize("bad", ["ssl_verify=nope", "ssl_force_tls_1_2=y", "ignore_system_proxy=", "default_timeout=soon"])
def test_bad_value_in_other_profile_does_not_break(env, tmp_path, bad):
    path = write(tmp_path / "c" / "credentials.cbc", BASIC + "[broken]\nurl=https://b\n" + bad + "\n")
    # the SDK converts every section eagerly and fails for every profile
    with pytest.raises(SdkCredentialError):
        FileCredentialProvider(path).get_credentials("default")
    assert load_profile(credential_file=path)["org_key"] == "ORG1"
    key, value = bad.split("=")
    with pytest.raises(CredentialError) as info:
        load_profile("broken", credential_file=path)
    text = str(info.value)
    assert key in text and "'broken'" in text and path in text and repr(value) in text
    assert "\n" not in text


def test_bad_boolean_message_names_key_profile_file(env, tmp_path):
    first = write(tmp_path / "c" / "one.ini", "[prod]\nssl_verify=maybe\n")
    second = write(tmp_path / "c" / "two.ini", "[prod]\nurl=https://x\n")
    with pytest.raises(CredentialError) as info:
        load_profile("prod", credential_file=[first, second])
    text = str(info.value)
    assert "Invalid boolean value 'maybe' for 'ssl_verify' in credential profile 'prod' (set in %s)" % first in text
    assert "true/false" in text
    assert second not in text


def test_bad_value_from_default_section_says_so(env, tmp_path):
    first = write(tmp_path / "c" / "one.ini", "[DEFAULT]\nssl_verify_hostname=maybe\n")
    second = write(tmp_path / "c" / "two.ini", "[prod]\nurl=https://x\n")
    with pytest.raises(CredentialError) as info:
        load_profile("prod", credential_file=[first, second])
    assert "set in the [DEFAULT] section of %s" % first in str(info.value)
    assert "ssl_verify_hostname" in str(info.value)


def test_bad_integer_message(env, tmp_path):
    path = write(tmp_path / "c" / "one.ini", "[default]\ndefault_timeout=5m\n")
    with pytest.raises(CredentialError) as info:
        load_profile(credential_file=path)
    text = str(info.value)
    assert "Invalid integer value '5m' for 'default_timeout'" in text and path in text and "'default'" in text


@needs_sdk
def test_percent_in_requested_profile(env, tmp_path):
    path = write(tmp_path / "c" / "credentials.cbc", "[default]\nurl=https://x\ntoken=" + SECRET + "%%ok\n[prod]\ntoken=AB%CD\n")
    with pytest.raises(SdkCredentialError, match="Unable to read credential file"):
        FileCredentialProvider(path).get_credentials("prod")
    with pytest.raises(CredentialError) as info:
        load_profile("prod", credential_file=path)
    text = str(info.value)
    assert "'token'" in text and "'prod'" in text and path in text and "%%" in text
    assert SECRET not in text and "AB%CD" not in text
    # the requested profile is fine, the broken one is another profile
    assert load_profile(credential_file=path)["token"] == SECRET + "%ok"


def test_percent_in_default_section_breaks_all_profiles(env, tmp_path):
    path = write(tmp_path / "c" / "credentials.cbc", "[DEFAULT]\nproxy=http://u:p%40@h\n[default]\nurl=https://x\n")
    with pytest.raises(CredentialError) as info:
        load_profile(credential_file=path)
    assert "[DEFAULT] section of %s" % path in str(info.value)
    assert "'%%'" in str(info.value)
    assert "p%40" not in str(info.value)


def test_interpolation_missing_reference(env, tmp_path):
    path = write(tmp_path / "c" / "credentials.cbc", "[default]\ntoken=%(nothere)s" + SECRET + "\n")
    with pytest.raises(CredentialError) as info:
        load_profile(credential_file=path)
    assert "does not exist" in str(info.value) and SECRET not in str(info.value)


@needs_sdk
@pytest.mark.parametrize("content, expected", [
    ("[default]\ntoken=%s\ntoken=%s\n" % (SECRET, SECRET), "key 'token' appears twice in section [default] (line 3)"),
    ("[default]\nurl=https://x\n[default]\ntoken=%s\n" % SECRET, "section [default] appears twice in this file (line 3)"),
    ("token=%s\n[default]\n" % SECRET, "line 1 comes before any section header"),
    ("[default]\ntoken %s\nurl=https://x\n" % SECRET, "line(s) 2 are not 'key = value' pairs"),
])
def test_unreadable_file_errors(env, tmp_path, content, expected):
    other = write(tmp_path / "c" / "good.ini", BASIC)
    path = write(tmp_path / "c" / "bad.ini", content)
    with pytest.raises(SdkCredentialError, match="Unable to read credential file"):
        FileCredentialProvider([other, path]).get_credentials("default")
    with pytest.raises(CredentialError) as info:
        load_profile(credential_file=[other, path])
    text = str(info.value)
    assert text.startswith("Cannot read credential file %s: " % path)
    assert expected in text
    assert SECRET not in text and "\n" not in text


@needs_sdk
def test_duplicate_default_section_in_one_file_is_allowed(env, tmp_path):
    # configparser only rejects repeated ordinary sections; the SDK accepts a repeated [DEFAULT]
    path = write(tmp_path / "c" / "a.ini", "[DEFAULT]\nproxy=p\n[default]\nurl=https://x\n[DEFAULT]\norg_key=K\n")
    result = load_profile(credential_file=path)
    assert (result["proxy"], result["org_key"]) == ("p", "K")
    assert typed(result) == typed(sdk_profile("default", path))


def test_undecodable_file(env, tmp_path):
    path = write(tmp_path / "c" / "a.ini", None, raw=b"[default]\nurl=https://\xe9\n")
    with pytest.raises(CredentialError) as info:
        load_profile(credential_file=path)
    assert path in str(info.value) and "UTF-8" in str(info.value)


def test_file_that_cannot_be_opened(env, tmp_path, monkeypatch):
    path = write(tmp_path / "c" / "a.ini", BASIC)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cred_mod, "open", refuse, raising=False)
    with pytest.raises(CredentialError) as info:
        load_profile(credential_file=path)
    assert "Cannot read credential file %s: Permission denied" % path in str(info.value)


@needs_sdk
@needs_clean_etc
def test_missing_profile_names_files(env):
    home_dir, local_dir = env
    found = write(os.path.join(home_dir, "credentials.cbc"), BASIC + "[Prod]\nurl=https://p\n")
    with pytest.raises(SdkCredentialError, match="Section nothere not found"):
        FileCredentialProvider().get_credentials("nothere")
    with pytest.raises(CredentialError) as info:
        load_profile("nothere")
    text = str(info.value)
    assert "'nothere' not found in %s" % found in text
    for path in default_search_path():
        assert path in text
    assert "default, Prod" in text
    with pytest.raises(CredentialError) as info:
        load_profile("prod")
    assert "case-sensitive" in str(info.value) and "[Prod]" in str(info.value)


@needs_sdk
@pytest.mark.parametrize("profile", ["Default", "DEFAULT", "", "default "])
def test_profile_names_are_exact(env, tmp_path, profile):
    path = write(tmp_path / "c" / "a.ini", "[DEFAULT]\nurl=https://x\n[default]\ntoken=A/B\n")
    with pytest.raises(SdkCredentialError):
        FileCredentialProvider(path).get_credentials(profile)
    with pytest.raises(CredentialError):
        load_profile(profile, credential_file=path)


@needs_sdk
@needs_clean_etc
def test_no_file_at_all(env):
    with pytest.raises(SdkCredentialError, match="Unable to locate credential file"):
        FileCredentialProvider().get_credentials()
    with pytest.raises(CredentialError) as info:
        load_profile()
    text = str(info.value)
    assert text.startswith("No credential file found for credential profile 'default'")
    for path in default_search_path():
        assert path in text


def test_no_file_explicit(env, tmp_path):
    missing = str(tmp_path / "nope.ini")
    with pytest.raises(CredentialError, match="none of these files exist: %s" % missing):
        load_profile("p", credential_file=missing)
    with pytest.raises(CredentialError, match="empty list"):
        load_profile("p", credential_file=[])


def test_profile_must_be_string(env, tmp_path):
    path = write(tmp_path / "c" / "a.ini", BASIC)
    with pytest.raises(CredentialError, match="string"):
        load_profile(5, credential_file=path)


def test_messages_never_contain_secrets(env, tmp_path):
    content = ("[default]\nurl=https://x\ntoken=%s\ncsp_api_token=%s\ncsp_oauth_app_secret=%s\nssl_verify=maybe\n"
               % (SECRET, SECRET, SECRET))
    path = write(tmp_path / "c" / "a.ini", content)
    with pytest.raises(CredentialError) as info:
        load_profile(credential_file=path)
    assert SECRET not in str(info.value)


# ---------------------------------------------------------------- permission warnings

PERMISSION_CASES = {
    "file_0600_dir_0700": (0o700, [0o600]),
    "file_0400_dir_0500": (0o500, [0o400]),
    "file_0644": (0o700, [0o644]),
    "file_0700": (0o700, [0o700]),
    "file_0640": (0o700, [0o640]),
    "dir_0755": (0o755, [0o600]),
    "dir_0750_file_0644": (0o750, [0o644]),
    "two_bad_files": (0o700, [0o644, 0o604]),
    "two_files_one_bad": (0o700, [0o600, 0o660]),
}


def _permission_setup(tmp_path, dir_mode, file_modes):
    directory = tmp_path / "perm"
    directory.mkdir()
    files = []
    for index, mode in enumerate(file_modes):
        files.append(write(directory / ("c%d.ini" % index), BASIC, mode=mode))
    os.chmod(str(directory), dir_mode)
    return str(directory), files


@needs_sdk
@pytest.mark.parametrize("name", sorted(PERMISSION_CASES))
def test_permission_warnings_match_sdk(env, tmp_path, caplog, name):
    dir_mode, file_modes = PERMISSION_CASES[name]
    directory, files = _permission_setup(tmp_path, dir_mode, file_modes)
    try:
        sdk_messages = sdk_warnings(caplog, files)
        collector = Collector()
        load_profile(credential_file=files, warn=collector)
        assert collector.messages == sdk_messages
    finally:
        os.chmod(directory, 0o700)


def test_permission_warning_texts(env, tmp_path):
    directory, files = _permission_setup(tmp_path, 0o700, [0o644, 0o600])
    collector = Collector()
    load_profile(credential_file=files, warn=collector)
    assert collector.messages == [
        "Security warning: A future version of CBC SDK will disallow access to the following files altogether "
        "unless their permissions are updated.",
        "Security warning: File %s has invalid permissions" % files[0],
    ]
    os.chmod(directory, 0o755)
    collector = Collector()
    load_profile(credential_file=files, warn=collector)
    assert collector.messages[1:] == ["Security warning: Directory %s has invalid permissions" % directory] * 2
    os.chmod(directory, 0o700)
    collector = Collector()
    load_profile(credential_file=files[1], warn=collector)
    assert collector.messages == []
    # warnings are optional
    load_profile(credential_file=files)


@needs_sdk
def test_ownership_warnings_match_sdk(env, tmp_path, caplog, monkeypatch):
    directory, files = _permission_setup(tmp_path, 0o700, [0o600])
    monkeypatch.setattr(os, "geteuid", lambda: 4242)
    sdk_messages = sdk_warnings(caplog, files)
    collector = Collector()
    load_profile(credential_file=files, warn=collector)
    assert collector.messages == sdk_messages
    assert collector.messages[-1] == "Security warning: Directory %s not owned by current user" % directory


@needs_sdk
@needs_clean_etc
def test_permission_warnings_default_path(env, caplog):
    home_dir, local_dir = env
    write(os.path.join(home_dir, "credentials.cbc"), BASIC, mode=0o644)
    write(os.path.join(local_dir, "credentials.psc"), BASIC)
    os.chmod(local_dir, 0o755)
    # The SDK keeps "./.carbonblack" relative; this module resolves it against the working directory.
    sdk_messages = [message.replace("Directory .carbonblack ", "Directory %s " % local_dir) for message in sdk_warnings(caplog)]
    collector = Collector()
    load_profile(warn=collector)
    assert collector.messages == sdk_messages
    assert len(collector.messages) == 3


def test_relative_explicit_file_warning_uses_given_path(env):
    write(os.path.join(os.getcwd(), "sub", "creds.ini"), BASIC, mode=0o644)
    collector = Collector()
    load_profile(credential_file="./sub//creds.ini", warn=collector)
    assert collector.messages[-1] == "Security warning: File sub/creds.ini has invalid permissions"


def test_no_warning_for_missing_files(env, tmp_path):
    collector = Collector()
    path = write(tmp_path / "c" / "a.ini", BASIC)
    load_profile(credential_file=[str(tmp_path / "none.ini"), path], warn=collector)
    assert collector.messages == []


# ---------------------------------------------------------------- environment

ENV_CASES = [
    {},
    {"CBC_URL": "https://cbc", "CBC_TOKEN": "A/B", "CBC_ORG_KEY": "K", "CBC_SSL_VERIFY": "false"},
    {"CBAPI_URL": "https://cbapi", "CBAPI_TOKEN": "C/D", "CBAPI_ORG_KEY": "K2", "CBAPI_SSL_VERIFY": "Off"},
    {"CBC_URL": "https://cbc", "CBC_TOKEN": "A/B", "CBAPI_ORG_KEY": "K2"},
    {"CBC_URL": "https://cbc", "CBAPI_URL": "https://cbapi", "CBAPI_TOKEN": "C/D", "CBC_SSL_VERIFY": "1", "CBAPI_SSL_VERIFY": "no"},
    {"CBAPI_URL": "https://cbapi", "CBC_TOKEN": "", "CBAPI_TOKEN": "C/D"},
    {"CBC_SSL_VERIFY": "YES"},
    {"CBAPI_SSL_VERIFY": "0"},
    {"CBC_URL": "https://only-url"},
]


@needs_sdk
@pytest.mark.parametrize("variables", ENV_CASES)
def test_environment_matches_sdk(monkeypatch, variables):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    creds = EnvironCredentialProvider().get_credentials()
    ours = environment_credentials()
    assert ours == environment_credentials(dict(variables))
    defaults = {"url": None, "token": None, "org_key": None, "ssl_verify": True}
    for key, default in defaults.items():
        assert ours.get(key, default) == getattr(creds, key)
        assert type(ours.get(key, default)) is type(getattr(creds, key))
    assert set(ours) == set(key for key, names in cred_mod.ENVIRONMENT_VARIABLES if any(name in variables for name in names))


@needs_sdk
@pytest.mark.parametrize("variables, name", [
    ({"CBC_SSL_VERIFY": "nope"}, "CBC_SSL_VERIFY"),
    ({"CBAPI_SSL_VERIFY": "y"}, "CBAPI_SSL_VERIFY"),
    ({"CBC_SSL_VERIFY": "", "CBAPI_SSL_VERIFY": "true"}, "CBC_SSL_VERIFY"),
])
def test_environment_bad_boolean(monkeypatch, variables, name):
    for var in ENV_NAMES:
        monkeypatch.delenv(var, raising=False)
    for var, value in variables.items():
        monkeypatch.setenv(var, value)
    with pytest.raises(SdkCredentialError):
        EnvironCredentialProvider()
    with pytest.raises(CredentialError) as info:
        environment_credentials(variables)
    assert name in str(info.value) and repr(variables[name]) in str(info.value)


def test_environment_ignores_other_variables():
    assert environment_credentials({"CBC_PROXY": "p", "CBC_CSP_API_TOKEN": "t", "CBAPI_TOKEN": "T"}) == {"token": "T"}


# ---------------------------------------------------------------- legacy cbapi products

def cbapi_oracle(paths, profile):
    """What cbapi's FileCredentialStore + Credentials return (written from its documented algorithm)."""
    defaults = {"url": None, "token": None, "org_key": None, "ssl_verify": "True", "ssl_verify_hostname": "True",
                "ssl_cert_file": None, "ssl_force_tls_1_2": "False", "proxy": None, "ignore_system_proxy": "False",
                "rabbitmq_user": "cb", "rabbitmq_pass": None, "rabbitmq_host": "localhost", "rabbitmq_port": 5004}
    parser = configparser.RawConfigParser(defaults=defaults)
    parser.read(paths)
    values = dict((key, parser.get(profile, key)) for key in defaults)
    words = {"1": True, "yes": True, "true": True, "on": True, "0": False, "no": False, "false": False, "off": False}
    for key in ("ssl_verify", "ssl_verify_hostname", "ignore_system_proxy", "ssl_force_tls_1_2"):
        if isinstance(values[key], str) and values[key].lower() in words:
            values[key] = words[values[key].lower()]
    return values


LEGACY_CASES = {
    "basic": "[default]\nurl=https://edr\ntoken=0123456789abcdef\n",
    "booleans": "[default]\nurl=https://edr\ntoken=t\nssl_verify=no\nssl_verify_hostname=OFF\nssl_force_tls_1_2=1\nignore_system_proxy=Yes\n",
    "unknown_boolean_kept": "[default]\nurl=https://edr\ntoken=t\nssl_verify=maybe\nssl_force_tls_1_2=\n",
    "percent_literal": "[default]\nurl=https://edr\ntoken=ab%cd%(x)s\n",
    "default_section": "[DEFAULT]\nssl_verify=false\nrabbitmq_port=5005\n[default]\nurl=https://edr\ntoken=t\n",
    "rabbitmq": "[default]\nurl=https://edr\ntoken=t\nrabbitmq_user=u\nrabbitmq_pass=p\nrabbitmq_host=h\nrabbitmq_port=1234\norg_key=O\nfoo=bar\n",
}


@pytest.mark.parametrize("product", ["response", "protection"])
@pytest.mark.parametrize("name", sorted(LEGACY_CASES))
def test_legacy_matches_cbapi(env, product, name):
    home_dir, dummy = env
    path = write(os.path.join(home_dir, "credentials.%s" % product), LEGACY_CASES[name], mode=0o644)
    collector = Collector()
    result = load_profile(product=product, warn=collector)
    assert list(result) == list(LEGACY_KEYS)
    assert typed(result) == typed(cbapi_oracle([path], "default"))
    assert collector.messages == []   # cbapi has no permission checks


def test_legacy_merge_and_fill_defaults_false(env):
    home_dir, local_dir = env
    write(os.path.join(home_dir, "credentials.response"), "[default]\nurl=https://home\ntoken=H\nssl_verify=False\n")
    write(os.path.join(local_dir, "credentials.response"), "[default]\nurl=https://local\n")
    write(os.path.join(local_dir, "credentials.cbc"), "[default]\nurl=https://ignored\n")
    result = load_profile(product="response")
    assert (result["url"], result["token"], result["ssl_verify"]) == ("https://local", "H", False)
    assert result["rabbitmq_port"] == 5004
    assert load_profile(product="response", fill_defaults=False) == {"url": "https://local", "token": "H", "ssl_verify": False}
    assert load_profile("", product="response")["url"] == "https://local"


def test_legacy_errors(env, tmp_path):
    home_dir, dummy = env
    with pytest.raises(CredentialError) as info:
        load_profile(product="protection")
    assert info.value.args[0].startswith("Cannot find credential profile 'default' after searching in these files: ")
    assert default_search_path("protection")[1] in str(info.value)
    path = write(os.path.join(home_dir, "credentials.protection"), "[srv]\nurl=https://x\n")
    with pytest.raises(CredentialError, match="Cannot find credential profile 'default'.*%s" % path):
        load_profile(product="protection")
    with pytest.raises(CredentialError, match="Token and/or URL not available for credential profile 'srv'"):
        load_profile("srv", product="protection")
    assert load_profile("srv", product="protection", fill_defaults=False) == {"url": "https://x"}
    bad = write(tmp_path / "c" / "bad.response", "[a]\nx=1\nx=2\n")
    with pytest.raises(CredentialError, match="Cannot read credential file %s: key 'x' appears twice" % bad):
        load_profile("a", credential_file=bad, product="response")
