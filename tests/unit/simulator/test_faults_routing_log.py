"""Unit tests of fault parsing/matching, the route table and the request-log redaction, and of
``apply`` faults (request applied, answer lost/replaced/delayed) against a running simulator."""

import json
import threading
import time

import pytest
import requests

from cbcsim.faults import FaultInjector, parse_fault_spec, rule_from_dict
from cbcsim.protocol import ApiError
from cbcsim.requestlog import RequestLog, redact
from cbcsim.server import build_api_routes
from cbcsim.testing import Simulator

ORG = "ABCD1234"
POLICIES = "/policyservice/v1/orgs/{0}/policies".format(ORG)
ACTIONS = "/appservices/v6/orgs/{0}/device_actions".format(ORG)
FULL_ACCESS = "FULLSECRETKEY00000000000/FULLACCESS"
DEVICE_READ = "DEVICEREADSECRET00000000/DEVICEREAD"


def test_parse_fault_spec():
    rule = parse_fault_spec("path=devices/_search,status=429,retry_after=1,count=3")
    assert (rule.status, rule.retry_after, rule.count, rule.drop) == (429, 1, 3, False)
    assert rule.body["error_code"] and rule.body["message"]
    assert rule.matches("POST", "/appservices/v6/orgs/ABCD1234/devices/_search")
    assert not rule.matches("POST", "/appservices/v6/orgs/ABCD1234/devices/_scroll")
    drop = parse_fault_spec("path=_scroll,method=post,drop")
    assert drop.drop and drop.matches("POST", "/x/_scroll") and not drop.matches("GET", "/x/_scroll")
    slow = parse_fault_spec("path=.*,latency_ms=250,name=slow")
    assert slow.latency_ms == 250 and slow.name == "slow"


@pytest.mark.parametrize("spec", ["path=x", "path=x,status=abc", "path=(,status=500", "status=700", "status=500,count=0",
                                  "path=x,status=500,drop", "status", "path=x,bogus=1,status=500", "drop=maybe",
                                  "path=x,apply", "path=x,apply=true", "path=x,status=500,apply=maybe"])
def test_bad_fault_specs(spec):
    with pytest.raises(ValueError):
        parse_fault_spec(spec)


def test_fault_counts_and_order():
    injector = FaultInjector()
    injector.add(rule_from_dict({"path": "_search", "status": 503, "count": 2}))
    injector.add(rule_from_dict({"path": "_search", "status": 500}))
    statuses = [injector.match("POST", "/devices/_search").status for unused_index in range(4)]
    assert statuses == [503, 503, 500, 500]
    assert injector.match("GET", "/devices/1") is None
    assert injector.clear() == 1 and injector.rules() == []
    custom = rule_from_dict({"path": "x", "status": 418, "body": {"error_code": "TEAPOT", "message": "short and stout"}})
    assert custom.body == {"error_code": "TEAPOT", "message": "short and stout"}


def test_route_table_404_405_and_labels():
    table = build_api_routes()
    route, params = table.resolve("POST", "/appservices/v6/orgs/ABCD1234/devices/_search")
    assert route.api == "devices.search" and params["org_key"] == "ABCD1234" and not route.write
    assert route.permission == "device:READ"
    route, params = table.resolve("GET", "/appservices/v6/orgs/ABCD1234/devices/123")
    assert route.api == "devices.get" and params["device_id"] == "123"
    assert table.resolve("GET", "/data_forwarder/v2/orgs/A/configs/")[0].permission == "event-forwarder.settings:READ"
    assert table.resolve("POST", "/api/alerts/v7/orgs/A/alerts/_search")[0].permission == "org.alerts:READ"
    assert table.resolve("GET", "/policyservice/v1/orgs/A/policies/summary")[0].permission == "org.policies:READ"
    with pytest.raises(ApiError) as info:
        table.resolve("GET", "/appservices/v6/orgs/ABCD1234/devices/_search")
    assert info.value.status == 405 and info.value.headers["Allow"] == "POST"
    with pytest.raises(ApiError) as info:
        table.resolve("GET", "/nothing/here")
    assert info.value.status == 404
    assert table.find_api("GET", "/nothing") is None


