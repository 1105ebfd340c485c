# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CbcClient without a network: the session's ``request`` is replaced by a script of responses."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
import requests

from ansible_collections.carbonblack.cloud.plugins.module_utils import client as client_module
from ansible_collections.carbonblack.cloud.plugins.module_utils.auth.api_key import ApiKeyAuth
from ansible_collections.carbonblack.cloud.plugins.module_utils.auth.csp_oauth_app import CspOAuthAppAuth
from ansible_collections.carbonblack.cloud.plugins.module_utils.client import CbcClient, retry_after_seconds, user_agent
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import (
    CbcApiError, CbcConfigError, CbcConnectionError, CbcRetryAfterTooLong, CbcWriteOutcomeUnknown)

SETTINGS = {"url": "https://cbc.example.com/", "org_key": "ABCD1234"}
TOKEN = "SECRETSECRET/APIID"


def make_response(status, body=None, headers=None):
    response = requests.Response()
    response.status_code = status
    response._content = b"" if body is None else json.dumps(body).encode("utf-8")
    response._content_consumed = True
    response.headers.update(headers or {})
    return response


class ScriptedSession:
    """Stands in for Session.request: returns the scripted responses in order and records the calls."""

    def __init__(self, responses):
        self.responses = list(responses)
        self.calls = []

    def __call__(self, method, url, **kwargs):
        self.calls.append(dict(kwargs, method=method, url=url))
        item = self.responses.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def make_client(responses, settings=None, auth=None, **options):
    sleeps = []
    client = CbcClient(dict(SETTINGS, **(settings or {})), auth or ApiKeyAuth(TOKEN), timeout=7, sleep=sleeps.append,
                       **options)
    script = ScriptedSession(responses)
    client.session.request = script
    return client, script, sleeps


def test_search_builds_the_url_from_the_catalogue_and_sends_the_token():
    client, script, unused_sleeps = make_client([make_response(200, {"results": [], "num_found": 0})])
    assert client.call("devices.search", body={"rows": 1}) == {"results": [], "num_found": 0}
    call = script.calls[0]
    assert call["method"] == "POST"
    assert call["url"] == "https://cbc.example.com/appservices/v6/orgs/ABCD1234/devices/_search"
    assert call["headers"]["X-Auth-Token"] == TOKEN
    assert call["json"] == {"rows": 1}
    assert call["timeout"] == 7


def test_path_parameters_are_quoted():
    client, script, unused_sleeps = make_client([make_response(200, {"id": 1})])
    client.call("devices.get", device_id="1/2")
    assert script.calls[0]["url"].endswith("/devices/1%2F2")


def test_429_on_post_honours_retry_after_then_succeeds():
    client, script, sleeps = make_client([
        make_response(429, {"message": "slow down"}, {"Retry-After": "3"}),
        make_response(429, {"message": "slow down"}, {"Retry-After": "2"}),
        make_response(200, {"results": [], "num_found": 0}),
    ])
    client.call("devices.search", body={})
    assert sleeps == [3.0, 2.0]
    assert len(script.calls) == 3
    assert client.requests_sent == 3


def test_429_storm_gives_up_within_the_wait_budget_with_the_hint():
    responses = [make_response(429, {"message": "rate limited"}, {"Retry-After": "1"}) for unused_index in range(10)]
    client, script, sleeps = make_client(responses)
    with pytest.raises(CbcApiError) as info:
        client.call("policies.summary")
    assert info.value.status == 429
    assert len(script.calls) == client_module.DEFAULT_RETRIES + 1
    assert sum(sleeps) <= client_module.DEFAULT_RETRY_MAX_WAIT
    assert "Fix:" in str(info.value) and "\n" not in str(info.value)


