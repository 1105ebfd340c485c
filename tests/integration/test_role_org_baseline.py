# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The org_baseline role against the simulator."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import requests

from playbook_runner import FULL_TOKEN, ORG, REPO_ROOT, api_key_connection, run_role, run_role_cases, write_entries

ROLE = "carbonblack.cloud.org_baseline"

POLICY_DIR = os.path.join(REPO_ROOT, "playbooks", "policies")
REPUTATION_DIR = os.path.join(REPO_ROOT, "playbooks", "reputation")
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
    response = session.get(sim.url + "/policyservice/v1/orgs/%s/policies/summary" % ORG,
                           headers={"X-Auth-Token": FULL_TOKEN}, verify=sim.ca_file, timeout=30)
    response.raise_for_status()
    return sorted(policy["name"] for policy in response.json()["policies"])


def test_baseline_creates_then_reruns_without_writes_and_check_mode_previews(sim, tmp_path):
    before = policy_names(sim)
    mark = sim.mark()
    preview = run_role(tmp_path, ROLE, role_vars(sim), ["org_baseline_summary"], args=["--check", "--diff"])
    assert preview.rc == 0, preview.stdout
    assert write_entries(sim, mark) == [] and policy_names(sim) == before
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
    assert write_entries(sim, mark) == []
    summary = again.results["org_baseline_summary"]
    assert sorted(summary["policies"]["unchanged"]) == ["Kiosk", "Servers", "Workstations"]
    assert summary["forwarders"]["unchanged"] == ["alerts-to-s3"]

    changed = dict(INLINE_POLICY, description="Office laptops and desktops")
    mark = sim.mark()
    update = run_role(tmp_path, ROLE, role_vars(sim, org_baseline_policies=[changed]), ["org_baseline_summary"])
    assert update.results["org_baseline_summary"]["policies"]["changed"] == ["Workstations"]
    assert [(e["method"], e["api"]) for e in write_entries(sim, mark)] == [("PUT", "policies.update")]


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
    assert not [e for e in write_entries(sim, mark) if e["api"] == "policies.delete"]


def test_empty_baseline_and_bad_variables_fail_before_any_request(sim, tmp_path):
    mark = sim.mark()
    empty = run_role(tmp_path, ROLE, role_vars(sim, org_baseline_policies=[], org_baseline_policies_dir="",
                                               org_baseline_forwarders=[]), [])
    assert empty.rc != 0 and "nothing was changed" in empty.stdout
    bad = run_role(tmp_path, ROLE, role_vars(sim, org_baseline_purge="sometimes"), [])
    assert bad.rc != 0 and "org_baseline_purge" in bad.stdout
    assert sim.requests(since=mark) == []


# -- reputation override lists ---------------------------------------------------------------------------------

BANNED = "dd191a5b23df92e13a8852291f9fb5ed594b76a28a5a464418442584afd1e048"
CONSOLE_BAN = "e" * 64
APPROVED = "f" * 64


def reputation_vars(sim, **extra):
    """Role variables of a baseline of reputation lists only."""
    values = dict(org_baseline_policies=[], org_baseline_policies_dir="", org_baseline_forwarders=[])
    values.update(extra)
    return role_vars(sim, **values)


def summary_by_list(run):
    return dict(("%s %s" % (entry["override_list"], entry["override_type"]), entry)
                for entry in run.results["org_baseline_summary"]["reputation_overrides"])


def test_reputation_lists_from_files_preview_apply_and_rerun_with_reads_only(sim, tmp_path):
    variables = reputation_vars(sim, org_baseline_reputation_overrides_dir=REPUTATION_DIR)
    mark = sim.mark()
    preview = run_role(tmp_path, ROLE, variables, ["org_baseline_summary"], args=["--check", "--diff"])
    assert preview.rc == 0, preview.stdout
    assert write_entries(sim, mark) == [] and sim.reputation_overrides() == []
    planned = summary_by_list(preview)
    assert sorted(planned) == ["BLACK_LIST SHA256", "WHITE_LIST CERT", "WHITE_LIST IT_TOOL", "WHITE_LIST SHA256"]
    assert len(planned["BLACK_LIST SHA256"]["created"]) == 3 and planned["WHITE_LIST CERT"]["created"] == [
        "Acme Corp Engineering", "Contoso Deployment Services Ltd"]
    assert "Reputation overrides BLACK_LIST SHA256: 3 created (" in preview.stdout
    assert "(check mode: nothing was sent)" in preview.stdout

    mark = sim.mark()
    run = run_role(tmp_path, ROLE, variables, ["org_baseline_summary"])
    assert run.rc == 0, run.stdout
    assert [(e["method"], e["api"]) for e in write_entries(sim, mark)] == [("POST", "reputation_overrides.create")] * 9
    assert len(sim.reputation_overrides()) == 9
    # a baseline of reputation lists alone checks the credentials with the reputation probe only
    assert not [e for e in sim.requests(since=mark) if not e["api"].startswith("reputation_overrides.")]

    mark = sim.mark()
    again = run_role(tmp_path, ROLE, variables, ["org_baseline_summary"])
    assert again.rc == 0 and "changed=0" in again.stdout
    entries = sim.requests(since=mark)
    assert [e["api"] for e in entries] == ["reputation_overrides.search"] * 5 and write_entries(sim, mark) == []
    assert entries[0]["body"] == {"rows": 1}  # the credential check
    assert all(entry["unchanged"] > 0 and not entry["created"] and not entry["removed"]
               for entry in summary_by_list(again).values())


