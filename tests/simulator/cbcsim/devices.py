"""Devices API v6: deterministic seed data and the search, scroll, facet and get routes."""

import base64
import binascii
import json
import random
from collections import Counter
from datetime import timedelta

from cbcsim.protocol import Response, bad_request, not_found
from cbcsim.routing import ORG
from cbcsim.search import MAX_ROWS, SearchRequest, filter_request, format_time

DEVICE_BASE = "/appservices/v6/orgs/" + ORG + "/devices"

#: (sensor_kit_type, os_version, linux_kernel_version) per OS.
OS_FLAVOURS = {
    "LINUX": (
        ("RHEL", "Red Hat Enterprise Linux 8.8", "4.18.0-477.10.1.el8_8.x86_64"),
        ("RHEL", "Red Hat Enterprise Linux 9.2", "5.14.0-284.11.1.el9_2.x86_64"),
        ("UBUNTU", "Ubuntu 22.04.3 LTS", "5.15.0-88-generic"),
        ("UBUNTU", "Ubuntu 20.04.6 LTS", "5.4.0-166-generic"),
        ("SUSE", "SUSE Linux Enterprise Server 15 SP4", "5.14.21-150400.24.46-default"),
        ("AMAZON_LINUX", "Amazon Linux 2", "5.10.197-186.748.amzn2.x86_64"),
        ("CENTOS", "CentOS 7.9", "3.10.0-1160.99.1.el7.x86_64"),
    ),
    "WINDOWS": (
        ("WINDOWS", "Windows 10 x64", None),
        ("WINDOWS", "Windows 11 x64", None),
        ("WINDOWS", "Windows Server 2019 x64", None),
        ("WINDOWS", "Windows Server 2022 x64", None),
    ),
    "MAC": (
        ("MAC", "MAC OS X 13.6.1", None),
        ("MAC", "MAC OS X 14.1.0", None),
    ),
}

SENSOR_VERSIONS = {
    "LINUX": ("2.13.0.1398", "2.14.0.1574", "2.15.2.3036"),
    "WINDOWS": ("3.8.0.722", "3.9.1.2451", "4.0.0.1292"),
    "MAC": ("3.7.2.81", "3.8.1.6"),
}
LATEST_SENSOR = {os_name: versions[-1] for os_name, versions in SENSOR_VERSIONS.items()}

#: Fields ``_facet`` can count (cbc_sdk ``DeviceSearchQuery.VALID_FACET_FIELDS``).
FACET_FIELDS = ("policy_id", "status", "os", "ad_group_id", "cloud_provider_account_id", "auto_scaling_group_name",
                "virtual_private_cloud_id", "deployment_type")

TARGET_PRIORITIES = ("LOW", "MEDIUM", "MEDIUM", "HIGH", "MISSION_CRITICAL")
LOCATIONS = ("ONSITE", "OFFSITE", "UNKNOWN")
DEPLOYMENT_TYPES = ("ENDPOINT", "ENDPOINT", "ENDPOINT", "WORKLOAD", "VDI")
FIRST_NAMES = ("alex", "sam", "kim", "lee", "jo", "max", "pat", "ray")
ASSET_GROUPS = (
    {"id": "6f1c2d0e-8d4b-4a57-9d33-1c0a4b2f7e10", "name": "Servers", "membership_type": "DYNAMIC"},
    {"id": "b2e7a9c4-3f15-4d6e-8a21-77c9e0d4f5a3", "name": "Laptops", "membership_type": "MANUAL"},
)


def version_key(version):
    """Return a sortable key for a dotted sensor version such as ``2.15.2.3036``."""
    return tuple(int(part) if part.isdigit() else 0 for part in str(version).split("."))


def is_sensor_out_of_date(os_name, version):
    """Return True if ``version`` is older than the newest simulated sensor for ``os_name``."""
    latest = LATEST_SENSOR.get(os_name)
    return latest is not None and version_key(version) < version_key(latest)


