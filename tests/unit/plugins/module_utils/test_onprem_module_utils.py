# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/onprem.py and onprem_checks.py: EDR and App Control settings, token checks and URL comparison."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.carbonblack.cloud.plugins.module_utils import onprem, onprem_checks as checks
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcApiError, CbcConfigError

EDR_TOKEN = "0123456789abcdef0123456789abcdef01234567"


class FakeClient:
    """Answers ``request(method, path, params)`` from a table: path -> body, or an HTTP status to raise."""

    url = "https://edr.example.com"

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def request(self, method, path, params=None, **unused):
        self.calls.append((method, path, params))
        answer = self.answers.get(path, 404)
        if isinstance(answer, int):
            raise CbcApiError(method, path, answer, "refused")
        return answer


def test_edr_token_version_and_global_admin_from_the_user_list():
    client = FakeClient({"/api/info": {"version": "7.7.1.250101"}, "/api/users": [{"username": "admin"}]})
    result = checks.check_edr(client)
    assert result["version"] == "7.7.1.250101" and result["global_admin"] is True
    assert result["global_admin_source"] == "GET /api/users"


@pytest.mark.parametrize("status", [403, 405])
def test_a_refused_user_list_means_not_a_global_admin_and_required_fails_with_the_fix(status):
    client = FakeClient({"/api/info": {"version": "7.7.1"}, "/api/users": status})
    assert checks.check_edr(client)["global_admin"] is False
    with pytest.raises(CbcConfigError) as info:
        checks.check_edr(client, require_global_admin=True)
    assert "is not a Global Administrator" in str(info.value) and "profile page" in str(info.value)


def test_a_named_user_is_read_with_its_flag_and_an_unknown_one_is_an_error():
    client = FakeClient({"/api/info": {"version": "7.7.1"}, "/api/user/ac%20int": {"global_admin": False}})
    result = checks.check_edr(client, username="ac int")
    assert result["global_admin"] is False and result["global_admin_source"] == "GET /api/user/ac%20int"
    with pytest.raises(CbcConfigError) as info:
        checks.check_edr(FakeClient({"/api/info": {"version": "7"}}), username="ghost")
    assert "no user 'ghost'" in str(info.value)


def test_a_bad_edr_token_is_one_line_with_the_fix():
    with pytest.raises(CbcConfigError) as info:
        checks.check_edr(FakeClient({"/api/info": 401}))
    assert "refused the token (HTTP 401 on /api/info)" in str(info.value) and "Fix:" in str(info.value)


def test_app_control_counts_what_the_role_may_read_and_reads_the_edr_url():
    base = checks.APP_CONTROL_BASE
    client = FakeClient({base + "/computer": {"count": 12}, base + "/policy": 401, base + "/fileCatalog": {"count": 3},
                         base + "/approvalRequest": 401,
                         base + "/serverConfig": [{"name": "CBServerUrl", "value": "https://EDR.example.com:443/"},
                                                  {"name": "ParityServerVersion", "value": "8.9.4"}]})
    result = checks.check_app_control(client)
    assert result["readable"] == ["computer", "fileCatalog"] and result["objects"]["computer"]["count"] == 12
    assert result["objects"]["policy"] == {"readable": False, "count": None, "http_status": 401,
                                           "permission": "View policies"}
    assert result["cb_server_url"] == "https://EDR.example.com:443/" and result["version"] == "8.9.4"
    assert all(params == {"limit": -1} for method, path, params in client.calls[:4])


def test_app_control_401_everywhere_is_a_bad_token_or_missing_permission():
    with pytest.raises(CbcConfigError) as info:
        checks.check_app_control(FakeClient({checks.APP_CONTROL_BASE + "/computer": 401}), objects=["computer"])
    assert "the token is wrong, or its user's role may read none of these" in str(info.value)


def test_server_config_without_permission_is_reported_not_fatal():
    base = checks.APP_CONTROL_BASE
    result = checks.check_app_control(FakeClient({base + "/computer": {"count": 1}, base + "/serverConfig": 401}),
                                      objects=["computer"])
    assert result["server_config_readable"] is False and result["cb_server_url"] is None


@pytest.mark.parametrize("left, right, same", [
    ("https://EDR.example.com:443/", "https://edr.example.com", True),
    ("edr.example.com", "https://edr.example.com/", True),
    ("https://edr.example.com:8443", "https://edr.example.com", False),
    ("http://edr.example.com:80", "http://edr.example.com", True),
    ("https://edr.example.com/api", "https://edr.example.com", True),
    ("https://edr2.example.com", "https://edr.example.com", False),
])
def test_urls_are_compared_after_normalising(left, right, same):
    assert (checks.normalize_url(left) == checks.normalize_url(right)) is same


def test_settings_come_from_the_task_then_cbapi_env_then_the_profile(tmp_path):
    creds = tmp_path / "credentials.response"
    creds.write_text("[default]\nurl = https://file.example.com\ntoken = %s\nssl_verify = /etc/edr-ca.pem\n"
                     "ssl_verify_hostname = False\n" % EDR_TOKEN)
    creds.chmod(0o600)
    from_file = onprem.resolve_onprem_settings({"credential_file": [str(creds)]}, "edr", environ={})
    assert from_file["url"] == "https://file.example.com" and from_file["token"] == EDR_TOKEN
    # cbapi keeps a non-boolean ssl_verify as the CA bundle path
    assert from_file["ssl_verify"] is True and from_file["ssl_cert_file"] == "/etc/edr-ca.pem"
    assert from_file["ssl_verify_hostname"] is False and from_file["org_key"] is None
    environ = {"CBAPI_URL": "https://env.example.com", "CBAPI_TOKEN": "ENVTOKEN"}
    from_env = onprem.resolve_onprem_settings({}, "edr", environ=environ)
    assert (from_env["url"], from_env["token"]) == ("https://env.example.com", "ENVTOKEN")
    # As cbapi: with both variables set the profile name is ignored; a credential_file turns the override off.
    assert onprem.resolve_onprem_settings({"profile": "other"}, "edr", environ=environ)["token"] == "ENVTOKEN"
    assert onprem.resolve_onprem_settings({"credential_file": [str(creds)]}, "edr", environ=environ)["token"] == EDR_TOKEN
    explicit = onprem.resolve_onprem_settings({"url": "https://task.example.com", "token": "T"}, "edr", environ=environ)
    assert explicit["url"] == "https://task.example.com" and explicit["token"] == "T"


@pytest.mark.parametrize("settings, text", [
    ({"token": "t"}, "url is not set"),
    ({"url": "http://edr.example.com", "token": "t"}, "is not https://host[:port]"),
    ({"url": "https://edr.example.com/api", "token": "t"}, "is not https://host[:port]"),
    ({"url": "https://edr.example.com"}, "token is not set"),
    ({"url": "https://edr.example.com", "token": "SECRET/APIID"}, "SECRET_KEY/API_ID is a CBC API key"),
])
def test_onprem_settings_are_checked_without_echoing_the_token(settings, text):
    with pytest.raises(CbcConfigError) as info:
        onprem.validate_onprem_settings(settings, "edr")
    assert text in str(info.value) and "SECRET/APIID" not in str(info.value)


def test_cbc_only_options_are_refused_for_onprem_products():
    with pytest.raises(CbcConfigError) as info:
        checks.check_onprem_options({"org_key": "ABCD1234"}, "edr")
    assert "org_key does not apply to product edr" in str(info.value)
    checks.check_onprem_options({"org_key": "ABCD1234"}, "cbc")
