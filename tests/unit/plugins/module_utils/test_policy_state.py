# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation (policy_spec), planning (policy_plan) and applying (policies) of policies, over an in-memory client."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.carbonblack.cloud.plugins.module_utils import policies as pol
from ansible_collections.carbonblack.cloud.plugins.module_utils import policy_plan
from ansible_collections.carbonblack.cloud.plugins.module_utils import policy_spec
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcApiError, CbcConfigError, CbcError

PRIV_ESC = "88b19232-7ebb-48ef-a198-2a75a282de5d"
AUTH = "91c919da-fb90-4e63-9eac-506255b0a0d0"


def rule(rule_id, action, value, operation, required=True, app_type="REPUTATION"):
    result = {"required": required, "action": action, "application": {"type": app_type, "value": value},
              "operation": operation}
    if rule_id is not None:
        result["id"] = rule_id
    return result


def server_policy():
    return {
        "id": 10, "name": "Servers", "org_key": "ABCD1234", "version": 3, "priority_level": "HIGH", "position": 2,
        "is_system": False, "description": "d", "auto_deregister_inactive_vdi_interval_ms": 0,
        "auto_delete_known_bad_hashes_delay": 86400000,
        "av_settings": {"on_access_scan": {"enabled": True, "mode": "NORMAL"},
                        "on_demand_scan": {"enabled": True, "schedule": {"days": ["MONDAY"], "start_hour": 1}}},
        "rules": [rule(1, "DENY", "KNOWN_MALWARE", "RUN"), rule(2, "TERMINATE", "PUP", "MEMORY_SCRAPE")],
        "directory_action_rules": [{"file_upload": False, "protection": True, "path": "/a"}],
        "sensor_settings": [{"name": "SHOW_UI", "value": "true"}, {"name": "ALLOW_UNINSTALL", "value": "true"}],
        "managed_detection_response_permissions": {"policy_modification": False, "quarantine": True},
        "rule_configs": [
            {"id": PRIV_ESC, "name": "Privilege Escalation", "category": "core_prevention", "inherited_from": "psc:region",
             "parameters": {"WindowsAssignmentMode": "BLOCK"}},
            {"id": AUTH, "name": "Authentication Events", "category": "data_collection", "inherited_from": "",
             "parameters": {"enable_auth_events": True}},
        ],
    }


def desired(**spec):
    return policy_spec.normalize_spec(dict(spec, name=spec.get("name", "Servers")))


def plan(current=None, **spec):
    item = desired(**spec)
    return policy_plan.plan_update(current or server_policy(), item["desired"], item["purge_rules"],
                                   item["purge_sensor_settings"], item["name"])


def test_matching_state_plans_nothing():
    current = server_policy()
    result = plan(current, description="d", priority_level="HIGH", sensor_settings={"SHOW_UI": True},
                  rules=[rule(None, "TERMINATE", "PUP", "MEMORY_SCRAPE")],
                  av_settings={"on_demand_scan": {"schedule": {"days": ["MONDAY"]}}},
                  directory_action_rules=[{"path": "/a", "protection": True, "file_upload": False}],
                  managed_detection_response_permissions={"quarantine": True},
                  rule_configs=[{"name": "Privilege Escalation", "parameters": {"WindowsAssignmentMode": "BLOCK"}}])
    assert not result.changed and result.body is None and result.before == {} and result.rule_config_updates == {}


def test_partial_update_changes_only_stated_keys_and_keeps_the_rest():
    current = server_policy()
    result = plan(current, av_settings={"on_access_scan": {"mode": "AGGRESSIVE"}}, sensor_settings={"SHOW_UI": False})
    body = result.body
    assert body["av_settings"]["on_access_scan"] == {"enabled": True, "mode": "AGGRESSIVE"}
    assert body["av_settings"]["on_demand_scan"] == current["av_settings"]["on_demand_scan"]
    assert body["sensor_settings"] == [{"name": "SHOW_UI", "value": "false"}, {"name": "ALLOW_UNINSTALL", "value": "true"}]
    for key in ("rules", "directory_action_rules", "managed_detection_response_permissions", "rule_configs", "id", "version"):
        assert body[key] == current[key]
    assert result.before == {"av_settings": {"on_access_scan": {"mode": "NORMAL"}}, "sensor_settings": {"SHOW_UI": "true"}}
    assert result.after == {"av_settings": {"on_access_scan": {"mode": "AGGRESSIVE"}}, "sensor_settings": {"SHOW_UI": "false"}}
    assert current == server_policy(), "the server object must not be modified"


