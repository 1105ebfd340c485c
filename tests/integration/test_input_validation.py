# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every option of every module, given a bad value, fails before any request with a one-line message.

The modules run in-process against the simulator; its request log must stay empty. A completeness test makes
sure each module's argument spec is covered, so a new option cannot be added without a row here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import os

import pytest

from inprocess import MODULES, api_key_connection, isolate_environment, run_module

LONG = "x" * 256
# A valid base task per module: each row changes one option of it.
BASES = {
    "cbc_alert": {"criteria": {"threat_id": ["T-ONE"]}, "status": "CLOSED", "allow_empty": True},
    "cbc_alert_info": {"criteria": {"threat_id": ["T-ONE"]}},
    "cbc_api_key_check": {},
    "cbc_device": {"query": "name:host-00001", "quarantined": True},
    "cbc_device_info": {"query": "name:host-00001"},
    "cbc_policy": {"name": "Servers", "priority_level": "HIGH"},
    "cbc_policy_info": {"name": ["Standard"]},
    "cbc_forwarder": {"name": "fw", "type": "alert", "s3_bucket_name": "acme"},
    "cbc_forwarder_info": {"name": "fw"},
    "cbc_reputation_override": {"override_list": "BLACK_LIST", "override_type": "SHA256",
                                "overrides": [{"sha256_hash": "a" * 64}]},
    "cbc_reputation_override_info": {"override_list": "WHITE_LIST"},
}

# Connection options, the same for every module: (option, bad value, fragment of the message).
CONNECTION_ROWS = [
    ("url", "http://cbc.example.com", "does not start with https://"),
    ("url", "https://cbc.example.com/appservices", "is not a bare host"),
    ("org_key", "<ABCD1234>", "contains < > { } brackets"),
    ("org_key", "ABCD 1234", "contains spaces, slashes"),
    ("token", "NOSLASHTOKEN", "is not in the form SECRET_KEY/API_ID"),
    ("csp_oauth_app_id", "app", "csp_oauth_app_secret is not set"),
    ("csp_oauth_app_secret", "secret", "csp_oauth_app_id is not set"),
    ("csp_api_token", "", "no credentials are set"),
    ("csp_url_override", "http://csp.example.com", "csp_url_override"),
    ("ssl_verify", "sometimes", "ssl_verify"),
    ("ssl_verify_hostname", "sometimes", "ssl_verify_hostname"),
    ("ssl_cert_file", "/nonexistent/ca.pem", "ssl_cert_file /nonexistent/ca.pem does not exist"),
    ("ssl_force_tls_1_2", "sometimes", "ssl_force_tls_1_2"),
    ("proxy", "proxy.example.com:3128", "proxy must be a URL"),
    ("ignore_system_proxy", "sometimes", "ignore_system_proxy"),
    ("integration", "soc\nautomation", "integration must be a short name"),
    ("default_timeout", -5, "default_timeout must be 1 or more"),
    ("profile", "no-such-profile", "no-such-profile"),
    ("credential_file", ["/nonexistent/credentials.cbc"], "/nonexistent/credentials.cbc"),
    ("timeout", 0, "timeout must be 1 to 3600"),
    ("timeout", -1, "timeout must be 1 to 3600"),
    ("timeout", 10 ** 12, "timeout must be 1 to 3600"),
    ("retries", -1, "retries must be 0 to 20"),
    ("retry_max_wait", 100000, "retry_max_wait must be 0 to 3600"),
    ("token_cache", "sometimes", "token_cache"),
]
CONNECTION_OVERRIDES = {
    # These need the token out of the way to be reached.
    "csp_oauth_app_id": {"token": None}, "csp_oauth_app_secret": {"token": None}, "csp_api_token": {"token": None},
    "profile": {"token": None, "url": None}, "credential_file": {"token": None, "url": None},
}

# The single-forwarder options out of the way, for the rows of ``forwarders``.
FORWARDER_LIST = {"name": None, "type": None, "s3_bucket_name": None}

