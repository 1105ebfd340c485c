# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The carbonblack.cloud.cbc_devices inventory plugin against a fake client: options, host names, the duplicate
rule, host variables, paging and the cache.

The plugin is built without Ansible's plugin loader (the pytest session imports the collection as a plain package,
which the collection loader refuses): its option definitions are registered from its documentation and fragments,
as the loader would, and each test parses a real inventory file with Ansible's DataLoader, so templates in it are
trusted exactly as in an ``ansible-inventory`` run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible import constants as C
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.doc_fragments import constructed, inventory_cache

from ansible_collections.carbonblack.cloud.plugins.doc_fragments import auth
from ansible_collections.carbonblack.cloud.plugins.inventory import cbc_devices
from ansible_collections.carbonblack.cloud.plugins.module_utils.devices import MAX_ROWS
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcApiError

FQCN = "carbonblack.cloud.cbc_devices"
TOKEN = "UNITSECRETKEY0000000000/UNITAPI"
CONNECTION = {"url": "https://cbc.example.com", "org_key": "ABCD1234", "token": TOKEN}


def _register_definitions():
    options = {}
    for fragment in (auth.ModuleDocFragment, constructed.ModuleDocFragment, inventory_cache.ModuleDocFragment):
        options.update(yaml.safe_load(fragment.DOCUMENTATION)["options"])
    options.update(yaml.safe_load(cbc_devices.DOCUMENTATION)["options"])
    C.config.initialize_plugin_configuration_definitions("inventory", FQCN, options)


_register_definitions()


def device(device_id, name=None, seen="2026-12-01T10:00:00.000Z", **fields):
    base = {"id": device_id, "name": "host-%d" % device_id if name is None else name, "os": "LINUX",
            "os_version": "Ubuntu 22.04", "status": "REGISTERED", "policy_id": 7, "policy_name": "Standard",
            "sensor_version": "2.15.2.3036", "sensor_kit_type": "UBUNTU", "last_contact_time": seen,
            "last_internal_ip_address": "10.0.0.%d" % (device_id % 250), "last_external_ip_address": "203.0.113.9",
            "deployment_type": "ENDPOINT", "quarantined": False, "target_priority": "MEDIUM",
            "mac_address": "005056000001", "email": "someone@example.com"}
    base.update(fields)
    return base


class FakeClient:
    """Pages like the Devices API (1-based ``start``, ``_scroll`` with ``search_after``); records every call."""

    def __init__(self, fleet, error=None):
        self.fleet = fleet
        self.error = error
        self.calls = []
        self.requests_sent = 0
        self.closed = False

    def call(self, name, body=None, shape_results=None, **unused):
        self.calls.append((name, body))
        self.requests_sent += 1
        if self.error is not None:
            raise self.error
        if name == "devices.search":
            start = max(body.get("start", 1), 1) - 1
            page = self.fleet[start:start + body["rows"]]
            answer = {"results": page, "num_found": len(self.fleet)}
        else:
            offset = int(body.get("search_after") or 0)
            page = self.fleet[offset:offset + body["rows"]]
            more = offset + len(page) < len(self.fleet)
            answer = {"results": page, "num_found": len(self.fleet), "search_after": str(offset + len(page)) if more else ""}
        # As the real client does while decoding: each row shaped afresh.
        answer["results"] = [shape_results(dict(row)) if shape_results else dict(row) for row in answer["results"]]
        return answer

    def close(self):
        self.closed = True


class Display:
    """Records what the plugin shows."""

    def __init__(self):
        self.warnings = []
        self.messages = []

    def warning(self, message, *unused, **unused_kwargs):
        self.warnings.append(message)

    def _record(self, message, *unused, **unused_kwargs):
        self.messages.append(message)

    v = vv = vvv = vvvv = display = debug = _record


class Run:
    def __init__(self, inventory, plugin, client):
        self.inventory = inventory
        self.plugin = plugin
        self.client = client
        self.warnings = plugin.display.warnings

    @property
    def hosts(self):
        return sorted(self.inventory.hosts)

    def vars(self, host):
        return self.inventory.get_host(host).get_vars()

    def group(self, name):
        return sorted(host.name for host in self.inventory.groups[name].get_hosts())


