# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Event-Driven Ansible source carbonblack.cloud.cbc_alerts (extensions/eda/plugins/event_source/cbc_alerts.py):
its ``main(queue, args)`` driven with an asyncio.Queue against the simulator, loaded as ansible-rulebook loads it
(``runpy.run_path`` of the installed file), and the example rulebook run by ansible-rulebook when it is installed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import json
import logging
import os
import runpy
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from cbcsim.search import format_time, parse_time
from playbook_runner import FULL_TOKEN, ORG, REPO_ROOT, api_key_connection, collections_root, is_scrubbed, run_environment

SOURCE_RELATIVE = os.path.join("extensions", "eda", "plugins", "event_source", "cbc_alerts.py")
ALERT_READ = "ALERTREADSECRET000000000/ALERTREAD"
NO_PERMS = "NOPERMSSECRET00000000000/NOPERMS"
OAUTH_SECRET = "sim-oauth-secret"
LOGGER = "carbonblack.cloud.cbc_alerts"
FAST = {"interval": 0.05}


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """The source module's globals, loaded from an installed-looking path (<root>/ansible_collections/...)."""
    root = collections_root(str(tmp_path_factory.mktemp("eda-collections")))
    return runpy.run_path(os.path.join(root, "ansible_collections", "carbonblack", "cloud", SOURCE_RELATIVE))


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No CBC_*/CBAPI_* settings or proxies of the caller's; a private token cache."""
    for name in list(os.environ):
        if is_scrubbed(name):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def ago(seconds):
    return format_time(datetime.now(timezone.utc) - timedelta(seconds=seconds))


def connection(sim, token=ALERT_READ, **extra):
    return api_key_connection(sim, token=token, **extra)


def searches(sim, mark):
    return [entry for entry in sim.requests(since=mark) if entry["api"] == "alerts.search"]


class Running:
    """The source's main() as a task on the running loop, with the events it put on its queue."""

    def __init__(self, source, args):
        self.queue = asyncio.Queue()
        self.events = []
        self.task = asyncio.get_running_loop().create_task(source["main"](self.queue, args))

    def _drain(self):
        while not self.queue.empty():
            self.events.append(self.queue.get_nowait())

    async def wait_for(self, count, timeout=5.0):
        """Wait until ``count`` events in all have come; return the alerts' ids in order."""
        deadline = time.monotonic() + timeout
        while True:
            self._drain()
            if len(self.events) >= count or self.task.done():
                break
            if time.monotonic() > deadline:
                raise AssertionError("only %d of %d events came" % (len(self.events), count))
            await asyncio.sleep(0.02)
        if self.task.done() and self.task.exception() is not None:
            raise self.task.exception()
        return self.ids()

    async def polls(self, sim, count, timeout=5.0):
        """Wait until the source has searched ``count`` more times (so later events would have come)."""
        mark = sim.mark()
        deadline = time.monotonic() + timeout
        while len(searches(sim, mark)) < count:
            assert not self.task.done(), self.task
            assert time.monotonic() < deadline, "the source stopped polling"
            await asyncio.sleep(0.02)
        self._drain()

    def ids(self):
        return [event["cbc_alert"]["id"] for event in self.events]

    async def stop(self):
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass
        self._drain()


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 30))


def test_each_alert_once_across_polls_with_shared_timestamps_and_alerts_added_between_polls(source, sim):
    shared = ago(120)
    old = sim.add_alerts([{"backend_timestamp": ago(7200)}])
    first = sim.add_alerts([{"backend_timestamp": ago(300)}] + [{"backend_timestamp": shared}] * 3)

    async def scenario():
        running = Running(source, dict(connection(sim), start_time="-1h", **FAST))
        got = await running.wait_for(4)
        assert sorted(got) == sorted(alert["id"] for alert in first)
        await running.polls(sim, 3)
        assert len(running.events) == 4
        # Between polls: alerts at the cursor's own timestamp (the inclusive start bound), and new ones.
        late = sim.add_alerts([{"backend_timestamp": shared}] * 2 + [{}] * 2)
        await running.wait_for(8)
        await running.polls(sim, 3)
        await running.stop()
        return running, late

    running, late = run(scenario())
    ids = running.ids()
    assert len(ids) == len(set(ids)) == 8
    assert set(ids[4:]) == set(alert["id"] for alert in late)
    assert old[0]["id"] not in ids
    stamps = [parse_time(event["cbc_alert"]["backend_timestamp"]) for event in running.events]
    assert stamps[:4] == sorted(stamps[:4])
    event = running.events[0]
    assert set(event) == {"cbc_alert", "cbc_source"}
    assert event["cbc_source"] == {"org_key": ORG, "url": sim.url, "source": "carbonblack.cloud.cbc_alerts"}


