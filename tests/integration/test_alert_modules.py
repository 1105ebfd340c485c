# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cbc_alert and cbc_alert_info in-process against the simulator: selection, idempotence, check mode, jobs,
blast radius, faults."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from inprocess import run_module
from playbook_runner import api_key_connection, write_apis


@pytest.fixture
def alerts(sim):
    """Ten OPEN alerts: four of threat T-ONE on one device (severity 8), six of T-TWO (severity 3)."""
    sim.clear_alerts()
    sim.job_settings(job_delay=0.05)
    added = sim.add_alerts([{"threat_id": "T-ONE", "severity": 8, "device_name": "WS-FIN-0042"}] * 4
                           + [{"threat_id": "T-TWO", "severity": 3}] * 6)
    return added


def args(sim, **options):
    return dict(api_key_connection(sim), **options)


def apis(sim, mark):
    return [entry["api"] for entry in sim.requests(since=mark)]


def states(sim):
    return dict((item["id"], (item["workflow"]["status"], item["workflow"]["closure_reason"],
                              (item.get("determination") or {}).get("value"))) for item in sim.alerts())


def test_info_selects_pages_and_trims(sim, alerts):
    mark = sim.mark()
    result = run_module("cbc_alert_info", args(sim, criteria={"threat_id": ["T-ONE"]}, fields=["severity"]))
    assert result["num_found"] == 4 and result["truncated"] is False
    assert all(set(item) == {"id", "severity"} and item["severity"] == 8 for item in result["alerts"])
    assert apis(sim, mark) == ["alerts.search"]
    result = run_module("cbc_alert_info", args(sim, minimum_severity=5, max_results=3))
    assert result["num_found"] == 4 and len(result["alerts"]) == 3 and result["truncated"] is True
    whole = run_module("cbc_alert_info", args(sim))
    assert whole["num_found"] == 10
    mark = sim.mark()
    ordered = run_module("cbc_alert_info", args(sim, sort=[{"field": "severity", "order": "DESC"}], fields=["severity"]))
    assert [item["severity"] for item in ordered["alerts"]] == [8] * 4 + [3] * 6
    assert sim.requests(since=mark)[0]["body"]["sort"] == [{"field": "severity", "order": "DESC"}]


def test_close_is_idempotent_checked_and_waits_for_the_job(sim, alerts):
    close = args(sim, criteria={"threat_id": ["T-ONE"]}, status="CLOSED", closure_reason="RESOLVED",
                 determination="FALSE_POSITIVE", note="known tool")
    mark = sim.mark()
    preview = run_module("cbc_alert", close, check_mode=True, diff=True)
    assert write_apis(sim, mark) == [] and preview["changed"] is True and len(preview["changed_alert_ids"]) == 4
    assert preview["workflow_requests"] == 1
    first = preview["alerts"][0]
    assert first["before"] == {"status": "OPEN", "closure_reason": "NO_REASON", "determination": "NONE"}
    assert first["after"] == {"status": "CLOSED", "closure_reason": "RESOLVED", "determination": "FALSE_POSITIVE"}
    assert len(preview["diff"]["after"]) == 4

    mark = sim.mark()
    result = run_module("cbc_alert", close)
    assert result["changed"] is True and sorted(result["changed_alert_ids"]) == sorted(preview["changed_alert_ids"])
    sent = apis(sim, mark)
    assert sent[0] == "alerts.search" and sent.count("alerts.workflow") == 1 and "jobs.get" in sent
    assert sent[-1] == "alerts.search"  # read again after the job
    workflow = [entry for entry in sim.requests(since=mark) if entry["api"] == "alerts.workflow"][0]
    assert sorted(workflow["body"]["criteria"]["id"]) == sorted(result["changed_alert_ids"])
    assert set(workflow["body"]["criteria"]) == {"id"} and workflow["body"]["note"] == "known tool"
    assert len(result["request_ids"]) == 1
    now = states(sim)
    assert sorted(i for i, state in now.items() if state == ("CLOSED", "RESOLVED", "FALSE_POSITIVE")) == \
        sorted(result["changed_alert_ids"])

    mark = sim.mark()
    again = run_module("cbc_alert", close)
    assert again["changed"] is False and write_apis(sim, mark) == [] and again["requests_sent"] == 1