def test_rules_compare_by_content_keep_ids_and_ignore_order():
    result = plan(rules=[rule(None, "TERMINATE", "PUP", "MEMORY_SCRAPE"), rule(None, "DENY", "KNOWN_MALWARE", "RUN")])
    assert not result.changed
    result = plan(rules=[rule(None, "DENY", "PUP", "MEMORY_SCRAPE"), rule(None, "DENY", "x.exe", "RUN", app_type="NAME_PATH")])
    assert result.body["rules"] == [rule(1, "DENY", "KNOWN_MALWARE", "RUN"), rule(2, "DENY", "PUP", "MEMORY_SCRAPE"),
                                    rule(None, "DENY", "x.exe", "RUN", app_type="NAME_PATH")]
    assert result.before == {"rules": [rule(None, "TERMINATE", "PUP", "MEMORY_SCRAPE")]}
    assert result.after["rules"][0] == rule(None, "DENY", "PUP", "MEMORY_SCRAPE")


def test_purge_rules_and_sensor_settings_make_lists_exact():
    result = plan(rules=[rule(None, "DENY", "KNOWN_MALWARE", "RUN")], purge_rules=True)
    assert result.body["rules"] == [rule(1, "DENY", "KNOWN_MALWARE", "RUN")]
    assert result.before == {"rules": [rule(None, "TERMINATE", "PUP", "MEMORY_SCRAPE")]} and result.after == {"rules": []}
    result = plan(sensor_settings=[{"name": "SHOW_UI", "value": "true"}], purge_sensor_settings=True)
    assert result.body["sensor_settings"] == [{"name": "SHOW_UI", "value": "true"}]
    assert result.before == {"sensor_settings": {"ALLOW_UNINSTALL": "true"}}
    assert result.after == {"sensor_settings": {"ALLOW_UNINSTALL": None}}
    assert not plan(rules=[], purge_rules=False).changed
    assert plan(rules=[], purge_rules=True).body["rules"] == []


def test_directory_rules_are_exact_but_order_free():
    current = server_policy()
    current["directory_action_rules"].append({"file_upload": True, "protection": False, "path": "/b"})
    same = [{"path": "/b", "file_upload": True, "protection": False}, {"path": "/a", "file_upload": False, "protection": True}]
    assert not plan(current, directory_action_rules=same).changed
    assert plan(current, directory_action_rules=same[:1]).body["directory_action_rules"] == [
        {"file_upload": True, "protection": False, "path": "/b"}]


def test_rule_configs_by_name_or_id_only_when_parameters_differ():
    result = plan(rule_configs=[{"name": "Privilege Escalation", "parameters": {"WindowsAssignmentMode": "REPORT"}},
                                {"id": AUTH, "parameters": {"enable_auth_events": True}}])
    assert result.body is None, "rule configs never need the policy PUT"
    assert result.rule_config_updates == {"core_prevention": [{"id": PRIV_ESC, "parameters": {"WindowsAssignmentMode": "REPORT"}}]}
    assert result.before == {"rule_configs": {"Privilege Escalation": {"WindowsAssignmentMode": "BLOCK"}}}
    with pytest.raises(CbcConfigError, match="no rule configuration 'Nope'. Fix: use one of Authentication Events"):
        plan(rule_configs=[{"name": "Nope", "parameters": {"a": 1}}])
    with pytest.raises(CbcConfigError, match="has no parameter 'Mode'"):
        plan(rule_configs=[{"name": "Privilege Escalation", "parameters": {"Mode": "BLOCK"}}])
    with pytest.raises(CbcConfigError, match="must be true or false"):
        plan(rule_configs=[{"name": "Authentication Events", "parameters": {"enable_auth_events": "yes"}}])


def test_rename_and_scalars():
    result = plan(name="Servers v2", auto_deregister_inactive_vdi_interval_ms=3600000)
    assert result.before == {"name": "Servers", "auto_deregister_inactive_vdi_interval_ms": 0}
    assert result.body["name"] == "Servers v2"


