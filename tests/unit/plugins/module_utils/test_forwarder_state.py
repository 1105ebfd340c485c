# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/forwarders: list shapes, lookup, desired-state comparison and the destination error."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcApiError, CbcConfigError, CbcError
from ansible_collections.carbonblack.cloud.plugins.module_utils import forwarders as fw

CURRENT = {"id": "f1", "org_key": "ABCD1234", "name": "alerts", "enabled": True, "type": "alert", "destination": "aws_s3",
           "s3_bucket_name": "bucket", "s3_prefix": "alerts", "version_constraint": "2.0.0", "current_version": "2.0.0",
           "create_time": "2023-10-03T14:11:14Z", "update_time": "2023-10-03T14:11:14Z"}
AZURE_CURRENT = {"id": "a1", "name": "hits", "enabled": True, "type": "watchlist.hit", "destination": "azure_blob_storage",
                 "azure_storage_account": "acct", "azure_container_name": "cont", "azure_tenant_id": "t",
                 "azure_client_id": "c", "version_constraint": "1.0.0"}


class FakeClient:
    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    org_key = "ABCD1234"
    url = "https://cbc.example"

    def call(self, name, body=None, **params):
        self.calls.append((name, body, params))
        answer = self.answers[name]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def warn(self, message):
        self.calls.append(("warn", message, {}))


def params(**values):
    base = dict((key, None) for key in fw.COMPARED_FIELDS)
    base.update(values)
    return base


@pytest.mark.parametrize("body, expected", [
    ([CURRENT], [CURRENT]),
    ({"results": [CURRENT], "num_found": 1}, [CURRENT]),
    ([], []),
    (None, []),
])
def test_list_accepts_bare_array_and_results(body, expected):
    assert fw.list_forwarders(FakeClient({"forwarders.list": body})) == expected


@pytest.mark.parametrize("body", [{"configs": []}, "text", [1, 2]])
def test_list_rejects_other_shapes(body):
    with pytest.raises(CbcError) as info:
        fw.forwarders_from_response(body)
    assert "Fix:" in str(info.value)


def test_a_list_404_is_none_when_the_org_answers_elsewhere_and_an_error_when_it_does_not():
    not_found = CbcApiError("GET", "/x", 404, "not found")
    client = FakeClient({"forwarders.list": not_found, "devices.search": {"results": [], "num_found": 0}})
    assert fw.list_forwarders(client) == []
    assert [call[0] for call in client.calls] == ["forwarders.list", "devices.search"]
    assert client.calls[1][1] == {"rows": 0}
    client = FakeClient({"forwarders.list": not_found, "devices.search": CbcApiError("POST", "/y", 404)})
    with pytest.raises(CbcConfigError) as info:
        fw.list_forwarders(client)
    assert "org_key ABCD1234 at https://cbc.example" in str(info.value) and "Fix: check org_key and url" in str(info.value)
    client = FakeClient({"forwarders.list": not_found, "devices.search": CbcApiError("POST", "/y", 403)})
    assert fw.list_forwarders(client) == []
    assert client.calls[-1][0] == "warn" and "could not be confirmed" in client.calls[-1][1]
    client = FakeClient({"forwarders.list": CbcApiError("GET", "/x", 403)})
    with pytest.raises(CbcApiError):
        fw.list_forwarders(client)
    assert len(client.calls) == 1


def test_find_by_id_name_and_duplicates():
    other = dict(CURRENT, id="f2")
    assert fw.find_forwarder([CURRENT, AZURE_CURRENT], name="hits") is AZURE_CURRENT
    assert fw.find_forwarder([CURRENT, other], name="x", config_id="f2") is other
    assert fw.find_forwarder([CURRENT], name="nope") is None
    assert fw.find_forwarder([CURRENT], config_id="nope") is None
    with pytest.raises(CbcConfigError) as info:
        fw.find_forwarder([CURRENT, other], name="alerts")
    assert "2 data forwarders are named 'alerts' (ids f1, f2)" in str(info.value)


def test_same_stated_fields_plan_nothing():
    desired = fw.desired_from_params(params(name="alerts", type="alert", s3_bucket_name="bucket", s3_prefix="alerts",
                                            enabled=True))
    assert desired["destination"] == "aws_s3"
    plan = fw.plan_present(CURRENT, desired)
    assert plan.action == "none" and not plan.changed and plan.result is CURRENT


