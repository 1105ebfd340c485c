# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The result shape of cbc_device and cbc_device_info, in-process against the simulator: the details cap, the
changed ids, the diff summary and the field selection."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from inprocess import api_key_connection, isolate_environment, run_module

NO_SENSOR = ("DEREGISTERED", "UNINSTALLED")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    isolate_environment(monkeypatch, tmp_path)


def fleet(sim):
    return [device for device in sim.devices(sim.device_ids()).values() if device]


def to_quarantine(sim, os_name="LINUX"):
    return sorted(d["id"] for d in fleet(sim) if d["os"] == os_name and d["status"] not in NO_SENSOR
                  and not d["quarantined"])


def quarantine(sim, **extra):
    return dict(api_key_connection(sim), criteria={"os": ["LINUX"]}, quarantined=True, **extra)


def test_details_are_capped_while_ids_and_counts_cover_every_device(sim):
    todo = to_quarantine(sim)
    assert len(todo) > 3
    mark = sim.mark()
    run = run_module("cbc_device", quarantine(sim, details_limit=3), check_mode=True, diff=True)
    assert sim.requests(since=mark) and not [e for e in sim.requests(since=mark) if e["write"]]
    assert run["changed"] is True and run["changed_device_ids"] == todo
    assert [d["id"] for d in run["devices"]] == todo[:3] and run["devices_not_detailed"] == len(todo) - 3
    assert run["devices"][0]["before"] == {"quarantined": False} and run["devices"][0]["after"] == {"quarantined": True}
    assert run["actions"][0]["action_type"] == "QUARANTINE" and run["actions"][0]["count"] == len(todo)
    summary = "%d more devices" % (len(todo) - 3)
    assert run["diff"]["before"][summary] == "not detailed (details_limit)"
    assert run["diff"]["after"][summary] == "QUARANTINE for %d devices" % len(todo)
    assert len(run["diff"]["after"]) == 4


def test_details_limit_zero_details_every_device_and_applying_reports_the_same(sim):
    todo = to_quarantine(sim)
    every = run_module("cbc_device", quarantine(sim, details_limit=0), check_mode=True, diff=True)
    assert [d["id"] for d in every["devices"]] == todo and every["devices_not_detailed"] == 0
    assert len(every["diff"]["after"]) == len(todo)
    applied = run_module("cbc_device", quarantine(sim, details_limit=2))
    assert applied["changed_device_ids"] == todo and [d["id"] for d in applied["devices"]] == todo[:2]
    again = run_module("cbc_device", quarantine(sim))
    assert again["changed"] is False and again["changed_device_ids"] == [] and again["devices"] == []
    assert again["devices_not_detailed"] == 0


def test_the_default_cap_is_100_devices(simulator_factory):
    big = simulator_factory(devices=400)
    todo = to_quarantine(big)
    assert len(todo) > 100
    run = run_module("cbc_device", quarantine(big), check_mode=True)
    assert len(run["devices"]) == 100 and run["devices_not_detailed"] == len(todo) - 100
    assert run["changed_device_ids"] == todo


def test_a_device_with_two_changes_is_one_entry_with_both(sim):
    device = next(d for d in fleet(sim) if d["status"] == "REGISTERED" and not d["quarantined"]
                  and d["policy_name"] != "Advanced")
    run = run_module("cbc_device", dict(api_key_connection(sim), device_ids=[device["id"]], quarantined=True,
                                        policy_name="Advanced"), check_mode=True)
    assert run["changed_device_ids"] == [device["id"]] and len(run["devices"]) == 1
    assert run["devices"][0]["after"]["quarantined"] is True
    assert run["devices"][0]["after"]["policy_name"] == "Advanced"


def test_device_info_returns_only_the_chosen_fields_with_id_first(sim):
    linux = sorted(d["id"] for d in fleet(sim) if d["os"] == "LINUX")
    run = run_module("cbc_device_info", dict(api_key_connection(sim), criteria={"os": ["LINUX"]},
                                             fields=["name", "os", "name"]))
    assert sorted(d["id"] for d in run["devices"]) == linux
    assert all(list(d) == ["id", "name", "os"] and d["os"] == "LINUX" for d in run["devices"])
    whole = run_module("cbc_device_info", dict(api_key_connection(sim), criteria={"os": ["LINUX"]}))
    assert len(whole["devices"][0]) > 20


def test_device_info_scrolls_past_10000_in_three_requests(simulator_factory):
    big = simulator_factory(devices=12000)
    mark = big.mark()
    run = run_module("cbc_device_info", dict(api_key_connection(big), limit=10500, fields=["name"]))
    assert run["num_found"] == 12000
    ids = [d["id"] for d in run["devices"]]
    assert len(ids) == 10500 and len(set(ids)) == 10500
    assert [e["api"] for e in big.requests(since=mark)] == ["devices.search", "devices.scroll", "devices.scroll"]
