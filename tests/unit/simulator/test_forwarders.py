"""Unit tests of the Data Forwarder v2 routes: validation, RBAC, CRUD, health_check and the control switches."""

import json

import pytest

from cbcsim import forwarders
from cbcsim.protocol import ApiError, RequestContext
from cbcsim.server import build_api_routes, build_control_routes
from cbcsim.state import SimulatorConfig, SimulatorState

ORG = "ABCD1234"
S3 = {"name": "alerts", "type": "alert", "destination": "aws_s3", "s3_bucket_name": "bucket", "s3_prefix": "p"}
AZURE = {"name": "hits", "type": "watchlist.hit", "destination": "azure_blob_storage", "azure_storage_account": "acct",
         "azure_container_name": "cont", "azure_tenant_id": "t", "azure_client_id": "c"}


@pytest.fixture
def state():
    return SimulatorState(SimulatorConfig("/nonexistent", devices=0, seed=1))


def call(state, method, handler, body=None, query=None, **params):
    raw = json.dumps(body).encode() if body is not None else b""
    ctx = RequestContext(state, method, "/", query or {}, {}, raw, params=dict({"org_key": ORG}, **params))
    return handler(ctx)


def error(state, *args, **kwargs):
    with pytest.raises(ApiError) as info:
        call(state, *args, **kwargs)
    return info.value


def create(state, body):
    response = call(state, "POST", forwarders.create_forwarder, body)
    assert response.status == 201
    return response.body


def settings(state, **values):
    return call(state, "POST", forwarders.control_settings, values).body


def test_routes_permissions_and_write_flags():
    table = build_api_routes()
    base = "/data_forwarder/v2/orgs/ABCD1234/configs"
    expected = {
        ("GET", base): ("forwarders.list", "event-forwarder.settings:READ", False),
        ("GET", base + "/"): ("forwarders.list", "event-forwarder.settings:READ", False),
        ("POST", base): ("forwarders.create", "event-forwarder.settings:CREATE", True),
        ("PUT", base + "/abc"): ("forwarders.update", "event-forwarder.settings:UPDATE", True),
        ("DELETE", base + "/abc"): ("forwarders.delete", "event-forwarder.settings:DELETE", True),
        ("GET", base + "/abc/health_check"): ("forwarders.health_check", "event-forwarder.settings:READ", False),
    }
    for (method, path), (api, permission, write) in expected.items():
        route, params = table.resolve(method, path)
        assert (route.api, route.permission, route.write) == (api, permission, write)
        assert params["org_key"] == ORG
    control = [route.api for route in build_control_routes().routes]
    assert control.count("sim.forwarders") == 2 and "sim.forwarders.settings" in control


def test_create_fills_server_fields_and_defaults(state):
    created = create(state, {"name": "n", "type": "endpoint.event", "s3_bucket_name": "b"})
    assert set(created) == {"id", "org_key", "name", "type", "enabled", "destination", "s3_bucket_name", "s3_prefix",
                            "version_constraint", "current_version", "create_time", "update_time"}
    assert created["org_key"] == ORG and created["enabled"] is True and created["destination"] == "aws_s3"
    assert created["version_constraint"] == created["current_version"] == "1.0.0" and created["s3_prefix"] == ""
    assert created["create_time"].endswith("Z") and len(created["id"]) == 36
    listed = call(state, "GET", forwarders.list_forwarders)
    assert listed.status == 200 and listed.body == [created]


def test_list_shape_switch_and_reset(state):
    created = create(state, S3)
    assert settings(state, list_shape="results")["list_shape"] == "results"
    assert call(state, "GET", forwarders.list_forwarders).body == {"results": [created], "num_found": 1}
    state.reset()
    assert call(state, "GET", forwarders.list_forwarders).body == []


@pytest.mark.parametrize("body, text", [
    ({"type": "alert", "s3_bucket_name": "b"}, "name is required"),
    (dict(S3, type="alerts"), "type must be one of alert, auth.event, endpoint.event, watchlist.hit"),
    (dict(S3, destination="gcs"), "destination must be one of"),
    ({"name": "n", "type": "alert"}, "s3_bucket_name is required"),
    (dict(S3, azure_client_id="c"), "cannot be used with destination aws_s3"),
    (dict(AZURE, type="endpoint.event"), "not supported for type endpoint.event"),
    (dict(AZURE, s3_bucket_name="b"), "cannot be used with destination azure_blob_storage"),
    (dict(AZURE, azure_client_secret="s"), "Unknown field(s): azure_client_secret"),
    (dict(AZURE, azure_tenant_id=""), "azure_tenant_id is required"),
    (dict(S3, version_constraint="1.1.0"), "version_constraint '1.1.0' is not available for type alert"),
    (dict(S3, enabled="yes"), "enabled must be a boolean"),
    (dict(S3, filter="device_os:LINUX"), "Unknown field(s): filter"),
    (dict(S3, filters="x"), "filters must be an array"),
    (dict(S3, filters=[{}]), "filters must be an array"),
    (dict(S3, version_constraint="1.*.0"), "version_constraint must be like 1.0.0, 1.0.* or 1.*.*"),
    (dict(S3, version_constraint="3.*.*"), "version_constraint '3.*.*' is not available for type alert"),
    (dict(S3, colour="red"), "Unknown field(s): colour"),
])
def test_create_validation_is_a_400_and_stores_nothing(state, body, text):
    exc = error(state, "POST", forwarders.create_forwarder, body)
    assert exc.status == 400 and text in exc.message
    assert set(exc.to_response().body) == {"error_code", "message"}
    assert state.org(ORG).forwarders == []


