# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Behaviour of the simulator's reputation override, alert v7 and job routes, through a running simulator:
validation, paging (0-based for overrides, 1-based for alerts), bulk delete, workflow → job → alerts changed,
the job switches, RBAC, and the request log's api labels and write flags."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from cbcsim import cli
from cbcsim.search import format_time, parse_time
from cbcsim.server import build_api_routes
from cbcsim.testing import Simulator

ORG = "ABCD1234"
FULL = "FULLSECRETKEY00000000000/FULLACCESS"
ALERT_READ = "ALERTREADSECRET000000000/ALERTREAD"
REPUTATION_READ = "REPUTATIONREADSECRET0000/REPUTATIONREAD"
DEVICE_READ = "DEVICEREADSECRET00000000/DEVICEREAD"
OVERRIDES = "/appservices/v6/orgs/" + ORG + "/reputations/overrides"
ALERTS = "/api/alerts/v7/orgs/" + ORG + "/alerts"
JOBS = "/jobs/v1/orgs/" + ORG + "/jobs"
SEEDED_ALERTS = 60
HASH = "af62e6b3d475879c4234fe7bd8ba67ff6544ce6510131a069aaac75aa92aee7a"
SHA256 = {"description": "An override for a sha256 hash", "override_list": "BLACK_LIST", "override_type": "SHA256",
          "sha256_hash": HASH, "filename": "foo.exe"}
IT_TOOL = {"description": "Approved IT Tools", "override_list": "WHITE_LIST", "override_type": "IT_TOOL",
           "path": "C://tools//*.exe", "include_child_processes": True}
CERT = {"description": "Approved Certificate", "override_list": "WHITE_LIST", "override_type": "CERT",
        "signed_by": "VMware Inc.", "certificate_authority": "VMware"}


@pytest.fixture(scope="module")
def live_sim(tmp_path_factory):
    simulator = Simulator.start(tmp_path_factory.mktemp("cbcsim"), devices=20, seed=3,
                                extra_args=["--alerts", SEEDED_ALERTS, "--job-delay", "0.2"])
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def sim(live_sim):
    """The shared simulator, reset after each test (alerts, overrides, jobs and switches restored)."""
    try:
        yield live_sim
    finally:
        live_sim.reset()


def call(sim, method, path, token=FULL, **kwargs):
    headers = {"X-Auth-Token": token} if token else {}
    return requests.request(method, sim.url + path, headers=headers, verify=sim.ca_file, timeout=30, **kwargs)


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def sha(number):
    return "{0:064x}".format(number)


