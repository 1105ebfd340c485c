# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Devices API v6: select devices in pages (``_search``, then ``_scroll`` past 10,000) and
send ``device_actions`` in batches. No Ansible imports: usable with any client that has ``call``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .errors import CbcApiError, CbcConfigError

MAX_ROWS = 10000

ACTION_PERMISSIONS = {
    "QUARANTINE": "device.quarantine EXECUTE",
    "BYPASS": "device.bypass EXECUTE",
    "BACKGROUND_SCAN": "device.bg-scan EXECUTE",
    "UPDATE_POLICY": "device.policy UPDATE",
    "UPDATE_SENSOR_VERSION": "org.kits EXECUTE",
    "UNINSTALL_SENSOR": "device.uninstall EXECUTE",
    "DELETE_SENSOR": "device.deregistered DELETE",
}


class DeviceSelection:
    """Which devices a task is about: ids, criteria, exclusions, a query, a sort order."""

    def __init__(self, device_ids=None, criteria=None, exclusions=None, query=None, sort=None):
        self.device_ids = list(device_ids) if device_ids else None
        self.criteria = dict(criteria) if criteria else {}
        self.exclusions = dict(exclusions) if exclusions else {}
        self.query = query or None
        self.sort = list(sort) if sort else None

    @property
    def is_everything(self):
        return not (self.device_ids or self.criteria or self.exclusions or self.query)

    def search_body(self):
        """The search body without rows/start, as device_actions' ``search`` would take it too."""
        criteria = dict(self.criteria)
        if self.device_ids:
            criteria["id"] = self.device_ids
        body = {}
        if criteria:
            body["criteria"] = criteria
        if self.exclusions:
            body["exclusions"] = dict(self.exclusions)
        if self.query:
            body["query"] = self.query
        return body


def search_devices(client, selection, limit=None, fields=None):
    """Return ``(devices, num_found)`` for a selection, paging as needed.

    Up to 10,000 matches take ``_search`` pages (1-based ``start``); beyond that the
    API wants ``_scroll``. ``fields`` trims each device to those keys as pages arrive,
    which keeps memory flat on large fleets.
    """
    body = selection.search_body()
    if selection.sort:
        body["sort"] = selection.sort
    wanted = limit if limit is not None else None
    rows = min(MAX_ROWS, wanted) if wanted is not None else MAX_ROWS
    if rows <= 0:
        page = client.call("devices.search", body=dict(body, rows=1))
        return [], page.get("num_found", 0)

    devices = []
    page = client.call("devices.search", body=dict(body, rows=rows))
    num_found = page.get("num_found", 0)
    if num_found > MAX_ROWS and (wanted is None or wanted > MAX_ROWS):
        # The first page is thrown away: _scroll must walk from its own start.
        return _scroll_devices(client, selection, wanted, fields), num_found

    while True:
        results = page.get("results") or []
        devices.extend(_trim(device, fields) for device in results)
        target = num_found if wanted is None else min(num_found, wanted)
        if not results or len(devices) >= target:
            break
        page = client.call("devices.search", body=dict(body, rows=min(rows, target - len(devices)),
                                                       start=len(devices) + 1))
    if wanted is not None:
        del devices[wanted:]
    return devices, num_found


def _scroll_devices(client, selection, wanted, fields):
    body = selection.search_body()
    devices = []
    search_after = None
    while True:
        request = dict(body, rows=MAX_ROWS if wanted is None else min(MAX_ROWS, wanted - len(devices)))
        if search_after:
            request["search_after"] = search_after
        page = client.call("devices.scroll", body=request)
        results = page.get("results") or []
        devices.extend(_trim(device, fields) for device in results)
        search_after = page.get("search_after")
        if not results or not search_after or (wanted is not None and len(devices) >= wanted):
            break
    if wanted is not None:
        del devices[wanted:]
    return devices


def _trim(device, fields):
    if fields is None:
        return device
    return dict((key, device.get(key)) for key in fields)


