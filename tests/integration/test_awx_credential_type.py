# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX / AAP credential type of docs/awx/cbc_credential_type.yml, injected as AWX would inject it.

``render`` follows AWX's ``CredentialType.inject_credential``: the input values go into a Jinja2 namespace (an empty
string is left out, so it renders as an empty string like a missing input; a missing boolean input is False), each
``file`` injector is rendered into a private file whose path becomes ``tower.filename.<name>``, then every ``env``
injector is rendered. ``check_credential_type`` makes the checks AWX makes when the type is created. The rendered
variables are then the whole CBC environment of a real ansible-playbook run against the simulator, with no
connection options in the playbook.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import stat
import tempfile

import pytest
import trustme
import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from playbook_runner import FULL_TOKEN, ORG, REPO_ROOT, run_playbook

from ansible_collections.carbonblack.cloud.plugins.module_utils.credentials import MODULE_ENVIRONMENT_VARIABLES

CREDENTIAL_TYPE = os.path.join(REPO_ROOT, "docs", "awx", "cbc_credential_type.yml")
OAUTH = {"csp_oauth_app_id": "sim-oauth-app", "csp_oauth_app_secret": "sim-oauth-secret"}
API_TOKEN = "sim-csp-api-token"
SECRETS = ("FULLSECRETKEY00000000000", "sim-oauth-secret", API_TOKEN)
READ_BY_MODULES = set(name for dummy, names in MODULE_ENVIRONMENT_VARIABLES for name in names)
TASKS = [
    {"carbonblack.cloud.cbc_api_key_check": {"apis": ["devices"], "required": ["devices"]}},
    {"carbonblack.cloud.cbc_policy_info": {}},
]

# AWX's schema of CredentialType.inputs fields (awx/main/fields.py, CredentialTypeInputField).
FIELD_KEYS = {"type", "format", "choices", "id", "label", "help_text", "multiline", "secret", "ask_at_runtime", "default"}
STRING_ONLY_KEYS = ("choices", "multiline", "format", "secret")
NAME_RE = re.compile(r"^[a-zA-Z_]+[a-zA-Z0-9_]*$")
FILE_LABEL_RE = re.compile(r"^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$")


def load_credential_type():
    with open(CREDENTIAL_TYPE) as handle:
        return yaml.safe_load(handle)


class Namespace:
    """A plain attribute holder, like AWX's TowerNamespace."""


def check_credential_type(credential_type):
    """Raise AssertionError where AWX would refuse to create the credential type."""
    assert credential_type["kind"] in ("cloud", "net"), "custom credential types are cloud or net"
    assert set(credential_type) <= {"name", "description", "kind", "inputs", "injectors"}
    inputs, injectors = credential_type["inputs"], credential_type["injectors"]
    assert set(inputs) <= {"fields", "required"}
    ids = []
    for field in inputs["fields"]:
        assert set(field) <= FIELD_KEYS and "id" in field and "label" in field, field
        assert NAME_RE.match(field["id"]) and field["id"] != "tower", field["id"]
        assert field.get("type", "string") in ("string", "boolean"), field
        if field.get("type") == "boolean":
            assert not any(key in field for key in STRING_ONLY_KEYS), field
        ids.append(field["id"])
    assert len(ids) == len(set(ids)), "field ids must be unique"
    assert set(inputs.get("required", [])) <= set(ids)
    assert set(injectors) <= {"file", "env", "extra_vars"}
    assert all(FILE_LABEL_RE.match(label) for label in injectors.get("file", {}))
    for name, template in injectors.get("env", {}).items():
        assert NAME_RE.match(name) and not name.startswith("ANSIBLE_"), name
        assert re.match(r"^[\x00-\x7F]*$", template), name
    # Every template must render with every field defined (StrictUndefined): no unknown field, valid syntax.
    example = dict((field_id, "EXAMPLE") for field_id in ids)
    example["tower"] = Namespace()
    example["tower"].filename = Namespace()
    for label in injectors.get("file", {}):
        setattr(example["tower"].filename, label.split(".")[1], "EXAMPLE_FILENAME")
    sandbox = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for kind in ("file", "env", "extra_vars"):
        for template in injectors.get(kind, {}).values():
            sandbox.from_string(template).render(example)


