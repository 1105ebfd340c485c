#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cbc_alert
short_description: Set the workflow of Carbon Black Cloud alerts (close, reopen, determination, note)
version_added: 1.1.0
description:
  - Selects alerts (by O(alert_ids), O(criteria), O(query), O(time_range) or O(minimum_severity)) and brings their
    workflow to the stated status, closure reason and determination (Alerts v7 C(alerts/workflow)).
  - The module searches first and sends the workflow change only for the alerts not yet in the wanted state, by
    their IDs, in batches of O(batch_size); never the search criteria themselves, so an alert that starts matching
    between the search and the change is not touched. A second run finds nothing to do and sends no change.
  - The API applies the change in an asynchronous job. With O(wait) the module waits for each job and reads the
    alerts again to report what changed; the job's own counts are not used (they are 0 in the API's recorded
    answers).
author:
  - carbonblack.cloud contributors (@carbonblack)
options:
  status:
    description:
      - The workflow status to set.
    type: str
    choices: [OPEN, IN_PROGRESS, CLOSED]
  closure_reason:
    description:
      - The closure reason to set with O(status). Unset, the API sets C(NO_REASON) on the alerts it changes, and an
        alert already in O(status) counts as done whatever its reason.
    type: str
    choices: [NO_REASON, RESOLVED, RESOLVED_BENIGN_KNOWN_GOOD, DUPLICATE_CLEANUP, OTHER]
  determination:
    description:
      - The determination to set.
    type: str
    choices: [TRUE_POSITIVE, FALSE_POSITIVE, NONE]
  note:
    description:
      - A note sent with the change. It is attached only to the alerts that change, so a re-run adds no second note.
    type: str
  max_alerts:
    description:
      - Blast-radius limit. When the selection matches more alerts than this (whether or not they need a change),
        the task fails before any change is sent and says how many matched. Exactly this many is allowed.
    type: int
  allow_empty:
    description:
      - Succeed without a change when the selection matches no alert. Off by default, because that usually means a
        wrong ID or criterion; turn it on for selections that filter on the workflow itself, such as
        C(criteria.workflow_status), which match nothing once the job is done.
    type: bool
    default: false
  batch_size:
    description:
      - Alert IDs per workflow request (1 to 10,000).
    type: int
    default: 1000
  wait:
    description:
      - Wait for each workflow job to finish and read the alerts again. Off, the task returns when the API has
        accepted the change, with the job IDs in RV(request_ids).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for each job (1 to 3600).
    type: int
    default: 300
  details_limit:
    description:
      - How many changed alerts RV(alerts) and the diff detail; 0 details every one. The rest are counted in
        RV(alerts_not_detailed); RV(changed_alert_ids) always lists every one.
    type: int
    default: 100
extends_documentation_fragment:
  - carbonblack.cloud.auth
  - carbonblack.cloud.attributes.state_module
  - carbonblack.cloud.alert_selection
attributes:
  check_mode:
    description: Searches and plans exactly as a real run does, sends no workflow change, and reports what would change.
  diff_mode:
    description: Shows the status, closure reason and determination before and after, per alert.
notes:
  - Needs C(org.alerts) C(READ), C(org.alerts.close) C(EXECUTE) and, with O(wait), C(jobs.status) C(READ).
  - The selection must name something. O(exclusions) alone, an empty list or a blank query is an error before any
    request. The Alerts API lets a search read 10,000 alerts; a selection that matches more fails before any change.
  - When a change fails part-way, the task fails and reports which alerts were done, which were not and which may
    have been (RV(done_alert_ids), RV(not_done_alert_ids), RV(unconfirmed_alert_ids)); a re-run finishes the job.
  - When the answer to a workflow request is lost, the module reads its alerts; those in the wanted state count as
    done, the others get the change once more (not after a timeout, when the server may still be applying it).
"""

EXAMPLES = r"""
- name: Close the alerts of a threat as a false positive
  carbonblack.cloud.cbc_alert:
    criteria:
      threat_id: [19261158DBBF00775959F8AA7F7551A1]
    status: CLOSED
    closure_reason: RESOLVED_BENIGN_KNOWN_GOOD
    determination: FALSE_POSITIVE
    note: Internal IT tool, approved in CHG-1234
    max_alerts: 500

- name: Take the open high-severity alerts of a device into investigation
  carbonblack.cloud.cbc_alert:
    criteria:
      device_name: [WS-FIN-0042]
      workflow_status: [OPEN]
    minimum_severity: 7
    status: IN_PROGRESS
    allow_empty: true

- name: Reopen one alert
  carbonblack.cloud.cbc_alert:
    alert_ids: [6f1173f5-f921-8e11-2160-edf42b799333]
    status: OPEN
"""

RETURN = r"""
changed_alert_ids:
  description: IDs of the alerts that changed (or would change in check mode).
  returned: success
  type: list
  elements: str
  sample: [6f1173f5-f921-8e11-2160-edf42b799333]
alerts:
  description: Up to O(details_limit) changed alerts with what changed on each.
  returned: success
  type: list
  elements: dict
  sample:
    - id: 6f1173f5-f921-8e11-2160-edf42b799333
      device_name: WS-FIN-0042
      severity: 8
      before: {status: OPEN, determination: NONE}
      after: {status: CLOSED, determination: FALSE_POSITIVE}
alerts_not_detailed:
  description: Changed alerts left out of RV(alerts) by O(details_limit).
  returned: success
  type: int
  sample: 0
num_found:
  description: How many alerts the selection matches.
  returned: success
  type: int
  sample: 1
workflow_requests:
  description: Workflow requests sent (planned, in check mode).
  returned: success
  type: int
  sample: 1
