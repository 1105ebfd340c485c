# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Devices API v6: select devices in pages (``_search``, then ``_scroll`` past 10,000) and
send ``device_actions`` in batches. No Ansible imports: usable with any client that has ``call``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .errors import CbcApiError, CbcConfigError, CbcError, CbcWriteUnconfirmed
from .selection import (SORT_SPEC, check_criteria_given, check_ids_given, check_query, check_sort, check_time_shape,
                        check_value_list, field_trimmer, requested_fields, search_body, without_empty_lists)
from .validation import check_keys
from .writes import reconciled_write

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
        return search_body(self.device_ids, self.criteria, self.exclusions, self.query)


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
    shape = field_trimmer(fields)
    page = client.call("devices.search", body=dict(body, rows=rows), shape_results=shape)
    num_found = page.get("num_found", 0)
    if num_found > MAX_ROWS and (wanted is None or wanted > MAX_ROWS):
        # The first page is thrown away: _scroll must walk from its own start.
        del page
        return _scroll_devices(client, selection, wanted, shape), num_found

    while True:
        results = page.get("results") or []
        devices.extend(results)
        target = num_found if wanted is None else min(num_found, wanted)
        if not results or len(devices) >= target:
            break
        page = client.call("devices.search", body=dict(body, rows=min(rows, target - len(devices)),
                                                       start=len(devices) + 1), shape_results=shape)
    if wanted is not None:
        del devices[wanted:]
    return devices, num_found


def _scroll_devices(client, selection, wanted, shape):
    body = selection.search_body()
    devices = []
    search_after = None
    while True:
        request = dict(body, rows=MAX_ROWS if wanted is None else min(MAX_ROWS, wanted - len(devices)))
        if search_after:
            request["search_after"] = search_after
        page = client.call("devices.scroll", body=request, shape_results=shape)
        results = page.get("results") or []
        devices.extend(results)
        search_after = page.get("search_after")
        if not results or not search_after or (wanted is not None and len(devices) >= wanted):
            break
    if wanted is not None:
        del devices[wanted:]
    return devices


class BatchFailure(Exception):
    """A device action failed part-way: which devices were done, which were not, and which may have been.

    ``done_ids`` are confirmed (answered 204, or read back in the wanted state); ``failed_ids`` were not sent or
    were read back unchanged; ``unconfirmed_ids`` had their answer lost and could not be confirmed either way.
    """

    def __init__(self, action_type, done_ids, failed_ids, error, unconfirmed_ids=()):
        self.action_type = action_type
        self.done_ids = done_ids
        self.failed_ids = failed_ids
        self.unconfirmed_ids = list(unconfirmed_ids)
        self.error = error
        total = len(done_ids) + len(failed_ids) + len(self.unconfirmed_ids)
        unconfirmed = (", %d may have been (answer lost)" % len(self.unconfirmed_ids)) if self.unconfirmed_ids else ""
        super(BatchFailure, self).__init__(
            "%s stopped after %d of %d devices%s: %s" % (action_type, len(done_ids), total, unconfirmed, error))


