# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paging, planning and batching of devices.py against a fake client."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.carbonblack.cloud.plugins.module_utils import devices as dev
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import (
    CbcApiError, CbcConfigError, CbcWriteOutcomeUnknown)


class FakeDeviceApi:
    """A client whose search/scroll/actions work on an in-memory fleet, like the API (1-based start)."""

    def __init__(self, count, fail_action_batches=(), not_found_ids=(), page_cap=None, lost_batches=(),
                 lost_unapplied=(), timed_out=()):
        self.page_cap = page_cap
        self.lost_batches = set(lost_batches)        # applied, answer lost (may_resend)
        self.lost_unapplied = set(lost_unapplied)    # not applied, answer lost (may_resend)
        self.timed_out = set(timed_out)              # not applied, timed out (no resend)
        self.notes = []
        self.pauses = []
        self.fleet = [{"id": i, "name": "h%d" % i, "os": "LINUX" if i % 2 == 0 else "WINDOWS",
                       "quarantined": False, "extra": "x" * 10} for i in range(1, count + 1)]
        self.calls = []
        self.fail_action_batches = set(fail_action_batches)
        self.not_found_ids = set(not_found_ids)
        self.action_batches = 0

    def _match(self, body):
        ids = set((body.get("criteria") or {}).get("id") or [])
        oses = set((body.get("criteria") or {}).get("os") or [])
        return [d for d in self.fleet if (not ids or d["id"] in ids) and (not oses or d["os"] in oses)
                and d["id"] not in self.not_found_ids]

    def call(self, name, body=None, permission=None, shape_results=None, **unused_kwargs):
        answer = self._answer(name, body, permission)
        if shape_results is not None and answer is not None:
            # as the real client does while decoding, on copies (the JSON would be decoded afresh)
            answer = dict(answer, results=[shape_results(dict(row)) for row in answer["results"]])
        return answer

    def _answer(self, name, body, permission):
        self.calls.append((name, body))
        if name == "devices.search":
            assert body["rows"] <= dev.MAX_ROWS
            found = self._match(body)
            start = max(body.get("start", 1), 1) - 1
            rows = min(body["rows"], self.page_cap or body["rows"])
            return {"results": found[start:start + rows], "num_found": len(found)}
        if name == "devices.scroll":
            found = self._match(body)
            offset = int(body.get("search_after") or 0)
            page = found[offset:offset + body["rows"]]
            after = str(offset + len(page)) if offset + len(page) < len(found) else ""
            return {"results": page, "num_found": len(found), "search_after": after}
        if name == "devices.actions":
            self.action_batches += 1
            if self.action_batches in self.fail_action_batches:
                raise CbcApiError("POST", "/device_actions", 500, "boom", permission=permission)
            if self.not_found_ids & set(body["device_id"]):
                raise CbcApiError("POST", "/device_actions", 404, "device not found", permission=permission)
            if self.action_batches in self.lost_unapplied:
                raise CbcWriteOutcomeUnknown("POST", "/device_actions", "HTTP 503", True)
            if self.action_batches in self.timed_out:
                raise CbcWriteOutcomeUnknown("POST", "/device_actions", "no answer came within the timeout", False)
            for device in self.fleet:
                if device["id"] in body["device_id"]:
                    device["quarantined"] = body["options"]["toggle"] == "ON"
            if self.action_batches in self.lost_batches:
                raise CbcWriteOutcomeUnknown("POST", "/device_actions", "the connection was dropped", True)
            return None
        raise AssertionError(name)

    def settle_pause(self):
        return 1.0

    def pause(self, seconds):
        self.pauses.append(seconds)


def names(api):
    return [name for name, unused_body in api.calls]


def test_up_to_10000_matches_take_one_search():
    api = FakeDeviceApi(20000)
    found, num_found = dev.search_devices(api, dev.DeviceSelection(criteria={"os": ["LINUX"]}), fields=("id",))
    assert num_found == 10000 and len(found) == 10000 and names(api) == ["devices.search"]
    assert found[0] == {"id": 2}


