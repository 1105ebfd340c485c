# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The carbonblack.cloud.cbc_devices inventory plugin in real ``ansible-inventory`` runs against the simulator:
paging, the cache, constructed groups and variables, strict, duplicate names, profile and environment
authentication, one-line errors and no secret in ``-vvv`` output."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import yaml

from playbook_runner import FULL_TOKEN, ORG, api_key_connection, plain, run_environment, write_credentials

FQCN = "carbonblack.cloud.cbc_devices"
SECRETS = ("FULLSECRETKEY00000000000", "sim-oauth-secret", "sim-csp-api-token")
ANSIBLE_INVENTORY = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")


class InventoryRun:
    def __init__(self, process):
        self.rc = process.returncode
        self.stdout = process.stdout
        self.stderr = process.stderr
        self.output = process.stdout + process.stderr

    @property
    def data(self):
        assert self.rc == 0, self.output[-3000:]
        return plain(json.loads(self.stdout))

    @property
    def hostvars(self):
        return self.data["_meta"]["hostvars"]

    def group(self, name):
        return sorted(self.data.get(name, {}).get("hosts", []))

    def warnings(self, text):
        return [line for line in self.stderr.splitlines() if line.startswith("[WARNING]") and text in line]

    def assert_no_secret(self, *secrets):
        for secret in secrets or SECRETS:
            assert secret not in self.output, "a secret appeared in the ansible-inventory output"


def run_inventory(work_dir, config, args=("--list",), env=None, name="test.cbc_devices.yml"):
    """Write ``config`` (plugin added) to ``work_dir/name`` and run ``ansible-inventory -i`` on it."""
    work_dir = str(work_dir)
    os.makedirs(work_dir, exist_ok=True)
    path = os.path.join(work_dir, name)
    with open(path, "w") as handle:
        yaml.safe_dump(dict({"plugin": FQCN}, **config), handle, sort_keys=False)
    # A source that fails to parse fails the command (as AWX inventory updates do), instead of an empty inventory.
    run_env = run_environment(work_dir, ANSIBLE_INVENTORY_UNPARSED_FAILED="1")
    run_env.update(env or {})
    process = subprocess.run([ANSIBLE_INVENTORY, "-i", path] + list(args), cwd=work_dir, env=run_env,
                             capture_output=True, text=True, timeout=600, check=False)
    return InventoryRun(process)


def seeded_devices(sim):
    return list(sim.devices(sim.device_ids()).values())


def test_twenty_thousand_devices_in_three_requests_then_from_the_cache(simulator_factory, tmp_path):
    sim = simulator_factory(devices=20000)
    config = dict(api_key_connection(sim), all_devices=True,
                  keyed_groups=[{"key": "cbc_policy_name", "prefix": "policy"}, {"key": "cbc_os", "prefix": "os"}],
                  cache=True, cache_plugin="ansible.builtin.jsonfile", cache_connection=str(tmp_path / "cache"))
    mark = sim.mark()
    cold = run_inventory(tmp_path, config)
    data = cold.data
    sent = sim.requests(since=mark)
    assert [entry["api"] for entry in sent] == ["devices.search", "devices.scroll", "devices.scroll"]
    assert not any(entry["write"] for entry in sent)
    assert len(data["_meta"]["hostvars"]) == 20000
    for group in ("policy_Standard", "policy_Advanced", "policy_Monitored", "os_LINUX", "os_WINDOWS", "os_MAC"):
        assert group in data["all"]["children"], group
    assert len(cold.group("os_LINUX")) == 10000
    assert sum(len(cold.group(group)) for group in ("os_LINUX", "os_WINDOWS", "os_MAC")) == 20000
    assert cold.hostvars["host-00001"]["cbc_os"] == "LINUX"
    # Device values are data, never templates: --list marks them unsafe.
    assert json.loads(cold.stdout)["_meta"]["hostvars"]["host-00001"]["cbc_os"] == {"__ansible_unsafe": "LINUX"}

    # The cache holds trimmed devices, never the settings.
    cached = ""
    for root, unused_dirs, files in os.walk(str(tmp_path / "cache")):
        for name in files:
            with open(os.path.join(root, name)) as handle:
                cached += handle.read()
    assert cached and FULL_TOKEN not in cached and "mac_address" not in cached

    mark = sim.mark()
    warm = run_inventory(tmp_path, config)
    assert sim.requests(since=mark) == []
    assert warm.data == data
    # --flush-cache reads the API again (and --graph shows the groups).
    graph = run_inventory(tmp_path, config, args=["--graph", "--flush-cache", "os_MAC"])
    assert graph.rc == 0 and "@os_MAC:" in graph.stdout and "|--host-" in graph.stdout
    assert len(sim.requests(since=mark)) == 3