def _windows_platform(os_version):
    return "SERVER_X64" if "Server" in os_version else "CLIENT_X64"


def make_device(index, device_id, org, policies, rng, now):
    """Build one full device object (fields of facts section 3.3) for position ``index`` (0-based).

    Even indexes are LINUX; odd indexes alternate-ish between WINDOWS and MAC (3 to 1).
    """
    if index % 2 == 0:
        os_name = "LINUX"
    else:
        os_name = "MAC" if rng.random() < 0.25 else "WINDOWS"
    kit, os_version, kernel = rng.choice(OS_FLAVOURS[os_name])
    status = "DEREGISTERED" if index % 20 == 7 else "REGISTERED"
    registered = now - timedelta(days=rng.randint(30, 900), seconds=rng.randint(0, 86399))
    if status == "DEREGISTERED":
        last_contact = registered + timedelta(days=rng.randint(1, 25))
        deregistered = format_time(last_contact + timedelta(hours=2))
    else:
        last_contact = now - timedelta(seconds=rng.randint(30, 14 * 86400))
        deregistered = None
    policy = policies[rng.choices(range(len(policies)), weights=[6, 3, 1][:len(policies)] or None)[0]]
    sensor_version = rng.choice(SENSOR_VERSIONS[os_name])
    user = rng.choice(FIRST_NAMES)
    octet3, octet4 = rng.randint(0, 254), rng.randint(1, 254)
    name = "{0}host-{1:05d}".format(org.name_prefix, index + 1)
    quarantined = status == "REGISTERED" and index % 25 == 11
    sensor_states = ["ACTIVE", "LIVE_RESPONSE_NOT_RUNNING", "LIVE_RESPONSE_NOT_KILLED", "LIVE_RESPONSE_ENABLED"]
    if os_name == "WINDOWS":
        sensor_states.append("SECURITY_CENTER_OPTLN_DISABLED")
    deployment_type = rng.choice(DEPLOYMENT_TYPES)
    virtual = deployment_type in ("WORKLOAD", "VDI")
    return {
        "id": device_id,
        "name": name,
        "os": os_name,
        "os_version": os_version,
        "status": status,
        "policy_id": policy["id"],
        "policy_name": policy["name"],
        "policy_override": rng.random() < 0.1,
        "current_sensor_policy_name": policy["name"],
        "quarantined": quarantined,
        "passive_mode": False,
        "sensor_version": sensor_version,
        "sensor_out_of_date": is_sensor_out_of_date(os_name, sensor_version),
        "sensor_pending_update": False,
        "sensor_kit_type": kit,
        "sensor_states": sensor_states if status == "REGISTERED" else [],
        "deployment_type": deployment_type,
        "target_priority": rng.choice(TARGET_PRIORITIES),
        "last_contact_time": format_time(last_contact),
        "last_reported_time": format_time(last_contact - timedelta(minutes=rng.randint(1, 180))),
        "registered_time": format_time(registered),
        "deregistered_time": deregistered,
        "last_device_policy_changed_time": format_time(registered + timedelta(minutes=3)),
        "last_device_policy_requested_time": format_time(last_contact - timedelta(hours=1)),
        "last_policy_updated_time": None,
        "last_reset_time": None,
        "last_shutdown_time": None,
        "last_external_ip_address": "203.0.113.{0}".format(octet4),
        "last_internal_ip_address": "10.20.{0}.{1}".format(octet3, octet4),
        "last_location": rng.choice(LOCATIONS),
        "mac_address": "{0:012x}".format(0x005056000000 + device_id % 0xFFFFFF),
        "login_user_name": "{0}@{1}".format(user, org.domain),
        "email": "{0}@{1}".format(user, org.domain),
        "first_name": None,
        "middle_name": None,
        "last_name": None,
        "device_owner_id": 90000 + rng.randint(0, 9999),
        "organization_id": org.organization_id,
        "organization_name": org.domain,
        "ad_group_id": 0,
        "asset_group": [dict(ASSET_GROUPS[index % 2])] if index % 5 == 0 else [],
        "activation_code": None,
        "activation_code_expiry_time": format_time(registered + timedelta(days=7)),
        "av_ave_version": "8.3.64.226" if os_name == "WINDOWS" else None,
        # An empty string, not null, without AV (as recorded: SDK live_response/mock_device.py DEVICE_RESPONSE).
        "av_engine": "4.14.3.454-ave.8.3.64.226:avpack.8.5.0.92:vdf.8.19.30.74" if os_name == "WINDOWS" else "",
        "av_last_scan_time": None,
        "av_master": False,
        "av_pack_version": "8.5.0.92" if os_name == "WINDOWS" else None,
        "av_product_version": "4.14.3.454" if os_name == "WINDOWS" else None,
        "av_status": ["AV_ACTIVE", "ONDEMAND_SCAN_DISABLED"] if os_name == "WINDOWS" else ["AV_NOT_REGISTERED"],
        "av_update_servers": None,
        "av_vdf_version": "8.19.30.74" if os_name == "WINDOWS" else None,
        "device_meta_data_item_list": [{"key_name": "OS_MAJOR_VERSION", "key_value": os_version.split(" ")[0], "position": 0}],
        "linux_kernel_version": kernel,
        "scan_last_action_time": None,
        "scan_last_complete_time": None,
        "scan_status": None,
        "uninstall_code": "{0:08X}".format(rng.getrandbits(32)),
        "vdi_base_device": None,
        "virtual_machine": virtual,
        "virtualization_provider": "VMW_ESX" if virtual else "UNKNOWN",
        "windows_platform": _windows_platform(os_version) if os_name == "WINDOWS" else None,
        "appliance_name": None,
        "appliance_uuid": None,
        "cluster_name": None,
        "datacenter_name": None,
        "esx_host_name": None,
        "esx_host_uuid": None,
        "vcenter_name": None,
        "vcenter_uuid": None,
        "vm_ip": None,
        "vm_name": name if virtual else None,
        "vm_uuid": None,
        "vuln_score": round(rng.uniform(0, 9.5), 1),
        "vuln_severity": None,
        # A boolean, as recorded (SDK workload/mock_nsx_remediation.py NSX_DEVICE_DATA_*); no simulated device has NSX.
        "nsx_enabled": False,
        "nsx_distributed_firewall_policy": None,
    }


