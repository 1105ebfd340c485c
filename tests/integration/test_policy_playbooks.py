# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cbc_policy and cbc_policy_info in real ansible-playbook runs against the simulator."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

import requests

from inprocess import run_tasks
from playbook_runner import FULL_TOKEN, ORG, REPO_ROOT, api_key_connection, collections_root, run_playbook

POLICYREAD_TOKEN = "POLICYREADSECRET00000000/POLICYREAD"
BASE = "/policyservice/v1/orgs/%s/policies" % ORG
STANDARD, ADVANCED, MONITORED = 6521, 6522, 6523
PRIV_ESC = "88b19232-7ebb-48ef-a198-2a75a282de5d"
MALWARE_RULE = {"action": "DENY", "application": {"type": "REPUTATION", "value": "KNOWN_MALWARE"}, "operation": "RUN"}


def policy_task(sim, token=FULL_TOKEN, **options):
    # Connection options inline: works whether or not the modules are in the cbc action group.
    return {"carbonblack.cloud.cbc_policy": dict(api_key_connection(sim, token), **options)}


def info_task(sim, **options):
    return {"carbonblack.cloud.cbc_policy_info": dict(api_key_connection(sim), **options)}


def http(sim, method, path, body=None, token=FULL_TOKEN):
    response = requests.request(method, sim.url + path, json=body, headers={"X-Auth-Token": token},
                                verify=sim.ca_file, timeout=60)
    return response


def server_policy(sim, policy_id):
    response = http(sim, "GET", "%s/%s" % (BASE, policy_id))
    return response.json() if response.status_code == 200 else None


def summaries(sim):
    return http(sim, "GET", BASE + "/summary").json()["policies"]


def writes(entries):
    return [entry for entry in entries if entry["write"]]


def apis(entries):
    return [entry["api"] for entry in entries]


def settings_map(policy):
    return dict((item["name"], item["value"]) for item in policy["sensor_settings"])


def test_create_check_mode_then_create_then_rerun_sends_no_write(sim, tmp_path):
    task = policy_task(sim, name="Servers", description="Server prevention", priority_level="HIGH",
                       rules=[MALWARE_RULE], sensor_settings={"SHOW_UI": False, "RATE_LIMIT": 5},
                       av_settings={"on_access_scan": {"mode": "AGGRESSIVE"}},
                       rule_configs=[{"name": "Privilege Escalation", "parameters": {"WindowsAssignmentMode": "REPORT"}}])
    mark = sim.mark()
    preview = run_playbook(tmp_path, [task], args=["--check", "--diff"])[0]
    assert writes(sim.requests(since=mark)) == [] and apis(sim.requests(since=mark)) == ["policies.summary"]
    assert preview["changed"] is True and preview["action"] == "created" and preview["id"] is None
    assert preview["policy"]["name"] == "Servers" and preview["policy"]["sensor_settings"] == [
        {"name": "SHOW_UI", "value": "false"}, {"name": "RATE_LIMIT", "value": "5"}]
    assert preview["diff"]["before"] == {} and preview["diff"]["after"]["priority_level"] == "HIGH"
    assert "Servers" not in [p["name"] for p in summaries(sim)]

    mark = sim.mark()
    run = run_playbook(tmp_path, [task, task])
    entries = sim.requests(since=mark)
    assert run[0]["changed"] is True and run[0]["action"] == "created"
    sent = writes(entries)
    assert apis(sent) == ["policies.create", "policies.rule_configs.update"]
    body = sent[0]["body"]
    assert "id" not in body and body["name"] == "Servers" and body["priority_level"] == "HIGH"
    # as the SDK's Policy and PolicyBuilder always send them
    assert body["org_key"] == ORG and body["version"] == 2
    assert body["sensor_settings"] == [{"name": "SHOW_UI", "value": "false"}, {"name": "RATE_LIMIT", "value": "5"}]
    assert body["rules"] == [dict(MALWARE_RULE, required=True)]
    assert sent[1]["path"].endswith("/rule_configs/core_prevention")
    assert sent[1]["body"] == [{"id": PRIV_ESC, "parameters": {"WindowsAssignmentMode": "REPORT"}}]
    created = server_policy(sim, run[0]["id"])
    assert created["position"] == 4 and created["av_settings"]["on_access_scan"]["mode"] == "AGGRESSIVE"
    assert [c["parameters"] for c in created["rule_configs"] if c["id"] == PRIV_ESC] == [{"WindowsAssignmentMode": "REPORT"}]
    assert run[0]["policy"]["id"] == created["id"]
    # The second task is the re-run: summary + GET, no write.
    assert run[1]["changed"] is False and run[1]["action"] == "none" and run[1]["requests_sent"] == 2
    assert len(entries) == 1 + 2 + 2