class BatchFailure(Exception):
    """A device action failed part-way: says which devices were done and which were not."""

    def __init__(self, action_type, done_ids, failed_ids, error):
        self.action_type = action_type
        self.done_ids = done_ids
        self.failed_ids = failed_ids
        self.error = error
        super(BatchFailure, self).__init__(
            "%s stopped after %d of %d devices: %s" % (action_type, len(done_ids), len(done_ids) + len(failed_ids), error))


def send_device_action(client, action_type, device_ids, options=None, batch_size=1000):
    """POST device_actions for ``device_ids`` in batches; return ``(batches sent, ids that vanished)``.

    A batch answered with 404 is checked once against a fresh search: devices deleted
    since the selection are dropped and the batch is sent again for the rest.
    Raises BatchFailure naming the devices done and not done.
    """
    permission = ACTION_PERMISSIONS[action_type]
    done = []
    vanished = []
    batches = 0
    ids = list(device_ids)
    for start in range(0, len(ids), batch_size):
        batch = ids[start:start + batch_size]
        try:
            batches += 1
            _post_action(client, action_type, batch, options, permission)
        except CbcApiError as error:
            if error.status != 404:
                raise BatchFailure(action_type, done, ids[start:], error)
            existing = search_devices(client, DeviceSelection(device_ids=batch), fields=("id",))[0]
            existing_ids = set(device["id"] for device in existing)
            gone = [device_id for device_id in batch if device_id not in existing_ids]
            batch = [device_id for device_id in batch if device_id in existing_ids]
            if not gone:
                raise BatchFailure(action_type, done, ids[start:], error)
            vanished.extend(gone)
            if batch:
                try:
                    batches += 1
                    _post_action(client, action_type, batch, options, permission)
                except CbcApiError as retry_error:
                    raise BatchFailure(action_type, done, batch + ids[start + batch_size:], retry_error)
        done.extend(batch)
    return batches, vanished


def _post_action(client, action_type, batch, options, permission):
    body = {"action_type": action_type, "device_id": batch}
    if options:
        body["options"] = options
    client.call("devices.actions", body=body, permission=permission)


# -- desired state -> actions ------------------------------------------------

# What cbc_device reads of each device: enough to decide and to report, nothing more.
STATE_FIELDS = ("id", "name", "os", "status", "quarantined", "policy_id", "policy_name", "sensor_version",
                "sensor_kit_type", "sensor_pending_update", "scan_status")
BYPASS_STATUSES = ("BYPASS", "BYPASS_ON")
# Devices in these states have no sensor to act on: sensor actions leave them alone.
NO_SENSOR_STATUSES = ("UNINSTALLED", "DEREGISTERED", "DELETED")


def has_sensor(device):
    return device.get("status") not in NO_SENSOR_STATUSES


class PlannedAction:
    """One action_type with its options, the devices that need it and what changes on each."""

    def __init__(self, action_type, options=None):
        self.action_type = action_type
        self.options = options
        self.device_ids = []
        self.changes = {}

    def add(self, device, field, before, after):
        self.device_ids.append(device["id"])
        self.changes[device["id"]] = (field, before, after)


def _toggle_plan(devices, action_type, desired, is_on, field):
    plan = PlannedAction(action_type, {"toggle": "ON" if desired else "OFF"})
    for device in filter(has_sensor, devices):
        current = is_on(device)
        if current != desired:
            plan.add(device, field, current, desired)
    return plan