def render(credential_type, inputs, private_dir):
    """Return the environment AWX injects for a credential with ``inputs`` (field id -> value)."""
    tower = Namespace()
    namespace = {"tower": tower}
    for field_id, value in inputs.items():
        if isinstance(value, bool) or len(value):
            namespace[field_id] = value
    for field in credential_type["inputs"]["fields"]:
        if field.get("type") == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    sandbox = ImmutableSandboxedEnvironment()
    env_dir = os.path.join(str(private_dir), "env")
    os.makedirs(env_dir, exist_ok=True)
    for label, template in credential_type["injectors"].get("file", {}).items():
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as stream:
            stream.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IWGRP)
        if "." not in label:
            tower.filename = path
        else:
            if not hasattr(tower, "filename"):
                tower.filename = Namespace()
            setattr(tower.filename, label.split(".")[1], path)
    return dict((name, sandbox.from_string(template).render(**namespace))
                for name, template in credential_type["injectors"]["env"].items())


def ca_pem(sim):
    with open(sim.ca_file) as handle:
        return handle.read()


def base_inputs(sim, **extra):
    return dict({"url": sim.url, "org_key": ORG, "ssl_cert_file": ca_pem(sim)}, **extra)


# ---------------------------------------------------------------- the file itself

def test_the_credential_type_is_valid_for_awx_and_ships_in_the_collection():
    credential_type = load_credential_type()
    check_credential_type(credential_type)
    fields = dict((field["id"], field) for field in credential_type["inputs"]["fields"])
    assert set(field_id for field_id, field in fields.items() if field.get("secret")) == {
        "token", "csp_oauth_app_secret", "csp_api_token"}
    assert fields["ssl_cert_file"].get("multiline") is True
    assert credential_type["inputs"]["required"] == ["url", "org_key"]
    env = credential_type["injectors"]["env"]
    assert set(env) <= READ_BY_MODULES, "every injected variable must be read by the modules"
    assert set(env) == {"CBC_URL", "CBC_ORG_KEY", "CBC_TOKEN", "CBC_CSP_OAUTH_APP_ID", "CBC_CSP_OAUTH_APP_SECRET",
                        "CBC_CSP_API_TOKEN", "CBC_CSP_URL_OVERRIDE", "CBC_SSL_VERIFY", "CBC_SSL_VERIFY_HOSTNAME",
                        "CBC_SSL_CERT_FILE", "CBC_SSL_FORCE_TLS_1_2", "CBC_PROXY", "CBC_IGNORE_SYSTEM_PROXY"}
    assert "{{ tower.filename.ca_bundle" in env["CBC_SSL_CERT_FILE"]
    with open(os.path.join(REPO_ROOT, "galaxy.yml")) as handle:
        ignored = yaml.safe_load(handle)["build_ignore"]
    assert not any(pattern.strip("/") in ("docs", "docs/awx", "docs/awx/cbc_credential_type.yml") for pattern in ignored)


def test_a_credential_with_only_the_required_inputs_injects_empty_variables(tmp_path):
    credential_type = load_credential_type()
    env = render(credential_type, {"url": "https://cbc.example.com", "org_key": ORG}, tmp_path)
    assert env.pop("CBC_URL") == "https://cbc.example.com" and env.pop("CBC_ORG_KEY") == ORG
    # Every other variable is injected, empty: unchecked boxes keep TLS verification on, an empty CA is no file.
    assert env == dict((name, "") for name in env)


def test_boxes_and_the_ca_render_to_values_the_modules_read(tmp_path):
    credential_type = load_credential_type()
    env = render(credential_type, {"url": "https://cbc.example.com", "org_key": ORG, "ssl_cert_file": "PEM\n",
                                   "disable_ssl_verify": True, "disable_ssl_verify_hostname": True,
                                   "ssl_force_tls_1_2": True, "ignore_system_proxy": True,
                                   "proxy": "http://proxy.example.com:3128"}, tmp_path)
    assert (env["CBC_SSL_VERIFY"], env["CBC_SSL_VERIFY_HOSTNAME"]) == ("false", "false")
    assert (env["CBC_SSL_FORCE_TLS_1_2"], env["CBC_IGNORE_SYSTEM_PROXY"]) == ("true", "true")
    assert env["CBC_PROXY"] == "http://proxy.example.com:3128"
    with open(env["CBC_SSL_CERT_FILE"]) as handle:
        assert handle.read() == "PEM\n"
    assert os.path.dirname(env["CBC_SSL_CERT_FILE"]) == str(tmp_path / "env")
    # Boxes unchecked (False, as AWX stores them): nothing is injected.
    env = render(credential_type, {"url": "https://cbc.example.com", "org_key": ORG, "disable_ssl_verify": False,
                                   "ssl_force_tls_1_2": False}, tmp_path)
    assert env["CBC_SSL_VERIFY"] == "" and env["CBC_SSL_FORCE_TLS_1_2"] == ""