def test_partial_update_keeps_unmentioned_settings(sim, tmp_path):
    before = server_policy(sim, ADVANCED)
    mark = sim.mark()
    run = run_tasks(tmp_path, [policy_task(sim, name="Advanced", av_settings={"on_access_scan": {"mode": "NORMAL"}},
                                           sensor_settings=[{"name": "SHOW_UI", "value": True}])])
    entries = sim.requests(since=mark)
    assert run[0]["changed"] is True and run[0]["action"] == "updated"
    assert apis(entries) == ["policies.summary", "policies.get", "policies.update"]
    put = entries[-1]["body"]
    assert put["id"] == ADVANCED and put["rules"] == before["rules"]
    after = server_policy(sim, ADVANCED)
    assert after["av_settings"]["on_access_scan"] == {"enabled": True, "mode": "NORMAL"}
    # Unmentioned: the rest of av_settings, the other sensor settings, rules with their ids, MDR, directory rules.
    assert after["av_settings"]["avira_protection_cloud"] == before["av_settings"]["avira_protection_cloud"]
    assert after["av_settings"]["on_demand_scan"] == before["av_settings"]["on_demand_scan"]
    assert settings_map(after) == dict(settings_map(before), SHOW_UI="true")
    assert settings_map(after)["ALLOW_UNINSTALL"] == "false"
    assert after["rules"] == before["rules"]
    assert after["directory_action_rules"] == before["directory_action_rules"]
    assert after["managed_detection_response_permissions"] == before["managed_detection_response_permissions"]
    assert after["version"] == before["version"] + 1
    assert run[0]["before"] == {"av_settings": {"on_access_scan": {"mode": "AGGRESSIVE"}},
                                "sensor_settings": {"SHOW_UI": "false"}}


def test_rules_by_content_then_purge(sim, tmp_path):
    before = server_policy(sim, ADVANCED)
    pup = [r for r in before["rules"] if r["application"]["value"] == "PUP"][0]
    changed_pup = {"action": "DENY", "application": {"type": "REPUTATION", "value": "PUP"}, "operation": "MEMORY_SCRAPE"}
    new_rule = {"action": "TERMINATE", "application": {"type": "NAME_PATH", "value": "**\\evil.exe"}, "operation": "RUN",
                "required": False}
    # Same rules in another order with the PUP action changed and one new rule: one PUT, PUP keeps its id.
    stated = [new_rule, changed_pup] + [dict((k, r[k]) for k in ("action", "application", "operation", "required"))
                                        for r in reversed(before["rules"]) if r["id"] != pup["id"]]
    mark = sim.mark()
    run = run_tasks(tmp_path, [policy_task(sim, name="Advanced", rules=stated),
                               policy_task(sim, name="Advanced", rules=stated),
                               policy_task(sim, name="Advanced", rules=[MALWARE_RULE], purge_rules=True),
                               policy_task(sim, name="Advanced", sensor_settings={"SHOW_UI": "false"},
                                           purge_sensor_settings=True)])
    assert run[0]["changed"] is True and run[1]["changed"] is False and run[2]["changed"] is True
    assert run[0]["before"]["rules"] == [dict((k, pup[k]) for k in ("required", "action", "application", "operation"))]
    assert run[0]["after"]["rules"] == [dict(changed_pup, required=True), new_rule]
    assert apis(writes(sim.requests(since=mark))) == ["policies.update", "policies.update", "policies.update"]
    after = server_policy(sim, ADVANCED)
    malware = [r for r in before["rules"] if r["application"]["value"] == "KNOWN_MALWARE"][0]
    assert after["rules"] == [malware]
    assert after["sensor_settings"] == [{"name": "SHOW_UI", "value": "false"}]
    assert len(run[2]["before"]["rules"]) == len(before["rules"]) + 1 - 1
    assert run[3]["after"]["sensor_settings"]["ALLOW_UNINSTALL"] is None


def test_identity_by_id_renames_and_refuses_a_taken_name(sim, tmp_path):
    mark = sim.mark()
    run = run_tasks(tmp_path, [policy_task(sim, id=MONITORED, name="Observe only"),
                               policy_task(sim, id=MONITORED, name="Observe only", priority_level="LOW"),
                               policy_task(sim, id=MONITORED, name="Advanced"),
                               policy_task(sim, id=99999, name="Nope")])
    assert run[0]["changed"] is True and run[0]["before"] == {"name": "Monitored"} and run[0]["after"] == {"name": "Observe only"}
    assert run[1]["changed"] is False
    assert run[2]["failed"] and "taken by id %d" % ADVANCED in run[2]["msg"]
    assert run[3]["failed"] and "no policy has id 99999" in run[3]["msg"]
    sent = writes(sim.requests(since=mark))
    assert len(sent) == 1 and sent[0]["body"]["name"] == "Observe only" and sent[0]["path"].endswith("/%d" % MONITORED)
    assert server_policy(sim, MONITORED)["name"] == "Observe only"


