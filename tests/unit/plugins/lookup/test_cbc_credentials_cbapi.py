# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cbc_credentials lookup for CB EDR and App Control, compared with what the legacy cbapi package reads.

For every case cbapi's own CredentialStoreFactory (what CbResponseAPI / CbProtectionAPI use) answers each
profile, and the lookup must return the same dictionaries (values and types) or fail where cbapi fails.
HOME, the working directory and /etc/carbonblack (redirected) are under tmp_path (``legacy_files``, conftest.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible.errors import AnsibleLookupError
from credential_helpers import write

try:
    from cbapi.auth import CredentialStoreFactory
    from cbapi.errors import CredentialError as CbapiCredentialError
    HAS_CBAPI = True
except ImportError:  # pragma: no cover - cbapi is a test-only reference
    HAS_CBAPI = False

pytestmark = pytest.mark.skipif(not HAS_CBAPI, reason="cbapi is not installed")

# The lookup's product name and the cbapi product it stands for.
PRODUCTS = [("edr", "response"), ("app_control", "protection"), ("response", "response"), ("protection", "protection")]
SECRET = "5ecret0123456789abcdef0123456789abcdef01"

PROFILES = ("[default]\nurl=https://edr.example.com\ntoken=DEFAULTTOKEN\n"
            "[prod]\nurl=https://prod.example.com\ntoken=PRODTOKEN\nssl_verify=0\nignore_system_proxy=TRUE\n"
            "[lab]\nurl=https://lab.example.com\ntoken=LABTOKEN\nssl_verify=/etc/ssl/lab.pem\nrabbitmq_port=5005\n"
            "[half]\nurl=https://half.example.com\n")
ENV = {"CBAPI_URL": "https://env.example.com", "CBAPI_TOKEN": SECRET}

# name: (files, terms, environment, credential_file); files maps "etc", "home", "cwd" (credentials.<product> in
# that search directory) or a path under tmp_path to the text written there.
CASES = {
    "etc": ({"etc": PROFILES}, ["prod"], {}, None),
    "home": ({"home": PROFILES}, ["lab"], {}, None),
    "cwd": ({"cwd": PROFILES}, [], {}, None),
    "all_three_directories": (
        {"etc": "[default]\nurl=https://etc\ntoken=ETC\nproxy=http://etc:8080\n[lab]\ntoken=ETCLAB\n",
         "home": "[default]\nssl_verify=False\n[lab]\nurl=https://home-lab\n",
         "cwd": "[default]\nurl=https://cwd\n[DEFAULT]\nssl_force_tls_1_2=yes\n"}, ["default", "lab"], {}, None),
    "several_profiles_in_order": ({"home": PROFILES}, ["lab", "default", "prod"], {}, None),
    "default_section": ({"home": "[DEFAULT]\ntoken=SHARED\nssl_verify=off\n[a]\nurl=https://a\n[b]\nurl=https://b\nssl_verify=on\n"},
                        ["a", "b"], {}, None),
    "missing_token": ({"home": PROFILES}, ["half"], {}, None),
    "missing_profile": ({"home": PROFILES}, ["default", "nothere"], {}, None),
    "no_file": ({}, [], {}, None),
    "explicit_files": ({"c/a.ini": PROFILES, "c/b.ini": "[prod]\ntoken=OTHER\n", "home": "[prod]\nurl=https://ignored\n"},
                       ["prod"], {}, ["c/a.ini", "c/none.ini", "c/b.ini"]),
    "env_override": ({"home": PROFILES}, ["prod", "lab"], ENV, None),
    "env_override_no_file": ({}, [], dict(ENV, CBAPI_SSL_VERIFY="false", CBAPI_ORG_KEY="ORG"), None),
    "env_ssl_verify_kept": ({}, ["any"], dict(ENV, CBAPI_SSL_VERIFY="/etc/ssl/ca.pem"), None),
    "env_url_only": ({"home": PROFILES}, ["prod"], {"CBAPI_URL": "https://env.example.com"}, None),
    "env_empty_token": ({"home": PROFILES}, ["prod"], {"CBAPI_URL": "https://env.example.com", "CBAPI_TOKEN": ""}, None),
    "env_and_credential_file": ({"c/a.ini": PROFILES}, ["lab"], ENV, ["c/a.ini"]),
}


@pytest.fixture
def verbose(lookup, monkeypatch):
    shown = []
    monkeypatch.setattr(lookup._display, "warning", lambda msg, *args, **kwargs: shown.append(("warning", msg)))
    monkeypatch.setattr(lookup._display, "vvv", lambda msg, *args, **kwargs: shown.append(("vvv", msg)))
    return shown


def cbapi_answers(legacy, terms, credential_file):
    """One answer per profile as CbResponseAPI(profile=...) / CbProtectionAPI(profile=...) get it, or the error kind."""
    answers = []
    for profile in terms or [None]:
        try:
            store = CredentialStoreFactory.getCredentialStore(legacy, credential_file)
            answers.append(dict(store.get_credentials(profile)))
        except CbapiCredentialError as exc:
            return error_kind(str(exc))
    return answers


def error_kind(text):
    for start, kind in (("Cannot find credential profile ", "missing profile"), ("Token and/or URL not available for ", "no url or token")):
        if start in text:
            return ("error", kind)
    return ("error", text)


def typed(answers):
    if isinstance(answers, list):
        return [[(key, type(value).__name__, value) for key, value in answer.items()] for answer in answers]
    return answers


@pytest.mark.parametrize("product, legacy", PRODUCTS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_lookup_matches_cbapi(lookup, verbose, legacy_files, product, legacy, name):
    files, terms, environment, credential_file = CASES[name]
    credential_file = legacy_files(legacy, files, environment, credential_file)
    expected = cbapi_answers(legacy, terms, credential_file)
    kwargs = {"product": product}
    if credential_file is not None:
        kwargs["credential_file"] = credential_file
    try:
        result = lookup.run(list(terms), variables={}, **kwargs)
    except AnsibleLookupError as exc:
        assert SECRET not in str(exc)
        result = error_kind(str(exc))
    assert typed(result) == typed(expected)
    assert [kind for kind, dummy in verbose if kind == "warning"] == []   # cbapi checks no permissions


@pytest.mark.parametrize("product, legacy", PRODUCTS)
def test_env_override_is_reported_without_secret(lookup, verbose, search_dirs, monkeypatch, product, legacy):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    result = lookup.run(["a", "b"], variables={}, product=product)
    assert [item["url"] for item in result] == ["https://env.example.com"] * 2
    messages = [msg for kind, msg in verbose if kind == "vvv"]
    assert len(messages) == 1 and "CBAPI_URL and CBAPI_TOKEN" in messages[0] and "credentials.%s" % legacy in messages[0]
    assert SECRET not in messages[0]


def test_cbc_product_ignores_cbapi_environment(lookup, verbose, search_dirs, monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    path = write(os.path.join(search_dirs["root"], "c", "creds.cbc"),
                 "[default]\nurl=https://defense.example.com\ntoken=ABC/DEF\norg_key=ORG1\n")
    assert lookup.run([], variables={}, credential_file=path)[0]["url"] == "https://defense.example.com"
    with pytest.raises(AnsibleLookupError, match="No credential file found"):
        lookup.run([], variables={})
