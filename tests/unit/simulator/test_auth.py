"""Unit tests of identities, authentication, RBAC and the CSP token endpoints."""

import base64
import json
import time

import pytest

from cbcsim import auth, csp
from cbcsim.protocol import ApiError, RequestContext
from cbcsim.state import SimulatorConfig, SimulatorState


def make_state(**kwargs):
    return SimulatorState(SimulatorConfig("/nonexistent", devices=2, **kwargs))


def headers(**values):
    return {key.replace("_", "-"): value for key, value in values.items()}


def test_default_api_keys():
    state = make_state()
    identity, label = auth.authenticate({"X-Auth-Token": "FULLSECRETKEY00000000000/FULLACCESS"}, state.identities, state.tokens)
    assert label == "api_key:FULLACCESS" and identity.org_key == "ABCD1234"
    assert all(identity.has_permission(p) for p in auth.ALL_PERMISSIONS)
    reader, unused_label = auth.authenticate({"X-Auth-Token": "DEVICEREADSECRET00000000/DEVICEREAD"}, state.identities, state.tokens)
    assert reader.has_permission("device:READ") and not reader.has_permission("org.policies:READ")
    other, unused_label = auth.authenticate({"X-Auth-Token": "OTHERORGSECRET0000000000/OTHERORG"}, state.identities, state.tokens)
    assert other.org_key == "WXYZ9876"


@pytest.mark.parametrize("hdrs", [
    {},
    {"X-Auth-Token": "FULLSECRETKEY00000000000"},
    {"X-Auth-Token": "wrong/FULLACCESS"},
    {"X-Auth-Token": "FULLSECRETKEY00000000000/NOSUCHKEY"},
    {"X-Auth-Token": "/FULLACCESS"},
    {"Authorization": "Bearer nope"},
    {"Authorization": "Basic abc"},
])
def test_bad_credentials_are_401(hdrs):
    state = make_state()
    with pytest.raises(ApiError) as info:
        auth.authenticate(hdrs, state.identities, state.tokens)
    assert info.value.status == 401 and info.value.error_code == "UNAUTHORIZED"


def test_authorize_org_and_permissions():
    state = make_state()
    reader = state.identities.api_key("DEVICEREAD", "DEVICEREADSECRET00000000")
    auth.authorize(reader, "ABCD1234", "device:READ")
    with pytest.raises(ApiError) as info:
        auth.authorize(reader, "ABCD1234", "org.policies:READ")
    assert info.value.status == 403 and info.value.message.endswith("requires org.policies:READ")
    with pytest.raises(ApiError) as info:
        auth.authorize(reader, "WXYZ9876", "device:READ")
    assert info.value.status == 404 and "WXYZ9876" in info.value.message and "not found" in info.value.message


def test_claimed_auth_label_never_leaks_secrets():
    tokens = auth.TokenStore(60)
    assert auth.claimed_auth_label({"X-Auth-Token": "SECRET/ID1"}, tokens) == "api_key:ID1"
    assert auth.claimed_auth_label({"X-Auth-Token": "SECRETONLY"}, tokens) == "api_key:<malformed>"
    assert auth.claimed_auth_label({"Authorization": "Bearer unknown"}, tokens) == "bearer:<unknown>"
    basic = "Basic " + base64.b64encode(b"client:secret").decode()
    assert auth.claimed_auth_label({"Authorization": basic}, tokens) == "csp_basic:client"
    assert auth.claimed_auth_label({}, tokens) is None


def test_identity_from_dict_validation():
    identity = auth.identity_from_dict({"type": "api_key", "api_id": "K", "secret": "S", "permissions": "*"})
    assert identity.org_key == "ABCD1234" and identity.has_permission("org.kits:EXECUTE")
    token = auth.identity_from_dict({"type": "api_token", "token": "T", "label": "me", "org_key": "ORG2"})
    assert token.name == "me" and not token.has_permission("device:READ")
    for bad in ({"type": "x"}, {"type": "api_key", "api_id": "K"}, {"api_id": "K", "secret": "S", "permissions": "device:READ"}, []):
        with pytest.raises(ValueError):
            auth.identity_from_dict(bad)