def test_delete_refuses_devices_without_force(sim, tmp_path):
    advanced = [p for p in summaries(sim) if p["id"] == ADVANCED][0]
    assert advanced["num_devices"] > 0
    mark = sim.mark()
    run = run_tasks(tmp_path, [policy_task(sim, name="Advanced", state="absent"),
                               policy_task(sim, name="Advanced", state="absent", force=True),
                               policy_task(sim, name="Advanced", state="absent", force=True)])
    assert run[0]["failed"] and "still has %d device(s)" % advanced["num_devices"] in run[0]["msg"]
    assert run[1]["changed"] is True and run[1]["action"] == "deleted"
    assert run[1]["moved_devices"] == advanced["num_devices"]
    assert any("moves them to the default policy" in warning for warning in run[1]["warnings"])
    assert run[2]["changed"] is False and run[2]["action"] == "none"
    sent = writes(sim.requests(since=mark))
    assert apis(sent) == ["policies.delete"] and sent[0]["path"].endswith("/%d" % ADVANCED)
    assert server_policy(sim, ADVANCED) is None
    standard = [p for p in summaries(sim) if p["id"] == STANDARD][0]
    assert standard["num_devices"] == 50 - [p for p in summaries(sim) if p["id"] == MONITORED][0]["num_devices"]


def test_check_mode_diff_shows_only_stated_fields_that_change(sim, tmp_path):
    before = server_policy(sim, STANDARD)
    task = policy_task(sim, name="Standard", description=before["description"], priority_level="HIGH",
                       sensor_settings={"SHOW_UI": True, "ALLOW_UNINSTALL": False},
                       managed_detection_response_permissions={"quarantine": True},
                       rule_configs=[{"name": "Authentication Events", "parameters": {"enable_auth_events": False}}])
    mark = sim.mark()
    run = run_playbook(tmp_path, [task], args=["--check", "--diff"])
    assert writes(sim.requests(since=mark)) == []
    result = run[0]
    assert result["changed"] is True
    assert result["diff"]["before"] == {"priority_level": "MEDIUM", "sensor_settings": {"ALLOW_UNINSTALL": "true"},
                                        "managed_detection_response_permissions": {"quarantine": False},
                                        "rule_configs": {"Authentication Events": {"enable_auth_events": True}}}
    assert result["diff"]["after"] == {"priority_level": "HIGH", "sensor_settings": {"ALLOW_UNINSTALL": "false"},
                                       "managed_detection_response_permissions": {"quarantine": True},
                                       "rule_configs": {"Authentication Events": {"enable_auth_events": False}}}
    assert result["diff"]["before_header"] == "policy Standard (%d)" % STANDARD
    assert "-    \"priority_level\": \"MEDIUM\"" in run.stdout and "+    \"priority_level\": \"HIGH\"" in run.stdout
    would_be = result["policy"]
    assert would_be["priority_level"] == "HIGH" and settings_map(would_be)["ALLOW_UNINSTALL"] == "false"
    assert server_policy(sim, STANDARD) == before


def test_rule_config_change_uses_only_the_rule_configs_endpoint(sim, tmp_path):
    mark = sim.mark()
    run = run_tasks(tmp_path, [
        policy_task(sim, name="Monitored", rule_configs=[{"name": "Privilege Escalation", "category": "core_prevention",
                                                          "parameters": {"WindowsAssignmentMode": "BLOCK"}},
                                                         {"id": "cc075469-8d1e-4056-84b6-0e6f437c4010",
                                                          "parameters": {"enable_network_data_collection": True}}]),
        policy_task(sim, name="Monitored", rule_configs=[{"name": "No Such Config", "parameters": {"x": 1}}]),
        policy_task(sim, name="Monitored", rule_configs=[{"name": "Persistence", "parameters": {"Bogus": "BLOCK"}}]),
    ])
    entries = sim.requests(since=mark)
    assert run[0]["changed"] is True
    assert apis(writes(entries)) == ["policies.rule_configs.update", "policies.rule_configs.update"]
    assert sorted(e["path"].rsplit("/", 1)[1] for e in writes(entries)) == ["core_prevention", "data_collection"]
    assert run[1]["failed"] and "no rule configuration 'No Such Config'" in run[1]["msg"] and "Persistence" in run[1]["msg"]
    assert run[2]["failed"] and "has no parameter 'Bogus'" in run[2]["msg"]
    configs = dict((c["name"], c["parameters"]) for c in server_policy(sim, MONITORED)["rule_configs"])
    assert configs["Privilege Escalation"] == {"WindowsAssignmentMode": "BLOCK"}
    assert configs["Persistence"] == {"WindowsAssignmentMode": "REPORT"}
    assert configs["XDR"] == {"enable_network_data_collection": True}


