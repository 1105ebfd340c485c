"""Data Forwarder v2: configs list/create/update/delete and health_check (facts section 5).

Simulator switches (per org, through the control API ``/_sim/forwarders...``; ``/_sim/reset``
restores the defaults):

* ``list_shape``: ``"array"`` (default, what real servers answer) or ``"results"``
  (``{"results": [...], "num_found": N}``), so clients can be tested against both shapes.
* ``misconfigured_buckets``: destinations whose test write fails. Each entry is ``"bucket"``
  (every prefix) or ``"bucket/prefix"``; for Azure it names the container (``"container"`` or
  ``"storage_account/container"``). Create and update of a config that points there answer 400,
  and its health_check reports a failure.
* ``region``: the AWS region of the org's forwarder (default ``us-east-1``), named in the
  bucket-test error message as the region the bucket must be in.
* ``empty_list_status``: ``200`` (default, ``[]``) or ``404``, what some real orgs answer when no
  forwarder is configured.

Azure forwarders take no secret: CBC writes as the managed identity ``azure_client_id`` through a
federated credential, so ``azure_client_secret`` is an unknown field (400). Filters are the array
``filters`` (v1's field; v2 is documented as backward compatible), kept as given; ``filter`` is
unknown. An update is a full PUT: a writable field the body leaves out is removed.

Choices where the facts are silent ([UNVERIFIED]) are listed in the README (Data forwarders).
"""

import copy
import re
import uuid
from datetime import datetime, timedelta, timezone

from cbcsim.protocol import ApiError, Response, bad_request, not_found
from cbcsim.routing import ORG

FORWARDER_BASE = "/data_forwarder/v2/orgs/" + ORG + "/configs"
CONFIG_ID = r"(?P<config_id>[^/]+)"

TYPES = ("alert", "auth.event", "endpoint.event", "watchlist.hit")
DESTINATIONS = ("aws_s3", "azure_blob_storage")
#: Accepted ``version_constraint`` values per type; the first one is the default.
VERSION_CONSTRAINTS = {
    "alert": ("1.0.0", "2.0.0"),
    "auth.event": ("1.0.0",),
    "endpoint.event": ("1.0.0", "1.1.0"),
    "watchlist.hit": ("1.0.0",),
}
#: A pinned version, or one floating on patch (1.0.*) or minor (1.*.*) releases.
VERSION_CONSTRAINT_PATTERN = re.compile(r"^\d+\.(\d+\.(\d+|\*)|\*\.\*)$")
S3_FIELDS = ("s3_bucket_name", "s3_prefix")
AZURE_FIELDS = ("azure_storage_account", "azure_container_name", "azure_tenant_id", "azure_client_id")
WRITABLE_FIELDS = ("name", "type", "enabled", "destination", "version_constraint", "filters") + S3_FIELDS + AZURE_FIELDS
READ_ONLY_FIELDS = ("id", "org_key", "create_time", "update_time", "current_version")
LIST_SHAPES = ("array", "results")
DEFAULT_REGION = "us-east-1"
HEALTHCHECK_OBJECT = "healthcheck/healthcheck.json"


# --- per-org simulator settings -------------------------------------------------------------


def sim_settings(org):
    """Return the org's forwarder switches (created on first use).

    They live on the Org object, so ``/_sim/reset`` (which rebuilds the orgs) restores the defaults.
    """
    settings = getattr(org, "forwarder_sim", None)
    if settings is None:
        settings = {"list_shape": "array", "misconfigured_buckets": [], "region": DEFAULT_REGION,
                    "empty_list_status": 200}
        org.forwarder_sim = settings
    return settings


