# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cbc_api_key_check with product edr and app_control, and the EDR <-> App Control integration check, in real
ansible-playbook runs against the simulator's EDR and App Control modes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

from playbook_runner import REPO_ROOT, run_environment, run_playbook, run_role

EDR_ADMIN = "edad000000000000000000000000000000000001"
EDR_ANALYST = "a7a1000000000000000000000000000000000002"
AC_ADMIN = "AC000000-0000-4000-8000-000000000001"
AC_VIEWER = "AC000000-0000-4000-8000-000000000002"
BAD_EDR = "baad000000000000000000000000000000000000"
SECRETS = (EDR_ADMIN, EDR_ANALYST, AC_ADMIN, AC_VIEWER, BAD_EDR)
ROLE = "carbonblack.cloud.edr_appcontrol_integration_check"


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    from cbcsim.testing import Simulator
    edr = Simulator.start(tmp_path_factory.mktemp("edr"), devices=5, extra_args=["--product", "edr"])
    app = Simulator.start(tmp_path_factory.mktemp("appcontrol"), devices=5, extra_args=["--product", "app_control"])
    yield edr, app
    edr.stop()
    app.stop()


def connection(sim, token):
    return {"url": sim.url, "token": token, "ssl_cert_file": sim.ca_file}


def check(product, sim, token, **options):
    return {"carbonblack.cloud.cbc_api_key_check": dict(connection(sim, token), product=product, **options)}


def test_edr_tokens_versions_and_global_admins(servers, tmp_path):
    edr, unused = servers
    mark = edr.mark()
    run = run_playbook(tmp_path, [
        check("edr", edr, EDR_ADMIN),
        check("edr", edr, EDR_ANALYST),
        check("edr", edr, EDR_ANALYST, username="analyst"),
        check("edr", edr, EDR_ANALYST, require_global_admin=True),
        check("edr", edr, BAD_EDR),
    ], args=["-vvv"])
    admin, analyst, named, required, bad = (run[index] for index in range(5))
    assert not admin.get("failed") and admin["global_admin"] is True and admin["version"].startswith("7.")
    assert admin["global_admin_source"] == "GET /api/users" and admin["auth_mode"] == "user_token"
    assert analyst["global_admin"] is False and not analyst.get("failed")
    assert named["global_admin"] is False and named["global_admin_source"] == "GET /api/user/analyst"
    assert required["failed"] and "is not a Global Administrator" in required["msg"]
    assert "the user's profile page" in required["msg"]
    assert bad["failed"] and "refused the token (HTTP 401 on /api/info)" in bad["msg"]
    seen = edr.requests(since=mark)
    assert [entry["api"] for entry in seen[:2]] == ["edr.info", "edr.users"]
    assert not any(entry["write"] for entry in seen)
    run.assert_no_secret(*SECRETS)


def test_app_control_tokens_objects_and_the_edr_url(servers, tmp_path):
    edr, app = servers
    app.set_edr_url(edr.url)
    run = run_playbook(tmp_path, [
        check("app_control", app, AC_ADMIN),
        check("app_control", app, AC_VIEWER),
        check("app_control", app, "AC000000-0000-4000-8000-00000000dead"),
    ])
    admin, viewer, bad = run[0], run[1], run[2]
    assert admin["readable"] == ["computer", "policy", "fileCatalog", "approvalRequest"]
    assert admin["cb_server_url"] == edr.url and admin["server_config_readable"] is True and admin["version"]
    assert viewer["readable"] == ["computer"] and viewer["server_config_readable"] is False
    assert viewer["objects"]["policy"]["http_status"] == 401 and viewer["cb_server_url"] is None
    assert bad["failed"] and "the token is wrong, or its user's role may read none of these" in bad["msg"]
    run.assert_no_secret(*SECRETS)


@pytest.mark.parametrize("case, edr_token, app_token, configured, failing", [
    ("all good", EDR_ADMIN, AC_ADMIN, "{upper}/", []),
    ("not a global admin", EDR_ANALYST, AC_ADMIN, "{edr}", ["edr_global_admin"]),
    ("another EDR server", EDR_ADMIN, AC_ADMIN, "https://edr-old.example.com", ["edr_url_matches"]),
    ("bad EDR token", BAD_EDR, AC_ADMIN, "{edr}", ["edr_token", "edr_global_admin"]),
    ("App Control role without serverConfig", EDR_ADMIN, AC_VIEWER, "{edr}", ["edr_url_matches"]),
])
def test_the_integration_check_reports_each_check(servers, tmp_path, case, edr_token, app_token, configured, failing):
    edr, app = servers
    # "all good" spells the same server as App Control may hold it: upper case, a trailing slash.
    app.set_edr_url(configured.format(edr=edr.url, upper=edr.url.upper()))
    role_vars = {"edr_appcontrol_integration_check_edr": connection(edr, edr_token),
                 "edr_appcontrol_integration_check_app_control": connection(app, app_token),
                 "edr_appcontrol_integration_check_fail": False}
    run = run_role(tmp_path, ROLE, role_vars, ["edr_appcontrol_integration_check_report"])
    assert run.rc == 0, run.stdout[-3000:]
    report = run.results["edr_appcontrol_integration_check_report"]
    failed = sorted(name for name, result in report["checks"].items() if not result.startswith("ok"))
    assert failed == sorted(failing), (case, report)
    assert report["edr_url"] == edr.url and report["app_control_url"] == app.url
    if "edr_token" not in failing:
        assert report["edr_version"].startswith("7.")
    assert "EDR token valid:" in run.stdout and "App Control's EDR URL is the EDR server in use:" in run.stdout
    run.assert_no_secret(*SECRETS)


def test_the_integration_check_fails_the_play_with_every_failed_check(servers, tmp_path):
    edr, app = servers
    app.set_edr_url("https://edr-old.example.com:8443")
    role_vars = {"edr_appcontrol_integration_check_edr": connection(edr, EDR_ANALYST),
                 "edr_appcontrol_integration_check_app_control": connection(app, AC_ADMIN)}
    run = run_role(tmp_path, ROLE, role_vars, ["edr_appcontrol_integration_check_report"])
    assert run.rc != 0
    assert "The EDR and App Control integration check failed: edr_global_admin: failed" in run.stdout
    assert "edr_url_matches: failed: App Control is configured with https://edr-old.example.com:8443" in run.stdout


def test_the_playbook_runs_the_check_from_extra_vars(servers, tmp_path):
    edr, app = servers
    app.set_edr_url(edr.url)
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps({"edr": connection(edr, EDR_ADMIN), "app_control": connection(app, AC_ADMIN),
                                 "edr_username": "edradmin"}))
    env = run_environment(tmp_path, isolate=False, ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False")
    result = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                             os.path.join(REPO_ROOT, "playbooks", "onprem_integration_check.yml"), "-e", "@%s" % extra],
                            env=env, capture_output=True, text=True, check=False, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    for line in ("EDR token valid: ok", "EDR user is a Global Administrator: ok",
                 "App Control reachable with its token: ok (computer, policy, fileCatalog, approvalRequest readable)",
                 "App Control's EDR URL is the EDR server in use: ok"):
        assert line in result.stdout
    for secret in SECRETS:
        assert secret not in result.stdout + result.stderr
