# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alerts v7: select alerts (``_search`` pages), plan a workflow change, send it by alert id and wait for its job.

The workflow call acts on whatever its selection matches when the job runs, so the module never sends the
user's criteria to it: it searches first, keeps the alerts not yet in the wanted state and sends their ids
(``criteria.id``) in batches. The job's counts say nothing about what changed (0/0 in the recorded job), so
the alerts are read again after the job completes. No Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .errors import CbcConfigError, CbcError, CbcWriteUnconfirmed
from .selection import (check_criteria_given, check_ids_given, check_query, check_sort, check_time_shape,
                        check_value_list, field_trimmer, requested_fields, search_body, without_empty_lists)
from .validation import check_keys, check_range, check_text
from .writes import reconciled_write

#: A search can read the first 10,000 matches only (the SDK's MAX_RESULTS_LIMIT); past it the API answers 500.
MAX_RESULTS = 10000
MAX_ROWS = 10000
WORKFLOW_STATUSES = ("OPEN", "IN_PROGRESS", "CLOSED")
CLOSURE_REASONS = ("NO_REASON", "RESOLVED", "RESOLVED_BENIGN_KNOWN_GOOD", "DUPLICATE_CLEANUP", "OTHER")
DETERMINATIONS = ("TRUE_POSITIVE", "FALSE_POSITIVE", "NONE")
JOB_DONE_STATUSES = ("COMPLETED", "FAILED")
NOTE_MAX_LENGTH = 2000

#: Criteria keys that take a time object ({range} or {start, end}), as the SDK's _is_valid_time_criteria_key.
TIME_CRITERIA = frozenset((
    "backend_update_timestamp", "detection_timestamp", "first_event_timestamp", "last_event_timestamp",
    "mdr_determination_change_timestamp", "mdr_workflow_change_timestamp", "user_update_timestamp",
    "workflow_change_timestamp"))

#: Fields a criteria or exclusions key may name: the keys of the recorded v7 alerts (SDK fixtures
#: mock_alerts_v7.py, every alert type there) and the flat names of their nested objects
#: (``workflow_status``, ``determination_value``...). An unknown key is refused before any request: a server
#: that ignored it would widen the selection (docs/api-evidence.md).
ALERT_FIELDS = frozenset((
    "alert_notes_present", "alert_url", "asset_id", "attack_tactic", "attack_technique", "backend_timestamp",
    "backend_update_timestamp", "childproc_cmdline", "childproc_guid", "childproc_username", "connection_type",
    "detection_timestamp", "device_external_ip", "device_id", "device_internal_ip", "device_location",
    "device_name", "device_os", "device_os_version", "device_policy", "device_policy_id", "device_target_value",
    "device_uem_id", "device_username", "egress_group_id", "egress_group_name", "first_event_timestamp", "id",
    "ioc_hit", "ioc_id", "ip_reputation", "is_updated", "k8s_cluster", "k8s_kind", "k8s_namespace", "k8s_pod_name",
    "k8s_policy", "k8s_policy_id", "k8s_rule", "k8s_rule_id", "k8s_workload_name", "last_event_timestamp",
    "mdr_alert", "mdr_alert_notes_present", "mdr_threat_notes_present", "ml_classification_final_verdict",
    "ml_classification_global_prevalence", "ml_classification_org_prevalence", "netconn_local_ip",
    "netconn_local_ipv4", "netconn_local_port", "netconn_protocol", "netconn_remote_domain", "netconn_remote_ip",
    "netconn_remote_ipv4", "netconn_remote_port", "org_key", "parent_cmdline", "parent_effective_reputation",
    "parent_guid", "parent_md5", "parent_name", "parent_pid", "parent_reputation", "parent_sha256",
    "parent_username", "policy_applied", "primary_event_id", "process_cmdline", "process_effective_reputation",
    "process_guid", "process_issuer", "process_md5", "process_name", "process_pid", "process_publisher",
    "process_reputation", "process_sha256", "process_username", "reason", "reason_code", "remote_is_private",
    "report_description", "report_id", "report_link", "report_name", "report_tags", "rule_category_id", "rule_id",
    "run_state", "sensor_action", "severity", "tags", "threat_hunt_id", "threat_hunt_name", "threat_id",
    "threat_name", "threat_notes_present", "tms_rule_id", "ttps", "type", "user_update_timestamp",
    "watchlists_id", "watchlists_name", "workflow_status", "workflow_closure_reason", "workflow_change_timestamp",
    "workflow_changed_by", "workflow_changed_by_type", "determination_value", "determination_change_timestamp",
    "determination_changed_by", "determination_changed_by_type", "mdr_workflow_status", "mdr_workflow_is_assigned",
    "mdr_workflow_change_timestamp", "mdr_determination_value", "mdr_determination_change_timestamp",
)) | TIME_CRITERIA

