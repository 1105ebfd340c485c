# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's real ``main()`` in this process against the simulator (no ansible-playbook start-up),
and read the simulator's state back for assertions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time

import pytest
import requests
from ansible_collections.carbonblack.cloud.plugins.plugin_utils.module_action import run_module_in_worker

from playbook_runner import FULL_TOKEN, ORG, api_key_connection, is_scrubbed

MODULES = "ansible_collections.carbonblack.cloud.plugins.modules."
MODULE_PREFIX = "carbonblack.cloud."


class ModuleRun:
    def __init__(self, result, seconds):
        self.result = result
        self.seconds = seconds

    @property
    def failed(self):
        return bool(self.result.get("failed"))

    def __getitem__(self, key):
        return self.result[key]

    def get(self, key, default=None):
        return self.result.get(key, default)


def run_module(name, args, check_mode=False, diff=False):
    """Run ``carbonblack.cloud.<name>`` with ``args``; return its result dict and wall time.

    It runs the way a playbook runs it with a local connection (plugin_utils/module_action.py), without the engine.
    """
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    started = time.monotonic()
    output = run_module_in_worker(MODULES + name, args, {})
    seconds = time.monotonic() - started
    return ModuleRun(as_the_controller_shows(output if isinstance(output, dict) else json.loads(output)), seconds)


def as_the_controller_shows(result):
    """A module's result as a registered variable holds it: with ``failed`` and ``changed`` always set, and
    warnings and deprecations as messages (ansible-core 2.19 modules send summaries, ``{"event": {"msg": ...}}``)."""
    result.setdefault("failed", False)
    result.setdefault("changed", False)
    for key in ("warnings", "deprecations"):
        if isinstance(result.get(key), list):
            result[key] = [item["event"].get("msg") if isinstance(item, dict) and isinstance(item.get("event"), dict)
                           else item for item in result[key]]
    return result


class TaskRuns:
    """The results of ``run_tasks``, read like playbook_runner.PlaybookRun: ``run[index]`` is task ``index``."""

    def __init__(self, results):
        self.results = dict(("task%d" % index, result) for index, result in enumerate(results))
        self.rc = 0
        self.finished = True
        self.output = json.dumps(results)

    def __getitem__(self, index):
        return self.results["task%d" % index]

    def assert_no_secret(self, *secrets):
        for secret in secrets:
            assert secret not in self.output, "a secret appeared in a result"


def run_tasks(work_dir, tasks, connection=None, args=(), env=None):
    """Run playbook-style task dicts (``{"carbonblack.cloud.<module>": options}``, optional ``module_defaults``)
    in this process, one after the other, the way playbook_runner.run_playbook runs them with ansible-playbook:
    ``connection`` is the default of every task (a task's own ``module_defaults`` replace it), ``--check`` and
    ``--diff`` in ``args`` apply to every task, ``env`` is added to the environment of isolate_environment
    (HOME in ``work_dir``), which is restored afterwards. For what does not need the engine (argument and result matrices, request counts)."""
    check_mode = "--check" in args or "-C" in args
    diff = "--diff" in args or "-D" in args
    home = os.path.join(str(work_dir), "home")
    os.makedirs(home, exist_ok=True)
    results = []
    with pytest.MonkeyPatch.context() as patch:
        isolate_environment(patch, home)
        for key, value in (env or {}).items():
            patch.setenv(key, value)
        for task in tasks:
            defaults = task.get("module_defaults", {}).get("group/carbonblack.cloud.cbc", connection) or {}
            (action, options), = [(key, value) for key, value in task.items() if key.startswith(MODULE_PREFIX)]
            run = run_module(action[len(MODULE_PREFIX):], dict(defaults, **(options or {})), check_mode=check_mode,
                             diff=diff)
            results.append(run.result)
    return TaskRuns(results)


def isolate_environment(monkeypatch, tmp_path):
    """No CBC_* variables, proxies, profiles or token cache of the caller's."""
    for key in [name for name in os.environ if is_scrubbed(name)]:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", os.path.join(str(tmp_path), "cache"))
    monkeypatch.chdir(tmp_path)


def applied_writes(entries):
    """The request-log entries of writes the server applied (also those whose answer a fault then lost)."""
    return [entry for entry in entries
            if entry["write"] and (entry.get("applied_status") or entry["status"] or 500) < 400]


class SimulatorState:
    """What the simulator holds, read through its API (policies) and control API (devices, forwarders)."""

    def __init__(self, sim):
        self.sim = sim
        self.session = requests.Session()
        self.session.verify = sim.ca_file
        self.session.trust_env = False
        self.session.headers["X-Auth-Token"] = FULL_TOKEN

    def policies(self):
        url = "%s/policyservice/v1/orgs/%s/policies/summary" % (self.sim.url, ORG)
        return self.session.get(url, timeout=30).json()["policies"]

    def policy(self, policy_id):
        url = "%s/policyservice/v1/orgs/%s/policies/%s" % (self.sim.url, ORG, policy_id)
        return self.session.get(url, timeout=30).json()

    def forwarders(self):
        return self.sim.forwarders()

    def devices(self):
        return self.sim.devices(self.sim.device_ids()).values()


__all__ = ["ModuleRun", "SimulatorState", "TaskRuns", "api_key_connection", "applied_writes", "isolate_environment",
           "run_module", "run_tasks"]
