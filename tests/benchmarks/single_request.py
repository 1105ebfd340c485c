# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the cost of one task that sends one request, cbc_policy_info by id against ansible.builtin.uri.

Both read the same policy (GET /policyservice/v1/orgs/{org}/policies/{id}) from one simulator, in real
``ansible-playbook`` runs. A playbook of 1 task and one of 1 + ``--tasks`` tasks are each run ``--repeat`` times;
the cost of one task is the difference of the median wall times divided by ``--tasks`` (it leaves out
ansible-playbook's own start-up, which is the same for both). Prints one table; it is a measurement, not a test.

    .venv/bin/python tests/benchmarks/single_request.py [--tasks 10] [--repeat 5]
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "simulator"))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "integration"))

from cbcsim.testing import Simulator  # noqa: E402  pylint: disable=wrong-import-position
from device_fleet import playbook_command, print_table  # noqa: E402  pylint: disable=wrong-import-position
from inprocess import SimulatorState  # noqa: E402  pylint: disable=wrong-import-position
from playbook_runner import FULL_TOKEN, ORG  # noqa: E402  pylint: disable=wrong-import-position


def module_task(sim, policy_id):
    return {"name": "read the policy", "carbonblack.cloud.cbc_policy_info": {
        "url": sim.url, "org_key": ORG, "token": FULL_TOKEN, "ssl_cert_file": sim.ca_file, "id": [policy_id]}}


def uri_task(sim, policy_id):
    return {"name": "read the policy", "ansible.builtin.uri": {
        "url": "%s/policyservice/v1/orgs/%s/policies/%d" % (sim.url, ORG, policy_id),
        "headers": {"X-Auth-Token": FULL_TOKEN}, "ca_path": sim.ca_file}}


def run_playbook(work_dir, tasks):
    command, env = playbook_command(work_dir, tasks, sys.executable)
    started = time.monotonic()
    process = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    if process.returncode != 0:
        raise SystemExit("playbook failed:\n" + process.stdout[-3000:] + process.stderr[-3000:])
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work_dir = tempfile.mkdtemp(prefix="cbc-bench-")
    sim = Simulator.start(os.path.join(work_dir, "sim"), devices=50)
    rows = []
    try:
        policy_id = SimulatorState(sim).policies()[0]["id"]
        results = {}
        for label, task in (("ansible.builtin.uri", uri_task), ("cbc_policy_info", module_task)):
            one, many = [], []
            for unused_round in range(args.repeat):
                mark = sim.mark()
                one.append(run_playbook(work_dir, [task(sim, policy_id)]))
                requests_one = len(sim.requests(since=mark))
                many.append(run_playbook(work_dir, [task(sim, policy_id)] * (1 + args.tasks)))
            per_task = (statistics.median(many) - statistics.median(one)) / args.tasks
            results[label] = per_task
            rows.append([label, requests_one, "%.2f" % statistics.median(one), "%.3f" % per_task])
    finally:
        sim.stop()
    base = results["ansible.builtin.uri"]
    for row in rows:
        row.append("%.2fx" % (results[row[0]] / base))
    print_table("One task, one request (GET a policy by id; %d CPUs, median of %d)" % (os.cpu_count(), args.repeat),
                ("task", "requests", "playbook of 1 task, wall s", "one more task, s", "vs uri"),
                [tuple(row) for row in rows])


if __name__ == "__main__":
    main()