def test_retry_after_longer_than_budget_is_not_slept():
    client, script, sleeps = make_client([make_response(429, {}, {"Retry-After": "4000"})])
    with pytest.raises(CbcRetryAfterTooLong) as info:
        client.call("policies.summary")
    assert "asked to wait 4000 s (Retry-After)" in str(info.value)
    assert "run the task later" in str(info.value) and "raise timeout" not in str(info.value)
    client, script, sleeps = make_client([make_response(429, {}, {"Retry-After": "120"})])
    with pytest.raises(CbcRetryAfterTooLong) as info:
        client.call("policies.summary")
    assert "asked to wait 120 s (Retry-After), more than the 60 s of retry_max_wait left" in str(info.value)
    assert "Fix: set retry_max_wait: 120 or more" in str(info.value) and sleeps == []
    assert sleeps == [] and len(script.calls) == 1


def test_502_is_retried_with_backoff_for_safe_requests_only():
    client, script, sleeps = make_client([make_response(502), make_response(503), make_response(200, {"policies": []})])
    assert client.call("policies.summary") == {"policies": []}
    assert sleeps == [0.5, 1.0]

    client, script, sleeps = make_client([make_response(502), make_response(200, {})])
    with pytest.raises(CbcWriteOutcomeUnknown) as info:
        client.request("POST", "/appservices/v6/orgs/ABCD1234/device_actions", body={}, safe=False)
    assert info.value.may_resend and "HTTP 502" in str(info.value)
    assert sleeps == [] and len(script.calls) == 1


def test_refused_connections_fail_at_once_in_one_line():
    refused = requests.exceptions.ConnectionError("HTTPSConnectionPool: Max retries exceeded (Caused by "
                                                  "NewConnectionError('[Errno 111] Connection refused'))")
    client, script, sleeps = make_client([refused] * 10)
    with pytest.raises(CbcConnectionError) as info:
        client.call("policies.summary")
    message = str(info.value)
    assert "could not connect to https://cbc.example.com (Connection refused)" in message
    assert "Fix:" in message and "\n" not in message
    assert len(script.calls) == 1 and sleeps == []


def test_dropped_connections_are_retried_for_safe_requests_only():
    dropped = requests.exceptions.ConnectionError("('Connection aborted.', RemoteDisconnected("
                                                  "'Remote end closed connection without response'))")
    client, script, sleeps = make_client([dropped, dropped, make_response(200, {"policies": []})])
    assert client.call("policies.summary") == {"policies": []}
    assert len(script.calls) == 3 and sleeps == [0.5, 1.0]

    client, script, sleeps = make_client([dropped, make_response(200, {})])
    with pytest.raises(CbcWriteOutcomeUnknown) as info:
        client.request("POST", "/appservices/v6/orgs/ABCD1234/device_actions", body={}, safe=False)
    assert "connection was dropped" in str(info.value) and "could not connect" not in str(info.value)
    assert info.value.may_resend and len(script.calls) == 1


def test_500_is_retried_for_reads_and_leaves_a_create_unknown():
    client, script, sleeps = make_client([make_response(500), make_response(200, {"policies": []})])
    assert client.call("policies.summary") == {"policies": []}
    assert sleeps == [0.5]
    client, script, sleeps = make_client([make_response(500), make_response(200, {"id": 1})])
    with pytest.raises(CbcWriteOutcomeUnknown) as info:
        client.call("policies.create", body={"name": "x"})
    assert "HTTP 500" in str(info.value) and len(script.calls) == 1


def test_a_write_that_timed_out_is_not_sent_again():
    client, script, sleeps = make_client([requests.exceptions.ReadTimeout("read timed out"), make_response(200, {})])
    with pytest.raises(CbcWriteOutcomeUnknown) as info:
        client.call("policies.create", body={"name": "x"})
    assert not info.value.may_resend and "within the timeout of 7 s" in str(info.value)
    assert len(script.calls) == 1 and sleeps == []


def test_a_connection_never_made_is_retried_for_a_write_too():
    client, script, sleeps = make_client([requests.exceptions.ConnectTimeout("connect timed out"),
                                          make_response(200, {"id": 1})])
    assert client.call("policies.create", body={"name": "x"}) == {"id": 1}
    assert len(script.calls) == 2 and sleeps == [0.5]