def test_more_alerts_than_a_page_including_ties_across_the_page_boundary(source, sim):
    tie = ago(500)
    added = sim.add_alerts([{"backend_timestamp": ago(900 - index)} for index in range(8)]
                           + [{"backend_timestamp": tie}] * 9 + [{"backend_timestamp": ago(100 - index)} for index in range(6)])
    mark = sim.mark()

    async def scenario():
        running = Running(source, dict(connection(sim), start_time="-1h", rows=5, **FAST))
        await running.wait_for(len(added))
        await running.polls(sim, 2)
        await running.stop()
        return running

    running = run(scenario())
    ids = running.ids()
    assert len(ids) == len(set(ids)) == 23 and set(ids) == set(alert["id"] for alert in added)
    stamps = [parse_time(event["cbc_alert"]["backend_timestamp"]) for event in running.events]
    assert stamps == sorted(stamps)
    bodies = [entry["body"] for entry in searches(sim, mark)]
    assert all(body["rows"] == 5 and body["sort"] == [{"field": "backend_timestamp", "order": "ASC"}] for body in bodies)
    assert all(set(body["time_range"]) == {"start", "end"} for body in bodies)
    # Nine alerts share one timestamp: more than a page, read with start/rows at that timestamp.
    assert any(body["start"] > 1 for body in bodies)
    assert all(body["start"] + body["rows"] - 1 <= 10000 for body in bodies)


def test_restart_with_a_state_file_resumes_without_duplicates_or_gaps(source, sim, tmp_path):
    state_file = tmp_path / "state" / "cbc_alerts.json"
    state_file.parent.mkdir()
    first = sim.add_alerts([{"backend_timestamp": ago(60 - index)} for index in range(4)])
    args = dict(connection(sim), start_time="-10m", state_file=str(state_file), **FAST)

    async def first_run():
        running = Running(source, args)
        await running.wait_for(4)
        await running.polls(sim, 2)
        await running.stop()
        return running.ids()

    assert sorted(run(first_run())) == sorted(alert["id"] for alert in first)
    state = json.loads(state_file.read_text())
    newest = max(first, key=lambda alert: alert["backend_timestamp"])
    assert state["org_key"] == ORG and state["source"] == "carbonblack.cloud.cbc_alerts" and state["format"] == 1
    assert state["cursor"] == {"backend_timestamp": newest["backend_timestamp"], "ids": [newest["id"]]}
    assert os.listdir(str(state_file.parent)) == ["cbc_alerts.json"]

    # While it is stopped: one alert at the cursor's timestamp, one a moment older than everything (never
    # emitted: it would be a late arrival), two new ones.
    missed = sim.add_alerts([{"backend_timestamp": newest["backend_timestamp"]}, {}, {}])
    sim.add_alerts([{"backend_timestamp": ago(3600)}])

    async def second_run():
        # start_time is ignored: the state file holds a position.
        running = Running(source, dict(args, start_time="now"))
        await running.wait_for(3)
        await running.polls(sim, 3)
        await running.stop()
        return running.ids()

    resumed = run(second_run())
    assert sorted(resumed) == sorted(alert["id"] for alert in missed)


