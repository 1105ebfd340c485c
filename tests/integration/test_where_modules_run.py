# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a module runs (plugins/plugin_utils/module_action.py), through real ansible-playbook: inside the worker
with a local connection, in a module process of its own with ``cbc_run_on_controller: false``; the same result
either way, the task's ``environment:`` applied, and no secret in the ``-vvvv`` output of either path."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

from playbook_runner import FULL_TOKEN, ORG, run_playbook

SECRET = FULL_TOKEN.split("/", 1)[0]
MISSING_INTERPRETER = "/nonexistent/cbc-test/python3"


def interpreter_that_leaves_a_mark(tmp_path):
    """A Python interpreter wrapper that appends a line to a file each time a module process starts."""
    marks = tmp_path / "module-processes.txt"
    wrapper = tmp_path / "python-marked"
    wrapper.write_text("#!/bin/sh\necho started >> %s\nexec %s \"$@\"\n" % (marks, sys.executable))
    os.chmod(str(wrapper), 0o755)
    return str(wrapper), marks


def policy_info(sim, **task):
    return dict({"carbonblack.cloud.cbc_policy_info": {"url": sim.url, "org_key": ORG, "token": FULL_TOKEN,
                                                       "ssl_cert_file": sim.ca_file}}, **task)


def test_with_a_local_connection_the_module_runs_in_the_worker_and_the_fallback_gives_the_same_result(sim,
                                                                                                      tmp_path):
    marked, marks = interpreter_that_leaves_a_mark(tmp_path)
    mark = sim.mark()
    run = run_playbook(tmp_path, [
        # No module process can start with this interpreter: only the in-worker path can succeed.
        policy_info(sim, vars={"ansible_python_interpreter": MISSING_INTERPRETER}),
        policy_info(sim, vars={"ansible_python_interpreter": marked, "cbc_run_on_controller": False}),
        policy_info(sim, vars={"ansible_python_interpreter": MISSING_INTERPRETER, "cbc_run_on_controller": False}),
        policy_info(sim, vars={"cbc_run_on_controller": "sometimes"}),
    ], args=["-vvvv"])
    in_worker, in_process = run[0], run[1]
    assert not in_worker.get("failed") and not in_process.get("failed"), (in_worker, in_process)
    assert in_worker["policies"] and in_worker["policies"] == in_process["policies"]
    assert sorted(in_worker) == sorted(in_process)
    # -vvvv shows each module's invocation, with the token masked by the module itself.
    assert run.output.count('"token": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"') >= 2
    assert marks.read_text().count("started") == 1
    assert run[2]["failed"] and MISSING_INTERPRETER in str(run[2].get("msg", "")) + run.output
    assert run[3]["failed"] and "cbc_run_on_controller must be true or false" in run[3]["msg"]
    assert len(sim.requests(since=mark)) == 2
    run.assert_no_secret(SECRET)


def test_the_task_environment_check_mode_and_warnings_work_in_the_worker(sim, tmp_path):
    device_id = sim.device_ids()[0]
    environment = {"CBC_URL": sim.url, "CBC_TOKEN": FULL_TOKEN, "CBC_ORG_KEY": ORG}
    mark = sim.mark()
    run = run_playbook(tmp_path, [
        {"carbonblack.cloud.cbc_device": {"ssl_cert_file": sim.ca_file, "device_ids": [device_id],
                                          "quarantined": not sim.device(device_id)["quarantined"]},
         "environment": environment, "check_mode": True, "diff": True},
        {"carbonblack.cloud.cbc_device_info": {"ssl_cert_file": sim.ca_file, "device_ids": [device_id]}},
        {"carbonblack.cloud.cbc_policy": {"url": sim.url, "org_key": ORG, "token": FULL_TOKEN,
                                          "ssl_cert_file": sim.ca_file, "name": "Advanced", "state": "absent",
                                          "force": True}},
    ])
    assert run[0]["changed"] is True and run[0]["changed_device_ids"] == [device_id], run[0]
    assert run[0]["diff"], run[0]
    # Without the task's environment there are no credentials: one task's environment does not reach the next.
    assert run[1]["failed"] and "no complete CBC credentials were given" in run[1]["msg"], run[1]
    # A module's warning is part of its result (as from a module process) and shown once.
    assert run[2]["changed"] is True and len(run[2]["warnings"]) == 1, run[2]
    assert "moves them to the default policy" in run[2]["warnings"][0]
    assert run.output.count("moves them to the default policy") == 1
    seen = sim.requests(since=mark)
    assert [entry["api"] for entry in seen][0] == "devices.search"
    assert [entry["api"] for entry in seen if entry["write"]] == ["policies.delete"]
