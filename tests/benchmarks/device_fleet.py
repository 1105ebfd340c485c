# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: quarantine the Linux half of a 20,000-device fleet, then run the same job again.

Three ways of doing the same job, in one run against one simulator (reset to its seeded fleet before each job):
the official SDK in a plain script used well (one search of 10,000 rows, one action call), an
``ansible.builtin.uri`` playbook (one search, one action), and ``carbonblack.cloud.cbc_device`` in a real
``ansible-playbook`` run. Prints one table; it is a measurement, not a test.

    .venv/bin/python tests/benchmarks/device_fleet.py [--devices 20000] [--repeat 5] [--skip-uri]

Wall times are the median of ``--repeat`` runs of each job; peak memory is the largest resident set of the
process doing the work (the module's process, the SDK script).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "simulator"))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "integration"))

from cbcsim.testing import Simulator  # noqa: E402  pylint: disable=wrong-import-position
from playbook_runner import FULL_TOKEN, ORG, collections_root  # noqa: E402  pylint: disable=wrong-import-position

NO_SENSOR = ("DEREGISTERED", "UNINSTALLED", "DELETED")

# Runs a command and appends the peak RSS (KiB) of its largest child process to a file.
MEASURE_WRAPPER = textwrap.dedent("""\
    import resource, subprocess, sys
    code = subprocess.call(sys.argv[2:])
    with open(sys.argv[1], "a") as out:
        out.write("%d\\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    sys.exit(code)
""")

# The SDK used well: one search page of 10,000 rows (set_max_rows), one quarantine call with every id.
SDK_JOB = textwrap.dedent("""\
    import sys
    from cbc_sdk import CBCloudAPI
    from cbc_sdk.platform import Device
    url, ca_file, token, org_key = sys.argv[1:5]
    api = CBCloudAPI(url=url, token=token, org_key=org_key, ssl_verify=True, ssl_cert_file=ca_file)
    query = api.select(Device).set_os(["LINUX"]).set_max_rows(10000)
    ids = [device.id for device in query if not device.quarantined and device.status not in %r]
    if ids:
        api.device_quarantine(ids, True)
    print("%%d devices sent" %% len(ids))
""" % (NO_SENSOR,))


def uri_tasks(sim):
    """The same job with ansible.builtin.uri: one search, one action for the devices that need it."""
    common = {"headers": {"X-Auth-Token": FULL_TOKEN}, "ca_path": sim.ca_file, "method": "POST", "body_format": "json"}
    base = "%s/appservices/v6/orgs/%s" % (sim.url, ORG)
    return [
        {"name": "search", "register": "found", "ansible.builtin.uri": dict(
            common, url=base + "/devices/_search", body={"criteria": {"os": ["LINUX"]}, "rows": 10000})},
        {"name": "pick", "ansible.builtin.set_fact": {"todo": (
            "{{ found.json.results | rejectattr('quarantined') | rejectattr('status', 'in', %s)"
            " | map(attribute='id') | list }}" % list(NO_SENSOR))}},
        {"name": "quarantine", "when": "todo | length > 0", "ansible.builtin.uri": dict(
            common, url=base + "/device_actions", status_code=204,
            body={"action_type": "QUARANTINE", "device_id": "{{ todo }}", "options": {"toggle": "ON"}})},
        {"name": "report", "ansible.builtin.debug": {"msg": "{{ todo | length }} devices sent"}},
    ]


def module_tasks(sim):
    """cbc_device doing the job; with a local connection it runs inside the ansible-playbook worker."""
    return [
        {"name": "quarantine the Linux devices", "register": "job", "carbonblack.cloud.cbc_device": {
            "url": sim.url, "org_key": ORG, "token": FULL_TOKEN, "ssl_cert_file": sim.ca_file,
            "criteria": {"os": ["LINUX"]}, "quarantined": True}},
        {"name": "report", "ansible.builtin.debug": {"msg": "{{ job.changed_device_ids | length }} devices sent"}},
    ]


def engine_tasks(unused_sim):
    """No job at all: ansible-playbook's own start-up and memory, for reading the other rows."""
    return [{"name": "report", "ansible.builtin.debug": {"msg": "0 devices sent"}}]


class Measured:
    """An interpreter wrapper that records the peak RSS of the process it runs."""

    def __init__(self, work_dir):
        wrapper = os.path.join(work_dir, "measure.py")
        with open(wrapper, "w") as handle:
            handle.write(MEASURE_WRAPPER)
        self.rss_file = os.path.join(work_dir, "rss.txt")
        self.python = os.path.join(work_dir, "python-measured")
        with open(self.python, "w") as handle:
            handle.write("#!/bin/sh\nexec %s %s %s %s \"$@\"\n" % (sys.executable, wrapper, self.rss_file,
                                                                   sys.executable))
        os.chmod(self.python, 0o755)

    def run(self, command, env=None):
        if os.path.exists(self.rss_file):
            os.unlink(self.rss_file)
        started = time.monotonic()
        process = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        elapsed = time.monotonic() - started
        if process.returncode != 0:
            raise SystemExit("%s failed:\n%s%s" % (command[0], process.stdout[-3000:], process.stderr[-3000:]))
        with open(self.rss_file) as handle:
            peak_kib = max(int(line) for line in handle if line.strip())
        return process.stdout, elapsed, peak_kib


def playbook_command(work_dir, tasks, interpreter, play_vars=None):
    """``(command, environment)`` of an ansible-playbook run of ``tasks`` on localhost with this collection."""
    playbook = os.path.join(work_dir, "playbook-%d.yml" % len(os.listdir(work_dir)))
    with open(playbook, "w") as handle:
        json.dump([{"name": "benchmark", "hosts": "localhost", "connection": "local", "gather_facts": False,
                    "vars": dict(play_vars or {}, ansible_python_interpreter=interpreter), "tasks": tasks}], handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_root(os.path.join(work_dir, "collections")),
               ANSIBLE_NOCOLOR="1")
    return [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", playbook], env


def playbook_runner(work_dir, measured, tasks, play_vars=None):
    command, env = playbook_command(work_dir, tasks, sys.executable, play_vars)
    # Measured as a whole, the largest of its processes: cbc_device runs inside the ansible-playbook worker
    # (unless cbc_run_on_controller is false), uri in a module process.
    command = [measured.python] + command

    def run():
        stdout, elapsed, peak = measured.run(command, env=env)
        sent = [line for line in stdout.splitlines() if "devices sent" in line]
        return elapsed, peak, sent[-1].split('"')[-2] if sent else "?"
    return run


def sdk_runner(work_dir, measured, sim):
    script = os.path.join(work_dir, "sdk_job.py")
    with open(script, "w") as handle:
        handle.write(SDK_JOB)

    def run():
        stdout, elapsed, peak = measured.run([measured.python, script, sim.url, sim.ca_file, FULL_TOKEN, ORG])
        return elapsed, peak, stdout.strip()
    return run


def measure(sim, jobs, repeat):
    """``repeat`` rounds; in each, every job in turn: reset the fleet, first run, re-run. Jobs take turns so that
    a slower spell of the machine falls on all of them. Median wall time, largest peak memory."""
    rows = {}
    for unused_round in range(repeat):
        for label, run in jobs:
            sim.reset()
            for phase in ("first run", "re-run"):
                mark = sim.mark()
                elapsed, peak, note = run()
                entries = sim.requests(since=mark)
                row = rows.setdefault((label, phase), {"wall": [], "peak": 0})
                row["wall"].append(elapsed)
                row["peak"] = max(row["peak"], peak)
                row.update(requests=len(entries), writes=sum(1 for entry in entries if entry["write"]), note=note)
    return [(label, phase, row["requests"], row["writes"], statistics.median(row["wall"]), row["peak"] / 1024.0,
             row["note"]) for (label, phase), row in rows.items()]


def print_table(title, header, rows):
    widths = [max(len(str(item[index])) for item in rows + [header]) for index in range(len(header))]
    print(title)
    for item in [header] + rows:
        print("| " + " | ".join(str(value).ljust(width) for value, width in zip(item, widths)) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-uri", action="store_true", help="leave out the (slow) ansible.builtin.uri job")
    args = parser.parse_args()
    work_dir = tempfile.mkdtemp(prefix="cbc-bench-")
    sim = Simulator.start(os.path.join(work_dir, "sim"), devices=args.devices)
    try:
        jobs = []
        in_module_process = {"cbc_run_on_controller": False}
        for label, make in (("official SDK script", lambda d, m: sdk_runner(d, m, sim)),
                            ("ansible.builtin.uri", lambda d, m: playbook_runner(d, m, uri_tasks(sim))),
                            ("cbc_device", lambda d, m: playbook_runner(d, m, module_tasks(sim))),
                            ("cbc_device, module process",
                             lambda d, m: playbook_runner(d, m, module_tasks(sim), in_module_process)),
                            ("ansible-playbook, no job", lambda d, m: playbook_runner(d, m, engine_tasks(sim)))):
            if args.skip_uri and label == "ansible.builtin.uri":
                continue
            job_dir = os.path.join(work_dir, "job%d" % len(jobs))
            os.makedirs(job_dir)
            jobs.append((label, make(job_dir, Measured(job_dir))))
        rows = measure(sim, jobs, args.repeat)
    finally:
        sim.stop()
    sdk = dict((row[1], row[4]) for row in rows if row[0] == "official SDK script")
    table = [(label, phase, requests, writes, "%.2f" % wall, "%.2fx" % (wall / sdk[phase]), "%.0f" % peak, note)
             for label, phase, requests, writes, wall, peak, note in rows]
    print_table("Quarantine the Linux devices of %d (one simulator, %d CPUs, median of %d)"
                % (args.devices, os.cpu_count(), args.repeat),
                ("job", "run", "requests", "writes", "wall s", "vs SDK", "peak MiB", "result"), table)


if __name__ == "__main__":
    main()