@pytest.mark.parametrize("spec, message", [
    ({"priority_level": "URGENT"}, "priority_level has the unknown value 'URGENT'. Fix: use one of LOW, MEDIUM"),
    ({"rules": [rule(None, "BLOCK", "PUP", "RUN")]}, "action has the unknown value 'BLOCK'"),
    ({"rules": [rule(None, "DENY", "PUP", "EXEC")]}, "operation has the unknown value 'EXEC'"),
    ({"rules": [rule(None, "DENY", "x", "RUN", app_type="HASH")]}, "application.type has the unknown value 'HASH'"),
    ({"rules": [rule(None, "DENY", "EVIL", "RUN")]}, "application.value has the unknown value 'EVIL'"),
    ({"rules": [rule(3, "DENY", "PUP", "RUN")]}, "rules are matched by application and operation, not by id"),
    ({"rules": [rule(None, "DENY", "PUP", "RUN"), rule(None, "ALLOW", "PUP", "RUN")]}, "same application and operation"),
    ({"sensor_settings": {"SHOW_GUI": "true"}}, "unknown value 'SHOW_GUI'"),
    ({"sensor_settings": {"SHOW_UI": None}}, "must be a string, number or boolean"),
    ({"sensor_settings": "SHOW_UI"}, "must be a mapping NAME: value or a list"),
    ({"av_settings": {"on_access": {}}}, "av_settings section has the unknown value 'on_access'"),
    ({"av_settings": {"on_demand_scan": {"schedule": {"days": ["MON"]}}}}, "use one of MONDAY"),
    ({"rule_configs": [{"name": "x", "parameters": {"WindowsAssignmentMode": "ON"}}]}, "use one of REPORT, BLOCK"),
    ({"rule_configs": [{"name": "x", "category": "bypass", "parameters": {"a": 1}}]}, "not managed by this module"),
    ({"rule_configs": [{"name": "x"}]}, "needs parameters"),
    ({"managed_detection_response_permissions": {"isolate": True}}, "unknown value 'isolate'"),
    ({"directory_action_rules": [{"path": "/a"}]}, "set all three"),
    ({"auto_delete_known_bad_hashes_delay": -1}, "non-negative integer"),
    ({"purge_rules": True}, "purge_rules needs rules"),
    ({"colour": "red"}, "unknown option(s) colour"),
])
def test_validation_names_the_allowed_values(spec, message):
    with pytest.raises(CbcConfigError) as error:
        desired(**spec)
    assert message in str(error.value)


def test_sensor_setting_values_become_strings():
    item = desired(sensor_settings={"SHOW_UI": True, "RATE_LIMIT": 5, "HELP_MESSAGE": "call us"})
    assert item["desired"]["sensor_settings"] == {"SHOW_UI": "true", "RATE_LIMIT": "5", "HELP_MESSAGE": "call us"}
    item = desired(sensor_settings=[{"name": "ALLOW_UNINSTALL", "value": False}])
    assert item["desired"]["sensor_settings"] == {"ALLOW_UNINSTALL": "false"}


def test_duplicates_in_a_list_of_policies():
    with pytest.raises(CbcConfigError, match=r"policies\[0\] and policies\[2\] are both name 'A'"):
        policy_spec.normalize_specs([{"name": "A"}, {"name": "B"}, {"name": "A"}])


class FakePolicyApi:
    """Summary + full policies in memory; records every call."""

    org_key = "ABCD1234"

    def __init__(self, policies, num_devices=None):
        self.policies = dict((policy["id"], copy.deepcopy(policy)) for policy in policies)
        self.num_devices = num_devices or {}
        self.calls = []

    def call(self, name, body=None, **params):
        self.calls.append((name, params.get("policy_id"), body))
        if name == "policies.summary":
            return {"policies": [{"id": p["id"], "name": p["name"], "num_devices": self.num_devices.get(p["id"], 0)}
                                 for p in self.policies.values()]}
        if name == "policies.get":
            if params["policy_id"] not in self.policies:
                raise CbcApiError("GET", "/x", 404, "not found")
            return copy.deepcopy(self.policies[params["policy_id"]])
        if name == "policies.update":
            self.policies[params["policy_id"]] = copy.deepcopy(body)
            return copy.deepcopy(body)
        if name == "policies.rule_configs.update":
            return {"successful": [], "failed": [{"id": body[0]["id"], "error_code": "X", "message": "refused"}]}
        if name == "policies.delete":
            del self.policies[params["policy_id"]]
            return None
        raise AssertionError(name)


def test_apply_reads_everything_before_the_first_write():
    other = dict(server_policy(), id=11, name="Other")
    api = FakePolicyApi([server_policy(), other])
    items = policy_spec.normalize_specs([{"name": "Servers", "description": "new"},
                                         {"name": "Other", "rule_configs": [{"name": "Nope", "parameters": {"a": 1}}]}])
    with pytest.raises(CbcConfigError):
        pol.apply_policies(api, items)
    assert [call[0] for call in api.calls] == ["policies.summary", "policies.get", "policies.get"]


def test_apply_counts_duplicates_devices_and_refused_rule_configs():
    twin = dict(server_policy(), id=11)
    api = FakePolicyApi([server_policy(), twin], num_devices={10: 3})
    with pytest.raises(CbcConfigError, match=r"2 policies are named 'Servers' \(ids 10, 11\)"):
        pol.apply_policies(api, [desired(description="x")])
    item = policy_spec.normalize_spec({"id": 10, "state": "absent"})
    with pytest.raises(CbcConfigError, match=r"still has 3 device\(s\)"):
        pol.apply_policies(api, [item])
    result = pol.apply_policies(api, [policy_spec.normalize_spec({"id": 10, "state": "absent", "force": True})])[0]
    assert result["action"] == "deleted" and result["moved_devices"] == 3
    assert pol.apply_policies(api, [policy_spec.normalize_spec({"id": 10, "state": "absent"})])[0]["changed"] is False
    with pytest.raises(pol.PolicyError, match="refused 1 core_prevention rule configuration update"):
        pol.apply_policies(api, [policy_spec.normalize_spec({"id": 11, "rule_configs": [
            {"name": "Privilege Escalation", "parameters": {"WindowsAssignmentMode": "REPORT"}}]})])


