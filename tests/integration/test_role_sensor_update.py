# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sensor_update role (and the device_waves role under it) against the simulator."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from playbook_runner import api_key_connection, requests_of, run_role, run_role_cases, write_entries

ROLE = "carbonblack.cloud.sensor_update"
TARGET = "9.9.9.9"


def role_vars(sim, kit, **extra):
    values = {"sensor_update_versions": {kit: TARGET}, "sensor_update_waves": [1, "30%"],
              "sensor_update_wait_seconds": 0, "sensor_update_max_failure_ratio": 0.1,
              "sensor_update_connection": api_key_connection(sim)}
    values.update(extra)
    return values


def eligible(sim, kit):
    devices = [d for d in sim.devices(sim.device_ids()).values() if d]
    return sorted(d["id"] for d in devices if d["status"] == "REGISTERED" and d["sensor_kit_type"] == kit)


def busiest_kit(sim):
    kits = [d["sensor_kit_type"] for d in sim.devices(sim.device_ids()).values() if d and d["status"] == "REGISTERED"]
    return max(set(kits), key=kits.count)


def actions(sim, mark):
    return [entry for entry in sim.requests(since=mark) if entry["api"] == "devices.actions"]


def run_cases(sim, tmp_path, kit, cases):
    return run_role_cases(sim, tmp_path, ROLE, cases, lambda connection, extra: role_vars(sim, kit, sensor_update_connection=connection, **extra))