def test_groups_compose_and_strict_on_the_prefixed_variables(simulator, tmp_path):
    devices = seeded_devices(simulator)
    config = dict(api_key_connection(simulator), criteria={"os": ["LINUX", "WINDOWS"]},
                  exclusions={"status": ["DEREGISTERED"]},
                  keyed_groups=[{"key": "cbc_policy_name", "prefix": "policy"},
                                {"key": "cbc_os | lower", "prefix": "os"}],
                  groups={"quarantined": "cbc_quarantined", "windows_standard":
                          "cbc_os == 'WINDOWS' and cbc_policy_name == 'Standard'"},
                  compose={"ansible_host": "cbc_last_external_ip_address", "ansible_user": "'admin'",
                           "label": "cbc_name ~ '/' ~ cbc_policy_name"})
    mark = simulator.mark()
    run = run_inventory(tmp_path, config)
    assert len(simulator.requests(since=mark)) == 1
    wanted = [d for d in devices if d["os"] in ("LINUX", "WINDOWS") and d["status"] != "DEREGISTERED"]
    assert sorted(run.hostvars) == sorted(d["name"] for d in wanted)
    by_name = dict((d["name"], d) for d in wanted)
    assert run.group("quarantined") == sorted(d["name"] for d in wanted if d["quarantined"])
    assert run.group("quarantined")
    assert run.group("windows_standard") == sorted(d["name"] for d in wanted
                                                   if d["os"] == "WINDOWS" and d["policy_name"] == "Standard")
    assert run.group("os_linux") == sorted(d["name"] for d in wanted if d["os"] == "LINUX")
    for policy in set(d["policy_name"] for d in wanted):
        assert run.group("policy_" + policy) == sorted(d["name"] for d in wanted if d["policy_name"] == policy)
    host, variables = sorted(run.hostvars.items())[0]
    assert variables["ansible_host"] == by_name[host]["last_external_ip_address"]
    assert variables["ansible_user"] == "admin"
    assert variables["label"] == "%s/%s" % (host, by_name[host]["policy_name"])
    assert variables["cbc_id"] == by_name[host]["id"] and "cbc_mac_address" not in variables
    graph = run_inventory(tmp_path, config, args=["--graph"])
    assert graph.rc == 0 and "@quarantined:" in graph.stdout and "@windows_standard:" in graph.stdout

    # strict: an expression that fails is an error of the whole source (one line, with the host), else skipped.
    lenient = run_inventory(tmp_path, dict(config, compose={"broken": "cbc_nope.attr"}))
    assert not any("broken" in variables for variables in lenient.hostvars.values())
    strict = run_inventory(tmp_path, dict(config, compose={"broken": "cbc_nope.attr"}, strict=True))
    assert strict.rc != 0 and "Could not set broken for host" in strict.stderr


def test_duplicate_host_names_most_recently_seen_keeps_the_name(simulator, tmp_path):
    # The simulator has no way to give two devices one name, so a hostnames template makes the duplicates: every
    # device of one policy gets the policy's name. The rule is the same for names from the API.
    devices = [d for d in seeded_devices(simulator) if d["os"] == "MAC"]
    config = dict(api_key_connection(simulator), criteria={"os": ["MAC"]},
                  hostnames=["{{ cbc_policy_name | lower }}", "id"])
    run = run_inventory(tmp_path, config)
    policies = sorted(set(d["policy_name"] for d in devices))
    for policy in policies:
        members = [d for d in devices if d["policy_name"] == policy]
        keeper = max(members, key=lambda d: (d["last_contact_time"], d["id"]))
        assert run.hostvars[policy.lower()]["cbc_id"] == keeper["id"]
        for other in members:
            if other is not keeper:
                assert run.hostvars["%s_%d" % (policy.lower(), other["id"])]["cbc_id"] == other["id"]
    assert len(run.hostvars) == len(devices)
    shared = [p for p in policies if sum(1 for d in devices if d["policy_name"] == p) > 1]
    lines = run.warnings("are shared by")
    assert len(lines) == 1
    assert "%d host name(s) are shared by %d devices" % (
        len(shared), sum(1 for d in devices if d["policy_name"] in shared)) in lines[0]


