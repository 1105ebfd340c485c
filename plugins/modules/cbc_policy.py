#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cbc_policy
short_description: Manage Carbon Black Cloud prevention policies as code
version_added: 1.0.0
description:
  - Creates, updates and deletes prevention policies (Policy Service v1) so that they match the task.
  - Partial by default. Only the settings the task states are compared and changed. Every other setting of the
    policy on the server is kept, because the module sends the full policy object it read, with only the stated
    fields changed.
  - Nested mappings (O(av_settings), O(managed_detection_response_permissions)) are compared key by key, so
    C(av_settings.on_access_scan.mode) can be set without restating the other AV settings.
  - O(rules) are compared by content (application, operation, action, required), never by their server ID or order.
    A stated rule replaces the server's rule for the same application and operation, and a new rule is added.
    Other server rules are kept unless O(purge_rules=true).
  - Read cost is one C(policies/summary) request plus one C(GET) per existing policy. A policy whose body changes
    gets exactly one C(PUT). Changed O(rule_configs) get one C(PUT) per category. Nothing is written when
    everything matches.
  - To apply many policies, use O(policies) in one task. Fifty policies that already match then cost 51 requests
    and no write. Fifty tasks would cost 100 requests, because each task is a separate process that must read
    the summary again.
  - Every value with a fixed set of allowed values is checked before any request is sent. This covers priority,
    rule action, operation, application type, reputation, sensor setting names, scan modes, rule configuration
    categories and C(WindowsAssignmentMode). The error lists the allowed values.
author:
  - carbonblack.cloud contributors (@carbonblack)
options:
  state:
    description:
      - V(present) creates the policy or updates it to match. V(absent) deletes it.
      - Deleting a policy that does not exist is not a change.
    type: str
    choices: [present, absent]
    default: present
  name:
    description:
      - The policy name, used to find the policy when O(id) is not set.
      - Two policies with this name are an error that lists their IDs. Set O(id) to choose one.
      - With O(id), a different O(name) renames the policy. Renaming to a name another policy already has is an error.
    type: str
  id:
    description:
      - The policy ID. It identifies the policy even after a rename. Policies are created by O(name) only,
        because the API assigns IDs.
    type: int
  description:
    description: The policy description.
    type: str
  priority_level:
    description: The priority level.
    type: str
    choices: [LOW, MEDIUM, HIGH, MISSION_CRITICAL]
  rules:
    description:
      - "Prevention rules, without IDs. Each rule is a mapping with C(action), C(application) ({type, value}), C(operation)
        and C(required) (default V(true))."
      - "C(action): C(IGNORE), C(ALLOW), C(TERMINATE_PROCESS), C(TERMINATE_THREAD), C(TERMINATE) or C(DENY).
        C(application.type): C(NAME_PATH), C(SIGNED_BY) or C(REPUTATION). With C(REPUTATION), C(value) is a
        reputation such as C(KNOWN_MALWARE) or C(PUP)."
      - "C(operation): C(BYPASS_ALL), C(BYPASS_API), C(INVOKE_SCRIPT), C(INVOKE_SYSAPP), C(POL_INVOKE_NOT_TRUSTED),
        C(INVOKE_CMD_INTERPRETER), C(RANSOM), C(NETWORK), C(PROCESS_ISOLATION), C(CODE_INJECTION), C(MEMORY_SCRAPE),
        C(RUN_INMEMORY_CODE), C(ESCALATE) or C(RUN)."
    type: list
    elements: dict
  purge_rules:
    description: Remove the server's rules that O(rules) does not state, so that the rule list is exactly O(rules).
    type: bool
    default: false
  sensor_settings:
    description:
      - "Sensor settings, as a mapping C(NAME: value) or as the API's list of C({name, value})."
      - Values are sent as the API's strings. V(true) becomes C("true") and V(5) becomes C("5").
      - Unstated settings are kept unless O(purge_sensor_settings=true). Names are checked against the SDK's list
        (C(SHOW_UI), C(ALLOW_UNINSTALL), C(ALLOW_UPLOADS), ...).
    type: raw
  purge_sensor_settings:
    description: Remove the server's sensor settings that O(sensor_settings) does not state.
    type: bool
    default: false
  av_settings:
    description:
      - "Antivirus settings by section: C(avira_protection_cloud), C(on_access_scan), C(on_demand_scan),
        C(signature_update), C(update_servers). Only the stated keys are compared and changed. Lists inside a
        section are replaced as a whole."
    type: dict
  directory_action_rules:
    description:
      - "Directory action rules, each C({path, file_upload, protection}). When stated, the list is exact (order does
        not matter)."
    type: list
    elements: dict
  managed_detection_response_permissions:
    description: "C(policy_modification) and/or C(quarantine), booleans. Only the stated keys are compared."
    type: dict
  rule_configs:
    description:
      - Rule configurations to set, each with C(name) or C(id) (and optionally C(category)) plus C(parameters).
      - Only the stated parameters are compared. Changes are written through the C(rule_configs/{category})
        endpoint, one request per changed category, because a policy C(PUT) does not change rule configurations.
      - "Managed categories: C(core_prevention) (C(WindowsAssignmentMode): C(REPORT) or C(BLOCK)), C(data_collection)
        and C(host_based_firewall). Names and parameter names are checked against the policy's own rule configurations
        before anything is written."
    type: list
    elements: dict
  auto_deregister_inactive_vdi_interval_ms:
    description: Milliseconds after which inactive VDI sensors are deregistered (V(0) = never).
    type: int
  auto_delete_known_bad_hashes_delay:
    description: Milliseconds after which known malware is deleted.
    type: int
  force:
    description:
      - With O(state=absent), delete the policy even if devices are still assigned to it. Without it, that is an
        error that gives the device count.
      - The module does not move the devices itself. CBC moves them to the org's system default policy (Standard)
        when the policy is deleted. The count is returned in RV(moved_devices) and shown as a warning.
    type: bool
    default: false
  policies:
    description:
      - Apply many policies in one task, each item a mapping with the options above (O(name), O(id), O(state),
        O(description), ..., O(purge_rules), O(force)).
      - All items are read and checked first (one summary request plus one C(GET) per existing policy). Writes start
        only when every item is valid.
      - Mutually exclusive with the single-policy options.
    type: list
    elements: dict