def test_redaction_and_secret_scrubbing(tmp_path):
    assert redact({"api_token": "x", "nested": [{"client_secret": "y", "ok": 1}], "rows": 2}) == \
        {"api_token": "***", "nested": [{"client_secret": "***", "ok": 1}], "rows": 2}
    log = RequestLog(str(tmp_path / "log.jsonl"), secrets=lambda: ["TOPSECRETVALUE", "ab"])
    log.write({"body": {"query": "name:TOPSECRETVALUE"}, "short": "ab"})
    log.close()
    line = json.loads((tmp_path / "log.jsonl").read_text())
    assert line == {"body": {"query": "name:***"}, "short": "ab"}


# --- apply: the request is handled, then the answer is dropped, replaced or delayed --------------


def test_parse_apply_fault_spec():
    rule = parse_fault_spec("path=/device_actions$,method=POST,drop,apply,count=1")
    assert (rule.drop, rule.apply, rule.count, rule.method) == (True, True, 1, "POST")
    assert rule.name.startswith("drop+apply#")
    described = rule.describe()
    assert described["apply"] is True and described["drop"] is True and described["remaining"] == 1
    assert parse_fault_spec("path=x,status=503,apply=true").apply
    assert not parse_fault_spec("path=x,status=503,apply=false").apply
    assert parse_fault_spec("path=x,latency_ms=10,apply").name.startswith("latency_ms=10+apply#")
    assert rule_from_dict({"path": "x", "status": 502, "apply": True}).apply
    plain = parse_fault_spec("path=x,drop")
    assert plain.apply is False and plain.describe()["apply"] is False


def test_apply_alone_is_rejected():
    for make in (lambda: parse_fault_spec("path=x,apply"), lambda: rule_from_dict({"path": "x", "apply": True}),
                 lambda: rule_from_dict({"path": "x", "apply": True, "latency_ms": 0})):
        with pytest.raises(ValueError, match="a fault needs status, latency_ms or drop"):
            make()
    with pytest.raises(ValueError, match="apply must be true or false"):
        rule_from_dict({"path": "x", "status": 500, "apply": "maybe"})


@pytest.fixture(scope="module")
def live_sim(tmp_path_factory):
    simulator = Simulator.start(tmp_path_factory.mktemp("cbcsim"), devices=10, seed=1)
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def sim(live_sim):
    """The module's simulator, reset (devices, policies, faults) after each test."""
    live_sim.reset()
    yield live_sim
    live_sim.reset()


def api(sim, method, path, auth=FULL_ACCESS, **kwargs):
    """Call the simulated CBC API on a fresh connection (a dropped one does not leak into the next call)."""
    with requests.Session() as session:
        session.trust_env = False
        return session.request(method, sim.url + path, headers={"X-Auth-Token": auth}, verify=sim.ca_file, timeout=30,
                               **kwargs)


def quarantinable_device(sim):
    """Return the id of a device with a working sensor that is not quarantined."""
    for device_id, device in sim.devices(sim.device_ids(ORG)).items():
        if device["status"] not in ("DEREGISTERED", "UNINSTALLED") and not device["quarantined"]:
            return device_id
    raise AssertionError("no quarantinable device")


def quarantine(device_id):
    return {"action_type": "QUARANTINE", "device_id": [device_id], "options": {"toggle": "ON"}}