def wait_for_job(sim, request_id, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        job = ok(call(sim, "GET", "{0}/{1}".format(JOBS, request_id)))
        if job["status"] != "CREATED" or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def search_alerts(sim, body, token=FULL):
    return ok(call(sim, "POST", ALERTS + "/_search", token=token, json=body))


# --- routes ------------------------------------------------------------------------------------------------


def test_routes_labels_permissions_and_write_flags():
    table = build_api_routes()
    expected = {
        ("POST", OVERRIDES): ("reputation_overrides.create", "org.reputations:CREATE", True),
        ("POST", OVERRIDES + "/_search"): ("reputation_overrides.search", "org.reputations:READ", False),
        ("POST", OVERRIDES + "/_delete"): ("reputation_overrides.bulk_delete", "org.reputations:DELETE", True),
        ("GET", OVERRIDES + "/e9410b754ea011ebbfd0db2585a41b07"): ("reputation_overrides.get", "org.reputations:READ", False),
        ("DELETE", OVERRIDES + "/e9410b754ea011ebbfd0db2585a41b07"): (
            "reputation_overrides.delete", "org.reputations:DELETE", True),
        ("POST", ALERTS + "/_search"): ("alerts.search", "org.alerts:READ", False),
        ("GET", ALERTS + "/14b3238e-cff8-49bf-a1c0-d0c6587d41e4"): ("alerts.get", "org.alerts:READ", False),
        ("POST", ALERTS + "/workflow"): ("alerts.workflow", "org.alerts.close:EXECUTE", True),
        ("GET", JOBS): ("jobs.list", "jobs.status:READ", False),
        ("GET", JOBS + "/666666"): ("jobs.get", "jobs.status:READ", False),
        ("GET", JOBS + "/666666/progress"): ("jobs.progress", "jobs.status:READ", False),
    }
    for (method, path), (api, permission, write) in expected.items():
        route, params = table.resolve(method, path)
        assert (route.api, route.permission, route.write) == (api, permission, write), path
        assert params["org_key"] == ORG


def test_cli_rejects_negative_alerts_and_delay(tmp_path):
    assert cli.main(["--state-dir", str(tmp_path), "--alerts", "-1"]) == 2
    assert cli.main(["--state-dir", str(tmp_path), "--job-delay", "-0.5"]) == 2


# --- reputation overrides ----------------------------------------------------------------------------------


def test_override_create_get_delete(sim):
    created = ok(call(sim, "POST", OVERRIDES, json=dict(SHA256, sha256_hash=HASH.upper())), 201)
    assert len(created["id"]) == 32 and all(ch in "0123456789abcdef" for ch in created["id"])
    assert created["created_by"] == "FULLACCESS" and parse_time(created["create_time"]) is not None
    assert created["sha256_hash"] == HASH and created["filename"] == "foo.exe"
    assert ok(call(sim, "GET", "{0}/{1}".format(OVERRIDES, created["id"]))) == created
    for body in (IT_TOOL, CERT):
        stored = ok(call(sim, "POST", OVERRIDES, json=body), 201)
        assert {key: stored[key] for key in body} == body
    tool = ok(call(sim, "POST", OVERRIDES, json={"override_list": "WHITE_LIST", "override_type": "IT_TOOL", "path": "/opt/x"}), 201)
    assert tool["include_child_processes"] is False and "description" not in tool
    delete = call(sim, "DELETE", "{0}/{1}".format(OVERRIDES, created["id"]))
    assert delete.status_code == 204 and delete.content == b""
    # The SDK's UAT expects a second delete (and a get) of the same id to be a 404.
    assert call(sim, "DELETE", "{0}/{1}".format(OVERRIDES, created["id"])).status_code == 404
    assert call(sim, "GET", "{0}/{1}".format(OVERRIDES, created["id"])).status_code == 404
    assert len(sim.reputation_overrides()) == 3


@pytest.mark.parametrize("body, words", [
    (None, "JSON object"),
    ([SHA256], "JSON object"),
    ({"override_type": "SHA256", "sha256_hash": HASH}, "override_list"),
    (dict(SHA256, override_list="GRAY_LIST"), "override_list"),
    (dict(SHA256, override_type="MD5"), "override_type"),
    (dict(SHA256, sha256_hash="abc"), "64 hexadecimal"),
    (dict(SHA256, sha256_hash="g" * 64), "64 hexadecimal"),
    ({"override_list": "WHITE_LIST", "override_type": "SHA256"}, "sha256_hash"),
    (dict(CERT, override_list="BLACK_LIST"), "BLACK_LIST is valid only"),
    (dict(IT_TOOL, override_list="BLACK_LIST"), "BLACK_LIST is valid only"),
    ({"override_list": "WHITE_LIST", "override_type": "CERT"}, "signed_by"),
    ({"override_list": "WHITE_LIST", "override_type": "IT_TOOL", "path": ""}, "path"),
    (dict(IT_TOOL, include_child_processes="yes"), "boolean"),
    (dict(SHA256, signed_by="x"), "do(es) not apply"),
    (dict(SHA256, colour="red"), "unknown field"),
    (dict(SHA256, id="e9410b754ea011ebbfd0db2585a41b07"), "set by the server"),
    (dict(SHA256, description=7), "description"),
])
def test_override_validation(sim, body, words):
    response = call(sim, "POST", OVERRIDES, json=body)
    assert response.status_code == 400, response.text
    assert words in response.json()["message"]
    assert sim.reputation_overrides() == []


def test_override_duplicates_are_a_conflict_unless_switched_to_store(sim):
    first = ok(call(sim, "POST", OVERRIDES, json=SHA256), 201)
    for body in (SHA256, dict(SHA256, override_list="WHITE_LIST", sha256_hash=HASH.upper(), filename="other.exe")):
        conflict = call(sim, "POST", OVERRIDES, json=body)
        assert conflict.status_code == 409 and first["id"] in conflict.json()["message"]
    ok(call(sim, "POST", OVERRIDES, json=CERT), 201)
    assert call(sim, "POST", OVERRIDES, json=dict(CERT, signed_by="vmware inc.")).status_code == 409
    ok(call(sim, "POST", OVERRIDES, json=dict(CERT, certificate_authority="Other CA")), 201)
    assert sim.reputation_settings(duplicates="store") == {"duplicates": "store"}
    second = ok(call(sim, "POST", OVERRIDES, json=SHA256), 201)
    assert second["id"] != first["id"]
    assert [o["sha256_hash"] for o in sim.reputation_overrides() if o["override_type"] == "SHA256"] == [HASH, HASH]
    sim.reset()
    assert sim.reputation_settings() == {"duplicates": "reject"}


def test_override_search_pages_with_a_zero_based_start(sim):
    for number in range(7):
        ok(call(sim, "POST", OVERRIDES, json={"override_list": "WHITE_LIST", "override_type": "SHA256", "sha256_hash": sha(number)}),
           201)
    every = ok(call(sim, "POST", OVERRIDES + "/_search", json={}))
    assert every["num_found"] == 7 and [o["sha256_hash"] for o in every["results"]] == [sha(n) for n in range(7)]
    pages = [ok(call(sim, "POST", OVERRIDES + "/_search", json={"start": start, "rows": 3})) for start in (0, 3, 6)]
    assert [len(page["results"]) for page in pages] == [3, 3, 1] and all(page["num_found"] == 7 for page in pages)
    assert [o["id"] for page in pages for o in page["results"]] == [o["id"] for o in every["results"]]
    # start is an offset: start 1 skips the first override (alerts and devices treat start 1 as the first row).
    assert ok(call(sim, "POST", OVERRIDES + "/_search", json={"start": 1, "rows": 1}))["results"][0]["id"] == every["results"][1]["id"]
    assert ok(call(sim, "POST", OVERRIDES + "/_search", json={"start": 7}))["results"] == []
    assert ok(call(sim, "POST", OVERRIDES + "/_search", json={"rows": 0})) == {"num_found": 7, "results": []}


def test_override_search_default_and_maximum_rows(sim):
    for number in range(120):
        sim.add_reputation_override(override_list="WHITE_LIST", override_type="SHA256", sha256_hash=sha(number))
    assert len(ok(call(sim, "POST", OVERRIDES + "/_search", json={}))["results"]) == 100
    assert len(ok(call(sim, "POST", OVERRIDES + "/_search", json={"rows": 1000}))["results"]) == 120
    for body in ({"rows": 1001}, {"rows": -1}, {"start": -1}, {"rows": "10"}):
        assert call(sim, "POST", OVERRIDES + "/_search", json=body).status_code == 400, body


def test_override_search_criteria_query_and_sort(sim):
    sha_override = ok(call(sim, "POST", OVERRIDES, json=SHA256), 201)
    tool = ok(call(sim, "POST", OVERRIDES, json=IT_TOOL), 201)
    cert = ok(call(sim, "POST", OVERRIDES, json=CERT), 201)

    def ids(body):
        return [o["id"] for o in ok(call(sim, "POST", OVERRIDES + "/_search", json=body))["results"]]

    # The body of the SDK's test_reputation_override_select.
    assert ids({"criteria": {"override_list": "BLACK_LIST", "override_type": "SHA256"}, "query": "foo",
                "sort_field": "create_time", "sort_order": "asc"}) == [sha_override["id"]]
    assert ids({"criteria": {"override_list": "WHITE_LIST"}}) == [tool["id"], cert["id"]]
    assert ids({"query": "foo*"}) == [sha_override["id"]]  # the UAT's wildcard query
    assert ids({"query": "vmware"}) == [cert["id"]]
    assert ids({"query": "Approved"}) == [tool["id"], cert["id"]]
    assert ids({"query": "Approved certificate_authority:VMware"}) == [cert["id"]]
    assert ids({"query": '"IT Tools"'}) == [tool["id"]]
    assert ids({"query": "nothing-matches"}) == []
    assert ids({"sort_field": "create_time", "sort_order": "desc"}) == [cert["id"], tool["id"], sha_override["id"]]
    assert ids({"sort_field": "override_type", "sort_order": "DESC"}) == [sha_override["id"], tool["id"], cert["id"]]
    assert ids({"sort_field": "override_type"}) == [cert["id"], tool["id"], sha_override["id"]]
    for body in ({"criteria": {"override_list": ["WHITE_LIST"]}}, {"criteria": {"override_list": "GREY_LIST"}},
                 {"criteria": {"sha256_hash": HASH}}, {"sort": [{"field": "create_time"}]}, {"sort_field": "colour"},
                 {"sort_order": "UP"}, {"query": '"unbalanced'}, {"query": 5}):
        assert call(sim, "POST", OVERRIDES + "/_search", json=body).status_code == 400, body


def test_override_bulk_delete(sim):
    first = ok(call(sim, "POST", OVERRIDES, json=IT_TOOL), 201)
    second = ok(call(sim, "POST", OVERRIDES, json=CERT), 201)
    kept = ok(call(sim, "POST", OVERRIDES, json=SHA256), 201)
    unknown = "0" * 32
    answer = ok(call(sim, "POST", OVERRIDES + "/_delete", json=[first["id"], unknown, second["id"], first["id"]]))
    assert answer["results"] == [first["id"], second["id"]]
    assert answer["errors"] == [{"id": unknown, "error_code": "NOT_FOUND", "message": "Reputation override {0} not found".format(unknown)}]
    assert [o["id"] for o in sim.reputation_overrides()] == [kept["id"]]
    for body in ([], {"ids": [kept["id"]]}, [7], None):
        assert call(sim, "POST", OVERRIDES + "/_delete", json=body).status_code == 400, body
    assert [o["id"] for o in sim.reputation_overrides()] == [kept["id"]]


def test_override_rbac(sim):
    assert call(sim, "POST", OVERRIDES + "/_search", token=REPUTATION_READ, json={}).status_code == 200
    stored = ok(call(sim, "POST", OVERRIDES, json=SHA256), 201)
    assert call(sim, "GET", "{0}/{1}".format(OVERRIDES, stored["id"]), token=REPUTATION_READ).status_code == 200
    for method, path, body in (("POST", OVERRIDES, IT_TOOL), ("DELETE", "{0}/{1}".format(OVERRIDES, stored["id"]), None),
                               ("POST", OVERRIDES + "/_delete", [stored["id"]])):
        denied = call(sim, method, path, token=REPUTATION_READ, json=body)
        assert denied.status_code == 403 and "org.reputations" in denied.json()["message"]
    assert call(sim, "POST", OVERRIDES + "/_search", token=DEVICE_READ, json={}).status_code == 403
    assert call(sim, "POST", OVERRIDES + "/_search", token=None, json={}).status_code == 401
    assert len(sim.reputation_overrides()) == 1


def test_override_request_log(sim):
    mark = sim.mark()
    stored = ok(call(sim, "POST", OVERRIDES, json=SHA256), 201)
    ok(call(sim, "POST", OVERRIDES + "/_search", json={}))
    ok(call(sim, "GET", "{0}/{1}".format(OVERRIDES, stored["id"])))
    ok(call(sim, "POST", OVERRIDES + "/_delete", json=[stored["id"]]))
    call(sim, "DELETE", "{0}/{1}".format(OVERRIDES, stored["id"]))
    entries = sim.requests(since=mark)
    assert [(e["api"], e["write"], e["status"]) for e in entries] == [
        ("reputation_overrides.create", True, 201), ("reputation_overrides.search", False, 200),
        ("reputation_overrides.get", False, 200), ("reputation_overrides.bulk_delete", True, 200),
        ("reputation_overrides.delete", True, 404)]
    assert entries[0]["override_id"] == stored["id"] and entries[3]["deleted_count"] == 1


# --- alerts: seed, search, paging ----------------------------------------------------------------------------


def test_seeded_alerts(sim):
    alerts = sim.alerts()
    assert len(alerts) == SEEDED_ALERTS and len({a["id"] for a in alerts}) == SEEDED_ALERTS
    devices = set(sim.device_ids())
    assert {a["device_id"] for a in alerts} <= devices
    assert {a["type"] for a in alerts} == {"WATCHLIST", "CB_ANALYTICS"}
    assert all(1 <= a["severity"] <= 10 and a["workflow"]["status"] == "OPEN" and a["user_update_timestamp"] is None for a in alerts)
    assert len({a["threat_id"] for a in alerts}) < SEEDED_ALERTS  # threats group alerts
    for alert in alerts:
        device = sim.device(alert["device_id"])
        assert (alert["device_name"], alert["device_os"], alert["device_policy_id"]) == (device["name"], device["os"], device["policy_id"])
        assert alert["backend_timestamp"] == alert["backend_update_timestamp"] == alert["workflow"]["change_timestamp"]
        assert alert["first_event_timestamp"] <= alert["last_event_timestamp"] <= alert["detection_timestamp"] <= alert["backend_timestamp"]
        assert len(alert["process_sha256"]) == 64 and alert["backend_timestamp"].endswith("Z")
    sim.reset()
    assert sim.alerts() == alerts  # deterministic from --seed and the start time


def test_alert_paging_is_one_based_with_a_default_of_100_rows(sim):
    sim.add_alerts(count=60)
    every = search_alerts(sim, {"rows": 1000})
    ids = [a["id"] for a in every["results"]]
    assert every["num_found"] == every["num_available"] == 120 == len(ids)
    assert [a["backend_timestamp"] for a in every["results"]] == sorted(a["backend_timestamp"] for a in every["results"])
    assert len(search_alerts(sim, {})["results"]) == 100
    assert [a["id"] for a in search_alerts(sim, {"start": 1, "rows": 3})["results"]] == ids[:3]
    assert [a["id"] for a in search_alerts(sim, {"start": 0, "rows": 3})["results"]] == ids[:3]
    assert [a["id"] for a in search_alerts(sim, {"start": 11, "rows": 5})["results"]] == ids[10:15]
    paged = []
    start = 1
    while True:  # the SDK's loop: start = rows read + 1
        page = search_alerts(sim, {"start": start, "rows": 25})["results"]
        paged.extend(a["id"] for a in page)
        start += len(page)
        if not page or start > 120:
            break
    assert paged == ids
    for body in ({"rows": 10001}, {"rows": -1}, {"start": -1}, {"rows": True}, {"unknown": 1}):
        assert call(sim, "POST", ALERTS + "/_search", json=body).status_code == 400, body


def test_alert_results_window(tmp_path):
    big = Simulator.start(tmp_path / "big", devices=5, seed=1, extra_args=["--alerts", "10010"])
    try:
        page = search_alerts(big, {"start": 9991, "rows": 50})
        assert page["num_found"] == 10010 and page["num_available"] == 10000
        assert len(page["results"]) == 10  # cut at the 10,000th match
        beyond = call(big, "POST", ALERTS + "/_search", json={"start": 10001, "rows": 10})
        assert beyond.status_code == 500 and beyond.json()["error_code"]
        assert search_alerts(big, {"criteria": {"type": ["CB_ANALYTICS"]}, "rows": 0})["num_available"] < 10000
    finally:
        big.stop()


def test_alert_criteria_exclusions_and_minimum_severity(sim):
    alerts = sim.alerts()

    def found(body):
        return sorted(a["id"] for a in search_alerts(sim, dict(body, rows=1000))["results"])

    def expect(predicate):
        return sorted(a["id"] for a in alerts if predicate(a))

    device = alerts[0]["device_id"]
    assert found({"criteria": {"type": ["CB_ANALYTICS"]}}) == expect(lambda a: a["type"] == "CB_ANALYTICS")
    assert found({"criteria": {"type": ["CB_ANALYTICS", "WATCHLIST"], "device_id": [device]}}) == expect(
        lambda a: a["device_id"] == device)
    assert found({"criteria": {"device_id": [str(device)]}}) == expect(lambda a: a["device_id"] == device)
    assert found({"criteria": {"minimum_severity": 6}}) == expect(lambda a: a["severity"] >= 6)
    assert found({"criteria": {"minimum_severity": 6}, "exclusions": {"type": ["WATCHLIST"]}}) == expect(
        lambda a: a["severity"] >= 6 and a["type"] != "WATCHLIST")
    assert found({"criteria": {"workflow_status": ["OPEN"], "determination_value": ["NONE"]}}) == expect(lambda a: True)
    assert found({"criteria": {"workflow_status": ["CLOSED"]}}) == []
    assert found({"criteria": {"id": [alerts[3]["id"], alerts[5]["id"]]}}) == sorted([alerts[3]["id"], alerts[5]["id"]])
    watchlist = next(a for a in alerts if a["type"] == "WATCHLIST")["watchlists"][0]["id"]
    assert found({"criteria": {"watchlists_id": [watchlist]}}) == expect(
        lambda a: watchlist in [w["id"] for w in a.get("watchlists", [])])
    for body in ({"criteria": {"minimum_severity": [5]}}, {"criteria": {"minimum_severity": "5"}},
                 {"exclusions": {"minimum_severity": 5}}, {"criteria": {"type": "WATCHLIST"}},
                 {"criteria": {"device_name": {"range": "-1d"}}}, {"criteria": {"detection_timestamp": {"range": "soon"}}},
                 {"time_range": {"range": "-1d", "start": "2024-01-01T00:00:00Z"}}, {"time_range": "-1d"}):
        assert call(sim, "POST", ALERTS + "/_search", json=body).status_code == 400, body


def test_alert_time_range_and_time_criteria(sim):
    alerts = sorted(sim.alerts(), key=lambda a: a["backend_timestamp"])
    middle = alerts[len(alerts) // 2]

    def found(body):
        return sorted(a["id"] for a in search_alerts(sim, dict(body, rows=1000))["results"])

    start = middle["backend_timestamp"]
    # Inclusive start on backend_timestamp: the alert at the cursor is returned again.
    assert found({"time_range": {"start": start, "end": format_time(datetime.now(timezone.utc))}}) == sorted(
        a["id"] for a in alerts if a["backend_timestamp"] >= start)
    assert middle["id"] in found({"time_range": {"start": start, "end": start}})
    # The SDK's own format (microseconds, Z) is accepted.
    micro = parse_time(start).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert middle["id"] in found({"time_range": {"start": micro, "end": micro}})
    week = datetime.now(timezone.utc) - timedelta(days=7)
    assert found({"time_range": {"range": "-1w"}}) == sorted(a["id"] for a in alerts if parse_time(a["backend_timestamp"]) >= week)
    assert found({"time_range": {"range": "-1M"}}) == sorted(a["id"] for a in alerts)
    cut = middle["detection_timestamp"]
    assert found({"criteria": {"detection_timestamp": {"start": cut, "end": format_time(datetime.now(timezone.utc))}}}) == sorted(
        a["id"] for a in alerts if a["detection_timestamp"] >= cut)
    assert found({"exclusions": {"detection_timestamp": {"start": cut, "end": format_time(datetime.now(timezone.utc))}}}) == sorted(
        a["id"] for a in alerts if a["detection_timestamp"] < cut)
    assert found({"criteria": {"mdr_workflow_change_timestamp": {"range": "-1y"}}}) == []  # no alert has the field


def test_alert_query_and_sort(sim):
    alerts = sim.alerts()
    target = alerts[7]

    def found(body):
        return [a["id"] for a in search_alerts(sim, dict(body, rows=1000))["results"]]

    assert found({"query": "id:" + target["id"]}) == [target["id"]]
    assert set(found({"query": target["threat_id"]})) == {a["id"] for a in alerts if a["threat_id"] == target["threat_id"]}
    assert set(found({"query": "workflow.status:OPEN AND type:CB_ANALYTICS"})) == {a["id"] for a in alerts if a["type"] == "CB_ANALYTICS"}
    assert set(found({"query": "NOT type:WATCHLIST"})) == {a["id"] for a in alerts if a["type"] != "WATCHLIST"}
    assert call(sim, "POST", ALERTS + "/_search", json={"query": "(type:WATCHLIST"}).json()["reason"] == "query_malformed_syntax"
    sort = [{"field": "severity", "order": "DESC"}, {"field": "backend_timestamp", "order": "ASC"}]
    by_severity = search_alerts(sim, {"rows": 1000, "sort": sort})["results"]
    assert [(-a["severity"], a["backend_timestamp"]) for a in by_severity] == sorted((-a["severity"], a["backend_timestamp"]) for a in alerts)
    newest = search_alerts(sim, {"rows": 1, "sort": [{"field": "backend_timestamp", "order": "DESC"}]})["results"][0]
    assert newest["backend_timestamp"] == max(a["backend_timestamp"] for a in alerts)


def test_get_alert(sim):
    alert = sim.alerts()[0]
    assert ok(call(sim, "GET", "{0}/{1}".format(ALERTS, alert["id"]))) == alert
    assert call(sim, "GET", ALERTS + "/no-such-alert").status_code == 404


# --- workflow and jobs ---------------------------------------------------------------------------------------


def test_workflow_job_then_alerts_change(sim):
    sim.job_settings(job_delay=0.5)
    alerts = sim.alerts()
    targets = sorted(a["id"] for a in alerts if a["type"] == "CB_ANALYTICS")
    others = [a for a in alerts if a["type"] != "CB_ANALYTICS"]
    mark = sim.mark()
    before = datetime.now(timezone.utc)
    answer = ok(call(sim, "POST", ALERTS + "/workflow", json={
        "criteria": {"type": ["CB_ANALYTICS"]}, "status": "CLOSED", "closure_reason": "RESOLVED_BENIGN_KNOWN_GOOD",
        "determination": "FALSE_POSITIVE", "note": "known admin tool"}))
    assert set(answer) == {"request_id"} and isinstance(answer["request_id"], str)
    job = ok(call(sim, "GET", "{0}/{1}".format(JOBS, answer["request_id"])))
    assert job["id"] == int(answer["request_id"]) and job["status"] == "CREATED" and job["type"] == "user_workflow_update"
    assert all(a["workflow"]["status"] == "OPEN" for a in sim.alerts() if a["id"] in targets)  # not yet
    job = wait_for_job(sim, answer["request_id"])
    assert job["status"] == "COMPLETED"
    # The recording's counts are 0/0 even though alerts changed.
    assert job["progress"] == {"num_total": 0, "num_completed": 0, "message": "Dismissal completed"}
    assert ok(call(sim, "GET", "{0}/{1}/progress".format(JOBS, answer["request_id"]))) == job["progress"]
    params = job["job_parameters"]["job_parameters"]
    assert params["request"]["note"] == "known admin tool" and params["userWorkflowDto"]["changed_by"] == "FULLACCESS"
    assert job["connector_id"] == "FULLACCESS" and job["org_key"] == ORG
    assert parse_time(job["last_update_time"]) >= parse_time(job["create_time"]) >= before - timedelta(seconds=1)
    after = {a["id"]: a for a in sim.alerts()}
    for alert_id in targets:
        alert = after[alert_id]
        assert alert["workflow"]["status"] == "CLOSED" and alert["workflow"]["closure_reason"] == "RESOLVED_BENIGN_KNOWN_GOOD"
        assert (alert["workflow"]["changed_by_type"], alert["workflow"]["changed_by"]) == ("API", "FULLACCESS")
        assert alert["determination"]["value"] == "FALSE_POSITIVE" and alert["determination"]["changed_by_type"] == "API"
        stamp = alert["workflow"]["change_timestamp"]
        assert alert["user_update_timestamp"] == alert["backend_update_timestamp"] == alert["determination"]["change_timestamp"] == stamp
        assert parse_time(stamp) >= before and alert["backend_timestamp"] < stamp
    assert all(after[a["id"]] == a for a in others)
    assert sim.jobs()[0]["result"] == sorted(targets, key=[a["id"] for a in alerts].index)
    # Searching by the new state, and the request log.
    assert sorted(a["id"] for a in search_alerts(sim, {"criteria": {"workflow_status": ["CLOSED"]}, "rows": 100})["results"]) == targets
    entries = sim.requests(since=mark)
    assert entries[0]["api"] == "alerts.workflow" and entries[0]["write"] is True and entries[0]["request_id"] == answer["request_id"]
    assert {(e["api"], e["write"]) for e in entries[1:]} == {("jobs.get", False), ("jobs.progress", False), ("alerts.search", False)}


def test_workflow_status_only_and_determination_only(sim):
    sim.job_settings(job_delay=0)
    alert = sim.alerts()[0]
    answer = ok(call(sim, "POST", ALERTS + "/workflow", json={"criteria": {"id": [alert["id"]]}, "status": "IN_PROGRESS"}))
    assert ok(call(sim, "GET", "{0}/{1}".format(JOBS, answer["request_id"])))["status"] == "COMPLETED"  # delay 0: done at once
    changed = ok(call(sim, "GET", "{0}/{1}".format(ALERTS, alert["id"])))
    assert changed["workflow"]["status"] == "IN_PROGRESS" and changed["workflow"]["closure_reason"] == "NO_REASON"
    assert changed["determination"] == alert["determination"]
    ok(call(sim, "POST", ALERTS + "/workflow", json={"criteria": {"id": [alert["id"]]}, "determination": "TRUE_POSITIVE"}))
    again = ok(call(sim, "GET", "{0}/{1}".format(ALERTS, alert["id"])))
    assert again["workflow"] == changed["workflow"] and again["determination"]["value"] == "TRUE_POSITIVE"


@pytest.mark.parametrize("body, words", [
    ({"criteria": {"id": ["x"]}, "status": "DISMISSED"}, "status must be one of"),
    ({"criteria": {"id": ["x"]}, "status": "CLOSED", "closure_reason": "FIXED"}, "closure_reason must be one of"),
    ({"criteria": {"id": ["x"]}, "determination": "MAYBE"}, "determination must be one of"),
    ({"criteria": {"id": ["x"]}, "status": "closed"}, "status must be one of"),
    ({"criteria": {"id": ["x"]}, "note": "only a note"}, "status and/or determination"),
    ({"criteria": {"id": ["x"]}, "closure_reason": "RESOLVED"}, "closure_reason is set together with status"),
    ({"status": "CLOSED"}, "needs a selection"),
    ({"criteria": {}, "status": "CLOSED"}, "needs a selection"),
    ({"criteria": {"id": ["x"]}, "status": "CLOSED", "rows": 10}, "rows/start"),
    ({"criteria": {"id": ["x"]}, "status": "CLOSED", "remediation_state": "x"}, "unknown workflow key"),
    ({"criteria": {"id": ["x"]}, "status": "CLOSED", "note": 5}, "note must be a string"),
    ({"criteria": {"id": "x"}, "status": "CLOSED"}, "must be an array"),
    ({"query": "(", "status": "CLOSED"}, "Invalid query"),
])
def test_workflow_validation(sim, body, words):
    response = call(sim, "POST", ALERTS + "/workflow", json=body)
    assert response.status_code == 400, response.text
    assert words in response.json()["message"]
    assert sim.jobs() == []


def test_workflow_enum_error_names_the_field(sim):
    body = call(sim, "POST", ALERTS + "/workflow", json={"criteria": {"id": ["x"]}, "status": "DISMISSED"}).json()
    assert (body["field"], body["invalid_value"], body["known_values"]) == ("status", "DISMISSED", ["OPEN", "IN_PROGRESS", "CLOSED"])


def test_job_fail_hook_and_complete_now(sim):
    sim.job_settings(job_delay=0.1, fail_next=1)
    alert = sim.alerts()[0]
    body = {"criteria": {"id": [alert["id"]]}, "status": "CLOSED"}
    failed = wait_for_job(sim, ok(call(sim, "POST", ALERTS + "/workflow", json=body))["request_id"])
    assert failed["status"] == "FAILED" and failed["errors"] and failed["progress"]["message"] == "Dismissal failed"
    assert sim.alerts()[0] == alert  # a failed job changes nothing
    assert sim.job_settings() == {"job_delay": 0.1, "fail_next": 0}
    sim.job_settings(job_delay=3600)
    pending = ok(call(sim, "POST", ALERTS + "/workflow", json=body))["request_id"]
    assert ok(call(sim, "GET", "{0}/{1}".format(JOBS, pending)))["status"] == "CREATED"
    assert sim.complete_jobs() == [int(pending)]
    assert ok(call(sim, "GET", "{0}/{1}".format(JOBS, pending)))["status"] == "COMPLETED"
    assert sim.alerts()[0]["workflow"]["status"] == "CLOSED"
    listed = ok(call(sim, "GET", JOBS))
    assert listed["num_found"] == 2 and [job["status"] for job in listed["results"]] == ["FAILED", "COMPLETED"]
    sim.reset()
    assert sim.job_settings() == {"job_delay": 0.2, "fail_next": 0} and sim.jobs() == []


def test_job_errors_and_faults(sim):
    for path in (JOBS + "/1", JOBS + "/abc", JOBS + "/1/progress"):
        assert call(sim, "GET", path).status_code == 404
    sim.job_settings(job_delay=0)
    answer = ok(call(sim, "POST", ALERTS + "/workflow", json={"criteria": {"type": ["WATCHLIST"]}, "status": "IN_PROGRESS"}))
    other = "/jobs/v1/orgs/WXYZ9876/jobs/" + answer["request_id"]
    assert call(sim, "GET", other).status_code == 404  # another org's key path
    assert call(sim, "GET", other, token="OTHERORGSECRET0000000000/OTHERORG").status_code == 404  # not that org's job
    # The ordinary fault rules reach the job routes (cbc_sdk's await_completion gives up after 3 server errors).
    sim.add_fault(path="/jobs/v1/", method="GET", status=503, count=2)
    assert [call(sim, "GET", "{0}/{1}".format(JOBS, answer["request_id"])).status_code for _attempt in range(3)] == [503, 503, 200]


def test_alert_and_job_rbac(sim):
    alert = sim.alerts()[0]
    assert call(sim, "POST", ALERTS + "/_search", token=ALERT_READ, json={"rows": 1}).status_code == 200
    assert call(sim, "GET", "{0}/{1}".format(ALERTS, alert["id"]), token=ALERT_READ).status_code == 200
    denied = call(sim, "POST", ALERTS + "/workflow", token=ALERT_READ, json={"criteria": {"id": [alert["id"]]}, "status": "CLOSED"})
    assert denied.status_code == 403 and "org.alerts.close:EXECUTE" in denied.json()["message"]
    assert call(sim, "GET", JOBS, token=ALERT_READ).status_code == 200
    assert call(sim, "GET", JOBS, token=DEVICE_READ).status_code == 403
    assert call(sim, "POST", ALERTS + "/_search", token=DEVICE_READ, json={}).status_code == 403
    assert sim.jobs() == [] and sim.alerts()[0] == alert


# --- control API ---------------------------------------------------------------------------------------------


def test_control_add_and_clear_alerts(sim):
    device_id = sim.device_ids()[2]
    added = sim.add_alerts([
        {"id": "11111111-2222-4333-8444-555555555555", "type": "WATCHLIST", "severity": 9, "device_id": device_id},
        {"type": "DEVICE_CONTROL", "workflow": {"status": "CLOSED", "closure_reason": "OTHER"},
         "backend_timestamp": "2024-05-01T10:00:00.000Z"},
    ], count=2)
    assert len(added) == 4 and added[0]["id"] == "11111111-2222-4333-8444-555555555555" and added[0]["severity"] == 9
    assert added[0]["device_name"] == sim.device(device_id)["name"]
    assert added[1]["workflow"]["status"] == "CLOSED" and added[1]["workflow"]["changed_by_type"] == "SYSTEM"
    assert added[1]["backend_timestamp"] == "2024-05-01T10:00:00.000Z" and added[1]["type"] == "DEVICE_CONTROL"
    now = datetime.now(timezone.utc)
    assert abs((parse_time(added[2]["backend_timestamp"]) - now).total_seconds()) < 60
    # Added alerts are found by a poll for new alerts at once.
    newest = search_alerts(sim, {"time_range": {"range": "-1h"}, "rows": 100})["results"]
    assert {a["id"] for a in newest} >= {added[0]["id"], added[2]["id"], added[3]["id"]}
    with pytest.raises(requests.HTTPError):
        sim.add_alerts([{"id": added[0]["id"]}])
    assert len(sim.alerts()) == SEEDED_ALERTS + 4
    other = sim.add_alerts(count=1, org_key="WXYZ9876")
    assert other[0]["org_key"] == "WXYZ9876" and len(sim.alerts("WXYZ9876")) == 1
    assert sim.clear_alerts() == SEEDED_ALERTS + 4 and search_alerts(sim, {})["num_found"] == 0


# --- the SDK against the simulator ---------------------------------------------------------------------------


def test_sdk_alert_close_and_reputation_override_flow(sim):
    cbc_sdk = pytest.importorskip("cbc_sdk")
    platform = pytest.importorskip("cbc_sdk.platform")
    errors = pytest.importorskip("cbc_sdk.errors")
    api = cbc_sdk.CBCloudAPI(url=sim.url, token=FULL, org_key=ORG, ssl_verify=True, ssl_cert_file=sim.ca_file)
    query = api.select(platform.Alert).add_criteria("type", ["WATCHLIST"]).set_rows(7)
    watchlist = list(query)
    assert len(watchlist) == len(query) == sum(1 for a in sim.alerts() if a["type"] == "WATCHLIST")
    job = watchlist[0].close("RESOLVED", "TRUE_POSITIVE", "closed by the SDK")
    assert job.await_completion().result().status == "COMPLETED"
    watchlist[0].refresh()
    assert watchlist[0].workflow["status"] == "CLOSED" and watchlist[0].determination["value"] == "TRUE_POSITIVE"

    # The SDK's reputation override UAT, step by step.
    reputation = platform.ReputationOverride
    reputation.create(api, SHA256)
    found = api.select(reputation).where("foo*").set_override_list("BLACK_LIST").set_override_type("SHA256") \
        .sort_by("create_time", "desc").first()
    assert found.sha256_hash == HASH and found.filename == "foo.exe"
    assert api.select(reputation, found.id).id == found.id
    found.delete()
    assert len(api.select(reputation).where("foo").set_override_list("BLACK_LIST").set_override_type("SHA256")) == 0
    with pytest.raises(errors.ObjectNotFoundError):
        found.delete()
    for number in range(130):  # more than one default page: the SDK iterates with start = rows read so far
        reputation.create(api, {"override_list": "WHITE_LIST", "override_type": "SHA256", "sha256_hash": sha(number)})
    tool = reputation.create(api, IT_TOOL)
    cert = reputation.create(api, CERT)
    every = list(api.select(reputation))
    assert len(every) == 132 and len({item.id for item in every}) == 132
    reputation.bulk_delete(api, [tool.id, cert.id])
    with pytest.raises(errors.ObjectNotFoundError):
        api.select(reputation, tool.id)
