"""Unit tests of the on-premises modes (``--product edr`` and ``--product app_control``): every route with each
built-in token, each error status, the queries, the control calls, and the wiring (CLI, HTTPS, request log)."""

import contextlib
import json
import os
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from cbcsim import cli, onprem, onprem_appcontrol, onprem_edr
from cbcsim.protocol import RequestContext
from cbcsim.server import Simulator as Server
from cbcsim.state import SimulatorConfig, SimulatorState
from cbcsim.testing import Simulator

EDR_ADMIN = "edad000000000000000000000000000000000001"
EDR_ANALYST = "a7a1000000000000000000000000000000000002"
AC_FULL = "AC000000-0000-4000-8000-000000000001"
AC_COMPUTERS = "AC000000-0000-4000-8000-000000000002"
AC_NOPERMS = "AC000000-0000-4000-8000-000000000003"
BAD_EDR = "0123456789abcdef0123456789abcdef01234567"
BAD_AC = "00000000-0000-0000-0000-000000000000"
AC = "/api/bit9platform/v1/"
LOG_KEYS = {"ts", "method", "path", "query", "status", "api", "write", "auth", "org_key", "user_agent", "body", "fault",
            "duration_ms"}


@contextlib.contextmanager
def server_for(directory, product, **config):
    """A server object for one product, not serving: the tests send requests through ``run_api``."""
    os.makedirs(str(directory), exist_ok=True)
    state = SimulatorState(SimulatorConfig(str(directory), devices=config.pop("devices", 8), product=product, **config))
    server = Server(state, None, os.path.join(str(directory), "requests.jsonl"))
    try:
        yield server
    finally:
        server.httpd.server_close()
        server.request_log.close()


@pytest.fixture
def edr(tmp_path):
    with server_for(tmp_path, onprem.EDR) as server:
        yield server


@pytest.fixture
def appcontrol(tmp_path):
    with server_for(tmp_path, onprem.APP_CONTROL, edr_url="https://edr.example.com") as server:
        yield server


class Answer:
    """A response as a test sees it: status, headers, parsed JSON or text, and the request's auth label."""

    def __init__(self, response, route, ctx):
        self.status = response.status
        self.headers = response.headers
        self.api = route.api if route else None
        self.auth = ctx.auth_label
        self.log_fields = ctx.log_fields
        if isinstance(response.body, bytes):
            self.text, self.json = response.body.decode("utf-8"), None
        else:
            self.text, self.json = None, response.body


def call(server, path, token=None, method="GET"):
    parts = urlsplit(path)
    headers = {} if token is None else {"X-Auth-Token": token}
    ctx = RequestContext(server.state, method, parts.path, parse_qs(parts.query, keep_blank_values=True), headers, b"")
    response, route = server.run_api(ctx)
    return Answer(response, route, ctx)


# --- EDR -------------------------------------------------------------------------------------------------------------

EDR_ROUTES = [
    ("/api/info", "edr.info", False),
    ("/api/users", "edr.users", True),
    ("/api/user/edradmin", "edr.user", None),
    ("/api/user/analyst", "edr.user", None),
    ("/api/v1/license", "edr.license", False),
    ("/api/v1/process?cb.urlver=1&rows=0&start=0&facet=false", "edr.process", False),
    ("/api/v1/binary?rows=0", "edr.binary", False),
    ("/api/v1/storage/events/partition", "edr.storage_partitions", True),
    ("/api/v1/settings/global/platformserver", "edr.platformserver", True),
]


@pytest.mark.parametrize("path,api,admin_only", EDR_ROUTES)
def test_edr_routes_per_token(edr, path, api, admin_only):
    admin = call(edr, path, EDR_ADMIN)
    assert (admin.status, admin.api, admin.auth) == (200, api, "token:edradmin")
    assert admin.headers["Content-Type"] == "application/json; charset=utf-8"
    analyst = call(edr, path, EDR_ANALYST)
    own_record = path == "/api/user/analyst"
    expected = 403 if admin_only or (admin_only is None and not own_record) else 200
    assert (analyst.status, analyst.auth) == (expected, "token:analyst")
    if expected == 403:
        assert analyst.headers["Content-Type"].startswith("text/html") and "403 Forbidden" in analyst.text
        assert analyst.log_fields == {"denied_permission": "global_admin"}
    for token, label in ((BAD_EDR, "token:<unknown>"), (EDR_ADMIN.upper(), "token:<unknown>"), (None, None), ("", "token:<unknown>")):
        bad = call(edr, path, token)
        assert (bad.status, bad.api, bad.auth) == (401, api, label)
        assert bad.headers["Content-Type"] == "text/html; charset=utf-8" and "<title>401 Unauthorized</title>" in bad.text