BAD_ENUMS = [
    ({"priority_level": "URGENT"}, "must be one of: LOW, MEDIUM, HIGH, MISSION_CRITICAL"),
    ({"rules": [dict(MALWARE_RULE, action="BLOCK")]}, "action has the unknown value 'BLOCK'. Fix: use one of IGNORE, ALLOW"),
    ({"rules": [dict(MALWARE_RULE, operation="EXECUTE")]}, "operation has the unknown value 'EXECUTE'. Fix: use one of BYPASS_ALL"),
    ({"rules": [dict(MALWARE_RULE, application={"type": "HASH", "value": "x"})]}, "application.type has the unknown value 'HASH'"),
    ({"rules": [dict(MALWARE_RULE, application={"type": "REPUTATION", "value": "BAD"})]}, "use one of ADAPTIVE_WHITE_LIST"),
    ({"sensor_settings": {"SHOW_GUI": True}}, "sensor_settings name has the unknown value 'SHOW_GUI'. Fix: use one of SHOW_UI"),
    ({"rule_configs": [{"name": "Privilege Escalation", "parameters": {"WindowsAssignmentMode": "DENY"}}]},
     "WindowsAssignmentMode has the unknown value 'DENY'. Fix: use one of REPORT, BLOCK"),
    ({"rule_configs": [{"name": "x", "category": "firewall", "parameters": {"a": 1}}]}, "use one of core_prevention"),
    ({"av_settings": {"on_access_scan": {"mode": "FAST"}}}, "use one of NORMAL, AGGRESSIVE"),
    ({"policies": [{"name": "A", "priority_level": "URGENT"}]}, "policies[0] (A).priority_level has the unknown value"),
]


def test_bad_enum_is_rejected_before_any_request(sim, tmp_path):
    """One task per bad value, in one run."""
    tasks = [policy_task(sim, **(options if "policies" in options else dict(options, name="Advanced")))
             for options, unused_expected in BAD_ENUMS]
    mark = sim.mark()
    run = run_tasks(tmp_path, tasks)
    for index, (options, expected) in enumerate(BAD_ENUMS):
        assert run[index]["failed"] and expected in run[index]["msg"], (options, run[index]["msg"])
    assert sim.requests(since=mark) == []


def test_duplicate_names_are_an_error_listing_the_ids(sim, tmp_path):
    ids = [http(sim, "POST", BASE, {"name": "Twin", "priority_level": "LOW"}).json()["id"] for _index in range(2)]
    mark = sim.mark()
    run = run_tasks(tmp_path, [policy_task(sim, name="Twin", description="x"),
                               policy_task(sim, name="Twin", state="absent"),
                               policy_task(sim, id=ids[1], name="Twin", description="the second")])
    for result in run.results["task0"], run.results["task1"]:
        assert result["failed"] and "2 policies are named 'Twin' (ids %d, %d)" % tuple(ids) in result["msg"]
    assert run[2]["changed"] is True
    assert apis(writes(sim.requests(since=mark))) == ["policies.update"]
    assert server_policy(sim, ids[1])["description"] == "the second" and server_policy(sim, ids[0])["description"] == ""


def test_missing_update_permission_is_403_naming_it(sim, tmp_path):
    mark = sim.mark()
    result = run_tasks(tmp_path, [policy_task(sim, token=POLICYREAD_TOKEN, name="Advanced", priority_level="LOW")])[0]
    assert result["failed"] and result["http_status"] == 403
    assert "org.policies UPDATE" in result["msg"]
    entries = sim.requests(since=mark)
    assert [(e["api"], e["status"]) for e in entries] == [("policies.summary", 200), ("policies.get", 200),
                                                          ("policies.update", 403)]
    assert server_policy(sim, ADVANCED)["priority_level"] == "HIGH"


