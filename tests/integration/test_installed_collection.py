# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as a user gets it: the built tarball installed into a fresh virtualenv with only the
requirements the README names, then the README's commands run from there (the simulator, the demo playbook, and
a playbook authenticated only by the shipped AWX/AAP credential type's environment)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import subprocess
import sys
import time

import pytest
import yaml

from playbook_runner import FULL_TOKEN, ORG, REPO_ROOT, run_environment
from test_awx_credential_type import render

ANSIBLE_CORE = "ansible-core>=2.19,<2.20"


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600, **kwargs)
    assert result.returncode == 0, "%s failed:\n%s%s" % (command, result.stdout[-3000:], result.stderr[-3000:])
    return result


class Installed:
    """A fresh virtualenv with the built tarball installed into ``collections`` (``ansible-galaxy collection install``)."""

    def __init__(self, root):
        self.root = root
        self.venv = os.path.join(root, "venv")
        self.collections = os.path.join(root, "collections")
        self.path = os.path.join(self.collections, "ansible_collections", "carbonblack", "cloud")
        # Only HOME is private here (isolate=False): pip and ansible-galaxy see the caller's PIP_* and XDG_CACHE_HOME.
        self.env = run_environment(root, collections=self.collections, isolate=False,
                                   drop=("ANSIBLE_", "VIRTUAL_ENV", "PYTHONPATH"), HOME=os.path.join(root, "home"),
                                   PATH=os.path.join(self.venv, "bin") + os.pathsep + os.environ.get("PATH", ""))
        os.makedirs(self.env["HOME"])

    def bin(self, name):
        return os.path.join(self.venv, "bin", name)

    def setup(self):
        build = os.path.join(self.root, "build")
        run([os.path.join(os.path.dirname(sys.executable), "ansible-galaxy"), "collection", "build", "--output-path",
             build, REPO_ROOT])
        tarball = glob.glob(os.path.join(build, "*.tar.gz"))[0]
        run([sys.executable, "-m", "venv", self.venv])
        # pip first with ansible-core only; the collection's own requirement files come from the installed tarball.
        run([self.bin("python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", ANSIBLE_CORE],
            env=self.env)
        run([self.bin("ansible-galaxy"), "collection", "install", tarball, "-p", self.collections], env=self.env)
        run([self.bin("python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "-r", os.path.join(self.path, "requirements.txt"),
             "-r", os.path.join(self.path, "tests", "simulator", "requirements.txt")], env=self.env)
        return self

    def start_simulator(self, state_dir, devices=50):
        """The README's command: python <collection>/tests/simulator/cbcsim --state-dir DIR."""
        process = subprocess.Popen([self.bin("python"), os.path.join(self.path, "tests", "simulator", "cbcsim"),
                                    "--state-dir", state_dir, "--devices", str(devices)], env=self.env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        info = os.path.join(state_dir, "simulator.json")
        deadline = time.monotonic() + 60
        while not os.path.exists(info):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError("the simulator did not start: %s" % (process.communicate()[1][-2000:]))
            time.sleep(0.1)
        with open(info) as handle:
            return process, json.load(handle)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    return Installed(str(tmp_path_factory.mktemp("installed"))).setup()


def test_the_tarball_holds_what_users_need_and_no_tests_of_ours(installed):
    shipped = set(os.path.relpath(os.path.join(directory, name), installed.path)
                  for directory, unused, names in os.walk(installed.path) for name in names)
    for expected in ("README.md", "requirements.txt", "meta/runtime.yml", "meta/execution-environment.yml",
                     "playbooks/demo.yml", "docs/forwarders.md", "tests/simulator/README.md",
                     "tests/simulator/requirements.txt", "tests/simulator/cbcsim/__main__.py",
                     "plugins/action/cbc_device.py", "plugins/modules/cbc_device.py"):
        assert expected in shipped
    ours = ("tests/unit", "tests/integration", "tests/benchmarks", "scripts/", ".research", ".venv", ".collections")
    unwanted = [path for path in shipped if path.startswith(ours) or "__pycache__" in path or path.endswith(".pyc")]
    assert unwanted == []


def test_the_installed_simulator_and_demo_run_with_the_readme_commands(installed, tmp_path):
    process, info = installed.start_simulator(str(tmp_path / "sim"), devices=200)
    try:
        extra = tmp_path / "vars.json"
        extra.write_text(json.dumps({"cbc_connection": {"url": info["url"], "org_key": ORG, "token": FULL_TOKEN,
                                                        "ssl_cert_file": info["ca_file"]}}))
        result = run([installed.bin("ansible-playbook"), "carbonblack.cloud.demo", "-e", "@%s" % extra],
                     env=dict(installed.env, ANSIBLE_LOCALHOST_WARNING="False",
                              ANSIBLE_INVENTORY_UNPARSED_WARNING="False"), cwd=str(tmp_path))
        assert "Devices in the org: 200" in result.stdout
        assert "Policies: 2 created, 0 changed, 0 unchanged" in result.stdout and "failed=0" in result.stdout
        with open(info["log_file"]) as handle:
            entries = [json.loads(line) for line in handle]
        assert any(entry["api"] == "policies.create" for entry in entries)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert process.returncode == 0


def test_a_playbook_authenticated_only_by_the_shipped_credential_type_works(installed, tmp_path):
    with open(os.path.join(installed.path, "docs", "awx", "cbc_credential_type.yml")) as handle:
        credential_type = yaml.safe_load(handle)
    process, info = installed.start_simulator(str(tmp_path / "sim"))
    try:
        with open(info["ca_file"]) as handle:
            inputs = {"url": info["url"], "org_key": ORG, "csp_oauth_app_id": "sim-oauth-app",
                      "csp_oauth_app_secret": "sim-oauth-secret", "csp_url_override": info["url"],
                      "ssl_cert_file": handle.read()}
        injected = render(credential_type, inputs, tmp_path / "private")
        playbook = tmp_path / "check.yml"
        playbook.write_text(yaml.safe_dump([{
            "name": "check", "hosts": "localhost", "gather_facts": False,
            "tasks": [{"name": "check", "register": "check", "carbonblack.cloud.cbc_api_key_check": {"apis": ["devices"]}},
                      {"name": "show", "ansible.builtin.debug": {"msg": "auth {{ check.auth_mode }} {{ check.accessible }}"}}]}]))
        result = run([installed.bin("ansible-playbook"), "-vvv", str(playbook)], cwd=str(tmp_path),
                     env=dict(installed.env, ANSIBLE_LOCALHOST_WARNING="False",
                              ANSIBLE_INVENTORY_UNPARSED_WARNING="False", **injected))
        assert "auth csp_oauth_app ['devices']" in result.stdout
        assert "sim-oauth-secret" not in result.stdout + result.stderr
    finally:
        process.terminate()
        process.wait(timeout=30)
