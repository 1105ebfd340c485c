# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: quarantine the Linux half of a 20,000-device fleet, then run the same job again.

Compares carbonblack.cloud.cbc_device (real ansible-playbook) with the official SDK in a plain
script, both against the bundled simulator. Prints one table; it is a measurement, not a test.

    .venv/bin/python tests/benchmarks/device_fleet.py [--devices 20000]
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
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
from playbook_runner import collections_root  # noqa: E402  pylint: disable=wrong-import-position

ORG = "ABCD1234"
TOKEN = "FULLSECRETKEY00000000000/FULLACCESS"

# Runs a command and reports the peak RSS of its process tree's largest child, in KiB.
MEASURE_WRAPPER = textwrap.dedent("""\
    import resource, subprocess, sys
    code = subprocess.call(sys.argv[2:])
    with open(sys.argv[1], "a") as out:
        out.write("%d\\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    sys.exit(code)
""")

SDK_JOB = textwrap.dedent("""\
    import sys
    from cbc_sdk import CBCloudAPI
    from cbc_sdk.platform import Device
    url, ca_file = sys.argv[1], sys.argv[2]
    api = CBCloudAPI(url=url, token="%s", org_key="%s", ssl_verify=True, ssl_cert_file=ca_file)
    query = api.select(Device).set_os(["LINUX"])
    ids = [device.id for device in query if not device.quarantined]
    if ids:
        api.device_quarantine(ids, True)
    print(len(ids))
""" % (TOKEN, ORG))


def measured_python(work_dir):
    """An interpreter wrapper for ansible_python_interpreter that records the module's peak RSS."""
    wrapper = os.path.join(work_dir, "measure.py")
    with open(wrapper, "w") as handle:
        handle.write(MEASURE_WRAPPER)
    script = os.path.join(work_dir, "python-measured")
    rss_file = os.path.join(work_dir, "rss.txt")
    with open(script, "w") as handle:
        handle.write("#!/bin/sh\nexec %s %s %s %s \"$@\"\n" % (sys.executable, wrapper, rss_file, sys.executable))
    os.chmod(script, 0o755)
    return script, rss_file


def run_module_job(sim, work_dir):
    interpreter, rss_file = measured_python(work_dir)
    playbook = os.path.join(work_dir, "quarantine.yml")
    with open(playbook, "w") as handle:
        json.dump([{
            "name": "benchmark", "hosts": "localhost", "connection": "local", "gather_facts": False,
            "vars": {"ansible_python_interpreter": interpreter},
            "tasks": [{"name": "quarantine the Linux devices", "register": "job",
                       "carbonblack.cloud.cbc_device": {
                           "url": sim.url, "org_key": ORG, "token": TOKEN, "ssl_cert_file": sim.ca_file,
                           "criteria": {"os": ["LINUX"]}, "quarantined": True}},
                      {"name": "report", "ansible.builtin.debug": {"msg": "CHANGED={{ job.changed }}"}}],
        }], handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_root(os.path.join(work_dir, "collections")),
               ANSIBLE_NOCOLOR="1")
    rows = []
    for label in ("cbc_device, first run", "cbc_device, re-run"):
        if os.path.exists(rss_file):
            os.unlink(rss_file)
        mark = sim.mark()
        started = time.monotonic()
        process = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                                  playbook], env=env, capture_output=True, text=True, check=False)
        elapsed = time.monotonic() - started
        if process.returncode != 0:
            raise SystemExit("playbook failed:\n" + process.stdout[-3000:] + process.stderr[-3000:])
        with open(rss_file) as handle:
            peak_kib = max(int(line) for line in handle if line.strip())
        rows.append(row(label, sim.requests(since=mark), elapsed, peak_kib,
                        "changed=%s" % ("CHANGED=True" in process.stdout)))
    return rows


def run_sdk_job(sim, work_dir):
    script = os.path.join(work_dir, "sdk_job.py")
    with open(script, "w") as handle:
        handle.write(SDK_JOB)
    interpreter, rss_file = measured_python(work_dir)
    rows = []
    for label in ("official SDK, first run", "official SDK, re-run"):
        if os.path.exists(rss_file):
            os.unlink(rss_file)
        mark = sim.mark()
        started = time.monotonic()
        process = subprocess.run([interpreter, script, sim.url, sim.ca_file], capture_output=True, text=True,
                                 check=False)
        elapsed = time.monotonic() - started
        if process.returncode != 0:
            raise SystemExit("SDK job failed:\n" + process.stderr[-3000:])
        with open(rss_file) as handle:
            peak_kib = max(int(line) for line in handle if line.strip())
        rows.append(row(label, sim.requests(since=mark), elapsed, peak_kib, "%s devices sent" % process.stdout.strip()))
    return rows


def row(label, entries, elapsed, peak_kib, note):
    searches = sum(1 for entry in entries if entry["api"] in ("devices.search", "devices.scroll"))
    writes = sum(1 for entry in entries if entry["write"])
    return (label, len(entries), searches, writes, "%.1f" % elapsed, "%.0f" % (peak_kib / 1024.0), note)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=20000)
    args = parser.parse_args()
    work_dir = tempfile.mkdtemp(prefix="cbc-bench-")
    header = ("job", "requests", "searches", "writes", "wall s", "peak MiB", "result")
    rows = []
    for job in (run_module_job, run_sdk_job):
        sim = Simulator.start(os.path.join(work_dir, job.__name__), devices=args.devices)
        try:
            rows.extend(job(sim, os.path.join(work_dir, job.__name__)))
        finally:
            sim.stop()
    widths = [max(len(str(item[index])) for item in rows + [header]) for index in range(len(header))]
    print("Quarantine the %d Linux devices of %d (simulator, this machine: %d CPUs)"
          % (args.devices // 2, args.devices, os.cpu_count()))
    for item in [header] + rows:
        print("| " + " | ".join(str(value).ljust(width) for value, width in zip(item, widths)) + " |")


if __name__ == "__main__":
    main()
