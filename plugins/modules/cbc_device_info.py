#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cbc_device_info
short_description: Search Carbon Black Cloud devices
version_added: 1.0.0
description:
  - Returns the devices matching O(device_ids), O(criteria), O(exclusions) and O(query), paging through any number
    of them.
  - When none of O(device_ids), O(criteria) and O(query) is given, it lists every device of the organization
    (read-only). One that is given but empty (V([]), V({}), a criterion with an empty list, a blank query) is an error
    before any request, as in M(carbonblack.cloud.cbc_device).
author:
  - carbonblack.cloud contributors (@carbonblack)
options:
  limit:
    description:
      - Return at most this many devices. V(num_found) still reports every match.
    type: int
  fields:
    description:
      - Return only these fields of each device (C(id) is always returned), for example V([name, os, policy_name]).
        Unknown field names are an error before any request.
      - The API returns whole devices; the module drops the other fields as each page arrives, which keeps the
        module's memory and the task result small on large fleets (a whole device is about 2 KB of result).
      - Unset returns every field, as the API sends it.
    type: list
    elements: str
extends_documentation_fragment:
  - carbonblack.cloud.auth
  - carbonblack.cloud.device_selection
  - carbonblack.cloud.attributes.info_module
"""

EXAMPLES = r"""
- name: Find the Linux servers that are not quarantined
  carbonblack.cloud.cbc_device_info:
    criteria:
      os: [LINUX]
      status: [REGISTERED]
    exclusions:
      quarantined: [true]
  register: linux_devices

- name: Read two devices by ID
  carbonblack.cloud.cbc_device_info:
    device_ids: [12345, 12346]

- name: Names and policies of every Windows device, without the other fields
  carbonblack.cloud.cbc_device_info:
    criteria:
      os: [WINDOWS]
    fields: [name, policy_name, last_contact_time]
  register: windows_devices

- name: The ten most recently seen devices
  carbonblack.cloud.cbc_device_info:
    sort:
      - field: last_contact_time
        order: DESC
    limit: 10
"""

RETURN = r"""
devices:
  description: The matching device objects as the API returns them, or only O(fields) of them.
  returned: success
  type: list
  elements: dict
  sample:
    - id: 12345
      name: web-01
      os: LINUX
      status: REGISTERED
      quarantined: false
      policy_id: 6525
      policy_name: Standard
num_found:
  description: How many devices matched (before O(limit)).
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
from ansible_collections.carbonblack.cloud.plugins.module_utils.devices import (
    SELECTION_ARGUMENT_SPEC, returned_fields, search_devices, selection_from_params)
from ansible_collections.carbonblack.cloud.plugins.module_utils.validation import check_range


def run_info(module):
    limit = module.params["limit"]
    check_range(limit, "limit", 0, fix="remove limit to return every device")
    fields = returned_fields(module.params["fields"])
    selection = selection_from_params(module.params, whole_org_when_unset=True)
    client = module.client
    devices, num_found = search_devices(client, selection, limit=limit, fields=fields)
    return dict(changed=False, devices=devices, num_found=num_found)


def main():
    argument_spec = dict(SELECTION_ARGUMENT_SPEC, limit=dict(type="int"), fields=dict(type="list", elements="str"))
    module = CbcModule(argument_spec=argument_spec, supports_check_mode=True)
    module.run(run_info)


if __name__ == "__main__":
    main()
