#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cbc_policy_info
short_description: List Carbon Black Cloud policies, or read full policies by ID or name
version_added: 1.0.0
description:
  - Without O(id) and O(name), returns the policy summaries of the org (one request to C(policies/summary)).
  - With O(id) and/or O(name), returns the full policies (rules, sensor settings, AV settings, rule configurations...).
    IDs cost one C(GET) each. Names add one summary request first.
  - A name matching several policies returns all of them.
  - An ID or name that matches no policy fails the task by default (a typo should not look like an empty org).
    With O(allow_missing=true), the task succeeds and lists them in RV(missing).
author:
  - carbonblack.cloud contributors (@carbonblack)
options:
  id:
    description: Policy IDs to read in full.
    type: list
    elements: int
  name:
    description: Policy names to read in full.
    type: list
    elements: str
  allow_missing:
    description: Succeed when an O(id) or O(name) matches no policy, and report it in RV(missing).
    type: bool
    default: false
extends_documentation_fragment:
  - carbonblack.cloud.auth
  - carbonblack.cloud.attributes.info_module
notes:
  - Needs C(org.policies) C(READ).
"""

EXAMPLES = r"""
- name: List every policy (summaries)
  carbonblack.cloud.cbc_policy_info:
  register: all_policies

- name: Read two policies in full
  carbonblack.cloud.cbc_policy_info:
    name: [Standard, Advanced]
  register: full

- name: Read a policy that may not exist yet
  carbonblack.cloud.cbc_policy_info:
    name: Servers
    allow_missing: true
  register: servers
"""

RETURN = r"""
policies:
  description:
    - Without O(id)/O(name), the summaries (id, name, description, priority_level, position, is_system, num_devices).
    - With O(id)/O(name), the full policy objects, in the order asked for.
  returned: success
  type: list
  elements: dict
  sample:
    - id: 6521
      name: Standard
      priority_level: MEDIUM
      position: 1
      is_system: true
      num_devices: 30
missing:
  description: The IDs and names that matched no policy (only with O(allow_missing=true); otherwise the task fails).
  returned: success
  type: list
  elements: raw
  sample: []
requests_sent:
  description: HTTP requests this task sent.
  returned: always
  type: int
  sample: 1
"""

from ansible_collections.carbonblack.cloud.plugins.module_utils.cbc_module import CbcModule
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcConfigError
from ansible_collections.carbonblack.cloud.plugins.module_utils.validation import check_id, check_name, check_not_empty
from ansible_collections.carbonblack.cloud.plugins.module_utils.policies import get_policies, list_summaries


def run_policy_info(module):
    params = module.params
    check_not_empty(params["id"], "id", "[6525]")
    check_not_empty(params["name"], "name", "[Servers]")
    for index, policy_id in enumerate(params["id"] or []):
        check_id(policy_id, "id[%d]" % index)
    for index, name in enumerate(params["name"] or []):
        check_name(name, "name[%d]" % index)
    client = module.client
    if not params["id"] and not params["name"]:
        return dict(changed=False, policies=list_summaries(client), missing=[])
    policies, missing = get_policies(client, ids=params["id"], names=params["name"])
    if missing and not params["allow_missing"]:
        raise CbcConfigError("no policy has the id or name %s. Fix: check the spelling (cbc_policy_info without "
                             "options lists every policy), or set allow_missing: true"
                             % ", ".join(repr(value) for value in missing))
    return dict(changed=False, policies=policies, missing=missing)


def main():
    argument_spec = dict(
        id=dict(type="list", elements="int"),
        name=dict(type="list", elements="str"),
        allow_missing=dict(type="bool", default=False),
    )
    module = CbcModule(argument_spec=argument_spec, supports_check_mode=True)
    module.run(run_policy_info)


if __name__ == "__main__":
    main()