def test_details_limit_caps_the_detail_but_not_the_ids(sim, alerts):
    result = run_module("cbc_alert", args(sim, criteria={"threat_id": ["T-ONE"]}, status="CLOSED", details_limit=1),
                        check_mode=True, diff=True)
    assert len(result["changed_alert_ids"]) == 4 and len(result["alerts"]) == 1 and result["alerts_not_detailed"] == 3
    assert result["diff"]["after"]["3 more alerts"] == "changed in 1 workflow request(s)"
    every = run_module("cbc_alert", args(sim, criteria={"threat_id": ["T-ONE"]}, status="CLOSED", details_limit=0),
                       check_mode=True)
    assert len(every["alerts"]) == 4 and every["alerts_not_detailed"] == 0


def test_only_the_parts_an_alert_needs_are_sent(sim, alerts):
    one = run_module("cbc_alert_info", args(sim, criteria={"threat_id": ["T-TWO"]}))["alerts"][0]["id"]
    run_module("cbc_alert", args(sim, alert_ids=[one], determination="TRUE_POSITIVE"))
    mark = sim.mark()
    result = run_module("cbc_alert", args(sim, criteria={"threat_id": ["T-TWO"]}, status="IN_PROGRESS",
                                          determination="TRUE_POSITIVE"))
    bodies = [entry["body"] for entry in sim.requests(since=mark) if entry["api"] == "alerts.workflow"]
    assert [sorted(key for key in body if key != "criteria") for body in bodies] == [
        ["determination", "status"], ["status"]]
    assert [len(body["criteria"]["id"]) for body in bodies] == [5, 1]
    assert len(result["changed_alert_ids"]) == 6
    assert all(state[0] == "IN_PROGRESS" and state[2] == "TRUE_POSITIVE"
               for alert_id, state in states(sim).items() if alert_id in result["changed_alert_ids"])


def test_batches_blast_radius_and_empty_selection(sim, alerts):
    mark = sim.mark()
    result = run_module("cbc_alert", args(sim, minimum_severity=1, status="CLOSED", max_alerts=9))
    assert result.failed and "matches 10 alerts, more than max_alerts (9)" in result["msg"]
    assert write_apis(sim, mark) == []
    result = run_module("cbc_alert", args(sim, minimum_severity=1, status="CLOSED", max_alerts=10, batch_size=4))
    assert result["workflow_requests"] == 3 and len(result["changed_alert_ids"]) == 10
    assert write_apis(sim, mark).count("alerts.workflow") == 3
    result = run_module("cbc_alert", args(sim, criteria={"threat_id": ["NOPE"]}, status="CLOSED"))
    assert result.failed and "matched no alert" in result["msg"]
    result = run_module("cbc_alert", args(sim, criteria={"threat_id": ["NOPE"]}, status="CLOSED", allow_empty=True))
    assert result["changed"] is False and result["num_found"] == 0


def test_failed_job_reports_what_was_not_done(sim, alerts):
    sim.job_settings(fail_next=1)
    result = run_module("cbc_alert", args(sim, criteria={"threat_id": ["T-ONE"]}, status="CLOSED", batch_size=2))
    assert result.failed and "FAILED" in result["msg"]
    assert result["done_alert_ids"] == [] and len(result["not_done_alert_ids"]) == 4
    assert result["changed"] is False
    rerun = run_module("cbc_alert", args(sim, criteria={"threat_id": ["T-ONE"]}, status="CLOSED", batch_size=2))
    assert rerun["changed"] is True and len(rerun["changed_alert_ids"]) == 4


def test_lost_answer_is_reconciled_not_resent(sim, alerts):
    sim.job_settings(job_delay=0)
    sim.add_fault(path="alerts/workflow", drop=True, apply=True, count=1)
    mark = sim.mark()
    result = run_module("cbc_alert", args(sim, criteria={"threat_id": ["T-ONE"]}, status="CLOSED"))
    assert result["changed"] is True and len(result["changed_alert_ids"]) == 4
    assert write_apis(sim, mark).count("alerts.workflow") == 1
    assert result["reconciled"] and "was applied" in result["reconciled"][0]
    closed = [alert_id for alert_id, state in states(sim).items() if state[0] == "CLOSED"]
    assert sorted(closed) == sorted(result["changed_alert_ids"])


def test_job_still_running_at_wait_timeout_is_unconfirmed(sim, alerts):
    sim.job_settings(job_delay=30)
    result = run_module("cbc_alert", args(sim, criteria={"threat_id": ["T-ONE"]}, status="CLOSED", wait_timeout=1))
    assert result.failed and "wait_timeout" in result["msg"]
    assert len(result["unconfirmed_alert_ids"]) == 4 and result["changed"] is True
    assert len(result["request_ids"]) == 1
    no_wait = run_module("cbc_alert", args(sim, criteria={"threat_id": ["T-TWO"]}, status="CLOSED", wait=False))
    assert no_wait["changed"] is True and len(no_wait["request_ids"]) == 1
