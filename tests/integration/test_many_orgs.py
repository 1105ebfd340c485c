# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Orgs as hosts (docs/many-orgs.md): five simulated orgs in one ansible-playbook run with five forks, each with
its own connection in host vars, one of them with a wrong key."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import subprocess
import sys

import yaml

from playbook_runner import REPO_ROOT, run_environment

ORGS = ["MSSP%04d" % number for number in range(1, 6)]
WRONG = "MSSP0003"
OAUTH_ORGS = ("MSSP0002", "MSSP0004")


def org_connection(sim, org_key):
    connection = {"url": sim.url, "org_key": org_key, "ssl_cert_file": sim.ca_file}
    number = int(org_key[4:])
    if org_key == WRONG:
        connection["token"] = "WRONGSECRET0000000000000/%sKEY" % org_key
    elif org_key in OAUTH_ORGS:
        connection.update(csp_oauth_app_id="mssp-%04d-app" % number, csp_oauth_app_secret="mssp-%04d-secret" % number,
                          csp_url_override=sim.url)
    else:
        connection["token"] = "%s/%sKEY" % ((org_key + "SECRET").ljust(24, "0"), org_key)
    return connection


def write_inventory(sim, path):
    hosts = dict((org_key.lower(), {"cbc_connection": org_connection(sim, org_key)}) for org_key in ORGS)
    with open(path, "w") as handle:
        yaml.safe_dump({"cbc_orgs": {"hosts": hosts}}, handle)


def run_playbook_file(work_dir, inventory, playbook, *args):
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, "-f", "5",
               playbook] + list(args)
    return subprocess.run(command, cwd=work_dir, env=run_environment(work_dir), capture_output=True, text=True,
                          check=False, timeout=600)


def org_lines(stdout):
    """``{org: (status, detail)}`` from the report's one line per org."""
    return dict((match.group(1), (match.group(2), match.group(3)))
                for match in re.finditer(r'"(mssp\d{4}): (changed|unchanged|failed) \((.*)\)",?\n', stdout))


def per_org(entries, predicate):
    counts = dict((org_key, 0) for org_key in ORGS)
    for entry in entries:
        for org_key in ORGS:
            if "/orgs/%s/" % org_key in entry["path"] and predicate(entry):
                counts[org_key] += 1
    return counts


def test_five_orgs_in_parallel_one_with_a_wrong_key(simulator_factory, tmp_path):
    sim = simulator_factory(devices=5, extra_args=["--orgs", "5", "--org-devices", "10"])
    work_dir = str(tmp_path)
    inventory = os.path.join(work_dir, "orgs.yml")
    write_inventory(sim, inventory)
    playbook = os.path.join(REPO_ROOT, "playbooks", "mssp_baseline.yml")

    mark = sim.mark()
    first = run_playbook_file(work_dir, inventory, playbook)
    entries = sim.requests(since=mark)
    assert first.returncode != 0 and "1 of 5 orgs failed: mssp0003" in first.stdout, first.stdout[-3000:]
    lines = org_lines(first.stdout)
    assert sorted(lines) == [org_key.lower() for org_key in ORGS]
    assert lines["mssp0003"][0] == "failed" and "HTTP 401" in lines["mssp0003"][1]
    for org_key in ORGS:
        if org_key != WRONG:
            assert lines[org_key.lower()] == ("changed", "policies 2 created, 0 changed, 0 removed; forwarders 0 created, "
                                                         "0 changed, 0 removed")
    # Every good org got its two policies, each through its own org's path; the wrong one got no write.
    assert per_org(entries, lambda entry: entry["api"] == "policies.create") == dict(
        (org_key, 0 if org_key == WRONG else 2) for org_key in ORGS)
    # One token exchange per OAuth credential set for the whole run, across the forks.
    exchanges = [entry for entry in entries if entry["api"] == "csp.oauth_token"]
    assert len(exchanges) == len(OAUTH_ORGS), exchanges

    mark = sim.mark()
    second = run_playbook_file(work_dir, inventory, playbook)
    entries = sim.requests(since=mark)
    lines = org_lines(second.stdout)
    assert second.returncode != 0
    assert [org for org, (status, unused) in sorted(lines.items()) if status == "unchanged"] == [
        "mssp0001", "mssp0002", "mssp0004", "mssp0005"]
    assert [entry for entry in entries if entry["write"]] == []
    # The cached tokens are still valid: no exchange at all.
    assert [entry for entry in entries if entry["api"] == "csp.oauth_token"] == []
    for secret in ("MSSP0001SECRET", "mssp-0002-secret", "WRONGSECRET"):
        assert secret not in first.stdout + second.stdout


def test_modules_and_roles_run_once_per_org_host(simulator_factory, tmp_path):
    sim = simulator_factory(devices=5, extra_args=["--orgs", "5", "--org-devices", "7"])
    work_dir = str(tmp_path)
    inventory = os.path.join(work_dir, "orgs.yml")
    write_inventory(sim, inventory)
    playbook = os.path.join(work_dir, "count.yml")
    with open(playbook, "w") as handle:
        yaml.safe_dump([{
            "name": "count devices per org", "hosts": "cbc_orgs:!mssp0003", "connection": "local", "gather_facts": False,
            "module_defaults": {"group/carbonblack.cloud.cbc": "{{ cbc_connection }}"},
            "tasks": [
                {"name": "count", "register": "found", "carbonblack.cloud.cbc_device_info": {"limit": 0}},
                {"name": "quarantine one device per org", "ansible.builtin.include_role": {
                    "name": "carbonblack.cloud.incident_response"},
                 "vars": {"incident_response_hosts": ["{{ inventory_hostname }}-host-00001"]}},
                {"name": "show", "ansible.builtin.debug": {"msg": "COUNT {{ inventory_hostname }} {{ found.num_found }}"}},
            ]}], handle)
    mark = sim.mark()
    result = run_playbook_file(work_dir, inventory, playbook)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    counts = dict(re.findall(r"COUNT (mssp\d{4}) (\d+)", result.stdout))
    assert counts == dict((org_key.lower(), "7") for org_key in ORGS if org_key != WRONG)
    quarantines = [entry for entry in sim.requests(since=mark) if entry["write"]]
    # The role ran once per org host (not once per play), each in its own org.
    assert sorted(entry["path"].split("/orgs/")[1].split("/")[0] for entry in quarantines) == [
        org_key for org_key in ORGS if org_key != WRONG]
    assert all(json.dumps(entry["body"]).count("QUARANTINE") == 1 for entry in quarantines)
