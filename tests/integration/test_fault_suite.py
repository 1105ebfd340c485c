# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault suite: every kind of fault at every request position of each module's main path.

Each case resets the simulator, injects one fault at request N of the task, runs the module in-process, then
runs it again without faults. From the simulator's state and request log it asserts: the task converged in the
faulted run itself (same final state and ``changed`` as a fault-free run), no write was applied twice (no
duplicate object, no device acted on twice), the re-run sends no write, and the faulted run took bounded time.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

import pytest

from ansible_collections.carbonblack.cloud.plugins.module_utils import client as client_module

from inprocess import SimulatorState, api_key_connection, applied_writes, isolate_environment, run_module

# Every CBC API path the modules use (not the simulator's control API).
API_PATHS = r"^/(appservices|policyservice|data_forwarder|api/alerts|jobs)/"
# Slow answers: the module's timeout (1 s, the smallest the option takes) is scaled down to SHORT_TIMEOUT in
# this process, and the server answers after SLOW_MS; the pause before a read-back is SETTLE seconds.
# A write slowed by SLOW_MS is applied 0.4 s before the read-back that follows its timeout (0.3 + 0.55 - 0.45).
SHORT_TIMEOUT = 0.3
SLOW_MS = 450
SETTLE = 0.55
FAULTS = {
    "429_retry_after": {"status": 429, "retry_after": 1},
    "429": {"status": 429},
    "500": {"status": 500},
    "502": {"status": 502},
    "503": {"status": 503},
    "504": {"status": 504},
    "drop": {"drop": True},
    "lost_answer": {"drop": True, "apply": True},
    "503_after_apply": {"status": 503, "apply": True},
    "slower_than_timeout": {"latency_ms": SLOW_MS},
    "answer_slower_than_timeout": {"latency_ms": SLOW_MS, "apply": True},
}
SLOW_FAULTS = ("slower_than_timeout", "answer_slower_than_timeout")
MAX_SECONDS = 15


def no_setup(sim):
    return None


def add_forwarder(sim):
    sim.add_forwarder(name="fw-existing", type="alert", enabled=True, destination="aws_s3", s3_bucket_name="acme",
                      s3_prefix="", version_constraint="1.0.0")


def add_alerts(sim):
    # Jobs complete at once, so the job is read once and the run's request count is fixed.
    sim.job_settings(job_delay=0)
    sim.clear_alerts()
    sim.add_alerts([{"threat_id": "T-FAULT", "severity": 7}] * 3 + [{"threat_id": "T-KEEP", "severity": 2}])


def add_override(sim):
    sim.add_reputation_override(override_list="BLACK_LIST", override_type="SHA256", sha256_hash="c" * 64,
                                description="stale")


SCENARIOS = {
    "alert_close": ("cbc_alert", {"criteria": {"threat_id": ["T-FAULT"]}, "status": "CLOSED",
                                  "determination": "TRUE_POSITIVE", "note": "fault suite"}, add_alerts),
    "alert_info": ("cbc_alert_info", {"minimum_severity": 5}, add_alerts),
    "reputation_ban": ("cbc_reputation_override", {"override_list": "BLACK_LIST", "override_type": "SHA256",
                                                   "purge": True, "overrides": [{"sha256_hash": "a" * 64},
                                                                                {"sha256_hash": "b" * 64}]},
                       add_override),
    "reputation_info": ("cbc_reputation_override_info", {"override_list": "BLACK_LIST"}, add_override),
    "device_quarantine": ("cbc_device", {"criteria": {"os": ["LINUX"]}, "quarantined": True, "batch_size": 8},
                          no_setup),
    "policies": ("cbc_policy", {"policies": [
        {"name": "Fault Test", "priority_level": "HIGH", "description": "created under faults"},
        {"name": "Advanced", "priority_level": "LOW"},
        {"name": "Monitored", "state": "absent", "force": True},
    ]}, no_setup),
    "forwarder_create": ("cbc_forwarder", {"name": "fw-new", "type": "alert", "s3_bucket_name": "acme-data",
                                           "s3_prefix": "alerts"}, no_setup),
    "forwarder_update": ("cbc_forwarder", {"name": "fw-existing", "enabled": False}, add_forwarder),
    "forwarder_delete": ("cbc_forwarder", {"name": "fw-existing", "state": "absent"}, add_forwarder),
    "device_info": ("cbc_device_info", {"criteria": {"os": ["LINUX"]}}, no_setup),
    "policy_info": ("cbc_policy_info", {"name": ["Standard"]}, no_setup),
    "forwarder_info": ("cbc_forwarder_info", {}, add_forwarder),
    "api_key_check": ("cbc_api_key_check", {"apis": ["devices"], "required": ["policies"]}, no_setup),
}


