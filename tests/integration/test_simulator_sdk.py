"""Faithfulness tests of the CBC simulator: drive it with the official SDK (cbc_sdk) and with requests."""

import base64
import json
import os
import time

import pytest
import requests
from cbc_sdk import CBCloudAPI
from cbc_sdk.errors import ClientError, CredentialError, ObjectNotFoundError, ServerError, UnauthorizedError
from cbc_sdk.platform import Device

from playbook_runner import FULL_TOKEN, ORG
SECRETS = ("FULLSECRETKEY00000000000", "DEVICEREADSECRET00000000", "NOPERMSSECRET00000000000", "OTHERORGSECRET0000000000",
           "sim-oauth-secret", "sim-csp-api-token")
LOG_FIELDS = {"ts", "method", "path", "query", "status", "api", "write", "auth", "org_key", "user_agent", "body", "fault", "duration_ms"}


@pytest.fixture
def sim(simulator):
    """The session simulator; fault rules are cleared after each test."""
    simulator.clear_faults()
    yield simulator
    simulator.clear_faults()


def read_text(path):
    """Return a file's text."""
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def sdk_key_client(sim, token=FULL_TOKEN, org_key=ORG, **kwargs):
    """A CBCloudAPI in API-key mode that trusts the simulator CA."""
    return CBCloudAPI(url=sim.url, token=token, org_key=org_key, ssl_verify=True, ssl_cert_file=sim.ca_file, **kwargs)


def http(sim, method, path, token=FULL_TOKEN, headers=None, **kwargs):
    """A direct request to the simulator with an API key (``token=None`` sends no credentials)."""
    all_headers = dict(headers or {})
    if token:
        all_headers["X-Auth-Token"] = token
    return requests.request(method, sim.url + path, headers=all_headers, verify=sim.ca_file, timeout=60, **kwargs)


def search(sim, body, token=FULL_TOKEN, org_key=ORG):
    return http(sim, "POST", "/appservices/v6/orgs/{0}/devices/_search".format(org_key), token=token, json=body)


# --- SDK, API-key mode ----------------------------------------------------------------------------


def test_sdk_pages_through_every_device_once(simulator_factory):
    sim = simulator_factory(devices=250, seed=3)
    api = sdk_key_client(sim)
    mark = sim.mark()
    seen = [device.id for device in api.select(Device).set_max_rows(7)]
    assert len(seen) == len(set(seen)) == 250
    assert seen == sim.device_ids()
    bodies = [entry["body"] for entry in sim.requests(since=mark) if entry["api"] == "devices.search"]
    assert bodies[0] == {"rows": 7}
    assert [body.get("start") for body in bodies[1:4]] == [8, 15, 22]
    assert all(entry["auth"] == "api_key:FULLACCESS" and entry["status"] == 200 for entry in sim.requests(since=mark))


def test_sdk_criteria_and_count(sim):
    api = sdk_key_client(sim)
    linux = list(api.select(Device).set_os(["LINUX"]).set_max_rows(10))
    assert len(linux) == 25 and all(device.os == "LINUX" for device in linux)
    assert len(api.select(Device).set_os(["LINUX"])) == 25
    assert len(api.select(Device)) == 50
    deregistered = list(api.select(Device).set_status(["DEREGISTERED"]))
    assert deregistered and all(device.status == "DEREGISTERED" for device in deregistered)
    excluded = list(api.select(Device).set_max_rows(100).set_exclude_sensor_versions(["2.13.0.1398", "3.8.0.722"]))
    assert 0 < len(excluded) < 50 and all(device.sensor_version not in ("2.13.0.1398", "3.8.0.722") for device in excluded)
    queried = list(api.select(Device).where("os:LINUX AND status:REGISTERED").set_max_rows(100))
    assert queried and all(d.os == "LINUX" and d.status == "REGISTERED" for d in queried)
    first = api.select(Device).sort_by("name", "DESC").first()
    assert first.name == "host-00050"


def test_sdk_get_device_by_id(sim):
    api = sdk_key_client(sim)
    device_id = sim.device_ids()[3]
    device = api.select(Device, device_id)
    assert device.name == sim.device(device_id)["name"] == "host-00004"
    assert device.os != "LINUX"
    with pytest.raises(ObjectNotFoundError):
        api.select(Device, 1)._refresh()  # pylint: disable=protected-access


def test_sdk_wrong_secret_is_unauthorized(sim):
    api = sdk_key_client(sim, token="WRONGSECRET/FULLACCESS")
    with pytest.raises(UnauthorizedError):
        list(api.select(Device))


def test_sdk_missing_permission_is_403(sim):
    api = sdk_key_client(sim, token="DEVICEREADSECRET00000000/DEVICEREAD")
    assert len(api.select(Device)) == 50
    with pytest.raises(ClientError) as info:
        api.get_object("/policyservice/v1/orgs/{0}/policies/summary".format(ORG))
    assert info.value.error_code == 403
    assert "requires org.policies:READ" in str(info.value)
    full = sdk_key_client(sim)
    policies = full.get_object("/policyservice/v1/orgs/{0}/policies/summary".format(ORG))["policies"]
    assert [p["name"] for p in policies] == ["Standard", "Advanced", "Monitored"]
    assert sum(p["num_devices"] for p in policies) == 50