def test_more_than_10000_matches_are_scrolled_without_duplicates():
    api = FakeDeviceApi(25000)
    found, num_found = dev.search_devices(api, dev.DeviceSelection())
    assert num_found == 25000
    assert sorted(d["id"] for d in found) == list(range(1, 25001))
    assert names(api) == ["devices.search", "devices.scroll", "devices.scroll", "devices.scroll"]


def test_short_pages_are_followed_with_1_based_start():
    api = FakeDeviceApi(20, page_cap=7)
    found, num_found = dev.search_devices(api, dev.DeviceSelection())
    assert [d["id"] for d in found] == list(range(1, 21)) and num_found == 20
    assert [body.get("start") for unused_name, body in api.calls] == [None, 8, 15]


def test_limit_caps_rows_and_result():
    api = FakeDeviceApi(20)
    found, num_found = dev.search_devices(api, dev.DeviceSelection(), limit=9)
    assert [d["id"] for d in found] == list(range(1, 10)) and num_found == 20
    assert [(body["rows"], body.get("start")) for unused_name, body in api.calls] == [(9, None)]
    api = FakeDeviceApi(20000)
    found, num_found = dev.search_devices(api, dev.DeviceSelection(), limit=12000)
    assert len(found) == 12000 and names(api) == ["devices.search", "devices.scroll", "devices.scroll"]


def test_limit_zero_counts_only():
    api = FakeDeviceApi(5)
    assert dev.search_devices(api, dev.DeviceSelection(), limit=0) == ([], 5)


def test_selection_body():
    selection = dev.DeviceSelection(device_ids=[1, 2], criteria={"os": ["LINUX"]}, exclusions={"status": ["DEREGISTERED"]},
                                    query="name:web*")
    assert selection.search_body() == {"criteria": {"os": ["LINUX"], "id": [1, 2]},
                                       "exclusions": {"status": ["DEREGISTERED"]}, "query": "name:web*"}
    assert dev.DeviceSelection().is_everything


@pytest.mark.parametrize("params, fragment", [
    ({"criteria": {"os": "LINUX"}}, "criteria.os must be a list"),
    ({"criteria": {"os": ["LINUXX"]}}, "unknown value(s) LINUXX"),
    ({"exclusions": {"status": ["GONE"]}}, "exclusions.status"),
    ({"criteria": {"last_contact_time": {"range": "-1d", "start": "x"}}}, "last_contact_time"),
])
def test_bad_criteria_are_refused_before_any_request(params, fragment):
    with pytest.raises(CbcConfigError) as info:
        dev.selection_from_params(dict({"query": "name:x"}, **params))
    assert fragment in str(info.value) and "Fix:" in str(info.value)


@pytest.mark.parametrize("params, fragment", [
    ({"device_ids": []}, "device_ids is empty"),
    ({"device_ids": [5, 0]}, "device_ids has 0"),
    ({"criteria": {}}, "criteria is empty"),
    ({"criteria": {"os": [], "policy_id": []}}, "criteria.os, criteria.policy_id is an empty list"),
    ({"criteria": {"os": ["LINUX"], "policy_id": []}}, "criteria.policy_id is an empty list"),
    ({"query": ""}, "query is blank"),
    ({"query": "  \t"}, "query is blank"),
    ({"device_ids": [], "query": "name:x"}, "device_ids is empty"),
    ({}, "no devices are selected"),
    ({"exclusions": {"os": ["LINUX"]}}, "no devices are selected"),
    ({"all_devices": True, "query": "name:x"}, "cannot be combined with query"),
])
def test_an_empty_selection_never_means_every_device(params, fragment):
    with pytest.raises(CbcConfigError) as info:
        dev.selection_from_params(params)
    assert fragment in str(info.value) and "Fix:" in str(info.value)


def test_read_only_callers_may_list_the_whole_org_only_when_nothing_is_given():
    assert dev.selection_from_params({}, whole_org_when_unset=True).is_everything
    with pytest.raises(CbcConfigError):
        dev.selection_from_params({"criteria": {}}, whole_org_when_unset=True)
    assert dev.selection_from_params({"all_devices": True, "exclusions": {"os": []}}).search_body() == {}
    assert dev.selection_from_params({"query": " name:a "}).search_body() == {"query": "name:a"}


