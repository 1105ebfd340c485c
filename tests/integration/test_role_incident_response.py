# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The incident_response role against the simulator."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from playbook_runner import api_key_connection, run_role, write_entries

ROLE = "carbonblack.cloud.incident_response"


def registered(sim, count):
    devices = [d for d in sim.devices(sim.device_ids()).values() if d and d["status"] == "REGISTERED"
               and not d["quarantined"]]
    return devices[:count]


def test_quarantine_by_name_and_id_with_scan_then_rerun_and_release(sim, tmp_path):
    targets = registered(sim, 3)
    hosts = [targets[0]["name"], targets[1]["name"], targets[2]["id"]]
    role_vars = {"incident_response_hosts": hosts, "incident_response_background_scan": True,
                 "incident_response_connection": api_key_connection(sim)}
    mark = sim.mark()
    preview = run_role(tmp_path, ROLE, role_vars, ["incident_response_report"], args=["--check"])
    assert preview.rc == 0, preview.stdout
    assert write_entries(sim, mark) == []
    assert sorted(preview.results["incident_response_report"]["changed"]) == sorted(d["name"] for d in targets)

    run = run_role(tmp_path, ROLE, role_vars, ["incident_response_report"])
    assert run.rc == 0, run.stdout
    report = run.results["incident_response_report"]
    assert sorted(report["changed"]) == sorted(d["name"] for d in targets) and report["unchanged"] == []
    state = sim.devices([d["id"] for d in targets])
    assert all(d["quarantined"] for d in state.values())
    scans = [entry["body"] for entry in write_entries(sim, mark) if entry["body"]["action_type"] == "BACKGROUND_SCAN"]
    assert len(scans) == 1 and sorted(scans[0]["device_id"]) == sorted(d["id"] for d in targets)
    assert sorted(report["background_scan"]) == sorted(d["name"] for d in targets)
    assert "Quarantine: 3 changed, 0 already in that state" in run.stdout

    mark = sim.mark()
    again = run_role(tmp_path, ROLE, role_vars, ["incident_response_report"])
    assert again.rc == 0 and "changed=0" in again.stdout
    assert write_entries(sim, mark) == []
    # the credential check is the first request of every run
    assert sim.requests(since=mark)[0]["api"] == "devices.search"

    release = run_role(tmp_path, ROLE, dict(role_vars, incident_response_action="release"),
                       ["incident_response_report"])
    assert release.rc == 0
    assert not any(d["quarantined"] for d in sim.devices([d["id"] for d in targets]).values())


def test_unknown_host_and_unconfirmed_large_action_change_nothing(sim, tmp_path):
    targets = registered(sim, 7)
    mark = sim.mark()
    unknown = run_role(tmp_path, ROLE, {"incident_response_hosts": [targets[0]["name"], "no-such-host"],
                                        "incident_response_connection": api_key_connection(sim)}, [])
    assert unknown.rc != 0 and "No device matches no-such-host" in unknown.stdout
    many = run_role(tmp_path, ROLE, {"incident_response_hosts": [d["name"] for d in targets],
                                     "incident_response_connection": api_key_connection(sim)}, [])
    assert many.rc != 0 and "7 devices exceed incident_response_confirm_over (5)" in many.stdout
    assert write_entries(sim, mark) == []
    confirmed = run_role(tmp_path, ROLE, {"incident_response_hosts": [d["name"] for d in targets],
                                          "incident_response_confirm": True,
                                          "incident_response_connection": api_key_connection(sim)}, [])
    assert confirmed.rc == 0
    assert all(d["quarantined"] for d in sim.devices([d["id"] for d in targets]).values())


def test_bad_role_variables_fail_before_any_request(sim, tmp_path):
    mark = sim.mark()
    run = run_role(tmp_path, ROLE, {"incident_response_hosts": ["x"], "incident_response_action": "nuke",
                                    "incident_response_connection": api_key_connection(sim)}, [])
    assert run.rc != 0 and "incident_response_action" in run.stdout
    missing = run_role(tmp_path, ROLE, {"incident_response_connection": api_key_connection(sim)}, [])
    assert missing.rc != 0 and "incident_response_hosts" in missing.stdout
    assert sim.requests(since=mark) == []


def test_blank_host_entries_fail_before_any_request(sim, tmp_path):
    mark = sim.mark()
    run = run_role(tmp_path, ROLE, {"incident_response_hosts": [registered(sim, 1)[0]["name"], "  ", ""],
                                    "incident_response_connection": api_key_connection(sim)}, [])
    assert run.rc != 0
    assert ("incident_response_hosts has 2 blank entries (empty or only spaces): remove blank entries or give a "
            "device name or ID in each. Nothing was changed.") in run.stdout
    assert sim.requests(since=mark) == []


def test_the_module_enforces_the_confirmation_guard_too(sim, tmp_path):
    # An API that ignores the selection answers every search with the whole org: the role's own count (the two
    # names, matched exactly after trimming) passes its guard, and cbc_device's max_devices stops the action.
    targets = registered(sim, 2)
    whole_org = [d for d in sim.devices(sim.device_ids()).values() if d]
    sim.add_fault(path="/devices/_search$", method="POST", status=200,
                  body={"results": whole_org, "num_found": len(whole_org)})
    mark = sim.mark()
    run = run_role(tmp_path, ROLE, {"incident_response_hosts": [" %s " % targets[0]["name"], targets[1]["name"]],
                                    "incident_response_connection": api_key_connection(sim)}, [])
    assert run.rc != 0
    assert "the selection matches %d devices, more than max_devices (5); nothing was changed" % len(whole_org) \
        in run.stdout
    assert "No device matches" not in run.stdout
    assert write_entries(sim, mark) == []
    assert sim.requests(since=mark)[-1]["fault"] is not None
    assert not any(d["quarantined"] for d in sim.devices([d["id"] for d in targets]).values())