@pytest.fixture
def inventory_file(tmp_path):
    def write(config, name="test.cbc_devices.yml"):
        path = tmp_path / name
        path.write_text(yaml.safe_dump(dict({"plugin": FQCN}, **config)))
        return str(path)
    return write


def make_plugin(client):
    plugin = cbc_devices.InventoryModule()
    plugin._load_name = FQCN
    plugin._redirected_names = [FQCN]
    plugin._original_path = cbc_devices.__file__
    plugin.ansible_aliases = [FQCN]
    plugin.ansible_name = FQCN
    plugin.display = Display()
    plugin.built = []

    def fake_client(plan):
        plugin.built.append(plan)
        return client
    plugin._client = fake_client
    return plugin


@pytest.fixture
def parse(inventory_file, monkeypatch, tmp_path):
    """``parse(config, fleet=[...])`` -> Run; ``config`` gets the connection options unless ``connection=False``."""
    for name in list(os.environ):
        tooling = ("CBC_ROOT", "CBC_VENV", "CBC_COLLECTIONS_DIR", "CBC_PYTHON", "CBC_TEST_WORKERS")
        if name.startswith(("CBC_", "CBAPI_")) and name not in tooling:
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))

    def run(config, fleet=(), connection=True, client=None, cache=True):
        client = client or FakeClient(list(fleet))
        plugin = make_plugin(client)
        path = inventory_file(dict(CONNECTION, **config) if connection else config)
        inventory = InventoryData()
        plugin.parse(inventory, DataLoader(), path, cache=cache)
        return Run(inventory, plugin, client)
    return run


def refused(parse, config, fleet=(), **kwargs):
    """The one-line error of a config that must fail before any request."""
    client = FakeClient(list(fleet))
    with pytest.raises(AnsibleParserError) as caught:
        parse(config, client=client, **kwargs)
    message = str(caught.value.message)
    assert "\n" not in message and "Fix: " in message, message
    assert client.calls == []
    assert TOKEN.split("/", maxsplit=1)[0] not in message
    return message


# -- selection -------------------------------------------------------------------------------------------------

def test_empty_selection_is_refused_before_any_request(parse):
    message = refused(parse, {})
    assert message.startswith("no devices are selected") and "all_devices: true" in message
    # Exclusions only narrow: alone they select nothing.
    assert refused(parse, {"exclusions": {"os": ["MAC"]}}).startswith("no devices are selected")


@pytest.mark.parametrize("config, expected", [
    ({"criteria": {}}, "criteria is empty"),
    ({"criteria": {"os": []}}, "criteria.os is an empty list"),
    ({"query": "   "}, "query is blank"),
    ({"criteria": {"os": ["WINDOZE"]}}, "criteria.os has unknown value(s) WINDOZE"),
    ({"criteria": {"colour": ["red"]}}, "colour"),
    ({"all_devices": True, "query": "name:web*"}, "all_devices: true cannot be combined with query"),
    ({"criteria": {"os": "{{ [] }}"}}, "criteria.os is an empty list"),
])
def test_selection_is_validated_like_the_modules(parse, config, expected):
    assert expected in refused(parse, config)


def test_selection_is_sent_as_the_modules_send_it(parse):
    run = parse({"criteria": {"os": ["WINDOWS"], "policy_name": ["Servers"]}, "exclusions": {"quarantined": [True]},
                 "query": "name:srv-*"}, fleet=[device(1)])
    assert run.client.calls == [("devices.search", {"criteria": {"os": ["WINDOWS"], "policy_name": ["Servers"]},
                                                    "exclusions": {"quarantined": [True]}, "query": "name:srv-*",
                                                    "rows": MAX_ROWS})]
    assert run.client.closed


def test_all_devices_sends_an_empty_search(parse):
    run = parse({"all_devices": True}, fleet=[device(1), device(2)])
    assert run.client.calls == [("devices.search", {"rows": MAX_ROWS})]
    assert run.hosts == ["host-1", "host-2"]


# -- host names ------------------------------------------------------------------------------------------------

def test_hostnames_preference_first_non_empty_wins(parse):
    fleet = [device(1), device(2, name=""), device(3, name=None, last_internal_ip_address=None),
             device(4, name="", last_internal_ip_address="", last_external_ip_address="")]
    fleet[2]["name"] = None
    run = parse({"all_devices": True, "hostnames": ["name", "last_internal_ip_address", "last_external_ip_address",
                                                    "id"]}, fleet=fleet)
    assert run.hosts == sorted(["host-1", "10.0.0.2", "203.0.113.9", "4"])
    assert run.warnings == []