def seed_devices(org, count, seed, now):
    """Return ``{id: device}`` (ascending unique ids) for ``org``, deterministic from ``seed``."""
    rng = random.Random("devices:{0}:{1}".format(org.org_key, seed))
    devices = {}
    device_id = org.device_id_base
    for index in range(count):
        device_id += rng.randint(1, 40)
        devices[device_id] = make_device(index, device_id, org, org.policies, rng, now)
    return devices


# --- scroll cursor -----------------------------------------------------------------------------


def encode_cursor(last_id):
    """Return the opaque ``search_after`` string that resumes after device ``last_id``."""
    return base64.urlsafe_b64encode(json.dumps({"after_id": last_id}).encode("utf-8")).decode("ascii")


def decode_cursor(value):
    """Return the device id a ``search_after`` cursor resumes after; raises 400 if invalid."""
    try:
        data = json.loads(base64.urlsafe_b64decode(value.encode("ascii")).decode("utf-8"))
        last_id = data["after_id"]
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        raise bad_request("search_after is not a valid cursor") from None
    if isinstance(last_id, bool) or not isinstance(last_id, int):
        raise bad_request("search_after is not a valid cursor")
    return last_id


# --- handlers ----------------------------------------------------------------------------------


def search_devices(ctx):
    """``POST .../devices/_search``."""
    request = SearchRequest(ctx.json(default={}))
    org = ctx.state.org(ctx.org_key)
    with ctx.state.lock:
        found = request.select(org.devices.values())
        body = {"results": request.page(found), "num_found": len(found)}
        return Response(200, body)


