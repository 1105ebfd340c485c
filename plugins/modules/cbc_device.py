#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cbc_device
short_description: Enforce the state of Carbon Black Cloud devices
version_added: 1.0.0
description:
  - Selects devices (by O(device_ids), O(criteria) or O(query)) and brings them to the stated state
    (quarantine, bypass, policy, sensor version, background scan, sensor uninstall or deletion).
  - Each action is sent only for the devices whose current state needs it, in batches of O(batch_size) device IDs,
    never one request per device. A second run finds nothing to do and sends no action.
  - In check mode the module computes the same result and sends no action.
author:
  - carbonblack.cloud contributors (@carbonblack)
options:
  all_devices:
    description:
      - Select every device of the organization (optionally minus O(exclusions)).
      - Without it, a task must select devices with O(device_ids), O(criteria) or O(query); an empty list, an empty
        mapping or a blank query is an error before any request, so a template that renders empty never widens the
        selection to the whole organization.
    type: bool
    default: false
  max_devices:
    description:
      - Blast-radius guard. When the selection matches more devices than this (matched, not only those that need a
        change), the task fails before any action is sent and says how many matched. Exactly this many is allowed.
      - Unset means no limit.
    type: int
  allow_empty:
    description:
      - Succeed without a change when the selection matches no device. By default that is an error,
        because it usually means a wrong name or criterion.
    type: bool
    default: false
  quarantined:
    description:
      - V(true) quarantines the selected devices, V(false) releases them (action C(QUARANTINE)).
    type: bool
  bypass:
    description:
      - V(true) puts the sensors in bypass, V(false) takes them out (action C(BYPASS)).
      - A device counts as in bypass when its C(status) is C(BYPASS) or C(BYPASS_ON).
    type: bool
  policy_id:
    description:
      - Move the devices to this policy (action C(UPDATE_POLICY)). Mutually exclusive with O(policy_name).
    type: int
  policy_name:
    description:
      - Move the devices to the policy of this name, resolved through the policy summary
        (needs C(org.policies READ)). An unknown or ambiguous name is an error.
    type: str
  sensor_version:
    description:
      - "Sensor version per kit type, for example C({WINDOWS: 3.9.1.2451, RHEL: 2.15.2.1890})
        (action C(UPDATE_SENSOR_VERSION))."
      - Only devices of that kit whose version differs and that have no update pending are updated.
    type: dict
  send_background_scan:
    description:
      - V(start) or V(stop) a background scan on every selected device that has a sensor (action
        C(BACKGROUND_SCAN) with C(toggle) C(ON) or C(OFF)).
      - This is an action, not a state. The Devices API reports no background-scan state to compare with, so it is
        sent on every run and the task reports C(changed) each time; it is outside the module's idempotence. After a
        lost answer it is reported unconfirmed, never sent again by the module.
      - For a lasting setting, use the policy's C(BACKGROUND_SCAN) sensor setting (M(carbonblack.cloud.cbc_policy)).
    type: str
    choices: [start, stop]
  uninstall_sensor:
    description:
      - V(true) uninstalls the sensor of every selected device that is not already C(UNINSTALLED),
        C(DEREGISTERED) or C(DELETED) (action C(UNINSTALL_SENSOR)).
    type: bool
    default: false
  delete_sensor:
    description:
      - V(true) deletes the selected devices whose status is C(DEREGISTERED) (action C(DELETE_SENSOR));
        other devices are left alone.
    type: bool
    default: false
  batch_size:
    description:
      - Device IDs per C(device_actions) request.
    type: int
    default: 1000
  details_limit:
    description:
      - How many changed devices RV(devices) and the C(--diff) output detail (name, before, after), lowest IDs first.
        The rest are counted in RV(devices_not_detailed) and summarised in one diff line; RV(changed_device_ids) and
        RV(actions) always cover every device.
      - V(0) details every changed device. On large fleets that makes the result (and Ansible's handling of it)
        large, about 1 MB for 10,000 devices.
    type: int
    default: 100
extends_documentation_fragment:
  - carbonblack.cloud.auth
  - carbonblack.cloud.attributes.state_module
  - carbonblack.cloud.device_selection
attributes:
  check_mode:
    description: Computes the same result and sends no action.
  diff_mode:
    description: Shows, per device, the fields that change (for at most O(details_limit) devices, then one summary line).
notes:
  - Devices without a sensor (status C(DEREGISTERED), C(UNINSTALLED) or C(DELETED)) are left alone by the sensor
    actions (quarantine, bypass, background scan, sensor version, uninstall); only O(policy_id)/O(policy_name) and
    O(delete_sensor) act on them.
  - When a batch fails part-way, the task fails and reports which devices were done, which were not and which may have
    been (RV(done_device_ids), RV(not_done_device_ids), RV(unconfirmed_device_ids)), for HTTP and connection errors
    alike, so a re-run finishes the job.
  - When the answer to a batch is lost (dropped connection, timeout, HTTP 5xx), the module searches the batch's devices;
    those already in the wanted state count as done, the others get the action once more (not after a timeout, when
    the server may still be applying it).
  - A device deleted between the search and its action (HTTP 404 for the batch) is dropped after one
    re-check and reported in RV(missing_device_ids).
"""

EXAMPLES = r"""
- name: Quarantine a compromised host
  carbonblack.cloud.cbc_device:
    query: "name:WS-FIN-0042"
    quarantined: true

- name: Release it again
  carbonblack.cloud.cbc_device:
    query: "name:WS-FIN-0042"
    quarantined: false

- name: Keep every Linux server on the Servers policy
  carbonblack.cloud.cbc_device:
    criteria:
      os: [LINUX]
      deployment_type: [WORKLOAD]
    policy_name: Servers

- name: Quarantine the hosts of an incident, but never more than 5 devices
  carbonblack.cloud.cbc_device:
    device_ids: "{{ incident_device_ids }}"
    quarantined: true
    max_devices: 5

- name: Stage a sensor update on the Windows canary group
  carbonblack.cloud.cbc_device:
    criteria:
      policy_name: [Canary]
    sensor_version:
      WINDOWS: 3.9.1.2451
    batch_size: 500
"""

RETURN = r"""
changed_device_ids:
  description: Every device that needed a change (or, in check mode, would get one), sorted.
  returned: success
  type: list
  elements: int
  sample: [12345]
devices:
  description:
    - The devices that needed a change, with the changed fields before and after, lowest IDs first, at most
      O(details_limit) of them.
  returned: success
  type: list
  elements: dict
  sample:
    - id: 12345
      name: web-01
      before: {quarantined: false}
      after: {quarantined: true}
devices_not_detailed:
  description: How many changed devices RV(devices) leaves out because of O(details_limit).
  returned: success
  type: int
  sample: 0
actions:
  description: One entry per action sent (or, in check mode, that would be sent), with the number of devices.
  returned: success
  type: list
  elements: dict
  sample:
    - action_type: QUARANTINE
      count: 1
      batches: 1
      options: {toggle: "ON"}
num_found:
  description: How many devices the selection matched.
  returned: success
  type: int
  sample: 1
missing_device_ids:
  description: Devices that vanished between the search and their action.
  returned: success
  type: list
  elements: int
  sample: []
done_device_ids:
  description: On a failed batch, the devices of the failed action that were done.
  returned: failure
  type: list
  elements: int
not_done_device_ids:
  description: On a failed batch, the devices of the failed action that were not done (not sent, or read back
    unchanged after a lost answer).
  returned: failure
  type: list
  elements: int
unconfirmed_device_ids:
  description: On a failed batch, the devices whose action was sent but whose answer was lost and whose state could
    not be confirmed either way. A re-run is safe; it acts only on devices that still need it.
  returned: failure
  type: list
  elements: int
requests_sent:
  description: HTTP requests this task sent.
  returned: always
  type: int
  sample: 2
"""

from ansible_collections.carbonblack.cloud.plugins.module_utils.cbc_module import CbcModule
from ansible_collections.carbonblack.cloud.plugins.module_utils.devices import (
    SELECTION_ARGUMENT_SPEC, STATE_FIELDS, BatchFailure, plan_device_actions, search_devices, selection_from_params,
    send_device_action)
from ansible_collections.carbonblack.cloud.plugins.module_utils.diff import detailed_diff
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcConfigError
from ansible_collections.carbonblack.cloud.plugins.module_utils.policies import find_by_name, list_summaries, policy_ids
from ansible_collections.carbonblack.cloud.plugins.module_utils.validation import (
    check_id, check_keys, check_name, check_range)

# Kit types of the SDK's SensorKit.VALID_TYPES (docs/api-evidence.md).
SENSOR_KITS = ("WINDOWS", "MAC", "RHEL", "UBUNTU", "SUSE", "AMAZON_LINUX")

DESIRED_OPTIONS = ("quarantined", "bypass", "policy_id", "policy_name", "sensor_version", "send_background_scan",
                   "uninstall_sensor", "delete_sensor")


def resolve_policy(module, client):
    if module.params["policy_id"] is not None:
        return {"id": module.params["policy_id"], "name": None}
    name = module.params["policy_name"]
    if name is None:
        return None
    policies = list_summaries(client)
    matches = find_by_name(policies, name)
    if not matches:
        known = sorted(policy.get("name") for policy in policies if policy.get("name"))
        raise CbcConfigError("no policy is named %r. Fix: use one of: %s" % (name, ", ".join(known[:20]) or "(none)"))
    if len(matches) > 1:
        raise CbcConfigError("%d policies are named %r (ids %s). Fix: use policy_id"
                             % (len(matches), name, policy_ids(matches)))
    return {"id": matches[0]["id"], "name": name}


def check_desired(params):
    # uninstall_sensor and delete_sensor default to false, which asks for nothing
    if all(params[option] is None for option in DESIRED_OPTIONS[:6]) and not (
            params["uninstall_sensor"] or params["delete_sensor"]):
        raise CbcConfigError("nothing to enforce. Fix: set one of %s" % ", ".join(DESIRED_OPTIONS))
    if params["policy_id"] is not None:
        check_id(params["policy_id"], "policy_id")
    if params["policy_name"] is not None:
        check_name(params["policy_name"], "policy_name")
    check_keys(params["sensor_version"] or {}, "sensor_version", SENSOR_KITS)
    if params["sensor_version"] is not None and not params["sensor_version"]:
        raise CbcConfigError("sensor_version is empty. Fix: give a version per kit, e.g. {WINDOWS: 3.9.1.2451}")
    check_range(params["max_devices"], "max_devices", 1, fix="remove it for no limit")
    check_range(params["details_limit"], "details_limit", 0, fix="use 0 to detail every changed device")
    if params["batch_size"] < 1 or params["batch_size"] > 10000:
        raise CbcConfigError("batch_size must be between 1 and 10000. Fix: use the default 1000")
    for kit, version in (params["sensor_version"] or {}).items():
        if not isinstance(version, str) or not version:
            raise CbcConfigError("sensor_version.%s must be a version string such as 3.9.1.2451. Fix: quote it" % kit)


def changed_ids(plans):
    return sorted(set(device_id for plan in plans for device_id in plan.device_ids))


def details(plans, device_ids, names):
    """Name, before and after of each of ``device_ids``, merged over every plan that changes it."""
    entries = []
    for device_id in device_ids:
        entry = {"id": device_id, "name": names.get(device_id), "before": {}, "after": {}}
        for plan in plans:
            if device_id not in plan.changes:
                continue
            field, before, after = plan.changes[device_id]
            if isinstance(before, dict):
                entry["before"].update(before)
                entry["after"].update(after)
            else:
                entry["before"][field] = before
                entry["after"][field] = after
        entries.append(entry)
    return entries


def summary_diff(detailed, not_detailed, actions):
    return detailed_diff(detailed, lambda device: "%s (%s)" % (device["name"], device["id"]), not_detailed, "devices",
                         "; ".join("%s for %d devices" % (action["action_type"], action["count"]) for action in actions))


def run_device(module):
    params = module.params
    check_desired(params)
    selection = selection_from_params(params)
    client = module.client
    policy = resolve_policy(module, client)
    devices, num_found = search_devices(client, selection, fields=STATE_FIELDS)
    if params["max_devices"] is not None and num_found > params["max_devices"]:
        raise CbcConfigError("the selection matches %d devices, more than max_devices (%d); nothing was changed. "
                             "Fix: narrow device_ids, criteria or query, or raise max_devices"
                             % (num_found, params["max_devices"]))
    if not devices and not params["allow_empty"]:
        raise CbcConfigError("the selection matched no device. Fix: check device_ids, criteria and query, or set "
                             "allow_empty: true")

    plans = plan_device_actions(devices, quarantined=params["quarantined"], bypass=params["bypass"], policy=policy,
                                sensor_version=params["sensor_version"],
                                send_background_scan=params["send_background_scan"],
                                uninstall_sensor=params["uninstall_sensor"], delete_sensor=params["delete_sensor"])
    changed = changed_ids(plans)
    limit = params["details_limit"]
    detailed_ids = changed if limit == 0 else changed[:limit]
    wanted = set(detailed_ids)
    names = dict((device["id"], device.get("name")) for device in devices if device["id"] in wanted)
    detailed = details(plans, detailed_ids, names)
    del devices, names, wanted
    batch_size = params["batch_size"]
    actions = []
    missing = []
    for plan in plans:
        entry = {"action_type": plan.action_type, "count": len(plan.device_ids),
                 "batches": -(-len(plan.device_ids) // batch_size), "options": plan.options}
        if not module.check_mode:
            try:
                entry["batches"], vanished = send_device_action(client, plan, batch_size=batch_size)
            except BatchFailure as failure:
                module.fail_json(msg=str(failure),
                                 changed=bool(actions or failure.done_ids or failure.unconfirmed_ids),
                                 actions=actions, failed_action=plan.action_type, done_device_ids=failure.done_ids,
                                 not_done_device_ids=failure.failed_ids,
                                 unconfirmed_device_ids=failure.unconfirmed_ids,
                                 retries=client.retries_done, http_status=getattr(failure.error, "status", None))
            missing.extend(vanished)
            entry["count"] -= len(vanished)
        actions.append(entry)

    result = dict(changed=bool(plans), changed_device_ids=changed, devices=detailed,
                  devices_not_detailed=len(changed) - len(detailed), actions=actions, num_found=num_found,
                  missing_device_ids=sorted(set(missing)))
    if module._diff:
        result["diff"] = summary_diff(detailed, len(changed) - len(detailed), actions)
    return result


def main():
    argument_spec = dict(
        SELECTION_ARGUMENT_SPEC,
        all_devices=dict(type="bool", default=False),
        max_devices=dict(type="int"),
        allow_empty=dict(type="bool", default=False),
        quarantined=dict(type="bool"),
        bypass=dict(type="bool"),
        policy_id=dict(type="int"),
        policy_name=dict(type="str"),
        sensor_version=dict(type="dict"),
        send_background_scan=dict(type="str", choices=["start", "stop"]),
        uninstall_sensor=dict(type="bool", default=False),
        delete_sensor=dict(type="bool", default=False),
        batch_size=dict(type="int", default=1000),
        details_limit=dict(type="int", default=100),
    )
    module = CbcModule(argument_spec=argument_spec, supports_check_mode=True,
                       mutually_exclusive=[("policy_id", "policy_name")])
    module.run(run_device)


if __name__ == "__main__":
    main()