def test_edr_info_has_version_and_no_user(edr):
    info = call(edr, "/api/info", EDR_ANALYST).json
    assert info["version"] == onprem_edr.DEFAULT_VERSION and info["version_release"] == "7.8.0-1"
    assert info["cblrEnabled"] is True and "user_preferences" in info
    assert "username" not in json.dumps(info) and "global_admin" not in json.dumps(info)


def test_edr_users_and_user_objects(edr):
    users = call(edr, "/api/users", EDR_ADMIN).json
    assert [(user["username"], user["global_admin"]) for user in users] == [("edradmin", True), ("analyst", False)]
    assert users[0]["teams"] == [{"id": 1, "name": "Administrators"}]
    assert set(users[0]) == {"username", "first_name", "last_name", "email", "global_admin", "teams"}
    assert call(edr, "/api/user/analyst", EDR_ADMIN).json == users[1]
    assert call(edr, "/api/user/analyst", EDR_ANALYST).json == users[1]
    assert EDR_ADMIN not in json.dumps(users) and EDR_ANALYST not in json.dumps(users)


def test_edr_unknown_user(edr):
    missing = call(edr, "/api/user/nobody", EDR_ADMIN)
    assert missing.status == 404 and "404 Not Found" in missing.text
    assert call(edr, "/api/user/nobody", EDR_ANALYST).status == 403


def test_edr_counts_and_license(edr):
    assert call(edr, "/api/v1/process?rows=0", EDR_ANALYST).json["total_results"] == 8 * 700
    binary = call(edr, "/api/v1/binary?rows=0&start=5", EDR_ANALYST).json
    assert binary["total_results"] == 8 * 40 and binary["start"] == 5 and binary["results"] == []
    assert call(edr, "/api/v1/process?rows=x", EDR_ADMIN).status == 400
    assert call(edr, "/api/v1/process?start=-1", EDR_ADMIN).status == 400
    license_info = call(edr, "/api/v1/license", EDR_ANALYST).json
    assert license_info["license_valid"] is True and license_info["actual_sensor_count"] == 8


def test_edr_partitions_and_platformserver(edr):
    assert call(edr, "/api/v1/storage/events/partition", EDR_ADMIN).json["writer"]["info"]["isLegacy"] is False
    settings = call(edr, "/api/v1/settings/global/platformserver", EDR_ADMIN).json
    assert settings == {"server_url": "", "ssl_certificate_verify": "false", "watchlist_export": "false"}
    edr.state.onprem.update_settings({"platformserver": {"server_url": "appcontrol.example.com"}})
    assert call(edr, "/api/v1/settings/global/platformserver", EDR_ADMIN).json["server_url"] == "appcontrol.example.com"


def test_edr_unknown_route_and_method(edr):
    assert call(edr, "/api/nothing", EDR_ADMIN).status == 404
    not_allowed = call(edr, "/api/info", EDR_ADMIN, method="POST")
    assert not_allowed.status == 405 and not_allowed.headers["Allow"] == "GET"
    assert call(edr, "/appservices/v6/orgs/ABCD1234/devices/_search", EDR_ADMIN, method="POST").status == 404


def test_edr_settings(edr):
    state = edr.state.onprem
    state.update_settings({"denied_status": 405, "server_version": "5.1.0.150625.500", "cblr_enabled": False})
    denied = call(edr, "/api/users", EDR_ANALYST)
    assert denied.status == 405 and "405 Method Not Allowed" in denied.text
    info = call(edr, "/api/info", EDR_ADMIN).json
    assert (info["version"], info["version_release"], info["cblrEnabled"]) == ("5.1.0.150625.500", "5.1.0-1", False)
    for bad in ({"denied_status": 404}, {"server_version": ""}, {"nope": 1}, {"cblr_enabled": "yes"}, {"platformserver": {"a": 1}}):
        with pytest.raises(ValueError):
            state.update_settings(bad)
    edr.state.reset()
    assert call(edr, "/api/users", EDR_ANALYST).status == 403