def test_profile_and_environment_authentication(simulator, tmp_path):
    home = tmp_path / "home"
    cred = write_credentials(home / ".carbonblack" / "credentials.cbc", (
        "[sim]\nurl = %s\norg_key = %s\ntoken = %s\nssl_cert_file = %s\n"
        "[oauth]\nurl = %s\norg_key = %s\ncsp_oauth_app_id = sim-oauth-app\ncsp_oauth_app_secret = sim-oauth-secret\n"
        "csp_url_override = %s\nssl_cert_file = %s\n"
    ) % (simulator.url, ORG, FULL_TOKEN, simulator.ca_file, simulator.url, ORG, simulator.url, simulator.ca_file))
    selection = {"criteria": {"os": ["MAC"]}}
    expected = sorted(d["name"] for d in seeded_devices(simulator) if d["os"] == "MAC")

    mark = simulator.mark()
    by_profile = run_inventory(tmp_path, dict(selection, profile="sim"))
    assert sorted(by_profile.hostvars) == expected
    assert [entry["auth"] for entry in simulator.requests(since=mark)] == ["api_key:FULLACCESS"]

    # An explicit credential file, and the file's options winning over the profile (org_key of another org).
    mark = simulator.mark()
    oauth = run_inventory(tmp_path, dict(selection, profile="oauth", credential_file=[cred]))
    assert sorted(oauth.hostvars) == expected
    assert [entry["api"] for entry in simulator.requests(since=mark)] == ["csp.oauth_token", "devices.search"]
    other_org = run_inventory(tmp_path, dict(selection, profile="sim", org_key="WXYZ9876"))
    assert other_org.rc != 0 and "HTTP 40" in other_org.stderr

    # Nothing in the file: the CBC_* environment (what the AWX/AAP credential type injects), empty ones unset.
    env = {"CBC_URL": simulator.url, "CBC_ORG_KEY": ORG, "CBC_TOKEN": FULL_TOKEN, "CBC_SSL_CERT_FILE": simulator.ca_file,
           "CBC_PROXY": "", "CBC_CSP_API_TOKEN": ""}
    by_env = run_inventory(tmp_path / "env", selection, env=dict(env, HOME=str(tmp_path / "empty-home")))
    assert sorted(by_env.hostvars) == expected

    missing = run_inventory(tmp_path, dict(selection, profile="nope"))
    assert missing.rc != 0 and "nope" in missing.stderr
    for run in (by_profile, oauth, other_org, by_env, missing):
        run.assert_no_secret()


def test_errors_are_one_line_and_no_secret_appears_with_vvv(simulator, tmp_path):
    connection = api_key_connection(simulator)
    mark = simulator.mark()
    ok = run_inventory(tmp_path, dict(connection, criteria={"os": ["MAC"]}), args=["--list", "-vvv"])
    assert ok.rc == 0 and "3 request" not in ok.stderr
    bad_field = run_inventory(tmp_path, dict(connection, all_devices=True, fields=["name", "nmae"]), args=["--list", "-vvv"])
    empty = run_inventory(tmp_path, dict(connection, criteria={"os": []}), args=["--list", "-vvv"])
    unselected = run_inventory(tmp_path, connection, args=["--list", "-vvv"])
    assert len(simulator.requests(since=mark)) == 1
    wrong_key = run_inventory(tmp_path, dict(connection, all_devices=True, token="WRONGSECRET0000000000/FULLACCESS"),
                              args=["--list", "-vvv"])
    for run, text in ((bad_field, "fields has unknown device field(s) nmae. Fix: "),
                      (empty, "criteria.os is an empty list, which the API reads as no restriction (every device). Fix: "),
                      (unselected, "no devices are selected (criteria, query and all_devices are unset)"),
                      (wrong_key, "returned HTTP 401")):
        assert run.rc != 0
        lines = [line for line in run.stderr.splitlines() if text in line]
        assert lines, run.stderr[-2000:]
        assert "Fix: " in lines[0]
    for run in (ok, bad_field, empty, unselected, wrong_key):
        run.assert_no_secret("FULLSECRETKEY00000000000", "WRONGSECRET0000000000")


def test_the_guide_examples_select_what_they_say(simulator, tmp_path):
    devices = seeded_devices(simulator)
    connection = api_key_connection(simulator)
    # Devices not seen for 7 days: a last_contact_time window that ends 7 days ago.
    stale = run_inventory(tmp_path, dict(connection, criteria={"last_contact_time": {
        "start": "2000-01-01T00:00:00.000Z",
        "end": "{{ '%Y-%m-%dT%H:%M:%S.000Z' | strftime(second=(now().timestamp() - 7 * 86400) | int, utc=true) }}"}}))
    limit = datetime.now(timezone.utc) - timedelta(days=7)

    def seen(device):
        return datetime.strptime(device["last_contact_time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    expected = sorted(d["name"] for d in devices if seen(d) < limit - timedelta(seconds=60))
    assert set(expected) <= set(stale.hostvars)
    assert all(seen(d) < limit + timedelta(seconds=60) for d in devices if d["name"] in stale.hostvars)
    assert stale.hostvars and len(stale.hostvars) < len(devices)
    # Sensors older than 2.15 on Linux, by query.
    old = run_inventory(tmp_path, dict(connection, query="os:LINUX AND (sensor_version:2.13* OR sensor_version:2.14*)",
                                       hostnames=["{{ cbc_name | upper }}", "id"]))
    assert sorted(old.hostvars) == sorted(d["name"].upper() for d in devices if d["os"] == "LINUX"
                                          and d["sensor_version"].startswith(("2.13", "2.14")))
