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
  - Enforces Data Forwarders (API v2 C(data_forwarder/v2/orgs/{org_key}/configs)) that send alerts, auth events,
    endpoint events or watchlist hits to an AWS S3 bucket or an Azure Blob Storage container.
  - One forwarder per task with the options below, or many with O(forwarders). Either way the task reads the
    forwarder list once and checks every item before the first write.
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
  forwarders:
    description:
      - Manage many forwarders in one task, each item a mapping with the options above (O(name), O(id), O(state),
        O(type), ..., O(filters)), checked by the same rules.
      - All items are read (one list request) and checked first; writes start only when every item is valid, and run
        in item order. Two items for the same name, id or forwarder are an error.
      - Mutually exclusive with the single-forwarder options. An empty list is an error.
    type: list
    elements: dict
  purge:
    description:
      - With O(forwarders), also delete every forwarder of the org that no item names (by O(name) or O(id)). The
        deletes run after the items' writes.
      - Refused without O(forwarders), so an empty selection never deletes everything.
    type: bool
    default: false
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

- name: The org forwards exactly these (one list request; the others are deleted)
  carbonblack.cloud.cbc_forwarder:
    forwarders:
      - name: alerts-to-s3
        type: alert
        s3_bucket_name: acme-cbc-data
        s3_prefix: alerts
        version_constraint: "2.0.0"
      - name: hits-to-s3
        type: watchlist.hit
        s3_bucket_name: acme-cbc-data
        s3_prefix: hits
    purge: true
"""

RETURN = r"""
forwarder:
  description:
    - The forwarder config as the API returned it after the write, the current one when nothing changed, or in check
      mode the config as it would be (C(id) is null for one that would be created). After a delete, the deleted config.
  returned: success and state=present, or a forwarder was deleted; not with O(forwarders)
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
  returned: success, not with O(forwarders)
  type: str
  sample: updated
changes:
  description: The stated fields that differ, before and after.
  returned: success, not with O(forwarders)
  type: dict
  sample: {before: {enabled: true}, after: {enabled: false}}
results:
  description:
    - With O(forwarders), one entry per item in item order, then one per forwarder that O(purge) deletes, each with
      C(name), C(id), C(state), C(action), C(changed), C(changes), C(forwarder) and C(purged) (true for a purge
      delete).
    - On a failure part-way, the entries of what was done before it.
  returned: with O(forwarders)
  type: list
  elements: dict
  sample:
    - {name: alerts-to-s3, id: null, state: present, action: created, changed: true, purged: false,
       changes: {before: {}, after: {name: alerts-to-s3}}, forwarder: {name: alerts-to-s3}}
requests_sent:
  description: HTTP requests this task sent.
  returned: always
  type: int
  sample: 2
"""

from ansible_collections.carbonblack.cloud.plugins.module_utils.cbc_module import CbcModule, validate_items
from ansible_collections.carbonblack.cloud.plugins.module_utils.diff import build_diff
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcConfigError, CbcError
from ansible_collections.carbonblack.cloud.plugins.module_utils.forwarders import (
    AZURE_FIELDS, DESTINATIONS, TYPES, ForwarderItem, apply_forwarders, forwarder_items)

# The options of one forwarder: the module's own, and those of each item of ``forwarders``.
FORWARDER_SPEC = dict(
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
FORWARDER_RULES = dict(
    required_if=[("destination", "aws_s3", ("s3_bucket_name",)), ("destination", "azure_blob_storage", AZURE_FIELDS)],
    required_together=[AZURE_FIELDS],
)


def forwarder_diff(result, label=None):
    label = "data forwarder %s" % (label or result["name"] or result["id"])
    return build_diff(result["changes"]["before"], result["changes"]["after"], before_header=label, after_header=label)


def run_forwarder(module):
    params = module.params
    listed = params["forwarders"] is not None
    if params["purge"] and not listed:
        raise CbcConfigError("purge needs forwarders, the list of the forwarders to keep. Fix: list them under "
                             "forwarders, or remove purge")
    if listed:
        items = forwarder_items(validate_items(params["forwarders"], "forwarders", FORWARDER_SPEC,
                                               required_one_of=[("name", "id")], **FORWARDER_RULES))
    else:
        items = [ForwarderItem(dict((key, params[key]) for key in FORWARDER_SPEC))]
    try:
        results = apply_forwarders(module.client, items, purge=params["purge"], check_mode=module.check_mode)
    except CbcError as error:
        done = getattr(error, "results", None)
        if not listed or done is None:
            raise
        module.fail_from(error, changed=any(entry["changed"] for entry in done), results=done)
    if listed:
        result = dict(changed=any(entry["changed"] for entry in results), results=results)
        if module._diff:
            result["diff"] = [forwarder_diff(entry) for entry in results if entry["changed"]]
        return result
    entry = results[0]
    result = dict(changed=entry["changed"], action=entry["action"], changes=entry["changes"])
    if entry["forwarder"] is not None:
        result["forwarder"] = entry["forwarder"]
    if module._diff:
        result["diff"] = forwarder_diff(entry, label=params["name"] or params["id"])
    return result


def main():
    argument_spec = dict(FORWARDER_SPEC, forwarders=dict(type="list", elements="dict"),
                         purge=dict(type="bool", default=False))
    module = CbcModule(argument_spec=argument_spec, supports_check_mode=True,
                       required_one_of=[("name", "id", "forwarders")],
                       mutually_exclusive=[("forwarders", option) for option in FORWARDER_SPEC if option != "state"],
                       **FORWARDER_RULES)
    module.run(run_forwarder)


if __name__ == "__main__":
    main()