def fleet():
    return [
        {"id": 1, "name": "a", "status": "REGISTERED", "quarantined": False, "policy_id": 10, "policy_name": "P10",
         "sensor_kit_type": "RHEL", "sensor_version": "2.14", "sensor_pending_update": False, "scan_status": None},
        {"id": 2, "name": "b", "status": "REGISTERED", "quarantined": True, "policy_id": 20, "policy_name": "P20",
         "sensor_kit_type": "RHEL", "sensor_version": "2.15", "sensor_pending_update": False, "scan_status": "IN_PROGRESS"},
        {"id": 3, "name": "c", "status": "DEREGISTERED", "quarantined": False, "policy_id": 20, "policy_name": "P20",
         "sensor_kit_type": "WINDOWS", "sensor_version": "3.9", "sensor_pending_update": True, "scan_status": None},
        {"id": 4, "name": "d", "status": "BYPASS", "quarantined": False, "policy_id": 20, "policy_name": "P20",
         "sensor_kit_type": "RHEL", "sensor_version": "2.13", "sensor_pending_update": True, "scan_status": None},
    ]


def planned(plans):
    return dict((plan.action_type, (plan.options, plan.device_ids)) for plan in plans)


def test_plans_act_only_on_devices_that_need_it():
    plans = planned(dev.plan_device_actions(
        fleet(), quarantined=True, bypass=False, policy={"id": 20, "name": "P20"}, sensor_version={"RHEL": "2.15"},
        send_background_scan="start", uninstall_sensor=True, delete_sensor=True))
    # device 3 is DEREGISTERED: no sensor, so sensor actions leave it alone (and a re-run plans nothing)
    assert plans["QUARANTINE"] == ({"toggle": "ON"}, [1, 4])
    assert plans["BYPASS"] == ({"toggle": "OFF"}, [4])
    assert plans["UPDATE_POLICY"] == ({"policy_id": 20}, [1])
    # device 4 has an update pending, device 2 already runs 2.15, device 3 is another kit
    assert plans["UPDATE_SENSOR_VERSION"] == ({"sensor_version": {"RHEL": "2.15"}}, [1])
    # an action, not a state: every device with a sensor, whatever scan_status says
    assert plans["BACKGROUND_SCAN"] == ({"toggle": "ON"}, [1, 2, 4])
    assert plans["UNINSTALL_SENSOR"] == (None, [1, 2, 4])
    assert plans["DELETE_SENSOR"] == (None, [3])


def test_nothing_planned_when_state_matches():
    assert dev.plan_device_actions(fleet()[1:2], quarantined=True, policy={"id": 20}) == []


def test_a_background_scan_is_planned_on_every_run_and_stop_sends_off():
    for unused_run in range(2):
        plans = dev.plan_device_actions(fleet(), send_background_scan="stop")
        assert planned(plans) == {"BACKGROUND_SCAN": ({"toggle": "OFF"}, [1, 2, 4])}
    assert plans[0].observable is False


def quarantine_plan(api, ids=None):
    plans = dev.plan_device_actions([d for d in api.fleet if ids is None or d["id"] in ids], quarantined=True)
    return plans[0]


def test_actions_are_batched_and_a_failed_batch_reports_done_and_not_done():
    api = FakeDeviceApi(10)
    assert dev.send_device_action(api, quarantine_plan(api), batch_size=4) == (3, [])
    bodies = [body for name, body in api.calls if name == "devices.actions"]
    assert [body["device_id"] for body in bodies] == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]
    assert bodies[0]["options"] == {"toggle": "ON"} and bodies[0]["action_type"] == "QUARANTINE"

    api = FakeDeviceApi(10, fail_action_batches={2})
    with pytest.raises(dev.BatchFailure) as info:
        dev.send_device_action(api, quarantine_plan(api), batch_size=4)
    assert info.value.done_ids == [1, 2, 3, 4] and info.value.failed_ids == [5, 6, 7, 8, 9, 10]
    assert "QUARANTINE stopped after 4 of 10 devices" in str(info.value)


