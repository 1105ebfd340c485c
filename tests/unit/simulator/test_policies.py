"""Unit tests of the policy service handlers: CRUD, rules, rule_configs, validation and RBAC routing."""

import json

import pytest

from cbcsim import policies, policy_seed, policy_validation
from cbcsim.auth import authorize, identity_from_dict
from cbcsim.protocol import ApiError, RequestContext
from cbcsim.server import build_api_routes
from cbcsim.state import SimulatorConfig, SimulatorState

ORG = "ABCD1234"
PRIV_ESC = "88b19232-7ebb-48ef-a198-2a75a282de5d"


def make_state(devices=50):
    return SimulatorState(SimulatorConfig("/nonexistent", devices=devices, seed=1))


def call(handler, state, body=None, org_key=ORG, **params):
    raw = json.dumps(body).encode() if body is not None else b""
    ctx = RequestContext(state, "POST", "/", {}, {}, raw, params=dict(org_key=org_key, **params))
    return handler(ctx)


def error_of(handler, state, body=None, **params):
    with pytest.raises(ApiError) as error:
        call(handler, state, body, **params)
    return error.value


def test_seeded_policies_are_full_objects():
    state = make_state()
    seeded = state.org(ORG).policies
    assert [p["name"] for p in seeded] == ["Standard", "Advanced", "Monitored"]
    for policy in seeded:
        assert set(policy_seed.FULL_FIELDS) <= set(policy)
        assert policy["rules"] and policy["sensor_settings"] and policy["rule_configs"]
        assert all(isinstance(s["value"], str) for s in policy["sensor_settings"])
        policy_validation.validate_policy_body(policy, existing_rules=policy["rules"])
    assert seeded[0]["is_system"] and not seeded[1]["is_system"]


def test_create_assigns_id_position_and_defaults():
    state = make_state()
    body = {"name": "New", "priority_level": "LOW", "rules": [{"id": 77, "required": True, "action": "DENY",
            "application": {"type": "REPUTATION", "value": "PUP"}, "operation": "RUN"}],
            "rule_configs": [{"id": PRIV_ESC, "parameters": {"WindowsAssignmentMode": "REPORT"}}]}
    response = call(policies.create_policy, state, body)
    created = response.body
    assert response.status == 200 and created["id"] == 6524 and created["position"] == 4 and created["version"] == 1
    assert created["rules"][0]["id"] == 1 and created["sensor_settings"] and created["av_settings"]
    assert [c["parameters"] for c in created["rule_configs"] if c["id"] == PRIV_ESC] == [{"WindowsAssignmentMode": "REPORT"}]
    # Duplicate names are allowed (design choice); ids are not reused after a delete.
    second = call(policies.create_policy, state, {"name": "New", "priority_level": "LOW"}).body
    call(policies.delete_policy, state, policy_id=str(second["id"]))
    assert call(policies.create_policy, state, {"name": "Third", "priority_level": "LOW"}).body["id"] == second["id"] + 1
    assert error_of(policies.create_policy, state, {"name": "x", "priority_level": "LOW", "id": 5}).status == 400


def test_put_is_a_full_replace_that_bumps_version():
    state = make_state()
    current = call(policies.get_policy, state, policy_id="6522").body
    body = dict(current, priority_level="LOW", rules=current["rules"][:1] + [
        {"required": False, "action": "ALLOW", "application": {"type": "NAME_PATH", "value": "/x"}, "operation": "RUN"}])
    del body["av_settings"]
    body["rule_configs"] = []
    updated = call(policies.update_policy, state, body, policy_id="6522").body
    assert updated["version"] == current["version"] + 1 and updated["priority_level"] == "LOW"
    assert [r["id"] for r in updated["rules"]] == [1, max(r["id"] for r in current["rules"]) + 1]
    assert updated["av_settings"] == policy_seed.DEFAULT_AV_SETTINGS, "a missing field falls back to its default"
    assert updated["rule_configs"] == current["rule_configs"], "rule configs are not changed by a PUT"
    assert error_of(policies.update_policy, state, dict(body, id=1), policy_id="6522").status == 400
    bad_rule = dict(body, rules=[dict(current["rules"][0], id=999)])
    assert "is not a rule of this policy" in error_of(policies.update_policy, state, bad_rule, policy_id="6522").message


@pytest.mark.parametrize("change, message", [
    ({"priority_level": "URGENT"}, "priority_level: invalid value 'URGENT'; allowed: LOW, MEDIUM"),
    ({"name": ""}, "name is required"),
    ({"sensor_settings": [{"name": "SHOW_UI", "value": True}]}, "value must be a string"),
    ({"sensor_settings": [{"name": "NOPE", "value": "1"}]}, "invalid value 'NOPE'"),
    ({"rules": [{"required": True, "action": "BLOCK", "application": {"type": "REPUTATION", "value": "PUP"},
                 "operation": "RUN"}]}, "action: invalid value 'BLOCK'"),
    ({"rules": [{"required": True, "action": "DENY", "application": {"type": "REPUTATION", "value": "PUP"},
                 "operation": "RUN"}] * 2}, "same application and operation"),
    ({"av_settings": {"on_access_scan": {"mode": "FAST"}}}, "invalid value 'FAST'"),
    ({"directory_action_rules": [{"path": "/a"}]}, "directory_action_rules[0]"),
    ({"auto_delete_known_bad_hashes_delay": -5}, "non-negative integer"),
])
def test_validation_is_a_400_with_error_code_and_message(change, message):
    state = make_state()
    error = error_of(policies.create_policy, state, dict({"name": "N", "priority_level": "LOW"}, **change))
    assert error.status == 400 and error.error_code == "INVALID_REQUEST" and message in error.message


