# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The environment as the modules read it (credentials.environment_settings, settings.resolve_settings).

AWX / AAP credential types inject every variable of the type, empty when its input is empty, so an empty
variable must count as unset, and the variables the collection's credential type injects must all be read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.carbonblack.cloud.plugins.module_utils.redaction import SECRET_KEYS
from ansible_collections.carbonblack.cloud.plugins.module_utils.credentials import (
    BOOLEAN_KEYS,
    CREDENTIAL_KEYS,
    ENVIRONMENT_VARIABLES,
    MODULE_ENVIRONMENT_VARIABLES,
    SDK_DEFAULTS,
    CredentialError,
    environment_credentials,
    environment_settings,
)
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcConfigError
from ansible_collections.carbonblack.cloud.plugins.module_utils.settings import resolve_settings, validate_settings
from credential_helpers import params, write_profile

# No real credential file or CBC_* / CBAPI_* variable may leak into these tests (conftest.py).
pytestmark = pytest.mark.usefixtures("isolated_home")

ALL_NAMES = tuple(name for dummy, names in MODULE_ENVIRONMENT_VARIABLES for name in names)
# What docs/awx/cbc_credential_type.yml injects (tests/integration/test_awx_credential_type.py checks the file).
AWX_INJECTED = {
    "CBC_URL": "url", "CBC_ORG_KEY": "org_key", "CBC_TOKEN": "token",
    "CBC_CSP_OAUTH_APP_ID": "csp_oauth_app_id", "CBC_CSP_OAUTH_APP_SECRET": "csp_oauth_app_secret",
    "CBC_CSP_API_TOKEN": "csp_api_token", "CBC_CSP_URL_OVERRIDE": "csp_url_override",
    "CBC_SSL_VERIFY": "ssl_verify", "CBC_SSL_VERIFY_HOSTNAME": "ssl_verify_hostname",
    "CBC_SSL_CERT_FILE": "ssl_cert_file", "CBC_SSL_FORCE_TLS_1_2": "ssl_force_tls_1_2",
    "CBC_PROXY": "proxy", "CBC_IGNORE_SYSTEM_PROXY": "ignore_system_proxy",
}
SAMPLE = {
    "url": "https://env.example.com", "org_key": "ENVORG", "token": "ENVSECRET/ENVID",
    "csp_oauth_app_id": "env-app", "csp_oauth_app_secret": "env-app-secret", "csp_api_token": "env-api-token",
    "csp_url_override": "https://csp.example.com", "ssl_cert_file": "/tmp/ca.pem", "proxy": "http://proxy:3128",
    "integration": "soc/1.0", "default_timeout": "1200",
    "ssl_verify": "false", "ssl_verify_hostname": "false", "ssl_force_tls_1_2": "true", "ignore_system_proxy": "true",
}
CONVERTED = dict(SAMPLE, default_timeout=1200, ssl_verify=False, ssl_verify_hostname=False, ssl_force_tls_1_2=True,
                 ignore_system_proxy=True)
EMPTY_AWX = dict((name, "") for name in AWX_INJECTED)


def awx(**values):
    """An environment as the credential type injects it: every variable, empty unless given."""
    environ = dict(EMPTY_AWX)
    environ.update(values)
    return environ


# ---------------------------------------------------------------- the variables

def test_every_credential_key_has_one_cbc_variable_and_the_sdk_four_keep_cbapi():
    keys = [key for key, dummy in MODULE_ENVIRONMENT_VARIABLES]
    assert sorted(keys) == sorted(CREDENTIAL_KEYS)
    for key, names in MODULE_ENVIRONMENT_VARIABLES:
        assert names[0] == "CBC_" + key.upper()
    assert MODULE_ENVIRONMENT_VARIABLES[:len(ENVIRONMENT_VARIABLES)] == ENVIRONMENT_VARIABLES
    assert dict(MODULE_ENVIRONMENT_VARIABLES)["token"] == ("CBC_TOKEN", "CBAPI_TOKEN")


@pytest.mark.parametrize("name", sorted(AWX_INJECTED))
def test_every_variable_the_credential_type_injects_is_read(name):
    key = AWX_INJECTED[name]
    assert environment_settings({name: SAMPLE[key]}) == {key: CONVERTED[key]}


@pytest.mark.parametrize("key", ["integration", "default_timeout"])
def test_the_other_credential_keys_are_read_too(key):
    assert environment_settings({"CBC_" + key.upper(): SAMPLE[key]}) == {key: CONVERTED[key]}


@pytest.mark.parametrize("name", ALL_NAMES)
@pytest.mark.parametrize("empty", ["", " ", "\t\n"])
def test_an_empty_variable_is_unset(name, empty):
    assert environment_settings({name: empty}) == {}


def test_the_empty_environment_of_an_unfilled_credential_sets_nothing():
    assert environment_settings(EMPTY_AWX) == {}


