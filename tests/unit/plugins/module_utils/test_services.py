# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.carbonblack.cloud.plugins.module_utils import services
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcApiError, STATUS_HINTS

# Base URL structures from the table of reference 001 (and the v7 alerts route of the SDK).
EXPECTED_BASES = {
    "access": "/access/v2/orgs/ABCD1234",
    "alerts": "/api/alerts/v7/orgs/ABCD1234",
    "appservices": "/appservices/v6/orgs/ABCD1234",
    "data_forwarder": "/data_forwarder/v2/orgs/ABCD1234",
    "device_control": "/device_control/v3/orgs/ABCD1234",
    "feedmgr": "/threathunter/feedmgr/v2/orgs/ABCD1234",
    "feedsearch": "/threathunter/feedsearch/v1/orgs/ABCD1234",
    "integration_services": "/integrationServices/v3",
    "jobs": "/jobs/v1/orgs/ABCD1234",
    "applianceservice": "/applianceservice/v1/orgs/ABCD1234",
    "lcm": "/lcm/v1/orgs/ABCD1234",
    "lcm_view": "/lcm/view/v2/orgs/ABCD1234",
    "livequery": "/livequery/v1/orgs/ABCD1234",
    "policyservice": "/policyservice/v1/orgs/ABCD1234",
    "public_cloud": "/public-cloud/account-management/v1/orgs/ABCD1234",
    "recommendation": "/recommendation-service/v1/orgs/ABCD1234",
    "sus": "/sus/v2/orgs/ABCD1234",
    "ubs": "/ubs/v1/orgs/ABCD1234",
    "vulnerability": "/vulnerability/assessment/api/v1/orgs/ABCD1234",
    "watchlistmgr": "/threathunter/watchlistmgr/v3/orgs/ABCD1234",
}


@pytest.mark.parametrize("service, base", sorted(EXPECTED_BASES.items()))
def test_every_service_category_has_its_base(service, base):
    assert services.service_base(service, org_key="ABCD1234") == base


def test_build_path_and_url():
    assert services.build_path("appservices", "/devices/_search", org_key="ABCD1234") == \
        "/appservices/v6/orgs/ABCD1234/devices/_search"
    assert services.build_path("investigate", "processes", org_key="X", version="v1") == "/investigate/v1/orgs/X/processes"
    assert services.build_url("https://h.example.com/", "/a") == "https://h.example.com/a"


def test_unknown_service_and_missing_org_are_errors():
    with pytest.raises(ValueError):
        services.service_base("nope", org_key="X")
    with pytest.raises(ValueError):
        services.service_base("appservices")


def test_every_endpoint_has_a_permission_and_resolves():
    for endpoint in services.ENDPOINTS.values():
        assert endpoint.permission
        path = services.endpoint_path(endpoint, "ABCD1234", device_id=1, policy_id=2, config_id="c", category="bypass",
                                      job_id=3, override_id="o")
        assert path.startswith("/") and "{" not in path


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 410, 429, 500, 503])
def test_every_troubleshooting_status_has_a_reason_and_fix(status):
    error = CbcApiError("GET", "/x", status, "api says no")
    assert status in STATUS_HINTS
    assert str(error).startswith("GET /x returned HTTP %s (api says no): " % status)
    assert "Fix:" in str(error) and "\n" not in str(error)


def test_long_multiline_api_messages_are_folded_into_one_line():
    error = CbcApiError("GET", "/x", 500, "line one\nline two " + "x" * 500)
    assert "\n" not in str(error)
    assert len(error.api_message) <= 303
