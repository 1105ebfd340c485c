#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cbc_reputation_override_info
short_description: Read Carbon Black Cloud reputation overrides (approved and banned lists)
version_added: 1.1.0
description:
  - Returns the reputation overrides of the org, optionally of one list and one kind, or those a search query
    matches (C(appservices/v6/orgs/{org_key}/reputations/overrides/_search), paged).
author:
  - carbonblack.cloud contributors (@carbonblack)
options:
  override_list:
    description: Only this list. V(WHITE_LIST) is the approved list, V(BLACK_LIST) the banned list.
    type: str
    choices: [WHITE_LIST, BLACK_LIST]
  override_type:
    description: Only this kind.
    type: str
    choices: [SHA256, CERT, IT_TOOL]
  query:
    description: A search query, for example a hash or a file name.
    type: str
  max_results:
    description: Return at most this many overrides. Unset means all.
    type: int
extends_documentation_fragment:
  - carbonblack.cloud.auth
  - carbonblack.cloud.attributes.info_module
notes:
  - Needs C(org.reputations) C(READ).
"""

EXAMPLES = r"""
- name: The banned hashes
  carbonblack.cloud.cbc_reputation_override_info:
    override_list: BLACK_LIST
    override_type: SHA256
  register: banned

- name: Is this hash on any list?
  carbonblack.cloud.cbc_reputation_override_info:
    query: dd191a5b23df92e13a8852291f9fb5ed594b76a28a5a464418442584afd1e048
  register: found
"""

RETURN = r"""
overrides:
  description: The overrides, oldest first.
  returned: success
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
num_found:
  description: How many overrides match, which may be more than RV(overrides) holds with O(max_results).
  returned: success
  type: int
  sample: 1
requests_sent:
  description: HTTP requests this task sent.
  returned: always
  type: int
  sample: 1
"""

from ansible_collections.carbonblack.cloud.plugins.module_utils.cbc_module import CbcModule
from ansible_collections.carbonblack.cloud.plugins.module_utils.reputation import (
    OVERRIDE_LISTS, OVERRIDE_TYPES, search_overrides)
from ansible_collections.carbonblack.cloud.plugins.module_utils.validation import check_name, check_range


def run_reputation_override_info(module):
    params = module.params
    check_range(params["max_results"], "max_results", 1, fix="remove it to read every override")
    if params["query"] is not None:
        check_name(params["query"], "query", limit=1024)
    overrides, num_found = search_overrides(module.client, params["override_list"], params["override_type"],
                                            query=params["query"], limit=params["max_results"])
    return dict(changed=False, overrides=overrides, num_found=num_found)


def main():
    argument_spec = dict(
        override_list=dict(type="str", choices=list(OVERRIDE_LISTS)),
        override_type=dict(type="str", choices=list(OVERRIDE_TYPES)),
        query=dict(type="str"),
        max_results=dict(type="int"),
    )
    module = CbcModule(argument_spec=argument_spec, supports_check_mode=True)
    module.run(run_reputation_override_info)


if __name__ == "__main__":
    main()