@pytest.mark.parametrize("key", ["url", "token", "org_key", "ssl_verify"])
def test_an_empty_cbc_variable_falls_back_to_cbapi(key):
    value = {"url": "https://cbapi.example.com", "token": "S/I", "org_key": "ORG2", "ssl_verify": "off"}[key]
    names = dict(MODULE_ENVIRONMENT_VARIABLES)[key]
    expected = False if key == "ssl_verify" else value
    assert environment_settings({names[0]: "", names[1]: value}) == {key: expected}
    # Set, the CBC_ variable wins, as in the SDK.
    winner = {"url": "https://cbc.example.com", "token": "C/D", "org_key": "ORG1", "ssl_verify": "yes"}[key]
    assert environment_settings({names[0]: winner, names[1]: value}) == {key: True if key == "ssl_verify" else winner}


def test_the_sdk_exact_reader_is_unchanged():
    # environment_credentials stays the SDK's EnvironCredentialProvider (tests/unit/.../test_credentials.py).
    assert environment_credentials({"CBC_TOKEN": "", "CBAPI_TOKEN": "C/D"}) == {"token": ""}
    assert environment_credentials({"CBC_PROXY": "http://p:1"}) == {}
    with pytest.raises(CredentialError):
        environment_credentials({"CBC_SSL_VERIFY": ""})


# ---------------------------------------------------------------- booleans and numbers

BOOLEAN_NAMES = [names[0] for key, names in MODULE_ENVIRONMENT_VARIABLES if key in BOOLEAN_KEYS] + ["CBAPI_SSL_VERIFY"]


@pytest.mark.parametrize("name", BOOLEAN_NAMES)
@pytest.mark.parametrize("word, value", [
    ("true", True), ("True", True), ("YES", True), ("on", True), ("1", True), (" true\n", True),
    ("false", False), ("False", False), ("No", False), ("OFF", False), ("0", False),
])
def test_boolean_words(name, word, value):
    # "True" / "False" are what AWX renders for a boolean input written as {{ field }}.
    assert list(environment_settings({name: word}).values()) == [value]


@pytest.mark.parametrize("name", BOOLEAN_NAMES)
@pytest.mark.parametrize("word", ["y", "nope", "2", "truee"])
def test_a_bad_boolean_is_one_line_naming_the_variable(name, word):
    with pytest.raises(CredentialError) as info:
        environment_settings({name: word})
    message = str(info.value)
    assert isinstance(info.value, CbcConfigError)
    assert message.startswith("environment variable %s is %r, not a boolean. Fix: " % (name, word))
    assert "\n" not in message


def test_default_timeout_is_a_number():
    assert environment_settings({"CBC_DEFAULT_TIMEOUT": " 5000 "}) == {"default_timeout": 5000}
    with pytest.raises(CredentialError) as info:
        environment_settings({"CBC_DEFAULT_TIMEOUT": "5s"})
    assert "CBC_DEFAULT_TIMEOUT" in str(info.value) and "Fix:" in str(info.value)
    assert resolve_settings(params(), environ=awx(CBC_URL="https://e.example.com", CBC_TOKEN="S/I",
                                                  CBC_DEFAULT_TIMEOUT="999999"))["default_timeout"] == 300000


def test_strings_are_kept_as_given():
    assert environment_settings({"CBC_URL": " https://e.example.com"}) == {"url": " https://e.example.com"}
    with pytest.raises(CbcConfigError) as info:
        validate_settings(resolve_settings(params(), environ={"CBC_URL": "https://e.example.com/x", "CBC_TOKEN": "S/I",
                                                              "CBC_ORG_KEY": "ORG"}))
    assert "without a path" in str(info.value)


def test_a_bad_value_never_shows_a_secret():
    environ = awx(CBC_TOKEN="TOPSECRETKEY/ID", CBC_CSP_OAUTH_APP_SECRET="TOPSECRETAPP", CBC_CSP_API_TOKEN="TOPSECRETAPI",
                  CBC_SSL_VERIFY="maybe")
    with pytest.raises(CredentialError) as info:
        environment_settings(environ)
    assert "TOPSECRET" not in str(info.value)


# ---------------------------------------------------------------- precedence in resolve_settings