def snapshot(state):
    """The state a task can change: devices, policies (with their settings), forwarders, alerts' workflow,
    reputation overrides."""
    devices = sorted((d["id"], d["quarantined"], d["policy_id"], d["status"]) for d in state.devices())
    policies = sorted((p["name"], p["priority_level"], p.get("description")) for p in state.policies())
    forwarders = sorted((f["name"], f.get("enabled"), f.get("type"), f.get("s3_bucket_name")) for f in state.forwarders())
    alerts = sorted((a["threat_id"], a["workflow"]["status"], (a.get("determination") or {}).get("value"))
                    for a in state.sim.alerts())
    overrides = sorted((o["override_list"], o["override_type"], o.get("sha256_hash")) for o in
                       state.sim.reputation_overrides())
    return {"devices": devices, "policies": policies, "forwarders": forwarders, "alerts": alerts,
            "reputation_overrides": overrides}


@pytest.fixture(autouse=True)
def quick_waits(monkeypatch, tmp_path):
    # Backoff waits are the client's, not the point here; Retry-After waits stay real.
    monkeypatch.setattr(client_module, "backoff", lambda attempt: 0.01)
    original_init = client_module.CbcClient.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        if self.timeout == 1:
            self.timeout = SHORT_TIMEOUT

    monkeypatch.setattr(client_module.CbcClient, "__init__", init)
    monkeypatch.setattr(client_module.CbcClient, "settle_pause", lambda self: SETTLE)
    isolate_environment(monkeypatch, tmp_path)


def fault_run_entries(sim, mark):
    """The log of the faulted run, once the faulted request's own line is in (a slow one logs late)."""
    deadline = time.monotonic() + SLOW_MS / 1000.0 + 3
    while True:
        entries = sim.requests(since=mark)
        if any(entry["fault"] == "suite" for entry in entries):
            return entries
        assert time.monotonic() < deadline, "the fault never fired"
        time.sleep(0.05)


_BASELINES = {}


def baseline(sim, scenario):
    """The fault-free run of a scenario: its requests, result and final state (cached)."""
    if scenario not in _BASELINES:
        name, args, setup = SCENARIOS[scenario]
        sim.reset()
        setup(sim)
        mark = sim.mark()
        run = run_module(name, dict(args, **api_key_connection(sim)))
        assert not run.failed, run.result
        entries = sim.requests(since=mark)
        _BASELINES[scenario] = {"entries": entries, "changed": run["changed"], "final": snapshot(SimulatorState(sim))}
    return _BASELINES[scenario]


# Requests of each scenario's fault-free run; test_positions_cover_every_request checks them.
POSITIONS = {"device_quarantine": 4, "policies": 5, "forwarder_create": 2, "forwarder_update": 2,
             "forwarder_delete": 2, "device_info": 1, "policy_info": 2, "forwarder_info": 1, "api_key_check": 2,
             "alert_close": 4, "alert_info": 1, "reputation_ban": 4, "reputation_info": 1}


def cases():
    for scenario in sorted(POSITIONS):
        for position in range(POSITIONS[scenario]):
            for fault in FAULTS:
                yield pytest.param(scenario, position, fault, id="%s-%d-%s" % (scenario, position, fault))


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_positions_cover_every_request(sim, scenario):
    assert len(baseline(sim, scenario)["entries"]) == POSITIONS[scenario]


@pytest.mark.parametrize("scenario, position, fault", list(cases()))
def test_one_fault_at_one_position_converges_without_duplicates(sim, scenario, position, fault, monkeypatch):
    name, args, setup = SCENARIOS[scenario]
    expected = baseline(sim, scenario)
    is_write = expected["entries"][position]["write"]
    if fault in SLOW_FAULTS + ("429_retry_after",) and not is_write and position > 0:
        pytest.skip("faults that cost real seconds are injected into reads at position 0 only")
    waits = []
    if fault == "429_retry_after":
        # The client must ask for the whole Retry-After; the suite sleeps a tenth of it.
        def recorded_sleep(unused_client, seconds):
            waits.append(seconds)
            time.sleep(seconds / 10.0)
        monkeypatch.setattr(client_module.CbcClient, "_sleep", recorded_sleep)
    sim.reset()
    setup(sim)
    sim.add_fault(path=API_PATHS, after=position, count=1, name="suite", **FAULTS[fault])
    connection = api_key_connection(sim, timeout=1 if fault in SLOW_FAULTS else 60)
    mark = sim.mark()
    run = run_module(name, dict(args, **connection))
    entries = fault_run_entries(sim, mark)

    # converged in the faulted run itself
    assert not run.failed, run.result["msg"]
    assert run["changed"] == expected["changed"]
    assert snapshot(SimulatorState(sim)) == expected["final"]
    assert run.seconds < MAX_SECONDS
    if fault == "429_retry_after":
        assert max(waits) >= FAULTS[fault]["retry_after"], waits
    # never applied twice: the same objects were created, and no device was acted on twice
    writes = applied_writes(entries)
    assert sorted(e["api"] for e in writes) == sorted(e["api"] for e in applied_writes(expected["entries"]))
    acted = [device_id for e in writes if e["api"] == "devices.actions" for device_id in e["body"]["device_id"]]
    assert len(acted) == len(set(acted))
    if fault in ("lost_answer", "503_after_apply", "answer_slower_than_timeout") and is_write and \
            expected["entries"][position]["method"] == "POST":
        assert any("showed it was applied" in text for text in run.get("reconciled", []))

    # the re-run finds nothing to do
    mark = sim.mark()
    rerun = run_module(name, dict(args, **api_key_connection(sim)))
    assert not rerun.failed and rerun["changed"] is False
    assert applied_writes(sim.requests(since=mark)) == []


