#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cbc_forwarder_info
short_description: List Carbon Black Cloud data forwarders and their health
version_added: 1.0.0
description:
  - Returns every Data Forwarder config of the organization, or the one with O(name) or O(id).
  - With O(health_check=true), adds each returned forwarder's C(health_check) result. That is one more C(GET) per
    forwarder, so narrow the list with O(name) or O(id) on large organizations.
  - 'The list is read whether the API answers a bare JSON array (what real servers do) or C({"results": [...]}).'
  - An HTTP 404 on the list counts as "no forwarders", as the API answers for organizations without any.
author:
  - carbonblack.cloud contributors (@carbonblack)
options:
  name:
    description:
      - Return only the forwarders with this name (a list, as names are not unique).
    type: str
  id:
    description:
      - Return only the forwarder with this config id.
    type: str
  health_check:
    description:
      - Add each forwarder's C(GET .../configs/{id}/health_check) result under the key C(health_check).
      - The API answers HTTP 200 whether the test write worked or not; the body says which. Its shape is not published,
        so it is returned as the API sends it.
    type: bool
    default: false
extends_documentation_fragment:
  - carbonblack.cloud.auth
  - carbonblack.cloud.attributes.info_module
notes:
  - Needs the RBAC permission C(event-forwarder.settings READ).
"""

EXAMPLES = r"""
- name: All forwarders
  carbonblack.cloud.cbc_forwarder_info:
  register: forwarders

- name: Is the alert forwarder able to write to its bucket?
  carbonblack.cloud.cbc_forwarder_info:
    name: alerts-to-s3
    health_check: true
  register: alerts_forwarder
"""

RETURN = r"""
forwarders:
  description: The forwarder configs as the API returns them, each with C(health_check) when asked.
  returned: success
  type: list
  elements: dict
  sample:
    - id: b6ab1fb9-61f6-11ee-9e9b-5655adf4bf96
      org_key: ABCD1234
      name: endpoint events
      enabled: true
      type: endpoint.event
      destination: aws_s3
      s3_bucket_name: carbonblackbucket
      s3_prefix: endpoint
      version_constraint: 1.0.0
      current_version: 1.0.0
      create_time: "2023-10-03T14:11:14Z"
      update_time: "2023-11-14T19:16:43Z"
      health_check: {healthy: true, status: OK, message: Test object healthcheck/healthcheck.json written}
requests_sent:
  description: HTTP requests this task sent.
  returned: always
  type: int
  sample: 1
"""

from ansible_collections.carbonblack.cloud.plugins.module_utils.cbc_module import CbcModule
from ansible_collections.carbonblack.cloud.plugins.module_utils.forwarders import (
    check_identity, health_check, list_forwarders)


def run_forwarder_info(module):
    params = module.params
    check_identity(params)
    client = module.client
    forwarders = list_forwarders(client)
    if params["id"] is not None:
        forwarders = [config for config in forwarders if config.get("id") == params["id"]]
    if params["name"] is not None:
        forwarders = [config for config in forwarders if config.get("name") == params["name"]]
    result = []
    for config in forwarders:
        entry = dict(config)
        if params["health_check"]:
            entry["health_check"] = health_check(client, config["id"])
        result.append(entry)
    return dict(changed=False, forwarders=result)


def main():
    argument_spec = dict(
        name=dict(type="str"),
        id=dict(type="str"),
        health_check=dict(type="bool", default=False),
    )
    module = CbcModule(argument_spec=argument_spec, supports_check_mode=True)
    module.run(run_forwarder_info)


if __name__ == "__main__":
    main()