def test_get_policies_reports_missing_ids_and_names():
    api = FakePolicyApi([server_policy()])
    policies, missing = pol.get_policies(api, ids=[10, 99], names=["Servers", "Nope"])
    assert [p["id"] for p in policies] == [10] and missing == ["Nope", 99]


class ShortAnswerApi(FakePolicyApi):
    """Writes answer with less than the policy, as the SDK allows: no body, {"result": ...}, an echo list."""

    def __init__(self, policies, create_answer=None, update_answer=None):
        FakePolicyApi.__init__(self, policies)
        self.create_answer = create_answer
        self.update_answer = update_answer

    def call(self, name, body=None, **params):
        if name == "policies.create":
            self.calls.append((name, None, body))
            stored = dict(copy.deepcopy(body), id=12, position=3, rule_configs=server_policy()["rule_configs"])
            self.policies[12] = stored
            return copy.deepcopy(self.create_answer)
        if name == "policies.update":
            FakePolicyApi.call(self, name, body, **params)
            return copy.deepcopy(self.update_answer)
        if name == "policies.rule_configs.update":
            self.calls.append((name, params.get("policy_id"), body))
            return copy.deepcopy(body)
        return FakePolicyApi.call(self, name, body, **params)


@pytest.mark.parametrize("answer", [None, {"result": "success"}, {"id": 12}])
def test_a_create_answered_with_less_than_the_policy_reads_it_back(answer):
    api = ShortAnswerApi([server_policy()], create_answer=answer)
    result = pol.apply_policies(api, [desired(name="Web", description="web")])[0]
    assert result["action"] == "created" and result["id"] == 12 and result["policy"]["name"] == "Web"
    assert [call[0] for call in api.calls][-1] == "policies.get"


@pytest.mark.parametrize("answer", [None, {"result": "success"}])
def test_an_update_answered_with_less_than_the_policy_reads_it_back(answer):
    api = ShortAnswerApi([server_policy()], update_answer=answer)
    result = pol.apply_policies(api, [desired(description="new")])[0]
    assert result["changed"] is True and result["policy"]["description"] == "new" and result["policy"]["id"] == 10
    assert [call[0] for call in api.calls][-2:] == ["policies.update", "policies.get"]


def test_a_rule_config_update_answered_with_an_echo_list_is_a_success():
    api = ShortAnswerApi([server_policy()])
    result = pol.apply_policies(api, [desired(rule_configs=[{"name": "Privilege Escalation",
                                                             "parameters": {"WindowsAssignmentMode": "REPORT"}}])])[0]
    assert result["changed"] is True
    configs = dict((config["id"], config) for config in result["policy"]["rule_configs"])
    assert configs[PRIV_ESC]["parameters"]["WindowsAssignmentMode"] == "REPORT"


@pytest.mark.parametrize("answer", [None, [], {"result": "success"}])
def test_a_policy_get_without_a_policy_is_one_clear_error(answer):
    class EmptyGet(FakePolicyApi):
        def call(self, name, body=None, **params):
            if name == "policies.get":
                return answer
            return FakePolicyApi.call(self, name, body, **params)

    with pytest.raises(CbcError) as info:
        pol.get_policy(EmptyGet([server_policy()]), 10)
    assert "answered without a policy" in str(info.value) and "Fix:" in str(info.value)


def test_a_host_based_firewall_update_sends_the_parameters_the_sdk_sends():
    hbfw = {"id": "df181779-f623-415d-879e-91c40246535d", "name": "Host Based Firewall", "category": "host_based_firewall",
            "inherited_from": "", "parameters": {"enable_host_based_firewall": False, "default_rule": {"action": "ALLOW"},
                                                 "rule_groups": [], "rulesets": []}}
    updates = policy_plan.compare_rule_configs([hbfw], [{"id": hbfw["id"], "name": None, "category": None,
                                                         "parameters": {"enable_host_based_firewall": True}}], "policy")[0]
    assert updates == {"host_based_firewall": [{"id": hbfw["id"], "parameters": {
        "enable_host_based_firewall": True, "default_rule": {"action": "ALLOW"}, "rule_groups": []}}]}
