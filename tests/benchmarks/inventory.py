# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: ``ansible-inventory --list`` on a 20,000-device fleet with the carbonblack.cloud.cbc_devices plugin.

Four inventories in one run against one simulator: the plugin with an empty cache (it reads the API and writes the
cache), the plugin again with the cache filled (no request), a static YAML inventory of the same hosts, variables and
groups (generated from the plugin's ``--list`` output, device values tagged ``!unsafe`` as the plugin leaves them
untrusted, so both print the same ``--list``), and ``-i localhost,`` (ansible-inventory itself). Every round runs each
in turn; wall time is the median of ``--repeat`` rounds, peak memory the largest resident set of the command
(``getrusage(RUSAGE_CHILDREN)`` in a wrapper around it). The plugin's own share is its row minus the static row.
Prints one table; it is a measurement, not a test.

    .venv/bin/python tests/benchmarks/inventory.py [--devices 20000] [--repeat 3]
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "simulator"))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "integration"))
sys.path.insert(0, HERE)

from cbcsim.testing import Simulator  # noqa: E402  pylint: disable=wrong-import-position
from device_fleet import Measured, print_table  # noqa: E402  pylint: disable=wrong-import-position
from playbook_runner import api_key_connection, plain, run_environment  # noqa: E402  pylint: disable=wrong-import-position

ANSIBLE_INVENTORY = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\d[Tt ]")
KEYED_GROUPS = [{"key": "cbc_policy_name", "prefix": "policy"}, {"key": "cbc_os", "prefix": "os"}]


class Unsafe(str):
    """A string written as ``!unsafe`` (Ansible keeps it untrusted, as the plugin's device values are)."""


def _unsafe_representer(dumper, value):
    return dumper.represent_scalar("!unsafe", str(value))


class InventoryDumper(yaml.SafeDumper):
    pass


InventoryDumper.add_representer(Unsafe, _unsafe_representer)


def _tagged(value):
    if isinstance(value, dict):
        if list(value) == ["__ansible_unsafe"]:
            text = value["__ansible_unsafe"]
            # ansible-core reads "!unsafe '2026-12-01T10:00:00.000Z'" as a datetime: such strings stay plain.
            return text if TIMESTAMP_RE.match(text) else Unsafe(text)
        return dict((key, _tagged(item)) for key, item in value.items())
    if isinstance(value, list):
        return [_tagged(item) for item in value]
    return value


def static_inventory(listed):
    """A YAML inventory with the hosts, variables and groups of an ``ansible-inventory --list`` output."""
    hostvars = listed["_meta"]["hostvars"]
    children = {}
    for group in listed["all"].get("children", []):
        hosts = listed.get(group, {}).get("hosts", [])
        if group != "ungrouped" or hosts:
            children[group] = {"hosts": dict((host, None) for host in hosts)}
    return {"all": {"hosts": dict((host, _tagged(variables)) for host, variables in hostvars.items()),
                    "children": children}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work_dir = tempfile.mkdtemp(prefix="cbc-bench-inventory-")
    sim = Simulator.start(os.path.join(work_dir, "sim"), devices=args.devices)
    try:
        env = run_environment(work_dir, ANSIBLE_INVENTORY_UNPARSED_FAILED="1")
        cache_dir = os.path.join(work_dir, "cache")
        config = dict(api_key_connection(sim), plugin="carbonblack.cloud.cbc_devices", all_devices=True,
                      keyed_groups=KEYED_GROUPS, cache=True, cache_plugin="ansible.builtin.jsonfile",
                      cache_connection=cache_dir)
        plugin_file = os.path.join(work_dir, "fleet.cbc_devices.yml")
        with open(plugin_file, "w") as handle:
            yaml.safe_dump(config, handle, sort_keys=False)
        measured = Measured(work_dir)

        def command(source):
            return [measured.python, ANSIBLE_INVENTORY, "-i", source, "--list"]

        first, unused_elapsed, unused_peak = measured.run(command(plugin_file), env=env)
        listed = json.loads(first)
        static_file = os.path.join(work_dir, "fleet.yml")
        with open(static_file, "w") as handle:
            yaml.dump(static_inventory(listed), handle, Dumper=InventoryDumper, sort_keys=False)
        static_output = measured.run(command(static_file), env=env)[0]
        same = plain(json.loads(static_output)) == plain(listed)

        def cold():
            shutil.rmtree(cache_dir, ignore_errors=True)
            return command(plugin_file)

        jobs = (("cbc_devices, cold (empty cache)", cold), ("cbc_devices, cached", lambda: command(plugin_file)),
                ("static YAML, same hosts and vars", lambda: command(static_file)),
                ("-i localhost, (no hosts)", lambda: command("localhost,")))
        rows = dict((label, {"wall": [], "peak": 0, "requests": 0, "hosts": 0}) for label, unused in jobs)
        for unused_round in range(args.repeat):
            for label, make in jobs:
                argv = make()
                mark = sim.mark()
                stdout, elapsed, peak = measured.run(argv, env=env)
                row = rows[label]
                row["wall"].append(elapsed)
                row["peak"] = max(row["peak"], peak)
                row["requests"] = len(sim.requests(since=mark))
                row["hosts"] = len(json.loads(stdout)["_meta"]["hostvars"])
    finally:
        sim.stop()
    medians = dict((label, (statistics.median(row["wall"]), row["peak"] / 1024.0)) for label, row in rows.items())
    static_wall, static_peak = medians["static YAML, same hosts and vars"]
    empty_wall, empty_peak = medians["-i localhost, (no hosts)"]
    table = []
    for label, unused in jobs:
        row = rows[label]
        wall, peak = medians[label]
        plugin = label.startswith("cbc")
        table.append((label, row["hosts"], row["requests"], "%.2f" % wall, "%.0f" % peak,
                      "%+.2f s, %+.0f MiB" % (wall - static_wall, peak - static_peak) if plugin else "-",
                      "%+.2f s, %+.0f MiB" % (wall - empty_wall, peak - empty_peak) if plugin else "-"))
    print_table("ansible-inventory --list, %d devices (one simulator, %d CPUs, median of %d; hosts, variables and "
                "groups of the static inventory %s the plugin's)" % (args.devices, os.cpu_count(), args.repeat,
                                                                     "identical to" if same else "DIFFERENT from"),
                ("inventory", "hosts", "requests", "wall s", "peak MiB", "plugin minus static", "minus no hosts"),
                table)
    shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