#: Fields an alert returns: the searchable ones and the nested objects the flat names come from.
RETURNED_FIELDS = ALERT_FIELDS | frozenset(("workflow", "determination", "mdr_workflow", "mdr_determination",
                                            "watchlists"))

#: What cbc_alert reads of each alert: enough to decide and to report.
STATE_FIELDS = ("id", "type", "severity", "device_id", "device_name", "threat_id", "reason", "backend_timestamp",
                "workflow", "determination")

SELECTION_ARGUMENT_SPEC = dict(
    alert_ids=dict(type="list", elements="str"),
    criteria=dict(type="dict"),
    exclusions=dict(type="dict"),
    query=dict(type="str"),
    time_range=dict(type="dict"),
    minimum_severity=dict(type="int"),
)
SELECTION_OPTIONS = ("alert_ids", "criteria", "query", "time_range", "minimum_severity")


class AlertSelection:
    """Which alerts a task is about: ids, criteria, exclusions, a query, a backend_timestamp range, a severity."""

    def __init__(self, alert_ids=None, criteria=None, exclusions=None, query=None, time_range=None,
                 minimum_severity=None, sort=None):
        self.alert_ids = list(alert_ids) if alert_ids else None
        self.criteria = dict(criteria) if criteria else {}
        self.exclusions = dict(exclusions) if exclusions else {}
        self.query = query or None
        self.time_range = dict(time_range) if time_range else None
        self.minimum_severity = minimum_severity
        self.sort = list(sort) if sort else None

    def search_body(self):
        criteria = dict(self.criteria)
        if self.minimum_severity is not None:
            criteria["minimum_severity"] = self.minimum_severity
        return search_body(self.alert_ids, criteria, self.exclusions, self.query,
                           time_range=dict(self.time_range) if self.time_range else None)


def _check_time_object(value, where):
    check_time_shape(value, where, "-3d")
    for key, item in value.items():
        if not isinstance(item, str) or not item.strip():
            raise CbcConfigError("%s.%s must be a non-empty string such as %s. Fix: quote the value"
                                 % (where, key, "-3d" if key == "range" else "2026-01-01T00:00:00Z"))


def _check_filters(option, filters):
    check_keys(filters, option, ALERT_FIELDS)
    for field, values in filters.items():
        where = "%s.%s" % (option, field)
        if field in TIME_CRITERIA:
            _check_time_object(values, where)
        else:
            check_value_list(values, where, field)


