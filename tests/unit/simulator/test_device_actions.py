"""Unit tests of device actions (validation, RBAC, state changes), the facet route and the new fault/control hooks."""

import json

import pytest

from cbcsim import control, device_actions, devices
from cbcsim.faults import FaultInjector, parse_fault_spec, rule_from_dict
from cbcsim.policies import list_policy_summaries
from cbcsim.protocol import ApiError, RequestContext
from cbcsim.server import build_api_routes
from cbcsim.state import SimulatorConfig, SimulatorState

ORG = "ABCD1234"


def make_state(count=50):
    return SimulatorState(SimulatorConfig("/nonexistent", devices=count, seed=1))


def request(state, handler, body, key="FULLACCESS", org_key=ORG, raw=None, query=None, **params):
    """Run a handler as the API key ``key``; return ``(response, ctx)``."""
    identity = {identity.name: identity for identity in state.identities.all()}[key]
    raw_body = raw if raw is not None else json.dumps(body).encode()
    ctx = RequestContext(state, "POST", "/", query or {}, {}, raw_body, params={"org_key": org_key, **params})
    ctx.identity = identity
    return handler(ctx), ctx


def act(state, body, key="FULLACCESS"):
    """Run a device action; return the log fields it added."""
    response, ctx = request(state, device_actions.run_device_action, body, key=key)
    assert response.status == 204 and response.body is None and response.encode() == b""
    return ctx.log_fields


def act_error(state, body, key="FULLACCESS"):
    with pytest.raises(ApiError) as info:
        request(state, device_actions.run_device_action, body, key=key)
    return info.value


def org_devices(state, org_key=ORG):
    return state.org(org_key).devices


def ids_where(state, predicate):
    return [device_id for device_id, device in org_devices(state).items() if predicate(device)]


def facet(state, body):
    return request(state, devices.facet_devices, body)[0].body["results"]


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    {},
    {"action_type": "REBOOT", "device_id": [1]},
    {"action_type": "quarantine", "device_id": [1], "options": {"toggle": "ON"}},
    {"action_type": ["QUARANTINE"], "device_id": [1]},
    {"action_type": "QUARANTINE", "options": {"toggle": "ON"}},
    {"action_type": "QUARANTINE", "device_id": [1], "search": {}, "options": {"toggle": "ON"}},
    {"action_type": "QUARANTINE", "device_id": [], "options": {"toggle": "ON"}},
    {"action_type": "QUARANTINE", "device_id": ["4000001"], "options": {"toggle": "ON"}},
    {"action_type": "QUARANTINE", "device_id": [True], "options": {"toggle": "ON"}},
    {"action_type": "QUARANTINE", "device_id": 4000001, "options": {"toggle": "ON"}},
    {"action_type": "QUARANTINE", "device_id": [1]},
    {"action_type": "QUARANTINE", "device_id": [1], "options": {"toggle": "on"}},
    {"action_type": "QUARANTINE", "device_id": [1], "options": {"toggle": True}},
    {"action_type": "QUARANTINE", "device_id": [1], "options": "ON"},
    {"action_type": "BYPASS", "device_id": [1], "options": {}},
    {"action_type": "BACKGROUND_SCAN", "device_id": [1], "options": {"toggle": "MAYBE"}},
    {"action_type": "UPDATE_POLICY", "device_id": [1]},
    {"action_type": "UPDATE_POLICY", "device_id": [1], "options": {"policy_id": "6522"}},
    {"action_type": "UPDATE_POLICY", "device_id": [1], "options": {"policy_id": 999}},
    {"action_type": "UPDATE_POLICY", "device_id": [1], "options": {"policy_id": 7522}},
    {"action_type": "UPDATE_SENSOR_VERSION", "device_id": [1]},
    {"action_type": "UPDATE_SENSOR_VERSION", "device_id": [1], "options": {"sensor_version": "4.0.0.1292"}},
    {"action_type": "UPDATE_SENSOR_VERSION", "device_id": [1], "options": {"sensor_version": {}}},
    {"action_type": "UPDATE_SENSOR_VERSION", "device_id": [1], "options": {"sensor_version": {"WINDOWS": ""}}},
    {"action_type": "UPDATE_SENSOR_VERSION", "device_id": [1], "options": {"sensor_version": {"WINDOWS": 4}}},
    {"action_type": "UNINSTALL_SENSOR", "search": "os:LINUX"},
    {"action_type": "UNINSTALL_SENSOR", "search": {"rows": 10}},
    {"action_type": "UNINSTALL_SENSOR", "search": {"criteria": {"os": ["LINUX"]}, "start": 1}},
    {"action_type": "UNINSTALL_SENSOR", "search": {"criteria": {"os": "LINUX"}}},
    {"action_type": "DELETE_SENSOR", "device_id": None, "search": None},
])
def test_invalid_bodies_are_400(body):
    state = make_state(count=5)
    before = json.dumps(state.org(ORG).devices, sort_keys=True)
    error = act_error(state, body)
    assert error.status == 400 and error.error_code == "INVALID_REQUEST" and error.message
    assert json.dumps(state.org(ORG).devices, sort_keys=True) == before