def send_device_action(client, plan, batch_size=1000):
    """POST device_actions for a PlannedAction's devices in batches; return ``(batches sent, ids that vanished)``.

    A batch answered with 404 is checked once against a fresh search: devices deleted since the selection are
    dropped and the batch is sent again for the rest. A batch whose answer was lost is reconciled by a search of
    its devices: those in the wanted state are done, the others are sent once more (see writes.reconciled_write).
    Raises BatchFailure naming the devices done, not done and unconfirmed.
    """
    action_type = plan.action_type
    permission = ACTION_PERMISSIONS[action_type]
    done = []
    vanished = []
    sent = [0]
    ids = list(plan.device_ids)

    def post(batch):
        sent[0] += 1
        _post_action(client, action_type, batch, plan.options, permission)

    for start in range(0, len(ids), batch_size):
        batch = ids[start:start + batch_size]
        rest = ids[start + batch_size:]
        pending = {"todo": list(batch), "applied": []}

        def send():
            post(pending["todo"])

        def confirm():
            if not plan.observable:
                raise CbcError("the Devices API reports no %s state to read back" % action_type)
            found = dict((device["id"], device)
                         for device in search_devices(client, DeviceSelection(device_ids=pending["todo"]),
                                                      fields=STATE_FIELDS)[0])
            applied, todo = [], []
            for device_id in pending["todo"]:
                device = found.get(device_id)
                if device is None:
                    (applied if action_type == "DELETE_SENSOR" else vanished).append(device_id)
                elif plan.needs(device):
                    todo.append(device_id)
                else:
                    applied.append(device_id)
            pending["applied"].extend(applied)
            pending["todo"] = todo
            return not todo, None

        try:
            try:
                reconciled_write(client, "%s for %d device(s)" % (action_type, len(batch)), send, confirm)
            except CbcApiError as error:
                if error.status != 404:
                    raise
                existing = search_devices(client, DeviceSelection(device_ids=pending["todo"]), fields=("id",))[0]
                existing_ids = set(device["id"] for device in existing)
                gone = [device_id for device_id in pending["todo"] if device_id not in existing_ids]
                if not gone:
                    raise
                vanished.extend(gone)
                pending["todo"] = [device_id for device_id in pending["todo"] if device_id in existing_ids]
                if pending["todo"]:
                    reconciled_write(client, "%s for %d device(s)" % (action_type, len(pending["todo"])), send, confirm)
        except CbcApiError as error:
            raise BatchFailure(action_type, done + pending["applied"], pending["todo"] + rest, error)
        except CbcWriteUnconfirmed as error:
            raise BatchFailure(action_type, done + pending["applied"], rest, error, unconfirmed_ids=pending["todo"])
        except CbcError as error:
            raise BatchFailure(action_type, done + pending["applied"], pending["todo"] + rest, error)
        done.extend(device_id for device_id in batch if device_id not in vanished)
    return sent[0], vanished


def _post_action(client, action_type, batch, options, permission):
    body = {"action_type": action_type, "device_id": batch}
    if options:
        body["options"] = options
    client.call("devices.actions", body=body, permission=permission)


# -- desired state -> actions ------------------------------------------------

# What cbc_device reads of each device: enough to decide and to report, nothing more.
STATE_FIELDS = ("id", "name", "os", "status", "quarantined", "policy_id", "policy_name", "sensor_version",
                "sensor_kit_type", "sensor_pending_update")
# BACKGROUND_SCAN toggles: the Devices API reports no scan state to compare with (the SDK's device model calls
# scan_status "not used"; it is null in every recorded response), so the action is sent as asked, every run.
BACKGROUND_SCAN_TOGGLES = {"start": "ON", "stop": "OFF"}
BYPASS_STATUSES = ("BYPASS", "BYPASS_ON")
# Devices in these states have no sensor to act on: sensor actions leave them alone.
NO_SENSOR_STATUSES = ("UNINSTALLED", "DEREGISTERED", "DELETED")


def has_sensor(device):
    return device.get("status") not in NO_SENSOR_STATUSES


class PlannedAction:
    """One action_type with its options, the devices that need it and what changes on each.

    ``needs(device)`` says whether a device (as the search returns it) still needs the action: it picks the
    devices when planning, and tells after a lost answer which ones the action reached. ``observable`` is false
    for an action whose effect no read shows: after a lost answer it is reported unconfirmed, never sent again.
    """

    def __init__(self, action_type, options=None, needs=None, observable=True):
        self.action_type = action_type
        self.options = options
        self.needs = needs
        self.observable = observable
        self.device_ids = []
        self.changes = {}

    def add(self, device, field, before, after):
        self.device_ids.append(device["id"])
        self.changes[device["id"]] = (field, before, after)


def _toggle_plan(devices, action_type, desired, is_on, field):
    plan = PlannedAction(action_type, {"toggle": "ON" if desired else "OFF"},
                         needs=lambda device: has_sensor(device) and is_on(device) != desired)
    for device in filter(plan.needs, devices):
        plan.add(device, field, is_on(device), desired)
    return plan


def _needs_sensor_version(kit, version):
    def needs(device):
        return (has_sensor(device) and device.get("sensor_kit_type") == kit and device.get("sensor_version") != version
                and not device.get("sensor_pending_update"))
    return needs


