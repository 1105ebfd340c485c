# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The org_baseline role against the simulator."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import requests

from playbook_runner import FULL_TOKEN, REPO_ROOT, api_key_connection, run_role

ROLE = "carbonblack.cloud.org_baseline"

POLICY_DIR = os.path.join(REPO_ROOT, "playbooks", "policies")
FORWARDER = {"name": "alerts-to-s3", "type": "alert", "destination": "aws_s3", "s3_bucket_name": "soc-cbc-data",
             "s3_prefix": "alerts"}
INLINE_POLICY = {"name": "Workstations", "description": "Office laptops", "priority_level": "MEDIUM",
                 "sensor_settings": {"SHOW_UI": True}}


def role_vars(sim, **extra):
    values = {"org_baseline_policies": [INLINE_POLICY], "org_baseline_policies_dir": POLICY_DIR,
              "org_baseline_forwarders": [FORWARDER],
              "org_baseline_connection": api_key_connection(sim)}
    values.update(extra)
    return values


def policy_names(sim):
    session = requests.Session()
    session.trust_env = False
    response = session.get(sim.url + "/policyservice/v1/orgs/ABCD1234/policies/summary",
                           headers={"X-Auth-Token": FULL_TOKEN}, verify=sim.ca_file, timeout=30)
    response.raise_for_status()
    return sorted(policy["name"] for policy in response.json()["policies"])


def writes(sim, mark):
    return [entry for entry in sim.requests(since=mark) if entry["write"]]


def test_baseline_creates_then_reruns_without_writes_and_check_mode_previews(sim, tmp_path):
    before = policy_names(sim)
    mark = sim.mark()
    preview = run_role(tmp_path, ROLE, role_vars(sim), ["org_baseline_summary"], args=["--check", "--diff"])
    assert preview.rc == 0, preview.stdout
    assert writes(sim, mark) == [] and policy_names(sim) == before
    summary = preview.results["org_baseline_summary"]
    assert sorted(summary["policies"]["created"]) == ["Kiosk", "Servers", "Workstations"]
    assert summary["forwarders"]["created"] == ["alerts-to-s3"]
    assert "(check mode: nothing was sent)" in preview.stdout

    run = run_role(tmp_path, ROLE, role_vars(sim), ["org_baseline_summary"])
    assert run.rc == 0, run.stdout
    assert sorted(run.results["org_baseline_summary"]["policies"]["created"]) == ["Kiosk", "Servers", "Workstations"]
    assert policy_names(sim) == sorted(before + ["Kiosk", "Servers", "Workstations"])
    assert [f["name"] for f in sim.forwarders()] == ["alerts-to-s3"]
    assert "Policies: 3 created (" in run.stdout and "Forwarders: 1 created (alerts-to-s3)" in run.stdout

    mark = sim.mark()
    again = run_role(tmp_path, ROLE, role_vars(sim), ["org_baseline_summary"])
    assert again.rc == 0 and "changed=0" in again.stdout
    assert writes(sim, mark) == []
    summary = again.results["org_baseline_summary"]
    assert sorted(summary["policies"]["unchanged"]) == ["Kiosk", "Servers", "Workstations"]
    assert summary["forwarders"]["unchanged"] == ["alerts-to-s3"]

    changed = dict(INLINE_POLICY, description="Office laptops and desktops")
    mark = sim.mark()
    update = run_role(tmp_path, ROLE, role_vars(sim, org_baseline_policies=[changed]), ["org_baseline_summary"])
    assert update.results["org_baseline_summary"]["policies"]["changed"] == ["Workstations"]
    assert [(e["method"], e["api"]) for e in writes(sim, mark)] == [("PUT", "policies.update")]


def test_purge_removes_what_is_not_declared_but_never_system_policies(sim, tmp_path):
    sim.add_forwarder(name="legacy-forwarder", type="alert", destination="aws_s3", s3_bucket_name="old-bucket")
    run = run_role(tmp_path, ROLE, role_vars(sim, org_baseline_policies_dir="", org_baseline_purge=True,
                                             org_baseline_purge_force=True), ["org_baseline_summary"])
    assert run.rc == 0, run.stdout
    summary = run.results["org_baseline_summary"]
    assert sorted(summary["policies"]["removed"]) == ["Advanced", "Monitored"]
    assert summary["forwarders"]["removed"] == ["legacy-forwarder"]
    assert policy_names(sim) == ["Standard", "Workstations"]
    assert [f["name"] for f in sim.forwarders()] == ["alerts-to-s3"]


def test_purge_without_force_refuses_policies_with_devices(sim, tmp_path):
    mark = sim.mark()
    run = run_role(tmp_path, ROLE, role_vars(sim, org_baseline_policies_dir="", org_baseline_purge=True),
                   ["org_baseline_summary"])
    assert run.rc != 0 and "force" in run.stdout
    assert "Advanced" in policy_names(sim)
    assert not [e for e in writes(sim, mark) if e["api"] == "policies.delete"]


def test_empty_baseline_and_bad_variables_fail_before_any_request(sim, tmp_path):
    mark = sim.mark()
    empty = run_role(tmp_path, ROLE, role_vars(sim, org_baseline_policies=[], org_baseline_policies_dir="",
                                               org_baseline_forwarders=[]), [])
    assert empty.rc != 0 and "nothing was changed" in empty.stdout
    bad = run_role(tmp_path, ROLE, role_vars(sim, org_baseline_purge="sometimes"), [])
    assert bad.rc != 0 and "org_baseline_purge" in bad.stdout
    assert sim.requests(since=mark) == []
