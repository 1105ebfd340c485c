# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Conformance of the simulator's answers with the shape of recorded real CBC responses (conformance_facts.py).

One simulator is started over HTTPS for the module; every response kind is fetched through the real server
(routing, auth and error encoding included) and compared with the facts: every field present with the
recorded JSON type, and no key the real response does not have.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest
import requests

from cbcsim.testing import Simulator
from conformance_facts import FACTS, RULE_CONFIG_PARAMETERS

ORG = "ABCD1234"
FULL_TOKEN = "FULLSECRETKEY00000000000/FULLACCESS"
DEVICES = "/appservices/v6/orgs/" + ORG + "/devices"
POLICIES = "/policyservice/v1/orgs/" + ORG + "/policies"
RULE_CONFIG_CATEGORIES = ("core_prevention", "data_collection", "host_based_firewall", "bypass")
AUTH_EVENTS = "91c919da-fb90-4e63-9eac-506255b0a0d0"
PRIV_ESC = "88b19232-7ebb-48ef-a198-2a75a282de5d"
ALERTS = "/api/alerts/v7/orgs/" + ORG + "/alerts"
JOBS = "/jobs/v1/orgs/" + ORG + "/jobs"
OVERRIDES = "/appservices/v6/orgs/" + ORG + "/reputations/overrides"
ALERT_COUNT = 40
SHA256_OVERRIDE = {"description": "An override for a sha256 hash", "override_list": "BLACK_LIST", "override_type": "SHA256",
                   "sha256_hash": "af62e6b3d475879c4234fe7bd8ba67ff6544ce6510131a069aaac75aa92aee7a", "filename": "foo.exe"}
IT_TOOL_OVERRIDE = {"description": "Approved IT Tools", "override_list": "WHITE_LIST", "override_type": "IT_TOOL",
                    "path": "C://tools//*.exe", "include_child_processes": True}
CERT_OVERRIDE = {"description": "Approved Certificate", "override_list": "WHITE_LIST", "override_type": "CERT",
                 "signed_by": "VMware Inc.", "certificate_authority": "VMware"}


# --- shape checker ---------------------------------------------------------------------------------------