def test_bad_query_in_search_and_non_object_bodies():
    state = make_state(count=5)
    error = act_error(state, {"action_type": "UNINSTALL_SENSOR", "search": {"query": "os:(LINUX"}})
    assert error.status == 400 and error.extra["reason"] == "query_malformed_syntax"
    for raw in (b"", b"[1, 2]", b"{not json"):
        with pytest.raises(ApiError) as info:
            request(state, device_actions.run_device_action, None, raw=raw)
        assert info.value.status == 400


def test_validation_messages_name_the_problem():
    state = make_state(count=5)
    device_id = next(iter(org_devices(state)))
    assert "QUARANTINE, BYPASS" in act_error(state, {"action_type": "REBOOT", "device_id": [device_id]}).message
    assert "exactly one of device_id or search" in act_error(state, {"action_type": "DELETE_SENSOR"}).message
    assert "policy 999 does not exist" in act_error(state, {"action_type": "UPDATE_POLICY", "device_id": [device_id],
                                                            "options": {"policy_id": 999}}).message
    assert "rows" in act_error(state, {"action_type": "DELETE_SENSOR", "search": {"rows": 1}}).message


# --- RBAC -----------------------------------------------------------------------------------------


def test_every_action_permission_and_full_access():
    state = make_state(count=5)
    full = {identity.name: identity for identity in state.identities.all()}["FULLACCESS"]
    expected = {"QUARANTINE": "device.quarantine:EXECUTE", "BYPASS": "device.bypass:EXECUTE", "BACKGROUND_SCAN": "device.bg-scan:EXECUTE",
                "UPDATE_POLICY": "device.policy:UPDATE", "UPDATE_SENSOR_VERSION": "org.kits:EXECUTE",
                "UNINSTALL_SENSOR": "device.uninstall:EXECUTE", "DELETE_SENSOR": "device.deregistered:DELETE"}
    assert {name: action.permission for name, action in device_actions.ACTION_TYPES.items()} == expected
    assert all(full.has_permission(permission) for permission in expected.values())


@pytest.mark.parametrize("body, permission", [
    ({"action_type": "BYPASS", "device_id": [1], "options": {"toggle": "ON"}}, "device.bypass:EXECUTE"),
    ({"action_type": "BACKGROUND_SCAN", "device_id": [1], "options": {"toggle": "ON"}}, "device.bg-scan:EXECUTE"),
    ({"action_type": "UPDATE_POLICY", "device_id": [1], "options": {"policy_id": 6522}}, "device.policy:UPDATE"),
    ({"action_type": "UPDATE_POLICY", "device_id": [1], "options": {"policy_id": 999}}, "device.policy:UPDATE"),
    ({"action_type": "UPDATE_SENSOR_VERSION", "device_id": [1], "options": {"sensor_version": {"RHEL": "2.15.2.3036"}}}, "org.kits:EXECUTE"),
    ({"action_type": "UNINSTALL_SENSOR", "device_id": [1]}, "device.uninstall:EXECUTE"),
    ({"action_type": "DELETE_SENSOR", "search": {}}, "device.deregistered:DELETE"),
])
def test_missing_action_permission_is_403_before_body_checks(body, permission):
    state = make_state(count=5)
    error = act_error(state, body, key="DEVICEREADQ")
    assert error.status == 403 and error.error_code == "FORBIDDEN"
    assert error.message == "Access denied: this operation requires " + permission