def test_default_hostnames_are_name_then_id(parse):
    run = parse({"all_devices": True}, fleet=[device(1), device(2, name="  ")])
    assert run.hosts == ["2", "host-1"]


def test_devices_without_any_host_name_are_left_out_with_one_warning(parse):
    run = parse({"all_devices": True, "hostnames": ["name"]}, fleet=[device(1), device(2, name=""), device(3, name="")])
    assert run.hosts == ["host-1"]
    assert len(run.warnings) == 1 and "2 device(s) have no value" in run.warnings[0]


def test_hostname_template_over_the_prefixed_variables(parse):
    fleet = [device(1, name="Web-01"), device(2, name="DB-01", policy_name="Servers")]
    run = parse({"all_devices": True, "hostnames": ["{{ cbc_name | lower }}.{{ cbc_policy_name | lower }}.lan"]},
                fleet=fleet)
    assert run.hosts == ["db-01.servers.lan", "web-01.standard.lan"]


def test_the_guide_template_drops_the_domain(parse, tmp_path):
    # As written in docs/inventory.md (YAML single quotes).
    text = ("plugin: %s\nurl: https://cbc.example.com\norg_key: ABCD1234\ntoken: %s\nall_devices: true\n"
            "hostnames:\n  - '{{ cbc_name | regex_replace(\"^.*[\\\\\\\\]\", \"\") | lower }}'\n  - id\n" % (FQCN, TOKEN))
    path = tmp_path / "guide.cbc_devices.yml"
    path.write_text(text)
    plugin = make_plugin(FakeClient([device(1, name="ACME\\WEB-01"), device(2, name="db-02")]))
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), str(path))
    assert sorted(inventory.hosts) == ["db-02", "web-01"]


def test_a_failing_or_empty_template_falls_through_unless_strict(parse):
    config = {"all_devices": True, "hostnames": ["{{ cbc_nope }}", "{{ '' }}", "name"]}
    assert parse(config, fleet=[device(1)]).hosts == ["host-1"]
    with pytest.raises(AnsibleParserError, match="the hostnames template .* failed for device 1"):
        parse(dict(config, strict=True), fleet=[device(1)])


def test_hostnames_entry_that_is_neither_field_nor_template(parse):
    message = refused(parse, {"all_devices": True, "hostnames": ["name", "hostname"]})
    assert message.startswith("hostnames[1] 'hostname' is neither a device field")


# -- duplicate names ---------------------------------------------------------------------------------------------

def test_duplicate_rule_most_recently_seen_then_highest_id_keeps_the_name():
    entries = [("web", {"id": 10, "last_contact_time": "2026-12-01T10:00:00.000Z"}),
               ("web", {"id": 11, "last_contact_time": "2026-12-01T12:00:00.000Z"}),
               ("web", {"id": 12, "last_contact_time": "2026-12-01T10:00:00.000Z"}),
               ("web", {"id": 13, "last_contact_time": None}),
               ("db", {"id": 14, "last_contact_time": None}),
               ("db", {"id": 15, "last_contact_time": None})]
    names, shared = cbc_devices.assign_host_names(entries)
    assert names == ["web_10", "web", "web_12", "web_13", "db_14", "db"]
    assert shared == {"web": [11, 12, 10, 13], "db": [15, 14]}


def test_duplicate_rule_compares_times_not_text():
    # Without fraction the text sorts after "...00.500Z"; as a time it is earlier.
    entries = [("a", {"id": 1, "last_contact_time": "2026-12-01T10:00:00.500Z"}),
               ("a", {"id": 2, "last_contact_time": "2026-12-01T10:00:00Z"})]
    assert cbc_devices.assign_host_names(entries)[0] == ["a", "a_2"]


def test_duplicate_rule_never_reuses_a_taken_name():
    entries = [("a", {"id": 2, "last_contact_time": "2026-12-02T00:00:00Z"}), ("a", {"id": 1}), ("a_1", {"id": 9})]
    assert cbc_devices.assign_host_names(entries)[0] == ["a", "a_1_1", "a_1"]