def plan_device_actions(devices, quarantined=None, bypass=None, policy=None, sensor_version=None,
                        send_background_scan=None, uninstall_sensor=False, delete_sensor=False):
    """Return the PlannedActions (only those with devices) that bring ``devices`` to the desired state.

    ``policy`` is ``{"id": int, "name": str or None}``; ``sensor_version`` ``{KIT: version}``;
    ``send_background_scan`` ``start`` or ``stop``, sent to every device with a sensor (not a state).
    """
    plans = []
    if policy is not None:
        plan = PlannedAction("UPDATE_POLICY", {"policy_id": policy["id"]},
                             needs=lambda device: device.get("policy_id") != policy["id"])
        for device in filter(plan.needs, devices):
            plan.add(device, "policy", {"policy_id": device.get("policy_id"), "policy_name": device.get("policy_name")},
                     {"policy_id": policy["id"], "policy_name": policy.get("name") or device.get("policy_name")})
        plans.append(plan)
    for kit, version in sorted((sensor_version or {}).items()):
        plan = PlannedAction("UPDATE_SENSOR_VERSION", {"sensor_version": {kit: version}},
                             needs=_needs_sensor_version(kit, version))
        for device in filter(plan.needs, devices):
            plan.add(device, "sensor_version", device.get("sensor_version"), version)
        plans.append(plan)
    if bypass is not None:
        plans.append(_toggle_plan(devices, "BYPASS", bypass, lambda d: d.get("status") in BYPASS_STATUSES, "bypass"))
    if quarantined is not None:
        plans.append(_toggle_plan(devices, "QUARANTINE", quarantined, lambda d: bool(d.get("quarantined")),
                                  "quarantined"))
    if send_background_scan is not None:
        plan = PlannedAction("BACKGROUND_SCAN", {"toggle": BACKGROUND_SCAN_TOGGLES[send_background_scan]},
                             needs=has_sensor, observable=False)
        for device in filter(plan.needs, devices):
            plan.add(device, "background_scan", "not reported", send_background_scan)
        plans.append(plan)
    if uninstall_sensor:
        plan = PlannedAction("UNINSTALL_SENSOR", needs=has_sensor)
        for device in filter(plan.needs, devices):
            plan.add(device, "status", device.get("status"), "UNINSTALLED")
        plans.append(plan)
    if delete_sensor:
        plan = PlannedAction("DELETE_SENSOR", needs=lambda device: device.get("status") == "DEREGISTERED")
        for device in filter(plan.needs, devices):
            plan.add(device, "status", "DEREGISTERED", "DELETED")
        plans.append(plan)
    return [plan for plan in plans if plan.device_ids]


# -- options shared by cbc_device and cbc_device_info ---------------------------

SELECTION_ARGUMENT_SPEC = dict(
    device_ids=dict(type="list", elements="int"),
    criteria=dict(type="dict"),
    exclusions=dict(type="dict"),
    query=dict(type="str"),
    sort=SORT_SPEC,
)

# Enumerations the SDK enforces for these criteria fields.
CRITERIA_ENUMS = {
    "os": ("WINDOWS", "ANDROID", "MAC", "IOS", "LINUX", "OTHER"),
    "status": ("PENDING", "REGISTERED", "UNINSTALLED", "DEREGISTERED", "ACTIVE", "INACTIVE", "ERROR", "ALL",
               "BYPASS_ON", "BYPASS", "QUARANTINE", "SENSOR_OUTOFDATE", "DELETED", "LIVE"),
    "target_priority": ("LOW", "MEDIUM", "HIGH", "MISSION_CRITICAL"),
    "deployment_type": ("ENDPOINT", "WORKLOAD", "VDI", "AWS", "AZURE", "GCP"),
}


SELECTION_OPTIONS = ("device_ids", "criteria", "query")


