# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cbc_reputation_override and cbc_reputation_override_info against the simulator."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import yaml
from ansible_collections.carbonblack.cloud.plugins.module_utils import client as client_module
from ansible_collections.carbonblack.cloud.plugins.module_utils.reputation import DEFAULT_BATCH_SIZE

from inprocess import applied_writes, run_tasks
from playbook_runner import REPO_ROOT, api_key_connection, run_environment, run_playbook

BAD = "dd191a5b23df92e13a8852291f9fb5ed594b76a28a5a464418442584afd1e048"
WORSE = "a" * 64
OTHER = "b" * 64


def override_task(sim, **options):
    return {"carbonblack.cloud.cbc_reputation_override": dict(api_key_connection(sim), **options)}


def info_task(sim, **options):
    return {"carbonblack.cloud.cbc_reputation_override_info": dict(api_key_connection(sim), **options)}


def banned(*hashes, **extra):
    return dict(override_list="BLACK_LIST", override_type="SHA256",
                overrides=[{"sha256_hash": value} for value in hashes], **extra)


def writes(sim, mark):
    return [(entry["method"], entry["api"]) for entry in sim.requests(since=mark) if entry["write"]]


def test_ban_list_create_rerun_purge_and_check_mode(sim, tmp_path):
    mark = sim.mark()
    preview = run_playbook(tmp_path, [override_task(sim, description="SOC ban", **banned(BAD, WORSE.upper()))],
                           args=["--check", "--diff"])
    assert writes(sim, mark) == [] and preview[0]["changed"] is True
    assert [item["sha256_hash"] for item in preview[0]["created"]] == [BAD, WORSE]

    mark = sim.mark()
    run = run_tasks(tmp_path, [override_task(sim, description="SOC ban", **banned(BAD, WORSE.upper())),
                               override_task(sim, description="SOC ban", **banned(BAD, WORSE))])
    assert writes(sim, mark) == [("POST", "reputation_overrides.create")] * 2
    assert run[0]["changed"] is True and all(item["id"] for item in run[0]["created"])
    assert run[1]["changed"] is False and run[1]["unchanged"] == 2 and run[1]["requests_sent"] == 1
    stored = sim.reputation_overrides()
    assert sorted(item["sha256_hash"] for item in stored) == sorted([BAD, WORSE])
    assert all(item["description"] == "SOC ban" for item in stored)

    # A changed description replaces the override; purge removes what is not declared, in one bulk delete.
    mark = sim.mark()
    run = run_tasks(tmp_path, [override_task(sim, description="SOC ban v2", purge=True, **banned(BAD, OTHER))])
    sent = writes(sim, mark)
    assert sent == [("POST", "reputation_overrides.bulk_delete")] + [("POST", "reputation_overrides.create")] * 2
    assert run[0]["replaced"] == [BAD] and len(run[0]["deleted"]) == 2
    assert sorted(item["sha256_hash"] for item in sim.reputation_overrides()) == sorted([BAD, OTHER])

    mark = sim.mark()
    run = run_tasks(tmp_path, [override_task(sim, state="absent", **banned(OTHER, WORSE)),
                               override_task(sim, state="absent", **banned(OTHER, WORSE))])
    assert writes(sim, mark) == [("POST", "reputation_overrides.bulk_delete")]
    assert run[0]["changed"] is True and run[1]["changed"] is False
    assert [item["sha256_hash"] for item in sim.reputation_overrides()] == [BAD]


def test_approved_certificates_and_it_tools(sim, tmp_path):
    cert = dict(override_list="WHITE_LIST", override_type="CERT",
                overrides=[{"signed_by": "Acme Corp", "certificate_authority": "DigiCert"}])
    tool = dict(override_list="WHITE_LIST", override_type="IT_TOOL",
                overrides=[{"path": "C:\\Tools\\deploy.exe", "include_child_processes": True}])
    run = run_tasks(tmp_path, [override_task(sim, **cert), override_task(sim, **tool),
                               override_task(sim, **cert), override_task(sim, **tool),
                               info_task(sim, override_list="WHITE_LIST")])
    assert [run[index]["changed"] for index in range(4)] == [True, True, False, False]
    assert sorted(item["override_type"] for item in run[4]["overrides"]) == ["CERT", "IT_TOOL"]
    assert run[4]["num_found"] == 2


