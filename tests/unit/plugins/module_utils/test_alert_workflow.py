# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/alerts: what each alert still needs, the request bodies, the job wait and part-way failures, with a
fake client."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.carbonblack.cloud.plugins.module_utils import alerts
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcApiError, CbcError


def alert(alert_id, status="OPEN", reason="NO_REASON", determination="NONE"):
    return {"id": alert_id, "workflow": {"status": status, "closure_reason": reason},
            "determination": {"value": determination} if determination is not None else None}


class FakeClient:
    """Answers alerts.search from ``alerts``, applies workflow bodies when their job is read ``job_reads`` times."""

    def __init__(self, items, job_reads=1, job_status="COMPLETED", workflow_error=None):
        self.alerts = dict((item["id"], item) for item in items)
        self.job_reads = job_reads
        self.job_status = job_status
        self.workflow_error = workflow_error
        self.calls = []
        self.pauses = []
        self.pending = {}

    def call(self, name, body=None, **path):
        self.calls.append(name)
        if name == "alerts.search":
            ids = (body.get("criteria") or {}).get("id")
            found = [dict(item) for key, item in sorted(self.alerts.items()) if ids is None or key in ids]
            return {"results": found, "num_found": len(found)}
        if name == "alerts.workflow":
            if self.workflow_error:
                raise self.workflow_error
            request_id = str(len(self.pending) + 1)
            self.pending[request_id] = [body, 0]
            return {"request_id": request_id}
        if name == "jobs.get":
            entry = self.pending[path["job_id"]]
            entry[1] += 1
            if entry[1] < self.job_reads:
                return {"status": "CREATED"}
            if self.job_status == "COMPLETED":
                self.apply(entry[0])
            return {"status": self.job_status, "progress": {"message": "done"}}
        raise AssertionError(name)

    def apply(self, body):
        for alert_id in body["criteria"]["id"]:
            item = self.alerts[alert_id]
            if "status" in body:
                item["workflow"] = {"status": body["status"], "closure_reason": body.get("closure_reason", "NO_REASON")}
            if "determination" in body:
                item["determination"] = {"value": body["determination"]}

    def pause(self, seconds):
        self.pauses.append(seconds)

    def settle_pause(self):
        return 0


def test_needs_compares_only_what_is_stated():
    close = alerts.WorkflowChange(status="CLOSED")
    assert close.needs(alert("a")) == ("status",)
    assert close.needs(alert("a", "CLOSED", "RESOLVED")) == ()  # no closure_reason stated: any reason will do
    resolved = alerts.WorkflowChange(status="CLOSED", closure_reason="RESOLVED", determination="FALSE_POSITIVE")
    assert resolved.needs(alert("a", "CLOSED", "NO_REASON", "FALSE_POSITIVE")) == ("status",)
    assert resolved.needs(alert("a", "CLOSED", "RESOLVED", None)) == ("determination",)  # null reads as NONE
    assert alerts.WorkflowChange(determination="NONE").needs(alert("a", determination=None)) == ()


def test_plan_groups_alerts_by_what_they_need_and_bodies_send_only_that():
    change = alerts.WorkflowChange(status="CLOSED", closure_reason="RESOLVED", determination="TRUE_POSITIVE", note="n")
    items = [alert("a"), alert("b", "CLOSED", "RESOLVED"), alert("c", determination="TRUE_POSITIVE"),
             alert("d", "CLOSED", "RESOLVED", "TRUE_POSITIVE")]
    groups, changes = alerts.plan_workflow(items, change)
    assert [(group.parts, group.alert_ids) for group in groups] == [
        (("status", "determination"), ["a"]), (("status",), ["c"]), (("determination",), ["b"])]
    assert sorted(changes) == ["a", "b", "c"]
    assert changes["b"] == ({"determination": "NONE"}, {"determination": "TRUE_POSITIVE"})
    assert change.body(("determination",), ["b"]) == {"criteria": {"id": ["b"]}, "determination": "TRUE_POSITIVE",
                                                      "note": "n"}
    assert change.body(("status",), ["c"]) == {"criteria": {"id": ["c"]}, "status": "CLOSED",
                                               "closure_reason": "RESOLVED", "note": "n"}


def test_apply_batches_waits_with_growing_pauses_and_reads_again():
    items = [alert(name) for name in "abcde"]
    client = FakeClient(items, job_reads=4)
    change = alerts.WorkflowChange(status="IN_PROGRESS")
    groups, _changes = alerts.plan_workflow(items, change)
    done, request_ids, sent = alerts.apply_workflow(client, change, groups, batch_size=2)
    assert done == list("abcde") and request_ids == ["1", "2", "3"] and sent == 3
    assert client.calls.count("alerts.workflow") == 3 and client.calls.count("jobs.get") == 12
    assert client.pauses[:3] == [0.25, 0.5, 1.0]
    assert all(item["workflow"]["status"] == "IN_PROGRESS" for item in client.alerts.values())


def test_a_failed_job_stops_with_what_was_done():
    items = [alert(name) for name in "abc"]
    client = FakeClient(items, job_status="FAILED")
    change = alerts.WorkflowChange(status="CLOSED")
    groups, _changes = alerts.plan_workflow(items, change)
    with pytest.raises(alerts.WorkflowFailure) as failure:
        alerts.apply_workflow(client, change, groups, batch_size=2)
    assert failure.value.done_ids == [] and failure.value.failed_ids == ["a", "b", "c"]
    assert "FAILED (done)" in str(failure.value) and failure.value.request_ids == ["1"]


def test_a_job_past_wait_timeout_leaves_its_alerts_unconfirmed():
    items = [alert(name) for name in "abc"]
    client = FakeClient(items, job_reads=100)
    change = alerts.WorkflowChange(status="CLOSED")
    groups, _changes = alerts.plan_workflow(items, change)
    with pytest.raises(alerts.WorkflowFailure) as failure:
        alerts.apply_workflow(client, change, groups, batch_size=2, wait_timeout=2)
    assert failure.value.unconfirmed_ids == ["a", "b"] and failure.value.failed_ids == ["c"]
    assert sum(client.pauses) <= 2 and "wait_timeout" in str(failure.value)


def test_a_refused_workflow_is_not_done_and_names_the_rest():
    items = [alert(name) for name in "abc"]
    client = FakeClient(items, workflow_error=CbcApiError("POST", "alerts/workflow", 403, "forbidden"))
    change = alerts.WorkflowChange(status="CLOSED")
    groups, _changes = alerts.plan_workflow(items, change)
    with pytest.raises(alerts.WorkflowFailure) as failure:
        alerts.apply_workflow(client, change, groups, batch_size=2)
    assert failure.value.failed_ids == ["a", "b", "c"] and failure.value.unconfirmed_ids == []
    assert isinstance(failure.value.error, CbcError)


def test_without_wait_the_jobs_are_not_read():
    items = [alert(name) for name in "ab"]
    client = FakeClient(items)
    change = alerts.WorkflowChange(status="CLOSED")
    groups, _changes = alerts.plan_workflow(items, change)
    done, request_ids, _sent = alerts.apply_workflow(client, change, groups, wait=False)
    assert done == ["a", "b"] and request_ids == ["1"] and client.calls == ["alerts.workflow"]
