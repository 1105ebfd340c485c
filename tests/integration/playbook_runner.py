# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run real ``ansible-playbook`` processes against the simulator and read back what every task returned; the
shared pieces of every integration test and benchmark that runs an ``ansible-*`` command: the simulator's org and
full-access key, the run environment (``run_environment``), connection options, private credential files and
Ansible's unsafe-value marking (``plain``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CALLBACK_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "callback_plugins")
# module_bytecode_cache/sitecustomize.py: compiled module_utils are reused across the module processes of all runs.
BYTECODE_CACHE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "module_bytecode_cache")
BYTECODE_CACHE = os.path.join(REPO_ROOT, "tests", "output", "module-bytecode")
# ... and the controller's AnsiballZ payloads across runs, keyed by the content of plugins/ (same file).
PAYLOAD_CACHE = os.path.join(REPO_ROOT, "tests", "output", "ansiballz-payloads")
ORG = "ABCD1234"
# The simulator's built-in full-access key (tests/simulator/README.md).
FULL_TOKEN = "FULLSECRETKEY00000000000/FULLACCESS"
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY",
                   "all_proxy")
# The tooling's own CBC_ variables, which are not connection settings.
TOOL_VARIABLES = ("CBC_ROOT", "CBC_VENV", "CBC_COLLECTIONS_DIR", "CBC_PYTHON", "CBC_TEST_WORKERS")


def is_scrubbed(name):
    """Whether a variable of the caller's must not reach a test: every CBC_*/CBAPI_* setting the modules may read
    (credentials.MODULE_ENVIRONMENT_VARIABLES, CBC_PROFILE, ...) and the proxies."""
    if name in PROXY_VARIABLES:
        return True
    return name.startswith(("CBC_", "CBAPI_")) and name not in TOOL_VARIABLES and not name.startswith("CBC_TEST_")


