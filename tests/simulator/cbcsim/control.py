"""Control API under ``/_sim/`` for tests: no authentication, never written to the request log,
never subject to faults."""

import os
import time

from cbcsim import alerts, forwarders, jobs, reputation
from cbcsim.auth import identity_from_dict
from cbcsim.device_actions import complete_sensor_updates
from cbcsim.faults import rule_from_dict
from cbcsim.protocol import Response, bad_request, not_found
from cbcsim.routing import RouteTable


def health(ctx):
    """``GET /_sim/health``."""
    with ctx.state.lock:
        devices = {org_key: len(org.devices) for org_key, org in ctx.state.orgs.items()}
    return Response(200, {"status": "ok", "pid": os.getpid(), "devices": devices,
                          "uptime_s": round(time.time() - ctx.state.started.timestamp(), 3)})


def list_faults(ctx):
    """``GET /_sim/faults``."""
    return Response(200, {"faults": ctx.state.faults.rules()})


def add_fault(ctx):
    """``POST /_sim/faults`` with a JSON rule."""
    try:
        rule = rule_from_dict(ctx.json(default={}))
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    ctx.state.faults.add(rule)
    return Response(201, rule.describe())


def clear_faults(ctx):
    """``DELETE /_sim/faults``."""
    return Response(200, {"cleared": ctx.state.faults.clear()})


def revoke_tokens(ctx):
    """``POST /_sim/revoke_tokens``."""
    return Response(200, {"revoked": ctx.state.tokens.revoke_all()})


def reset(ctx):
    """``POST /_sim/reset``: reseed every org, identities, faults; revoke tokens."""
    ctx.state.reset()
    return Response(200, {"status": "reset"})


def path_device_id(ctx):
    """Return the ``{id}`` path segment as an int, or raise 404."""
    try:
        return int(ctx.params["device_id"])
    except ValueError:
        raise not_found("Device {0} not found".format(ctx.params["device_id"])) from None


def get_device(ctx):
    """``GET /_sim/devices/{id}``: the raw device object from any org; its org is in the X-Sim-Org-Key header."""
    device_id = path_device_id(ctx)
    org_key, device = ctx.state.find_device(device_id)
    if device is None:
        raise not_found("Device {0} not found".format(device_id))
    return Response(200, device, headers={"X-Sim-Org-Key": org_key})


def delete_device(ctx):
    """``DELETE /_sim/devices/{id}``: the device disappears from its org (e.g. between a search and an action)."""
    device_id = path_device_id(ctx)
    org_key = ctx.state.remove_device(device_id)
    if org_key is None:
        raise not_found("Device {0} not found".format(device_id))
    return Response(200, {"deleted": device_id, "org_key": org_key})


def query_device_ids(ctx):
    """Return the ints of every ``ids`` query value (repeatable and/or comma-separated); 400 if not ints."""
    ids = []
    for value in ctx.query.get("ids", []):
        for part in value.split(","):
            if part.strip():
                try:
                    ids.append(int(part))
                except ValueError:
                    raise bad_request("ids must be integers, not {0!r}".format(part)) from None
    return ids


def list_devices(ctx):
    """``GET /_sim/devices?org_key=ABCD1234``: every device id of an org (default ABCD1234).

    With ``?ids=1,2,3``: ``{"devices": [raw device, ...], "missing": [ids]}`` from any org instead.
    """
    if "ids" in ctx.query:
        found, missing = [], []
        for device_id in query_device_ids(ctx):
            device = ctx.state.find_device(device_id)[1]
            if device is None:
                missing.append(device_id)
            else:
                found.append(device)
        return Response(200, {"devices": found, "missing": missing})
    org_key = (ctx.query.get("org_key") or ["ABCD1234"])[-1]
    with ctx.state.lock:
        org = ctx.state.orgs.get(org_key)
        ids = list(org.devices) if org else []
    return Response(200, {"org_key": org_key, "count": len(ids), "ids": ids})


def complete_updates(ctx):
    """``POST /_sim/complete_sensor_updates``: install every sensor version requested by UPDATE_SENSOR_VERSION."""
    return Response(200, {"completed": complete_sensor_updates(ctx.state)})


def add_key(ctx):
    """``POST /_sim/keys`` with an identity object (same schema as the keys file)."""
    try:
        identity = identity_from_dict(ctx.json(default={}))
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    ctx.state.identities.add(identity)
    ctx.state.org(identity.org_key)
    return Response(201, identity.describe())


def build_control_routes():
    """Return the RouteTable of the control API."""
    table = RouteTable()
    table.add("GET", r"/_sim/health", health, "sim.health", auth="none")
    table.add("GET", r"/_sim/faults", list_faults, "sim.faults", auth="none")
    table.add("POST", r"/_sim/faults", add_fault, "sim.faults", auth="none")
    table.add("DELETE", r"/_sim/faults", clear_faults, "sim.faults", auth="none")
    table.add("POST", r"/_sim/revoke_tokens", revoke_tokens, "sim.revoke_tokens", auth="none")
    table.add("POST", r"/_sim/reset", reset, "sim.reset", auth="none")
    table.add("GET", r"/_sim/devices", list_devices, "sim.devices", auth="none")
    table.add("GET", r"/_sim/devices/(?P<device_id>[^/]+)", get_device, "sim.device", auth="none")
    table.add("DELETE", r"/_sim/devices/(?P<device_id>[^/]+)", delete_device, "sim.device", auth="none")
    table.add("POST", r"/_sim/complete_sensor_updates", complete_updates, "sim.complete_sensor_updates", auth="none")
    table.add("POST", r"/_sim/keys", add_key, "sim.keys", auth="none")
    forwarders.register_control(table)
    alerts.register_control(table)
    jobs.register_control(table)
    reputation.register_control(table)
    return table