def test_a_write_whose_answer_was_lost_is_never_repeated_blindly():
    dropped = requests.exceptions.ConnectionError("('Connection aborted.', RemoteDisconnected('x'))")
    for name, params in (("policies.update", {"policy_id": 5, "body": {}}), ("policies.delete", {"policy_id": 5})):
        client, script, unused_sleeps = make_client([dropped, make_response(200, {})])
        with pytest.raises(CbcWriteOutcomeUnknown) as info:
            client.call(name, **params)
        assert info.value.may_resend and len(script.calls) == 1
    # 429 means the server did not act: retried for writes too
    client, script, unused_sleeps = make_client([make_response(429), make_response(204)])
    assert client.call("policies.delete", policy_id=5) is None and len(script.calls) == 2


def test_errors_after_retries_say_how_many_attempts_over_how_long():
    clock = iter(range(0, 1000, 5))
    client, script, unused_sleeps = make_client([make_response(503)] * 4, retries=3, clock=lambda: next(clock))
    with pytest.raises(CbcApiError) as info:
        client.call("policies.summary")
    assert "after 4 attempts over" in str(info.value) and len(script.calls) == 4
    dropped = requests.exceptions.ConnectionError("('Connection aborted.', RemoteDisconnected('x'))")
    client, script, unused_sleeps = make_client([dropped] * 6)
    with pytest.raises(CbcConnectionError) as info:
        client.call("policies.summary")
    assert "after 6 attempts over" in str(info.value)
    client, script, unused_sleeps = make_client([requests.exceptions.ReadTimeout("x")] * 6)
    with pytest.raises(CbcConnectionError) as info:
        client.call("policies.summary")
    assert "within the timeout of 7 seconds per attempt" in str(info.value) and "after 6 attempts" in str(info.value)


def test_retries_and_retry_max_wait_bound_the_retries():
    client, script, sleeps = make_client([make_response(429)] * 10, retries=0)
    with pytest.raises(CbcApiError):
        client.call("policies.summary")
    assert len(script.calls) == 1 and sleeps == []
    client, script, sleeps = make_client([make_response(503)] * 10, retry_max_wait=2)
    with pytest.raises(CbcApiError):
        client.call("policies.summary")
    assert sleeps == [0.5, 1.0] and len(script.calls) == 3


def test_tls_errors_fail_at_once_and_point_at_ssl_cert_file():
    error = requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
                                         "self-signed certificate in certificate chain (_ssl.c:1006)")
    client, script, unused_sleeps = make_client([error, error])
    with pytest.raises(CbcConnectionError) as info:
        client.call("policies.summary")
    assert len(script.calls) == 1
    assert "TLS verification of https://cbc.example.com failed" in str(info.value)
    assert "ssl_cert_file" in str(info.value)


def test_403_names_the_permission_the_endpoint_needs():
    client, unused_script, unused_sleeps = make_client([make_response(403, {"error_code": "FORBIDDEN", "message": "no"})])
    with pytest.raises(CbcApiError) as info:
        client.call("forwarders.list")
    assert info.value.permission == "event-forwarder.settings READ"
    assert "grant event-forwarder.settings READ" in str(info.value)


def test_an_error_inside_a_2xx_answer_is_an_error():
    client, unused_script, unused_sleeps = make_client([make_response(200, {"errorMessage": "Invalid policy id"}),
                                                        make_response(200, {"errorMessage": None, "id": 5})])
    with pytest.raises(CbcApiError) as info:
        client.call("policies.get", policy_id=5)
    assert info.value.status == 200 and "Invalid policy id" in str(info.value)
    assert client.call("policies.get", policy_id=5) == {"errorMessage": None, "id": 5}


def test_401_with_an_api_key_is_final():
    client, script, unused_sleeps = make_client([make_response(401, {"message": "bad"}), make_response(200, {})])
    with pytest.raises(CbcApiError) as info:
        client.call("policies.summary")
    assert info.value.status == 401 and len(script.calls) == 1
    assert "SECRET_KEY/API_ID" in str(info.value)
    assert "SECRETSECRET" not in str(info.value)


def token_body(token, ttl=1800):
    return {"access_token": token, "expires_in": ttl, "scope": "cbc", "token_type": "bearer"}


