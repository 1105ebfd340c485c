# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cbc_api_key_check and the shared client, run by real ansible-playbook against the simulator."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time


from inprocess import run_tasks
from playbook_runner import FULL_TOKEN, ORG, api_key_connection, run_playbook, write_credentials

DEVICEREAD_TOKEN = "DEVICEREADSECRET00000000/DEVICEREAD"
OAUTH = {"csp_oauth_app_id": "sim-oauth-app", "csp_oauth_app_secret": "sim-oauth-secret"}
API_TOKEN = "sim-csp-api-token"
SECRETS = ("FULLSECRETKEY00000000000", "DEVICEREADSECRET00000000", "sim-oauth-secret", API_TOKEN)
CHECK = {"carbonblack.cloud.cbc_api_key_check": {}}


def csp(sim, **credentials):
    return dict({"url": sim.url, "org_key": ORG, "ssl_cert_file": sim.ca_file, "csp_url_override": sim.url},
                **credentials)


def check(**options):
    return {"carbonblack.cloud.cbc_api_key_check": options}


def test_api_key_probes_each_api_once_and_reports_without_the_secret(simulator, tmp_path):
    mark = simulator.mark()
    run = run_playbook(tmp_path, [check(), check()], connection=api_key_connection(simulator, integration="soc-tests/1.0"),
                       args=["-vvv"])
    result = run[0]
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["auth_mode"] == "api_key" and result["api_id"] == "FULLACCESS"
    assert result["org_key"] == ORG and result["url"] == simulator.url
    assert sorted(result["accessible"]) == ["alerts", "data_forwarder", "devices", "policies"]
    assert result["apis"]["devices"] == {"accessible": True, "http_status": 200, "permission": "device READ",
                                         "hint": None}
    seen = simulator.requests(since=mark)
    assert [entry["api"] for entry in seen[:4]] == ["devices.search", "policies.summary", "forwarders.list",
                                                    "alerts.search"]
    assert len(seen) == 8 and not any(entry["write"] for entry in seen)
    assert all(entry["auth"] == "api_key:FULLACCESS" for entry in seen)
    assert seen[0]["body"] == {"rows": 1}
    assert seen[0]["user_agent"].startswith("soc-tests/1.0 carbonblack.cloud/")
    run.assert_no_secret(*SECRETS)


def test_missing_permission_is_reported_and_required_fails_with_the_hint(simulator, tmp_path):
    run = run_playbook(tmp_path, [check(), check(required=["devices", "policies", "data_forwarder"])],
                       connection=api_key_connection(simulator, token=DEVICEREAD_TOKEN), args=["-vvv"])
    report = run[0]
    assert not report.get("failed")
    assert report["accessible"] == ["devices"]
    assert report["apis"]["policies"]["http_status"] == 403
    assert report["apis"]["policies"]["permission"] == "org.policies READ"
    assert "grant org.policies READ" in report["apis"]["policies"]["hint"]
    failed = run[1]
    assert failed["failed"] is True
    assert failed["msg"].startswith("required APIs are not accessible: policies (HTTP 403: ")
    assert "data_forwarder (HTTP 403" in failed["msg"] and "event-forwarder.settings READ" in failed["msg"]
    assert "\n" not in failed["msg"]
    run.assert_no_secret(*SECRETS)


def test_a_forwarder_list_404_of_an_org_without_forwarders_is_accessible_and_a_wrong_org_is_not(sim, tmp_path):
    sim.forwarder_settings(empty_list_status=404)
    mark = sim.mark()
    run = run_tasks(tmp_path, [check(apis=["data_forwarder"]),
                               check(apis=["data_forwarder"], org_key="WRONG123")], connection=api_key_connection(sim))
    assert run[0]["accessible"] == ["data_forwarder"], run[0]
    assert run[1]["apis"]["data_forwarder"]["accessible"] is False
    assert "Fix: check org_key and url" in run[1]["apis"]["data_forwarder"]["hint"]
    assert [entry["api"] for entry in sim.requests(since=mark)] == ["forwarders.list", "devices.search"] * 2