def scroll_devices(ctx):
    """``POST .../devices/_scroll``: id-ordered pages resumed with ``search_after``."""
    body = ctx.json(default={})
    cursor = body.get("search_after")
    if cursor is not None and not isinstance(cursor, str):
        raise bad_request("search_after must be a string")
    request = SearchRequest({key: value for key, value in body.items() if key not in ("search_after", "start", "sort")},
                            max_rows=MAX_ROWS)
    if request.rows < 1:
        raise bad_request("rows must be between 1 and {0} for _scroll".format(MAX_ROWS))
    after_id = decode_cursor(cursor) if cursor else None
    org = ctx.state.org(ctx.org_key)
    with ctx.state.lock:
        found = request.select(org.devices.values())
        remaining = [device for device in found if after_id is None or device["id"] > after_id]
        page = remaining[:request.rows]
        more = len(remaining) > len(page) and page
        result = {
            "results": page,
            "num_found": len(found),
            "org_key": org.org_key,
            "search_after": encode_cursor(page[-1]["id"]) if more else "",
        }
        return Response(200, result)


def parse_facet_terms(terms):
    """Validate ``terms`` of a facet body; return ``(fields, rows)`` (rows 0 = every value)."""
    if not isinstance(terms, dict):
        raise bad_request("terms must be an object with fields (and optionally rows)")
    fields = terms.get("fields")
    if not isinstance(fields, list) or not fields or not all(isinstance(field, str) for field in fields):
        raise bad_request("terms.fields must be a non-empty array of field names")
    unknown = [field for field in fields if field not in FACET_FIELDS]
    if unknown:
        raise bad_request("terms.fields: cannot facet on {0}; valid fields are {1}".format(", ".join(unknown), ", ".join(FACET_FIELDS)))
    rows = terms.get("rows", 0)
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
        raise bad_request("terms.rows must be a non-negative integer")
    return fields, rows


def facet_values(devices, field, rows):
    """Return ``[{"id", "name", "total"}]`` for ``field``: most frequent first, then by id; null values are left out."""
    totals = Counter(str(device[field]) for device in devices if device.get(field) is not None)
    ordered = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    if rows:
        ordered = ordered[:rows]
    return [{"id": value, "name": value, "total": total} for value, total in ordered]


def facet_devices(ctx):
    """``POST .../devices/_facet``: value counts of the ``terms.fields`` over every matching device."""
    body = ctx.json(default={})
    request = filter_request(body, "_facet body")
    fields, rows = parse_facet_terms(body.get("terms"))
    org = ctx.state.org(ctx.org_key)
    with ctx.state.lock:
        found = request.select(org.devices.values())
        return Response(200, {"results": [{"field": field, "values": facet_values(found, field, rows)} for field in fields]})


def parse_device_id(text):
    """Return the integer device id from a path segment or raise 404."""
    try:
        return int(text)
    except ValueError:
        raise not_found("Device {0} not found".format(text)) from None


def get_device(ctx):
    """``GET .../devices/{device_id}``."""
    device_id = parse_device_id(ctx.params["device_id"])
    org = ctx.state.org(ctx.org_key)
    with ctx.state.lock:
        device = org.devices.get(device_id)
        if device is None:
            raise not_found("Device {0} not found".format(device_id))
        return Response(200, device)


def register(table):
    """Add the device routes to ``table``."""
    table.add("POST", DEVICE_BASE + r"/_search", search_devices, "devices.search", permission="device:READ")
    table.add("POST", DEVICE_BASE + r"/_scroll", scroll_devices, "devices.scroll", permission="device:READ")
    table.add("POST", DEVICE_BASE + r"/_facet", facet_devices, "devices.facet", permission="device:READ")
    table.add("GET", DEVICE_BASE + r"/(?P<device_id>[^/_][^/]*)", get_device, "devices.get", permission="device:READ")