def test_drop_apply_policy_create_is_applied_but_unanswered(sim):
    sim.add_fault(path="/policies$", method="POST", drop=True, apply=True, count=1)
    mark = sim.mark()
    with pytest.raises(requests.exceptions.ConnectionError):
        api(sim, "POST", POLICIES, json={"name": "Lost answer", "priority_level": "LOW"})
    summaries = api(sim, "GET", POLICIES + "/summary").json()["policies"]
    assert [policy["name"] for policy in summaries].count("Lost answer") == 1
    created, listed = sim.requests(since=mark)
    assert created["api"] == "policies.create" and created["method"] == "POST"
    assert created["write"] is True and created["status"] is None and created["applied_status"] == 200
    assert created["fault"].startswith("drop+apply#") and created["auth"] == "api_key:FULLACCESS"
    assert listed["api"] == "policies.summary" and listed["status"] == 200 and "applied_status" not in listed
    assert sim.control("GET", "faults").json()["faults"] == []


def test_drop_without_apply_leaves_state_unchanged(sim):
    device_id = quarantinable_device(sim)
    sim.add_fault(path="/device_actions$", method="POST", drop=True, count=1)
    mark = sim.mark()
    with pytest.raises(requests.exceptions.ConnectionError):
        api(sim, "POST", ACTIONS, json=quarantine(device_id))
    assert sim.device(device_id)["quarantined"] is False
    (line,) = sim.requests(since=mark)
    assert line["status"] is None and line["write"] is False and "applied_status" not in line


def test_status_apply_device_action_changes_state_but_answers_503(sim):
    device_id = quarantinable_device(sim)
    sim.add_fault(path="/device_actions$", method="POST", status=503, retry_after=2, apply=True, count=1)
    mark = sim.mark()
    response = api(sim, "POST", ACTIONS, json=quarantine(device_id))
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert response.json()["error_code"] == "SIMULATED_FAULT"
    assert sim.device(device_id)["quarantined"] is True
    (line,) = sim.requests(since=mark)
    assert (line["api"], line["status"], line["applied_status"], line["write"]) == ("devices.actions", 503, 204, True)
    assert line["device_count"] == 1 and line["fault"].startswith("status=503+apply#")


def test_status_apply_on_a_rejected_write_is_not_a_write(sim):
    device_id = quarantinable_device(sim)
    sim.add_fault(path="/device_actions$", method="POST", status=502, apply=True, count=1)
    mark = sim.mark()
    response = api(sim, "POST", ACTIONS, auth=DEVICE_READ, json=quarantine(device_id))
    assert response.status_code == 502
    assert sim.device(device_id)["quarantined"] is False
    (line,) = sim.requests(since=mark)
    assert (line["status"], line["applied_status"], line["write"]) == (502, 403, False)


def test_latency_apply_applies_before_the_slow_answer(sim):
    device_id = quarantinable_device(sim)
    sim.add_fault(path="/device_actions$", method="POST", latency_ms=2000, apply=True, count=1)
    mark = sim.mark()
    result = {}

    def call():
        started = time.monotonic()
        result["response"] = api(sim, "POST", ACTIONS, json=quarantine(device_id))
        result["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not sim.device(device_id)["quarantined"]:
        assert time.monotonic() < deadline, "the device action was never applied"
        time.sleep(0.02)
    assert thread.is_alive(), "the change should be visible before the slow response arrives"
    thread.join(timeout=30)
    assert result["response"].status_code == 204 and result["elapsed"] >= 2.0
    (line,) = sim.requests(since=mark)
    assert (line["status"], line["applied_status"], line["write"]) == (204, 204, True)
    assert line["duration_ms"] >= 2000 and line["fault"].startswith("latency_ms=2000+apply#")
    with pytest.raises(requests.exceptions.HTTPError) as info:
        sim.add_fault(path="x", apply=True)
    assert info.value.response.status_code == 400


def test_probability_faults_a_repeatable_share_of_requests():
    from cbcsim.faults import FaultInjector, parse_fault_spec

    def fired(seed):
        injector = FaultInjector([parse_fault_spec("status=503,probability=0.25,seed=%d" % seed)])
        return [injector.match("GET", "/x") is not None for unused in range(400)]

    assert fired(7) == fired(7)
    assert 60 < sum(fired(7)) < 140
    with pytest.raises(ValueError):
        parse_fault_spec("status=503,probability=0")