def test_start_time_now_skips_existing_alerts_and_is_kept_in_the_state_file(source, sim, tmp_path):
    sim.add_alerts([{"backend_timestamp": ago(1)}, {"backend_timestamp": ago(30)}])
    state_file = tmp_path / "cbc_alerts.json"

    async def scenario():
        # ansible-rulebook adds eda_feedback_queue to the arguments itself.
        running = Running(source, dict(connection(sim), state_file=str(state_file), eda_feedback_queue=asyncio.Queue(),
                                       **FAST))
        await running.polls(sim, 3)
        assert running.events == []
        saved = json.loads(state_file.read_text())["cursor"]
        new = sim.add_alerts([{}])
        await running.wait_for(1)
        await running.stop()
        return saved, new, running.ids()

    saved, new, ids = run(scenario())
    assert saved["ids"] == [] and parse_time(saved["backend_timestamp"]) > parse_time(ago(5))
    assert ids == [new[0]["id"]]


def test_criteria_query_and_minimum_severity_filter(source, sim):
    when = ago(60)
    wanted = sim.add_alerts([{"backend_timestamp": when, "severity": 8, "type": "CB_ANALYTICS"},
                             {"backend_timestamp": when, "severity": 10, "type": "CB_ANALYTICS"}])
    sim.add_alerts([{"backend_timestamp": when, "severity": 6, "type": "CB_ANALYTICS"},
                    {"backend_timestamp": when, "severity": 9, "type": "WATCHLIST"},
                    {"backend_timestamp": when, "severity": 9, "type": "CB_ANALYTICS", "device_name": "skip-me"}])
    mark = sim.mark()

    async def scenario():
        running = Running(source, dict(connection(sim), start_time="-5m", minimum_severity=7,
                                       criteria={"type": ["CB_ANALYTICS"]}, exclusions={"device_name": ["skip-me"]},
                                       query="type:CB_ANALYTICS", **FAST))
        await running.wait_for(2)
        await running.polls(sim, 3)
        await running.stop()
        return running.ids()

    assert sorted(run(scenario())) == sorted(alert["id"] for alert in wanted)
    body = searches(sim, mark)[0]["body"]
    assert body["criteria"] == {"type": ["CB_ANALYTICS"], "minimum_severity": 7}
    assert body["exclusions"] == {"device_name": ["skip-me"]} and body["query"] == "type:CB_ANALYTICS"


def test_429_with_retry_after_is_honoured_and_5xx_are_retried(source, sim, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)

    async def scenario():
        # retry_max_wait 0: the client cannot wait for the Retry-After itself, so the source must.
        running = Running(source, dict(connection(sim), start_time="-5m", retry_max_wait=0, **FAST))
        await running.polls(sim, 2)
        mark = sim.mark()
        sim.add_fault(path="alerts/_search", status=429, retry_after=1, count=1)
        sim.add_fault(path="alerts/_search", status=503, count=1)
        alert = sim.add_alerts([{}])
        await running.wait_for(1, timeout=8)
        await running.stop()
        return mark, alert, running.ids()

    mark, alert, ids = run(scenario())
    assert ids == [alert[0]["id"]]
    log = searches(sim, mark)
    statuses = [entry["status"] for entry in log]
    assert statuses[:3] == [429, 503, 200], statuses
    waited = (parse_time(log[1]["ts"]) - parse_time(log[0]["ts"])).total_seconds()
    assert waited >= 0.95, waited
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert any("HTTP 429" in text and "polling again in 1.0 s" in text for text in warnings), warnings
    assert any("HTTP 503" in text for text in warnings), warnings


def test_429_within_the_retry_budget_is_retried_by_the_client(source, sim):
    async def scenario():
        running = Running(source, dict(connection(sim), start_time="-5m", **FAST))
        await running.polls(sim, 1)
        sim.add_fault(path="alerts/_search", status=429, retry_after=1, count=1)
        alert = sim.add_alerts([{}])
        await running.wait_for(1, timeout=8)
        await running.stop()
        return alert, running.ids()

    alert, ids = run(scenario())
    assert ids == [alert[0]["id"]]