def test_a_device_that_vanished_is_dropped_after_one_recheck():
    api = FakeDeviceApi(10)
    plan = quarantine_plan(api)
    api.not_found_ids = {6}
    batches, vanished = dev.send_device_action(api, plan, batch_size=4)
    assert vanished == [6] and batches == 4
    bodies = [body["device_id"] for name, body in api.calls if name == "devices.actions"]
    assert bodies == [[1, 2, 3, 4], [5, 6, 7, 8], [5, 7, 8], [9, 10]]


def test_action_permissions_follow_the_sdk():
    assert dev.ACTION_PERMISSIONS["UPDATE_POLICY"] == "device.policy UPDATE"
    assert dev.ACTION_PERMISSIONS["DELETE_SENSOR"] == "device.deregistered DELETE"


def test_a_batch_whose_answer_was_lost_after_it_was_applied_is_confirmed_by_a_search_not_resent():
    api = FakeDeviceApi(10, lost_batches={2})
    batches, vanished = dev.send_device_action(api, quarantine_plan(api), batch_size=4)
    bodies = [body["device_id"] for name, body in api.calls if name == "devices.actions"]
    assert bodies == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]] and vanished == [] and batches == 3
    assert [name for name, unused in api.calls].count("devices.search") == 1
    assert "showed it was applied" in api.notes[0] and api.pauses == []


def test_a_batch_lost_before_it_was_applied_is_sent_once_more():
    api = FakeDeviceApi(10, lost_unapplied={2})
    dev.send_device_action(api, quarantine_plan(api), batch_size=4)
    bodies = [body["device_id"] for name, body in api.calls if name == "devices.actions"]
    assert bodies == [[1, 2, 3, 4], [5, 6, 7, 8], [5, 6, 7, 8], [9, 10]]
    assert all(device["quarantined"] for device in api.fleet)


def test_a_batch_lost_twice_reports_exact_done_not_done_and_unconfirmed():
    api = FakeDeviceApi(10, lost_unapplied={2, 3})
    with pytest.raises(dev.BatchFailure) as info:
        dev.send_device_action(api, quarantine_plan(api), batch_size=4)
    assert info.value.done_ids == [1, 2, 3, 4]
    assert info.value.unconfirmed_ids == [5, 6, 7, 8] and info.value.failed_ids == [9, 10]
    assert "may have been applied" in str(info.value)


def test_a_timed_out_batch_is_read_back_after_a_pause_and_never_resent():
    api = FakeDeviceApi(10, timed_out={1})
    with pytest.raises(dev.BatchFailure) as info:
        dev.send_device_action(api, quarantine_plan(api), batch_size=4)
    assert [name for name, unused in api.calls].count("devices.actions") == 1 and api.pauses == [1.0]
    assert info.value.done_ids == [] and info.value.unconfirmed_ids == [1, 2, 3, 4]
    assert info.value.failed_ids == [5, 6, 7, 8, 9, 10]


def test_a_background_scan_whose_answer_was_lost_is_unconfirmed_and_never_sent_again():
    api = FakeDeviceApi(10, lost_unapplied={2})
    plan = dev.plan_device_actions(api.fleet, send_background_scan="start")[0]
    with pytest.raises(dev.BatchFailure) as info:
        dev.send_device_action(api, plan, batch_size=4)
    bodies = [body["device_id"] for name, body in api.calls if name == "devices.actions"]
    # no read can show a scan, so nothing is read back and the lost batch is not resent
    assert bodies == [[1, 2, 3, 4], [5, 6, 7, 8]] and "devices.search" not in names(api)
    assert info.value.done_ids == [1, 2, 3, 4] and info.value.unconfirmed_ids == [5, 6, 7, 8]
    assert info.value.failed_ids == [9, 10]
    assert "reports no BACKGROUND_SCAN state to read back" in str(info.value)