def test_reputations_are_probed_only_when_named(sim, tmp_path):
    mark = sim.mark()
    run = run_tasks(tmp_path, [check(apis=["reputations"]),
                               check(apis=["devices"], required=["reputations"], token=DEVICEREAD_TOKEN),
                               check(apis=["reputations"], token="REPUTATIONREADSECRET0000/REPUTATIONREAD")],
                    connection=api_key_connection(sim))
    assert run[0]["accessible"] == ["reputations"] and run[0]["apis"]["reputations"]["permission"] == "org.reputations READ"
    assert run[1]["failed"] and "reputations (HTTP 403" in run[1]["msg"] and "org.reputations READ" in run[1]["msg"]
    assert run[2]["accessible"] == ["reputations"]
    probes = [entry for entry in sim.requests(since=mark) if entry["api"] == "reputation_overrides.search"]
    assert len(probes) == 3 and probes[0]["body"] == {"rows": 1}


def test_wrong_secret_is_one_line_error_without_the_secret(simulator, tmp_path):
    wrong = "WRONGSECRET0000000000000/FULLACCESS"
    run = run_playbook(tmp_path, [CHECK], connection=api_key_connection(simulator, token=wrong), args=["-vvv"])
    result = run[0]
    assert result["failed"] is True
    assert result["msg"].startswith("authentication failed: every probed API answered HTTP 401")
    assert "SECRET_KEY/API_ID" in result["msg"] and "\n" not in result["msg"]
    run.assert_no_secret("WRONGSECRET0000000000000", *SECRETS)


BAD_INPUTS = [
    ({"org_key": "{ABCD1234}"}, "org_key {ABCD1234} contains < > { } brackets"),
    ({"org_key": "<ABCD1234>"}, "brackets"),
    ({"token": "FULLSECRETKEY00000000000FULLACCESS"}, "token is not in the form SECRET_KEY/API_ID"),
    ({"url": "https://127.0.0.1:1/appservices/v6"}, "without a path"),
    ({"url": "http://127.0.0.1:1"}, "does not start with https://"),
    ({"csp_oauth_app_id": "x", "token": None}, "csp_oauth_app_secret is not set"),
]


def test_bad_inputs_fail_before_any_request(simulator, tmp_path):
    """One task per bad input, each with its own module_defaults, in one run with -vvv."""
    mark = simulator.mark()
    tasks = []
    for change, unused_fragment in BAD_INPUTS:
        connection = dict(api_key_connection(simulator), **change)
        connection = dict((key, value) for key, value in connection.items() if value is not None)
        tasks.append(dict(CHECK, module_defaults={"group/carbonblack.cloud.cbc": connection}))
    run = run_playbook(tmp_path, tasks, args=["-vvv"])
    for index, (change, fragment) in enumerate(BAD_INPUTS):
        result = run[index]
        assert result["failed"] is True, change
        assert fragment in result["msg"] and "Fix:" in result["msg"] and "\n" not in result["msg"], result["msg"]
    assert simulator.requests(since=mark) == []
    run.assert_no_secret(*SECRETS)


def test_oauth_app_ten_tasks_make_exactly_one_token_request(simulator, tmp_path):
    mark = simulator.mark()
    run = run_playbook(tmp_path, [check(apis=["devices"])] * 10, connection=csp(simulator, **OAUTH), args=["-vvv"])
    assert all(not run[index].get("failed") for index in range(10)), run[0]
    assert run[0]["auth_mode"] == "csp_oauth_app" and run[0]["api_id"] == "sim-oauth-app"
    seen = simulator.requests(since=mark)
    assert [entry["api"] for entry in seen].count("csp.oauth_token") == 1
    assert [entry["api"] for entry in seen].count("devices.search") == 10
    assert all(entry["auth"].startswith("bearer:") for entry in seen if entry["api"] == "devices.search")
    run.assert_no_secret(*SECRETS)

    # A second run within the token's lifetime reuses the cached token: no exchange at all.
    mark = simulator.mark()
    run_playbook(tmp_path, [check(apis=["devices"])] * 3, connection=csp(simulator, **OAUTH))
    assert [entry["api"] for entry in simulator.requests(since=mark)] == ["devices.search"] * 3


