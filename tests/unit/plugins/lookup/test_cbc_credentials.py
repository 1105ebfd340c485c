# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the carbonblack.cloud.cbc_credentials lookup plugin."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import json
import os
import subprocess
import sys

import pytest

from ansible.errors import AnsibleError, AnsibleLookupError

from ansible_collections.carbonblack.cloud.plugins.module_utils.credentials import CREDENTIAL_KEYS, LEGACY_KEYS
from credential_helpers import write

try:
    from cbc_sdk.credential_providers import FileCredentialProvider
    HAS_SDK = True
except ImportError:  # pragma: no cover - the SDK is a test-only reference
    HAS_SDK = False

PLUGIN = "carbonblack.cloud.cbc_credentials"
BASIC = "[default]\nurl=https://defense.example.com\ntoken=ABC/DEF\norg_key=ORG1\n"
PROD = "[prod]\nurl=https://prod.example.com\ntoken=P/Q\norg_key=PROD\nssl_verify=off\n"


def _plugin_module():
    return importlib.import_module("ansible_collections.carbonblack.cloud.plugins.lookup.cbc_credentials")


@pytest.fixture
def warnings(lookup, monkeypatch):
    shown = []
    monkeypatch.setattr(lookup._display, "warning", lambda msg, *args, **kwargs: shown.append(msg))
    return shown


@pytest.fixture
def home(home_and_work):
    """HOME and the working directory under tmp_path (conftest.py); returns home/.carbonblack."""
    return home_and_work["home"]


def test_documentation_is_valid_yaml():
    yaml = pytest.importorskip("yaml")
    module = _plugin_module()
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc["name"] == "cbc_credentials"
    assert str(doc["version_added"]) == "1.0.0"
    assert doc["author"] and doc["short_description"]
    assert doc["options"]["product"]["choices"] == ["cbc", "edr", "app_control", "response", "protection"]
    assert doc["options"]["product"]["default"] == "cbc"
    assert doc["options"]["credential_file"]["type"] == "list"
    assert doc["options"]["credential_file"]["elements"] == "str"
    yaml.safe_load(module.EXAMPLES)
    returned = yaml.safe_load(module.RETURN)
    assert set(returned["_raw"]["contains"]) == set(CREDENTIAL_KEYS)


@pytest.mark.skipif(os.path.exists("/etc/carbonblack"), reason="/etc/carbonblack exists on this machine")
def test_no_terms_reads_default_profile(lookup, home, warnings):
    write(os.path.join(home, "credentials.cbc"), BASIC + PROD)
    result = lookup.run([], variables={})
    assert len(result) == 1
    assert list(result[0]) == list(CREDENTIAL_KEYS)
    assert result[0]["url"] == "https://defense.example.com"
    assert result[0]["ssl_verify"] is True
    assert result[0]["default_timeout"] == 300000
    assert warnings == []


def test_terms_in_order(lookup, tmp_path, home, warnings):
    path = write(tmp_path / "c" / "creds.cbc", BASIC + PROD)
    result = lookup.run(["prod", "default"], credential_file=[path])
    assert [item["org_key"] for item in result] == ["PROD", "ORG1"]
    assert result[0]["ssl_verify"] is False


@pytest.mark.skipif(not HAS_SDK, reason="carbon-black-cloud-sdk is not installed")
def test_result_matches_sdk(lookup, tmp_path, home, warnings):
    path = write(tmp_path / "c" / "creds.cbc", BASIC + PROD + "[x]\nssl_force_tls_1_2=YES\ndefault_timeout=9999999\n")
    for profile in ("default", "prod", "x"):
        creds = FileCredentialProvider(path).get_credentials(profile)
        expected = dict((key, getattr(creds, key)) for key in CREDENTIAL_KEYS)
        assert lookup.run([profile], credential_file=path) == [expected]


def test_credential_file_string_with_comma(lookup, tmp_path, home, warnings):
    path = write(tmp_path / "a,b" / "creds.cbc", BASIC)
    assert lookup.run(["default"], credential_file=path)[0]["org_key"] == "ORG1"


def test_credential_file_list_later_wins(lookup, tmp_path, home, warnings):
    first = write(tmp_path / "c" / "one.cbc", BASIC)
    second = write(tmp_path / "c" / "two.cbc", "[default]\norg_key=SECOND\n")
    missing = str(tmp_path / "c" / "missing.cbc")
    result = lookup.run([], credential_file=[first, missing, second])
    assert (result[0]["url"], result[0]["org_key"]) == ("https://defense.example.com", "SECOND")


