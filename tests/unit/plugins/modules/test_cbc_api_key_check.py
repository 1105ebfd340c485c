# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cbc_api_key_check in-process, with patch_module_args and a fake client."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.carbonblack.cloud.plugins.module_utils import cbc_module
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcApiError
from ansible_collections.carbonblack.cloud.plugins.modules import cbc_api_key_check

ARGS = {"url": "https://cbc.example.com", "org_key": "ABCD1234", "token": "TOPSECRET/APIID"}


@pytest.fixture(autouse=True)
def no_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    for var in ("CBC_URL", "CBC_TOKEN", "CBC_ORG_KEY", "CBAPI_URL", "CBAPI_TOKEN", "CBAPI_ORG_KEY"):
        monkeypatch.delenv(var, raising=False)


class FakeClient:
    """Answers catalogue calls from a table: endpoint name -> status (200 or an error status)."""

    def __init__(self, statuses, auth):
        self.statuses = statuses
        self.auth = auth
        self.calls = []
        self.requests_sent = 0

    def call(self, name, body=None, **unused_kwargs):
        self.calls.append((name, body))
        self.requests_sent += 1
        status = self.statuses.get(name, 200)
        if status != 200:
            from ansible_collections.carbonblack.cloud.plugins.module_utils.services import ENDPOINTS
            raise CbcApiError(ENDPOINTS[name].method, "/x", status, "nope", permission=ENDPOINTS[name].permission)
        return [] if name == "forwarders.list" else {}

    def close(self):
        pass


def run_module(args, statuses=None, monkeypatch=None, capsys=None):
    created = []

    def fake_client(self):
        if not created:
            from ansible_collections.carbonblack.cloud.plugins.module_utils.auth import select_auth
            created.append(FakeClient(statuses or {}, select_auth(self.settings, use_cache=False)))
            self._client = created[0]
        return created[0]

    monkeypatch.setattr(cbc_module.CbcModule, "client", property(fake_client))
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            cbc_api_key_check.main()
    output = capsys.readouterr().out
    return json.loads(output), (created[0] if created else None), output


def test_all_apis_accessible(monkeypatch, capsys):
    result, client, output = run_module(ARGS, monkeypatch=monkeypatch, capsys=capsys)
    assert result["changed"] is False and result["auth_mode"] == "api_key" and result["api_id"] == "APIID"
    assert [name for name, unused_body in client.calls] == [
        "devices.search", "policies.summary", "forwarders.list", "alerts.search"]
    assert client.calls[0][1] == {"rows": 1}
    assert "TOPSECRET" not in output


def test_required_api_missing_fails_with_hints(monkeypatch, capsys):
    args = dict(ARGS, apis=["devices"], required=["alerts"])
    result, client, unused_output = run_module(args, {"alerts.search": 403}, monkeypatch=monkeypatch, capsys=capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("required APIs are not accessible: alerts (HTTP 403: ")
    assert "org.alerts READ" in result["msg"]
    # required APIs are probed even when they are not in apis
    assert [name for name, unused_body in client.calls] == ["devices.search", "alerts.search"]


def test_all_401_is_an_authentication_failure(monkeypatch, capsys):
    statuses = dict.fromkeys(["devices.search", "policies.summary", "forwarders.list", "alerts.search"], 401)
    result, unused_client, output = run_module(ARGS, statuses, monkeypatch=monkeypatch, capsys=capsys)
    assert result["failed"] is True and result["msg"].startswith("authentication failed")
    assert "TOPSECRET" not in output


def test_bad_token_fails_before_a_client_exists(monkeypatch, capsys):
    result, client, output = run_module(dict(ARGS, token="TOPSECRETAPIID"), monkeypatch=monkeypatch, capsys=capsys)
    assert client is None
    assert result["failed"] is True and "SECRET_KEY/API_ID" in result["msg"]
    assert "TOPSECRETAPIID" not in output


def test_unknown_api_name_is_refused_by_the_argspec(monkeypatch, capsys):
    result, client, unused_output = run_module(dict(ARGS, apis=["users"]), monkeypatch=monkeypatch, capsys=capsys)
    assert client is None and result["failed"] is True and "apis" in result["msg"]