def test_edr_added_users(edr):
    state = edr.state.onprem
    added = state.add_from_dict({"username": "integration", "token": "1" * 40, "global_admin": True, "teams": ["Administrators"]})
    assert added["teams"] == [{"id": 1, "name": "Administrators"}] and "token" not in added
    assert call(edr, "/api/users", "1" * 40).status == 200
    assert call(edr, "/api/user/integration", EDR_ADMIN).json["global_admin"] is True
    for bad in ({"username": "x"}, {"username": "", "token": "t"}, {"username": "a b", "token": "t"},
                {"username": "x", "token": "t", "global_admin": "yes"}, {"username": "x", "token": EDR_ADMIN}, [],
                {"username": "x", "token": "t", "teams": [1]}, {"username": "x", "token": "t", "email": 5}):
        with pytest.raises(ValueError):
            state.add_from_dict(bad)
    edr.state.reset()
    assert call(edr, "/api/info", "1" * 40).status == 401


# --- App Control ----------------------------------------------------------------------------------------------------

AC_OBJECTS = sorted(onprem_appcontrol.OBJECTS)


@pytest.mark.parametrize("name", AC_OBJECTS)
def test_appcontrol_count_per_token(appcontrol, name):
    counts = {"computer": 8, "policy": 4, "fileCatalog": 26, "approvalRequest": 3, "serverConfig": 6}
    full = call(appcontrol, AC + name + "?limit=-1", AC_FULL)
    assert (full.status, full.json, full.api, full.auth) == (200, {"count": counts[name]}, "appcontrol." + name, "token:acadmin")
    viewer = call(appcontrol, AC + name + "?limit=-1", AC_COMPUTERS)
    assert viewer.auth == "token:acviewer"
    if name == "computer":
        assert (viewer.status, viewer.json) == (200, {"count": 8})
    else:
        assert viewer.status == 401 and viewer.log_fields == {"denied_permission": onprem_appcontrol.OBJECTS[name]}
    denied = [call(appcontrol, AC + name + "?limit=-1", token) for token in (AC_NOPERMS, BAD_AC, None, "")]
    assert [answer.status for answer in denied] == [401] * 4
    assert [answer.auth for answer in denied] == ["token:acnoperms", "token:<unknown>", None, "token:<unknown>"]
    assert len({(answer.text, answer.headers["Content-Type"]) for answer in denied}) == 1
    assert denied[0].text == "401 - Unauthorized\n" and denied[0].headers["Content-Type"] == "text/plain; charset=utf-8"


def test_appcontrol_server_config(appcontrol):
    rows = call(appcontrol, AC + "serverConfig", AC_FULL).json
    config = {row["name"]: row["value"] for row in rows}
    assert config["CBServerUrl"] == "https://edr.example.com" and config["ParityServerVersion"] == "8.9.4.12"
    assert set(config) == {"API_Version", "ParityServerVersion", "WebServerAddress", "BinaryPort", "CBServerUrl",
                           "ParityServerOSDescription"}
    assert all(set(row) == {"id", "name", "value", "dateModified", "modifiedBy"} for row in rows)
    (only,) = call(appcontrol, AC + "serverConfig?q=name:CBServerUrl", AC_FULL).json
    assert only["id"] == 42 and call(appcontrol, AC + "serverConfig/42", AC_FULL).json == only
    viewer = call(appcontrol, AC + "serverConfig?q=name:CBServerUrl", AC_COMPUTERS)
    assert viewer.status == 401 and viewer.text == call(appcontrol, AC + "serverConfig", BAD_AC).text