def test_bearer_401_renews_the_token_once_and_retries_once_never_loops():
    auth = CspOAuthAppAuth("app", "appsecret", "https://csp.example.com", use_cache=False)
    client, script, unused_sleeps = make_client([
        make_response(200, token_body("t1")),
        make_response(401, {"message": "expired"}),
        make_response(200, token_body("t2")),
        make_response(401, {"message": "expired"}),
        make_response(200, {"never": "used"}),
    ], auth=auth)
    with pytest.raises(CbcApiError) as info:
        client.call("policies.summary")
    assert info.value.status == 401
    urls = [call["url"] for call in script.calls]
    assert urls == ["https://csp.example.com/csp/gateway/am/api/auth/token",
                    "https://cbc.example.com/policyservice/v1/orgs/ABCD1234/policies/summary",
                    "https://csp.example.com/csp/gateway/am/api/auth/token",
                    "https://cbc.example.com/policyservice/v1/orgs/ABCD1234/policies/summary"]
    assert script.calls[1]["headers"]["Authorization"] == "Bearer t1"
    assert script.calls[3]["headers"]["Authorization"] == "Bearer t2"
    assert script.calls[0]["headers"]["Authorization"] == "Basic YXBwOmFwcHNlY3JldA=="
    assert script.calls[0]["data"] == {"grant_type": "client_credentials"}


def test_bearer_token_is_reused_within_expires_in_and_renewed_after():
    auth = CspOAuthAppAuth("app", "appsecret", "https://csp.example.com", use_cache=False)
    client, script, unused_sleeps = make_client(
        [make_response(200, token_body("t1", ttl=1800)), make_response(200, {}), make_response(200, {})], auth=auth)
    client.call("policies.summary")
    client.call("policies.summary")
    assert auth.exchanges == 1
    auth._expires_at = 0  # the token ran out
    script.responses[:] = [make_response(200, token_body("t2")), make_response(200, {})]
    client.call("policies.summary")
    assert auth.exchanges == 2 and script.calls[-1]["headers"]["Authorization"] == "Bearer t2"


def test_rejected_csp_exchange_says_which_options_to_check_without_the_secret():
    auth = CspOAuthAppAuth("app", "appsecret", "https://csp.example.com", use_cache=False)
    client, unused_script, unused_sleeps = make_client([make_response(401, {"message": "invalid_client"})], auth=auth)
    with pytest.raises(CbcConfigError) as info:
        client.call("policies.summary")
    assert "csp_oauth_app_id and csp_oauth_app_secret" in str(info.value)
    assert "appsecret" not in str(info.value)


def test_empty_scope_is_refused():
    auth = CspOAuthAppAuth("app", "appsecret", "https://csp.example.com", use_cache=False)
    client, unused_script, unused_sleeps = make_client([make_response(200, {"access_token": "t", "scope": None})], auth=auth)
    with pytest.raises(CbcConfigError) as info:
        client.call("policies.summary")
    assert "empty scope" in str(info.value)


def test_user_agent_puts_the_integration_first():
    assert user_agent("soc/2.1").startswith("soc/2.1 carbonblack.cloud/")
    assert user_agent(None).startswith("carbonblack.cloud/")
    client, unused_script, unused_sleeps = make_client([], settings={"integration": "soc/2.1"})
    assert client.session.headers["User-Agent"].startswith("soc/2.1 carbonblack.cloud/")


@pytest.mark.parametrize("settings, verify, proxies", [
    ({}, True, None),
    ({"ssl_cert_file": "/ca.pem"}, "/ca.pem", None),
    ({"ssl_verify": False, "ssl_cert_file": "/ca.pem"}, False, None),
    ({"proxy": "http://p:3128"}, True, {"http": "http://p:3128", "https": "http://p:3128"}),
    ({"proxy": "http://p:3128", "ignore_system_proxy": True}, True, {"http": "", "https": ""}),
])
def test_tls_and_proxy_settings_mean_what_the_sdk_means(settings, verify, proxies):
    client, script, unused_sleeps = make_client([make_response(200, {})], settings=settings)
    client.call("policies.summary")
    assert script.calls[0]["verify"] == verify
    assert script.calls[0]["proxies"] == proxies


def test_retry_after_parsing():
    assert retry_after_seconds("5") == 5.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("garbage") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