def test_waves_update_every_device_then_rerun_and_check_mode_send_nothing(sim, tmp_path):
    kit = busiest_kit(sim)
    todo = eligible(sim, kit)
    assert len(todo) >= 4
    mark = sim.mark()
    preview = run_role(tmp_path, ROLE, role_vars(sim, kit), ["device_waves_report"], args=["--check"])
    assert preview.rc == 0, preview.stdout
    assert actions(sim, mark) == []
    assert [wave["status"] for wave in preview.results["device_waves_report"]] == ["planned"] * 3

    mark = sim.mark()
    run = run_role(tmp_path, ROLE, role_vars(sim, kit), ["device_waves_report"])
    assert run.rc == 0, run.stdout
    report = run.results["device_waves_report"]
    third = len(todo) - 1 - -(-len(todo) * 3 // 10)
    assert [(w["size"], w["status"], w["not_reached"]) for w in report] == [
        (1, "ok", []), (-(-len(todo) * 3 // 10), "ok", []), (third, "ok", [])]
    sent = actions(sim, mark)
    assert [sorted(e["body"]["device_id"]) for e in sent] == [todo[:1], todo[1:1 + report[1]["size"]],
                                                              todo[1 + report[1]["size"]:]]
    assert all(e["body"]["options"] == {"sensor_version": {kit: TARGET}} for e in sent)
    assert all(d["sensor_pending_update"] for d in sim.devices(todo).values())
    assert "wave 1: 1 devices, 1 changed, 0 without the change: ok" in run.stdout

    mark = sim.mark()
    again = run_role(tmp_path, ROLE, role_vars(sim, kit), ["device_waves_report"])
    assert again.rc == 0 and again.results["device_waves_report"] == []
    assert [e for e in sim.requests(since=mark) if e["write"]] == []
    assert "nothing to do" in again.stdout


def test_a_failing_wave_stops_the_rollout_and_a_rerun_resumes(sim, tmp_path):
    kit = busiest_kit(sim)
    todo = eligible(sim, kit)
    # The canary goes through; the second wave's action is accepted but does nothing.
    sim.add_fault(path="device_actions", status=204, after=1, count=1)
    mark = sim.mark()
    stopped = run_role(tmp_path, ROLE, role_vars(sim, kit), ["device_waves_report"])
    assert stopped.rc != 0
    assert "Rollout stopped: wave 2 left" in stopped.stdout and "Re-run to resume" in stopped.stdout
    assert len(actions(sim, mark)) == 2, "the third wave must not start"
    state = sim.devices(todo)
    assert state[todo[0]]["sensor_pending_update"] and not any(state[i]["sensor_pending_update"] for i in todo[1:])

    sim.clear_faults()
    mark = sim.mark()
    resumed = run_role(tmp_path, ROLE, role_vars(sim, kit), ["device_waves_report"])
    assert resumed.rc == 0, resumed.stdout
    sent = sorted(i for e in actions(sim, mark) for i in e["body"]["device_id"])
    assert sent == todo[1:], "the canary is not sent again"
    assert all(d["sensor_pending_update"] for d in sim.devices(todo).values())


def test_bad_variables_fail_before_any_request(sim, tmp_path):
    mark = sim.mark()
    run = run_role(tmp_path, ROLE, {"sensor_update_waves": [1]}, [])
    assert run.rc != 0 and "sensor_update_versions" in run.stdout
    bad_ratio = run_role(tmp_path, ROLE, role_vars(sim, "WINDOWS", sensor_update_max_failure_ratio="lots"), [])
    assert bad_ratio.rc != 0 and "sensor_update_max_failure_ratio" in bad_ratio.stdout
    assert sim.requests(since=mark) == []


def test_canary_only_then_a_rerun_continues(sim, tmp_path):
    kit = busiest_kit(sim)
    todo = eligible(sim, kit)
    mark = sim.mark()
    canary = run_role(tmp_path, ROLE, role_vars(sim, kit, sensor_update_max_waves=1), ["device_waves_report"])
    assert canary.rc == 0, canary.stdout
    assert [sorted(e["body"]["device_id"]) for e in actions(sim, mark)] == [todo[:1]]
    assert "2 more wave(s), %d devices, left for a later run" % (len(todo) - 1) in canary.stdout
    mark = sim.mark()
    rest = run_role(tmp_path, ROLE, role_vars(sim, kit), ["device_waves_report"])
    assert rest.rc == 0
    assert sorted(i for e in actions(sim, mark) for i in e["body"]["device_id"]) == todo[1:]


def test_selection_guards_empty_criterion_blank_query_and_max_devices(sim, tmp_path):
    kit = busiest_kit(sim)
    todo = eligible(sim, kit)
    mark = sim.mark()
    run, failed = run_cases(sim, tmp_path, kit, {
        "EMPTYCRITERION": {"sensor_update_criteria": {"os": []}},
        "BLANKQUERY": {"sensor_update_query": "   "},
        "ZEROMAX": {"sensor_update_max_devices": 0},
        "TOOMANY": {"sensor_update_max_devices": len(todo) - 1},
    })
    assert failed["EMPTYCRITERION"].startswith("sensor_update_criteria.os is an empty list, which the API reads as no "
                                               "restriction")
    assert failed["BLANKQUERY"].startswith("sensor_update_query is blank (only spaces)")
    assert failed["ZEROMAX"].startswith("sensor_update_max_devices must be 1 or more, not 0")
    assert failed["TOOMANY"] == (
        "The selection matches %d devices, more than sensor_update_max_devices (%d); nothing was changed. Fix: narrow "
        "sensor_update_criteria, sensor_update_query or sensor_update_versions, or raise sensor_update_max_devices."
        % (len(todo), len(todo) - 1))
    for case in ("EMPTYCRITERION", "BLANKQUERY", "ZEROMAX"):
        assert requests_of(sim, mark, case) == [], case
    assert requests_of(sim, mark, "TOOMANY")
    assert write_entries(sim, mark) == []


def test_a_wave_never_acts_on_more_devices_than_it_lists(sim, tmp_path):
    # An API that ignores the ID criterion answers every search with the whole org: device_waves passes
    # max_devices = the wave's length to cbc_device, so the canary (1 device) stops before any action.
    kit = busiest_kit(sim)
    whole_org = [d for d in sim.devices(sim.device_ids()).values() if d]
    sim.add_fault(path="/devices/_search$", method="POST", status=200,
                  body={"results": whole_org, "num_found": len(whole_org)})
    mark = sim.mark()
    run = run_role(tmp_path, ROLE, role_vars(sim, kit), ["device_waves_report"])
    assert run.rc != 0
    assert "the selection matches %d devices, more than max_devices (1); nothing was changed" % len(whole_org) \
        in run.stdout
    assert write_entries(sim, mark) == []
    assert not any(d["sensor_pending_update"] for d in sim.devices(eligible(sim, kit)).values())