def selection_from_params(params, whole_org_when_unset=False):
    """Validate the selection options and return an AlertSelection (raises CbcConfigError before any request).

    As for devices, an option given but empty never widens the selection: ``alert_ids: []``, ``criteria: {}``, a
    criterion with an empty list or a blank query is an error. Writers must select something; readers
    (``whole_org_when_unset``) read every alert when no selection option is given.
    """
    criteria = params.get("criteria")
    check_ids_given(params.get("alert_ids"), "alert_ids", "alert")
    if params.get("alert_ids") is not None:
        blank = [index for index, alert_id in enumerate(params["alert_ids"]) if not alert_id or not alert_id.strip()]
        if blank:
            raise CbcConfigError("alert_ids[%d] is blank. Fix: alert IDs are strings such as "
                                 "6f1173f5-f921-8e11-2160-edf42b799333" % blank[0])
    check_criteria_given(criteria, "alert")
    if criteria is not None:
        if "minimum_severity" in criteria:
            raise CbcConfigError("criteria.minimum_severity: use the minimum_severity option instead. Fix: move it")
        if "id" in criteria:
            raise CbcConfigError("criteria.id: use the alert_ids option instead. Fix: move it")
        _check_filters("criteria", criteria)
    _check_filters("exclusions", params.get("exclusions") or {})
    query = params.get("query")
    check_query(query, "alert", "device_name:web-01")
    if params.get("time_range") is not None:
        _check_time_object(params["time_range"], "time_range")
    check_range(params.get("minimum_severity"), "minimum_severity", 1, 10, fix="alert severities are 1 to 10")
    check_sort(params.get("sort"), ALERT_FIELDS, "an alert", "backend_timestamp, severity, device_name or id")
    given = [option for option in SELECTION_OPTIONS if params.get(option) is not None]
    if not given and not whole_org_when_unset:
        raise CbcConfigError("no alerts are selected. Fix: set alert_ids, criteria, query, time_range or "
                             "minimum_severity (exclusions alone select everything else)")
    return AlertSelection(alert_ids=params.get("alert_ids"), criteria=criteria,
                          exclusions=without_empty_lists(params.get("exclusions")),
                          query=query.strip() if query else None, time_range=params.get("time_range"),
                          minimum_severity=params.get("minimum_severity"), sort=params.get("sort"))


def search_alerts(client, selection, limit=None, fields=None, rows=MAX_ROWS):
    """Return ``(alerts, num_found)``, paging with a 1-based ``start``; at most the first 10,000 matches.

    ``fields`` trims each alert to those keys as the page is decoded.
    """
    body = selection.search_body()
    if selection.sort:
        body["sort"] = selection.sort
    wanted = MAX_RESULTS if limit is None else min(limit, MAX_RESULTS)
    shape = field_trimmer(fields)
    alerts = []
    num_found = 0
    while True:
        page_rows = min(rows, wanted - len(alerts))
        request = dict(body, rows=max(page_rows, 0))
        if alerts:
            request["start"] = len(alerts) + 1
        page = client.call("alerts.search", body=request, shape_results=shape)
        num_found = page.get("num_found", 0)
        results = page.get("results") or []
        alerts.extend(results)
        if not results or len(alerts) >= min(num_found, wanted):
            break
    del alerts[wanted:]
    return alerts, num_found


def alerts_by_id(client, alert_ids, fields=STATE_FIELDS, batch_size=1000):
    """Read the alerts of ``alert_ids`` again (a search by ``criteria.id`` per batch); return ``{id: alert}``."""
    found = {}
    for start in range(0, len(alert_ids), batch_size):
        batch = alert_ids[start:start + batch_size]
        alerts, _num_found = search_alerts(client, AlertSelection(alert_ids=batch), fields=fields)
        found.update((alert["id"], alert) for alert in alerts)
    return found


def returned_fields(fields):
    """The alert fields a caller asked for, ``id`` first; None (every field) when ``fields`` is None."""
    return requested_fields(fields, RETURNED_FIELDS, "alert", "device_name, severity, reason, workflow or determination")


# -- desired workflow -> plan ----------------------------------------------------


def alert_state(alert):
    """``{status, closure_reason, determination}`` of an alert as searched (an absent determination is NONE)."""
    workflow = alert.get("workflow") if isinstance(alert.get("workflow"), dict) else {}
    determination = alert.get("determination")
    value = determination.get("value") if isinstance(determination, dict) else determination
    return {"status": workflow.get("status"), "closure_reason": workflow.get("closure_reason"),
            "determination": value or "NONE"}


