# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Soak benchmark: a baseline playbook run many times against a simulator that faults ~5% of requests.

Each round resets the simulator, runs the baseline playbook (two policies created and one updated, a data
forwarder created, a few thousand devices quarantined in batches) with random faults of every kind on every API
request, then runs it again without faults as verification. It prints one table; it is a measurement, not a test.

    .venv/bin/python tests/benchmarks/soak.py [--runs 50] [--devices 4000] [--rate 0.05] [--seed 1]
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import collections
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "simulator"))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "integration"))

from cbcsim.testing import Simulator  # noqa: E402  pylint: disable=wrong-import-position
from inprocess import SimulatorState, applied_writes  # noqa: E402  pylint: disable=wrong-import-position
from playbook_runner import api_key_connection, run_play  # noqa: E402  pylint: disable=wrong-import-position

API_PATHS = r"^/(appservices|policyservice|data_forwarder)/"
TIMEOUT = 2
# Every kind of fault, each as likely as the others; together they hit about --rate of the requests.
KINDS = collections.OrderedDict((
    ("429 Retry-After", {"status": 429, "retry_after": 1}),
    ("429", {"status": 429}),
    ("500", {"status": 500}),
    ("502", {"status": 502}),
    ("503", {"status": 503}),
    ("504", {"status": 504}),
    ("dropped", {"drop": True}),
    ("answer lost", {"drop": True, "apply": True}),
    ("503 after apply", {"status": 503, "apply": True}),
    ("slower than timeout", {"latency_ms": TIMEOUT * 1000 + 500}),
    ("answer slower than timeout", {"latency_ms": TIMEOUT * 1000 + 500, "apply": True}),
))

TASKS = [
    {"name": "Policies", "carbonblack.cloud.cbc_policy": {"policies": [
        {"name": "Soak Servers", "priority_level": "HIGH", "description": "soak"},
        {"name": "Soak Workstations", "priority_level": "LOW", "sensor_settings": {"SHOW_UI": True}},
        {"name": "Advanced", "description": "changed by the soak"},
    ]}},
    {"name": "Forwarder", "carbonblack.cloud.cbc_forwarder": {
        "name": "soak-alerts", "type": "alert", "s3_bucket_name": "soak-bucket", "s3_prefix": "alerts"}},
    {"name": "Quarantine the Linux devices", "carbonblack.cloud.cbc_device": {
        "criteria": {"os": ["LINUX"]}, "quarantined": True, "batch_size": 250}},
]


def snapshot(state):
    devices = sorted((d["id"], d["quarantined"], d["status"]) for d in state.devices())
    policies = sorted((p["name"], p["priority_level"], p.get("description")) for p in state.policies())
    forwarders = sorted((f["name"], f.get("type"), f.get("s3_bucket_name")) for f in state.forwarders())
    return {"devices": devices, "policies": policies, "forwarders": forwarders}


def duplicates(state, entries):
    """Objects created twice and devices acted on twice by one run."""
    names = collections.Counter(p["name"] for p in state.policies())
    names.update("forwarder " + f["name"] for f in state.forwarders())
    count = sum(n - 1 for n in names.values() if n > 1)
    acted = collections.Counter()
    for entry in applied_writes(entries):
        if entry["api"] == "devices.actions":
            acted.update(entry["body"]["device_id"])
    return count + sum(n - 1 for n in acted.values() if n > 1)


def add_random_faults(sim, rate, seed):
    share = 1.0 - (1.0 - rate) ** (1.0 / len(KINDS))
    for index, (label, rule) in enumerate(KINDS.items()):
        sim.add_fault(path=API_PATHS, probability=share, seed=seed * 100 + index, name=label, **rule)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--devices", type=int, default=4000)
    parser.add_argument("--rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="cbc-soak-")
    sim = Simulator.start(os.path.join(work, "sim"), devices=args.devices)
    connection = api_key_connection(sim, timeout=TIMEOUT)
    state = SimulatorState(sim)
    try:
        sim.reset()
        mark = sim.mark()
        reference = run_play(os.path.join(work, "reference"), {"tasks": TASKS}, [], connection=connection)
        assert reference.rc == 0, reference.output[-2000:]
        # Counted before the snapshot, whose policy summary read is a request too.
        reference_requests = len(sim.requests(since=mark))
        expected = snapshot(state)
        totals = collections.Counter()
        fired = collections.Counter()
        walls = []
        failures = []
        for run in range(args.runs):
            sim.reset()
            add_random_faults(sim, args.rate, args.seed + run)
            mark = sim.mark()
            started = time.monotonic()
            faulted = run_play(os.path.join(work, "run-%d" % run), {"tasks": TASKS}, [], connection=connection)
            walls.append(time.monotonic() - started)
            sim.clear_faults()
            time.sleep(TIMEOUT + 1)     # let a slow faulted request finish before the state is read
            entries = sim.requests(since=mark)
            fired.update(entry["fault"] for entry in entries if entry["fault"])
            totals["requests"] += len(entries)

            totals["duplicates"] += duplicates(state, entries)
            if faulted.rc == 0 and snapshot(state) == expected:
                totals["converged in the faulted run"] += 1
            else:
                failures.append((run, [line for line in faulted.output.splitlines() if '"msg"' in line][-1:]))
            mark = sim.mark()
            verify = run_play(os.path.join(work, "verify-%d" % run), {"tasks": TASKS}, [], connection=connection)
            verify_writes = [e for e in sim.requests(since=mark) if e["write"]]
            if verify.rc == 0 and snapshot(state) == expected:
                totals["converged after verification"] += 1
            else:
                totals["wrong final states"] += 1
            totals["writes in verification runs"] += len(verify_writes) if faulted.rc == 0 else 0
    finally:
        sim.stop()

    runs = args.runs

    def share(key):
        return "%d (%.0f%%)" % (totals[key], 100.0 * totals[key] / runs)

    rows = [
        ("runs", runs),
        ("fault rate per request", "%.1f%%" % (args.rate * 100)),
        ("requests in faulted runs", totals["requests"]),
        ("requests of a fault-free run", reference_requests),
        ("faults injected", sum(fired.values())),
        ("extra requests (retries and read-backs)", totals["requests"] - runs * reference_requests),
        ("converged in the faulted run", share("converged in the faulted run")),
        ("converged after verification", share("converged after verification")),
        ("duplicates", totals["duplicates"]),
        ("wrong final states", totals["wrong final states"]),
        ("writes in verification runs after a converged run", totals["writes in verification runs"]),
        ("wall s per faulted run (mean / max)", "%.1f / %.1f" % (sum(walls) / len(walls), max(walls))),
    ]
    width = max(len(label) for label, unused in rows)
    print("| %-*s | value |" % (width, "measure"))
    print("|%s|-------|" % ("-" * (width + 2)))
    for label, value in rows:
        print("| %-*s | %s |" % (width, label, value))
    print()
    print("faults by kind: " + ", ".join("%s %d" % (kind, fired[kind]) for kind in KINDS))
    for run, message in failures:
        print("run %d did not converge in the faulted run: %s" % (run, " ".join(message)[:300]))


if __name__ == "__main__":
    main()