def test_task_arguments_beat_the_profile_beats_the_environment(isolated_home):
    cred = write_profile(isolated_home / "creds" / "credentials.cbc",
                         "[p]\nurl = https://profile.example.com\norg_key = PROFORG\ncsp_api_token = profile-token\n"
                         "ssl_verify_hostname = true\nproxy = http://profile-proxy:3128\n")
    environ = dict((name, SAMPLE[key]) for name, key in AWX_INJECTED.items())
    settings = resolve_settings(params(profile="p", credential_file=[cred], org_key="TASKORG", ssl_force_tls_1_2=False,
                                       csp_url_override="https://task-csp.example.com"), environ=environ)
    assert settings["org_key"] == "TASKORG"                                   # task
    assert settings["ssl_force_tls_1_2"] is False                             # task (false beats the environment)
    assert settings["csp_url_override"] == "https://task-csp.example.com"     # task
    assert settings["url"] == "https://profile.example.com"                   # profile
    assert settings["csp_api_token"] == "profile-token"                       # profile
    assert settings["ssl_verify_hostname"] is True                            # profile
    assert settings["proxy"] == "http://profile-proxy:3128"                   # profile
    assert settings["token"] == "ENVSECRET/ENVID"                             # environment
    assert settings["csp_oauth_app_secret"] == "env-app-secret"               # environment
    assert settings["ssl_cert_file"] == "/tmp/ca.pem"                         # environment
    assert settings["ssl_verify"] is False and settings["ignore_system_proxy"] is True


def test_empty_variables_leave_the_profile_and_the_defaults_alone(isolated_home):
    cred = write_profile(isolated_home / "creds" / "credentials.cbc",
                         "[p]\nurl = https://profile.example.com\norg_key = PROFORG\ntoken = PS/PID\n")
    settings = resolve_settings(params(profile="p", credential_file=[cred]), environ=awx())
    assert (settings["url"], settings["org_key"], settings["token"]) == ("https://profile.example.com", "PROFORG", "PS/PID")
    for key in ("ssl_verify", "ssl_verify_hostname", "ssl_force_tls_1_2", "ignore_system_proxy", "csp_url_override",
                "ssl_cert_file", "proxy", "csp_api_token", "csp_oauth_app_id", "csp_oauth_app_secret"):
        assert settings[key] == SDK_DEFAULTS[key], key


def test_task_arguments_fill_what_the_credential_leaves_empty():
    environ = awx(CBC_URL="https://e.example.com", CBC_ORG_KEY="ENVORG")
    settings = validate_settings(resolve_settings(params(token="TS/TID"), environ=environ))
    assert (settings["url"], settings["org_key"], settings["token"]) == ("https://e.example.com", "ENVORG", "TS/TID")


@pytest.mark.parametrize("auth", [
    {"CBC_TOKEN": "ES/EID"},
    {"CBC_CSP_OAUTH_APP_ID": "env-app", "CBC_CSP_OAUTH_APP_SECRET": "env-app-secret"},
    {"CBC_CSP_API_TOKEN": "env-api-token"},
])
def test_each_auth_mode_from_the_environment_alone_is_complete_and_reads_no_profile(isolated_home, auth):
    # A default profile that would be read if the environment were incomplete.
    write_profile(isolated_home / "home" / ".carbonblack" / "credentials.cbc",
                  "[default]\nurl = https://default.example.com\norg_key = DEFORG\ntoken = DS/DID\n")
    environ = awx(CBC_URL="https://e.example.com", CBC_ORG_KEY="ENVORG", **auth)
    settings = validate_settings(resolve_settings(params(), environ=environ))
    assert settings["url"] == "https://e.example.com" and settings["org_key"] == "ENVORG"
    for name, value in auth.items():
        assert settings[AWX_INJECTED[name]] == value
    assert settings["token"] == auth.get("CBC_TOKEN")


def test_an_incomplete_environment_with_empty_values_still_reads_the_default_profile(isolated_home):
    write_profile(isolated_home / "home" / ".carbonblack" / "credentials.cbc",
                  "[default]\nurl = https://default.example.com\norg_key = DEFORG\ntoken = DS/DID\n")
    settings = resolve_settings(params(), environ=awx())
    assert settings["url"] == "https://default.example.com" and settings["token"] == "DS/DID"


def test_nothing_but_empty_variables_is_the_usual_clear_error():
    with pytest.raises(CbcConfigError) as info:
        resolve_settings(params(), environ=awx())
    assert "no complete CBC credentials" in str(info.value) and "Fix:" in str(info.value)


def test_an_oauth_app_with_an_empty_secret_names_the_missing_option():
    environ = awx(CBC_URL="https://e.example.com", CBC_ORG_KEY="ENVORG", CBC_CSP_OAUTH_APP_ID="env-app")
    with pytest.raises(CbcConfigError) as info:
        validate_settings(resolve_settings(params(), environ=environ))
    assert str(info.value).startswith("csp_oauth_app_secret is not set")


def test_secret_keys_from_the_environment_are_the_ones_modules_mask():
    # CbcModule.settings adds settings[key] for SECRET_KEYS to no_log_values: the environment's secrets are covered.
    settings = resolve_settings(params(), environ=dict((name, SAMPLE[key]) for name, key in AWX_INJECTED.items()))
    assert set(SECRET_KEYS) <= set(key for name, key in AWX_INJECTED.items())
    assert [settings[key] for key in SECRET_KEYS] == ["ENVSECRET/ENVID", "env-app-secret", "env-api-token"]