def test_one_token_exchange_renewal_on_401_and_no_secret_in_the_log(source, sim, caplog):
    caplog.set_level(logging.DEBUG)
    mark = sim.mark()
    args = dict(url=sim.url, org_key=ORG, ssl_cert_file=sim.ca_file, csp_url_override=sim.url,
                csp_oauth_app_id="sim-oauth-app", csp_oauth_app_secret=OAUTH_SECRET, start_time="-5m", **FAST)

    async def scenario():
        running = Running(source, args)
        await running.polls(sim, 8)
        assert [entry["api"] for entry in sim.requests(since=mark)].count("csp.oauth_token") == 1
        sim.revoke_tokens()
        alert = sim.add_alerts([{}])
        await running.wait_for(1)
        await running.polls(sim, 3)
        await running.stop()
        return alert, running.ids()

    alert, ids = run(scenario())
    assert ids == [alert[0]["id"]]
    apis = [entry["api"] for entry in sim.requests(since=mark)]
    assert apis.count("csp.oauth_token") == 2, "one exchange, then one renewal after the 401"
    assert caplog.records and OAUTH_SECRET not in caplog.text
    assert "polling org %s" % ORG in caplog.text


def test_api_key_secret_absent_from_log_and_errors(source, sim, caplog):
    caplog.set_level(logging.DEBUG)
    secret = FULL_TOKEN.split("/", maxsplit=1)[0]

    async def scenario():
        running = Running(source, dict(connection(sim, token=FULL_TOKEN), start_time="-5m", retries=0, **FAST))
        sim.add_fault(path="alerts/_search", status=500, count=1, message="boom " + FULL_TOKEN)
        await running.polls(sim, 4)
        await running.stop()

    run(scenario())
    assert "HTTP 500" in caplog.text
    assert secret not in caplog.text and "********" in caplog.text


@pytest.mark.parametrize("args, expected", [
    ({"bogus": 1}, "unsupported option(s) bogus"),
    ({"minimum_severity": 11}, "minimum_severity must be 1 to 10"),
    ({"rows": 0}, "rows must be 1 to 10000"),
    ({"interval": 0}, "interval must be more than 0"),
    ({"start_time": "yesterday"}, "start_time 'yesterday' is neither now"),
    ({"criteria": {"backend_timestamp": {"range": "-1d"}}}, "criteria.backend_timestamp is not allowed"),
    ({"criteria": {"minimum_severity": 3}}, "criteria.minimum_severity: use the minimum_severity option"),
    ({"criteria": {"no_such_field": ["x"]}}, "criteria has unknown key(s) no_such_field"),
    ({"criteria": {"type": "WATCHLIST"}}, "criteria.type must be a list of values"),
    ({"query": "  "}, "query is blank"),
    ({"retries": 50}, "retries must be 0 to 20"),
    ({"url": "http://x.example.com"}, "does not start with https://"),
    ({"token": NO_PERMS}, "lack the RBAC permission org.alerts READ"),
    ({"token": "WRONGSECRET/ALERTREAD"}, "HTTP 401"),
])
def test_configuration_errors_stop_the_source_with_one_line(source, sim, args, expected):
    async def scenario():
        running = Running(source, dict(connection(sim), **dict(FAST, **args)))
        with pytest.raises(source["CbcAlertsSourceError"]) as raised:
            await running.wait_for(1)
        return str(raised.value)

    message = run(scenario())
    assert expected in message and "\n" not in message
    assert "WRONGSECRET" not in message


def test_state_file_of_another_org_or_not_a_state_file_stops_the_source(source, sim, tmp_path):
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": 1, "source": "carbonblack.cloud.cbc_alerts", "org_key": "OTHER123",
                                 "cursor": {"backend_timestamp": ago(10), "ids": []}}))
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")

    async def scenario(path):
        running = Running(source, dict(connection(sim), state_file=str(path), **FAST))
        with pytest.raises(source["CbcAlertsSourceError"]) as raised:
            await running.wait_for(1)
        return str(raised.value)

    assert "holds the position of org OTHER123" in run(scenario(other))
    assert "is not a carbonblack.cloud.cbc_alerts state file" in run(scenario(garbage))
    assert "cannot be written" in run(scenario(tmp_path / "missing-dir" / "state.json"))


