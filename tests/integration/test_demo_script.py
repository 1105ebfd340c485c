# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The README's first command, scripts/demo.sh, end to end."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import subprocess
import sys

from playbook_runner import FULL_TOKEN, ORG, REPO_ROOT, api_key_connection, collections_root, is_scrubbed, write_credentials


def demo_env(home):
    env = dict((key, value) for key, value in os.environ.items()
               if not is_scrubbed(key) and not key.startswith(("CBC_", "CBAPI_", "ANSIBLE_")))
    env.update(HOME=str(home), ANSIBLE_NOCOLOR="1", XDG_CACHE_HOME=os.path.join(str(home), ".cache"))
    return env


def run_demo(env, *args):
    return subprocess.run([os.path.join(REPO_ROOT, "scripts", "demo.sh")] + list(args), cwd=str(env["HOME"]),
                          env=env, capture_output=True, text=True, check=False, timeout=900)


def test_demo_runs_against_the_bundled_simulator(tmp_path):
    result = run_demo(demo_env(tmp_path))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    out = result.stdout
    assert "starting the CBC simulator" in result.stderr
    assert "WARNING" not in out + result.stderr
    assert "APIs: devices, policies, data_forwarder, alerts" in out
    assert "Devices in the org: 200" in out
    assert "Policies: 2 created, 0 changed, 0 unchanged" in out
    assert "Data forwarders: 1 created, 0 changed, 0 unchanged" in out
    assert "canary of 3 device(s) ok" in out
    assert "Policy rollout to Servers: " in out and "failed=0" in out
    assert FULL_TOKEN.split("/", 1)[0] not in out


def test_demo_against_a_profile_is_a_check_mode_preview(simulator, tmp_path):
    home = tmp_path / "home"
    write_credentials(home / ".carbonblack" / "credentials.cbc", "[sim]\nurl = %s\norg_key = %s\ntoken = %s\nssl_cert_file = %s\n"
                      % (simulator.url, ORG, FULL_TOKEN, simulator.ca_file))
    env = demo_env(home)
    env["CBC_PROFILE"] = "sim"
    mark = simulator.mark()
    result = run_demo(env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "check mode: nothing is changed in your org" in result.stderr
    assert "Check mode: nothing was sent." in result.stdout
    entries = simulator.requests(since=mark)
    assert entries and not [entry for entry in entries if entry["write"]]


def test_the_demo_playbook_run_again_does_what_its_summary_says(simulator_factory, tmp_path):
    sim = simulator_factory(devices=200)
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps({"cbc_connection": api_key_connection(sim)}))
    env = demo_env(tmp_path)
    env.update(ANSIBLE_COLLECTIONS_PATH=collections_root(str(tmp_path / "collections")),
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
               os.path.join(REPO_ROOT, "playbooks", "demo.yml"), "-e", "@%s" % extra]
    promises, writes = [], []
    for unused_run in range(2):
        mark = sim.mark()
        result = subprocess.run(command, cwd=str(tmp_path), env=env, capture_output=True, text=True, check=False,
                                timeout=600)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "WARNING" not in result.stdout + result.stderr
        promise = re.search(r"Running it again on this org changes no policy, data forwarder or device policy and sends "
                            r"the sensor update to (\d+) more device\(s\)", result.stdout)
        assert promise, result.stdout[-2000:]
        promises.append(int(promise.group(1)))
        writes.append([entry for entry in sim.requests(since=mark) if entry["write"]])
    # The second run does exactly what the first run's summary said.
    assert [(entry["api"], entry["body"]["action_type"], len(entry["body"]["device_id"])) for entry in writes[1]] == [
        ("devices.actions", "UPDATE_SENSOR_VERSION", promises[0])]