def test_quarantine_only_key_and_keys_without_it():
    state = make_state(count=5)
    device_id = ids_where(state, lambda d: d["status"] == "REGISTERED")[0]
    body = {"action_type": "QUARANTINE", "device_id": [device_id], "options": {"toggle": "ON"}}
    assert act(state, body, key="DEVICEREADQ")["device_count"] == 1
    for key in ("DEVICEREAD", "NOPERMS"):
        error = act_error(state, body, key=key)
        assert error.status == 403 and error.message.endswith("device.quarantine:EXECUTE")
    assert act_error(state, {"action_type": "REBOOT", "device_id": [1]}, key="NOPERMS").status == 400


# --- state changes --------------------------------------------------------------------------------


def test_quarantine_on_off_by_ids_and_log_fields():
    state = make_state()
    targets = ids_where(state, lambda d: d["status"] == "REGISTERED" and not d["quarantined"])[:3]
    fields = act(state, {"action_type": "QUARANTINE", "device_id": targets + targets[:1], "options": {"toggle": "ON"}})
    assert fields == {"device_count": 3, "unknown_ids": [], "skipped_ids": []}
    assert all(org_devices(state)[i]["quarantined"] is True for i in targets)
    act(state, {"action_type": "QUARANTINE", "device_id": targets[:1], "options": {"toggle": "OFF"}})
    assert [org_devices(state)[i]["quarantined"] for i in targets] == [False, True, True]


def test_search_selects_targets_and_skips_devices_without_sensor():
    state = make_state()
    linux_before = {i: d["quarantined"] for i, d in org_devices(state).items() if d["os"] == "LINUX"}
    fields = act(state, {"action_type": "QUARANTINE", "search": {"exclusions": {"os": ["LINUX"]}, "sort": [{"field": "name"}]},
                         "options": {"toggle": "ON"}})
    others = ids_where(state, lambda d: d["os"] != "LINUX")
    deregistered = [i for i in others if org_devices(state)[i]["status"] == "DEREGISTERED"]
    assert deregistered and fields["skipped_ids"] == deregistered
    assert fields["device_count"] == len(others) - len(deregistered) and fields["unknown_ids"] == []
    assert all(org_devices(state)[i]["quarantined"] for i in others if i not in deregistered)
    assert not any(org_devices(state)[i]["quarantined"] for i in deregistered)
    assert {i: org_devices(state)[i]["quarantined"] for i in linux_before} == linux_before
    fields = act(state, {"action_type": "QUARANTINE", "search": {"query": "NOT os:LINUX", "criteria": {"status": ["REGISTERED"]}},
                         "options": {"toggle": "OFF"}})
    assert fields["device_count"] == len(others) - len(deregistered) and fields["skipped_ids"] == []
    assert not any(org_devices(state)[i]["quarantined"] for i in others)


def test_bypass_toggles_status():
    state = make_state()
    registered = ids_where(state, lambda d: d["status"] == "REGISTERED")[:2]
    act(state, {"action_type": "BYPASS", "device_id": registered, "options": {"toggle": "ON"}})
    assert [org_devices(state)[i]["status"] for i in registered] == ["BYPASS", "BYPASS"]
    assert org_devices(state)[registered[0]]["passive_mode"] is False
    found = request(state, devices.search_devices, {"criteria": {"status": ["BYPASS"]}})[0].body
    assert sorted(d["id"] for d in found["results"]) == sorted(registered)
    act(state, {"action_type": "BYPASS", "device_id": registered[:1], "options": {"toggle": "OFF"}})
    assert [org_devices(state)[i]["status"] for i in registered] == ["REGISTERED", "BYPASS"]


