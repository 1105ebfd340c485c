#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cbc_reputation_override
short_description: Keep Carbon Black Cloud approved and banned lists (reputation overrides) as code
version_added: 1.1.0
description:
  - Makes the reputation overrides of one list (O(override_list)) and one kind (O(override_type)) match the task
    (C(appservices/v6/orgs/{org_key}/reputations/overrides)).
  - Reads the current overrides of that list and kind with one paged search, then creates the missing ones and,
    with O(purge=true), deletes the ones the task does not name. A re-run that matches sends no write.
  - An override is identified by its hash (any case), its signer and certificate authority, or its path. When a
    stated field (C(description), C(filename), C(include_child_processes) of an item of O(overrides))
    differs, the override is replaced, because the API has no update. The old one is deleted first, then the new one
    created, in the same task.
  - Creates are one request per override, because the API publishes no bulk create. Deletes go in bulk, in batches
    of O(batch_size) ids.
  - When a write fails part-way, the task fails with a message that says what was created and deleted before the
    failure and what was not (by hash, signer or path), and returns them in RV(created), RV(deleted),
    RV(not_created), RV(not_deleted) and RV(unconfirmed). A re-run sends only what is still needed.
  - Bad input fails before any request. This covers a hash that is not 64 hexadecimal characters, an empty path, a
    certificate without its signer, a banned certificate or IT tool, a field of another kind, and the same override
    twice.
author:
  - carbonblack.cloud contributors (@carbonblack)
options:
  override_list:
    description:
      - V(WHITE_LIST) is the approved list, V(BLACK_LIST) the banned list.
      - Only V(SHA256) hashes can be banned. Certificates and IT tools can only be approved.
    type: str
    choices: [WHITE_LIST, BLACK_LIST]
    required: true
  override_type:
    description:
      - V(SHA256) is a file hash, V(CERT) a signing certificate and V(IT_TOOL) a trusted IT tool's path.
    type: str
    choices: [SHA256, CERT, IT_TOOL]
    required: true
  overrides:
    description:
      - The overrides of this list and kind. Each is a mapping with the fields of its kind.
      - V(SHA256) takes C(sha256_hash) (64 hexadecimal characters) and optionally C(filename).
      - V(CERT) takes C(signed_by) and optionally C(certificate_authority).
      - V(IT_TOOL) takes C(path), an absolute path to a file or directory with wildcards allowed, and
        C(include_child_processes), which defaults to V(false).
      - Each override may also take C(description), the justification shown in the console.
      - An empty list is an error, so a template that renders empty never purges a whole list.
    type: list
    elements: dict
    required: true
  description:
    description:
      - The description of every override in O(overrides) that does not state its own.
      - Unset, overrides without a description are created without one, and their description is not compared.
    type: str
  state:
    description:
      - V(present) creates the overrides that are missing. V(absent) deletes the named ones that exist.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present), also delete every override of this list and kind that O(overrides) does not name.
        This includes duplicates of a named one.
    type: bool
    default: false
  batch_size:
    description: Override ids per bulk-delete request.
    type: int
    default: 100
extends_documentation_fragment:
  - carbonblack.cloud.auth
  - carbonblack.cloud.attributes.state_module
attributes:
  check_mode:
    description: Reads the current overrides, sends no write, and returns the plan.
  diff_mode:
    description: Shows the overrides of the list and kind before and after, by hash, signer or path.
notes:
  - Needs C(org.reputations) C(READ), and C(CREATE) and C(DELETE) for the writes.
  - The search pages start at 0 (unlike devices and alerts). Pages advance by the rows that came back, so the whole
    list is read whatever page size the server allows.
seealso:
  - module: carbonblack.cloud.cbc_reputation_override_info
"""

EXAMPLES = r"""
- name: Ban known-bad hashes (and only these)
  carbonblack.cloud.cbc_reputation_override:
    override_list: BLACK_LIST
    override_type: SHA256
    description: Banned by the SOC (ticket SEC-1234)
    overrides:
      - sha256_hash: dd191a5b23df92e13a8852291f9fb5ed594b76a28a5a464418442584afd1e048
        filename: dropper.exe
    purge: true

- name: Approve IT tools
  carbonblack.cloud.cbc_reputation_override:
    override_list: WHITE_LIST
    override_type: IT_TOOL
    overrides:
      - path: C:\Program Files\Deploy\*.exe
        include_child_processes: true
        description: Software deployment agent

- name: Approve a signing certificate
  carbonblack.cloud.cbc_reputation_override:
    override_list: WHITE_LIST
    override_type: CERT
    overrides:
      - signed_by: Acme Corporation
        certificate_authority: DigiCert EV Code Signing CA

- name: Remove one approved hash
  carbonblack.cloud.cbc_reputation_override:
    override_list: WHITE_LIST
    override_type: SHA256
    overrides:
      - sha256_hash: 0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a09080706050403020100f
    state: absent