request_ids:
  description: The IDs of the workflow jobs the API started.
  returned: always
  type: list
  elements: str
  sample: ["666666"]
done_alert_ids:
  description: On a failure part-way, the alerts confirmed in the wanted state.
  returned: failure
  type: list
  elements: str
not_done_alert_ids:
  description: On a failure part-way, the alerts not changed (not sent, or read back unchanged).
  returned: failure
  type: list
  elements: str
unconfirmed_alert_ids:
  description: On a failure part-way, the alerts whose change was sent but could not be confirmed either way (a lost
    answer, a job still running at O(wait_timeout)). A re-run is safe; it changes only the alerts that still need it.
  returned: failure
  type: list
  elements: str
requests_sent:
  description: HTTP requests this task sent.
  returned: always
  type: int
  sample: 3
"""

from ansible_collections.carbonblack.cloud.plugins.module_utils.alerts import (
    CLOSURE_REASONS, DETERMINATIONS, MAX_RESULTS, SELECTION_ARGUMENT_SPEC, STATE_FIELDS, WORKFLOW_STATUSES,
    WorkflowFailure, apply_workflow, plan_workflow, search_alerts, selection_from_params, workflow_change_from_params)
from ansible_collections.carbonblack.cloud.plugins.module_utils.cbc_module import CbcModule
from ansible_collections.carbonblack.cloud.plugins.module_utils.diff import detailed_diff
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcConfigError
from ansible_collections.carbonblack.cloud.plugins.module_utils.validation import check_range


def check_limits(params):
    check_range(params["max_alerts"], "max_alerts", 1, fix="remove it for no limit")
    check_range(params["batch_size"], "batch_size", 1, 10000, fix="use the default 1000")
    check_range(params["wait_timeout"], "wait_timeout", 1, 3600, unit="seconds", fix="use the default 300")
    check_range(params["details_limit"], "details_limit", 0, fix="use 0 to detail every changed alert")


def select_alerts(module, selection):
    params = module.params
    alerts, num_found = search_alerts(module.client, selection, fields=STATE_FIELDS)
    if params["max_alerts"] is not None and num_found > params["max_alerts"]:
        raise CbcConfigError("the selection matches %d alerts, more than max_alerts (%d); nothing was changed. Fix: "
                             "narrow alert_ids, criteria, query or time_range, or raise max_alerts"
                             % (num_found, params["max_alerts"]))
    if num_found > len(alerts):
        raise CbcConfigError("the selection matches %d alerts, but a search reads only the first %d; nothing was "
                             "changed. Fix: narrow time_range or criteria" % (num_found, MAX_RESULTS))
    if not alerts and not params["allow_empty"]:
        raise CbcConfigError("the selection matched no alert. Fix: check alert_ids, criteria, query and time_range, "
                             "or set allow_empty: true")
    return alerts, num_found


def alert_details(alerts, changes, limit):
    changed = sorted(changes)
    detailed_ids = set(changed if limit == 0 else changed[:limit])
    detailed = []
    for alert in alerts:
        if alert["id"] in detailed_ids:
            before, after = changes[alert["id"]]
            detailed.append({"id": alert["id"], "device_name": alert.get("device_name"),
                             "severity": alert.get("severity"), "before": before, "after": after})
    detailed.sort(key=lambda entry: entry["id"])
    return changed, detailed


def summary_diff(detailed, not_detailed, workflow_requests):
    return detailed_diff(detailed, lambda alert: "%s (%s)" % (alert["id"], alert.get("device_name")), not_detailed,
                         "alerts", "changed in %d workflow request(s)" % workflow_requests)


def run_alert(module):
    params = module.params
    change = workflow_change_from_params(params)
    selection = selection_from_params(params)
    check_limits(params)
    alerts, num_found = select_alerts(module, selection)
    groups, changes = plan_workflow(alerts, change)
    changed, detailed = alert_details(alerts, changes, params["details_limit"])
    del alerts
    batch_size = params["batch_size"]
    workflow_requests = sum(-(-len(group.alert_ids) // batch_size) for group in groups)
    request_ids = []
    if groups and not module.check_mode:
        try:
            _done, request_ids, workflow_requests = apply_workflow(
                module.client, change, groups, batch_size=batch_size, wait=params["wait"],
                wait_timeout=params["wait_timeout"])
        except WorkflowFailure as failure:
            module.fail_json(msg=str(failure), changed=bool(failure.done_ids or failure.unconfirmed_ids),
                             done_alert_ids=failure.done_ids, not_done_alert_ids=failure.failed_ids,
                             unconfirmed_alert_ids=failure.unconfirmed_ids, request_ids=failure.request_ids,
                             http_status=getattr(failure.error, "status", None))
    result = dict(changed=bool(groups), changed_alert_ids=changed, alerts=detailed,
                  alerts_not_detailed=len(changed) - len(detailed), num_found=num_found,
                  workflow_requests=workflow_requests, request_ids=request_ids)
    if module._diff:
        result["diff"] = summary_diff(detailed, len(changed) - len(detailed), workflow_requests)
    return result


def main():
    argument_spec = dict(
        SELECTION_ARGUMENT_SPEC,
        status=dict(type="str", choices=list(WORKFLOW_STATUSES)),
        closure_reason=dict(type="str", choices=list(CLOSURE_REASONS)),
        determination=dict(type="str", choices=list(DETERMINATIONS)),
        note=dict(type="str"),
        max_alerts=dict(type="int"),
        allow_empty=dict(type="bool", default=False),
        batch_size=dict(type="int", default=1000),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=300),
        details_limit=dict(type="int", default=100),
    )
    module = CbcModule(argument_spec=argument_spec, supports_check_mode=True)
    module.run(run_alert)


if __name__ == "__main__":
    main()