def test_duplicate_names_in_an_inventory_warn_once_with_a_count(parse):
    fleet = [device(1, name="web"), device(2, name="web", seen="2026-12-01T11:00:00.000Z"), device(3, name="web"),
             device(4, name="db"), device(5, name="db"), device(6, name="solo")]
    run = parse({"all_devices": True}, fleet=fleet)
    assert run.hosts == ["db", "db_4", "solo", "web", "web_1", "web_3"]
    assert run.vars("web")["cbc_id"] == 2 and run.vars("db")["cbc_id"] == 5 and run.vars("web_1")["cbc_id"] == 1
    assert len(run.warnings) == 1
    assert run.warnings[0].startswith("cbc_devices: 2 host name(s) are shared by 5 devices")
    assert "db (kept by 5; db_4)" in run.warnings[0] and "web (kept by 2; web_3, web_1)" in run.warnings[0]


def test_duplicate_warning_stays_short_on_large_fleets():
    shared = dict(("n%02d" % index, list(range(100, 130))) for index in range(30))
    text = cbc_devices.duplicates_warning(shared)
    assert "\n" not in text and text.endswith("; and 10 more") and "and 24 more" in text and len(text) < 3000


# -- host variables -----------------------------------------------------------------------------------------------

def test_default_fields_under_the_default_prefix_and_ansible_host(parse):
    run = parse({"all_devices": True}, fleet=[device(1)])
    variables = run.vars("host-1")
    expected = ["cbc_" + field for field in ("id", "name", "os", "os_version", "status", "policy_id", "policy_name",
                                             "sensor_version", "sensor_kit_type", "last_contact_time",
                                             "last_internal_ip_address", "last_external_ip_address",
                                             "deployment_type", "quarantined", "target_priority")]
    assert sorted(key for key in variables if key.startswith("cbc_")) == sorted(expected)
    assert "cbc_mac_address" not in variables and "cbc_email" not in variables
    assert variables["ansible_host"] == "10.0.0.1"


def test_prefix_and_fields_only_the_fields_asked_for(parse):
    run = parse({"all_devices": True, "hostvar_prefix": "edr_", "fields": ["policy_name", "mac_address"],
                 "ansible_host_field": "last_external_ip_address"}, fleet=[device(1)])
    variables = run.vars("host-1")
    assert dict((k, v) for k, v in variables.items() if k.startswith("edr_")) == {
        "edr_id": 1, "edr_policy_name": "Standard", "edr_mac_address": "005056000001"}
    assert not any(key.startswith("cbc_") for key in variables)
    # Read for the name, ansible_host and the duplicate rule; not host variables.
    assert variables["ansible_host"] == "203.0.113.9"
    assert run.plugin.built[0].fetched == ("id", "policy_name", "mac_address", "name", "last_external_ip_address",
                                           "last_contact_time")


def test_pages_are_trimmed_to_the_fields_needed(parse):
    client = FakeClient([device(1)])
    kept = []
    original = client.call

    def spy(name, body=None, shape_results=None, **kwargs):
        answer = original(name, body=body, shape_results=shape_results, **kwargs)
        kept.extend(answer["results"])
        return answer
    client.call = spy
    parse({"all_devices": True, "fields": ["os"]}, client=client)
    assert sorted(kept[0]) == ["id", "last_contact_time", "last_internal_ip_address", "name", "os"]


def test_empty_ansible_host_field_leaves_it_unset(parse):
    run = parse({"all_devices": True, "ansible_host_field": ""}, fleet=[device(1)])
    assert "ansible_host" not in run.vars("host-1")
    run = parse({"all_devices": True}, fleet=[device(2, last_internal_ip_address=None)])
    assert "ansible_host" not in run.vars("host-2")


@pytest.mark.parametrize("config, expected", [
    ({"fields": ["name", "nmae"]}, "fields has unknown device field(s) nmae"),
    ({"fields": []}, "fields is empty"),
    ({"ansible_host_field": "ip"}, "ansible_host_field 'ip' is not a device field"),
    ({"hostvar_prefix": "1x"}, "hostvar_prefix '1x' cannot start a variable name"),
    ({"hostvar_prefix": "cbc-"}, "hostvar_prefix 'cbc-' cannot start a variable name"),
    ({"hostnames": []}, "hostnames is empty"),
    ({"timeout": 0}, "timeout"),
    ({"retries": 99}, "retries"),
])
def test_bad_options_fail_before_any_request(parse, config, expected):
    assert expected in refused(parse, dict({"all_devices": True}, **config))


