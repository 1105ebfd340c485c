#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cbc_forwarder
short_description: Create, update, disable and delete Carbon Black Cloud data forwarders
version_added: 1.0.0
description:
  - Enforces one Data Forwarder (API v2 C(data_forwarder/v2/orgs/{org_key}/configs)) that sends alerts, auth events,
    endpoint events or watchlist hits to an AWS S3 bucket or an Azure Blob Storage container.
  - The forwarder is found by O(name), or by O(id) when given (O(id) with O(name) renames it).
  - Only the options a task states are compared. When one differs, the module sends the whole config as the API returned
    it (the API's update is a full C(PUT)) with the stated values on top, so fields the task does not mention, such as
    filters set in the console, are kept. A re-run of the same task sends no write.
  - On every create and update the API writes a test object (C(healthcheck.json)) to the destination and answers HTTP 400
    when it cannot. The module turns that into one error line that names the bucket, the prefix, the region when the API
    names it, and the bucket policy needed. See the collection's C(docs/forwarders.md).
author:
  - carbonblack.cloud contributors (@carbonblack)
options:
  state:
    description:
      - V(present) creates or updates the forwarder, V(absent) deletes it. Deleting a forwarder that does not exist changes nothing.
    type: str
    choices: [present, absent]
    default: present
  name:
    description:
      - The forwarder's name, its identity when O(id) is not given.
      - Two forwarders with this name make the task fail and list their ids; set O(id) then.
      - With O(id), the forwarder is renamed to O(name) (unless another forwarder already has that name).
    type: str
  id:
    description:
      - The forwarder's config id (a UUID). Takes precedence over O(name) for finding it.
      - With O(state=present), an id that does not exist is an error (the API assigns ids).
    type: str
  type:
    description:
      - The data to forward. Required to create a forwarder.
      - The type of an existing forwarder cannot be changed; the task fails and says to delete and recreate it.
      - V(auth.event) is the Auth Event Forwarder (Enterprise EDR); which destinations it may use is not published, so
        the API decides.
    type: str
    choices: [alert, auth.event, endpoint.event, watchlist.hit]
  enabled:
    description:
      - V(false) stops forwarding without deleting the forwarder. A new forwarder is enabled unless this is V(false).
    type: bool
  destination:
    description:
      - Where the data goes. Implied by the S3 or Azure options when not given; configs made before Azure support count as
        V(aws_s3).
      - C(endpoint.event) can only go to V(aws_s3).
      - The enum strings are not confirmed by published Carbon Black documentation.
    type: str
    choices: [aws_s3, azure_blob_storage]
  s3_bucket_name:
    description:
      - The bucket name, without C(s3://). Required for a new V(aws_s3) forwarder.
      - The bucket must be in the same AWS region as your CBC organization, with a bucket policy that allows
        C(s3:PutObject) for the Carbon Black Cloud forwarder principal.
    type: str
  s3_prefix:
    description:
      - The folder under which objects are written. An empty string means the bucket root.
    type: str
  azure_storage_account:
    description:
      - Azure storage account. Required for a new V(azure_blob_storage) forwarder.
      - Carbon Black Cloud writes to it as the managed identity O(azure_client_id), through a federated credential; no
        client secret is involved. That identity needs a data role that can write blobs (for example Storage Blob Data
        Contributor) on the storage account. See the collection's C(docs/forwarders.md).
    type: str
  azure_container_name:
    description:
      - Azure Blob Storage container. Required for a new V(azure_blob_storage) forwarder.
    type: str
  azure_tenant_id:
    description:
      - Azure tenant (directory) id of the managed identity. Required for a new V(azure_blob_storage) forwarder.
    type: str
  azure_client_id:
    description:
      - Client id of the managed identity that writes to the container. Required for a new V(azure_blob_storage)
        forwarder.
    type: str
  version_constraint:
    description:
      - The schema version of the forwarded data. Pinned, for example C(1.0.0) or C(1.1.0) for endpoint events and
        C(2.0.0) for the Alert v7 schema; patch-floating, for example C(1.0.*); or minor-floating, for example
        C(1.*.*). When not given the API picks its default (the lowest supported version).
    type: str
  filters:
    description:
      - Filters on the forwarded data, sent as the array C(filters) and compared as a whole; each item is passed to the
        API as written (an object, or a query string).
      - V([]) removes every filter. Leave it out to keep the filters the forwarder has, for example ones set in the
        console.
      - The API documents one or more filters per forwarder and checks them; their exact v2 syntax is not published.
    type: list
    elements: raw
extends_documentation_fragment:
  - carbonblack.cloud.auth
  - carbonblack.cloud.attributes.state_module
attributes:
  check_mode:
    description: Reads the forwarders, sends no write and returns the forwarder as it would be.
  diff_mode:
    description: Shows the stated fields that change.
notes:
  - Needs the RBAC permission C(event-forwarder.settings) with C(READ), and C(CREATE), C(UPDATE) or C(DELETE) for the
    writes.
  - The API may take a few minutes before data flows after a create or an enable.
"""

EXAMPLES = r"""
- name: Forward alerts (Alert v7 schema) to S3
  carbonblack.cloud.cbc_forwarder:
    name: alerts-to-s3
    type: alert
    s3_bucket_name: acme-cbc-data
    s3_prefix: alerts
    version_constraint: "2.0.0"

- name: Pause it without deleting it
  carbonblack.cloud.cbc_forwarder:
    name: alerts-to-s3
    enabled: false

- name: Watchlist hits to Azure Blob Storage
  carbonblack.cloud.cbc_forwarder:
    name: hits-to-azure
    type: watchlist.hit
    destination: azure_blob_storage
    azure_storage_account: acmecbc
    azure_container_name: watchlist-hits
    azure_tenant_id: 00000000-0000-0000-0000-000000000001
    azure_client_id: 00000000-0000-0000-0000-000000000002

- name: Forward auth events, following patch releases of schema 1.0
  carbonblack.cloud.cbc_forwarder:
    name: auth-events-to-s3
    type: auth.event
    s3_bucket_name: acme-cbc-data
    s3_prefix: auth
    version_constraint: "1.0.*"

- name: Remove a forwarder
  carbonblack.cloud.cbc_forwarder:
    name: old-forwarder
    state: absent
"""

RETURN = r"""
forwarder:
  description:
    - The forwarder config as the API returned it after the write, the current one when nothing changed, or in check
      mode the config as it would be (C(id) is null for one that would be created). After a delete, the deleted config.
  returned: success and state=present, or a forwarder was deleted
  type: dict
  sample:
    id: b6ab1fb9-61f6-11ee-9e9b-5655adf4bf96
    org_key: ABCD1234
    name: alerts-to-s3
    enabled: true
    type: alert
    destination: aws_s3
    s3_bucket_name: acme-cbc-data
    s3_prefix: alerts
    version_constraint: 2.0.0
    current_version: 2.0.0
    create_time: "2023-10-03T14:11:14Z"
    update_time: "2023-11-14T19:16:43Z"
action:
  description: What the task did (or, in check mode, would do) - V(created), V(updated), V(deleted) or V(none).
  returned: success
  type: str
  sample: updated
changes:
  description: The stated fields that differ, before and after.
  returned: success
  type: dict
  sample: {before: {enabled: true}, after: {enabled: false}}
requests_sent:
  description: HTTP requests this task sent.
  returned: always
  type: int
  sample: 2
"""

from ansible_collections.carbonblack.cloud.plugins.module_utils.cbc_module import CbcModule
from ansible_collections.carbonblack.cloud.plugins.module_utils.diff import build_diff
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcConfigError
from ansible_collections.carbonblack.cloud.plugins.module_utils.forwarders import (
    DESTINATIONS, TYPES, apply_plan, check_identity, desired_from_params, find_forwarder, list_forwarders, plan_absent,
    plan_present)


def run_forwarder(module):
    params = module.params
    state = params["state"]
    if state == "present":
        desired = desired_from_params(params)
    else:
        check_identity(params)
        desired = {}
    client = module.client
    forwarders = list_forwarders(client)
    current = find_forwarder(forwarders, name=params["name"], config_id=params["id"])
    if state == "present":
        if current is None and params["id"] is not None:
            raise CbcConfigError("no data forwarder has id %s. Fix: check id, or leave it out to create a forwarder "
                                 "named by name" % params["id"])
        others = [config for config in forwarders if config is not current]
        plan = plan_present(current, desired, others=others)
    else:
        plan = plan_absent(current)

    forwarder = plan.result
    if plan.changed and not module.check_mode:
        answer = apply_plan(client, plan, desired=desired, known_ids=[config.get("id") for config in forwarders])
        if plan.action != "deleted":
            forwarder = answer if isinstance(answer, dict) else plan.result
    result = dict(changed=plan.changed, action=plan.action, changes={"before": plan.before, "after": plan.after})
    if forwarder is not None:
        result["forwarder"] = forwarder
    if module._diff:
        label = "data forwarder %s" % (params["name"] or params["id"])
        result["diff"] = build_diff(plan.before, plan.after, before_header=label, after_header=label)
    return result


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        name=dict(type="str"),
        id=dict(type="str"),
        type=dict(type="str", choices=list(TYPES)),
        enabled=dict(type="bool"),
        destination=dict(type="str", choices=list(DESTINATIONS)),
        s3_bucket_name=dict(type="str"),
        s3_prefix=dict(type="str"),
        azure_storage_account=dict(type="str"),
        azure_container_name=dict(type="str"),
        azure_tenant_id=dict(type="str"),
        azure_client_id=dict(type="str"),
        version_constraint=dict(type="str"),
        filters=dict(type="list", elements="raw"),
    )
    module = CbcModule(argument_spec=argument_spec, supports_check_mode=True,
                       required_one_of=[("name", "id")],
                       required_if=[("destination", "aws_s3", ("s3_bucket_name",)),
                                    ("destination", "azure_blob_storage",
                                     ("azure_storage_account", "azure_container_name", "azure_tenant_id",
                                      "azure_client_id"))],
                       required_together=[("azure_storage_account", "azure_container_name", "azure_tenant_id",
                                           "azure_client_id")])
    module.run(run_forwarder)


if __name__ == "__main__":
    main()