def test_sdk_scroll_beyond_10000(simulator_factory):
    sim = simulator_factory(devices=12000, seed=5)
    api = sdk_key_client(sim)
    query = api.select(Device)
    seen, batches = [], 0
    while True:
        batch = query.scroll(5000)
        if not batch:
            break
        batches += 1
        seen.extend(device.id for device in batch)
        if query.num_remaining == 0:
            break
    assert batches == 3
    assert len(seen) == len(set(seen)) == 12000
    assert seen == sim.device_ids()
    scrolls = [entry for entry in sim.requests() if entry["api"] == "devices.scroll"]
    assert len(scrolls) == 3 and "search_after" not in scrolls[0]["body"] and scrolls[1]["body"]["search_after"]
    # search can still page past 10,000 with start (the window is not enforced)
    assert len(search(sim, {"rows": 10000, "start": 10001}).json()["results"]) == 2000


def test_sdk_retries_429_with_retry_after_on_get(sim):
    api = sdk_key_client(sim)
    device_id = sim.device_ids()[0]
    sim.add_fault(path=r"/devices/\d+$", method="GET", status=429, retry_after=1, count=1)
    mark = sim.mark()
    started = time.monotonic()
    device = api.select(Device, device_id)
    assert device.name == "host-00001"
    assert time.monotonic() - started >= 0.9
    entries = [e for e in sim.requests(since=mark) if e["api"] == "devices.get"]
    assert [e["status"] for e in entries] == [429, 200]
    assert entries[0]["fault"] and entries[1]["fault"] is None


def test_sdk_post_429_is_not_retried(sim):
    api = sdk_key_client(sim)
    sim.add_fault(path="devices/_search", status=429, retry_after=1, count=1)
    with pytest.raises(ClientError) as info:
        len(api.select(Device))
    assert info.value.error_code == 429
    assert len(api.select(Device)) == 50


# --- SDK, CSP bearer modes -------------------------------------------------------------------------