def test_constructed_features_work_on_the_prefixed_variables(parse):
    fleet = [device(1, os="WINDOWS", policy_name="Servers", quarantined=True), device(2), device(3, os="MAC")]
    run = parse({"all_devices": True,
                 "keyed_groups": [{"key": "cbc_policy_name", "prefix": "policy"}, {"key": "cbc_os | lower", "prefix": "os"}],
                 "groups": {"quarantined": "cbc_quarantined", "linux": "cbc_os == 'LINUX'"},
                 "compose": {"ansible_host": "cbc_last_external_ip_address", "short": "cbc_name | upper"}},
                fleet=fleet)
    assert run.group("policy_Servers") == ["host-1"] and run.group("policy_Standard") == ["host-2", "host-3"]
    assert run.group("os_windows") == ["host-1"] and run.group("os_mac") == ["host-3"]
    assert run.group("quarantined") == ["host-1"] and run.group("linux") == ["host-2"]
    assert run.vars("host-2")["ansible_host"] == "203.0.113.9" and run.vars("host-2")["short"] == "HOST-2"


def test_bare_variable_shortcut_gives_what_ansible_gives(parse):
    """Bare names are read directly (Ansible compiles each expression per host); expressions go to Ansible."""
    fleet = [device(1, os="WINDOWS", quarantined=True), device(2), device(3, os="MAC", policy_name=None)]
    run = parse({"all_devices": True,
                 "keyed_groups": [{"key": "cbc_os", "prefix": "bare"}, {"key": "cbc_os | string", "prefix": "expr"},
                                  {"key": "cbc_policy_name", "prefix": "policy", "default_value": "none"},
                                  {"key": "role", "prefix": "role"}, {"key": "inventory_hostname", "prefix": "h"}],
                 "groups": {"bare_q": "cbc_quarantined", "expr_q": "cbc_quarantined | bool", "true_group": "true",
                            "none_group": "none"},
                 "compose": {"role": "'web'", "copy": "cbc_os", "literal": "true"}}, fleet=fleet)
    for os_name in ("WINDOWS", "LINUX", "MAC"):
        assert run.group("bare_" + os_name) == run.group("expr_" + os_name) != []
    assert run.group("bare_q") == run.group("expr_q") == ["host-1"]
    assert run.group("true_group") == ["host-1", "host-2", "host-3"] and "none_group" not in run.inventory.groups
    assert run.group("policy_none") == ["host-3"] and run.group("role_web") == ["host-1", "host-2", "host-3"]
    assert run.group("h_host_2") == ["host-2"]
    assert run.vars("host-3")["copy"] == "MAC" and run.vars("host-3")["literal"] is True


def test_extra_vars_win_over_the_shortcut_with_use_extra_vars(parse, monkeypatch):
    monkeypatch.setattr("ansible.plugins.inventory.load_extra_vars", lambda loader: {"cbc_os": "EXTRA"})
    config = {"all_devices": True, "keyed_groups": [{"key": "cbc_os", "prefix": "os"}]}
    assert "os_EXTRA" not in parse(config, fleet=[device(1)]).inventory.groups
    assert parse(dict(config, use_extra_vars=True), fleet=[device(1)]).group("os_EXTRA") == ["host-1"]


def test_strict_makes_a_bad_compose_an_error(parse):
    config = {"all_devices": True, "compose": {"x": "cbc_nope.attr"}}
    assert "x" not in parse(config, fleet=[device(1)]).vars("host-1")
    with pytest.raises(Exception, match="Could not set x for host host-1"):
        parse(dict(config, strict=True), fleet=[device(1)])


def test_device_values_are_not_templated(parse):
    run = parse({"all_devices": True, "compose": {"shown": "cbc_name"}}, fleet=[device(1, name="{{ 7 * 6 }}")])
    assert run.hosts == ["{{ 7 * 6 }}"] and run.vars("{{ 7 * 6 }}")["shown"] == "{{ 7 * 6 }}"


# -- connection, paging, errors -------------------------------------------------------------------------------

