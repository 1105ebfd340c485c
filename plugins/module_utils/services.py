# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The URL catalogue: every CBC service category and every API call we make.

URLs are ``{url}/{service}/{version}/orgs/{org_key}/{path}`` (reference 001,
"Structure of Base URLs"). Modules never assemble paths by hand: they name an
``Endpoint`` and the client builds the URL from it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections

from urllib.parse import quote

# service name -> (path prefix, current version, whether the path carries /orgs/{org_key})
SERVICES = {
    "access": ("access", "v2", True),
    "alerts": ("api/alerts", "v7", True),
    "appservices": ("appservices", "v6", True),
    "asset_groups": ("asset_groups", "v1", True),
    "data_forwarder": ("data_forwarder", "v2", True),
    "device_control": ("device_control", "v3", True),
    "feedmgr": ("threathunter/feedmgr", "v2", True),
    "feedsearch": ("threathunter/feedsearch", "v1", True),
    "integration_services": ("integrationServices", "v3", False),
    "investigate": ("investigate", "v2", True),
    "jobs": ("jobs", "v1", True),
    "applianceservice": ("applianceservice", "v1", True),
    "lcm": ("lcm", "v1", True),
    "lcm_view": ("lcm/view", "v2", True),
    "livequery": ("livequery", "v1", True),
    "policyservice": ("policyservice", "v1", True),
    "public_cloud": ("public-cloud/account-management", "v1", True),
    "recommendation": ("recommendation-service", "v1", True),
    "sus": ("sus", "v2", True),
    "ubs": ("ubs", "v1", True),
    "vulnerability": ("vulnerability/assessment/api", "v1", True),
    "watchlistmgr": ("threathunter/watchlistmgr", "v3", True),
}

CSP_OAUTH_TOKEN_PATH = "/csp/gateway/am/api/auth/token"
CSP_API_TOKEN_PATH = "/csp/gateway/am/api/auth/api-tokens/authorize"
CSP_DEFAULT_URL = "https://console.cloud.vmware.com"

# name, HTTP method, service, path template below the org, RBAC permission, safe to repeat blindly (reads only:
# a write whose answer was lost is reconciled with the server's state instead, see writes.py)
Endpoint = collections.namedtuple("Endpoint", "name method service path permission safe")

ENDPOINTS = dict((e.name, e) for e in (
    Endpoint("devices.search", "POST", "appservices", "devices/_search", "device READ", True),
    Endpoint("devices.scroll", "POST", "appservices", "devices/_scroll", "device READ", True),
    Endpoint("devices.facet", "POST", "appservices", "devices/_facet", "device READ", True),
    Endpoint("devices.get", "GET", "appservices", "devices/{device_id}", "device READ", True),
    # The permission depends on action_type: see devices.ACTION_PERMISSIONS.
    Endpoint("devices.actions", "POST", "appservices", "device_actions", "the action's device permission", False),
    Endpoint("alerts.search", "POST", "alerts", "alerts/_search", "org.alerts READ", True),
    # Sets the workflow of the alerts its selection matches, as an asynchronous job; sending it twice sets the same
    # state twice, but it is still reconciled rather than repeated blindly.
    Endpoint("alerts.workflow", "POST", "alerts", "alerts/workflow", "org.alerts.close EXECUTE", False),
    Endpoint("jobs.get", "GET", "jobs", "jobs/{job_id}", "jobs.status READ", True),
    Endpoint("reputations.search", "POST", "appservices", "reputations/overrides/_search", "org.reputations READ", True),
    Endpoint("reputations.create", "POST", "appservices", "reputations/overrides", "org.reputations CREATE", False),
    Endpoint("reputations.delete", "DELETE", "appservices", "reputations/overrides/{override_id}",
             "org.reputations DELETE", False),
    Endpoint("reputations.bulk_delete", "POST", "appservices", "reputations/overrides/_delete",
             "org.reputations DELETE", False),
    Endpoint("policies.summary", "GET", "policyservice", "policies/summary", "org.policies READ", True),
    Endpoint("policies.get", "GET", "policyservice", "policies/{policy_id}", "org.policies READ", True),
    Endpoint("policies.create", "POST", "policyservice", "policies", "org.policies CREATE", False),
    Endpoint("policies.update", "PUT", "policyservice", "policies/{policy_id}", "org.policies UPDATE", False),
    Endpoint("policies.delete", "DELETE", "policyservice", "policies/{policy_id}", "org.policies DELETE", False),
    Endpoint("policies.rule_configs.get", "GET", "policyservice", "policies/{policy_id}/rule_configs/{category}",
             "org.policies READ", True),
    Endpoint("policies.rule_configs.update", "PUT", "policyservice", "policies/{policy_id}/rule_configs/{category}",
             "org.policies UPDATE", False),
    Endpoint("forwarders.list", "GET", "data_forwarder", "configs", "event-forwarder.settings READ", True),
    Endpoint("forwarders.create", "POST", "data_forwarder", "configs", "event-forwarder.settings CREATE", False),
    Endpoint("forwarders.update", "PUT", "data_forwarder", "configs/{config_id}", "event-forwarder.settings UPDATE",
             False),
    Endpoint("forwarders.delete", "DELETE", "data_forwarder", "configs/{config_id}", "event-forwarder.settings DELETE",
             False),
    Endpoint("forwarders.health_check", "GET", "data_forwarder", "configs/{config_id}/health_check",
             "event-forwarder.settings READ", True),
))


def service_base(service, org_key=None, version=None):
    """Return ``/{service}/{version}[/orgs/{org_key}]`` for a catalogue service."""
    try:
        prefix, default_version, has_org = SERVICES[service]
    except KeyError:
        raise ValueError("unknown CBC service %r; known: %s" % (service, ", ".join(sorted(SERVICES))))
    base = "/%s/%s" % (prefix, version or default_version)
    if has_org:
        if not org_key:
            raise ValueError("service %s needs an org_key" % service)
        base += "/orgs/%s" % quote(str(org_key), safe="")
    return base


def build_path(service, path="", org_key=None, version=None):
    """Return the absolute API path for ``path`` below a service's org base."""
    base = service_base(service, org_key=org_key, version=version)
    path = path.lstrip("/")
    return base + "/" + path if path else base


def endpoint_path(endpoint, org_key, **params):
    """Fill an endpoint's path template; path parameters are URL-quoted."""
    quoted = dict((key, quote(str(value), safe="")) for key, value in params.items())
    return build_path(endpoint.service, endpoint.path.format(**quoted), org_key=org_key)


def build_url(base_url, path):
    """Join the console URL (trailing ``/`` stripped, as the SDK does) and an API path."""
    return base_url.rstrip("/") + path