def json_type(value):
    """The JSON type name of a decoded value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _type_matches(name, value):
    actual = json_type(value)
    return actual == name or (name == "number" and actual == "integer")


def _describe(spec):
    if isinstance(spec, tuple):
        return " or ".join(_describe(alternative) for alternative in spec)
    if isinstance(spec, list):
        return "array"
    if isinstance(spec, dict):
        return "object"
    return spec


def shape_problems(spec, value, path="$"):
    """Return a list of ``path: problem`` strings where ``value`` does not follow ``spec`` (notation of the facts)."""
    if isinstance(spec, tuple):
        same_kind = [alt for alt in spec if _describe(alt) == json_type(value) or (
            not isinstance(alt, (dict, list, tuple)) and _type_matches(alt, value))]
        for alternative in same_kind:
            problems = shape_problems(alternative, value, path)
            if not problems:
                return []
        if same_kind:
            return shape_problems(same_kind[0], value, path)
        return ["{0}: {1}, expected {2}".format(path, json_type(value), _describe(spec))]
    if isinstance(spec, list):
        if not isinstance(value, list):
            return ["{0}: {1}, expected array".format(path, json_type(value))]
        problems = []
        for index, item in enumerate(value):
            problems.extend(shape_problems(spec[0], item, "{0}[{1}]".format(path, index)))
        return problems
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return ["{0}: {1}, expected object".format(path, json_type(value))]
        problems = []
        known = set()
        for key, sub_spec in spec.items():
            name = key.rstrip("?")
            known.add(name)
            if name in value:
                problems.extend(shape_problems(sub_spec, value[name], "{0}.{1}".format(path, name)))
            elif not key.endswith("?"):
                problems.append("{0}.{1}: missing".format(path, name))
        problems.extend("{0}.{1}: not in the real response".format(path, name) for name in sorted(set(value) - known))
        return problems
    if not _type_matches(spec, value):
        return ["{0}: {1}, expected {2}".format(path, json_type(value), spec)]
    return []


def rule_config_parameter_problems(configs, path):
    """Check ``parameters`` of rule configurations whose parameter types the facts record."""
    problems = []
    for index, config in enumerate(configs):
        spec = RULE_CONFIG_PARAMETERS.get(config.get("id")) or RULE_CONFIG_PARAMETERS.get(config.get("category"))
        if spec is not None:
            problems.extend(shape_problems(spec, config.get("parameters"), "{0}[{1}].parameters".format(path, index)))
    return problems


def assert_conforms(kind, body):
    problems = shape_problems(FACTS[kind], body)
    assert not problems, "{0} differs from the recorded shape:\n  {1}".format(kind, "\n  ".join(problems[:40]))


# --- simulator -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    simulator = Simulator.start(tmp_path_factory.mktemp("cbcsim"), devices=60, seed=1, extra_args=["--alerts", ALERT_COUNT])
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture(scope="module")
def api(sim):
    session = requests.Session()
    session.trust_env = False
    session.verify = sim.ca_file
    session.headers["X-Auth-Token"] = FULL_TOKEN

    def call(method, path, **kwargs):
        return session.request(method, sim.url + path, timeout=30, **kwargs)

    yield call
    session.close()


def ok_json(response):
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def all_devices(api):
    return ok_json(api("POST", DEVICES + "/_search", json={"rows": 100}))["results"]


# --- device object and pages -----------------------------------------------------------------------------


def test_device_objects(api, all_devices):
    # Every seeded device (Linux, Windows, Mac; registered and deregistered) through GET .../devices/{id}.
    assert len(all_devices) == 60
    for device in all_devices:
        assert_conforms("device", ok_json(api("GET", "{0}/{1}".format(DEVICES, device["id"]))))


def test_device_search_page(api, all_devices):
    page = ok_json(api("POST", DEVICES + "/_search", json={"rows": 100}))
    assert_conforms("device_search_page", page)
    # The page exercises the item specs of the nested arrays.
    assert any(d["asset_group"] for d in page["results"]) and any(d["device_meta_data_item_list"] for d in page["results"])
    assert {d["os"] for d in page["results"]} == {"LINUX", "WINDOWS", "MAC"}
    assert_conforms("device_search_page", ok_json(api("POST", DEVICES + "/_search", json={"rows": 5, "start": 11})))
    assert_conforms("device_search_page", ok_json(api("POST", DEVICES + "/_search", json={"criteria": {"os": ["NONE"]}})))


def test_device_scroll_pages(api):
    body = {"rows": 25}
    pages = []
    while len(pages) < 5:
        page = ok_json(api("POST", DEVICES + "/_scroll", json=body))
        assert_conforms("device_scroll_page", page)
        pages.append(page)
        if not page["search_after"]:
            break
        body = {"rows": 25, "search_after": page["search_after"]}
    assert [len(page["results"]) for page in pages] == [25, 25, 10] and pages[-1]["search_after"] == ""
    assert_conforms("device_scroll_page", ok_json(api("POST", DEVICES + "/_scroll", json={"criteria": {"os": ["NONE"]}})))


# --- policies --------------------------------------------------------------------------------------------


def test_policy_summary(api):
    summary = ok_json(api("GET", POLICIES + "/summary"))
    assert_conforms("policy_summary", summary)
    assert len(summary["policies"]) >= 3


def test_policies(api):
    seeded = [ok_json(api("GET", "{0}/{1}".format(POLICIES, item["id"])))
              for item in ok_json(api("GET", POLICIES + "/summary"))["policies"]]
    for policy in seeded:
        assert_conforms("policy", policy)
        problems = rule_config_parameter_problems(policy["rule_configs"], "$.rule_configs")
        assert not problems, problems
    # The seeded policies exercise the item specs of the nested arrays.
    for key in ("rules", "directory_action_rules", "sensor_settings", "rule_configs"):
        assert any(policy[key] for policy in seeded), key
    assert any(policy["av_settings"]["on_demand_scan"]["schedule"].get("days") for policy in seeded)


def test_policy_create_and_update_answers(sim, api):
    # The recorded POST answer (mock_policies.py NEW_POLICY_RETURN_1) has the shape of a GET.
    try:
        created = ok_json(api("POST", POLICIES, json={"name": "Conformance", "priority_level": "LOW"}))
        assert_conforms("policy", created)
        updated = ok_json(api("PUT", "{0}/{1}".format(POLICIES, created["id"]), json=dict(created, description="changed")))
        assert_conforms("policy", updated)
    finally:
        sim.reset()


def test_rule_configs_get(api):
    policy_id = ok_json(api("GET", POLICIES + "/summary"))["policies"][0]["id"]
    seen = 0
    for category in RULE_CONFIG_CATEGORIES:
        answer = ok_json(api("GET", "{0}/{1}/rule_configs/{2}".format(POLICIES, policy_id, category)))
        assert_conforms("rule_config_get", answer)
        assert all(config["category"] == category for config in answer["results"])
        problems = rule_config_parameter_problems(answer["results"], "$.results")
        assert not problems, problems
        seen += len(answer["results"])
    assert seen


def test_rule_configs_put(sim, api):
    policy_id = ok_json(api("GET", POLICIES + "/summary"))["policies"][1]["id"]
    try:
        answer = ok_json(api("PUT", "{0}/{1}/rule_configs/data_collection".format(POLICIES, policy_id),
                             json=[{"id": AUTH_EVENTS, "parameters": {"enable_auth_events": False}},
                                   {"id": "00000000-0000-0000-0000-000000000000", "parameters": {}},
                                   {"id": AUTH_EVENTS, "parameters": {"enable_auth_events": "no"}}]))
        assert_conforms("rule_config_put", answer)
        assert len(answer["successful"]) == 1 and len(answer["failed"]) == 2
        assert not rule_config_parameter_problems(answer["successful"], "$.successful")
        single = ok_json(api("PUT", "{0}/{1}/rule_configs/core_prevention".format(POLICIES, policy_id),
                             json={"id": PRIV_ESC, "parameters": {"WindowsAssignmentMode": "REPORT"}}))
        assert_conforms("rule_config_put", single)
        assert not rule_config_parameter_problems(single["successful"], "$.successful")
    finally:
        sim.reset()


# --- reputation overrides --------------------------------------------------------------------------------


def test_reputation_override_answers(sim, api):
    # The three kinds the SDK's UAT creates; create, get, search and bulk delete answers.
    try:
        created = []
        for body in (SHA256_OVERRIDE, IT_TOOL_OVERRIDE, CERT_OVERRIDE):
            response = api("POST", OVERRIDES, json=body)
            assert response.status_code in (200, 201), response.text
            assert_conforms("reputation_override", response.json())
            created.append(response.json()["id"])
            assert_conforms("reputation_override", ok_json(api("GET", "{0}/{1}".format(OVERRIDES, created[-1]))))
        duplicate = api("POST", OVERRIDES, json=SHA256_OVERRIDE)
        assert duplicate.status_code == 409
        assert_conforms("error", duplicate.json())
        page = ok_json(api("POST", OVERRIDES + "/_search", json={}))
        assert_conforms("reputation_override_search_page", page)
        assert page["num_found"] == 3 and {item["override_type"] for item in page["results"]} == {"SHA256", "IT_TOOL", "CERT"}
        assert_conforms("reputation_override_search_page", ok_json(api("POST", OVERRIDES + "/_search", json={
            "criteria": {"override_list": "BLACK_LIST", "override_type": "SHA256"}, "query": "foo",
            "sort_field": "create_time", "sort_order": "asc"})))
        deleted = ok_json(api("POST", OVERRIDES + "/_delete", json=created[1:] + ["0" * 32]))
        assert_conforms("reputation_override_bulk_delete", deleted)
        assert deleted["results"] == created[1:] and len(deleted["errors"]) == 1
    finally:
        sim.reset()


# --- alerts and jobs -------------------------------------------------------------------------------------


def test_alert_objects_and_search_pages(api):
    page = ok_json(api("POST", ALERTS + "/_search", json={"rows": 100}))
    assert_conforms("alert_search_page", page)
    assert page["num_found"] == page["num_available"] == ALERT_COUNT
    kinds = {"WATCHLIST": "alert_v7_watchlist", "CB_ANALYTICS": "alert_v7_cb_analytics"}
    assert {alert["type"] for alert in page["results"]} == set(kinds)
    for alert in page["results"]:
        # The exact key set of the recording of its type, through GET as well.
        assert_conforms(kinds[alert["type"]], alert)
        assert_conforms(kinds[alert["type"]], ok_json(api("GET", "{0}/{1}".format(ALERTS, alert["id"]))))
    assert_conforms("alert_search_page", ok_json(api("POST", ALERTS + "/_search", json={"rows": 5, "start": 11})))
    assert_conforms("alert_search_page", ok_json(api("POST", ALERTS + "/_search", json={
        "criteria": {"minimum_severity": 3, "workflow_status": ["OPEN"]}, "time_range": {"range": "-3w"},
        "sort": [{"field": "backend_timestamp", "order": "DESC"}]})))
    assert_conforms("alert_search_page", ok_json(api("POST", ALERTS + "/_search", json={"criteria": {"type": ["NONE"]}})))


def test_workflow_answer_job_and_changed_alert(sim, api):
    try:
        sim.job_settings(job_delay=60)
        alert = ok_json(api("POST", ALERTS + "/_search", json={"rows": 1}))["results"][0]
        answer = ok_json(api("POST", ALERTS + "/workflow", json={
            "criteria": {"id": [alert["id"]]}, "determination": "TRUE_POSITIVE", "closure_reason": "OTHER",
            "status": "CLOSED", "note": "Note about the determination"}))
        assert_conforms("alert_workflow_answer", answer)
        pending = ok_json(api("GET", "{0}/{1}".format(JOBS, answer["request_id"])))
        assert_conforms("job", pending)
        assert pending["status"] == "CREATED"
        sim.complete_jobs()
        done = ok_json(api("GET", "{0}/{1}".format(JOBS, answer["request_id"])))
        assert_conforms("job", done)
        assert done["status"] == "COMPLETED" and done["type"] == "user_workflow_update"
        assert_conforms("job_progress", ok_json(api("GET", "{0}/{1}/progress".format(JOBS, answer["request_id"]))))
        changed = ok_json(api("GET", "{0}/{1}".format(ALERTS, alert["id"])))
        assert_conforms("alert_v7", changed)
        assert changed["workflow"]["status"] == "CLOSED" and isinstance(changed["user_update_timestamp"], str)
        # A determination-only update and a failed job.
        sim.job_settings(job_delay=0, fail_next=1)
        failed = ok_json(api("POST", ALERTS + "/workflow", json={"criteria": {"id": [alert["id"]]}, "determination": "NONE"}))
        failed_job = ok_json(api("GET", "{0}/{1}".format(JOBS, failed["request_id"])))
        assert_conforms("job", failed_job)
        assert failed_job["status"] == "FAILED"
        assert_conforms("job_list", ok_json(api("GET", JOBS)))
    finally:
        sim.reset()


# --- error bodies ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("method, path, body, status", [
    ("GET", DEVICES + "/1", None, 404),
    ("GET", DEVICES + "/not-a-number", None, 404),
    ("POST", DEVICES + "/_search", {"rows": "many"}, 400),
    ("POST", DEVICES + "/_search", {"query": "os:"}, 400),
    ("POST", DEVICES + "/_scroll", {"search_after": "not-a-cursor"}, 400),
    ("GET", POLICIES + "/999999", None, 404),
    ("PUT", POLICIES + "/999999", {"name": "x", "priority_level": "LOW"}, 404),
    ("POST", POLICIES, {"name": ""}, 400),
    ("GET", POLICIES + "/6521/rule_configs/no_such_category", None, 404),
    ("PUT", POLICIES + "/6521/rule_configs/data_collection", [], 400),
    ("PUT", POLICIES + "/999999/rule_configs/data_collection", [{"id": AUTH_EVENTS, "parameters": {}}], 404),
    ("POST", OVERRIDES, {"override_list": "BLACK_LIST", "override_type": "CERT", "signed_by": "x"}, 400),
    ("POST", OVERRIDES, dict(SHA256_OVERRIDE, sha256_hash="abc"), 400),
    ("GET", OVERRIDES + "/" + "0" * 32, None, 404),
    ("DELETE", OVERRIDES + "/" + "0" * 32, None, 404),
    ("POST", OVERRIDES + "/_search", {"criteria": {"override_list": ["WHITE_LIST"]}}, 400),
    ("POST", OVERRIDES + "/_delete", {"ids": []}, 400),
    ("POST", ALERTS + "/_search", {"criteria": {"minimum_severity": [3]}}, 400),
    ("POST", ALERTS + "/_search", {"start": 10001}, 500),
    ("GET", ALERTS + "/no-such-alert", None, 404),
    ("POST", ALERTS + "/workflow", {"criteria": {"id": ["x"]}, "status": "DISMISSED"}, 400),
    ("GET", JOBS + "/1", None, 404),
])
def test_error_bodies(api, method, path, body, status):
    response = api(method, path, json=body)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert_conforms("error", response.json())


def test_query_syntax_error_carries_the_reason_the_sdk_reads(api):
    body = api("POST", DEVICES + "/_search", json={"query": "(os:LINUX"}).json()
    assert_conforms("error", body)
    assert body["reason"] == "query_malformed_syntax"


# --- the checker itself ----------------------------------------------------------------------------------


def test_forwarder_configs_and_list(api):
    base = "/data_forwarder/v2/orgs/" + ORG + "/configs"
    s3 = {"name": "conformance-s3", "type": "alert", "s3_bucket_name": "b", "s3_prefix": "p",
          "version_constraint": "1.*.*", "filters": [{"attribute": "alert.severity", "equals": ["7"]}]}
    azure = {"name": "conformance-azure", "type": "watchlist.hit", "destination": "azure_blob_storage",
             "azure_storage_account": "acct", "azure_container_name": "cont", "azure_tenant_id": "t",
             "azure_client_id": "c"}
    created = []
    for body in (s3, azure):
        response = api("POST", base, json=body)
        assert response.status_code in (200, 201), response.text
        assert_conforms("forwarder_config", response.json())
        created.append(response.json()["id"])
    updated = api("PUT", base + "/" + created[0], json=dict(s3, enabled=False))
    assert_conforms("forwarder_config", ok_json(updated))
    assert_conforms("forwarder_list", ok_json(api("GET", base)))
    for config_id in created:
        assert api("DELETE", base + "/" + config_id).status_code in (200, 204)


def test_checker_reports_drift(all_devices):
    device = copy.deepcopy(all_devices[0])
    assert shape_problems(FACTS["device"], device) == []
    drifted = copy.deepcopy(device)
    del drifted["policy_name"]
    drifted["policy_id"] = str(drifted["policy_id"])
    drifted["quarantined"] = None
    drifted["sensor_states"] = "ACTIVE"
    drifted["asset_group"] = [{"id": "x", "name": "y"}]
    drifted["made_up_field"] = 1
    assert sorted(shape_problems(FACTS["device"], drifted)) == [
        "$.asset_group[0].membership_type: missing",
        "$.made_up_field: not in the real response",
        "$.policy_id: string, expected integer",
        "$.policy_name: missing",
        "$.quarantined: null, expected boolean",
        "$.sensor_states: string, expected array",
    ]
    page = {"results": [device], "num_found": 1, "approximate_unaggregated": 1}
    assert shape_problems(FACTS["device_search_page"], page) == ["$.approximate_unaggregated: not in the real response"]
    assert shape_problems(FACTS["device_scroll_page"], {"results": [], "num_found": 0, "org_key": ORG, "search_after": None}) == [
        "$.search_after: null, expected string"]
    assert shape_problems(FACTS["error"], {"error_code": "X", "message": "m", "success": False}) == [
        "$.success: not in the real response"]
    # Optional fields may be absent, and are type-checked when present.
    assert shape_problems(FACTS["device"], dict(device, nsx_enabled="yes")) == ["$.nsx_enabled: string, expected boolean"]
    assert shape_problems({"a?": (["string"], "null")}, {"a": [1]}) == ["$.a[0]: integer, expected string"]
