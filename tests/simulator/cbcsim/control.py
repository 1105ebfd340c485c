"""Control API under ``/_sim/`` for tests: no authentication, never written to the request log,
never subject to faults."""

import os
import time

from cbcsim.auth import identity_from_dict
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


def get_device(ctx):
    """``GET /_sim/devices/{id}``: the raw device object from any org; its org is in the X-Sim-Org-Key header."""
    try:
        device_id = int(ctx.params["device_id"])
    except ValueError:
        raise not_found("Device {0} not found".format(ctx.params["device_id"])) from None
    org_key, device = ctx.state.find_device(device_id)
    if device is None:
        raise not_found("Device {0} not found".format(device_id))
    return Response(200, device, headers={"X-Sim-Org-Key": org_key})


def list_device_ids(ctx):
    """``GET /_sim/devices?org_key=ABCD1234``: every device id of an org (default ABCD1234)."""
    org_key = (ctx.query.get("org_key") or ["ABCD1234"])[-1]
    with ctx.state.lock:
        org = ctx.state.orgs.get(org_key)
        ids = list(org.devices) if org else []
    return Response(200, {"org_key": org_key, "count": len(ids), "ids": ids})


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
    table.add("GET", r"/_sim/devices", list_device_ids, "sim.devices", auth="none")
    table.add("GET", r"/_sim/devices/(?P<device_id>[^/]+)", get_device, "sim.device", auth="none")
    table.add("POST", r"/_sim/keys", add_key, "sim.keys", auth="none")
    return table