def fifty_policies(changed_index=None):
    items = []
    for index in range(50):
        items.append({"name": "Tenant policy %02d" % index, "description": "tenant %d" % index,
                      "priority_level": "MEDIUM" if index % 2 else "HIGH", "rules": [MALWARE_RULE],
                      "sensor_settings": {"SHOW_UI": index != changed_index, "ALLOW_UNINSTALL": False},
                      "av_settings": {"on_access_scan": {"mode": "NORMAL"}},
                      "rule_configs": [{"name": "Privilege Escalation", "parameters": {"WindowsAssignmentMode": "BLOCK"}}]})
    return items


def test_fifty_matching_policies_cost_at_most_51_requests_and_no_write(sim, tmp_path):
    mark = sim.mark()
    created = run_tasks(tmp_path, [policy_task(sim, policies=fifty_policies())])[0]
    assert created["changed"] is True and [r["action"] for r in created["results"]] == ["created"] * 50
    assert apis(writes(sim.requests(since=mark))) == ["policies.create"] * 50  # rule configs already at default

    mark = sim.mark()
    rerun = run_tasks(tmp_path, [policy_task(sim, policies=fifty_policies())])[0]
    entries = sim.requests(since=mark)
    assert rerun["changed"] is False and writes(entries) == []
    assert len(entries) <= 51 and len(entries) == rerun["requests_sent"] == 51
    assert apis(entries) == ["policies.summary"] + ["policies.get"] * 50

    mark = sim.mark()
    one = run_tasks(tmp_path, [policy_task(sim, policies=fifty_policies(changed_index=17))], args=["--diff"])[0]
    entries = sim.requests(since=mark)
    sent = writes(entries)
    assert len(sent) == 1 and sent[0]["api"] == "policies.update" and len(entries) == 52
    assert sent[0]["body"]["name"] == "Tenant policy 17"
    assert [r["name"] for r in one["results"] if r["changed"]] == ["Tenant policy 17"]
    assert one["diff"] == [{"before": {"sensor_settings": {"SHOW_UI": "true"}},
                            "after": {"sensor_settings": {"SHOW_UI": "false"}},
                            "before_header": "policy Tenant policy 17 (%d)" % sent[0]["body"]["id"],
                            "after_header": "policy Tenant policy 17 (%d)" % sent[0]["body"]["id"]}]


def test_policy_info(sim, tmp_path):
    mark = sim.mark()
    run = run_tasks(tmp_path, [info_task(sim), info_task(sim, name=["Advanced", "Standard"]),
                               info_task(sim, id=[MONITORED]), info_task(sim, name=["Nope"], id=[4242]),
                               info_task(sim, name=["Nope"], allow_missing=True)])
    assert [p["name"] for p in run[0]["policies"]] == ["Standard", "Advanced", "Monitored"]
    assert set(run[0]["policies"][0]) == {"id", "name", "description", "priority_level", "is_system", "position",
                                          "num_devices"}
    assert [p["name"] for p in run[1]["policies"]] == ["Advanced", "Standard"] and run[1]["policies"][0]["rules"]
    assert run[2]["policies"][0]["id"] == MONITORED and run[2]["requests_sent"] == 1
    assert run[3]["failed"] and "'Nope', 4242" in run[3]["msg"]
    assert run[4]["failed"] is False and run[4]["policies"] == [] and run[4]["missing"] == ["Nope"]
    assert writes(sim.requests(since=mark)) == []


def test_policies_playbook_applies_a_directory(sim, tmp_path):
    policy_dir = tmp_path / "policies"
    policy_dir.mkdir()
    (policy_dir / "servers.yml").write_text("name: Servers\npriority_level: HIGH\nsensor_settings:\n  SHOW_UI: false\n")
    (policy_dir / "kiosk.yml").write_text("name: Kiosk\nrules:\n  - action: DENY\n    application: {type: REPUTATION, "
                                          "value: PUP}\n    operation: RUN\n")
    extra = '{"cbc_connection": {"url": "%s", "org_key": "%s", "token": "%s", "ssl_cert_file": "%s"}, ' \
            '"policy_dir": "%s"}' % (sim.url, ORG, FULL_TOKEN, sim.ca_file, policy_dir)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_root(str(tmp_path / "collections")),
               ANSIBLE_HOME=str(tmp_path / "ansible-home"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
               "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", extra,
               os.path.join(REPO_ROOT, "playbooks", "policies.yml")]
    for _attempt, expected_writes in (("first", 2), ("again", 0)):
        mark = sim.mark()
        process = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
        entries = sim.requests(since=mark)
        assert len(writes(entries)) == expected_writes
        assert apis(entries).count("policies.summary") == 1
    names = [p["name"] for p in summaries(sim)]
    assert "Servers" in names and "Kiosk" in names