def test_reputation_purge_removes_only_undeclared_overrides_of_the_list_that_asks(sim, tmp_path):
    console_ban = sim.add_reputation_override(override_list="BLACK_LIST", override_type="SHA256",
                                              sha256_hash=CONSOLE_BAN, description="added in the console")
    approved = sim.add_reputation_override(override_list="WHITE_LIST", override_type="SHA256", sha256_hash=APPROVED)
    tool = sim.add_reputation_override(override_list="WHITE_LIST", override_type="IT_TOOL", path="C:\\Temp\\old.exe",
                                       include_child_processes=False)
    cert = sim.add_reputation_override(override_list="WHITE_LIST", override_type="CERT", signed_by="Old Vendor")
    entries = [
        {"override_list": "BLACK_LIST", "override_type": "SHA256", "purge": True, "description": "Banned by the SOC",
         "overrides": [{"sha256_hash": BANNED, "filename": "dropper.exe"}]},
        {"override_list": "WHITE_LIST", "override_type": "IT_TOOL",
         "overrides": [{"path": "C:\\Tools\\deploy.exe", "include_child_processes": True}]},
        # empty: not managed, even with purge
        {"override_list": "WHITE_LIST", "override_type": "CERT", "purge": True, "overrides": []},
    ]
    mark = sim.mark()
    run = run_role(tmp_path, ROLE, reputation_vars(sim, org_baseline_forwarders=[FORWARDER],
                                                   org_baseline_reputation_overrides=entries), ["org_baseline_summary"])
    assert run.rc == 0, run.stdout
    ids = [item["id"] for item in sim.reputation_overrides()]
    assert console_ban["id"] not in ids and all(item["id"] in ids for item in (approved, tool, cert))
    deletes = [e for e in write_entries(sim, mark) if e["api"] == "reputation_overrides.bulk_delete"]
    assert [e["body"] for e in deletes] == [[console_ban["id"]]]
    summary = summary_by_list(run)
    assert sorted(summary) == ["BLACK_LIST SHA256", "WHITE_LIST IT_TOOL"]
    assert summary["BLACK_LIST SHA256"]["created"] == [BANNED] and summary["BLACK_LIST SHA256"]["removed"] == [CONSOLE_BAN]
    assert summary["WHITE_LIST IT_TOOL"]["created"] == ["C:\\Tools\\deploy.exe"]
    assert summary["WHITE_LIST IT_TOOL"]["removed"] == []
    banned = [item for item in sim.reputation_overrides() if item["override_list"] == "BLACK_LIST"]
    assert [(item["sha256_hash"], item["description"]) for item in banned] == [(BANNED, "Banned by the SOC")]
    assert "Reputation overrides BLACK_LIST SHA256: 1 created (%s), 0 changed, 0 unchanged, 1 removed (%s)" % (
        BANNED, CONSOLE_BAN) in run.stdout


def test_bad_reputation_entries_fail_before_any_request(sim, tmp_path):
    bad_dir = tmp_path / "bad-lists"
    bad_dir.mkdir()
    (bad_dir / "typo.yml").write_text("override_list: WHITE_LIST\noverride_type: SHA256\noverides: []\n")
    banned = {"override_list": "BLACK_LIST", "override_type": "SHA256", "overrides": [{"sha256_hash": BANNED}]}
    cases = {
        "twice": {"org_baseline_reputation_overrides": [banned, dict(banned, purge=True)]},
        "bannedcert": {"org_baseline_reputation_overrides": [
            {"override_list": "BLACK_LIST", "override_type": "CERT", "overrides": [{"signed_by": "Evil Corp"}]}]},
        "badlist": {"org_baseline_reputation_overrides": [dict(banned, override_list="GREY_LIST")]},
        "badfile": {"org_baseline_reputation_overrides_dir": str(bad_dir)},
    }
    mark = sim.mark()
    _run, failures = run_role_cases(sim, tmp_path, ROLE, cases,
                                    lambda connection, extra: reputation_vars(sim, org_baseline_connection=connection,
                                                                              **extra))
    assert "Each reputation list and kind takes one entry" in failures["twice"]
    assert "only SHA256 hashes can be banned" in failures["bannedcert"]
    assert "GREY_LIST" in failures["badlist"]
    assert "overides" in failures["badfile"]
    assert [e for e in sim.requests(since=mark) if not e["api"].startswith("sim.")] == []