def test_twenty_thousand_devices_in_three_requests(parse):
    fleet = [device(index) for index in range(1, 20001)]
    run = parse({"all_devices": True, "fields": ["name"]}, fleet=fleet)
    assert [name for name, unused in run.client.calls] == ["devices.search", "devices.scroll", "devices.scroll"]
    assert len(run.hosts) == 20000


def test_connection_options_are_resolved_like_the_modules(parse, monkeypatch):
    monkeypatch.setenv("CBC_URL", "https://env.example.com")
    monkeypatch.setenv("CBC_ORG_KEY", "ENVORG")
    secret, api_id = TOKEN.split("/")
    run = parse({"all_devices": True, "org_key": "FILEORG", "token": "{{ '%s' ~ '/' ~ '%s' }}" % (secret, api_id)},
                fleet=[device(1)], connection=False)
    plan = run.plugin.built[0]
    assert plan.settings["url"] == "https://env.example.com" and plan.settings["org_key"] == "FILEORG"
    assert plan.settings["token"] == TOKEN
    assert plan.connection["timeout"] == 60 and plan.connection["retries"] == 5 and plan.connection["token_cache"] is True


def test_missing_credentials_is_one_line(parse):
    message = refused(parse, {"all_devices": True}, connection=False)
    assert message.startswith("no complete CBC credentials were given")
    message = refused(parse, {"all_devices": True, "url": "http://cbc.example.com", "org_key": "A", "token": TOKEN},
                      connection=False)
    assert message.startswith("url http://cbc.example.com does not start with https://")


def test_an_api_error_is_one_line_with_the_fix(parse):
    client = FakeClient([], error=CbcApiError("POST", "/appservices/v6/orgs/ABCD1234/devices/_search", 403,
                                              permission="device READ"))
    with pytest.raises(AnsibleParserError) as caught:
        parse({"all_devices": True}, client=client)
    message = str(caught.value.message)
    assert "HTTP 403" in message and "device READ" in message and "Fix: " in message and "\n" not in message
    assert TOKEN.split("/", maxsplit=1)[0] not in message


def test_the_real_client_is_built_from_the_settings(inventory_file, monkeypatch):
    plugin = cbc_devices.InventoryModule()
    plan = cbc_devices.Plan(settings={"url": "https://cbc.example.com/", "org_key": "ABCD1234", "token": TOKEN,
                                      "ssl_verify": True, "ssl_cert_file": None},
                            connection={"timeout": 7, "retries": 2, "retry_max_wait": 9, "token_cache": False})
    client = plugin._client(plan)
    try:
        assert client.url == "https://cbc.example.com" and client.timeout == 7 and client.max_attempts == 3
        assert client.auth.headers(client)["X-Auth-Token"] == TOKEN
    finally:
        client.close()


# -- cache ---------------------------------------------------------------------------------------------------------

def test_cache_serves_the_second_parse_and_misses_on_a_changed_selection(parse, tmp_path):
    cache = {"cache": True, "cache_plugin": "jsonfile", "cache_connection": str(tmp_path / "cache")}
    first = parse(dict(cache, criteria={"os": ["LINUX"]}), fleet=[device(1), device(2)])
    first.plugin.update_cache_if_changed()
    assert len(first.client.calls) == 1
    second = parse(dict(cache, criteria={"os": ["LINUX"]}), fleet=[device(1)])
    assert second.client.calls == [] and second.hosts == ["host-1", "host-2"]
    assert second.vars("host-2") == first.vars("host-2")
    changed = parse(dict(cache, criteria={"os": ["MAC"]}), fleet=[device(1)])
    assert len(changed.client.calls) == 1 and changed.hosts == ["host-1"]
    # --flush-cache (cache=False) reads the API again.
    flushed = parse(dict(cache, criteria={"os": ["LINUX"]}), fleet=[device(3)], cache=False)
    assert len(flushed.client.calls) == 1 and flushed.hosts == ["host-3"]


def test_verify_file(tmp_path):
    plugin = cbc_devices.InventoryModule()
    plugin.display = Display()
    for name, wanted in (("prod.cbc_devices.yml", True), ("cbc_devices.yaml", True), ("x.cbc_devices.json", False),
                         ("inventory.yml", False)):
        path = tmp_path / name
        path.write_text("plugin: %s\n" % FQCN)
        assert plugin.verify_file(str(path)) is wanted, name
    assert plugin.verify_file(str(tmp_path / "missing.cbc_devices.yml")) is False