def test_legacy_config_without_destination_or_prefix_compares_equal():
    legacy = dict(CURRENT)
    del legacy["destination"]
    del legacy["s3_prefix"]
    desired = fw.desired_from_params(params(name="alerts", destination="aws_s3", s3_bucket_name="bucket", s3_prefix="",
                                            filters=[]))
    assert fw.plan_present(legacy, desired).action == "none"


def test_changed_field_gives_full_put_and_only_stated_diff():
    desired = fw.desired_from_params(params(name="alerts", enabled=False))
    plan = fw.plan_present(CURRENT, desired)
    assert plan.action == "updated"
    assert (plan.before, plan.after) == ({"enabled": True}, {"enabled": False})
    assert plan.body == {"name": "alerts", "enabled": False, "type": "alert", "destination": "aws_s3",
                         "s3_bucket_name": "bucket", "s3_prefix": "alerts", "version_constraint": "2.0.0"}
    assert plan.result["id"] == "f1" and plan.result["enabled"] is False


def test_an_update_keeps_the_fields_the_task_does_not_mention():
    console = dict(CURRENT, filters=[{"attribute": "alert.severity", "equals": ["7"]}], console_note="set by hand")
    plan = fw.plan_present(console, fw.desired_from_params(params(name="alerts", enabled=False)))
    assert plan.body["filters"] == console["filters"] and plan.body["console_note"] == "set by hand"
    assert not set(fw.SERVER_FIELDS) & set(plan.body)
    cleared = fw.plan_present(console, fw.desired_from_params(params(name="alerts", filters=[])))
    assert cleared.action == "updated" and cleared.body["filters"] == []
    assert cleared.before == {"filters": console["filters"]} and cleared.after == {"filters": []}
    assert fw.plan_present(console, fw.desired_from_params(params(name="alerts", filters=console["filters"]))).action == "none"


def test_azure_takes_no_secret_and_moving_there_drops_the_s3_fields():
    azure = dict(destination="azure_blob_storage", azure_storage_account="acct", azure_container_name="cont",
                 azure_tenant_id="t", azure_client_id="c")
    plan = fw.plan_present(CURRENT, fw.desired_from_params(params(name="alerts", **azure)))
    assert plan.action == "updated" and plan.body["destination"] == "azure_blob_storage"
    assert "s3_bucket_name" not in plan.body and "s3_prefix" not in plan.body
    assert "s3_bucket_name" not in plan.result
    created = fw.plan_present(None, fw.desired_from_params(params(name="new", type="alert", **azure)))
    assert created.action == "created" and sorted(created.body) == sorted(["name", "type"] + list(azure))
    with pytest.raises(CbcConfigError) as info:
        fw.plan_present(None, fw.desired_from_params(params(name="new", type="alert", destination="azure_blob_storage",
                                                            azure_storage_account="acct")))
    assert "needs azure_container_name, azure_tenant_id, azure_client_id" in str(info.value)


@pytest.mark.parametrize("constraint", ["1.0.0", "1.1.0", "1.0.*", "1.*.*", "2.10.*"])
def test_version_constraints_pinned_and_floating(constraint):
    assert fw.desired_from_params(params(name="n", version_constraint=constraint))["version_constraint"] == constraint


def test_auth_events_are_a_type():
    assert "auth.event" in fw.TYPES
    created = fw.plan_present(None, fw.desired_from_params(params(name="auth", type="auth.event", s3_bucket_name="b")))
    assert created.body["type"] == "auth.event"


def test_type_change_and_rename_clash_are_errors():
    with pytest.raises(CbcConfigError) as info:
        fw.plan_present(CURRENT, {"type": "watchlist.hit"})
    assert "cannot be changed" in str(info.value) and "state: absent" in str(info.value)
    with pytest.raises(CbcConfigError) as info:
        fw.plan_present(CURRENT, {"name": "hits"}, others=[AZURE_CURRENT])
    assert "forwarder a1 already has that name" in str(info.value)


def test_create_needs_type_and_bucket():
    with pytest.raises(CbcConfigError) as info:
        fw.plan_present(None, {"name": "n", "destination": "aws_s3"})
    assert "needs type, s3_bucket_name" in str(info.value)