def plan_device_actions(devices, quarantined=None, bypass=None, policy=None, sensor_version=None,
                        background_scan=None, uninstall_sensor=False, delete_sensor=False):
    """Return the PlannedActions (only those with devices) that bring ``devices`` to the desired state.

    ``policy`` is ``{"id": int, "name": str or None}``; ``sensor_version`` ``{KIT: version}``.
    """
    plans = []
    if policy is not None:
        plan = PlannedAction("UPDATE_POLICY", {"policy_id": policy["id"]})
        for device in devices:
            if device.get("policy_id") != policy["id"]:
                plan.add(device, "policy", {"policy_id": device.get("policy_id"), "policy_name": device.get("policy_name")},
                         {"policy_id": policy["id"], "policy_name": policy.get("name") or device.get("policy_name")})
        plans.append(plan)
    for kit, version in sorted((sensor_version or {}).items()):
        plan = PlannedAction("UPDATE_SENSOR_VERSION", {"sensor_version": {kit: version}})
        for device in filter(has_sensor, devices):
            if (device.get("sensor_kit_type") == kit and device.get("sensor_version") != version
                    and not device.get("sensor_pending_update")):
                plan.add(device, "sensor_version", device.get("sensor_version"), version)
        plans.append(plan)
    if bypass is not None:
        plans.append(_toggle_plan(devices, "BYPASS", bypass, lambda d: d.get("status") in BYPASS_STATUSES, "bypass"))
    if quarantined is not None:
        plans.append(_toggle_plan(devices, "QUARANTINE", quarantined, lambda d: bool(d.get("quarantined")),
                                  "quarantined"))
    if background_scan is not None:
        plans.append(_toggle_plan(devices, "BACKGROUND_SCAN", background_scan,
                                  lambda d: d.get("scan_status") == "IN_PROGRESS", "background_scan"))
    if uninstall_sensor:
        plan = PlannedAction("UNINSTALL_SENSOR")
        for device in filter(has_sensor, devices):
            plan.add(device, "status", device.get("status"), "UNINSTALLED")
        plans.append(plan)
    if delete_sensor:
        plan = PlannedAction("DELETE_SENSOR")
        for device in devices:
            if device.get("status") == "DEREGISTERED":
                plan.add(device, "status", "DEREGISTERED", "DELETED")
        plans.append(plan)
    return [plan for plan in plans if plan.device_ids]


# -- options shared by cbc_device and cbc_device_info ---------------------------

SELECTION_ARGUMENT_SPEC = dict(
    device_ids=dict(type="list", elements="int"),
    criteria=dict(type="dict"),
    exclusions=dict(type="dict"),
    query=dict(type="str"),
    sort=dict(type="list", elements="dict", options=dict(
        field=dict(type="str", required=True),
        order=dict(type="str", choices=["ASC", "DESC"], default="ASC"),
    )),
)

# Enumerations the SDK enforces for these criteria fields.
CRITERIA_ENUMS = {
    "os": ("WINDOWS", "ANDROID", "MAC", "IOS", "LINUX", "OTHER"),
    "status": ("PENDING", "REGISTERED", "UNINSTALLED", "DEREGISTERED", "ACTIVE", "INACTIVE", "ERROR", "ALL",
               "BYPASS_ON", "BYPASS", "QUARANTINE", "SENSOR_OUTOFDATE", "DELETED", "LIVE"),
    "target_priority": ("LOW", "MEDIUM", "HIGH", "MISSION_CRITICAL"),
    "deployment_type": ("ENDPOINT", "WORKLOAD", "VDI", "AWS", "AZURE", "GCP"),
}


def selection_from_params(params):
    """Validate the selection options and return a DeviceSelection (raises CbcConfigError)."""
    for option in ("criteria", "exclusions"):
        for field, values in (params.get(option) or {}).items():
            _check_criterion(option, field, values)
    return DeviceSelection(device_ids=params.get("device_ids"), criteria=params.get("criteria"),
                           exclusions=params.get("exclusions"), query=params.get("query"), sort=params.get("sort"))


def _check_criterion(option, field, values):
    if field == "last_contact_time":
        if not isinstance(values, dict) or not (set(values) == {"range"} or set(values) == {"start", "end"}):
            raise CbcConfigError("%s.last_contact_time must be {range: -3w} or {start: ISO8601, end: ISO8601}. "
                                 "Fix: use one of the two forms" % option)
        return
    if not isinstance(values, list):
        raise CbcConfigError("%s.%s must be a list of values, e.g. %s: [%s]. Fix: wrap the value in a list"
                             % (option, field, field, values))
    allowed = CRITERIA_ENUMS.get(field)
    if allowed:
        unknown = [value for value in values if value not in allowed]
        if unknown:
            raise CbcConfigError("%s.%s has unknown value(s) %s. Fix: use one of %s"
                                 % (option, field, ", ".join(str(value) for value in unknown), ", ".join(allowed)))