# Module options: module -> [(option, bad value, fragment, extra changes to the base or None)].
ALERT_SELECTION_ROWS = [
    ("alert_ids", [], "alert_ids is empty", {"criteria": None}),
    ("alert_ids", [" "], "alert_ids[0] is blank", {"criteria": None}),
    ("criteria", {}, "criteria is empty", None),
    ("criteria", {"threat_id": []}, "criteria.threat_id is an empty list", None),
    ("criteria", {"thread_id": ["x"]}, "unknown", None),
    ("criteria", {"threat_id": "x"}, "criteria.threat_id must be a list", None),
    ("criteria", {"detection_timestamp": ["x"]}, "criteria.detection_timestamp must be {range: -3d}", None),
    ("criteria", {"minimum_severity": 3}, "use the minimum_severity option", None),
    ("criteria", {"id": ["a"]}, "use the alert_ids option", None),
    ("exclusions", {"typ": ["WATCHLIST"]}, "unknown", None),
    ("query", " ", "query is blank", None),
    ("time_range", {"range": "-3d", "end": "x"}, "time_range must be", None),
    ("time_range", {"range": ""}, "time_range.range must be a non-empty string", None),
    ("minimum_severity", 11, "minimum_severity must be 1 to 10", None),
]
MODULE_ROWS = {
    "cbc_alert": ALERT_SELECTION_ROWS + [
        ("exclusions", {"type": ["WATCHLIST"]}, "no alerts are selected", {"criteria": None}),
        ("status", "DISMISSED", "status", None),
        ("closure_reason", "RESOLVED", "closure_reason is set without status", {"status": None}),
        ("closure_reason", "FIXED", "closure_reason", None),
        ("determination", "MAYBE", "determination", None),
        ("status", None, "nothing to set", None),
        ("note", " ", "note is blank", None),
        ("note", "a\x00b", "note contains the control character", None),
        ("max_alerts", 0, "max_alerts must be 1 or more", None),
        ("allow_empty", "sometimes", "allow_empty", None),
        ("batch_size", 0, "batch_size must be 1 to 10000", None),
        ("wait", "sometimes", "wait", None),
        ("wait_timeout", 0, "wait_timeout must be 1 to 3600", None),
        ("details_limit", -1, "details_limit must be 0 or more", None),
    ],
    "cbc_alert_info": ALERT_SELECTION_ROWS + [
        ("sort", [{"field": "sevrity"}], "sort[0].field 'sevrity' is not an alert field", None),
        ("sort", [{"field": "severity", "order": "UP"}], "order", None),
        ("max_results", 0, "max_results must be 1 to 10000", None),
        ("fields", [], "fields is empty", None),
        ("fields", ["sevrity"], "unknown alert field(s) sevrity", None),
    ],
    "cbc_api_key_check": [
        ("apis", [], "apis and required are both empty", None),
        ("apis", ["users"], "apis", None),
        ("required", ["users"], "required", None),
        ("product", "cbr", "product", None),
        ("username", "", "username must be a non-empty name", {"product": "edr", "org_key": None}),
        ("require_global_admin", "sometimes", "require_global_admin", None),
        ("app_control_objects", [], "app_control_objects is empty", {"product": "app_control", "org_key": None}),
        ("app_control_objects", ["computer;x"], "app_control_objects[0]", {"product": "app_control", "org_key": None}),
    ],
    "cbc_device": [
        ("device_ids", [], "device_ids is empty", {"query": None}),
        ("device_ids", [0], "device_ids has 0", {"query": None}),
        ("criteria", {}, "criteria is empty", {"query": None}),
        ("criteria", {"os": []}, "criteria.os is an empty list", {"query": None}),
        ("criteria", {"polcy_id": [1]}, "criteria has unknown key(s) polcy_id", {"query": None}),
        ("exclusions", {"os": "LINUX"}, "exclusions.os must be a list", None),
        ("exclusions", {"sensor_versions": ["1"]}, "exclusions has unknown key(s) sensor_versions", None),
        ("query", "  ", "query is blank", None),
        ("sort", [{"field": "nmae"}], "sort[0].field 'nmae' is not a device field", None),
        ("sort", [{"field": "name", "order": "UP"}], "order", None),
        ("all_devices", True, "all_devices: true cannot be combined with query", None),
        ("all_devices", "sometimes", "all_devices", None),
        ("max_devices", 0, "max_devices must be 1 or more", None),
        ("allow_empty", "sometimes", "allow_empty", None),
        ("quarantined", "sometimes", "quarantined", None),
        ("bypass", "sometimes", "bypass", None),
        ("policy_id", -1, "policy_id must be an ID of 1 or more", {"quarantined": None}),
        ("policy_name", "", "policy_name must be a non-empty name", {"quarantined": None}),
        ("policy_name", "Servers\n", "policy_name contains the control character U+000A", {"quarantined": None}),
        ("policy_name", LONG, "policy_name is 256 characters long, more than the 255 allowed", {"quarantined": None}),
        ("sensor_version", {"WINDOWS_10": "3.9"}, "sensor_version has unknown key(s) WINDOWS_10", None),
        ("sensor_version", {"WINDOWS": ""}, "sensor_version.WINDOWS must be a version string", None),
        ("sensor_version", {}, "sensor_version is empty", None),
        ("send_background_scan", True, "send_background_scan", None),
        ("send_background_scan", "restart", "send_background_scan", None),
        ("uninstall_sensor", "sometimes", "uninstall_sensor", None),
        ("delete_sensor", "sometimes", "delete_sensor", None),
        ("batch_size", 0, "batch_size must be between 1 and 10000", None),
        ("batch_size", 10001, "batch_size must be between 1 and 10000", None),
        ("details_limit", -1, "details_limit must be 0 or more", None),
    ],
    "cbc_device_info": [
        ("device_ids", [], "device_ids is empty", {"query": None}),
        ("criteria", {}, "criteria is empty", {"query": None}),
        ("criteria", {"os": ["LINUXX"]}, "unknown value(s) LINUXX", {"query": None}),
        ("exclusions", {"nope": [1]}, "exclusions has unknown key(s) nope", None),
        ("query", "", "query is blank", None),
        ("sort", [{"field": "nope"}], "sort[0].field 'nope' is not a device field", None),
        ("limit", -1, "limit must be 0 or more", None),
        ("fields", [], "fields is empty", None),
        ("fields", ["name", "nmae"], "fields has unknown device field(s) nmae", None),
    ],
    "cbc_policy": [
        ("state", "gone", "state", None),
        ("name", "", "policy.name must be a non-empty name", None),
        ("name", " Servers", "leading or trailing spaces", None),
        ("name", "Ser\tvers", "control character U+0009", None),
        ("name", LONG, "is 256 characters long", None),
        ("id", -1, "id must be an ID of 1 or more", None),
        ("description", "a\x00b", "control character U+0000", None),
        ("description", "x" * 8193, "is 8193 characters long", None),
        ("priority_level", "URGENT", "priority_level", None),
        ("rules", [{"action": "DENY"}], "needs application", None),
        ("purge_rules", True, "purge_rules needs rules", None),
        ("sensor_settings", {"SHOW_UII": True}, "sensor_settings name has the unknown value 'SHOW_UII'", None),
        ("purge_sensor_settings", True, "purge_sensor_settings needs sensor_settings", None),
        ("av_settings", {"on_access": {}}, "av_settings section has the unknown value 'on_access'", None),
        ("directory_action_rules", [{"path": "/x"}], "directory_action_rules[0] must be", None),
        ("managed_detection_response_permissions", {"quarantine": "yes"}, "must be true or false", None),
        ("rule_configs", [{"name": "Privilege Escalation", "parameters": {}}], "needs parameters", None),
        ("auto_deregister_inactive_vdi_interval_ms", -1, "must be a non-negative integer", None),
        ("auto_delete_known_bad_hashes_delay", -1, "must be a non-negative integer", None),
        ("force", "sometimes", "force", None),
        ("policies", [], "policies is empty", {"name": None, "priority_level": None}),
        ("policies", [{"name": "A"}, {"name": "A"}], "are both name 'A'", {"name": None, "priority_level": None}),
    ],
    "cbc_policy_info": [
        ("id", [], "id is empty", {"name": None}),
        ("id", [0], "id[0] must be an ID of 1 or more", {"name": None}),
        ("name", [], "name is empty", None),
        ("name", [""], "name[0] must be a non-empty name", None),
        ("allow_missing", "sometimes", "allow_missing", None),
    ],
    "cbc_forwarder": [
        ("state", "gone", "state", None),
        ("name", "", "name must be a non-empty name", None),
        ("name", "fw\x07", "control character U+0007", None),
        ("id", " ", "id must be a non-empty name", None),
        ("type", "auth.events", "type", None),
        ("enabled", "sometimes", "enabled", None),
        ("destination", "gcs", "destination", None),
        ("s3_bucket_name", " ", "s3_bucket_name must be a non-empty name", None),
        ("s3_bucket_name", "s3://acme", "must be the bare bucket name", None),
        ("s3_prefix", "a\nb", "s3_prefix contains the control character", None),
        ("azure_storage_account", "acct", "required together", None),
        ("azure_container_name", "c", "required together", None),
        ("azure_tenant_id", "t", "required together", None),
        ("azure_client_id", "c", "required together", None),
        ("version_constraint", "2", "version_constraint must be a version (1.0.0)", None),
        ("version_constraint", "1.*.0", "patch-floating (1.0.*) or minor-floating (1.*.*)", None),
        ("filters", ["a\x00"], "filters[0] contains the control character", None),
        ("filters", [[]], "filters[0] must be a filter object or string", None),
        ("forwarders", [], "forwarders is empty", FORWARDER_LIST),
        ("forwarders", ["fw"], "Elements value for option 'forwarders'", FORWARDER_LIST),
        ("forwarders", [{"name": "fw", "type": "alerts"}], "forwarders[0]: value of type must be one of", FORWARDER_LIST),
        ("forwarders", [{"nam": "fw"}], "forwarders[0]: unsupported option nam", FORWARDER_LIST),
        ("forwarders", [{"type": "alert"}], "forwarders[0]: one of the following is required: name, id", FORWARDER_LIST),
        ("forwarders", [{"name": "fw", "destination": "aws_s3"}], "missing: s3_bucket_name", FORWARDER_LIST),
        ("forwarders", [{"name": "fw", "s3_bucket_name": "s3://b"}], "forwarders[0] (fw): s3_bucket_name must be the bare",
         FORWARDER_LIST),
        ("forwarders", [{"name": "fw"}, {"name": "fw", "state": "absent"}], "forwarders[0] and forwarders[1] are both name",
         FORWARDER_LIST),
        ("forwarders", [{"name": "fw"}], "mutually exclusive", None),
        ("purge", True, "purge needs forwarders", None),
        ("purge", "sometimes", "purge", None),
    ],
    "cbc_forwarder_info": [
        ("name", "", "name must be a non-empty name", None),
        ("id", "", "id must be a non-empty name", {"name": None}),
        ("health_check", "sometimes", "health_check", None),
    ],
    "cbc_reputation_override": [
        ("override_list", "GREY_LIST", "override_list", None),
        ("override_type", "MD5", "override_type", None),
        ("override_type", "CERT", "only SHA256 hashes can be banned", None),
        ("overrides", [], "overrides is empty", None),
        ("overrides", [{"sha256_hash": "abc"}], "64 hexadecimal characters", None),
        ("overrides", [{"sha256_hash": "a" * 64, "colour": "red"}], "overrides[0]: unsupported option colour", None),
        ("description", "ban\x00", "description contains the control character", None),
        ("state", "gone", "state", None),
        ("purge", "sometimes", "purge", None),
        ("purge", True, "purge works with state: present", {"state": "absent"}),
        ("batch_size", 0, "batch_size must be 1 to 1000", None),
    ],
    "cbc_reputation_override_info": [
        ("override_list", "GREY_LIST", "override_list", None),
        ("override_type", "MD5", "override_type", None),
        ("query", " ", "query must be a non-empty name", None),
        ("max_results", 0, "max_results must be 1 or more", None),
    ],
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    isolate_environment(monkeypatch, tmp_path)


def argument_options(name):
    """The option names of a module's argument spec (connection options included)."""
    module = importlib.import_module(MODULES + name)
    captured = {}

    class Capture(Exception):
        pass

    def fake_init(self, argument_spec=None, **unused_kwargs):
        captured.update(argument_spec or {})
        raise Capture()

    from ansible_collections.carbonblack.cloud.plugins.module_utils import cbc_module
    original = cbc_module.CbcModule.__init__
    cbc_module.CbcModule.__init__ = fake_init
    try:
        module.main()
    except Capture:
        pass
    finally:
        cbc_module.CbcModule.__init__ = original
    return set(captured) | set(cbc_module.AUTH_ARGUMENT_SPEC)


def test_every_module_has_rows():
    modules_dir = os.path.join(os.path.dirname(__file__), "..", "..", "plugins", "modules")
    names = set(name[:-3] for name in os.listdir(modules_dir) if name.endswith(".py") and name != "__init__.py")
    assert names == set(BASES) == set(MODULE_ROWS)


@pytest.mark.parametrize("name", sorted(BASES))
def test_every_option_has_a_row(name):
    covered = set(row[0] for row in MODULE_ROWS[name]) | set(row[0] for row in CONNECTION_ROWS)
    assert argument_options(name) - covered == set()


def task_args(sim, name, changes):
    args = dict(BASES[name], **api_key_connection(sim))
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return args


@pytest.mark.parametrize("name", sorted(BASES))
def test_a_bad_value_of_any_option_fails_before_any_request(sim, name):
    rows = [(option, value, fragment, CONNECTION_OVERRIDES.get(option)) for option, value, fragment in CONNECTION_ROWS]
    rows += MODULE_ROWS[name]
    mark = sim.mark()
    failures = []
    for option, value, fragment, extra in rows:
        changes = dict(extra or {})
        changes[option] = value
        result = run_module(name, task_args(sim, name, changes)).result
        message = result.get("msg", "")
        if not result.get("failed") or fragment not in message or "\n" in message:
            failures.append("%s=%r: %s" % (option, value, message or result))
    assert failures == []
    assert sim.requests(since=mark) == []


@pytest.mark.parametrize("name", sorted(BASES))
def test_the_base_task_is_valid(sim, name):
    # Guards the table: each row fails because of its own value, not because the base is wrong.
    result = run_module(name, task_args(sim, name, {}), check_mode=True).result
    assert not result.get("failed"), result.get("msg")