class WorkflowChange:
    """The workflow a task states: ``status`` (with an optional ``closure_reason``), ``determination``, ``note``."""

    def __init__(self, status=None, closure_reason=None, determination=None, note=None):
        self.status = status
        self.closure_reason = closure_reason
        self.determination = determination
        self.note = note

    def needs(self, alert):
        """Which parts of the change the alert still needs: a subset of ``("status", "determination")``."""
        state = alert_state(alert)
        parts = []
        if self.status is not None and (state["status"] != self.status or (
                self.closure_reason is not None and state["closure_reason"] != self.closure_reason)):
            parts.append("status")
        if self.determination is not None and state["determination"] != self.determination:
            parts.append("determination")
        return tuple(parts)

    def body(self, parts, alert_ids):
        """The workflow request for ``alert_ids`` that sets ``parts`` (and the note)."""
        body = {"criteria": {"id": list(alert_ids)}}
        if "status" in parts:
            body["status"] = self.status
            if self.closure_reason is not None:
                body["closure_reason"] = self.closure_reason
        if "determination" in parts:
            body["determination"] = self.determination
        if self.note is not None:
            body["note"] = self.note
        return body

    def after(self, alert, parts):
        """The state the alert will have once ``parts`` are applied (only the stated keys)."""
        state = alert_state(alert)
        before, after = {}, {}
        if "status" in parts:
            before["status"], after["status"] = state["status"], self.status
            if self.closure_reason is not None or state["closure_reason"] != "NO_REASON":
                before["closure_reason"] = state["closure_reason"]
                after["closure_reason"] = self.closure_reason or "NO_REASON"
        if "determination" in parts:
            before["determination"], after["determination"] = state["determination"], self.determination
        return before, after


def workflow_change_from_params(params):
    """Validate the desired workflow (raises CbcConfigError before any request)."""
    if params.get("closure_reason") is not None and params.get("status") is None:
        raise CbcConfigError("closure_reason is set without status. Fix: set status too, e.g. status: CLOSED")
    if params.get("status") is None and params.get("determination") is None:
        raise CbcConfigError("nothing to set. Fix: set status (with closure_reason) and/or determination")
    if params.get("note") is not None:
        check_text(params["note"], "note", limit=NOTE_MAX_LENGTH)
        if not params["note"].strip():
            raise CbcConfigError("note is blank. Fix: write the note, or remove the option")
    return WorkflowChange(params.get("status"), params.get("closure_reason"), params.get("determination"),
                          params.get("note"))


class WorkflowGroup:
    """The alerts that need the same parts of the change, sent together in batches."""

    def __init__(self, parts):
        self.parts = parts
        self.alert_ids = []


def plan_workflow(alerts, change):
    """Return ``(groups, changes)``: WorkflowGroups (status and determination, status only, determination
    only) and ``{alert id: (before, after)}`` for every alert that needs something."""
    groups = {}
    changes = {}
    for alert in alerts:
        parts = change.needs(alert)
        if not parts:
            continue
        groups.setdefault(parts, WorkflowGroup(parts)).alert_ids.append(alert["id"])
        changes[alert["id"]] = change.after(alert, parts)
    order = (("status", "determination"), ("status",), ("determination",))
    return [groups[parts] for parts in order if parts in groups], changes


# -- apply -------------------------------------------------------------------------


class WorkflowFailure(Exception):
    """A workflow change stopped part-way: the alerts confirmed done, not done and unconfirmed."""

    def __init__(self, done_ids, failed_ids, error, unconfirmed_ids=(), request_ids=()):
        self.done_ids = list(done_ids)
        self.failed_ids = list(failed_ids)
        self.unconfirmed_ids = list(unconfirmed_ids)
        self.request_ids = list(request_ids)
        self.error = error
        total = len(self.done_ids) + len(self.failed_ids) + len(self.unconfirmed_ids)
        unconfirmed = (", %d may have been" % len(self.unconfirmed_ids)) if self.unconfirmed_ids else ""
        super(WorkflowFailure, self).__init__("the workflow change stopped after %d of %d alerts%s: %s"
                                              % (len(self.done_ids), total, unconfirmed, error))


