# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cbc_device and cbc_device_info in real ansible-playbook runs against the simulator."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from inprocess import run_tasks
from playbook_runner import REPO_ROOT, api_key_connection, collections_root, run_playbook

QUARANTINE_ONLY_TOKEN = "DEVICEREADQSECRET0000000/DEVICEREADQ"
NO_SENSOR = ("DEREGISTERED", "UNINSTALLED")


def device_task(**options):
    return {"carbonblack.cloud.cbc_device": options}


def info_task(**options):
    return {"carbonblack.cloud.cbc_device_info": options}


def fleet(sim):
    return [device for device in sim.devices(sim.device_ids()).values() if device]


def writes(entries):
    return [entry for entry in entries if entry["write"]]


def apis(entries):
    return [entry["api"] for entry in entries]


def test_quarantine_linux_then_rerun_and_check_mode_send_no_write(sim, tmp_path):
    linux = [d for d in fleet(sim) if d["os"] == "LINUX" and d["status"] not in NO_SENSOR]
    to_change = sorted(d["id"] for d in linux if not d["quarantined"])
    assert to_change and len(to_change) < len(linux), "the seed should have some Linux devices quarantined already"
    task = device_task(criteria={"os": ["LINUX"]}, quarantined=True, batch_size=10)

    mark = sim.mark()
    preview = run_playbook(tmp_path, [task], connection=api_key_connection(sim), args=["--check", "--diff"])[0]
    assert writes(sim.requests(since=mark)) == []
    assert preview["changed"] is True
    assert [d["id"] for d in preview["devices"]] == to_change
    assert preview["actions"] == [{"action_type": "QUARANTINE", "count": len(to_change),
                                   "batches": -(-len(to_change) // 10), "options": {"toggle": "ON"}}]
    first = preview["devices"][0]
    assert first["before"] == {"quarantined": False} and first["after"] == {"quarantined": True}
    label = "%s (%s)" % (first["name"], first["id"])
    assert preview["diff"]["before"][label] == {"quarantined": False}
    assert preview["diff"]["after"][label] == {"quarantined": True}
    assert not any(sim.device(i)["quarantined"] for i in to_change)

    mark = sim.mark()
    run = run_playbook(tmp_path, [task, task], connection=api_key_connection(sim))
    first_entries = sim.requests(since=mark)
    assert run[0]["changed"] is True and run[0]["actions"] == preview["actions"]
    assert run[0]["num_found"] == len([d for d in fleet(sim) if d["os"] == "LINUX"])
    sent = writes(first_entries)
    assert len(sent) == -(-len(to_change) // 10)
    assert sorted(i for entry in sent for i in entry["body"]["device_id"]) == to_change
    assert all(entry["body"]["action_type"] == "QUARANTINE" and entry["body"]["options"] == {"toggle": "ON"}
               for entry in sent)
    assert all(sim.device(d["id"])["quarantined"] for d in linux)
    # The second task is the re-run: one search, no write, no change.
    assert run[1]["changed"] is False and run[1]["devices"] == [] and run[1]["actions"] == []
    assert apis(first_entries).count("devices.search") == 2 and len(first_entries) == 2 + len(sent)


def test_release_only_touches_quarantined_devices(sim, tmp_path):
    quarantined = sorted(d["id"] for d in fleet(sim) if d["quarantined"])
    assert quarantined
    mark = sim.mark()
    run = run_tasks(tmp_path, [device_task(criteria={"status": ["REGISTERED"]}, quarantined=False)],
                    connection=api_key_connection(sim))
    assert run[0]["changed"] is True
    sent = writes(sim.requests(since=mark))
    assert len(sent) == 1 and sorted(sent[0]["body"]["device_id"]) == quarantined
    assert sent[0]["body"]["options"] == {"toggle": "OFF"}
    assert not any(d["quarantined"] for d in fleet(sim))


def test_policy_by_name_sensor_version_and_bypass_are_idempotent_and_a_scan_is_sent_each_run(sim, tmp_path):
    windows = [d for d in fleet(sim) if d["os"] == "WINDOWS" and d["status"] == "REGISTERED"
               and d["policy_name"] != "Advanced"]
    kit = windows[0]["sensor_kit_type"]
    target = [d for d in windows if d["sensor_kit_type"] == kit][:4]
    ids = [d["id"] for d in target]
    tasks = [
        device_task(device_ids=ids, policy_name="Advanced"),
        device_task(device_ids=ids, sensor_version={kit: "9.9.9.9"}),
        device_task(device_ids=ids, bypass=True),
        device_task(device_ids=ids, send_background_scan="start"),
    ]
    mark = sim.mark()
    run = run_tasks(tmp_path, tasks + tasks, connection=api_key_connection(sim), args=["--diff"])
    entries = sim.requests(since=mark)
    # the three states hold on the re-run; the background scan is an action, sent again
    assert [run[index]["changed"] for index in range(8)] == [True] * 4 + [False] * 3 + [True]
    assert [(e["body"]["action_type"], sorted(e["body"]["device_id"])) for e in writes(entries)] == [
        ("UPDATE_POLICY", sorted(ids)), ("UPDATE_SENSOR_VERSION", sorted(ids)), ("BYPASS", sorted(ids)),
        ("BACKGROUND_SCAN", sorted(ids)), ("BACKGROUND_SCAN", sorted(ids))]
    assert run[3]["devices"][0]["before"] == {"background_scan": "not reported"}
    assert run[3]["devices"][0]["after"] == {"background_scan": "start"}
    state = sim.devices(ids)
    policy_id = writes(entries)[0]["body"]["options"]["policy_id"]
    assert all(state[i]["policy_name"] == "Advanced" and state[i]["policy_id"] == policy_id for i in ids)
    assert all(state[i]["sensor_pending_update"] for i in ids)
    assert all(state[i]["status"] == "BYPASS" and state[i]["scan_status"] is None for i in ids)
    assert writes(entries)[1]["body"]["options"] == {"sensor_version": {kit: "9.9.9.9"}}
    assert run[0]["devices"][0]["after"] == {"policy_id": policy_id, "policy_name": "Advanced"}
    assert run[1]["devices"][0]["after"] == {"sensor_version": "9.9.9.9"}

    # and back: bypass off, scan off
    mark = sim.mark()
    run = run_tasks(tmp_path, [device_task(device_ids=ids, bypass=False, send_background_scan="stop")],
                    connection=api_key_connection(sim))
    sent = writes(sim.requests(since=mark))
    assert [entry["body"]["action_type"] for entry in sent] == ["BYPASS", "BACKGROUND_SCAN"]
    assert sent[1]["body"]["options"] == {"toggle": "OFF"}
    assert all(d["status"] == "REGISTERED" for d in sim.devices(ids).values())


def test_uninstall_and_delete_act_only_where_state_needs_it(sim, tmp_path):
    devices = fleet(sim)
    deregistered = sorted(d["id"] for d in devices if d["status"] == "DEREGISTERED")
    registered = [d["id"] for d in devices if d["status"] == "REGISTERED"][:2]
    assert deregistered
    both = deregistered + registered
    mark = sim.mark()
    run = run_tasks(tmp_path, [
        device_task(device_ids=both, delete_sensor=True),
        device_task(device_ids=registered, uninstall_sensor=True),
        device_task(device_ids=registered, uninstall_sensor=True),
        device_task(device_ids=deregistered, delete_sensor=True),
        device_task(device_ids=deregistered, delete_sensor=True, allow_empty=True),
    ], connection=api_key_connection(sim))
    sent = writes(sim.requests(since=mark))
    assert [(e["body"]["action_type"], sorted(e["body"]["device_id"])) for e in sent] == [
        ("DELETE_SENSOR", deregistered), ("UNINSTALL_SENSOR", sorted(registered))]
    assert all(sim.device(i) is None for i in deregistered)
    assert all(sim.device(i)["status"] == "UNINSTALLED" for i in registered)
    assert run[2]["changed"] is False
    assert run[3]["failed"] is True and run[3]["msg"].startswith("the selection matched no device")
    assert run[4]["changed"] is False and run[4]["num_found"] == 0


def test_missing_action_permission_is_a_403_naming_it(sim, tmp_path):
    ids = [d["id"] for d in fleet(sim) if d["status"] == "REGISTERED"][:3]
    run = run_playbook(tmp_path, [device_task(device_ids=ids, policy_id=1),
                                  device_task(device_ids=ids, quarantined=True)],
                       connection=api_key_connection(sim, QUARANTINE_ONLY_TOKEN), args=["-vvv"])
    # policy_id=1 does not exist, but the permission check comes first
    assert run[0]["failed"] is True and run[0]["http_status"] == 403
    assert "lack the RBAC permission device.policy UPDATE" in run[0]["msg"]
    assert sorted(run[0]["not_done_device_ids"]) == sorted(ids) and run[0]["done_device_ids"] == []
    assert run[1]["changed"] is True
    run.assert_no_secret("DEVICEREADQSECRET0000000")


def test_unknown_policy_name_and_bad_inputs_fail_before_any_write(sim, tmp_path):
    mark = sim.mark()
    run = run_playbook(tmp_path, [
        device_task(criteria={"os": ["LINUX"]}, policy_name="Nope"),
        device_task(criteria={"os": ["LINUXX"]}, quarantined=True),
        device_task(criteria={"os": "LINUX"}, quarantined=True),
        device_task(criteria={"os": ["LINUX"]}),
        device_task(quarantined=True),
        device_task(criteria={"os": ["LINUX"]}, policy_id=1, policy_name="Standard"),
        device_task(criteria={"os": ["LINUX"]}, quarantined=True, batch_size=0),
        device_task(device_ids=[999999999], quarantined=True),
        # an empty selection never means every device
        device_task(device_ids=[], quarantined=True),
        device_task(criteria={}, quarantined=True),
        device_task(criteria={"os": []}, quarantined=True),
        device_task(query="", quarantined=True),
        device_task(query="{{ '' }}", quarantined=True),
        device_task(all_devices=True, query="name:host-00001", quarantined=True),
        # the blast-radius guard counts matches, not only the devices that need a change
        device_task(criteria={"os": ["LINUX"]}, quarantined=True, max_devices=3),
        device_task(criteria={"polcy_id": [6521]}, quarantined=True),
        device_task(criteria={"os": ["LINUX"]}, sensor_version={"WINDOWS_10": "3.9.1.2451"}),
        device_task(criteria={"os": ["LINUX"]}, policy_id=-1),
    ], connection=api_key_connection(sim))
    assert writes(sim.requests(since=mark)) == []
    messages = [run[index]["msg"] for index in range(18)]
    assert all(run[index]["failed"] for index in range(18))
    assert messages[0] == "no policy is named 'Nope'. Fix: use one of: Advanced, Monitored, Standard"
    assert "criteria.os has unknown value(s) LINUXX" in messages[1]
    assert "criteria.os must be a list" in messages[2]
    assert messages[3].startswith("nothing to enforce")
    assert messages[4].startswith("no devices are selected. Fix: set device_ids, criteria or query, or all_devices")
    assert "mutually exclusive" in messages[5]
    assert "batch_size must be between 1 and 10000" in messages[6]
    assert messages[7].startswith("the selection matched no device")
    assert messages[8].startswith("device_ids is empty") and messages[9].startswith("criteria is empty")
    assert messages[10].startswith("criteria.os is an empty list")
    assert messages[11].startswith("query is blank") and messages[12].startswith("query is blank")
    assert "all_devices: true cannot be combined with query" in messages[13]
    linux = len([d for d in fleet(sim) if d["os"] == "LINUX"])
    assert messages[14].startswith("the selection matches %d devices, more than max_devices (3); nothing was "
                                   "changed" % linux)
    assert "criteria has unknown key(s) polcy_id" in messages[15]
    assert "sensor_version has unknown key(s) WINDOWS_10. Fix: use one of AMAZON_LINUX, MAC" in messages[16]
    assert "policy_id must be an ID of 1 or more, not -1" in messages[17]
    # only the policy summary, the 8th task's search and the guarded task's search reached the server
    assert apis(sim.requests(since=mark)) == ["policies.summary", "devices.search", "devices.search"]


def test_partial_batch_failure_reports_done_and_not_done_and_a_rerun_finishes(sim, tmp_path):
    linux = sorted(d["id"] for d in fleet(sim) if d["os"] == "LINUX" and d["status"] not in NO_SENSOR
                   and not d["quarantined"])
    assert len(linux) > 4
    # A definite rejection (400) of the second batch; lost answers and 5xx are reconciled instead (test_fault_suite).
    sim.add_fault(path="device_actions", status=400, after=1, count=1)
    task = device_task(criteria={"os": ["LINUX"]}, quarantined=True, batch_size=2)
    run = run_tasks(tmp_path, [task], connection=api_key_connection(sim))
    result = run[0]
    assert result["failed"] is True and result["changed"] is True
    assert result["msg"].startswith("QUARANTINE stopped after 2 of %d devices: POST " % len(linux))
    assert result["done_device_ids"] == linux[:2] and result["not_done_device_ids"] == linux[2:]
    state = sim.devices(linux)
    assert [i for i in linux if state[i]["quarantined"]] == linux[:2]

    mark = sim.mark()
    rerun = run_tasks(tmp_path, [task], connection=api_key_connection(sim))[0]
    assert rerun["changed"] is True and rerun["actions"][0]["count"] == len(linux) - 2
    assert all(d["quarantined"] for d in sim.devices(linux).values())
    assert len(writes(sim.requests(since=mark))) == -(-(len(linux) - 2) // 2)


def run_in_background(*args, **kwargs):
    outcome = {}

    def target():
        outcome["run"] = run_playbook(*args, **kwargs)

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def wait_for_search(sim, mark, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "devices.search" in apis(sim.requests(since=mark)):
            return
        time.sleep(0.05)
    raise AssertionError("the module never searched")


@pytest.mark.parametrize("answer_404", [False, True])
def test_device_deleted_between_search_and_action(sim, tmp_path, answer_404):
    ids = sorted(d["id"] for d in fleet(sim) if d["status"] == "REGISTERED" and not d["quarantined"])[:4]
    rule = {"path": "device_actions", "latency_ms": 2500, "count": 1}
    if answer_404:
        rule["status"] = 404
    sim.add_fault(**rule)
    mark = sim.mark()
    thread, outcome = run_in_background(tmp_path, [device_task(device_ids=ids, quarantined=True)],
                                        connection=api_key_connection(sim))
    wait_for_search(sim, mark)
    sim.delete_device(ids[1])
    thread.join(timeout=120)
    result = outcome["run"][0]
    assert not result.get("failed"), result
    remaining = [ids[0]] + ids[2:]
    assert all(d["quarantined"] for d in sim.devices(remaining).values())
    sent = writes(sim.requests(since=mark))
    if answer_404:
        # one re-check search, then the batch again without the vanished device
        assert result["missing_device_ids"] == [ids[1]]
        assert result["actions"][0]["count"] == 3 and result["actions"][0]["batches"] == 2
        entries = sim.requests(since=mark)
        assert [(e["api"], e["status"]) for e in entries] == [
            ("devices.search", 200), ("devices.actions", 404), ("devices.search", 200), ("devices.actions", 204)]
        assert entries[2]["body"]["criteria"] == {"id": ids}
        assert [sorted(e["body"]["device_id"]) for e in sent] == [remaining]
    else:
        # the API ignored the unknown id: nothing lost, nothing to report
        assert [sorted(e["body"]["device_id"]) for e in sent] == [ids]
        assert sent[0]["unknown_ids"] == [ids[1]]


def test_device_info_selection_sort_limit_and_exclusions(sim, tmp_path):
    devices = fleet(sim)
    linux = sorted(d["id"] for d in devices if d["os"] == "LINUX")
    linux_not_dereg = sorted(d["id"] for d in devices if d["os"] == "LINUX" and d["status"] != "DEREGISTERED")
    mark = sim.mark()
    run = run_tasks(tmp_path, [
        info_task(),
        info_task(criteria={"os": ["LINUX"]}),
        info_task(criteria={"os": ["LINUX"]}, exclusions={"status": ["DEREGISTERED"]}),
        info_task(device_ids=linux[:3]),
        info_task(sort=[{"field": "name", "order": "DESC"}], limit=5),
        info_task(criteria={"os": ["LINUX"]}, limit=0),
        info_task(query="name:host-00001"),
    ], connection=api_key_connection(sim), args=["--check"])
    assert run[0]["num_found"] == len(devices) and len(run[0]["devices"]) == len(devices)
    assert sorted(d["id"] for d in run[1]["devices"]) == linux
    assert sorted(d["id"] for d in run[2]["devices"]) == linux_not_dereg
    assert sorted(d["id"] for d in run[3]["devices"]) == linux[:3]
    names = sorted((d["name"] for d in devices), reverse=True)[:5]
    assert [d["name"] for d in run[4]["devices"]] == names and run[4]["num_found"] == len(devices)
    assert run[5]["devices"] == [] and run[5]["num_found"] == len(linux)
    assert [d["name"] for d in run[6]["devices"]] == ["host-00001"]
    assert all(run[index]["changed"] is False for index in range(7))
    entries = sim.requests(since=mark)
    assert apis(entries) == ["devices.search"] * 7 and writes(entries) == []
    assert entries[4]["body"]["sort"] == [{"field": "name", "order": "DESC"}]
    assert entries[1]["body"] == {"criteria": {"os": ["LINUX"]}, "rows": 10000}


def run_quarantine_playbook(tmp_path, sim, extra_vars, check=False):
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith(("CBC_", "CBAPI_")))
    env.update(ANSIBLE_COLLECTIONS_PATH=collections_root(os.path.join(str(tmp_path), "collections")),
               ANSIBLE_NOCOLOR="1", HOME=str(tmp_path))
    variables = dict(extra_vars, cbc_connection=api_key_connection(sim), ansible_python_interpreter=sys.executable)
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
               os.path.join(REPO_ROOT, "playbooks", "quarantine.yml"), "-e", json.dumps(variables)]
    if check:
        command += ["--check", "--diff"]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=300)


def test_quarantine_playbook_needs_confirmation_and_acts_by_name(sim, tmp_path):
    target = [d for d in fleet(sim) if d["status"] == "REGISTERED" and not d["quarantined"]][:2]
    names = [d["name"] for d in target]
    mark = sim.mark()
    refused = run_quarantine_playbook(tmp_path, sim, {"quarantine_hosts": names})
    assert refused.returncode != 0 and "quarantine_confirm=yes" in refused.stdout
    preview = run_quarantine_playbook(tmp_path, sim, {"quarantine_hosts": names}, check=True)
    assert preview.returncode == 0, preview.stdout
    unknown = run_quarantine_playbook(tmp_path, sim, {"quarantine_hosts": names + ["no-such-host"],
                                                      "quarantine_confirm": "yes"})
    assert unknown.returncode != 0 and "No device is named no-such-host" in unknown.stdout
    assert writes(sim.requests(since=mark)) == []

    done = run_quarantine_playbook(tmp_path, sim, {"quarantine_hosts": names, "quarantine_confirm": "yes"})
    assert done.returncode == 0, done.stdout
    assert "Quarantine: 2 device(s) changed, 0 already in that state." in done.stdout
    assert all(d["quarantined"] for d in sim.devices([d["id"] for d in target]).values())
    released = run_quarantine_playbook(tmp_path, sim, {"quarantine_hosts": names, "quarantine_confirm": "yes",
                                                       "quarantine_action": "release"})
    assert released.returncode == 0 and "Release: 2 device(s) changed" in released.stdout
    assert not any(d["quarantined"] for d in sim.devices([d["id"] for d in target]).values())