def test_bad_input_fails_before_any_request(sim, tmp_path):
    mark = sim.mark()
    run = run_tasks(tmp_path, [
        override_task(sim, **banned("abc")),
        override_task(sim, override_list="BLACK_LIST", override_type="CERT", overrides=[{"signed_by": "Acme"}]),
        override_task(sim, override_list="WHITE_LIST", override_type="IT_TOOL", overrides=[{"path": " "}]),
        override_task(sim, override_list="WHITE_LIST", override_type="CERT", overrides=[{"certificate_authority": "x"}]),
        override_task(sim, override_list="BLACK_LIST", override_type="SHA256", overrides=[]),
        override_task(sim, override_list="WHITE_LIST", override_type="SHA256", overrides=[{"path": "/x"}]),
        override_task(sim, **banned(BAD, BAD.upper())),
        override_task(sim, state="absent", purge=True, **banned(BAD)),
    ])
    assert sim.requests(since=mark) == []
    assert all(run[index]["failed"] for index in range(8))
    assert "64 hexadecimal characters" in run[0]["msg"]
    assert "only SHA256 hashes can be banned" in run[1]["msg"]
    assert "needs path" in run[2]["msg"]
    assert "needs signed_by" in run[3]["msg"]
    assert "overrides is empty" in run[4]["msg"]
    assert "which SHA256 overrides do not take" in run[5]["msg"]
    assert "are the same override" in run[6]["msg"]
    assert "purge works with state: present" in run[7]["msg"]


# -- failures part-way, and more than one delete batch ---------------------------------------------------------

THIRD = "c" * 64
CREATE_PATH = r"/reputations/overrides$"
DELETE_PATH = r"/reputations/overrides/_delete$"


def seed_banned(sim, *hashes):
    return [sim.add_reputation_override(override_list="BLACK_LIST", override_type="SHA256", sha256_hash=value,
                                        description="seeded")["id"] for value in hashes]


def applied(sim, mark):
    """The writes the server applied since ``mark`` (not those a fault refused)."""
    return [(entry["method"], entry["api"]) for entry in applied_writes(sim.requests(since=mark))]


def hashes(overrides):
    return [item["sha256_hash"] for item in overrides]


def stored_hashes(sim):
    return sorted(hashes(sim.reputation_overrides()))


def test_a_create_refused_part_way_says_what_was_created_and_a_rerun_finishes(sim, tmp_path):
    stale, = seed_banned(sim, OTHER)
    sim.add_fault(path=CREATE_PATH, method="POST", status=400, after=1, count=1, message="Simulated refusal")
    task = override_task(sim, purge=True, **banned(BAD, WORSE, THIRD))
    mark = sim.mark()
    result = run_tasks(tmp_path, [task])[0]
    assert result["failed"] and result["changed"] is True and result["http_status"] == 400
    assert [item["id"] for item in result["deleted"]] == [stale] and result["not_deleted"] == []
    assert hashes(result["created"]) == [BAD] and hashes(result["not_created"]) == [WORSE, THIRD]
    assert result["unconfirmed"] == []
    assert "HTTP 400 (Simulated refusal)" in result["msg"]
    assert ("Before the failure it deleted 1 of 1 (%s), created 1 of 3 (%s); not created (%s, %s). A re-run reads "
            "the list again and sends only what is still needed." % (OTHER, BAD, WORSE, THIRD)) in result["msg"]
    assert applied(sim, mark) == [("POST", "reputation_overrides.bulk_delete"), ("POST", "reputation_overrides.create")]
    assert stored_hashes(sim) == [BAD]

    mark = sim.mark()
    rerun = run_tasks(tmp_path, [task, task])
    assert rerun[0]["changed"] is True and hashes(rerun[0]["created"]) == [WORSE, THIRD] and rerun[0]["deleted"] == []
    assert rerun[1]["changed"] is False and rerun[1]["unchanged"] == 3
    assert writes(sim, mark) == [("POST", "reputation_overrides.create")] * 2
    assert stored_hashes(sim) == sorted([BAD, WORSE, THIRD])


