"""Unit tests of device seeding, the search/scroll/get handlers and the policy summary."""

import json

import pytest

from cbcsim import devices
from cbcsim.policies import list_policy_summaries
from cbcsim.protocol import ApiError, RequestContext
from cbcsim.state import SimulatorConfig, SimulatorState

REQUIRED_FIELDS = ("id", "name", "os", "os_version", "status", "policy_id", "policy_name", "quarantined", "sensor_version",
                   "sensor_kit_type", "deployment_type", "target_priority", "last_contact_time", "registered_time",
                   "last_internal_ip_address", "mac_address", "organization_name", "av_status", "asset_group", "vuln_score")


def make_state(count=50, seed=1):
    return SimulatorState(SimulatorConfig("/nonexistent", devices=count, seed=seed))


def without_times(device):
    """Timestamps are offsets from the start time, so leave them out when comparing runs."""
    return {key: value for key, value in device.items() if not key.endswith("_time")}


def call(handler, state, body=None, org_key="ABCD1234", **params):
    raw = json.dumps(body).encode() if body is not None else b""
    ctx = RequestContext(state, "POST", "/", {}, {}, raw, params={"org_key": org_key, **params})
    return handler(ctx)


def test_seed_is_deterministic_and_split_by_os():
    first, second, other = make_state(seed=7), make_state(seed=7), make_state(seed=8)
    devs = list(first.org("ABCD1234").devices.values())
    assert [without_times(d) for d in devs] == [without_times(d) for d in second.org("ABCD1234").devices.values()]
    assert [d["id"] for d in devs] != list(other.org("ABCD1234").devices)
    assert len(devs) == 50
    assert [d["name"] for d in devs[:2]] == ["host-00001", "host-00002"]
    assert sum(1 for d in devs if d["os"] == "LINUX") == 25
    assert all((d["os"] == "LINUX") == (i % 2 == 0) for i, d in enumerate(devs))
    assert {d["os"] for d in devs[1::2]} <= {"WINDOWS", "MAC"}
    assert {d["sensor_kit_type"] for d in devs if d["os"] == "LINUX"} <= {"RHEL", "UBUNTU", "SUSE", "AMAZON_LINUX", "CENTOS"}
    assert len({d["id"] for d in devs}) == 50
    assert [d["id"] for d in devs] == sorted(d["id"] for d in devs)
    statuses = [d["status"] for d in devs]
    assert 0 < statuses.count("DEREGISTERED") < 10 and statuses.count("REGISTERED") == 50 - statuses.count("DEREGISTERED")
    assert 0 < sum(d["quarantined"] for d in devs) < 5
    for device in devs:
        for field in REQUIRED_FIELDS:
            assert field in device


def test_devices_use_seeded_policies_and_other_org_is_separate():
    state = make_state()
    policy_ids = {p["id"]: p["name"] for p in state.org("ABCD1234").policies}
    assert sorted(policy_ids.values()) == ["Advanced", "Monitored", "Standard"]
    for device in state.org("ABCD1234").devices.values():
        assert policy_ids[device["policy_id"]] == device["policy_name"]
    other = state.org("WXYZ9876").devices
    assert len(other) == 5
    assert not set(other) & set(state.org("ABCD1234").devices)
    summary = call(list_policy_summaries, state).body["policies"]
    assert sum(p["num_devices"] for p in summary) == 50
    assert set(summary[0]) == {"id", "name", "description", "priority_level", "is_system", "position", "num_devices"}


def test_search_handler_counts_and_pages():
    state = make_state(count=30)
    response = call(devices.search_devices, state, {"rows": 5, "start": 6})
    all_ids = list(state.org("ABCD1234").devices)
    assert response.status == 200
    assert response.body["num_found"] == 30
    assert [d["id"] for d in response.body["results"]] == all_ids[5:10]
    linux = call(devices.search_devices, state, {"criteria": {"os": ["LINUX"]}, "rows": 100}).body
    assert linux["num_found"] == 15 and len(linux["results"]) == 15
    with pytest.raises(ApiError) as info:
        call(devices.search_devices, state, {"rows": 10001})
    assert info.value.status == 400


def test_scroll_walks_everything_once():
    state = make_state(count=53)
    seen, cursor, calls = [], None, 0
    while True:
        body = {"rows": 10}
        if cursor:
            body["search_after"] = cursor
        result = call(devices.scroll_devices, state, body).body
        calls += 1
        assert result["num_found"] == 53 and result["org_key"] == "ABCD1234"
        seen.extend(d["id"] for d in result["results"])
        cursor = result["search_after"]
        if not cursor:
            break
    assert calls == 6
    assert seen == list(state.org("ABCD1234").devices)


def test_scroll_exact_multiple_ends_with_empty_cursor_and_filters_apply():
    state = make_state(count=20)
    result = call(devices.scroll_devices, state, {"rows": 20}).body
    assert len(result["results"]) == 20 and result["search_after"] == ""
    linux = call(devices.scroll_devices, state, {"rows": 4, "criteria": {"os": ["LINUX"]}}).body
    assert linux["num_found"] == 10 and all(d["os"] == "LINUX" for d in linux["results"]) and linux["search_after"]


@pytest.mark.parametrize("body", [{"rows": 10001}, {"rows": 0}, {"search_after": "not-a-cursor"}, {"search_after": 5},
                                  {"search_after": devices.encode_cursor("x")}])
def test_scroll_rejects_bad_input(body):
    with pytest.raises(ApiError) as info:
        call(devices.scroll_devices, make_state(count=3), body)
    assert info.value.status == 400


def test_cursor_round_trip():
    assert devices.decode_cursor(devices.encode_cursor(4000123)) == 4000123


def test_get_device():
    state = make_state(count=3)
    device_id = next(iter(state.org("ABCD1234").devices))
    assert call(devices.get_device, state, device_id=str(device_id)).body["id"] == device_id
    for missing in ("1", "abc"):
        with pytest.raises(ApiError) as info:
            call(devices.get_device, state, device_id=missing)
        assert info.value.status == 404
    with pytest.raises(ApiError):
        call(devices.get_device, state, org_key="WXYZ9876", device_id=str(device_id))


def test_reset_restores_seed():
    state = make_state(count=4)
    org = state.org("ABCD1234")
    first = next(iter(org.devices.values()))
    first["quarantined"] = "changed"
    state.reset()
    assert next(iter(state.org("ABCD1234").devices.values()))["quarantined"] in (True, False)