def test_loads_without_the_collections_root_on_sys_path(tmp_path):
    """ansible-rulebook runs the file with runpy.run_path and does not put the collections root on sys.path."""
    root = collections_root(str(tmp_path / "collections"))
    path = os.path.join(root, "ansible_collections", "carbonblack", "cloud", SOURCE_RELATIVE)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    code = ("import runpy, sys, asyncio; g = runpy.run_path(sys.argv[1]); "
            "assert asyncio.iscoroutinefunction(g['main']); "
            "assert not any(m.startswith('ansible_collections') for m in sys.modules) or sys.path[0] == sys.argv[2]; "
            "print(sys.path[0])")
    done = subprocess.run([sys.executable, "-c", code, path, root], env=env, cwd=str(tmp_path), capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == root


# --- ansible-rulebook ------------------------------------------------------------------------------------------------

RULEBOOK = os.path.join(REPO_ROOT, "extensions", "eda", "rulebooks", "cbc_alert_response.yml")


def rulebook_missing():
    if not shutil.which("ansible-rulebook"):
        return "ansible-rulebook is not installed (pip install ansible-rulebook)"
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        return "ansible-rulebook needs Java 17 or later, and java is not on PATH"
    return None


def test_example_rulebook_matches_the_ansible_rulebook_schema():
    """ansible-lint 26.10 does not recognise rulebooks (its kind pattern lacks a brace), so check the schema here."""
    validators = pytest.importorskip("ansible_rulebook.validators", reason="ansible-rulebook is not installed")
    with open(RULEBOOK, encoding="utf-8") as handle:
        rulebook = yaml.safe_load(handle)
    validators.Validate.rulebook(rulebook)
    rules = dict((rule["name"], rule) for rule in rulebook[0]["rules"])
    severe = rules["Quarantine the device of a severe alert"]
    assert severe["action"]["run_playbook"]["name"] == "carbonblack.cloud.eda_quarantine_alert_device"
    assert os.path.isfile(os.path.join(REPO_ROOT, "playbooks", "eda_quarantine_alert_device.yml"))


@pytest.mark.skipif(rulebook_missing() is not None, reason=rulebook_missing() or "")
def test_example_rulebook_quarantines_the_device_of_a_severe_alert(sim, tmp_path):
    devices = sim.device_ids()[:3]
    for device_id in devices:
        assert sim.device(device_id)["quarantined"] is False
    sim.add_alerts([{"severity": 9, "device_id": devices[0]}, {"severity": 3, "device_id": devices[1]}])
    work = tmp_path / "work"
    work.mkdir()
    # The example rulebook with its connection and timing for the simulator; the rules are the example's.
    with open(RULEBOOK, encoding="utf-8") as handle:
        rulebook = yaml.safe_load(handle)
    source = rulebook[0]["sources"][0]["carbonblack.cloud.cbc_alerts"]
    source.update(connection(sim, token=FULL_TOKEN), start_time="-5m", interval=0.2,
                  state_file=str(work / "state.json"))
    rules = [rule["name"] for rule in rulebook[0]["rules"]]
    # Stop after the first quarantine: a rule that shuts the engine down once the playbook ran.
    rulebook[0]["rules"][0]["actions"] = rulebook[0]["rules"][0].get("actions") or [rulebook[0]["rules"][0].pop("action")]
    rulebook[0]["rules"][0]["actions"].append({"shutdown": {"delay": 0, "message": "test done"}})
    test_rulebook = work / "rulebook.yml"
    test_rulebook.write_text(yaml.safe_dump(rulebook, sort_keys=False))
    inventory = work / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    env = run_environment(str(work))
    env.update(CBC_URL=sim.url, CBC_ORG_KEY=ORG, CBC_TOKEN=FULL_TOKEN, CBC_SSL_CERT_FILE=sim.ca_file)
    done = subprocess.run(["ansible-rulebook", "--rulebook", str(test_rulebook), "--inventory", str(inventory),
                           "--print-events"],
                          cwd=str(work), env=env, capture_output=True, text=True, timeout=240, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert sim.device(devices[0])["quarantined"] is True, output[-4000:]
    assert sim.device(devices[1])["quarantined"] is False
    assert FULL_TOKEN.split("/", maxsplit=1)[0] not in output
    assert rules