def test_token_cache_off_exchanges_per_task(simulator, tmp_path):
    mark = simulator.mark()
    run_playbook(tmp_path, [check(apis=["devices"])] * 3, connection=csp(simulator, token_cache=False, **OAUTH))
    assert [entry["api"] for entry in simulator.requests(since=mark)].count("csp.oauth_token") == 3
    assert not (tmp_path / "xdg-cache" / "carbonblack.cloud").exists()


def test_csp_api_token_mode_exchanges_once(simulator, tmp_path):
    mark = simulator.mark()
    run = run_playbook(tmp_path, [check(apis=["devices", "policies"])] * 4,
                       connection=csp(simulator, csp_api_token=API_TOKEN), args=["-vvv"])
    assert run[3]["auth_mode"] == "csp_api_token" and run[3]["accessible"] == ["devices", "policies"]
    apis = [entry["api"] for entry in simulator.requests(since=mark)]
    assert apis.count("csp.api_token") == 1 and len(apis) == 9
    run.assert_no_secret(*SECRETS)


def test_revoked_bearer_token_is_renewed_once(simulator, tmp_path):
    run_playbook(tmp_path, [check(apis=["devices"])], connection=csp(simulator, **OAUTH))
    simulator.revoke_tokens()
    mark = simulator.mark()
    run = run_playbook(tmp_path, [check(apis=["devices"])], connection=csp(simulator, **OAUTH))
    assert run[0]["accessible"] == ["devices"]
    assert [(entry["api"], entry["status"]) for entry in simulator.requests(since=mark)] == [
        ("devices.search", 401), ("csp.oauth_token", 200), ("devices.search", 200)]


def test_wrong_oauth_secret_is_a_clear_error(simulator, tmp_path):
    run = run_playbook(tmp_path, [CHECK], connection=csp(simulator, csp_oauth_app_id="sim-oauth-app",
                                                         csp_oauth_app_secret="not-the-secret"), args=["-vvvv"])
    assert run[0]["failed"] is True
    assert "CSP token exchange" in run[0]["msg"] and "csp_oauth_app_secret" in run[0]["msg"]
    run.assert_no_secret("not-the-secret", *SECRETS)


def test_tls_verification_uses_the_ca_and_fails_without_it(simulator, tmp_path):
    without_ca = api_key_connection(simulator)
    del without_ca["ssl_cert_file"]
    hostname_mismatch = api_key_connection(simulator, url=simulator.url.replace("127.0.0.1", "vm"))

    def check_with(connection):
        return dict(check(apis=["devices"]), module_defaults={"group/carbonblack.cloud.cbc": connection})

    run = run_tasks(tmp_path, [
        check(apis=["devices"]),
        check_with(without_ca),
        check_with(dict(without_ca, ssl_verify=False)),
        check_with(hostname_mismatch),
        check_with(dict(hostname_mismatch, ssl_verify_hostname=False)),
        check_with(dict(without_ca, ssl_verify=False, ssl_force_tls_1_2=True)),
    ], connection=api_key_connection(simulator))
    assert run[0]["accessible"] == ["devices"]
    assert run[1]["failed"] is True
    assert run[1]["msg"].startswith("TLS verification of %s failed" % simulator.url) and "ssl_cert_file" in run[1]["msg"]
    assert run[2]["accessible"] == ["devices"]
    assert run[3]["failed"] is True and "ssl_verify_hostname" in run[3]["msg"], run[3]["msg"]
    assert run[4]["accessible"] == ["devices"]
    assert run[5]["accessible"] == ["devices"]


def test_429_is_honoured_on_post_and_a_storm_ends_in_a_clear_error(simulator, tmp_path):
    simulator.add_fault(path="devices/_search", status=429, retry_after=1, count=2)
    mark = simulator.mark()
    started = time.monotonic()
    run = run_tasks(tmp_path, [check(apis=["devices"])], connection=api_key_connection(simulator))
    assert run[0]["accessible"] == ["devices"]
    assert [entry["status"] for entry in simulator.requests(since=mark)] == [429, 429, 200]
    assert time.monotonic() - started >= 2

    simulator.add_fault(path="devices/_search", status=429, retry_after=1)
    try:
        mark = simulator.mark()
        run = run_tasks(tmp_path, [check(apis=["devices"], required=["devices"])], connection=api_key_connection(simulator))
    finally:
        simulator.clear_faults()
    assert run[0]["failed"] is True
    assert "devices (HTTP 429: the CBC rate limit was exceeded" in run[0]["msg"]
    assert len(simulator.requests(since=mark)) == 6