def run_environment(work_dir, collections=None, isolate=True, drop=(), **extra):
    """The environment of an ``ansible-*`` command working in ``work_dir``.

    The caller's variables without those ``is_scrubbed`` names and those starting with one of ``drop``;
    ANSIBLE_COLLECTIONS_PATH ``collections`` (default: ``work_dir/collections``, linking this checkout as
    carbonblack.cloud); no colour. ``isolate``: HOME (created), ANSIBLE_HOME, ANSIBLE_LOCAL_TEMP and XDG_CACHE_HOME
    under ``work_dir`` too, ANSIBLE_FORCE_COLOR off and no deprecation warnings. ``extra`` is set last.
    """
    work_dir = str(work_dir)
    env = dict((key, value) for key, value in os.environ.items()
               if not is_scrubbed(key) and not key.startswith(tuple(drop)))
    env.update(ANSIBLE_COLLECTIONS_PATH=collections or collections_root(os.path.join(work_dir, "collections")),
               ANSIBLE_NOCOLOR="1")
    if isolate:
        env.update({
            "ANSIBLE_HOME": os.path.join(work_dir, "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": os.path.join(work_dir, "ansible-tmp"),
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_DEPRECATION_WARNINGS": "0",
            "XDG_CACHE_HOME": os.path.join(work_dir, "xdg-cache"),
            "HOME": os.path.join(work_dir, "home"),
        })
        os.makedirs(env["HOME"], exist_ok=True)
    env.update(extra)
    return env


def plain(value):
    """Ansible's JSON output (``ansible-inventory --list``) without the ``{"__ansible_unsafe": ...}`` marking of
    untrusted strings (all device values)."""
    if isinstance(value, dict):
        if list(value) == ["__ansible_unsafe"]:
            return value["__ansible_unsafe"]
        return dict((key, plain(item)) for key, item in value.items())
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def write_credentials(path, text):
    """Write a private credential file (0600 in a 0700 directory, as the collection requires) at ``path`` (a
    ``pathlib.Path``); returns its name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    path.write_text(text)
    path.chmod(0o600)
    return str(path)


def api_key_connection(sim, token=FULL_TOKEN, **extra):
    """Connection options for a simulator with an API key, trusting its CA."""
    return dict({"url": sim.url, "org_key": ORG, "token": token, "ssl_cert_file": sim.ca_file}, **extra)


def collections_root(base_dir):
    """A directory holding ansible_collections/carbonblack/cloud -> this checkout."""
    parent = os.path.join(base_dir, "ansible_collections", "carbonblack")
    link = os.path.join(parent, "cloud")
    if not os.path.islink(link):
        os.makedirs(parent, exist_ok=True)
        os.symlink(REPO_ROOT, link)
    return base_dir


class PlaybookRun:
    def __init__(self, process, results):
        self.rc = process.returncode
        self.stdout = process.stdout
        self.stderr = process.stderr
        self.output = process.stdout + process.stderr
        self.finished = results is not None
        self.results = results or {}

    def __getitem__(self, index):
        return self.results["task%d" % index]

    def assert_no_secret(self, *secrets):
        for secret in secrets:
            assert secret not in self.output, "a secret appeared in the ansible-playbook output"


def run_playbook(work_dir, tasks, connection=None, env=None, args=(), play_vars=None, pre_tasks=None):
    """Run ``tasks`` (module dicts) in one play; each is registered and may fail without stopping the play.

    ``connection`` becomes module_defaults for group/carbonblack.cloud.cbc.
    """
    play_tasks = list(pre_tasks or [])
    for index, task in enumerate(tasks):
        task = dict(task)
        task.setdefault("name", "task %d" % index)
        task["register"] = "task%d" % index
        task["ignore_errors"] = True
        play_tasks.append(task)
    run = run_play(work_dir, {"tasks": play_tasks}, ["task%d" % index for index in range(len(tasks))],
                   connection=connection, env=env, args=args, play_vars=play_vars)
    if not run.finished:
        raise AssertionError("the playbook did not finish:\n%s\n%s" % (run.stdout[-3000:], run.stderr[-3000:]))
    return run


def run_role(work_dir, role, role_vars, export, connection=None, env=None, args=(), play_vars=None, hosts=None):
    """Run one role of the collection; ``export`` names the variables to read back when the play finishes.

    A failing role stops the play: then ``run.finished`` is false and ``run.rc`` non-zero.
    ``hosts`` (names) makes an inventory of local hosts for the play instead of localhost.
    """
    play = {"roles": [{"role": role, "vars": role_vars}]}
    return run_play(work_dir, play, export, connection=connection, env=env, args=args, play_vars=play_vars,
                    hosts=hosts)


def run_play(work_dir, play_body, export, connection=None, env=None, args=(), play_vars=None, hosts=None):
    work_dir = str(work_dir)
    os.makedirs(work_dir, exist_ok=True)
    results_file = os.path.join(work_dir, "results.json")
    if os.path.exists(results_file):
        os.unlink(results_file)
    play = {"name": "test play", "hosts": "all" if hosts else "localhost", "connection": "local", "gather_facts": False,
            "vars": dict(play_vars or {}, ansible_python_interpreter=sys.executable)}
    play.update(play_body)
    if connection is not None:
        play["module_defaults"] = {"group/carbonblack.cloud.cbc": connection}
    playbook = os.path.join(work_dir, "playbook.yml")
    with open(playbook, "w") as handle:
        yaml.safe_dump([play], handle, sort_keys=False)

    run_env = run_environment(work_dir, **{
        # callback_plugins/cbc_test_results.py writes the exported variables when the playbook ends.
        "ANSIBLE_CALLBACK_PLUGINS": CALLBACK_DIR,
        "ANSIBLE_CALLBACKS_ENABLED": "cbc_test_results",
        "CBC_TEST_RESULTS": results_file,
        "CBC_TEST_EXPORT": ",".join(export),
        "PYTHONPATH": os.pathsep.join([BYTECODE_CACHE_DIR] + [p for p in [os.environ.get("PYTHONPATH")] if p]),
        "CBC_TEST_BYTECODE_CACHE": BYTECODE_CACHE,
        "CBC_TEST_PAYLOAD_CACHE": PAYLOAD_CACHE,
        "CBC_TEST_PAYLOAD_SOURCES": os.path.join(REPO_ROOT, "plugins"),
    })
    run_env.update(env or {})
    inventory = ",".join(hosts) + "," if hosts else "localhost,"
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, playbook]
    command.extend(args)
    process = subprocess.run(command, cwd=work_dir, env=run_env, capture_output=True, text=True, timeout=600,
                             check=False)
    results = None
    if os.path.exists(results_file):
        with open(results_file) as handle:
            document = json.load(handle)
        if document["finished"]:
            results = document["variables"]
    return PlaybookRun(process, results)


def run_role_cases(sim, work_dir, role, cases, vars_for):
    """Run ``role`` once per case in one ansible-playbook run, each case in a block that rescues its failure.

    ``cases`` maps a case name (letters and digits) to its extra role variables; ``vars_for(connection, extra)``
    returns the role variables of a case. Each case uses its own API key, named like the case, so
    ``requests_of(sim, mark, case)`` tells the cases apart in the request log.
    Returns ``(run, {case: failure message, or None when the role succeeded})``.
    """
    tasks = []
    for case, extra in cases.items():
        secret = case + "SECRET000000"
        sim.add_key(api_id=case, secret=secret, permissions="*")
        tasks.append({"name": "case " + case, "block": [
            {"name": "run " + case, "ansible.builtin.include_role": {"name": role},
             "vars": vars_for(api_key_connection(sim, token=secret + "/" + case), extra)},
            {"name": "passed " + case, "ansible.builtin.set_fact": {"case_" + case: None}}],
            "rescue": [{"name": "failed " + case,
                        "ansible.builtin.set_fact": {"case_" + case: "{{ ansible_failed_result.msg }}"}}]})
    run = run_play(work_dir, {"tasks": tasks}, ["case_" + case for case in cases])
    assert run.finished, run.stdout
    return run, dict((case, run.results["case_" + case]) for case in cases)


def requests_of(sim, mark, case):
    """The request-log entries since ``mark`` sent with the API key of ``run_role_cases``' case."""
    return [entry for entry in sim.requests(since=mark) if entry["auth"] == "api_key:" + case]


def run_repo_playbook(work_dir, name, sim, extra_vars=None, args=(), token=FULL_TOKEN):
    """Run ``playbooks/<name>`` of this checkout against ``sim`` (connection in ``cbc_connection``), as a user
    would: ``ansible-playbook -i localhost, playbooks/<name> -e <vars>``. Returns the CompletedProcess."""
    variables = dict(extra_vars or {}, cbc_connection=api_key_connection(sim, token=token),
                     ansible_python_interpreter=sys.executable)
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
               os.path.join(REPO_ROOT, "playbooks", name), "-e", json.dumps(variables)] + list(args)
    return subprocess.run(command, env=run_environment(work_dir, drop=("CBC_", "CBAPI_")), capture_output=True,
                          text=True, check=False, timeout=300)


def write_entries(sim, mark):
    """The request-log entries of the writes the simulator logged since ``mark``, in order."""
    return [entry for entry in sim.requests(since=mark) if entry["write"]]


def write_apis(sim, mark):
    """The API labels of the writes the simulator logged since ``mark``, in order."""
    return [entry["api"] for entry in write_entries(sim, mark)]