def test_a_delete_batch_refused_part_way_says_what_was_deleted_and_a_rerun_finishes(sim, tmp_path):
    stale = ["%x" % digit * 64 for digit in range(1, 6)]
    seeded = seed_banned(sim, *stale)
    sim.add_fault(path=DELETE_PATH, method="POST", status=400, after=1, count=1)
    task = override_task(sim, purge=True, batch_size=2, **banned(BAD))
    mark = sim.mark()
    result = run_tasks(tmp_path, [task])[0]
    assert result["failed"] and result["changed"] is True
    assert [item["id"] for item in result["deleted"]] == seeded[:2]
    assert [item["id"] for item in result["not_deleted"]] == seeded[2:]
    assert result["created"] == [] and hashes(result["not_created"]) == [BAD]
    assert ("Before the failure it deleted 2 of 5 (%s, %s), created 0 of 1; not deleted (%s, %s, %s); not created (%s)"
            % tuple(stale + [BAD])) in result["msg"]
    assert applied(sim, mark) == [("POST", "reputation_overrides.bulk_delete")]
    assert stored_hashes(sim) == sorted(stale[2:])

    mark = sim.mark()
    rerun = run_tasks(tmp_path, [task, task])
    assert [item["id"] for item in rerun[0]["deleted"]] == seeded[2:] and hashes(rerun[0]["created"]) == [BAD]
    assert rerun[1]["changed"] is False
    # 3 ids left, 2 a batch: two bulk deletes, then the create
    assert writes(sim, mark) == [("POST", "reputation_overrides.bulk_delete")] * 2 + [("POST", "reputation_overrides.create")]
    assert stored_hashes(sim) == [BAD]


def test_an_unconfirmed_create_is_reported_as_may_have_been_applied(sim, tmp_path, monkeypatch):
    # The second create is applied but its answer lost, and every search after the first fails: it cannot be
    # confirmed either way.
    monkeypatch.setattr(client_module, "backoff", lambda attempt: 0.01)
    monkeypatch.setattr(client_module.CbcClient, "settle_pause", lambda self: 0.01)
    sim.add_fault(path=CREATE_PATH, method="POST", drop=True, apply=True, after=1, count=1)
    sim.add_fault(path=r"/reputations/overrides/_search$", status=500, after=1)
    task = override_task(sim, **banned(BAD, WORSE, THIRD))
    result = run_tasks(tmp_path, [task])[0]
    assert result["failed"] and result["changed"] is True and result["write_unconfirmed"] is True
    assert hashes(result["created"]) == [BAD] and hashes(result["unconfirmed"]) == [WORSE]
    assert hashes(result["not_created"]) == [THIRD]
    assert ("Before the failure it created 1 of 3 (%s); the creation (%s) may have been applied; not created (%s)"
            % (BAD, WORSE, THIRD)) in result["msg"]
    sim.clear_faults()
    mark = sim.mark()
    rerun = run_tasks(tmp_path, [task])[0]
    assert hashes(rerun["created"]) == [THIRD] and rerun["unchanged"] == 2
    assert writes(sim, mark) == [("POST", "reputation_overrides.create")]
    assert stored_hashes(sim) == sorted([BAD, WORSE, THIRD])


def test_purge_past_one_bulk_delete_sends_one_request_per_batch(sim, tmp_path):
    count = DEFAULT_BATCH_SIZE * 2 + 50
    seeded = seed_banned(sim, *["%064x" % number for number in range(1, count + 1)])
    mark = sim.mark()
    run = run_tasks(tmp_path, [override_task(sim, purge=True, **banned(BAD)),
                               override_task(sim, purge=True, **banned(BAD))])
    entries = sim.requests(since=mark)
    deletes = [entry for entry in entries if entry["api"] == "reputation_overrides.bulk_delete"]
    assert [len(entry["body"]) for entry in deletes] == [DEFAULT_BATCH_SIZE, DEFAULT_BATCH_SIZE, 50]
    assert [override_id for entry in deletes for override_id in entry["body"]] == seeded
    assert writes(sim, mark) == [("POST", "reputation_overrides.bulk_delete")] * 3 + [("POST", "reputation_overrides.create")]
    assert len(run[0]["deleted"]) == count and run[0]["requests_sent"] == 5
    assert run[1]["changed"] is False and run[1]["requests_sent"] == 1
    assert stored_hashes(sim) == [BAD]


