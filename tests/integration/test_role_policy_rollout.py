# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policy_rollout role against the simulator."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from playbook_runner import api_key_connection, requests_of, run_role, run_role_cases

ROLE = "carbonblack.cloud.policy_rollout"


def role_vars(sim, **extra):
    values = {"policy_rollout_policy_name": "Monitored", "policy_rollout_waves": [1, "50%"],
              "policy_rollout_wait_seconds": 0,
              "policy_rollout_connection": api_key_connection(sim)}
    values.update(extra)
    return values


def devices(sim):
    return [d for d in sim.devices(sim.device_ids()).values() if d]


def actions(sim, mark):
    return [entry for entry in sim.requests(since=mark) if entry["api"] == "devices.actions"]


def run_cases(sim, tmp_path, cases):
    return run_role_cases(sim, tmp_path, ROLE, cases, lambda connection, extra: role_vars(sim, policy_rollout_connection=connection, **extra))


def test_rollout_by_criteria_in_waves_then_rerun_changes_nothing(sim, tmp_path):
    linux = sorted(d["id"] for d in devices(sim) if d["os"] == "LINUX" and d["policy_name"] != "Monitored")
    mark = sim.mark()
    preview = run_role(tmp_path, ROLE, role_vars(sim, policy_rollout_criteria={"os": ["LINUX"]}),
                       ["device_waves_report"], args=["--check"])
    assert preview.rc == 0, preview.stdout
    assert actions(sim, mark) == []

    run = run_role(tmp_path, ROLE, role_vars(sim, policy_rollout_criteria={"os": ["LINUX"]}), ["device_waves_report"])
    assert run.rc == 0, run.stdout
    report = run.results["device_waves_report"]
    assert [w["status"] for w in report] == ["ok", "ok", "ok"] and report[0]["size"] == 1
    sent = actions(sim, mark)
    assert sorted(i for e in sent for i in e["body"]["device_id"]) == linux
    policy_id = sent[0]["body"]["options"]["policy_id"]
    assert all(d["policy_id"] == policy_id and d["policy_name"] == "Monitored" for d in sim.devices(linux).values())

    mark = sim.mark()
    again = run_role(tmp_path, ROLE, role_vars(sim, policy_rollout_criteria={"os": ["LINUX"]}), ["device_waves_report"])
    assert again.rc == 0 and again.results["device_waves_report"] == []
    assert [e for e in sim.requests(since=mark) if e["write"]] == []


def test_inventory_hosts_are_the_devices_and_a_failing_wave_stops(sim, tmp_path):
    chosen = [d for d in devices(sim) if d["status"] == "REGISTERED" and d["policy_name"] != "Monitored"][:4]
    names = [d["name"] for d in chosen]
    sim.add_fault(path="device_actions", status=204, after=1, count=1)
    mark = sim.mark()
    stopped = run_role(tmp_path, ROLE, role_vars(sim, policy_rollout_use_inventory=True), [], hosts=names)
    assert stopped.rc != 0 and "Rollout stopped: wave 2" in stopped.stdout
    assert len(actions(sim, mark)) == 2

    sim.clear_faults()
    mark = sim.mark()
    resumed = run_role(tmp_path, ROLE, role_vars(sim, policy_rollout_use_inventory=True), [], hosts=names)
    assert resumed.rc == 0, resumed.stdout
    assert len(sorted(i for e in actions(sim, mark) for i in e["body"]["device_id"])) == 3
    assert all(d["policy_name"] == "Monitored" for d in sim.devices([d["id"] for d in chosen]).values())


def test_refuses_without_selection_and_on_unknown_names(sim, tmp_path):
    mark = sim.mark()
    nothing = run_role(tmp_path, ROLE, role_vars(sim), [])
    assert nothing.rc != 0 and "select devices with policy_rollout_criteria" in nothing.stdout
    assert sim.requests(since=mark) == []
    unknown = run_role(tmp_path, ROLE, role_vars(sim, policy_rollout_hosts=["host-00001", "ghost"]), [])
    assert unknown.rc != 0 and "No device is named ghost" in unknown.stdout
    assert [e for e in sim.requests(since=mark) if e["write"]] == []


def test_selection_guards_blank_names_empty_criteria_and_max_devices(sim, tmp_path):
    linux = [d for d in devices(sim) if d["os"] == "LINUX"]
    two = [d for d in devices(sim) if d["status"] == "REGISTERED" and d["policy_name"] != "Monitored"][:2]
    mark = sim.mark()
    run, failed = run_cases(sim, tmp_path, {
        "BLANKNAMES": {"policy_rollout_hosts": [" %s " % two[0]["name"], "   ", ""]},
        "EMPTYCRITERION": {"policy_rollout_criteria": {"os": ["LINUX"], "deployment_type": []}},
        "BLANKQUERY": {"policy_rollout_query": "  "},
        "ZEROMAX": {"policy_rollout_criteria": {"os": ["LINUX"]}, "policy_rollout_max_devices": 0},
        "TOOMANY": {"policy_rollout_criteria": {"os": ["LINUX"]}, "policy_rollout_max_devices": 3},
        # exactly max_devices is allowed; names are trimmed before matching
        "EXACTLY": {"policy_rollout_hosts": [" %s" % two[0]["name"], two[1]["name"] + " "],
                    "policy_rollout_max_devices": 2},
    })
    assert failed["BLANKNAMES"] == ("policy_rollout_hosts has 2 blank name(s) (empty or only spaces): remove them or "
                                    "give a device name in each. Nothing was changed.")
    assert failed["EMPTYCRITERION"].startswith("policy_rollout_criteria.deployment_type is an empty list")
    assert failed["BLANKQUERY"].startswith("policy_rollout_query is blank")
    assert failed["ZEROMAX"].startswith("policy_rollout_max_devices must be 1 or more, not 0")
    assert failed["TOOMANY"] == (
        "The selection matches %d devices, more than policy_rollout_max_devices (3); nothing was changed. Fix: narrow "
        "policy_rollout_criteria, policy_rollout_query or the names, or raise policy_rollout_max_devices." % len(linux))
    assert failed["EXACTLY"] is None, run.stdout
    for case in ("BLANKNAMES", "EMPTYCRITERION", "BLANKQUERY", "ZEROMAX"):
        assert requests_of(sim, mark, case) == [], case
    assert requests_of(sim, mark, "TOOMANY") and not [e for e in requests_of(sim, mark, "TOOMANY") if e["write"]]
    moved = [e for e in requests_of(sim, mark, "EXACTLY") if e["write"]]
    assert sorted(i for e in moved for i in e["body"]["device_id"]) == sorted(d["id"] for d in two)
    assert [e for e in sim.requests(since=mark) if e["write"]] == moved