def test_appcontrol_edr_url_settings(tmp_path, appcontrol):
    state = appcontrol.state.onprem
    state.update_settings({"edr_url": "https://other.example.com:8443"})
    (row,) = call(appcontrol, AC + "serverConfig?q=name:CBServerUrl", AC_FULL).json
    assert (row["value"], row["modifiedBy"]) == ("https://other.example.com:8443", "admin")
    state.update_settings({"edr_url": ""})
    assert call(appcontrol, AC + "serverConfig?q=name:CBServerUrl", AC_FULL).json[0]["value"] == ""
    state.update_settings({"edr_url": None, "server_version": "8.11.0.1"})
    assert call(appcontrol, AC + "serverConfig?q=name:CBServerUrl", AC_FULL).json == []
    assert call(appcontrol, AC + "serverConfig?q=name:ParityServerVersion", AC_FULL).json[0]["value"] == "8.11.0.1"
    for bad in ({"edr_url": 5}, {"server_version": ""}, {"CBServerUrl": "x"}):
        with pytest.raises(ValueError):
            state.update_settings(bad)
    appcontrol.state.reset()
    assert call(appcontrol, AC + "serverConfig?q=name:CBServerUrl", AC_FULL).json[0]["value"] == "https://edr.example.com"
    with server_for(tmp_path / "unset", onprem.APP_CONTROL) as unset:
        (row,) = call(unset, AC + "serverConfig?q=name:CBServerUrl", AC_FULL).json
        assert (row["value"], row["modifiedBy"]) == ("", "System")


def test_appcontrol_tokens_are_case_insensitive_and_addable(appcontrol):
    assert call(appcontrol, AC + "computer?limit=-1", AC_FULL.lower()).auth == "token:acadmin"
    state = appcontrol.state.onprem
    added = state.add_from_dict({"name": "auditor", "token": "AC000000-0000-4000-8000-0000000000AA", "permissions": ["View policies"]})
    assert added == {"name": "auditor", "permissions": ["View policies"]}
    assert call(appcontrol, AC + "policy?limit=-1", "AC000000-0000-4000-8000-0000000000aa").status == 200
    assert call(appcontrol, AC + "computer?limit=-1", "AC000000-0000-4000-8000-0000000000AA").status == 401
    state.add_from_dict({"name": "auditor", "token": "NEWTOKEN", "permissions": "*"})
    assert call(appcontrol, AC + "policy?limit=-1", "AC000000-0000-4000-8000-0000000000AA").status == 401
    assert call(appcontrol, AC + "serverConfig", "NEWTOKEN").status == 200
    for bad in ({"name": "x"}, {"token": "t"}, {"name": "x", "token": "t", "permissions": ["View everything"]}, "x"):
        with pytest.raises(ValueError):
            state.add_from_dict(bad)


def test_appcontrol_objects(appcontrol):
    computers = call(appcontrol, AC + "computer", AC_FULL).json
    assert len(computers) == 8 and all(set(item) == set(onprem_appcontrol.FIELDS["computer"]) for item in computers)
    for name in ("policy", "fileCatalog", "approvalRequest"):
        items = call(appcontrol, AC + name, AC_FULL).json
        assert items and all(set(item) == set(onprem_appcontrol.FIELDS[name]) for item in items)
    policies = call(appcontrol, AC + "policy", AC_FULL).json
    assert sum(policy["totalComputers"] for policy in policies) == 8
    first = computers[0]
    assert call(appcontrol, AC + "computer/{0}".format(first["id"]), AC_FULL).json == first
    assert call(appcontrol, AC + "computer/{0}".format(first["id"]), AC_COMPUTERS).status == 200
    assert call(appcontrol, AC + "computer/999999", AC_FULL).status == 404
    assert call(appcontrol, AC + "computer/{0}".format(first["id"]), AC_NOPERMS).status == 401
    assert call(appcontrol, AC + "policy/2", AC_COMPUTERS).status == 401
    assert call(appcontrol, AC + "event", AC_FULL).status == 404
    assert call(appcontrol, AC + "computer", AC_FULL, method="POST").status == 405