# ---------------------------------------------------------------- real playbook runs, one per auth mode

MODES = {
    "api_key": ({"token": FULL_TOKEN}, "api_key", "FULLACCESS", [], "api_key:FULLACCESS"),
    "csp_oauth_app": (OAUTH, "csp_oauth_app", "sim-oauth-app", ["csp.oauth_token"], "bearer:sim-oauth-app"),
    "csp_api_token": ({"csp_api_token": API_TOKEN}, "csp_api_token", None, ["csp.api_token"], "bearer:sim-csp-user"),
}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_each_auth_mode_runs_from_the_injected_environment_alone(simulator, tmp_path, mode):
    credentials, auth_mode, api_id, exchanges, auth_label = MODES[mode]
    inputs = base_inputs(simulator, **credentials)
    if exchanges:
        inputs["csp_url_override"] = simulator.url
    env = render(load_credential_type(), inputs, tmp_path / "private")
    assert env["CBC_SSL_CERT_FILE"] and env["CBC_SSL_VERIFY"] == ""
    mark = simulator.mark()
    run = run_playbook(tmp_path / "run", TASKS, env=env, args=["-vvv"])
    check, policies = run[0], run[1]
    assert not check.get("failed") and not policies.get("failed"), (check, policies)
    assert check["auth_mode"] == auth_mode and check["accessible"] == ["devices"]
    assert check["url"] == simulator.url and check["org_key"] == ORG
    if api_id:
        assert check["api_id"] == api_id
    seen = simulator.requests(since=mark)
    assert [entry["api"] for entry in seen if entry["api"].startswith("csp.")] == exchanges, seen
    api_calls = [entry for entry in seen if not entry["api"].startswith("csp.")]
    assert [entry["api"] for entry in api_calls] == ["devices.search", "policies.summary"]
    assert all(entry["auth"] == auth_label and entry["status"] == 200 for entry in api_calls), api_calls
    run.assert_no_secret(*SECRETS)


def test_unchecked_tls_boxes_keep_verification_on_and_checking_one_turns_it_off(simulator, tmp_path):
    other_ca = trustme.CA().cert_pem.bytes().decode()
    credential_type = load_credential_type()
    check = [TASKS[0]]

    wrong_ca = render(credential_type, base_inputs(simulator, token=FULL_TOKEN, ssl_cert_file=other_ca), tmp_path / "a")
    run = run_playbook(tmp_path / "run-a", check, env=wrong_ca, args=["-vvv"])
    assert run[0]["failed"] is True
    assert run[0]["msg"].startswith("TLS verification of %s failed" % simulator.url), run[0]["msg"]
    run.assert_no_secret(*SECRETS)

    no_verify = render(credential_type, base_inputs(simulator, token=FULL_TOKEN, ssl_cert_file=other_ca,
                                                    disable_ssl_verify=True), tmp_path / "b")
    assert no_verify["CBC_SSL_VERIFY"] == "false"
    run = run_playbook(tmp_path / "run-b", check, env=no_verify)
    assert not run[0].get("failed") and run[0]["accessible"] == ["devices"], run[0]


def test_the_documented_module_example_passes_the_templates_through_as_text(tmp_path):
    """docs/awx.md feeds the file to awx.awx.credential_type through lookup('file') | from_yaml: nothing is templated."""
    credential_type = load_credential_type()
    expression = "{{ lookup('ansible.builtin.file', '%s') | from_yaml }}" % CREDENTIAL_TYPE
    task = {"ansible.builtin.debug": {"msg": {"inputs": "{{ cbc_type.inputs }}", "injectors": "{{ cbc_type.injectors }}"}}}
    run = run_playbook(tmp_path, [task], play_vars={"cbc_type": expression})
    assert run[0]["msg"] == {"inputs": credential_type["inputs"], "injectors": credential_type["injectors"]}