def test_names_need_not_be_unique(state):
    create(state, S3)
    create(state, S3)
    assert len(state.org(ORG).forwarders) == 2


def test_update_is_a_full_put_that_bumps_update_time(state):
    created = create(state, dict(S3, filters=[{"attribute": "alert.severity", "equals": ["7"]}]))
    assert created["filters"] == [{"attribute": "alert.severity", "equals": ["7"]}]
    response = call(state, "PUT", forwarders.update_forwarder, dict(S3, enabled=False, s3_prefix=""),
                    config_id=created["id"])
    assert response.status == 200
    updated = response.body
    assert updated["enabled"] is False and updated["s3_prefix"] == "" and "filters" not in updated
    assert updated["update_time"] > created["update_time"] and updated["create_time"] == created["create_time"]
    assert updated["id"] == created["id"] and updated["version_constraint"] == "1.0.0"
    again = call(state, "PUT", forwarders.update_forwarder, dict(S3, version_constraint="2.0.0"),
                 config_id=created["id"]).body
    assert again["update_time"] > updated["update_time"] and again["current_version"] == "2.0.0"


def test_update_errors(state):
    created = create(state, S3)
    assert error(state, "PUT", forwarders.update_forwarder, S3, config_id="nope").status == 404
    exc = error(state, "PUT", forwarders.update_forwarder, dict(S3, type="watchlist.hit"), config_id=created["id"])
    assert exc.status == 400 and "type cannot be changed" in exc.message
    exc = error(state, "PUT", forwarders.update_forwarder, {"name": "x"}, config_id=created["id"])
    assert exc.status == 400


def test_azure_forwarders_need_the_identity_fields_and_no_secret(state):
    created = create(state, AZURE)
    assert all(created[key] == AZURE[key] for key in AZURE)
    updated = call(state, "PUT", forwarders.update_forwarder, dict(AZURE, enabled=False), config_id=created["id"]).body
    assert updated["enabled"] is False
    s3 = create(state, dict(S3, type="alert"))
    moved = call(state, "PUT", forwarders.update_forwarder, dict(AZURE, type="alert"), config_id=s3["id"]).body
    assert moved["destination"] == "azure_blob_storage" and "s3_bucket_name" not in moved


@pytest.mark.parametrize("kind, constraint, current", [
    ("alert", "2.0.0", "2.0.0"), ("alert", "1.*.*", "1.0.0"), ("endpoint.event", "1.*.*", "1.1.0"),
    ("endpoint.event", "1.0.*", "1.0.0"), ("auth.event", "1.0.*", "1.0.0"),
])
def test_floating_version_constraints_resolve_to_the_newest_match(state, kind, constraint, current):
    created = create(state, dict(S3, type=kind, version_constraint=constraint))
    assert created["version_constraint"] == constraint and created["current_version"] == current


def test_an_empty_list_may_answer_404(state):
    assert settings(state, empty_list_status=404)["empty_list_status"] == 404
    assert error(state, "GET", forwarders.list_forwarders).status == 404
    created = create(state, S3)
    assert call(state, "GET", forwarders.list_forwarders).body == [created]


def test_delete_and_unknown_ids(state):
    created = create(state, S3)
    assert error(state, "DELETE", forwarders.delete_forwarder, config_id="nope").status == 404
    assert error(state, "GET", forwarders.health_check, config_id="nope").status == 404
    response = call(state, "DELETE", forwarders.delete_forwarder, config_id=created["id"])
    assert response.status == 204 and response.body is None
    assert state.org(ORG).forwarders == []
    assert error(state, "DELETE", forwarders.delete_forwarder, config_id=created["id"]).status == 404


def test_misconfigured_bucket_fails_create_update_and_health_check(state):
    created = create(state, S3)
    assert call(state, "GET", forwarders.health_check, config_id=created["id"]).body["healthy"] is True
    settings(state, misconfigured_buckets=["bucket/p"], region="eu-west-2")
    health = call(state, "GET", forwarders.health_check, config_id=created["id"])
    assert health.status == 200 and health.body["healthy"] is False and health.body["status"] == "FAILED"
    exc = error(state, "POST", forwarders.create_forwarder, S3)
    assert exc.status == 400 and exc.error_code == "DESTINATION_VALIDATION_FAILED"
    assert "p/healthcheck/healthcheck.json" in exc.message and "'bucket'" in exc.message
    assert "eu-west-2" in exc.message and "bucket policy" in exc.message
    assert error(state, "PUT", forwarders.update_forwarder, S3, config_id=created["id"]).status == 400
    # another prefix of the same bucket works; a bare bucket entry blocks every prefix
    create(state, dict(S3, s3_prefix="other"))
    settings(state, misconfigured_buckets=["bucket"])
    assert error(state, "POST", forwarders.create_forwarder, dict(S3, s3_prefix="other")).status == 400
    settings(state, misconfigured_buckets=["acct/cont"])
    exc = error(state, "POST", forwarders.create_forwarder, AZURE)
    assert "Azure container 'cont'" in exc.message
    assert len(state.org(ORG).forwarders) == 2


def test_control_settings_validation_and_add(state):
    for body in ({"list_shape": "xml"}, {"misconfigured_buckets": "b"}, {"colour": 1}, {"region": ""},
                 {"empty_list_status": 500}):
        assert error(state, "POST", forwarders.control_settings, body).status == 400
    added = call(state, "POST", forwarders.control_add, {"name": "legacy", "type": "alert", "s3_bucket_name": "b"}).body
    assert added["org_key"] == ORG and "destination" not in added
    assert call(state, "GET", forwarders.control_get).body["forwarders"] == [added]