def test_5xx_and_dropped_connections_are_retried_for_reads(simulator, tmp_path):
    simulator.add_fault(path="policies/summary", status=503, count=2)
    simulator.add_fault(path="devices/_search", status=502, count=1)
    simulator.add_fault(path="configs", drop=True, count=1)
    try:
        mark = simulator.mark()
        run = run_tasks(tmp_path, [check(apis=["devices", "policies", "data_forwarder"])],
                        connection=api_key_connection(simulator))
    finally:
        simulator.clear_faults()
    assert run[0]["accessible"] == ["devices", "policies", "data_forwarder"], run[0]
    statuses = [(entry["api"], entry["status"]) for entry in simulator.requests(since=mark)]
    assert statuses.count(("policies.summary", 503)) == 2 and statuses.count(("devices.search", 502)) == 1


def test_unreachable_host_is_one_line_error(tmp_path):
    run = run_playbook(tmp_path, [CHECK], connection={"url": "https://127.0.0.1:1", "org_key": ORG,
                                                      "token": FULL_TOKEN}, args=["-vvv"])
    assert run[0]["failed"] is True
    assert run[0]["msg"].startswith("could not connect to https://127.0.0.1:1 (Connection refused). Fix:")
    run.assert_no_secret(*SECRETS)


def test_check_mode_runs_the_read_only_probes(simulator, tmp_path):
    run = run_playbook(tmp_path, [check(apis=["devices"])], connection=api_key_connection(simulator), args=["--check"])
    assert run[0]["accessible"] == ["devices"] and run[0]["changed"] is False


def test_environment_variables_are_a_fallback(simulator, tmp_path):
    env = {"CBC_URL": simulator.url, "CBAPI_TOKEN": FULL_TOKEN, "CBAPI_ORG_KEY": ORG}
    run = run_tasks(tmp_path, [check(apis=["devices"], ssl_cert_file=simulator.ca_file)], env=env)
    assert run[0]["accessible"] == ["devices"] and run[0]["api_id"] == "FULLACCESS"


def test_profile_option_and_the_lookup_in_module_defaults(simulator, tmp_path):
    cred = write_credentials(tmp_path / "home" / ".carbonblack" / "credentials.cbc", (
        "[sim]\nurl = %s\norg_key = %s\ntoken = %s\nssl_cert_file = %s\n"
        "[oauth]\nurl = %s\norg_key = %s\ncsp_oauth_app_id = sim-oauth-app\ncsp_oauth_app_secret = sim-oauth-secret\n"
        "csp_url_override = %s\nssl_cert_file = %s\n"
    ) % (simulator.url, ORG, FULL_TOKEN, simulator.ca_file, simulator.url, ORG, simulator.url, simulator.ca_file))
    lookup = "{{ lookup('carbonblack.cloud.cbc_credentials', 'oauth', credential_file='%s') }}" % cred
    run = run_playbook(tmp_path, [
        check(apis=["devices"], profile="sim"),
        check(apis=["devices"], profile="sim", credential_file=[cred], org_key="WXYZ9876"),
        dict(check(apis=["devices"]), module_defaults={"group/carbonblack.cloud.cbc": lookup}),
        check(apis=["devices"], profile="nope"),
    ], args=["-vvvv"])
    assert run[0]["accessible"] == ["devices"] and run[0]["api_id"] == "FULLACCESS"
    # Task arguments beat the profile: the key belongs to ABCD1234, so WXYZ9876 is refused.
    assert run[1]["org_key"] == "WXYZ9876" and run[1]["apis"]["devices"]["accessible"] is False
    assert run[2]["auth_mode"] == "csp_oauth_app" and run[2]["accessible"] == ["devices"]
    assert run[3]["failed"] is True and "nope" in run[3]["msg"] and "\n" not in run[3]["msg"]
    run.assert_no_secret(*SECRETS)