def test_background_scan_changes_no_device_field():
    state = make_state()
    device_id = ids_where(state, lambda d: d["status"] == "REGISTERED")[0]
    before = dict(org_devices(state)[device_id])
    assert before["scan_status"] is None
    act(state, {"action_type": "BACKGROUND_SCAN", "device_id": [device_id], "options": {"toggle": "ON"}})
    act(state, {"action_type": "BACKGROUND_SCAN", "device_id": [device_id], "options": {"toggle": "OFF"}})
    assert org_devices(state)[device_id] == before
    assert state.org(ORG).background_scan_toggles == {device_id: ["ON", "OFF"]}


def test_update_policy_changes_device_and_summary_counts():
    state = make_state()
    monitored = [p for p in state.org(ORG).policies if p["name"] == "Monitored"][0]
    others = ids_where(state, lambda d: d["policy_id"] != monitored["id"] and d["status"] == "REGISTERED")[:4]
    deregistered = ids_where(state, lambda d: d["policy_id"] != monitored["id"] and d["status"] == "DEREGISTERED")[:1]

    def monitored_count():
        summary = request(state, list_policy_summaries, None)[0].body["policies"]
        return [p["num_devices"] for p in summary if p["id"] == monitored["id"]][0]

    before = monitored_count()
    targets = others + deregistered
    assert len(targets) == 5
    fields = act(state, {"action_type": "UPDATE_POLICY", "device_id": targets, "options": {"policy_id": monitored["id"]}})
    assert fields["device_count"] == len(targets)
    for device_id in targets:
        device = org_devices(state)[device_id]
        assert (device["policy_id"], device["policy_name"], device["current_sensor_policy_name"], device["policy_override"]) == \
            (monitored["id"], "Monitored", "Monitored", True)
    assert monitored_count() == before + len(targets)
    summary = request(state, list_policy_summaries, None)[0].body["policies"]
    assert sum(p["num_devices"] for p in summary) == 50


def test_update_sensor_version_only_matching_kit_until_completed():
    state = make_state()
    windows = ids_where(state, lambda d: d["sensor_kit_type"] == "WINDOWS" and d["status"] == "REGISTERED")
    old_versions = {i: org_devices(state)[i]["sensor_version"] for i in windows}
    fields = act(state, {"action_type": "UPDATE_SENSOR_VERSION", "search": {}, "options": {"sensor_version": {"windows": "4.0.0.1292"}}})
    assert fields["device_count"] == len(windows) > 0
    assert sorted(fields["skipped_ids"]) == sorted(set(org_devices(state)) - set(windows))
    for device_id, device in org_devices(state).items():
        assert device["sensor_pending_update"] is (device_id in windows)
    assert {i: org_devices(state)[i]["sensor_version"] for i in windows} == old_versions
    completed = control.complete_updates(RequestContext(state, "POST", "/", {}, {}, b"")).body["completed"]
    assert sorted(item["id"] for item in completed) == sorted(windows)
    assert all(item == {"id": item["id"], "org_key": ORG, "sensor_version": "4.0.0.1292"} for item in completed)
    for device_id in windows:
        device = org_devices(state)[device_id]
        assert device["sensor_version"] == "4.0.0.1292" and not device["sensor_pending_update"] and not device["sensor_out_of_date"]
    assert not control.complete_updates(RequestContext(state, "POST", "/", {}, {}, b"")).body["completed"]


def test_uninstall_sensor_and_unknown_ids():
    state = make_state()
    device_id = ids_where(state, lambda d: d["status"] == "REGISTERED")[0]
    other_org_id = next(iter(org_devices(state, "WXYZ9876")))
    fields = act(state, {"action_type": "UNINSTALL_SENSOR", "device_id": [123, device_id, other_org_id]})
    assert fields == {"device_count": 1, "unknown_ids": [123, other_org_id], "skipped_ids": []}
    device = org_devices(state)[device_id]
    assert device["status"] == "UNINSTALLED" and device["sensor_states"] == []
    assert org_devices(state, "WXYZ9876")[other_org_id]["status"] != "UNINSTALLED"
    fields = act(state, {"action_type": "QUARANTINE", "device_id": [device_id], "options": {"toggle": "ON"}})
    assert fields == {"device_count": 0, "unknown_ids": [], "skipped_ids": [device_id]}
    assert act(state, {"action_type": "QUARANTINE", "device_id": [1, 2], "options": {"toggle": "ON"}})["device_count"] == 0