def test_delete_moves_devices_to_the_system_policy_and_refuses_system():
    state = make_state()
    org = state.org(ORG)
    on_advanced = [d["id"] for d in org.devices.values() if d["policy_id"] == 6522]
    assert on_advanced
    response = call(policies.delete_policy, state, policy_id="6522")
    assert response.status == 204 and response.body is None
    assert all(org.devices[i]["policy_id"] == 6521 and org.devices[i]["policy_name"] == "Standard" for i in on_advanced)
    assert error_of(policies.get_policy, state, policy_id="6522").status == 404
    assert error_of(policies.delete_policy, state, policy_id="6521").status == 400


def test_rules_sub_resource():
    state = make_state()
    rule = {"required": True, "action": "DENY", "application": {"type": "NAME_PATH", "value": "/bin/x"}, "operation": "RUN"}
    created = call(policies.add_rule, state, rule, policy_id="6523").body
    assert created["id"] == 3
    updated = call(policies.update_rule, state, dict(rule, action="ALLOW"), policy_id="6523", rule_id="3").body
    assert updated == dict(rule, action="ALLOW", id=3)
    assert error_of(policies.add_rule, state, rule, policy_id="6523").status == 400
    assert call(policies.delete_rule, state, policy_id="6523", rule_id="3").status == 204
    assert error_of(policies.delete_rule, state, policy_id="6523", rule_id="3").status == 404
    assert state.org(ORG).policies[2]["version"] == 5


def test_rule_configs_by_category_with_partial_failure():
    state = make_state()
    results = call(policies.get_rule_configs, state, policy_id="6521", category="core_prevention").body["results"]
    assert len(results) == 5 and all(r["category"] == "core_prevention" for r in results)
    body = [{"id": PRIV_ESC, "parameters": {"WindowsAssignmentMode": "REPORT"}},
            {"id": "nope", "parameters": {}},
            {"id": "1c03d653-eca4-4adc-81a1-04b17b6cbffc", "parameters": {"WindowsAssignmentMode": "OFF"}}]
    answer = call(policies.update_rule_configs, state, body, policy_id="6521", category="core_prevention").body
    assert [r["id"] for r in answer["successful"]] == [PRIV_ESC]
    assert answer["successful"][0]["parameters"] == {"WindowsAssignmentMode": "REPORT"}
    assert [(f["id"], f["error_code"]) for f in answer["failed"]] == [("nope", "NOT_FOUND"),
                                                                      ("1c03d653-eca4-4adc-81a1-04b17b6cbffc", "INVALID_PARAMETER")]
    single = {"id": "91c919da-fb90-4e63-9eac-506255b0a0d0", "parameters": {"enable_auth_events": False}}
    assert call(policies.update_rule_configs, state, single, policy_id="6521", category="data_collection").body["failed"] == []
    assert call(policies.delete_rule_config, state, policy_id="6521", category="core_prevention",
                config_id=PRIV_ESC).status == 204
    configs = dict((c["id"], c["parameters"]) for c in state.org(ORG).policies[0]["rule_configs"])
    assert configs[PRIV_ESC] == {"WindowsAssignmentMode": "BLOCK"}
    assert error_of(policies.get_rule_configs, state, policy_id="6521", category="nope").status == 404


@pytest.mark.parametrize("method, path, api, permission", [
    ("GET", "/policyservice/v1/orgs/ABCD1234/policies/summary", "policies.summary", "org.policies:READ"),
    ("GET", "/policyservice/v1/orgs/ABCD1234/policies/6521", "policies.get", "org.policies:READ"),
    ("POST", "/policyservice/v1/orgs/ABCD1234/policies", "policies.create", "org.policies:CREATE"),
    ("PUT", "/policyservice/v1/orgs/ABCD1234/policies/6521", "policies.update", "org.policies:UPDATE"),
    ("DELETE", "/policyservice/v1/orgs/ABCD1234/policies/6521", "policies.delete", "org.policies:DELETE"),
    ("POST", "/policyservice/v1/orgs/ABCD1234/policies/6521/rules", "policies.rules.create", "org.policies:UPDATE"),
    ("PUT", "/policyservice/v1/orgs/ABCD1234/policies/6521/rules/1", "policies.rules.update", "org.policies:UPDATE"),
    ("DELETE", "/policyservice/v1/orgs/ABCD1234/policies/6521/rules/1", "policies.rules.delete", "org.policies:UPDATE"),
    ("GET", "/policyservice/v1/orgs/ABCD1234/policies/6521/rule_configs/core_prevention", "policies.rule_configs.get",
     "org.policies:READ"),
    ("PUT", "/policyservice/v1/orgs/ABCD1234/policies/6521/rule_configs/data_collection",
     "policies.rule_configs.update", "org.policies:UPDATE"),
])
def test_routes_and_permissions(method, path, api, permission):
    route = build_api_routes().resolve(method, path)[0]
    assert route.api == api and route.permission == permission and route.write == (method != "GET")
    reader = identity_from_dict({"api_id": "R", "secret": "s", "permissions": ["device:READ", "org.policies:READ"]})
    if permission.endswith(":READ"):
        authorize(reader, ORG, route.permission)
    else:
        with pytest.raises(ApiError) as error:
            authorize(reader, ORG, route.permission)
        assert error.value.status == 403 and permission in error.value.message