def test_appcontrol_query_syntax(appcontrol):
    def ids(query, token=AC_FULL):
        answer = call(appcontrol, AC + "computer?" + query, token)
        assert answer.status == 200, answer.text
        return answer.json if isinstance(answer.json, dict) else [item["id"] for item in answer.json]

    computers = call(appcontrol, AC + "computer", AC_FULL).json
    every = [item["id"] for item in computers]
    windows = [item["id"] for item in computers if item["osShortName"].startswith("Windows")]
    assert ids("q=osShortName:windows*") == windows
    assert ids("q=osShortName:windows*&limit=-1") == {"count": len(windows)}
    assert ids("q=osShortName!windows*") == [i for i in every if i not in windows]
    assert ids("q=connected:false") == [item["id"] for item in computers if not item["connected"]]
    assert ids("q=ipAddress:10.1.0.1|10.1.0.2") == every[:2]
    assert ids("q=name:CORP\\WS-00003") == [every[2]]
    assert ids("q=id>{0}&q=id<{1}".format(every[1], every[4])) == every[2:4]
    assert ids("q=cbSensorFlags%2B3") == [item["id"] for item in computers if item["cbSensorFlags"] == 3]
    assert ids("q=cbSensorFlags-1") == [item["id"] for item in computers if item["cbSensorFlags"] == 0]
    assert ids("q=dateCreated>-1000d") == every and ids("q=lastPollDate>-1s") == []
    assert ids("q=computerTag!") == [] and ids("q=computerTag:") == every
    assert ids("q=ID={0}".format(every[0])) == [every[0]]
    assert ids("limit=2&offset=1") == every[1:3] and ids("limit=0&offset=3") == every
    assert ids("sort=id DESC") == every[::-1] and ids("sort=name desc&limit=1") == [every[-1]]
    groups = call(appcontrol, AC + "computer?group=connected", AC_FULL).json
    assert sum(group["count"] for group in groups) == 8 and {group["value"] for group in groups} <= {True, False}
    files = call(appcontrol, AC + "fileCatalog", AC_FULL).json
    assert call(appcontrol, AC + "fileCatalog?q=SHA256:" + files[3]["sha256"].lower(), AC_FULL).json == [files[3]]


@pytest.mark.parametrize("query", ["limit=abc", "limit=-2", "offset=-1", "offset=x", "q=nosuchfield:1", "q=:x", "q=id:abc",
                                   "q=name%2B1", "q=dateCreated>yesterday", "sort=nosuch", "sort=id UP", "group=nosuch",
                                   "rows=5", "q=connected:maybe"])
def test_appcontrol_bad_queries_are_400(appcontrol, query):
    answer = call(appcontrol, AC + "computer?" + query, AC_FULL)
    assert answer.status == 400 and answer.text.startswith("400 - Bad Request: ")


def test_appcontrol_default_limit(tmp_path):
    with server_for(tmp_path, onprem.APP_CONTROL, devices=1005) as server:
        assert len(call(server, AC + "computer", AC_FULL).json) == 1000
        assert len(call(server, AC + "computer?limit=0", AC_FULL).json) == 1005
        assert call(server, AC + "computer?limit=-1", AC_COMPUTERS).json == {"count": 1005}


def test_appcontrol_seed_is_deterministic(tmp_path):
    first = SimulatorState(SimulatorConfig(str(tmp_path), devices=6, seed=3, product=onprem.APP_CONTROL)).onprem.objects
    again = SimulatorState(SimulatorConfig(str(tmp_path), devices=6, seed=3, product=onprem.APP_CONTROL)).onprem.objects
    other = SimulatorState(SimulatorConfig(str(tmp_path), devices=6, seed=4, product=onprem.APP_CONTROL)).onprem.objects
    assert first == again and first["fileCatalog"] != other["fileCatalog"]


# --- wiring ---------------------------------------------------------------------------------------------------------


def test_cbc_mode_is_unchanged(tmp_path):
    with server_for(tmp_path, onprem.CBC, devices=2) as server:
        state = server.state
        assert state.onprem is None and state.config.product == "cbc" and len(state.orgs["ABCD1234"].devices) == 2
        assert call(server, "/api/info", EDR_ADMIN).status == 404
        assert server.control_routes.find_api("GET", "/_sim/onprem") is None


def test_onprem_modes_seed_no_cbc_orgs_and_scrub_tokens(tmp_path):
    for product, secrets in ((onprem.EDR, [EDR_ADMIN, EDR_ANALYST]), (onprem.APP_CONTROL, [AC_FULL, AC_COMPUTERS, AC_NOPERMS])):
        state = SimulatorState(SimulatorConfig(str(tmp_path), devices=2, product=product))
        assert state.orgs == {} and state.onprem.product == product
        assert set(secrets) <= set(state.known_secrets())