def test_delete_sensor_only_removes_deregistered_devices():
    state = make_state()
    deregistered = ids_where(state, lambda d: d["status"] == "DEREGISTERED")
    registered = ids_where(state, lambda d: d["status"] == "REGISTERED")[:2]
    fields = act(state, {"action_type": "DELETE_SENSOR", "device_id": registered + deregistered[:1]})
    assert fields == {"device_count": 1, "unknown_ids": [], "skipped_ids": registered}
    assert deregistered[0] not in org_devices(state) and all(i in org_devices(state) for i in registered)
    with pytest.raises(ApiError) as info:
        request(state, devices.get_device, None, device_id=str(deregistered[0]))
    assert info.value.status == 404
    assert act(state, {"action_type": "DELETE_SENSOR", "search": {}})["device_count"] == len(deregistered) - 1
    assert len(org_devices(state)) == 50 - len(deregistered)
    assert request(state, devices.search_devices, {"criteria": {"status": ["DEREGISTERED"]}})[0].body["num_found"] == 0
    assert act(state, {"action_type": "DELETE_SENSOR", "device_id": deregistered[:1]})["unknown_ids"] == deregistered[:1]


def test_get_after_changes_and_reset_restores_state():
    state = make_state()
    device_id = ids_where(state, lambda d: d["status"] == "REGISTERED" and not d["quarantined"])[0]
    original = dict(org_devices(state)[device_id])
    act(state, {"action_type": "QUARANTINE", "device_id": [device_id], "options": {"toggle": "ON"}})
    act(state, {"action_type": "UPDATE_SENSOR_VERSION", "device_id": [device_id],
                "options": {"sensor_version": {original["sensor_kit_type"]: "9.9.9.9"}}})
    got = request(state, devices.get_device, None, device_id=str(device_id))[0].body
    assert got["quarantined"] is True and got["sensor_pending_update"] is True
    state.reset()
    assert org_devices(state)[device_id] == original and state.org(ORG).pending_sensor_updates == {}


# --- facet ----------------------------------------------------------------------------------------


def test_facet_counts_match_search():
    state = make_state()
    results = facet(state, {"terms": {"fields": ["os", "status", "policy_id", "ad_group_id", "cloud_provider_account_id"]}})
    assert [r["field"] for r in results] == ["os", "status", "policy_id", "ad_group_id", "cloud_provider_account_id"]
    by_field = {r["field"]: r["values"] for r in results}
    assert {"id": "LINUX", "name": "LINUX", "total": 25} == by_field["os"][0]
    for field in ("os", "status", "policy_id"):
        assert sum(v["total"] for v in by_field[field]) == 50
        totals = [v["total"] for v in by_field[field]]
        assert totals == sorted(totals, reverse=True)
        for value in by_field[field]:
            assert set(value) == {"id", "name", "total"} and isinstance(value["id"], str)
            found = request(state, devices.search_devices, {"criteria": {field: [value["id"]]}, "rows": 0})[0].body
            assert found["num_found"] == value["total"]
    assert by_field["ad_group_id"] == [{"id": "0", "name": "0", "total": 50}]
    assert by_field["cloud_provider_account_id"] == []