def format_rfc3339(value):
    """Return ``2023-10-03T14:11:14Z`` (seconds, as in the real audit log)."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def next_update_time(previous):
    """Now, but always later than ``previous`` (timestamps have one-second resolution)."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    if previous:
        try:
            before = datetime.strptime(previous, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            before = None
        if before is not None and now <= before:
            now = before + timedelta(seconds=1)
    return format_rfc3339(now)


# --- validation -----------------------------------------------------------------------------


def _require_string(body, key, allow_empty=False):
    value = body.get(key)
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise bad_request("{0} is required and must be a non-empty string".format(key) if not allow_empty
                          else "{0} must be a string".format(key))
    return value


def resolve_version(constraint, allowed):
    """The newest of ``allowed`` that ``constraint`` (``1.0.0``, ``1.0.*``, ``1.*.*``) admits, or None."""
    wanted = constraint.split(".")
    matching = [version for version in allowed
                if all(want in ("*", have) for want, have in zip(wanted, version.split(".")))]
    return max(matching, key=lambda version: tuple(int(part) for part in version.split("."))) if matching else None


def validate_config(body, existing=None):
    """Return the stored config fields for a create (``existing`` None) or full update body; raise 400s."""
    if not isinstance(body, dict):
        raise bad_request("Request body must be a JSON object")
    unknown = sorted(key for key in body if key not in WRITABLE_FIELDS + READ_ONLY_FIELDS)
    if unknown:
        raise bad_request("Unknown field(s): {0}".format(", ".join(unknown)))
    config = {"name": _require_string(body, "name")}
    kind = body.get("type")
    if kind not in TYPES:
        raise ApiError(400, "INVALID_TYPE", "type must be one of {0}, not {1!r}".format(", ".join(TYPES), kind))
    if existing is not None and existing.get("type") in TYPES and kind != existing["type"]:
        raise ApiError(400, "INVALID_REQUEST", "type cannot be changed (config has type {0}); delete the config and "
                       "create a new one".format(existing["type"]))
    config["type"] = kind
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise bad_request("enabled must be a boolean")
    config["enabled"] = enabled
    destination = body.get("destination", "aws_s3")
    if destination not in DESTINATIONS:
        raise bad_request("destination must be one of {0}, not {1!r}".format(", ".join(DESTINATIONS), destination))
    config["destination"] = destination
    if destination == "aws_s3":
        present = [key for key in AZURE_FIELDS if body.get(key) not in (None, "")]
        if present:
            raise bad_request("{0} cannot be used with destination aws_s3".format(", ".join(present)))
        config["s3_bucket_name"] = _require_string(body, "s3_bucket_name")
        prefix = body.get("s3_prefix", "")
        if prefix is None:
            prefix = ""
        if not isinstance(prefix, str):
            raise bad_request("s3_prefix must be a string")
        config["s3_prefix"] = prefix
    else:
        if kind == "endpoint.event":
            raise bad_request("destination azure_blob_storage is not supported for type endpoint.event; use aws_s3")
        present = [key for key in S3_FIELDS if body.get(key) not in (None, "")]
        if present:
            raise bad_request("{0} cannot be used with destination azure_blob_storage".format(", ".join(present)))
        for key in AZURE_FIELDS:
            config[key] = _require_string(body, key)
    allowed = VERSION_CONSTRAINTS[kind]
    version = body.get("version_constraint")
    if version is None:
        version = (existing or {}).get("version_constraint") or allowed[0]
    if not isinstance(version, str) or not VERSION_CONSTRAINT_PATTERN.match(version):
        raise bad_request("version_constraint must be like 1.0.0, 1.0.* or 1.*.*, not {0!r}".format(version))
    if resolve_version(version, allowed) is None:
        raise bad_request("version_constraint {0!r} is not available for type {1}; use one of {2}".format(
            version, kind, ", ".join(allowed)))
    config["version_constraint"] = version
    filters = body.get("filters")
    if filters is not None:
        if not isinstance(filters, list) or not all(isinstance(item, (dict, str)) and item for item in filters):
            raise bad_request("filters must be an array of filters")
        if filters:
            config["filters"] = copy.deepcopy(filters)
    return config


def _entry_matches(entry, bucket, prefix):
    name, sep, entry_prefix = entry.partition("/")
    if name != bucket:
        return False
    return not sep or entry_prefix.strip("/") == (prefix or "").strip("/")


def destination_failure(settings, config):
    """Return the error message of the test write to the config's destination, or None if it works."""
    if config["destination"] == "aws_s3":
        bucket, prefix = config["s3_bucket_name"], config.get("s3_prefix", "")
        for entry in settings["misconfigured_buckets"]:
            if _entry_matches(entry, bucket, prefix):
                key = "/".join(part for part in (prefix.strip("/"), HEALTHCHECK_OBJECT) if part)
                return ("Unable to write test object {0} to S3 bucket '{1}' with prefix '{2}': Access Denied. Check that "
                        "the bucket exists in region {3} and that its bucket policy allows s3:PutObject for the Carbon "
                        "Black Cloud Data Forwarder".format(key, bucket, prefix, settings["region"]))
        return None
    account, container = config["azure_storage_account"], config["azure_container_name"]
    for entry in settings["misconfigured_buckets"]:
        if entry in (container, "{0}/{1}".format(account, container)):
            return ("Unable to write test object {0} to Azure container '{1}' of storage account '{2}': "
                    "AuthorizationPermissionMismatch. Check that the app registration has write access to the "
                    "container".format(HEALTHCHECK_OBJECT, container, account))
    return None


# --- routes ---------------------------------------------------------------------------------


def list_forwarders(ctx):
    """``GET /data_forwarder/v2/orgs/{org_key}/configs`` (trailing slash accepted).

    A bare JSON array by default; ``{"results": [...], "num_found": N}`` with list_shape "results".
    """
    org = ctx.state.org(ctx.org_key)
    with ctx.state.lock:
        configs = copy.deepcopy(org.forwarders)
        shape = sim_settings(org)["list_shape"]
        empty_status = sim_settings(org)["empty_list_status"]
    if not configs and empty_status == 404:
        raise not_found("No forwarder configs found for org {0}".format(org.org_key))
    if shape == "results":
        return Response(200, {"results": configs, "num_found": len(configs)})
    return Response(200, configs)


def _find(org, config_id):
    for config in org.forwarders:
        if config["id"] == config_id:
            return config
    raise not_found("Forwarder config {0} not found".format(config_id))


def create_forwarder(ctx):
    """``POST .../configs`` → **201** with the created config (id, org_key, times, current_version added)."""
    body = ctx.json(default=None)
    org = ctx.state.org(ctx.org_key)
    with ctx.state.lock:
        settings = sim_settings(org)
        config = validate_config(body)
        failure = destination_failure(settings, config)
        if failure:
            raise ApiError(400, "DESTINATION_VALIDATION_FAILED", failure)
        now = format_rfc3339(datetime.now(timezone.utc))
        stored = {"id": str(uuid.uuid4()), "org_key": org.org_key}
        stored.update(config)
        stored.update(create_time=now, update_time=now,
                      current_version=resolve_version(config["version_constraint"], VERSION_CONSTRAINTS[config["type"]]))
        org.forwarders.append(stored)
        return Response(201, copy.deepcopy(stored))


def update_forwarder(ctx):
    """``PUT .../configs/{id}``: full update → 200 with the config, ``update_time`` bumped."""
    org = ctx.state.org(ctx.org_key)
    with ctx.state.lock:
        existing = _find(org, ctx.params["config_id"])
        body = ctx.json(default=None)
        settings = sim_settings(org)
        config = validate_config(body, existing=existing)
        failure = destination_failure(settings, config)
        if failure:
            raise ApiError(400, "DESTINATION_VALIDATION_FAILED", failure)
        for key in WRITABLE_FIELDS:
            existing.pop(key, None)
        existing.update(config)
        existing["current_version"] = resolve_version(config["version_constraint"], VERSION_CONSTRAINTS[config["type"]])
        existing["update_time"] = next_update_time(existing.get("update_time"))
        return Response(200, copy.deepcopy(existing))


def delete_forwarder(ctx):
    """``DELETE .../configs/{id}`` → 204, empty body."""
    org = ctx.state.org(ctx.org_key)
    with ctx.state.lock:
        existing = _find(org, ctx.params["config_id"])
        org.forwarders.remove(existing)
    return Response(204)


def health_check(ctx):
    """``GET .../configs/{id}/health_check`` → 200 whether or not the test write works; the body says which."""
    org = ctx.state.org(ctx.org_key)
    with ctx.state.lock:
        config = _find(org, ctx.params["config_id"])
        failure = destination_failure(sim_settings(org), config)
    now = format_rfc3339(datetime.now(timezone.utc))
    if failure:
        return Response(200, {"id": config["id"], "healthy": False, "status": "FAILED", "message": failure,
                              "checked_time": now})
    return Response(200, {"id": config["id"], "healthy": True, "status": "OK",
                          "message": "Test object {0} written".format(HEALTHCHECK_OBJECT), "checked_time": now})


def register(table):
    """Add the data-forwarder routes to ``table``."""
    table.add("GET", FORWARDER_BASE + r"/?", list_forwarders, "forwarders.list", permission="event-forwarder.settings:READ")
    table.add("POST", FORWARDER_BASE + r"/?", create_forwarder, "forwarders.create",
              permission="event-forwarder.settings:CREATE", write=True)
    table.add("GET", FORWARDER_BASE + "/" + CONFIG_ID + r"/health_check/?", health_check, "forwarders.health_check",
              permission="event-forwarder.settings:READ")
    table.add("PUT", FORWARDER_BASE + "/" + CONFIG_ID + r"/?", update_forwarder, "forwarders.update",
              permission="event-forwarder.settings:UPDATE", write=True)
    table.add("DELETE", FORWARDER_BASE + "/" + CONFIG_ID + r"/?", delete_forwarder, "forwarders.delete",
              permission="event-forwarder.settings:DELETE", write=True)


# --- control API ----------------------------------------------------------------------------


def _control_org(ctx, body=None):
    org_key = (body or {}).get("org_key") or (ctx.query.get("org_key") or ["ABCD1234"])[-1]
    if not isinstance(org_key, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", org_key):
        raise bad_request("org_key must be an org key such as ABCD1234")
    return ctx.state.org(org_key)


def _public_settings(org, settings):
    return {"org_key": org.org_key, "list_shape": settings["list_shape"],
            "misconfigured_buckets": list(settings["misconfigured_buckets"]), "region": settings["region"],
            "empty_list_status": settings["empty_list_status"]}


def control_get(ctx):
    """``GET /_sim/forwarders?org_key=``: stored configs and switches."""
    org = _control_org(ctx)
    with ctx.state.lock:
        settings = sim_settings(org)
        result = _public_settings(org, settings)
        result["forwarders"] = copy.deepcopy(org.forwarders)
    return Response(200, result)


def control_settings(ctx):
    """``POST /_sim/forwarders/settings`` with any of ``list_shape``, ``misconfigured_buckets``, ``region``,
    ``empty_list_status``."""
    body = ctx.json(default={})
    unknown = sorted(set(body) - {"org_key", "list_shape", "misconfigured_buckets", "region", "empty_list_status"})
    if unknown:
        raise bad_request("unknown setting(s): {0}".format(", ".join(unknown)))
    if "list_shape" in body and body["list_shape"] not in LIST_SHAPES:
        raise bad_request("list_shape must be one of {0}".format(", ".join(LIST_SHAPES)))
    buckets = body.get("misconfigured_buckets")
    if buckets is not None and (not isinstance(buckets, list) or not all(isinstance(b, str) and b for b in buckets)):
        raise bad_request("misconfigured_buckets must be a list of 'bucket' or 'bucket/prefix' strings")
    if "region" in body and (not isinstance(body["region"], str) or not body["region"]):
        raise bad_request("region must be a non-empty string")
    if "empty_list_status" in body and body["empty_list_status"] not in (200, 404):
        raise bad_request("empty_list_status must be 200 or 404")
    org = _control_org(ctx, body)
    with ctx.state.lock:
        settings = sim_settings(org)
        for key in ("list_shape", "region", "empty_list_status"):
            if key in body:
                settings[key] = body[key]
        if buckets is not None:
            settings["misconfigured_buckets"] = list(buckets)
        return Response(200, _public_settings(org, settings))


def control_add(ctx):
    """``POST /_sim/forwarders``: store a config as given (no validation; e.g. a legacy config without
    ``destination``, or a duplicate name). ``id``/``org_key``/times are filled in when missing."""
    body = ctx.json(default={})
    org = _control_org(ctx, body)
    config = {key: value for key, value in body.items() if key != "org_key"}
    now = format_rfc3339(datetime.now(timezone.utc))
    config.setdefault("id", str(uuid.uuid4()))
    config["org_key"] = org.org_key
    config.setdefault("create_time", now)
    config.setdefault("update_time", now)
    with ctx.state.lock:
        org.forwarders.append(config)
    return Response(201, copy.deepcopy(config))


def register_control(table):
    """Add the forwarder control routes (``/_sim/forwarders...``) to the control RouteTable."""
    table.add("GET", r"/_sim/forwarders", control_get, "sim.forwarders", auth="none")
    table.add("POST", r"/_sim/forwarders", control_add, "sim.forwarders", auth="none")
    table.add("POST", r"/_sim/forwarders/settings", control_settings, "sim.forwarders.settings", auth="none")