def test_a_lost_create_that_cannot_be_read_back_says_it_may_have_been_applied(sim):
    sim.add_fault(path="/configs$", method="POST", drop=True, apply=True, count=1)
    sim.add_fault(path="/configs$", method="GET", status=500, after=1)
    args = dict(SCENARIOS["forwarder_create"][1], **api_key_connection(sim))
    run = run_module("cbc_forwarder", args)
    assert run.failed and run["write_unconfirmed"] is True and run["changed"] is True
    assert "may have been applied" in run["msg"] and "re-run the task; that is safe" in run["msg"]
    assert "could not connect" not in run["msg"] and "unreachable" not in run.result
    sim.clear_faults()
    rerun = run_module("cbc_forwarder", args)
    assert rerun["changed"] is False
    assert [f["name"] for f in sim.forwarders()] == ["fw-new"]


def test_a_create_that_timed_out_is_never_sent_again_and_a_rerun_finds_it(sim):
    # The server applies the create 2 s after the module gave up (timeout 0.3 s, read back after 0.7 s).
    sim.add_fault(path="/policies$", method="POST", latency_ms=2000, count=1)
    args = dict({"name": "Late Policy", "priority_level": "HIGH"}, **api_key_connection(sim, timeout=1))
    mark = sim.mark()
    run = run_module("cbc_policy", args)
    assert run.failed and run["write_unconfirmed"] is True
    assert "no answer came within the timeout" in run["msg"] and "may have been applied" in run["msg"]
    time.sleep(2.5)
    creates = [e for e in sim.requests(since=mark) if e["api"] == "policies.create"]
    assert len(creates) == 1
    rerun = run_module("cbc_policy", args)
    assert not rerun.failed and rerun["changed"] is False
    assert [p["name"] for p in SimulatorState(sim).policies()].count("Late Policy") == 1


def test_device_batches_report_exact_ids_when_a_lost_answer_cannot_be_confirmed(sim):
    linux = sorted(d["id"] for d in SimulatorState(sim).devices()
                   if d["os"] == "LINUX" and d["status"] not in ("DEREGISTERED", "UNINSTALLED") and not d["quarantined"])
    # batch 1 answered, batch 2 applied but its answer lost, and the search that would confirm it fails
    sim.add_fault(path="/device_actions$", drop=True, apply=True, after=1, count=1)
    sim.add_fault(path="/devices/_search$", status=500, after=1)
    run = run_module("cbc_device", dict(SCENARIOS["device_quarantine"][1], **api_key_connection(sim)))
    assert run.failed and run["changed"] is True
    assert run["done_device_ids"] == linux[:8]
    assert run["unconfirmed_device_ids"] == linux[8:16] and run["not_done_device_ids"] == linux[16:]
    state = dict((d["id"], d["quarantined"]) for d in SimulatorState(sim).devices())
    assert all(state[i] for i in linux[:16]) and not any(state[i] for i in linux[16:])
    sim.clear_faults()
    rerun = run_module("cbc_device", dict(SCENARIOS["device_quarantine"][1], **api_key_connection(sim)))
    assert rerun["actions"][0]["count"] == len(linux) - 16


def test_a_policy_list_stopped_by_an_unconfirmed_create_says_what_was_done(sim):
    sim.add_fault(path="/policies$", method="POST", drop=True, apply=True, after=1, count=1)
    sim.add_fault(path="/policies/summary$", status=500, after=1)
    args = dict({"policies": [{"name": "First"}, {"name": "Second"}]}, **api_key_connection(sim))
    run = run_module("cbc_policy", args)
    assert run.failed and run["write_unconfirmed"] is True and run["changed"] is True
    assert [(entry["name"], entry["action"]) for entry in run["results"]] == [("First", "created")]
    assert "the creation of policy 'Second' may have been applied" in run["msg"]
    sim.clear_faults()
    rerun = run_module("cbc_policy", args)
    assert rerun["changed"] is False
    names = [p["name"] for p in SimulatorState(sim).policies()]
    assert names.count("First") == 1 and names.count("Second") == 1
