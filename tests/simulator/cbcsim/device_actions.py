"""Device actions: ``POST /appservices/v6/orgs/{org_key}/device_actions`` (facts section 3.4).

Order of checks in the handler: body is an object → ``action_type`` is known (400) → the caller
holds the action's permission (403) → ``device_id``/``search`` and ``options`` (400). Success is
``204`` with no body. The request log entry gets ``device_count`` (devices changed),
``unknown_ids`` (requested ids not in the org; ignored) and ``skipped_ids`` (devices the action does
not apply to, e.g. DELETE_SENSOR on a registered device; left unchanged). See the README section
"Device actions" for the state each action changes.
"""

from datetime import datetime, timezone

from cbcsim.auth import require_permission
from cbcsim.devices import is_sensor_out_of_date
from cbcsim.protocol import Response, bad_request
from cbcsim.routing import ORG
from cbcsim.search import filter_request, format_time

ACTIONS_PATH = "/appservices/v6/orgs/" + ORG + "/device_actions"
TOGGLES = ("ON", "OFF")
#: Statuses of devices without a working sensor: sensor actions skip them.
NO_SENSOR_STATUSES = ("DEREGISTERED", "UNINSTALLED")


# --- options -----------------------------------------------------------------------------------


def parse_toggle(options, _org):
    """``{"toggle": "ON"|"OFF"}`` → True for ON."""
    toggle = options.get("toggle")
    if toggle not in TOGGLES:
        raise bad_request("options.toggle must be \"ON\" or \"OFF\" (got {0!r})".format(toggle))
    return toggle == "ON"


def parse_policy(options, org):
    """``{"policy_id": <int>}`` → the org's policy object; an unknown policy is a 400."""
    policy_id = options.get("policy_id")
    if isinstance(policy_id, bool) or not isinstance(policy_id, int):
        raise bad_request("options.policy_id must be an integer (got {0!r})".format(policy_id))
    for policy in org.policies:
        if policy["id"] == policy_id:
            return policy
    raise bad_request("options.policy_id: policy {0} does not exist in org {1}".format(policy_id, org.org_key))


def parse_sensor_version(options, _org):
    """``{"sensor_version": {"<KIT>": "<version>"}}`` → ``{KIT (upper case): version}``."""
    versions = options.get("sensor_version")
    if not isinstance(versions, dict) or not versions:
        raise bad_request("options.sensor_version must be a non-empty object such as {\"WINDOWS\": \"4.0.0.1292\"}")
    for kit, version in versions.items():
        if not kit or not isinstance(version, str) or not version.strip():
            raise bad_request("options.sensor_version.{0} must be a non-empty version string".format(kit))
    return {kit.upper(): version.strip() for kit, version in versions.items()}


def no_options(_options, _org):
    """UNINSTALL_SENSOR and DELETE_SENSOR take no options (any given are ignored)."""


# --- which devices an action applies to ------------------------------------------------------


def has_sensor(device, _value):
    """The device has a sensor that can receive the action."""
    return device.get("status") not in NO_SENSOR_STATUSES


def any_device(_device, _value):
    """Every device in the org (policy assignment is server-side)."""
    return True


def kit_matches(device, versions):
    """The device has a sensor whose kit is one of the requested kits."""
    return has_sensor(device, versions) and str(device.get("sensor_kit_type")).upper() in versions


def is_deregistered(device, _value):
    """Only deregistered devices can be deleted."""
    return device.get("status") == "DEREGISTERED"


# --- state changes -----------------------------------------------------------------------------


def set_quarantine(_org, device, enable, _now):
    """QUARANTINE ON/OFF."""
    device["quarantined"] = enable


def set_bypass(_org, device, enable, _now):
    """BYPASS ON → status BYPASS; OFF → a bypassed device is REGISTERED again."""
    if enable:
        device["status"] = "BYPASS"
    elif device.get("status") == "BYPASS":
        device["status"] = "REGISTERED"


def set_background_scan(org, device, enable, _now):
    """BACKGROUND_SCAN ON/OFF: no device field shows it (``scan_status`` is null in every recorded response and
    "not used" in the SDK's device model); the toggles received are counted per device in
    ``org.background_scan_toggles`` for tests."""
    org.background_scan_toggles.setdefault(device["id"], []).append("ON" if enable else "OFF")


def set_policy(_org, device, policy, now):
    """UPDATE_POLICY: the device's policy becomes an override."""
    device["policy_id"] = policy["id"]
    device["policy_name"] = policy["name"]
    device["current_sensor_policy_name"] = policy["name"]
    device["policy_override"] = True
    device["last_device_policy_changed_time"] = now


def request_sensor_update(org, device, versions, _now):
    """UPDATE_SENSOR_VERSION: pending until ``/_sim/complete_sensor_updates`` installs it."""
    device["sensor_pending_update"] = True
    org.pending_sensor_updates[device["id"]] = versions[str(device.get("sensor_kit_type")).upper()]