extends_documentation_fragment:
  - carbonblack.cloud.auth
  - carbonblack.cloud.attributes.state_module
attributes:
  check_mode:
    description: Reads and compares, sends no write, and returns the would-be policy.
  diff_mode:
    description: Shows the before and after of the stated fields that change, per policy.
notes:
  - Needs C(org.policies) C(READ). Writes need C(CREATE), C(UPDATE) or C(DELETE) on C(org.policies).
    A C(403) names the missing permission.
  - A new policy gets the stated fields. The API fills in the others with its defaults and assigns the position
    (the next one). Rule configurations are set after the creation, through their own endpoint.
"""

EXAMPLES = r"""
- name: Servers policy, stating only what we care about
  carbonblack.cloud.cbc_policy:
    name: Servers
    description: Prevention for Linux and Windows servers
    priority_level: HIGH
    rules:
      - action: DENY
        application: {type: REPUTATION, value: KNOWN_MALWARE}
        operation: RUN
    sensor_settings:
      SHOW_UI: false
      ALLOW_UNINSTALL: false
    av_settings:
      on_access_scan: {mode: AGGRESSIVE}
    rule_configs:
      - name: Privilege Escalation
        parameters: {WindowsAssignmentMode: BLOCK}

- name: Exactly these rules, nothing else
  carbonblack.cloud.cbc_policy:
    name: Kiosk
    purge_rules: true
    rules:
      - action: TERMINATE
        application: {type: REPUTATION, value: PUP}
        operation: MEMORY_SCRAPE

- name: Rename by id
  carbonblack.cloud.cbc_policy:
    id: 6530
    name: Servers (legacy)

- name: Apply many policies in one task (1 summary + 1 GET per existing policy; see playbooks/policies.yml)
  carbonblack.cloud.cbc_policy:
    policies:
      - name: Servers
        priority_level: HIGH
      - name: Workstations
        sensor_settings: {SHOW_UI: true}
      - name: Old pilot
        state: absent

- name: Delete a policy; its devices are moved by CBC to the default policy
  carbonblack.cloud.cbc_policy:
    name: Old pilot
    state: absent
    force: true