def test_cli_rejects_bad_product_options(tmp_path, capsys):
    assert cli.main(["--state-dir", str(tmp_path), "--product", "edr", "--edr-url", "https://x"]) == 2
    assert "--edr-url applies to --product app_control only" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        cli.main(["--state-dir", str(tmp_path), "--product", "protection"])
    assert info.value.code == 2
    assert not os.path.exists(os.path.join(str(tmp_path), "simulator.json"))


# --- live simulators over HTTPS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def edr_sim(tmp_path_factory):
    simulator = Simulator.start(tmp_path_factory.mktemp("edr"), devices=4, extra_args=["--product", "edr"])
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture(scope="module")
def ac_sim(tmp_path_factory, edr_sim):
    simulator = Simulator.start(tmp_path_factory.mktemp("appcontrol"), devices=4,
                                extra_args=["--product", "app_control", "--edr-url", edr_sim.url])
    try:
        yield simulator
    finally:
        simulator.stop()


def get(sim, path, token=None, header="X-Auth-Token"):
    with requests.Session() as session:
        session.trust_env = False
        headers = {} if token is None else {header: token}
        return session.get(sim.url + path, headers=headers, verify=sim.ca_file, timeout=30)


def test_live_edr(edr_sim):
    with open(os.path.join(edr_sim.state_dir, "simulator.json"), encoding="utf-8") as handle:
        info = json.load(handle)
    assert info["product"] == "edr" == edr_sim.product and info["url"] == edr_sim.url
    mark = edr_sim.mark()
    assert get(edr_sim, "/api/info", EDR_ANALYST, header="x-auth-token").json()["version"] == onprem_edr.DEFAULT_VERSION
    assert get(edr_sim, "/api/users", EDR_ADMIN).status_code == 200
    denied = get(edr_sim, "/api/users", EDR_ANALYST)
    assert denied.status_code == 403 and denied.headers["Content-Type"] == "text/html; charset=utf-8"
    assert get(edr_sim, "/api/user/edradmin", EDR_ADMIN).json()["global_admin"] is True
    assert get(edr_sim, "/api/info", BAD_EDR).status_code == 401 and get(edr_sim, "/api/info").status_code == 401
    lines = edr_sim.requests(since=mark)
    assert [(line["api"], line["status"], line["auth"]) for line in lines] == [
        ("edr.info", 200, "token:analyst"), ("edr.users", 200, "token:edradmin"), ("edr.users", 403, "token:analyst"),
        ("edr.user", 200, "token:edradmin"), ("edr.info", 401, "token:<unknown>"), ("edr.info", 401, None)]
    assert all(set(line) - {"denied_permission"} == LOG_KEYS and line["org_key"] is None for line in lines)
    assert lines[2]["denied_permission"] == "global_admin"
    with open(edr_sim.log_file, encoding="utf-8") as handle:
        text = handle.read()
    assert EDR_ADMIN not in text and EDR_ANALYST not in text


def test_live_edr_control_calls(edr_sim):
    try:
        state = edr_sim.onprem()
        assert state["product"] == "edr" and [user["username"] for user in state["users"]] == ["edradmin", "analyst"]
        assert "token" not in json.dumps(state["users"])
        assert edr_sim.onprem_settings(denied_status=405)["denied_status"] == 405
        assert get(edr_sim, "/api/users", EDR_ANALYST).status_code == 405
        edr_sim.add_onprem_user(username="bit9", token="b" * 40, global_admin=True)
        assert get(edr_sim, "/api/users", "b" * 40).status_code == 200
        with pytest.raises(requests.exceptions.HTTPError) as info:
            edr_sim.onprem_settings(denied_status=500)
        assert info.value.response.status_code == 400
        with pytest.raises(requests.exceptions.HTTPError):
            edr_sim.add_onprem_user(username="x")
        edr_sim.add_fault(path="^/api/info$", status=503, count=1)
        mark = edr_sim.mark()
        assert get(edr_sim, "/api/info", EDR_ADMIN).status_code == 503
        (line,) = edr_sim.requests(since=mark)
        assert line["fault"] and line["api"] == "edr.info" and line["auth"] == "token:edradmin"
    finally:
        edr_sim.reset()
    assert get(edr_sim, "/api/users", EDR_ANALYST).status_code == 403
    assert get(edr_sim, "/api/info", "b" * 40).status_code == 401