def test_credential_file_tilde_is_expanded(lookup, home, warnings):
    write(os.path.join(home, "custom.ini"), BASIC)
    assert lookup.run([], credential_file="~/.carbonblack/custom.ini")[0]["token"] == "ABC/DEF"


def test_permission_warnings_shown_once(lookup, tmp_path, home, warnings):
    path = write(tmp_path / "c" / "creds.cbc", BASIC + PROD, mode=0o644)
    lookup.run(["default", "prod"], credential_file=path)
    assert warnings == [
        "Security warning: A future version of CBC SDK will disallow access to the following files altogether "
        "unless their permissions are updated.",
        "Security warning: File %s has invalid permissions" % path,
    ]


@pytest.mark.parametrize("product, legacy", [("edr", "response"), ("app_control", "protection"),
                                             ("response", "response"), ("protection", "protection")])
def test_legacy_products(lookup, home, warnings, monkeypatch, product, legacy):
    for name in ("CBAPI_URL", "CBAPI_TOKEN", "CBAPI_SSL_VERIFY"):
        monkeypatch.delenv(name, raising=False)
    write(os.path.join(home, "credentials.%s" % legacy), "[default]\nurl=https://edr\ntoken=abc\nssl_verify=no\n", mode=0o644)
    write(os.path.join(home, "credentials.cbc"), BASIC)
    result = lookup.run([], product=product)
    assert list(result[0]) == list(LEGACY_KEYS)
    assert (result[0]["url"], result[0]["ssl_verify"], result[0]["rabbitmq_port"]) == ("https://edr", False, 5004)
    assert warnings == []


def test_bad_product_is_rejected(lookup, tmp_path, home, warnings):
    path = write(tmp_path / "c" / "creds.cbc", BASIC)
    with pytest.raises(AnsibleError):
        lookup.run([], credential_file=path, product="defense")


def test_missing_profile_error(lookup, tmp_path, home, warnings):
    path = write(tmp_path / "c" / "creds.cbc", BASIC)
    with pytest.raises(AnsibleLookupError) as info:
        lookup.run(["nothere"], credential_file=path)
    assert "'nothere' not found in %s" % path in str(info.value)


def test_bad_value_error_and_other_profile_still_works(lookup, tmp_path, home, warnings):
    path = write(tmp_path / "c" / "creds.cbc", BASIC + "[bad]\nssl_verify=maybe\ntoken=TOPSECRET/1\n")
    assert lookup.run(["default"], credential_file=path)[0]["org_key"] == "ORG1"
    with pytest.raises(AnsibleLookupError) as info:
        lookup.run(["bad"], credential_file=path)
    text = str(info.value)
    assert "'ssl_verify'" in text and "'bad'" in text and path in text
    assert "TOPSECRET" not in text


def test_no_file_error(lookup, tmp_path, home, warnings):
    with pytest.raises(AnsibleLookupError, match="No credential file found"):
        lookup.run([], credential_file=str(tmp_path / "none.cbc"))


def test_fqcn_through_collection_loader(tmp_path):
    """Load the plugin by its FQCN in a fresh interpreter with Ansible's collection loader installed."""
    module_path = os.path.realpath(_plugin_module().__file__)
    collection_root = os.path.dirname(os.path.dirname(os.path.dirname(module_path)))
    # the collection loader needs <root>/ansible_collections/carbonblack/cloud; reuse the import path in use
    import ansible_collections
    roots = [os.path.dirname(path) for path in ansible_collections.__path__]
    roots = [root for root in roots if os.path.realpath(os.path.join(root, "ansible_collections", "carbonblack", "cloud")) == collection_root]
    if not roots:
        pytest.skip("the collection is not imported from an ansible_collections/carbonblack/cloud tree")
    creds = write(tmp_path / "c" / "creds.cbc", BASIC + PROD)
    script = (
        "import json, sys\n"
        "from ansible.plugins.loader import init_plugin_loader, lookup_loader\n"
        "init_plugin_loader(json.loads(sys.argv[1]))\n"
        "plugin = lookup_loader.get(%r)\n"
        "print(json.dumps(plugin.run(['prod'], credential_file=sys.argv[2])))\n" % PLUGIN
    )
    output = subprocess.check_output([sys.executable, "-c", script, json.dumps(roots), creds], cwd=str(tmp_path))
    result = json.loads(output.decode("utf-8").strip().splitlines()[-1])
    assert result[0]["org_key"] == "PROD" and result[0]["ssl_verify"] is False
