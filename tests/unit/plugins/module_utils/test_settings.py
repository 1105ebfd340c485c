# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.carbonblack.cloud.plugins.module_utils.auth import select_auth
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcConfigError
from ansible_collections.carbonblack.cloud.plugins.module_utils.settings import resolve_settings, validate_settings
from credential_helpers import params, write_profile

# No real credential file or CBC_* / CBAPI_* variable may leak into these tests (conftest.py).
pytestmark = pytest.mark.usefixtures("isolated_home")

GOOD = {"url": "https://cbc.example.com", "org_key": "ABCD1234", "token": "SECRETPART/APIID"}


def test_task_arguments_beat_profile_beats_environment(tmp_path):
    cred = write_profile(tmp_path / "creds" / "credentials.cbc",
                         "[p]\nurl=https://profile.example.com\norg_key=PROFILEORG\ntoken=PS/PID\nssl_verify=false\n")
    environ = {"CBC_URL": "https://env.example.com", "CBC_ORG_KEY": "ENVORG", "CBC_TOKEN": "ES/EID",
               "CBAPI_SSL_VERIFY": "true"}
    settings = resolve_settings(params(profile="p", credential_file=[cred], org_key="TASKORG"), environ=environ)
    assert settings["org_key"] == "TASKORG"
    assert settings["url"] == "https://profile.example.com"
    assert settings["token"] == "PS/PID"
    assert settings["ssl_verify"] is False
    assert settings["csp_url_override"] == "https://console.cloud.vmware.com"


def test_environment_fills_what_the_profile_does_not_state(tmp_path):
    cred = write_profile(tmp_path / "creds" / "credentials.cbc", "[p]\norg_key=PROFILEORG\n")
    environ = {"CBC_URL": "https://env.example.com", "CBAPI_TOKEN": "ES/EID", "CBC_SSL_VERIFY": "no"}
    settings = resolve_settings(params(profile="p", credential_file=[cred]), environ=environ)
    assert (settings["url"], settings["token"], settings["org_key"], settings["ssl_verify"]) == \
        ("https://env.example.com", "ES/EID", "PROFILEORG", False)


def test_cbc_variables_win_over_cbapi_per_variable():
    environ = {"CBC_URL": "https://a.example.com", "CBAPI_URL": "https://b.example.com",
               "CBAPI_TOKEN": "S/I", "CBAPI_ORG_KEY": "ORG1"}
    settings = resolve_settings(params(), environ=environ)
    assert settings["url"] == "https://a.example.com" and settings["token"] == "S/I" and settings["org_key"] == "ORG1"


def test_default_profile_is_read_when_nothing_complete_is_given(isolated_home):
    write_profile(isolated_home / "home" / ".carbonblack" / "credentials.cbc",
                  "[default]\nurl=https://d.example.com\ntoken=S/I\norg_key=DORG\n")
    settings = resolve_settings(params(), environ={})
    assert settings["url"] == "https://d.example.com"


def test_no_credentials_anywhere_is_one_clear_error():
    with pytest.raises(CbcConfigError) as info:
        resolve_settings(params(), environ={})
    message = str(info.value)
    assert "no complete CBC credentials" in message and "Fix:" in message and "\n" not in message


def test_missing_named_profile_names_the_profile(tmp_path):
    cred = write_profile(tmp_path / "creds" / "credentials.cbc", "[other]\nurl=https://x.example.com\n")
    with pytest.raises(CbcConfigError) as info:
        resolve_settings(params(profile="missing", credential_file=[cred]), environ={})
    assert "missing" in str(info.value) and cred in str(info.value)


@pytest.mark.parametrize("change, fragment", [
    ({"url": None}, "url is not set"),
    ({"url": "http://cbc.example.com"}, "does not start with https://"),
    ({"url": "https://cbc.example.com/appservices/v6"}, "without a path"),
    ({"org_key": None}, "org_key is not set"),
    ({"org_key": "{ABCD1234}"}, "brackets"),
    ({"org_key": "<ABCD1234>"}, "brackets"),
    ({"org_key": "AB CD"}, "org_key"),
    ({"token": "SECRETPARTAPIID"}, "SECRET_KEY/API_ID"),
    ({"token": "APIID/SECRET PART"}, "SECRET_KEY/API_ID"),
    ({"token": None}, "no credentials are set"),
    ({"token": None, "csp_oauth_app_id": "app"}, "csp_oauth_app_secret is not set"),
    ({"csp_url_override": "http://csp.example.com"}, "csp_url_override"),
    ({"ssl_cert_file": "/does/not/exist.pem"}, "ssl_cert_file"),
    ({"proxy": "proxy.example.com:3128"}, "proxy must be a URL"),
])
def test_bad_inputs_are_refused_with_the_fix_and_without_the_secret(change, fragment):
    settings = dict(GOOD, **change)
    with pytest.raises(CbcConfigError) as info:
        validate_settings(settings)
    message = str(info.value)
    assert fragment in message
    assert "Fix:" in message and "\n" not in message
    assert "SECRETPART" not in message and "SECRET PART" not in message


def test_a_password_in_the_url_is_not_echoed():
    with pytest.raises(CbcConfigError) as info:
        validate_settings(dict(GOOD, url="https://user:hunter2@cbc.example.com/path"))
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("settings, mode", [
    (dict(GOOD, csp_api_token="tok", csp_oauth_app_id="a", csp_oauth_app_secret="s"), "api_key"),
    ({"csp_api_token": "tok", "csp_oauth_app_id": "a", "csp_oauth_app_secret": "s"}, "csp_api_token"),
    ({"csp_oauth_app_id": "a", "csp_oauth_app_secret": "s"}, "csp_oauth_app"),
])
def test_auth_mode_precedence_is_the_sdks(settings, mode):
    auth = select_auth(settings, use_cache=False)
    assert auth.mode == mode
    if mode != "api_key":
        assert auth.csp_url == "https://console.cloud.vmware.com"


def test_api_key_public_id_is_the_second_half():
    auth = select_auth(GOOD, use_cache=False)
    assert auth.public_id == "APIID"
    assert "SECRETPART" in auth.secret_values()


def test_partial_credentials_without_a_profile_leave_the_specific_error_to_validation():
    settings = resolve_settings(params(url="https://cbc.example.com", org_key="O", csp_oauth_app_id="app"), environ={})
    with pytest.raises(CbcConfigError) as info:
        validate_settings(settings)
    assert "csp_oauth_app_secret is not set" in str(info.value)


def test_a_default_timeout_below_one_from_any_source_is_refused():
    from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcConfigError
    from ansible_collections.carbonblack.cloud.plugins.module_utils.settings import validate_settings
    settings = {"url": "https://cbc.example.com", "org_key": "ABCD1234", "token": "S/I", "default_timeout": -5}
    with pytest.raises(CbcConfigError) as info:
        validate_settings(settings)
    assert "default_timeout must be 1 or more milliseconds, not -5" in str(info.value)