def test_live_appcontrol(ac_sim, edr_sim):
    assert ac_sim.product == "app_control"
    mark = ac_sim.mark()
    assert get(ac_sim, AC + "computer?limit=-1", AC_COMPUTERS).json() == {"count": 4}
    (row,) = get(ac_sim, AC + "serverConfig?q=name:CBServerUrl", AC_FULL).json()
    assert row["value"] == edr_sim.url
    bad_token, no_permission = get(ac_sim, AC + "serverConfig", BAD_AC), get(ac_sim, AC + "serverConfig", AC_COMPUTERS)
    assert bad_token.status_code == no_permission.status_code == 401 and bad_token.text == no_permission.text
    lines = ac_sim.requests(since=mark)
    assert [(line["api"], line["status"], line["auth"]) for line in lines] == [
        ("appcontrol.computer", 200, "token:acviewer"), ("appcontrol.serverConfig", 200, "token:acadmin"),
        ("appcontrol.serverConfig", 401, "token:<unknown>"), ("appcontrol.serverConfig", 401, "token:acviewer")]
    assert lines[0]["query"] == {"limit": "-1"} and lines[3]["denied_permission"] == "View system configuration"
    assert all(set(line) - {"denied_permission"} == LOG_KEYS for line in lines)
    with open(ac_sim.log_file, encoding="utf-8") as handle:
        text = handle.read()
    assert AC_FULL not in text and AC_COMPUTERS not in text


def test_live_appcontrol_edr_url_control(ac_sim, edr_sim):
    try:
        assert ac_sim.onprem()["settings"]["edr_url"] == edr_sim.url
        assert ac_sim.set_edr_url("https://elsewhere.example.com")["edr_url"] == "https://elsewhere.example.com"
        assert get(ac_sim, AC + "serverConfig?q=name:CBServerUrl", AC_FULL).json()[0]["value"] == "https://elsewhere.example.com"
        ac_sim.set_edr_url(None)
        assert get(ac_sim, AC + "serverConfig?q=name:CBServerUrl", AC_FULL).json() == []
        ac_sim.add_onprem_user(name="reader", token="AC000000-0000-4000-8000-0000000000BB", permissions=["View files"])
        assert get(ac_sim, AC + "fileCatalog?limit=-1", "AC000000-0000-4000-8000-0000000000BB").json() == {"count": 18}
        with pytest.raises(requests.exceptions.HTTPError):
            ac_sim.set_edr_url(42)
    finally:
        assert ac_sim.reset() == {"status": "reset"}
    assert get(ac_sim, AC + "serverConfig?q=name:CBServerUrl", AC_FULL).json()[0]["value"] == edr_sim.url
    assert get(ac_sim, AC + "fileCatalog?limit=-1", "AC000000-0000-4000-8000-0000000000BB").status_code == 401


def test_live_cbapi_clients(edr_sim, ac_sim):
    """cbapi (the legacy client whose behaviour the facts describe) connects to both modes."""
    response_api = pytest.importorskip("cbapi.response")
    protection_api = pytest.importorskip("cbapi.protection")
    errors = pytest.importorskip("cbapi.errors")
    edr_api = response_api.CbEnterpriseResponseAPI(url=edr_sim.url, token=EDR_ANALYST, ssl_verify=True, ssl_cert_file=edr_sim.ca_file)
    assert str(edr_api.cb_server_version).startswith("7.8.0")
    admin_api = response_api.CbEnterpriseResponseAPI(url=edr_sim.url, token=EDR_ADMIN, ssl_verify=True, ssl_cert_file=edr_sim.ca_file)
    assert admin_api.select(response_api.User, "analyst").global_admin is False
    ac_api = protection_api.CbEnterpriseProtectionAPI(url=ac_sim.url, token=AC_FULL, ssl_verify=True, ssl_cert_file=ac_sim.ca_file)
    assert str(ac_api.cb_server_version) == "8.9.4.12" and len(ac_api.select(protection_api.Computer)) == 4
    with pytest.raises(errors.UnauthorizedError, match="Invalid API token"):
        protection_api.CbEnterpriseProtectionAPI(url=ac_sim.url, token=AC_COMPUTERS, ssl_verify=True, ssl_cert_file=ac_sim.ca_file)
