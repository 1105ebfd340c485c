#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cbc_api_key_check
short_description: Check Carbon Black Cloud, EDR or App Control credentials and which APIs they may use
version_added: 1.0.0
description:
  - Validates the connection options before any request (token format C(SECRET_KEY/API_ID), C(org_key) without
    brackets, C(url) as C(https://host) without a path) and fails with the fix.
  - Then authenticates and probes each API in O(apis) with one cheap read request, reporting whether it is
    accessible, the HTTP status, the RBAC permission it needs and a hint.
  - With O(product=edr), checks a Carbon Black EDR (CB Response) user's API token instead. C(GET /api/info) validates
    it and gives the server version; C(GET /api/user/<username>) (with O(username)) or C(GET /api/users) (which only a
    Global Administrator may read) tells whether the user is a Global Administrator, which the App Control integration
    needs.
  - With O(product=app_control), checks a Carbon Black App Control (CB Protection) user's API token with a count query
    (C(?limit=-1)) on each of O(app_control_objects), reports which the role may read, and reads C(CBServerUrl) (the
    EDR server App Control is integrated with) and the server version from C(serverConfig) when the role may. App
    Control answers HTTP 401 both for a bad token and for a missing permission; the module says so.
  - For EDR and App Control there is no O(org_key); the credential profile comes from C(credentials.response) or
    C(credentials.protection) as the legacy cbapi library reads them, and C(CBAPI_URL) with C(CBAPI_TOKEN) override it
    when both are set, as in cbapi.
  - Read-only; never reports a change.
author:
  - carbonblack.cloud contributors (@carbonblack)
options:
  apis:
    description:
      - The APIs to probe. An empty list is an error unless O(required) names some.
      - V(reputations) (the reputation overrides search, C(org.reputations) C(READ)) is probed only when named.
    type: list
    elements: str
    choices: [devices, policies, data_forwarder, alerts, reputations]
    default: [devices, policies, data_forwarder, alerts]
  required:
    description:
      - APIs that must be accessible; the task fails when any of them is not, listing each with its hint.
      - Every API listed here is probed even when it is not in O(apis).
    type: list
    elements: str
    choices: [devices, policies, data_forwarder, alerts, reputations]
    default: []
  product:
    description:
      - Which product the credentials are for. Never guessed from the URL.
      - V(cbc) is Carbon Black Cloud; V(edr) is Carbon Black EDR (CB Response); V(app_control) is Carbon Black App
        Control (CB Protection, Bit9). For V(edr) and V(app_control), O(token) is the user's API token and
        O(apis), O(required), O(org_key) and the CSP options do not apply.
    type: str
    choices: [cbc, edr, app_control]
    default: cbc
  username:
    description:
      - With O(product=edr), the EDR user whose Global Administrator flag is read (C(GET /api/user/<username>));
        without it, the module asks for the user list, which only a Global Administrator may read.
    type: str
  require_global_admin:
    description:
      - With O(product=edr), fail unless the user is a Global Administrator, with the fix the App Control integration
        note gives.
    type: bool
    default: false
  app_control_objects:
    description:
      - With O(product=app_control), the objects to count (one C(GET /api/bit9platform/v1/<object>?limit=-1) each). The
        token is valid when at least one is readable.
    type: list
    elements: str
    default: [computer, policy, fileCatalog, approvalRequest]
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

- name: Check the EDR token the App Control integration uses, and that its user is a Global Administrator
  carbonblack.cloud.cbc_api_key_check:
    product: edr
    url: https://edr.example.com
    token: "{{ vault_edr_integration_token }}"
    username: app-control-integration
    require_global_admin: true

- name: Check an App Control token and which EDR server it is integrated with
  carbonblack.cloud.cbc_api_key_check:
    product: app_control
    profile: default
  register: app_control_check

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
product:
  description: The product checked.
  returned: success
  type: str
  sample: edr
version:
  description: The EDR server version (from C(/api/info)), or the App Control server version (C(ParityServerVersion)).
  returned: success and product is edr or app_control
  type: str
  sample: 7.7.1.250101
global_admin:
  description: Whether the EDR user is a Global Administrator.
  returned: success and product is edr
  type: bool
  sample: true
global_admin_source:
  description: The request that answered it.
  returned: success and product is edr
  type: str
  sample: GET /api/users
global_admin_hint:
  description: When the user is not a Global Administrator, why that matters and the fix; else null.
  returned: success and product is edr
  type: str
  sample: null
objects:
  description: Per App Control object, whether the role may read it, its count, the HTTP status and the permission.
  returned: success and product is app_control
  type: dict
  sample: {computer: {readable: true, count: 120, http_status: 200, permission: View computers}}
readable:
  description: The App Control objects the role may read.
  returned: success and product is app_control
  type: list
  elements: str
  sample: [computer, policy]
cb_server_url:
  description: The EDR server App Control is integrated with (serverConfig C(CBServerUrl)), null when not set or not readable.
  returned: success and product is app_control
  type: str
  sample: https://edr.example.com
server_config_readable:
  description: Whether the role may read serverConfig (permission C(View system configuration)).
  returned: success and product is app_control
  type: bool
  sample: true
"""

from ansible_collections.carbonblack.cloud.plugins.module_utils.cbc_module import CbcModule
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcApiError, CbcConfigError
from ansible_collections.carbonblack.cloud.plugins.module_utils.onprem_checks import (
    APP_CONTROL_OBJECTS, check_app_control, check_edr, check_onprem_options)
from ansible_collections.carbonblack.cloud.plugins.module_utils.forwarders import OrgNotFound, list_forwarders
from ansible_collections.carbonblack.cloud.plugins.module_utils.services import ENDPOINTS

API_NAMES = ["devices", "policies", "data_forwarder", "alerts", "reputations"]
DEFAULT_APIS = API_NAMES[:4]

# API -> (catalogue endpoint, request body of the cheapest read)
PROBES = {
    "devices": ("devices.search", {"rows": 1}),
    "policies": ("policies.summary", None),
    "data_forwarder": ("forwarders.list", None),
    "alerts": ("alerts.search", {"rows": 1}),
    "reputations": ("reputations.search", {"rows": 1}),
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


def run_onprem_check(module):
    params = module.params
    client = module.client
    if module.product == "edr":
        result = check_edr(client, username=params["username"], require_global_admin=params["require_global_admin"])
    else:
        result = check_app_control(client, objects=params["app_control_objects"])
    result.update(changed=False, auth_mode=client.auth.mode)
    return result


def run_check(module):
    check_onprem_options(module.params, module.product)
    if module.product != "cbc":
        return run_onprem_check(module)
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
                  accessible=[api for api in wanted if results[api]["accessible"]])
    if missing:
        module.fail_json(msg="required APIs are not accessible: %s" % "; ".join(
            "%s (HTTP %s: %s)" % (api, results[api]["http_status"], results[api]["hint"]) for api in missing), **result)
    return result


def main():
    module = CbcModule(
        argument_spec=dict(
            apis=dict(type="list", elements="str", choices=API_NAMES, default=DEFAULT_APIS),
            required=dict(type="list", elements="str", choices=API_NAMES, default=[]),
            product=dict(type="str", choices=["cbc", "edr", "app_control"], default="cbc"),
            username=dict(type="str"),
            require_global_admin=dict(type="bool", default=False),
            app_control_objects=dict(type="list", elements="str", default=list(APP_CONTROL_OBJECTS)),
        ),
        supports_check_mode=True,
    )
    module.run(run_check)


if __name__ == "__main__":
    main()
