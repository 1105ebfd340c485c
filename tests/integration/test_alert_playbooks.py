# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cbc_alert through the engine and playbooks/alert_response.yml against the simulator."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from playbook_runner import FULL_TOKEN, api_key_connection, run_playbook, run_repo_playbook, write_apis


def seed(sim):
    sim.clear_alerts()
    sim.job_settings(job_delay=0.05)
    device = [item for item in sim.devices(sim.device_ids()).values()
              if item and item["status"] == "REGISTERED" and not item["quarantined"]][0]
    added = sim.add_alerts([{"threat_id": "T-RESPOND", "severity": 9, "device_id": device["id"]}] * 2
                           + [{"threat_id": "T-OTHER", "severity": 2}] * 3)
    return device, added


def test_check_mode_diff_and_rerun_through_the_engine(sim, tmp_path):
    seed(sim)
    task = {"carbonblack.cloud.cbc_alert": dict(api_key_connection(sim), criteria={"threat_id": ["T-OTHER"]},
                                                status="IN_PROGRESS", note="triage")}
    mark = sim.mark()
    preview = run_playbook(tmp_path, [task], args=["--check", "--diff", "-vvv"])
    assert write_apis(sim, mark) == [] and preview[0]["changed"] is True
    preview.assert_no_secret(FULL_TOKEN.split("/", maxsplit=1)[0])
    assert len(preview[0]["diff"]["after"]) == 3
    run = run_playbook(tmp_path, [task, task])
    assert run[0]["changed"] is True and run[1]["changed"] is False
    assert write_apis(sim, mark) == ["alerts.workflow"]
    assert sorted(item["workflow"]["status"] for item in sim.alerts()) == ["IN_PROGRESS"] * 3 + ["OPEN"] * 2


def test_alert_response_playbook_quarantines_closes_and_reruns_clean(sim, tmp_path):
    device, _added = seed(sim)
    selection = {"alert_criteria": {"threat_id": ["T-RESPOND"]}}
    mark = sim.mark()
    refused = run_repo_playbook(tmp_path, "alert_response.yml", sim, {})
    assert refused.returncode != 0 and "No alerts are selected" in refused.stdout
    too_many = run_repo_playbook(tmp_path, "alert_response.yml", sim, dict(selection, alert_response_max_alerts=1))
    assert too_many.returncode != 0 and "matches 2 alerts" in too_many.stdout
    preview = run_repo_playbook(tmp_path, "alert_response.yml", sim, selection, args=["--check", "--diff"])
    assert preview.returncode == 0, preview.stdout
    assert write_apis(sim, mark) == []

    done = run_repo_playbook(tmp_path, "alert_response.yml", sim, selection)
    assert done.returncode == 0, done.stdout
    assert write_apis(sim, mark) == ["devices.actions", "alerts.workflow"]
    assert sim.devices([device["id"]])[device["id"]]["quarantined"] is True
    closed = [item for item in sim.alerts() if item["threat_id"] == "T-RESPOND"]
    assert [(item["workflow"]["status"], item["workflow"]["closure_reason"], item["determination"]["value"])
            for item in closed] == [("CLOSED", "RESOLVED", "TRUE_POSITIVE")] * 2
    assert all(item["workflow"]["status"] == "OPEN" for item in sim.alerts() if item["threat_id"] == "T-OTHER")

    mark = sim.mark()
    again = run_repo_playbook(tmp_path, "alert_response.yml", sim, selection)
    assert again.returncode == 0, again.stdout
    assert write_apis(sim, mark) == [] and "alerts changed: 0" in again.stdout