class JobWaiter:
    """Reads a job until it is COMPLETED or FAILED, with a growing pause, for at most ``timeout`` seconds."""

    FIRST_PAUSE = 0.25
    LONGEST_PAUSE = 5.0

    def __init__(self, client, timeout):
        self.client = client
        self.timeout = float(timeout)

    def wait(self, request_id):
        waited = 0.0
        pause = self.FIRST_PAUSE
        while True:
            job = self.client.call("jobs.get", job_id=request_id) or {}
            if job.get("status") in JOB_DONE_STATUSES:
                return job
            if waited + pause > self.timeout:
                raise CbcError("job %s is still %s after %.0f s (wait_timeout); the change may still be applied. "
                               "Fix: raise wait_timeout, or re-run the task later (it sends only what is still "
                               "needed)" % (request_id, job.get("status") or "running", waited))
            self.client.pause(pause)
            waited += pause
            pause = min(pause * 2, self.LONGEST_PAUSE)


def apply_workflow(client, change, groups, batch_size=1000, wait=True, wait_timeout=300):
    """Send each group's workflow in batches of alert ids; with ``wait``, wait for each job and read the alerts
    again. Return ``(done ids, request ids, jobs sent)``; raise WorkflowFailure saying what was done.

    A batch whose answer was lost is reconciled by reading its alerts: those in the wanted state count as done;
    the others get the workflow once more (not after a timeout; see writes.reconciled_write).
    """
    waiter = JobWaiter(client, wait_timeout)
    batches = [(group.parts, group.alert_ids[start:start + batch_size])
               for group in groups for start in range(0, len(group.alert_ids), batch_size)]
    done, request_ids = [], []
    for index, (parts, batch) in enumerate(batches):
        rest = [alert_id for _parts, later in batches[index + 1:] for alert_id in later]
        pending = {"todo": list(batch), "answered": False}

        def send():
            answer = client.call("alerts.workflow", body=change.body(parts, pending["todo"])) or {}
            pending["answered"] = True
            return answer

        def confirm():
            found = alerts_by_id(client, pending["todo"])
            pending["todo"] = [alert_id for alert_id in pending["todo"]
                               if alert_id not in found or change.needs(found[alert_id])]
            return not pending["todo"], {}

        try:
            answer = reconciled_write(client, "the workflow change of %d alert(s)" % len(batch), send, confirm)
            request_id = answer.get("request_id") if pending["answered"] else None
            if request_id is not None:
                request_ids.append(str(request_id))
            if wait and request_id is not None:
                job = waiter.wait(request_id)
                confirm()
                if pending["todo"]:
                    if job.get("status") == "FAILED":
                        reason = "job %s FAILED (%s)" % (request_id, _job_message(job))
                    else:
                        reason = ("job %s completed, but %d alert(s) are not in the wanted state when read again "
                                  "(%s); another change may have crossed this one"
                                  % (request_id, len(pending["todo"]), ", ".join(pending["todo"][:5])))
                    raise WorkflowFailure(done + _without(batch, pending["todo"]), pending["todo"] + rest, reason,
                                          request_ids=request_ids)
        except CbcWriteUnconfirmed as error:
            raise WorkflowFailure(done + _without(batch, pending["todo"]), rest, error,
                                  unconfirmed_ids=pending["todo"], request_ids=request_ids)
        except CbcError as error:
            # Once the workflow was answered, its job may still change the alerts that are not confirmed yet.
            sent = pending["answered"]
            raise WorkflowFailure(done + _without(batch, pending["todo"]), rest if sent else pending["todo"] + rest,
                                  error, unconfirmed_ids=pending["todo"] if sent else (), request_ids=request_ids)
        done.extend(batch)
    return done, request_ids, len(batches)


def _without(ids, removed):
    removed = set(removed)
    return [alert_id for alert_id in ids if alert_id not in removed]


def _job_message(job):
    progress = job.get("progress") if isinstance(job.get("progress"), dict) else {}
    errors = job.get("errors")
    return "; ".join(str(item) for item in ([progress.get("message")] + (errors if isinstance(errors, list) else []))
                     if item) or "no message"