# -- playbooks/reputation.yml ------------------------------------------------------------------------------

PLAYBOOK = os.path.join(REPO_ROOT, "playbooks", "reputation.yml")
LIST_DIR = os.path.join(REPO_ROOT, "playbooks", "reputation")


def example_lists():
    lists = {}
    for name in sorted(os.listdir(LIST_DIR)):
        with open(os.path.join(LIST_DIR, name)) as handle:
            lists[name[:-len(".yml")]] = yaml.safe_load(handle)
    return lists


def run_reputation_playbook(sim, tmp_path, *args, **variables):
    variables = dict({"cbc_connection": api_key_connection(sim)}, **variables)
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", PLAYBOOK,
               "-e", json.dumps(variables), "-e", "ansible_python_interpreter=" + sys.executable] + list(args)
    return subprocess.run(command, cwd=str(tmp_path), env=run_environment(tmp_path), capture_output=True, text=True,
                          timeout=600, check=False)


def stored_by_list(sim):
    found = {}
    for item in sim.reputation_overrides():
        key = item.get("sha256_hash") or item.get("signed_by") or item.get("path")
        found.setdefault((item["override_list"], item["override_type"]), []).append(key)
    return dict((kind, sorted(keys)) for kind, keys in found.items())


def test_reputation_playbook_previews_applies_the_example_files_and_reruns_without_writes(sim, tmp_path):
    lists = example_lists()
    assert sorted(lists) == ["approved_certificates", "approved_hashes", "approved_it_tools", "banned_hashes"]
    declared = sum(len(item["overrides"]) for item in lists.values())

    mark = sim.mark()
    preview = run_reputation_playbook(sim, tmp_path, "--check", "--diff")
    assert preview.returncode == 0, preview.stdout[-3000:] + preview.stderr[-3000:]
    assert writes(sim, mark) == [] and sim.reputation_overrides() == []
    assert "banned_hashes: 3 added (" in preview.stdout and "(check mode: nothing was sent)" in preview.stdout
    # --diff through the engine: one line per override (a list would make the diff callback fail)
    assert "+%s\n" % lists["approved_it_tools"]["overrides"][0]["path"] in preview.stdout
    assert "Callback dispatch" not in preview.stdout + preview.stderr

    mark = sim.mark()
    run = run_reputation_playbook(sim, tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert writes(sim, mark) == [("POST", "reputation_overrides.create")] * declared
    expected = {}
    for item in lists.values():
        field = {"SHA256": "sha256_hash", "CERT": "signed_by", "IT_TOOL": "path"}[item["override_type"]]
        expected[(item["override_list"], item["override_type"])] = sorted(entry[field] for entry in item["overrides"])
    assert stored_by_list(sim) == expected
    banned_stored = [item for item in sim.reputation_overrides() if item["override_list"] == "BLACK_LIST"]
    assert all(item["description"].startswith("INC-") for item in banned_stored)
    assert "approved_it_tools: 2 added (" in run.stdout and "(no purge)" in run.stdout

    mark = sim.mark()
    again = run_reputation_playbook(sim, tmp_path)
    assert again.returncode == 0 and "changed=0" in again.stdout
    entries = sim.requests(since=mark)
    assert [entry["api"] for entry in entries] == ["reputation_overrides.search"] * 4
    assert not any(entry["write"] for entry in entries)
    assert "banned_hashes: 0 added, 0 replaced, 3 unchanged, 0 removed" in again.stdout


def test_reputation_playbook_purges_only_the_lists_named(sim, tmp_path):
    console_ban = sim.add_reputation_override(override_list="BLACK_LIST", override_type="SHA256", sha256_hash=BAD,
                                              description="added in the console")
    console_tool = sim.add_reputation_override(override_list="WHITE_LIST", override_type="IT_TOOL",
                                               path="C:\\Temp\\tool.exe", include_child_processes=False)
    mark = sim.mark()
    run = run_reputation_playbook(sim, tmp_path, reputation_purge="banned_hashes")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert writes(sim, mark).count(("POST", "reputation_overrides.bulk_delete")) == 1
    ids = [item["id"] for item in sim.reputation_overrides()]
    assert console_ban["id"] not in ids and console_tool["id"] in ids
    assert "banned_hashes: 3 added (" in run.stdout and "1 removed (%s)" % BAD in run.stdout


def test_reputation_playbook_checks_every_file_before_any_request(sim, tmp_path):
    list_dir = tmp_path / "lists"
    list_dir.mkdir()
    (list_dir / "banned_certs.yml").write_text(yaml.safe_dump({
        "override_list": "BLACK_LIST", "override_type": "CERT", "overrides": [{"signed_by": "Evil Corp"}]}))
    (list_dir / "banned_hashes.yml").write_text(yaml.safe_dump({
        "override_list": "BLACK_LIST", "override_type": "SHA256", "overrides": [{"sha256_hash": "abc"}]}))
    (list_dir / "approved_tools.yml").write_text(yaml.safe_dump({
        "override_list": "WHITE_LIST", "override_type": "IT_TOOL", "overrides": [{"description": "no path"}]}))
    (list_dir / "approved_certificates.yml").write_text(yaml.safe_dump({
        "override_list": "WHITE_LIST", "override_type": "CERT", "overrides": []}))
    mark = sim.mark()
    run = run_reputation_playbook(sim, tmp_path, reputation_dir=str(list_dir),
                                  reputation_purge=["approved_certificates"])
    assert run.returncode != 0
    assert sim.requests(since=mark) == []
    for text in ("banned_certs.yml: only SHA256 hashes can be banned",
                 "banned_hashes.yml: overrides[0].sha256_hash must be 64 hexadecimal characters",
                 "approved_tools.yml: overrides[0] needs path",
                 "reputation_purge names approved_certificates, which is not a list with overrides here",
                 "Nothing was changed."):
        assert text in run.stdout, run.stdout[-3000:]

    (list_dir / "typo.yml").write_text("override_list: WHITE_LIST\noverride_type: SHA256\noverides: []\n")
    run = run_reputation_playbook(sim, tmp_path, reputation_dir=str(list_dir))
    assert run.returncode != 0 and "overides" in run.stdout and "typo.yml" in run.stdout
    assert sim.requests(since=mark) == []


def test_an_override_already_gone_at_the_bulk_delete_counts_as_deleted(sim, tmp_path):
    # Someone deletes one of the two overrides in the console between the task's search and its bulk delete: the
    # answer lists it as NOT_FOUND, which is the state the task wants.
    first, second = seed_banned(sim, WORSE, OTHER)
    sim.add_fault(path=DELETE_PATH, method="POST", apply=True, status=200, count=1,
                  body={"results": [first], "errors": [{"id": second, "error_code": "NOT_FOUND",
                                                        "message": "not found"}]})
    result = run_tasks(tmp_path, [override_task(sim, state="absent", **banned(WORSE, OTHER))])[0]
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True and sorted(item["id"] for item in result["deleted"]) == sorted([first, second])
    assert stored_hashes(sim) == []
    sim.add_fault(path=DELETE_PATH, method="POST", apply=True, status=200, count=1,
                  body={"results": [], "errors": [{"id": "x", "error_code": "INVALID", "message": "refused"}]})
    third, = seed_banned(sim, THIRD)
    refused = run_tasks(tmp_path, [override_task(sim, state="absent", **banned(THIRD))])[0]
    assert refused["failed"] and "refused to delete 1 of 1" in refused["msg"]
    assert [item["id"] for item in refused["not_deleted"]] == [third]