def bearer_client(sim, monkeypatch, **credentials):
    """A CBCloudAPI using CSP credentials; the CSP call uses requests defaults, so trust the CA via env."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca_file)
    return CBCloudAPI(url=sim.url, org_key=ORG, ssl_verify=True, ssl_cert_file=sim.ca_file, csp_url_override=sim.url, **credentials)


def test_sdk_oauth_app_mode(sim, monkeypatch):
    mark = sim.mark()
    api = bearer_client(sim, monkeypatch, csp_oauth_app_id="sim-oauth-app", csp_oauth_app_secret="sim-oauth-secret")
    assert len(list(api.select(Device).set_max_rows(20))) == 50
    entries = sim.requests(since=mark)
    tokens = [e for e in entries if e["api"] == "csp.oauth_token"]
    assert len(tokens) == 1
    assert tokens[0]["auth"] == "csp_basic:sim-oauth-app" and tokens[0]["status"] == 200 and not tokens[0]["write"]
    assert tokens[0]["user_agent"].startswith("python-requests/")
    assert tokens[0]["body"] == {"grant_type": "client_credentials"}
    searches = [e for e in entries if e["api"] == "devices.search"]
    assert len(searches) == 4  # list() asks len() first (a count query), then 3 pages of 20
    assert all(e["auth"] == "bearer:sim-oauth-app" and e["status"] == 200 for e in searches)
    assert all(e["user_agent"].startswith("CBC_SDK/") for e in searches)


def test_sdk_refreshes_bearer_token_after_revocation(simulator_factory, monkeypatch):
    sim = simulator_factory(devices=10)  # its own simulator: revoking must not disturb tests sharing the session one
    api = bearer_client(sim, monkeypatch, csp_oauth_app_id="sim-oauth-app", csp_oauth_app_secret="sim-oauth-secret")
    assert len(api.select(Device)) == 10
    assert sim.revoke_tokens() == {"revoked": 1}
    mark = sim.mark()
    assert len(api.select(Device).set_os(["LINUX"])) == 5
    assert [(e["api"], e["status"]) for e in sim.requests(since=mark)] == [
        ("devices.search", 401), ("csp.oauth_token", 200), ("devices.search", 200)]


def test_sdk_oauth_wrong_secret(sim, monkeypatch):
    with pytest.raises(CredentialError) as info:
        bearer_client(sim, monkeypatch, csp_oauth_app_id="sim-oauth-app", csp_oauth_app_secret="wrong")
    assert "Invalid client credentials" in str(info.value)


def test_sdk_csp_api_token_mode(sim, monkeypatch):
    mark = sim.mark()
    api = bearer_client(sim, monkeypatch, csp_api_token="sim-csp-api-token")
    device_id = sim.device_ids()[1]
    assert api.select(Device, device_id).name == "host-00002"
    entries = sim.requests(since=mark)
    assert [e["api"] for e in entries] == ["csp.api_token", "devices.get"]
    assert entries[0]["body"] == {"api_token": "***"} and entries[0]["auth"] == "csp_api_token:sim-csp-user"
    assert entries[1]["auth"] == "bearer:sim-csp-user"


def test_bearer_token_expires(simulator_factory):
    sim = simulator_factory(devices=3, extra_args=["--token-ttl", "1"])
    response = requests.post(sim.url + "/csp/gateway/am/api/auth/api-tokens/authorize", data={"api_token": "sim-csp-api-token"},
                             verify=sim.ca_file, timeout=30)
    assert response.status_code == 200 and response.json()["expires_in"] == 1
    bearer = {"Authorization": "Bearer " + response.json()["access_token"]}
    assert search(sim, {}, token=None).status_code == 401
    assert http(sim, "POST", "/appservices/v6/orgs/ABCD1234/devices/_search", token=None, headers=bearer, json={}).status_code == 200
    time.sleep(1.2)
    expired = http(sim, "POST", "/appservices/v6/orgs/ABCD1234/devices/_search", token=None, headers=bearer, json={})
    assert expired.status_code == 401 and "expired" in expired.json()["message"]


# --- direct HTTP: search semantics ----------------------------------------------------------------


def test_rows_over_10000_is_400(sim):
    response = search(sim, {"rows": 10001})
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_REQUEST" and "10000" in response.json()["message"]
    assert search(sim, {"rows": 10000}).json()["num_found"] == 50


def test_start_is_one_based(sim):
    ids = sim.device_ids()
    assert [d["id"] for d in search(sim, {"rows": 3}).json()["results"]] == ids[:3]
    assert [d["id"] for d in search(sim, {"rows": 3, "start": 0}).json()["results"]] == ids[:3]
    assert [d["id"] for d in search(sim, {"rows": 3, "start": 1}).json()["results"]] == ids[:3]
    assert [d["id"] for d in search(sim, {"rows": 3, "start": 4}).json()["results"]] == ids[3:6]
    assert len(search(sim, {}).json()["results"]) == 20


def test_criteria_exclusions_query_and_sort(sim):
    body = search(sim, {"criteria": {"os": ["LINUX"], "status": ["REGISTERED"]}, "rows": 100}).json()
    assert body["num_found"] == len(body["results"]) > 0
    assert all(d["os"] == "LINUX" and d["status"] == "REGISTERED" for d in body["results"])
    excluded = search(sim, {"exclusions": {"os": ["LINUX"]}, "rows": 100}).json()
    assert excluded["num_found"] == 25 and all(d["os"] != "LINUX" for d in excluded["results"])
    both = search(sim, {"criteria": {"os": ["WINDOWS", "MAC"]}, "rows": 100}).json()
    assert both["num_found"] == 25
    named = search(sim, {"query": "host-00010"}).json()
    assert [d["name"] for d in named["results"]] == ["host-00010"]
    bad = search(sim, {"query": "os:(LINUX"})
    assert bad.status_code == 400 and bad.json()["reason"] == "query_malformed_syntax"
    ordered = search(sim, {"sort": [{"field": "name", "order": "DESC"}], "rows": 2}).json()["results"]
    assert [d["name"] for d in ordered] == ["host-00050", "host-00049"]
    recent = search(sim, {"criteria": {"last_contact_time": {"range": "-3w"}}, "rows": 100}).json()
    assert 0 < recent["num_found"] <= 50


def test_scroll_over_http(sim):
    path = "/appservices/v6/orgs/ABCD1234/devices/_scroll"
    first = http(sim, "POST", path, json={"rows": 30}).json()
    assert first["num_found"] == 50 and first["org_key"] == ORG and first["search_after"]
    second = http(sim, "POST", path, json={"rows": 30, "search_after": first["search_after"]}).json()
    assert len(second["results"]) == 20 and second["search_after"] == ""
    assert http(sim, "POST", path, json={"rows": 10001}).status_code == 400


def test_devices_get_and_other_org(sim):
    device_id = sim.device_ids()[0]
    assert http(sim, "GET", "/appservices/v6/orgs/ABCD1234/devices/{0}".format(device_id)).json()["id"] == device_id
    assert http(sim, "GET", "/appservices/v6/orgs/ABCD1234/devices/123").status_code == 404
    wrong_org = http(sim, "GET", "/appservices/v6/orgs/WXYZ9876/devices/{0}".format(device_id))
    assert wrong_org.status_code == 404 and "not found" in wrong_org.json()["message"].lower()
    other = search(sim, {}, token="OTHERORGSECRET0000000000/OTHERORG", org_key="WXYZ9876").json()
    assert other["num_found"] == 5 and not {d["id"] for d in other["results"]} & set(sim.device_ids())
    assert sim.device_ids("WXYZ9876") == [d["id"] for d in other["results"]]


# --- direct HTTP: auth and routing ----------------------------------------------------------------


@pytest.mark.parametrize("token, status", [
    (None, 401), ("FULLSECRETKEY00000000000", 401), ("bad/FULLACCESS", 401), ("NOPERMSSECRET00000000000/NOPERMS", 403),
    ("DEVICEREADSECRET00000000/DEVICEREAD", 200)])
def test_auth_statuses(sim, token, status):
    response = search(sim, {"rows": 1}, token=token)
    assert response.status_code == status
    if status == 401:
        assert response.json()["error_code"] == "UNAUTHORIZED"
    if status == 403:
        assert response.json() == {"error_code": "FORBIDDEN", "message": "Access denied: this operation requires device:READ"}


@pytest.mark.parametrize("method, path, permission", [
    ("GET", "/policyservice/v1/orgs/ABCD1234/policies/summary", "org.policies:READ"),
    ("GET", "/data_forwarder/v2/orgs/ABCD1234/configs", "event-forwarder.settings:READ"),
    ("POST", "/api/alerts/v7/orgs/ABCD1234/alerts/_search", "org.alerts:READ"),
])
def test_probe_routes(sim, method, path, permission):
    ok = http(sim, method, path, json={"rows": 1} if method == "POST" else None)
    assert ok.status_code == 200
    if "data_forwarder" in path:
        assert ok.json() == []
    elif "alerts" in path:
        assert ok.json()["results"] == [] and ok.json()["num_found"] == 0
    else:
        assert len(ok.json()["policies"]) == 3
    denied = http(sim, method, path, token="DEVICEREADSECRET00000000/DEVICEREAD")
    assert denied.status_code == 403 and permission in denied.json()["message"]


def test_unknown_route_and_wrong_method(sim):
    assert http(sim, "GET", "/appservices/v6/orgs/ABCD1234/nothing").status_code == 404
    response = http(sim, "GET", "/appservices/v6/orgs/ABCD1234/devices/_search")
    assert response.status_code == 405 and response.headers["Allow"] == "POST"
    assert http(sim, "POST", "/appservices/v6/orgs/ABCD1234/devices/_search", data=b"{not json",
                headers={"Content-Type": "application/json"}).status_code == 400


def test_csp_endpoint_errors(sim):
    url = sim.url + "/csp/gateway/am/api/auth/token"
    wrong = requests.post(url, data={"grant_type": "client_credentials"}, auth=("sim-oauth-app", "nope"), verify=sim.ca_file, timeout=30)
    assert wrong.status_code == 401 and wrong.json()["message"]
    missing = requests.post(url, data={}, auth=("sim-oauth-app", "sim-oauth-secret"), verify=sim.ca_file, timeout=30)
    assert missing.status_code == 400
    json_body = requests.post(sim.url + "/csp/gateway/am/api/auth/api-tokens/authorize", json={"refresh_token": "sim-csp-api-token"},
                              verify=sim.ca_file, timeout=30)
    assert json_body.status_code == 200 and json_body.json()["scope"] and json_body.json()["token_type"] == "bearer"


# --- request log ---------------------------------------------------------------------------------


def test_request_log_fields(sim):
    mark = sim.mark()
    search(sim, {"rows": 2, "criteria": {"os": ["MAC"]}})
    http(sim, "GET", "/policyservice/v1/orgs/ABCD1234/policies/summary?x=1", headers={"User-Agent": "probe/1.0"})
    sim.health()
    entries = sim.requests(since=mark)
    assert len(entries) == 2
    for entry in entries:
        assert set(entry) == LOG_FIELDS
        assert entry["ts"].endswith("Z") and entry["duration_ms"] >= 0 and entry["write"] is False and entry["fault"] is None
    assert entries[0]["api"] == "devices.search" and entries[0]["body"] == {"rows": 2, "criteria": {"os": ["MAC"]}}
    assert entries[0]["org_key"] == ORG and entries[0]["auth"] == "api_key:FULLACCESS" and entries[0]["method"] == "POST"
    assert entries[1]["query"] == {"x": "1"} and entries[1]["user_agent"] == "probe/1.0" and entries[1]["api"] == "policies.summary"


def test_secrets_never_logged(simulator_factory, monkeypatch):
    sim = simulator_factory(devices=5)
    for token in ("FULLSECRETKEY00000000000/FULLACCESS", "OTHERORGSECRET0000000000/OTHERORG", "NOPERMSSECRET00000000000",
                  "DEVICEREADSECRET00000000/DEVICEREAD", "sim-oauth-secret/nobody"):
        search(sim, {"query": "name:sim-oauth-secret"}, token=token)
    issued = []
    for body in ({"api_token": "sim-csp-api-token"}, {"refresh_token": "sim-csp-api-token"}):
        issued.append(requests.post(sim.url + "/csp/gateway/am/api/auth/api-tokens/authorize", data=body, verify=sim.ca_file, timeout=30).json())
    issued.append(requests.post(sim.url + "/csp/gateway/am/api/auth/api-tokens/authorize?refresh_token=" + issued[0]["refresh_token"],
                                verify=sim.ca_file, timeout=30).json())
    for secret in ("sim-oauth-secret", "wrong-secret"):
        requests.post(sim.url + "/csp/gateway/am/api/auth/token", data={"grant_type": "client_credentials", "client_secret": secret},
                      auth=("sim-oauth-app", secret), verify=sim.ca_file, timeout=30)
    for token in issued:
        http(sim, "POST", "/appservices/v6/orgs/ABCD1234/devices/_search", token=None, json={},
             headers={"Authorization": "Bearer " + token["access_token"]})
    api = bearer_client(sim, monkeypatch, csp_api_token="sim-csp-api-token")
    assert len(api.select(Device)) == 5
    sim.stop()
    values = list(SECRETS) + ["wrong-secret"] + [t[k] for t in issued for k in ("access_token", "refresh_token")]
    values.append(base64.b64encode(b"sim-oauth-app:sim-oauth-secret").decode())
    for name in ("requests.jsonl", "stdout.log", "stderr.log"):
        text = read_text(os.path.join(sim.state_dir, name))
        for value in values:
            assert value not in text, "{0} leaked into {1}".format(value, name)
    entries = [json.loads(line) for line in read_text(sim.log_file).splitlines()]
    assert len(entries) >= 12 and {"api_key:FULLACCESS", "bearer:sim-csp-user", "csp_basic:sim-oauth-app"} <= {e["auth"] for e in entries}


# --- faults --------------------------------------------------------------------------------------


def test_fault_drop(sim):
    sim.add_fault(path="devices/_search", drop=True, count=1)
    mark = sim.mark()
    with pytest.raises(requests.exceptions.ConnectionError):
        search(sim, {})
    assert search(sim, {}).status_code == 200
    entries = sim.requests(since=mark)
    assert entries[0]["status"] is None and entries[0]["fault"].startswith("drop") and entries[1]["fault"] is None


def test_fault_latency_and_global_latency(sim, simulator_factory):
    sim.add_fault(path="policies/summary", latency_ms=300, name="slow-policies")
    started = time.monotonic()
    assert http(sim, "GET", "/policyservice/v1/orgs/ABCD1234/policies/summary").status_code == 200
    assert time.monotonic() - started >= 0.3
    entry = sim.requests()[-1]
    assert entry["fault"] == "slow-policies" and entry["duration_ms"] >= 300 and entry["status"] == 200
    slow = simulator_factory(devices=2, extra_args=["--latency-ms", "200"])
    started = time.monotonic()
    assert search(slow, {}).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_fault_status_applies_before_auth_and_counts(sim):
    sim.add_fault(path="devices/_search", status=503, count=2, message="maintenance")
    first = search(sim, {}, token=None)
    assert first.status_code == 503 and first.json() == {"error_code": "SIMULATED_FAULT", "message": "maintenance"}
    assert search(sim, {}).status_code == 503
    assert search(sim, {}).status_code == 200
    sim.add_fault(path="_search", status=429, retry_after=7)
    limited = search(sim, {})
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert sim.requests()[-1]["fault"].startswith("status=429")
    sim.clear_faults()
    assert search(sim, {}).status_code == 200


def test_cli_fault_option(simulator_factory):
    sim = simulator_factory(devices=2, extra_args=["--fault", "path=devices/_search,status=500,count=1", "--fault", "path=alerts,drop"])
    assert search(sim, {}).status_code == 500
    assert search(sim, {}).status_code == 200
    with pytest.raises(requests.exceptions.ConnectionError):
        http(sim, "POST", "/api/alerts/v7/orgs/ABCD1234/alerts/_search", json={})
    assert len(sim.health()["devices"]) == 2
    assert len(sim.control("GET", "faults").json()["faults"]) == 1


# --- control API and lifecycle --------------------------------------------------------------------


def test_control_api(simulator_factory):
    sim = simulator_factory(devices=10, extra_args=["--fault", "path=alerts,status=500"])
    mark = sim.mark()
    health = sim.health()
    assert health["status"] == "ok" and health["devices"] == {"ABCD1234": 10, "WXYZ9876": 5} and health["pid"] == sim.pid
    device_id = sim.device_ids()[0]
    assert sim.device(device_id)["name"] == "host-00001" and sim.device(42) is None
    sim.add_key(type="api_key", api_id="ALERTSONLY", secret="ALERTSONLYSECRET", permissions=["org.alerts:READ"])
    assert search(sim, {}, token="ALERTSONLYSECRET/ALERTSONLY").status_code == 403
    sim.clear_faults()
    assert http(sim, "POST", "/api/alerts/v7/orgs/ABCD1234/alerts/_search", token="ALERTSONLYSECRET/ALERTSONLY", json={}).status_code == 200
    assert sim.revoke_tokens() == {"revoked": 0}
    sim.reset()
    assert search(sim, {}, token="ALERTSONLYSECRET/ALERTSONLY").status_code == 401
    assert http(sim, "POST", "/api/alerts/v7/orgs/ABCD1234/alerts/_search", json={}).status_code == 500
    assert sim.device_ids()[0] == device_id
    assert all(not entry["path"].startswith("/_sim/") for entry in sim.requests(since=mark))
    bad = requests.post(sim.url + "/_sim/faults", json={"path": "x"}, verify=sim.ca_file, timeout=30)
    assert bad.status_code == 400


def test_keep_alive_and_clean_stop(simulator_factory):
    sim = simulator_factory(devices=3)
    with requests.Session() as session:
        session.trust_env = False
        session.verify = sim.ca_file
        for unused_index in range(3):
            response = session.post(sim.url + "/appservices/v6/orgs/ABCD1234/devices/_search", json={}, headers={"X-Auth-Token": FULL_TOKEN})
            assert response.status_code == 200 and response.headers["Content-Length"] == str(len(response.content))
        assert len(session.get_adapter(sim.url).poolmanager.pools) == 1
    info = json.loads(read_text(os.path.join(sim.state_dir, "simulator.json")))
    assert info["url"] == sim.url and info["pid"] == sim.pid and os.path.exists(info["ca_file"])
    assert sim.stop() == 0
    assert not os.path.exists(os.path.join(sim.state_dir, "simulator.json"))
    assert "CBC simulator listening on " + sim.url in read_text(os.path.join(sim.state_dir, "stdout.log"))


# --- device actions and facets --------------------------------------------------------------------

READQ_TOKEN = "DEVICEREADQSECRET0000000/DEVICEREADQ"
ACTIONS_PATH = "/appservices/v6/orgs/ABCD1234/device_actions"
SUMMARY_PATH = "/policyservice/v1/orgs/ABCD1234/policies/summary"


@pytest.fixture
def fresh_sim(sim):
    """The session simulator, reset after the test so that device changes do not leak into other tests."""
    yield sim
    sim.reset()


def plain_registered_ids(api, count):
    """Ids of registered, not quarantined devices (first ``count``)."""
    return [d.id for d in api.select(Device).set_status(["REGISTERED"]) if not d.quarantined][:count]


def reread(api, ids):
    """Fresh ``{id: Device}`` from a search (``api.select(Device, id)`` is cached by the SDK for 60 s)."""
    return {device.id: device for device in api.select(Device).set_device_ids(ids)}


def action_entries(sim, mark):
    return [entry for entry in sim.requests(since=mark) if entry["api"] == "devices.actions"]


def test_sdk_quarantine_and_policy_change(fresh_sim):
    sim = fresh_sim
    api = sdk_key_client(sim)
    device_id = plain_registered_ids(api, 1)[0]
    device = api.select(Device, device_id)
    assert device.quarantined is False
    mark = sim.mark()
    assert device.quarantine(True) is None
    device.refresh()
    assert device.quarantined is True
    entry = action_entries(sim, mark)[0]
    assert entry["body"] == {"action_type": "QUARANTINE", "device_id": [device_id], "options": {"toggle": "ON"}}
    assert (entry["status"], entry["write"], entry["device_count"], entry["unknown_ids"]) == (204, True, 1, [])

    mark = sim.mark()
    api.select(Device).set_os(["LINUX"]).quarantine(True)
    entry = action_entries(sim, mark)[0]
    assert entry["body"] == {"action_type": "QUARANTINE", "search": {"criteria": {"os": ["LINUX"]}}, "options": {"toggle": "ON"}}
    assert entry["device_count"] == 25
    linux = list(api.select(Device).set_os(["LINUX"]))
    assert len(linux) == 25 and all(d.quarantined for d in linux)
    ids = [d.id for d in linux[:3]]
    api.device_quarantine(ids, False)
    assert [reread(api, ids)[i].quarantined for i in ids] == [False, False, False]

    policies = {p["name"]: p for p in api.get_object(SUMMARY_PATH)["policies"]}
    monitored, advanced = policies["Monitored"], policies["Advanced"]
    api.device_update_policy(ids, monitored["id"])
    for changed in reread(api, ids).values():
        assert (changed.policy_id, changed.policy_name, changed.policy_override) == (monitored["id"], "Monitored", True)
    device.update_policy(advanced["id"])
    device.refresh()
    assert (device.policy_id, device.policy_name) == (advanced["id"], "Advanced")
    after = {p["name"]: p["num_devices"] for p in api.get_object(SUMMARY_PATH)["policies"]}
    assert sum(after.values()) == 50
    assert after["Monitored"] == len(api.select(Device).set_policy_ids([monitored["id"]])) >= 3


def test_sdk_device_facets(sim):
    api = sdk_key_client(sim)
    mark = sim.mark()
    facets = api.select(Device).facets(["os", "status", "policy_id"])
    assert [f.field for f in facets] == ["os", "status", "policy_id"]
    totals = {f.field: {v.id: v.total for v in f.values_} for f in facets}
    assert totals["os"]["LINUX"] == 25 and all(sum(values.values()) == 50 for values in totals.values())
    assert set(totals["policy_id"]) == {str(p["id"]) for p in api.get_object(SUMMARY_PATH)["policies"]}
    for value in facets[2].values_:
        assert len(value.query_devices()) == value.total
    linux = api.select(Device).set_os(["LINUX"]).facets(["os"], max_rows=1)
    assert [(v.id, v.name, v.total) for v in linux[0].values_] == [("LINUX", "LINUX", 25)]
    entries = [e for e in sim.requests(since=mark) if e["api"] == "devices.facet"]
    assert entries[-1]["body"] == {"criteria": {"os": ["LINUX"]}, "terms": {"fields": ["os"], "rows": 1}}
    assert entries[-1]["write"] is False and entries[-1]["status"] == 200
    denied = http(sim, "POST", "/appservices/v6/orgs/ABCD1234/devices/_facet", token="NOPERMSSECRET00000000000/NOPERMS",
                  json={"terms": {"fields": ["os"]}})
    assert denied.status_code == 403 and "device:READ" in denied.json()["message"]


def test_sdk_action_without_permission_is_403(fresh_sim):
    sim = fresh_sim
    api = sdk_key_client(sim, token=READQ_TOKEN)
    device_id = plain_registered_ids(api, 1)[0]
    policy_before = sim.device(device_id)["policy_id"]
    api.device_quarantine([device_id], True)
    assert reread(api, [device_id])[device_id].quarantined is True
    with pytest.raises(ClientError) as info:
        api.device_update_policy([device_id], 6523 if policy_before != 6523 else 6522)
    assert info.value.error_code == 403 and "device.policy:UPDATE" in str(info.value)
    with pytest.raises(ClientError) as info:
        api.select(Device).set_os(["LINUX"]).bypass(True)
    assert info.value.error_code == 403 and "device.bypass:EXECUTE" in str(info.value)
    assert sim.device(device_id)["policy_id"] == policy_before
    assert all(d["status"] != "BYPASS" for d in sim.devices(sim.device_ids()).values())


def test_device_deleted_between_search_and_action_and_fault_after(fresh_sim):
    sim = fresh_sim
    api = sdk_key_client(sim)
    ids = plain_registered_ids(api, 5)
    assert sim.delete_device(ids[1]) == {"deleted": ids[1], "org_key": ORG}
    sim.add_fault(path="/device_actions$", method="POST", status=500, after=1, count=1, name="second-action-fails")
    mark = sim.mark()
    api.device_quarantine(ids, True)
    with pytest.raises(ServerError):
        api.device_quarantine(ids, False)
    states = sim.devices(ids)
    assert states[ids[1]] is None and all(states[i]["quarantined"] for i in ids if i != ids[1])
    api.device_quarantine(ids, False)
    entries = action_entries(sim, mark)
    assert [e["status"] for e in entries] == [204, 500, 204]
    assert entries[0]["unknown_ids"] == [ids[1]] and entries[0]["device_count"] == 4
    assert entries[1]["fault"] == "second-action-fails" and "device_count" not in entries[1]
    assert not any(d and d["quarantined"] for d in sim.devices(ids).values())
    with pytest.raises(ObjectNotFoundError):
        api.select(Device, ids[1])._refresh()  # pylint: disable=protected-access


def test_device_actions_over_http(fresh_sim):
    sim = fresh_sim
    ids = sim.device_ids()
    raw = sim.devices(ids)
    registered = [i for i in ids if raw[i]["status"] == "REGISTERED"]
    deregistered = [i for i in ids if raw[i]["status"] == "DEREGISTERED"]
    ok = http(sim, "POST", ACTIONS_PATH, json={"action_type": "BYPASS", "device_id": registered[:2], "options": {"toggle": "ON"}})
    assert ok.status_code == 204 and ok.content == b"" and "Content-Type" not in ok.headers
    got = http(sim, "GET", "/appservices/v6/orgs/ABCD1234/devices/{0}".format(registered[0]))
    assert got.status_code == 200 and got.json()["status"] == "BYPASS"
    bad = http(sim, "POST", ACTIONS_PATH, json={"action_type": "QUARANTINE", "device_id": registered[:1]})
    assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_REQUEST" and "toggle" in bad.json()["message"]
    both = http(sim, "POST", ACTIONS_PATH, json={"action_type": "UNINSTALL_SENSOR", "device_id": [1], "search": {}})
    assert both.status_code == 400 and "exactly one" in both.json()["message"]
    policy = http(sim, "POST", ACTIONS_PATH, json={"action_type": "UPDATE_POLICY", "device_id": [1], "options": {"policy_id": 42}})
    assert policy.status_code == 400 and "42" in policy.json()["message"]
    denied = http(sim, "POST", ACTIONS_PATH, token=READQ_TOKEN, json={"action_type": "DELETE_SENSOR", "device_id": deregistered})
    assert denied.json() == {"error_code": "FORBIDDEN", "message": "Access denied: this operation requires device.deregistered:DELETE"}
    assert http(sim, "POST", ACTIONS_PATH, token=None, json={}).status_code == 401
    mark = sim.mark()
    assert http(sim, "POST", ACTIONS_PATH, json={"action_type": "DELETE_SENSOR", "device_id": deregistered + registered[:1]}).status_code == 204
    entry = sim.requests(since=mark)[0]
    assert entry["device_count"] == len(deregistered) and entry["skipped_ids"] == registered[:1] and entry["write"] is True
    assert search(sim, {"criteria": {"status": ["DEREGISTERED"]}}).json()["num_found"] == 0
    kit = raw[registered[2]]["sensor_kit_type"]
    assert http(sim, "POST", ACTIONS_PATH, json={"action_type": "UPDATE_SENSOR_VERSION", "device_id": registered[2:4],
                                                 "options": {"sensor_version": {kit: "9.0.0.1"}}}).status_code == 204
    pending = sim.device(registered[2])
    assert pending["sensor_pending_update"] is True and pending["sensor_version"] == raw[registered[2]]["sensor_version"]
    completed = sim.complete_sensor_updates()
    assert {"id": registered[2], "org_key": ORG, "sensor_version": "9.0.0.1"} in completed
    assert sim.device(registered[2])["sensor_version"] == "9.0.0.1" and not sim.device(registered[2])["sensor_pending_update"]
    sim.reset()
    assert sim.devices(ids) == raw


# --- SDK policies: create (builder), update (full PUT), rules, rule configs, delete --------------------------


def test_sdk_policy_create_update_delete(fresh_sim):
    from cbc_sdk.errors import ObjectNotFoundError as NotFound  # pylint: disable=import-outside-toplevel
    from cbc_sdk.platform import Policy  # pylint: disable=import-outside-toplevel

    sim = fresh_sim
    api = sdk_key_client(sim)
    mark = sim.mark()
    builder = Policy.create(api)
    builder.set_name("SDK policy").set_priority("HIGH").set_description("made by cbc_sdk")
    builder.set_on_access_scan(True, mode="AGGRESSIVE")
    builder.add_rule("REPUTATION", "KNOWN_MALWARE", "RUN", "DENY")
    builder.add_sensor_setting("SHOW_UI", "false")
    policy = builder.build()
    policy.save()
    entries = sim.requests(since=mark)
    assert [(e["api"], e["status"], e["write"]) for e in entries] == [("policies.create", 200, True)]
    assert "id" not in entries[0]["body"] and entries[0]["body"]["org_key"] == ORG
    assert policy.id == 6524 and policy.position == 4 and policy.priority_level == "HIGH"
    assert [(r["action"], r["operation"]) for r in policy.rules] == [("DENY", "RUN")]

    mark = sim.mark()
    policy.description = "updated by cbc_sdk"
    policy.save()
    put = sim.requests(since=mark)[0]
    assert (put["api"], put["method"], put["status"], put["body"]["id"]) == ("policies.update", "PUT", 200, 6524)
    assert put["body"]["sensor_settings"] == [{"name": "SHOW_UI", "value": "false"}]
    fetched = api.select(Policy, 6524)
    assert fetched.description == "updated by cbc_sdk" and fetched.version == 2

    fetched.add_rule({"action": "TERMINATE", "application": {"type": "REPUTATION", "value": "PUP"},
                      "operation": "MEMORY_SCRAPE", "required": True})
    assert len(api.select(Policy, 6524).rules) == 2
    rule_configs = fetched.core_prevention_rule_configs
    config = rule_configs["88b19232-7ebb-48ef-a198-2a75a282de5d"]
    config.set_assignment_mode("REPORT")
    config.save()
    fetched.set_auth_event_collection(False)
    refreshed = api.select(Policy, 6524)
    modes = {c["name"]: c["parameters"] for c in refreshed.rule_configs}
    assert modes["Privilege Escalation"] == {"WindowsAssignmentMode": "REPORT"}
    assert modes["Authentication Events"] == {"enable_auth_events": False}

    mark = sim.mark()
    refreshed.delete()
    assert [(e["api"], e["status"]) for e in sim.requests(since=mark)] == [("policies.delete", 204)]
    with pytest.raises(NotFound):
        api.select(Policy, 6524).refresh()
    summary = {p["name"] for p in api.get_object(SUMMARY_PATH)["policies"]}
    assert "SDK policy" not in summary


def test_sdk_policy_create_without_permission_is_403(sim):
    from cbc_sdk.platform import Policy  # pylint: disable=import-outside-toplevel

    api = sdk_key_client(sim, token="POLICYREADSECRET00000000/POLICYREAD")
    builder = Policy.create(api)
    builder.set_name("Forbidden")
    with pytest.raises(ClientError) as error:
        builder.build().save()
    assert error.value.error_code == 403 and "org.policies:CREATE" in str(error.value)