def test_keys_file_add_and_replace(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps([{"api_id": "EXTRA", "secret": "EXTRASECRET", "permissions": ["org.alerts:READ"]}]))
    state = make_state(keys_file=str(path))
    assert state.identities.api_key("EXTRA", "EXTRASECRET") is not None
    assert state.identities.api_key("FULLACCESS", "FULLSECRETKEY00000000000") is not None
    path.write_text(json.dumps({"replace": True, "identities": [{"api_id": "ONLY", "secret": "ONLYSECRET"}]}))
    state = make_state(keys_file=str(path))
    assert state.identities.api_key("FULLACCESS", "FULLSECRETKEY00000000000") is None
    assert state.identities.api_key("ONLY", "ONLYSECRET") is not None


def csp_call(handler, state, body=b"", hdrs=None, content_type="application/x-www-form-urlencoded"):
    hdrs = dict(hdrs or {})
    hdrs.setdefault("Content-Type", content_type)
    return handler(RequestContext(state, "POST", "/", {}, hdrs, body))


def basic(client_id, secret):
    return {"Authorization": "Basic " + base64.b64encode("{0}:{1}".format(client_id, secret).encode()).decode()}


def test_oauth_token_endpoint():
    state = make_state()
    body = csp_call(csp.oauth_token, state, b"grant_type=client_credentials", basic("sim-oauth-app", "sim-oauth-secret")).body
    assert set(body) == {"access_token", "expires_in", "id_token", "refresh_token", "scope", "token_type"}
    assert body["token_type"] == "bearer" and body["scope"] and body["expires_in"] == 1800
    identity, label = auth.authenticate({"Authorization": "Bearer " + body["access_token"]}, state.identities, state.tokens)
    assert label == "bearer:sim-oauth-app" and identity.org_key == "ABCD1234"
    with pytest.raises(ApiError) as info:
        csp_call(csp.oauth_token, state, b"grant_type=client_credentials", basic("sim-oauth-app", "wrong"))
    assert info.value.status == 401 and info.value.to_response().body["message"]
    with pytest.raises(ApiError) as info:
        csp_call(csp.oauth_token, state, b"", basic("sim-oauth-app", "sim-oauth-secret"))
    assert info.value.status == 400
    with pytest.raises(ApiError) as info:
        csp_call(csp.oauth_token, state, b"grant_type=client_credentials")
    assert info.value.status == 401


def test_api_token_endpoint_accepts_api_token_refresh_token_and_json():
    state = make_state()
    first = csp_call(csp.api_token_authorize, state, b"api_token=sim-csp-api-token").body
    assert first["scope"]
    second = csp_call(csp.api_token_authorize, state, b"refresh_token=sim-csp-api-token").body
    third = csp_call(csp.api_token_authorize, state, json.dumps({"refresh_token": first["refresh_token"]}).encode(),
                     content_type="application/json").body
    for token in (first, second, third):
        _identity, label = auth.authenticate({"Authorization": "Bearer " + token["access_token"]}, state.identities, state.tokens)
        assert label == "bearer:sim-csp-user"
    for body in (b"api_token=wrong", b""):
        with pytest.raises(ApiError) as info:
            csp_call(csp.api_token_authorize, state, body)
        assert info.value.status in (400, 401)


def test_token_expiry_and_revocation():
    state = make_state(token_ttl=1)
    token = csp_call(csp.api_token_authorize, state, b"api_token=sim-csp-api-token").body["access_token"]
    state.tokens.lookup_access(token)
    time.sleep(1.1)
    with pytest.raises(ApiError) as info:
        auth.authenticate({"Authorization": "Bearer " + token}, state.identities, state.tokens)
    assert "expired" in info.value.message
    state = make_state()
    token = csp_call(csp.api_token_authorize, state, b"api_token=sim-csp-api-token").body["access_token"]
    assert state.tokens.revoke_all() == 1
    with pytest.raises(ApiError):
        auth.authenticate({"Authorization": "Bearer " + token}, state.identities, state.tokens)
