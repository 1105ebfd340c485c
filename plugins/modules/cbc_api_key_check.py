#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cbc_api_key_check
short_description: Check Carbon Black Cloud credentials and which APIs they may use
version_added: 1.0.0
description:
  - Validates the connection options before any request (token format C(SECRET_KEY/API_ID), C(org_key) without
    brackets, C(url) as C(https://host) without a path) and fails with the fix.
  - Then authenticates and probes each API in O(apis) with one cheap read request, reporting whether it is
    accessible, the HTTP status, the RBAC permission it needs and a hint.
  - Read-only; never reports a change.
author:
  - carbonblack.cloud contributors (@carbonblack)
options:
  apis:
    description:
      - The APIs to probe. An empty list is an error unless O(required) names some.
    type: list
    elements: str
    choices: [devices, policies, data_forwarder, alerts]
    default: [devices, policies, data_forwarder, alerts]
  required:
    description:
      - APIs that must be accessible; the task fails when any of them is not, listing each with its hint.
      - Every API listed here is probed even when it is not in O(apis).
    type: list
    elements: str
    choices: [devices, policies, data_forwarder, alerts]
    default: []
extends_documentation_fragment:
  - carbonblack.cloud.auth
  - carbonblack.cloud.attributes.info_module
"""

EXAMPLES = r"""
- name: Check the API key and fail unless devices and policies are usable
  carbonblack.cloud.cbc_api_key_check:
    url: https://defense-prod05.conferdeploy.net
    org_key: ABCD1234
    token: "{{ vault_cbc_token }}"
    required: [devices, policies]

- name: Check a CSP OAuth app read from the default credential profile
  carbonblack.cloud.cbc_api_key_check:
    profile: default
  register: cbc_check

- name: Show which APIs the credentials may call
  ansible.builtin.debug:
    msg: "{{ cbc_check.apis | dict2items | selectattr('value.accessible') | map(attribute='key') | list }}"
"""

RETURN = r"""
auth_mode:
  description: How the module authenticated.
  returned: success
  type: str
  sample: api_key
api_id:
  description: The public half of the API key (or the OAuth app's client ID); never the secret.
  returned: success
  type: str
  sample: ABCD123456
org_key:
  description: The organization key used.
  returned: success
  type: str
  sample: ABCD1234
url:
  description: The CBC console URL used.
  returned: success
  type: str
  sample: https://defense-prod05.conferdeploy.net
apis:
  description: One entry per probed API.
  returned: success
  type: dict
  sample:
    devices:
      accessible: true
      http_status: 200
      permission: device READ
      hint: null
    policies:
      accessible: false
      http_status: 403
      permission: org.policies READ
      hint: "the credentials are valid but lack the RBAC permission org.policies READ. Fix: grant ..."
  contains:
    accessible:
      description: Whether the probe succeeded.
      type: bool
    http_status:
      description: The probe's HTTP status.
      type: int
    permission:
      description: The RBAC permission (name and operation) the API needs.
      type: str
    hint:
      description: Reason and fix when the API is not accessible, else null.
      type: str
accessible:
  description: Names of the probed APIs that are accessible.
  returned: success
  type: list
  elements: str
  sample: [devices, alerts]
requests_sent:
  description: HTTP requests this task sent, token exchanges and retries included.
  returned: always
  type: int
  sample: 5
"""

from ansible_collections.carbonblack.cloud.plugins.module_utils.cbc_module import CbcModule
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcApiError, CbcConfigError
from ansible_collections.carbonblack.cloud.plugins.module_utils.forwarders import OrgNotFound, list_forwarders
from ansible_collections.carbonblack.cloud.plugins.module_utils.services import ENDPOINTS

API_NAMES = ["devices", "policies", "data_forwarder", "alerts"]

# API -> (catalogue endpoint, request body of the cheapest read)
PROBES = {
    "devices": ("devices.search", {"rows": 1}),
    "policies": ("policies.summary", None),
    "data_forwarder": ("forwarders.list", None),
    "alerts": ("alerts.search", {"rows": 1}),
}


def probe(client, api):
    endpoint_name, body = PROBES[api]
    permission = ENDPOINTS[endpoint_name].permission
    try:
        if api == "data_forwarder":
            # An org without forwarders may answer the list with 404; list_forwarders tells that from a wrong org.
            list_forwarders(client)
        else:
            client.call(endpoint_name, body=body)
    except CbcApiError as error:
        return {"accessible": False, "http_status": error.status, "permission": permission,
                "hint": error.hint}
    except OrgNotFound as error:
        return {"accessible": False, "http_status": 404, "permission": permission, "hint": str(error)}
    return {"accessible": True, "http_status": 200, "permission": permission, "hint": None}


def run_check(module):
    if not module.params["apis"] and not module.params["required"]:
        raise CbcConfigError("apis and required are both empty, so nothing would be checked. Fix: list the APIs to "
                             "probe, e.g. apis: [devices, policies], or leave apis out to probe all")
    settings = module.settings
    client = module.client
    wanted = [api for api in API_NAMES if api in module.params["apis"] or api in module.params["required"]]
    results = dict((api, probe(client, api)) for api in wanted)

    api_id = client.auth.public_id
    if results and all(result["http_status"] == 401 for result in results.values()):
        raise CbcConfigError("authentication failed: every probed API answered HTTP 401 for %s %s on %s. Fix: check "
                             "that token is SECRET_KEY/API_ID with your own values (secret first), that the key is not "
                             "deleted, and that url and org_key belong to the key's organization"
                             % (client.auth.mode, api_id or "", settings["url"]))
    missing = [api for api in module.params["required"] if not results[api]["accessible"]]
    result = dict(changed=False, auth_mode=client.auth.mode, api_id=api_id, org_key=settings["org_key"],
                  url=settings["url"].rstrip("/"), apis=results,
                  accessible=[api for api in wanted if results[api]["accessible"]],
                  requests_sent=client.requests_sent)
    if missing:
        module.fail_json(msg="required APIs are not accessible: %s" % "; ".join(
            "%s (HTTP %s: %s)" % (api, results[api]["http_status"], results[api]["hint"]) for api in missing), **result)
    return result


def main():
    module = CbcModule(
        argument_spec=dict(
            apis=dict(type="list", elements="str", choices=API_NAMES, default=API_NAMES),
            required=dict(type="list", elements="str", choices=API_NAMES, default=[]),
        ),
        supports_check_mode=True,
    )
    module.run(run_check)


if __name__ == "__main__":
    main()