# Fields a criteria/exclusions/sort key may name: the SDK's DeviceSearchQuery setters, the device fields of the
# SDK's device model and recorded responses, and the asset group names of the Devices API page
# (docs/api-evidence.md). An unknown key is refused: a server that ignored it would widen the selection.
DEVICE_FIELDS = frozenset((
    "ad_group_id", "appliance_name", "appliance_uuid", "asset_group", "asset_group_id", "asset_group_name",
    "auto_scaling_group_name", "av_ave_version", "av_engine", "av_last_scan_time", "av_master", "av_pack_version",
    "av_product_version", "av_status", "av_update_servers", "av_vdf_version", "cloud_provider_account_id",
    "cluster_name", "current_sensor_policy_name", "datacenter_name", "deployment_type", "deregistered_time",
    "device_owner_id", "email", "esx_host_name", "esx_host_uuid", "first_name", "groups_id", "groups_name", "id",
    "last_contact_time", "last_device_policy_changed_time", "last_device_policy_requested_time",
    "last_external_ip_address", "last_internal_ip_address", "last_location", "last_name", "last_policy_updated_time",
    "last_reported_time", "last_reset_time", "last_shutdown_time", "linux_kernel_version", "login_user_name",
    "mac_address", "middle_name", "name", "organization_id", "organization_name", "os", "os_version", "passive_mode",
    "policy_id", "policy_name", "policy_override", "quarantined", "registered_time", "scan_last_action_time",
    "scan_last_complete_time", "scan_status", "sensor_kit_type", "sensor_out_of_date", "sensor_pending_update",
    "sensor_states", "sensor_version", "status", "target_priority", "vcenter_name", "vcenter_uuid", "vdi_base_device",
    "virtual_machine", "virtual_private_cloud_id", "virtualization_provider", "vm_ip", "vm_name", "vm_uuid",
    "windows_platform",
))


def selection_from_params(params, whole_org_when_unset=False):
    """Validate the selection options and return a DeviceSelection (raises CbcConfigError before any request).

    An option that is given but empty (``device_ids: []``, ``criteria: {}`` or a criterion with an
    empty list, a blank ``query``) is an error: a template that rendered empty must never widen the
    selection to every device. The whole org is selected only by ``all_devices: true``, or, for
    read-only callers (``whole_org_when_unset``), when no selection option is given at all.
    """
    given = [option for option in SELECTION_OPTIONS if params.get(option) is not None]
    check_ids_given(params.get("device_ids"), "device_ids", "device")
    if params.get("device_ids") is not None:
        bad = [device_id for device_id in params["device_ids"] if device_id < 1]
        if bad:
            raise CbcConfigError("device_ids has %s, not a device ID. Fix: device IDs are integers of 1 or more"
                                 % ", ".join(str(device_id) for device_id in bad[:5]))
    for option in ("criteria", "exclusions"):
        check_keys(params.get(option) or {}, option, DEVICE_FIELDS)
        for field, values in (params.get(option) or {}).items():
            _check_criterion(option, field, values)
    check_sort(params.get("sort"), DEVICE_FIELDS, "a device", "name, id, last_contact_time, policy_id or status")
    criteria = params.get("criteria")
    check_criteria_given(criteria, "device")
    query = params.get("query")
    check_query(query, "device", "name:web-01")
    if params.get("all_devices"):
        if given:
            raise CbcConfigError("all_devices: true cannot be combined with %s. Fix: use one or the other"
                                 % ", ".join(given))
    elif not given and not whole_org_when_unset:
        raise CbcConfigError("no devices are selected. Fix: set device_ids, criteria or query, or all_devices: true "
                             "to act on every device of the organization")
    return DeviceSelection(device_ids=params.get("device_ids"), criteria=criteria,
                           exclusions=without_empty_lists(params.get("exclusions")),
                           query=query.strip() if query else None, sort=params.get("sort"))


def returned_fields(fields):
    """The device fields a caller asked for, ``id`` first; None (every field) when ``fields`` is None."""
    return requested_fields(fields, DEVICE_FIELDS, "device", "name, os, policy_name, status, last_contact_time")


def _check_criterion(option, field, values):
    where = "%s.%s" % (option, field)
    if field == "last_contact_time":
        check_time_shape(values, where, "-3w")
        return
    check_value_list(values, where, field)
    allowed = CRITERIA_ENUMS.get(field)
    if allowed:
        unknown = [value for value in values if value not in allowed]
        if unknown:
            raise CbcConfigError("%s.%s has unknown value(s) %s. Fix: use one of %s"
                                 % (option, field, ", ".join(str(value) for value in unknown), ", ".join(allowed)))
