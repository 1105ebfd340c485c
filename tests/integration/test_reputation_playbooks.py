# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cbc_reputation_override and cbc_reputation_override_info against the simulator."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from inprocess import run_tasks
from playbook_runner import api_key_connection, run_playbook

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