def test_facet_filters_rows_and_state_changes():
    state = make_state()
    linux = facet(state, {"criteria": {"os": ["LINUX"]}, "terms": {"fields": ["os", "status"], "rows": 1}})
    assert linux[0]["values"] == [{"id": "LINUX", "name": "LINUX", "total": 25}]
    assert len(linux[1]["values"]) == 1 and linux[1]["values"][0]["id"] == "REGISTERED"
    queried = facet(state, {"query": "os:MAC OR os:WINDOWS", "exclusions": {"os": ["MAC"]}, "terms": {"fields": ["os"]}})
    assert [v["id"] for v in queried[0]["values"]] == ["WINDOWS"]
    act(state, {"action_type": "BYPASS", "search": {"criteria": {"os": ["WINDOWS", "MAC"]}}, "options": {"toggle": "ON"}})
    statuses = {v["id"]: v["total"] for v in facet(state, {"exclusions": {"os": ["LINUX"]}, "terms": {"fields": ["status"]}})[0]["values"]}
    assert set(statuses) == {"BYPASS", "DEREGISTERED"} and sum(statuses.values()) == 25 and statuses["DEREGISTERED"] > 0


@pytest.mark.parametrize("body", [
    {}, {"terms": []}, {"terms": {}}, {"terms": {"fields": []}}, {"terms": {"fields": ["name"]}}, {"terms": {"fields": "os"}},
    {"terms": {"fields": ["os"], "rows": -1}}, {"terms": {"fields": ["os"], "rows": "5"}}, {"rows": 5, "terms": {"fields": ["os"]}},
    {"criteria": {"os": "LINUX"}, "terms": {"fields": ["os"]}},
])
def test_facet_rejects_bad_bodies(body):
    with pytest.raises(ApiError) as info:
        facet(make_state(count=3), body)
    assert info.value.status == 400 and info.value.error_code == "INVALID_REQUEST"


# --- routes, faults, control ----------------------------------------------------------------------


def test_routes():
    table = build_api_routes()
    route, params = table.resolve("POST", "/appservices/v6/orgs/ABCD1234/device_actions")
    assert (route.api, route.write, route.permission, params["org_key"]) == ("devices.actions", True, None, ORG)
    route = table.resolve("POST", "/appservices/v6/orgs/ABCD1234/devices/_facet")[0]
    assert (route.api, route.write, route.permission) == ("devices.facet", False, "device:READ")
    with pytest.raises(ApiError) as info:
        table.resolve("GET", "/appservices/v6/orgs/ABCD1234/device_actions")
    assert info.value.status == 405


def test_fault_after_lets_requests_pass_then_fires():
    injector = FaultInjector()
    rule = injector.add(parse_fault_spec("path=device_actions,status=500,after=2,count=1"))
    assert rule.describe()["after"] == 2
    fired = [injector.match("POST", "/appservices/v6/orgs/A/device_actions") for unused_index in range(4)]
    assert [r.status if r else None for r in fired] == [None, None, 500, None]
    assert injector.rules() == []
    injector.add(rule_from_dict({"path": "x", "status": 503, "after": 1}))
    injector.add(rule_from_dict({"path": "x", "status": 429}))
    assert [injector.match("GET", "/x").status for unused_index in range(3)] == [429, 503, 503]
    for bad in ({"path": "x", "status": 500, "after": -1}, {"path": "x", "status": 500, "after": "soon"}):
        with pytest.raises(ValueError):
            rule_from_dict(bad)


def test_control_delete_device_and_bulk_read():
    state = make_state(count=5)
    first, second = list(org_devices(state))[:2]
    ctx = RequestContext(state, "DELETE", "/", {}, {}, b"", params={"device_id": str(first)})
    assert control.delete_device(ctx).body == {"deleted": first, "org_key": ORG}
    assert first not in org_devices(state)
    with pytest.raises(ApiError) as info:
        control.delete_device(ctx)
    assert info.value.status == 404
    other = next(iter(org_devices(state, "WXYZ9876")))
    ctx = RequestContext(state, "GET", "/", {"ids": ["{0},{1}".format(first, second), str(other)]}, {}, b"")
    body = control.list_devices(ctx).body
    assert [d["id"] for d in body["devices"]] == [second, other] and body["missing"] == [first]
    with pytest.raises(ApiError) as info:
        control.list_devices(RequestContext(state, "GET", "/", {"ids": ["x"]}, {}, b""))
    assert info.value.status == 400