"""

RETURN = r"""
created:
  description:
    - The overrides created (in check mode, that would be created), as the API returned them.
    - On a failure part-way, those created before it.
  returned: success, or a failure part-way
  type: list
  elements: dict
  sample:
    - id: e9410b754ea011ebbfd0db2585a41b07
      override_list: BLACK_LIST
      override_type: SHA256
      sha256_hash: dd191a5b23df92e13a8852291f9fb5ed594b76a28a5a464418442584afd1e048
      filename: dropper.exe
      description: Banned by the SOC
      created_by: soc@example.com
      create_time: "2021-01-04T15:24:18.002Z"
deleted:
  description:
    - The overrides deleted (in check mode, that would be deleted), including those replaced.
    - On a failure part-way, those deleted before it.
  returned: success, or a failure part-way
  type: list
  elements: dict
not_created:
  description: On a failure part-way, the create bodies of the overrides that were not created.
  returned: a failure part-way
  type: list
  elements: dict
not_deleted:
  description: On a failure part-way, the overrides that were not deleted.
  returned: a failure part-way
  type: list
  elements: dict
unconfirmed:
  description:
    - On a failure part-way, the overrides whose create (a body) or bulk delete (the overrides of the batch) was sent
      but whose outcome could not be confirmed. A re-run is safe; it reads the list again first.
  returned: a failure part-way
  type: list
  elements: dict
replaced:
  description: The hashes, signers or paths of the overrides replaced because a stated field differed.
  returned: success
  type: list
  elements: str
unchanged:
  description: How many declared overrides already matched.
  returned: success
  type: int
  sample: 3
overrides:
  description: The overrides of this list and kind after the task, or as they would be in check mode.
  returned: success
  type: list
  elements: dict
requests_sent:
  description: HTTP requests this task sent.
  returned: always
  type: int
  sample: 1
"""

from ansible_collections.carbonblack.cloud.plugins.module_utils.cbc_module import CbcModule, validate_items
from ansible_collections.carbonblack.cloud.plugins.module_utils.diff import build_diff
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcError
from ansible_collections.carbonblack.cloud.plugins.module_utils.reputation import (
    DEFAULT_BATCH_SIZE, ITEM_FIELDS, OVERRIDE_LISTS, OVERRIDE_TYPES, OverrideOutcome, apply_override_plan,
    check_purge, desired_overrides, plan_overrides, search_overrides)
from ansible_collections.carbonblack.cloud.plugins.module_utils.validation import check_range

ITEM_SPEC = dict((field, dict(type="bool" if field == "include_child_processes" else "str")) for field in ITEM_FIELDS)


def run_reputation_override(module):
    params = module.params
    check_range(params["batch_size"], "batch_size", 1, 1000, unit="ids per request")
    items = validate_items(params["overrides"], "overrides", ITEM_SPEC)
    bodies = desired_overrides(params["override_list"], params["override_type"], items, params["description"])
    check_purge(params["state"], params["purge"])
    client = module.client
    current, _num_found = search_overrides(client, params["override_list"], params["override_type"])
    plan = plan_overrides(current, bodies, params["override_type"], state=params["state"], purge=params["purge"])
    created, deleted_ids, error = list(plan.creates), [override.get("id") for override in plan.deletes], None
    if plan.changed and not module.check_mode:
        try:
            created, deleted_ids = apply_override_plan(client, plan, params["override_list"], params["batch_size"])
        except CbcError as failure:
            # apply_override_plan says on the error what it did before it.
            error, created, deleted_ids = failure, getattr(failure, "created", []), getattr(failure, "deleted", [])
    outcome = OverrideOutcome(plan, created, deleted_ids, error, params["batch_size"])
    if error is not None:
        error.args = ("%s %s" % (error, outcome.failure_text()),)
        module.fail_from(error, **outcome.failure_details())
    gone = set(override.get("id") for override in outcome.deleted)
    after = [override for override in current if override.get("id") not in gone] + created
    result = dict(changed=plan.changed, created=created, deleted=outcome.deleted, replaced=plan.labels(plan.replaced),
                  unchanged=len(plan.unchanged), overrides=after)
    if module._diff:
        label = "reputation overrides %s %s" % (params["override_list"], params["override_type"])
        # One line per override: the diff callback compares text (a list makes it fail).
        result["diff"] = build_diff(_lines(plan.labels(current)), _lines(plan.labels(after)), before_header=label,
                                    after_header=label)
    return result


def _lines(labels):
    return "".join(label + "\n" for label in sorted(labels))


def main():
    argument_spec = dict(
        override_list=dict(type="str", choices=list(OVERRIDE_LISTS), required=True),
        override_type=dict(type="str", choices=list(OVERRIDE_TYPES), required=True),
        overrides=dict(type="list", elements="dict", required=True),
        description=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        purge=dict(type="bool", default=False),
        batch_size=dict(type="int", default=DEFAULT_BATCH_SIZE),
    )
    module = CbcModule(argument_spec=argument_spec, supports_check_mode=True)
    module.run(run_reputation_override)


if __name__ == "__main__":
    main()