"""

RETURN = r"""
action:
  description: Single-policy form. One of V(created), V(updated), V(deleted) or V(none).
  returned: success, without O(policies)
  type: str
  sample: updated
id:
  description: The policy ID. It is null for a policy that check mode would create.
  returned: success, without O(policies)
  type: int
  sample: 6522
name:
  description: The policy name.
  returned: success, without O(policies)
  type: str
policy:
  description: The full policy after the task. In check mode, the would-be policy. Null after a deletion.
  returned: success, without O(policies)
  type: dict
before:
  description: The stated fields that differ, as they were (sensor settings and rule configurations keyed by name).
  returned: success, without O(policies)
  type: dict
after:
  description: The stated fields that differ, as they are now (or would be, in check mode).
  returned: success, without O(policies)
  type: dict
moved_devices:
  description: Devices that were still assigned to a deleted policy. CBC moved them to the default policy.
  returned: when a policy is deleted
  type: int
results:
  description: With O(policies), one entry per item with the keys above (name, id, state, action, changed, before, after, policy).
  returned: success, with O(policies)
  type: list
  elements: dict
requests_sent:
  description: HTTP requests this task sent.
  returned: always
  type: int
  sample: 2
"""

from ansible_collections.carbonblack.cloud.plugins.module_utils.cbc_module import CbcModule
from ansible_collections.carbonblack.cloud.plugins.module_utils.diff import build_diff
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcError
from ansible_collections.carbonblack.cloud.plugins.module_utils.policies import apply_policies
from ansible_collections.carbonblack.cloud.plugins.module_utils.policy_spec import (
    PRIORITIES, SETTING_FIELDS, SPEC_KEYS, normalize_spec, normalize_specs)


def policy_diff(result):
    label = "policy %s (%s)" % (result.get("name"), result.get("id") if result.get("id") is not None else "new")
    before = result["before"] if result["action"] != "created" else {}
    after = result["after"] if result["action"] != "deleted" else {}
    return build_diff(before, after, before_header=label, after_header=label)


def run_policy(module):
    params = module.params
    if params["policies"] is not None:
        items = normalize_specs(params["policies"])
    else:
        spec = dict((key, params[key]) for key in SPEC_KEYS if params.get(key) is not None)
        items = [normalize_spec(spec)]
    client = module.client
    try:
        results = apply_policies(client, items, check_mode=module.check_mode)
    except CbcError as error:
        done = getattr(error, "results", [])
        module.fail_from(error, changed=any(entry["changed"] for entry in done), results=done)
    for entry in results:
        if entry.get("moved_devices"):
            module.warn("policy %s (%s) had %d device(s); CBC moves them to the default policy when it is deleted"
                        % (entry["name"], entry["id"], entry["moved_devices"]))
    changed = any(entry["changed"] for entry in results)
    if params["policies"] is not None:
        result = dict(changed=changed, results=results)
        if module._diff:
            result["diff"] = [policy_diff(entry) for entry in results if entry["changed"]]
    else:
        result = dict(results[0])
        result.pop("state", None)
        if module._diff:
            result["diff"] = policy_diff(results[0])
    return result


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        name=dict(type="str"),
        id=dict(type="int"),
        description=dict(type="str"),
        priority_level=dict(type="str", choices=list(PRIORITIES)),
        rules=dict(type="list", elements="dict"),
        purge_rules=dict(type="bool", default=False),
        sensor_settings=dict(type="raw"),
        purge_sensor_settings=dict(type="bool", default=False),
        av_settings=dict(type="dict"),
        directory_action_rules=dict(type="list", elements="dict"),
        managed_detection_response_permissions=dict(type="dict"),
        rule_configs=dict(type="list", elements="dict"),
        auto_deregister_inactive_vdi_interval_ms=dict(type="int"),
        auto_delete_known_bad_hashes_delay=dict(type="int"),
        force=dict(type="bool", default=False),
        policies=dict(type="list", elements="dict"),
    )
    module = CbcModule(argument_spec=argument_spec, supports_check_mode=True,
                       required_one_of=[("name", "id", "policies")],
                       mutually_exclusive=[("policies", option) for option in SETTING_FIELDS + ("name", "id")])
    module.run(run_policy)


if __name__ == "__main__":
    main()