def uninstall_sensor(org, device, _value, _now):
    """UNINSTALL_SENSOR: status UNINSTALLED, no sensor states, no pending update."""
    device["status"] = "UNINSTALLED"
    device["sensor_states"] = []
    device["sensor_pending_update"] = False
    org.pending_sensor_updates.pop(device["id"], None)


def delete_sensor(org, device, _value, _now):
    """DELETE_SENSOR: the device disappears from search and get."""
    org.remove_device(device["id"])


class ActionType:
    """What one ``action_type`` needs and does."""

    def __init__(self, permission, parse_options, applies_to, apply):
        self.permission = permission
        self.parse_options = parse_options
        self.applies_to = applies_to
        self.apply = apply


ACTION_TYPES = {
    "QUARANTINE": ActionType("device.quarantine:EXECUTE", parse_toggle, has_sensor, set_quarantine),
    "BYPASS": ActionType("device.bypass:EXECUTE", parse_toggle, has_sensor, set_bypass),
    "BACKGROUND_SCAN": ActionType("device.bg-scan:EXECUTE", parse_toggle, has_sensor, set_background_scan),
    "UPDATE_POLICY": ActionType("device.policy:UPDATE", parse_policy, any_device, set_policy),
    "UPDATE_SENSOR_VERSION": ActionType("org.kits:EXECUTE", parse_sensor_version, kit_matches, request_sensor_update),
    "UNINSTALL_SENSOR": ActionType("device.uninstall:EXECUTE", no_options, has_sensor, uninstall_sensor),
    "DELETE_SENSOR": ActionType("device.deregistered:DELETE", no_options, is_deregistered, delete_sensor),
}


# --- request -----------------------------------------------------------------------------------


def parse_device_ids(value):
    """Validate ``device_id``: a non-empty array of integers; return them without duplicates, in order."""
    if not isinstance(value, list) or not value:
        raise bad_request("device_id must be a non-empty array of device ids")
    if not all(isinstance(item, int) and not isinstance(item, bool) for item in value):
        raise bad_request("device_id must contain integers only")
    return list(dict.fromkeys(value))


def select_targets(body, org):
    """Return ``(devices, unknown_ids)`` for exactly one of ``device_id`` or ``search``.

    Ids that are not devices of this org are returned as unknown (the action ignores them).
    """
    device_ids, search = body.get("device_id"), body.get("search")
    if (device_ids is None) == (search is None):
        raise bad_request("exactly one of device_id or search is required")
    if search is not None:
        return filter_request(search, "search").select(org.devices.values()), []
    targets, unknown = [], []
    for device_id in parse_device_ids(device_ids):
        device = org.devices.get(device_id)
        if device is None:
            unknown.append(device_id)
        else:
            targets.append(device)
    return targets, unknown


def parse_action_type(body):
    """Return the ActionType named by ``action_type`` or raise 400."""
    name = body.get("action_type")
    action = ACTION_TYPES.get(name) if isinstance(name, str) else None
    if action is None:
        raise bad_request("action_type must be one of {0} (got {1!r})".format(", ".join(ACTION_TYPES), name))
    return action


def run_device_action(ctx):
    """``POST .../device_actions``: validate, check the action's permission, change state; 204."""
    body = ctx.json()
    if body is None:
        raise bad_request("Request body is required")
    action = parse_action_type(body)
    require_permission(ctx.identity, action.permission)
    options = body.get("options")
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise bad_request("options must be a JSON object")
    org = ctx.state.org(ctx.org_key)
    now = format_time(datetime.now(timezone.utc))
    changed, skipped = [], []
    with ctx.state.lock:
        value = action.parse_options(options, org)
        targets, unknown = select_targets(body, org)
        for device in targets:
            if action.applies_to(device, value):
                action.apply(org, device, value, now)
                changed.append(device["id"])
            else:
                skipped.append(device["id"])
    ctx.log_fields.update({"device_count": len(changed), "unknown_ids": unknown, "skipped_ids": skipped})
    return Response(204)


def complete_sensor_updates(state):
    """Install every pending sensor update (all orgs); return ``[{"id", "org_key", "sensor_version"}]``."""
    completed = []
    with state.lock:
        for org in state.orgs.values():
            for device_id, version in sorted(org.pending_sensor_updates.items()):
                device = org.devices[device_id]
                device["sensor_version"] = version
                device["sensor_pending_update"] = False
                device["sensor_out_of_date"] = is_sensor_out_of_date(device.get("os"), version)
                completed.append({"id": device_id, "org_key": org.org_key, "sensor_version": version})
            org.pending_sensor_updates.clear()
    return completed


def register(table):
    """Add the device-action route to ``table``; its permission depends on ``action_type`` (checked by the handler)."""
    table.add("POST", ACTIONS_PATH, run_device_action, "devices.actions", write=True)