@pytest.mark.parametrize("values, text", [
    (dict(s3_bucket_name="b", azure_client_id="c"), "cannot be used together"),
    (dict(destination="aws_s3", azure_client_id="c"), "cannot be used with destination aws_s3"),
    (dict(destination="azure_blob_storage", s3_prefix="p"), "cannot be used with destination azure_blob_storage"),
    (dict(type="endpoint.event", azure_container_name="c"), "endpoint.event cannot be forwarded to Azure"),
    (dict(version_constraint="2"), "version_constraint must be a version (1.0.0), patch-floating (1.0.*)"),
    (dict(version_constraint="1.*.0"), "minor-floating (1.*.*), not '1.*.0'"),
    (dict(version_constraint="*.*.*"), "not '*.*.*'"),
    (dict(filters=[""]), "filters[0]"),
    (dict(filters=[{}]), "filters[0] must be a filter object or string"),
    (dict(filters=[3]), "filters[0] must be a filter object or string"),
    (dict(s3_bucket_name="s3://b"), "bare bucket name"),
])
def test_desired_validation(values, text):
    with pytest.raises(CbcConfigError) as info:
        fw.desired_from_params(params(name="n", **values))
    assert text in str(info.value)


def test_absent_plans():
    assert fw.plan_absent(None).action == "none"
    plan = fw.plan_absent(CURRENT)
    assert plan.action == "deleted" and plan.before["name"] == "alerts" and plan.after == {}


def test_destination_error_names_bucket_prefix_region_and_policy():
    api_error = CbcApiError("POST", "/data_forwarder/v2/orgs/A/configs", 400,
                            "Unable to write test object p/healthcheck/healthcheck.json to S3 bucket 'b': Access Denied. "
                            "Check that the bucket exists in region ap-southeast-2")
    client = FakeClient({"forwarders.create": api_error})
    desired = {"name": "n", "type": "alert", "destination": "aws_s3", "s3_bucket_name": "b", "s3_prefix": "p/"}
    plan = fw.plan_present(None, desired)
    with pytest.raises(fw.ForwarderDestinationError) as info:
        fw.apply_plan(client, plan, desired, known_ids=())
    message = str(info.value)
    assert "S3 bucket 'b' under prefix 'p'" in message and "region ap-southeast-2" in message
    assert "s3:PutObject" in message and "arn:aws:s3:::b/p/*" in message and "\n" not in message
    assert info.value.status == 400


def test_other_400s_stay_api_errors():
    client = FakeClient({"forwarders.create": CbcApiError("POST", "/x", 400, "version_constraint '9' is not available")})
    desired = {"name": "n", "type": "alert", "destination": "aws_s3", "s3_bucket_name": "b"}
    plan = fw.plan_present(None, desired)
    with pytest.raises(CbcApiError) as info:
        fw.apply_plan(client, plan, desired, known_ids=())
    assert not isinstance(info.value, fw.ForwarderDestinationError)


def item_params(**options):
    params = dict((key, None) for key in fw.COMPARED_FIELDS + ("id",))
    params["state"] = "present"
    params.update(options)
    return params


def test_two_items_for_the_same_forwarder_are_refused_before_any_write():
    items = fw.forwarder_items([item_params(id="f1", enabled=False), item_params(name="alerts", enabled=True)])
    with pytest.raises(CbcConfigError, match=r"forwarders\[1\] \(alerts\): forwarder f1 is also managed by forwarders\[0\]"):
        fw.plan_forwarders([dict(CURRENT)], items)


def test_purge_plans_a_delete_for_every_config_no_item_names():
    items = fw.forwarder_items([item_params(name="alerts")])
    entries = fw.plan_forwarders([dict(CURRENT), dict(AZURE_CURRENT)], items, purge=True)
    assert [(entry.plan.action, entry.purged) for entry in entries] == [("none", False), ("deleted", True)]
    assert entries[1].result()["name"] == "hits" and entries[1].result()["state"] == "absent"
    assert [entry.plan.action for entry in fw.plan_forwarders([dict(CURRENT), dict(AZURE_CURRENT)], items)] == ["none"]


def test_a_write_error_part_way_carries_what_was_done():
    error = CbcApiError("POST", "/configs", 500, "boom")
    client = FakeClient({"forwarders.list": [], "forwarders.create": error})
    items = fw.forwarder_items([item_params(name="a", type="alert", s3_bucket_name="b")])
    with pytest.raises(CbcApiError) as raised:
        fw.apply_forwarders(client, items)
    assert raised.value.results == []
    assert [entry["action"] for entry in fw.apply_forwarders(client, items, check_mode=True)] == ["created"]
