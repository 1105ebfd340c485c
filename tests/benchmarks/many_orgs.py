# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: playbooks/mssp_baseline.yml on one org against five orgs with five forks, in one run against one
simulator (reset before each job). Prints one table; it is a measurement, not a test.

    .venv/bin/python tests/benchmarks/many_orgs.py [--repeat 3] [--org-devices 200]
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "simulator"))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "integration"))

from cbcsim.testing import Simulator  # noqa: E402  pylint: disable=wrong-import-position
from device_fleet import print_table  # noqa: E402  pylint: disable=wrong-import-position
from playbook_runner import run_environment  # noqa: E402  pylint: disable=wrong-import-position


def inventory(sim, work_dir, orgs):
    hosts = {}
    for number in range(1, orgs + 1):
        org_key = "MSSP%04d" % number
        hosts[org_key.lower()] = {"cbc_connection": {
            "url": sim.url, "org_key": org_key, "ssl_cert_file": sim.ca_file,
            "token": "%s/%sKEY" % ((org_key + "SECRET").ljust(24, "0"), org_key)}}
    path = os.path.join(work_dir, "orgs-%d.yml" % orgs)
    with open(path, "w") as handle:
        yaml.safe_dump({"cbc_orgs": {"hosts": hosts}}, handle)
    return path


def run_baseline(work_dir, inventory_path, forks):
    env = run_environment(work_dir, isolate=False)
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory_path, "-f", str(forks),
               os.path.join(REPO_ROOT, "playbooks", "mssp_baseline.yml")]
    started = time.monotonic()
    process = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    if process.returncode != 0:
        raise SystemExit("mssp_baseline failed:\n" + process.stdout[-3000:] + process.stderr[-2000:])
    return elapsed, process.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--org-devices", type=int, default=200)
    args = parser.parse_args()
    work_dir = tempfile.mkdtemp(prefix="cbc-orgs-")
    sim = Simulator.start(os.path.join(work_dir, "sim"), devices=5,
                          extra_args=["--orgs", "5", "--org-devices", str(args.org_devices)])
    try:
        jobs = [("1 org", inventory(sim, work_dir, 1), 1), ("5 orgs, forks 5", inventory(sim, work_dir, 5), 5)]
        walls = dict((label, {"first run": [], "re-run": []}) for label, unused, unused_forks in jobs)
        requests, statuses = {}, {}
        for unused_round in range(args.repeat):
            for label, path, forks in jobs:
                sim.reset()
                for phase in ("first run", "re-run"):
                    mark = sim.mark()
                    elapsed, output = run_baseline(work_dir, path, forks)
                    walls[label][phase].append(elapsed)
                    statuses[(label, phase)] = sorted(set(re.findall(r'"mssp\d{4}: (\w+) ', output)))
                    requests[(label, phase)] = len(sim.requests(since=mark))
    finally:
        sim.stop()
    one = dict((phase, statistics.median(values)) for phase, values in walls["1 org"].items())
    rows = []
    for label, unused, forks in jobs:
        for phase in ("first run", "re-run"):
            wall = statistics.median(walls[label][phase])
            rows.append((label, phase, requests[(label, phase)], "%.2f" % wall, "%.2fx" % (wall / one[phase]),
                         ", ".join(statuses[(label, phase)])))
    print_table("playbooks/mssp_baseline.yml (one simulator, %d CPUs, median of %d)" % (os.cpu_count(), args.repeat),
                ("orgs", "run", "requests", "wall s", "vs 1 org", "orgs were"), rows)


if __name__ == "__main__":
    main()
