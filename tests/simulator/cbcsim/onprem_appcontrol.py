"""Carbon Black App Control (CB Protection / Bit9) mode: console users' API tokens with their role's permissions,
the ``/api/bit9platform/v1`` objects a token check reads (``computer``, ``policy``, ``fileCatalog``,
``approvalRequest``; ``?limit=-1`` gives ``{"count": N}``) and ``serverConfig`` with ``CBServerUrl``, the EDR server
App Control is integrated with (``shared/docs/cb-onprem-facts.md`` section 3).

App Control answers 401 both for a bad token and for a missing permission, with the same body.
"""

import hashlib
import random
import re
from datetime import datetime, timedelta, timezone
from http import HTTPStatus

from cbcsim.protocol import ApiError, Response

PRODUCT = "app_control"
BASE = "/api/bit9platform/v1"
DEFAULT_VERSION = "8.9.4.12"
SERVER_CONFIG = "View system configuration"
#: Object → the permission its reads need (the facts' PDF names).
OBJECTS = {
    "computer": "View computers",
    "policy": "View policies",
    "fileCatalog": "View files",
    "approvalRequest": "View approval requests",
    "serverConfig": SERVER_CONFIG,
}
ALL_PERMISSIONS = tuple(OBJECTS.values())
QUERY_PARAMS = ("q", "limit", "offset", "sort", "group", "expand")
#: ``limit`` omitted → the first 1000 results (the API intro; the per-object reference says all, see the README).
DEFAULT_LIMIT = 1000

#: The built-in console users. Their tokens (GUIDs, like real App Control tokens) are test fixtures.
DEFAULT_TOKENS = (
    {"name": "acadmin", "token": "AC000000-0000-4000-8000-000000000001", "permissions": "*"},
    {"name": "acviewer", "token": "AC000000-0000-4000-8000-000000000002", "permissions": ["View computers"]},
    {"name": "acnoperms", "token": "AC000000-0000-4000-8000-000000000003", "permissions": []},
)

FIELDS = {
    "computer": ("id", "name", "computerTag", "description", "policyId", "policyName", "ipAddress", "connected",
                 "enforcementLevel", "osShortName", "platformId", "agentVersion", "daysOffline", "lastPollDate",
                 "dateCreated", "deleted", "uninstalled", "cbSensorId", "cbSensorVersion", "cbSensorFlags"),
    "policy": ("id", "name", "description", "packageName", "enforcementLevel", "disconnectedEnforcementLevel", "readOnly",
               "hidden", "automatic", "reputationEnabled", "fileTrackingEnabled", "allowAgentUpgrades", "clVersionMax",
               "totalComputers", "connectedComputers", "atEnforcementComputers", "dateCreated", "createdByUserId",
               "dateModified", "modifiedByUserId"),
    "fileCatalog": ("id", "md5", "sha1", "sha256", "fileName", "pathName", "fileExtension", "fileSize", "publisher",
                    "company", "productName", "prevalence", "trust", "threat", "fileState", "effectiveState", "dateCreated"),
    "approvalRequest": ("id", "fileCatalogId", "computerId", "computerName", "fileName", "pathName", "status", "resolution",
                        "requestorEmail", "justification", "priority", "dateCreated"),
    "serverConfig": ("id", "name", "value", "dateModified", "modifiedBy"),
}
DATE_FIELDS = ("dateCreated", "dateModified", "lastPollDate")
POLICIES = ((2, "High Enforcement", 20), (3, "Medium Enforcement", 30), (4, "Low Enforcement", 40), (5, "Visibility", 60))
OPERATING_SYSTEMS = (("Windows 10", 1), ("Windows 11", 1), ("Windows Server 2019", 1), ("Windows 10", 1), ("macOS 13", 2),
                     ("RHEL 8", 4))
FILES = (("notepad.exe", "c:\\windows\\system32\\", "Microsoft Corporation", "Microsoft® Windows® Operating System"),
         ("setup.exe", "c:\\users\\public\\downloads\\", "", ""),
         ("chrome.exe", "c:\\program files\\google\\chrome\\application\\", "Google LLC", "Google Chrome"),
         ("tool.dll", "c:\\program files\\acme\\", "Acme Corp", "Acme Tools"))
RELATIVE_TIME = re.compile(r"^-(\d+)([smhdw])$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
CONDITION = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)([:=!<>+-])(.*)$", re.S)


class AppControlError(ApiError):
    """An App Control error: ``text/plain``, ``<status> - <phrase>`` and, except for 401, a detail line.

    A 401 never says whether the token or the role was the problem (the server does not tell them apart)."""

    def to_response(self):
        text = "{0} - {1}".format(self.status, HTTPStatus(self.status).phrase)
        if self.status != 401:
            text += ": " + self.message
        headers = dict(self.headers)
        headers["Content-Type"] = "text/plain; charset=utf-8"
        return Response(self.status, (text + "\n").encode("utf-8"), headers)


def ac_error(status, message):
    """Return an AppControlError."""
    return AppControlError(status, HTTPStatus(status).phrase.upper().replace(" ", "_"), message)


def timestamp(moment):
    """``2023-05-01T12:00:00Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ConsoleUser:
    """An App Control console user with an API token and the permissions of its role."""

    org_key = None

    def __init__(self, name, token, permissions):
        self.name = name
        self.token = token
        self.permissions = frozenset(permissions)

    def describe(self):
        """The user without its token."""
        return {"name": self.name, "permissions": sorted(self.permissions)}


def user_from_dict(data):
    """Build a ConsoleUser from ``{"name", "token", "permissions": [...] or "*"}``; raises ValueError when invalid."""
    if not isinstance(data, dict):
        raise ValueError("a token must be a JSON object")
    name, token = data.get("name"), data.get("token")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("name (the console user) must be a non-empty string")
    if not isinstance(token, str) or not token.strip():
        raise ValueError("token must be a non-empty string (real App Control tokens are GUIDs)")
    permissions = data.get("permissions", [])
    if permissions in ("*", "all"):
        permissions = list(ALL_PERMISSIONS)
    if not isinstance(permissions, list) or not all(p in ALL_PERMISSIONS for p in permissions):
        raise ValueError("permissions must be '*' or a list of: {0}".format(", ".join(ALL_PERMISSIONS)))
    return ConsoleUser(name.strip(), token.strip(), permissions)


def seed_objects(devices, seed, now):
    """Return ``{object: [dicts]}``: computers (``devices`` of them), policies, files and approval requests."""
    rng = random.Random("app-control-{0}".format(seed))
    policies = [make_policy(policy_id, name, level, now) for policy_id, name, level in POLICIES]
    computers = []
    next_id = 0
    for index in range(devices):
        next_id += rng.randint(1, 3)
        policy = policies[rng.choice((0, 1, 1, 2, 3))]
        os_name, platform_id = rng.choice(OPERATING_SYSTEMS)
        connected = index % 10 != 3
        days_offline = 0 if connected else rng.randint(1, 45)
        last_poll = now - (timedelta(minutes=rng.randint(1, 30)) if connected else timedelta(days=days_offline))
        sensor = index % 4 != 0
        computers.append({
            "id": next_id, "name": "CORP\\WS-{0:05d}".format(index + 1), "computerTag": "", "description": "",
            "policyId": policy["id"], "policyName": policy["name"],
            "ipAddress": "10.1.{0}.{1}".format(index // 250, index % 250 + 1), "connected": connected,
            "enforcementLevel": policy["enforcementLevel"], "osShortName": os_name, "platformId": platform_id,
            "agentVersion": "8.9.4.12", "daysOffline": days_offline, "lastPollDate": timestamp(last_poll),
            "dateCreated": timestamp(now - timedelta(days=rng.randint(30, 900))), "deleted": False, "uninstalled": False,
            "cbSensorId": 100 + index if sensor else 0, "cbSensorVersion": "7.3.0.18311" if sensor else "",
            "cbSensorFlags": 3 if sensor else 0,
        })
        policy["totalComputers"] += 1
        policy["connectedComputers"] += int(connected)
        policy["atEnforcementComputers"] += int(connected)
    files = [make_file(index, seed, now) for index in range(2 * devices + 10)]
    approvals = []
    for index, computer in enumerate(computers[:3]):
        catalog = files[index + 1]
        approvals.append({
            "id": index + 1, "fileCatalogId": catalog["id"], "computerId": computer["id"], "computerName": computer["name"],
            "fileName": catalog["fileName"], "pathName": catalog["pathName"], "status": 1, "resolution": 0,
            "requestorEmail": "user{0}@example.invalid".format(index + 1), "justification": "Needed for work",
            "priority": 1, "dateCreated": timestamp(now - timedelta(hours=index + 1)),
        })
    return {"computer": computers, "policy": policies, "fileCatalog": files, "approvalRequest": approvals}


def make_policy(policy_id, name, level, now):
    """One policy object, with zero computer counts."""
    created = timestamp(now - timedelta(days=400 - policy_id))
    return {"id": policy_id, "name": name, "description": "", "packageName": "{0}Policy".format(name.split()[0]),
            "enforcementLevel": level, "disconnectedEnforcementLevel": level, "readOnly": False, "hidden": False,
            "automatic": False, "reputationEnabled": True, "fileTrackingEnabled": True, "allowAgentUpgrades": True,
            "clVersionMax": 0, "totalComputers": 0, "connectedComputers": 0, "atEnforcementComputers": 0,
            "dateCreated": created, "createdByUserId": 1, "dateModified": created, "modifiedByUserId": 1}


def make_file(index, seed, now):
    """One fileCatalog object with hashes derived from the seed."""
    name, path, publisher, product = FILES[index % len(FILES)]
    material = "file-{0}-{1}".format(seed, index).encode("utf-8")
    approved = bool(publisher)
    return {"id": 1000 + index, "md5": hashlib.md5(material, usedforsecurity=False).hexdigest().upper(),
            "sha1": hashlib.sha1(material, usedforsecurity=False).hexdigest().upper(),
            "sha256": hashlib.sha256(material).hexdigest().upper(), "fileName": name, "pathName": path,
            "fileExtension": name.rsplit(".", 1)[1], "fileSize": 4096 + 512 * index, "publisher": publisher,
            "company": publisher, "productName": product, "prevalence": 1 + index % 7, "trust": 10 if approved else -1,
            "threat": 0 if approved else -1, "fileState": 2 if approved else 1, "effectiveState": "Approved" if approved else "Unapproved",
            "dateCreated": timestamp(now - timedelta(days=index % 60))}


class AppControlState:
    """The App Control server: console users' tokens, settings (``edr_url`` = CBServerUrl, ``server_version``) and
    the seeded objects. Rebuilt from the start-up arguments by ``reset``."""

    product = PRODUCT

    def __init__(self, config, started):
        self.started = started
        self.web_server_address = config.host
        self.users = {}
        for data in DEFAULT_TOKENS:
            self.add_user(user_from_dict(data))
        edr_url = getattr(config, "edr_url", None)
        self.settings = {"edr_url": edr_url if edr_url is not None else "", "server_version": DEFAULT_VERSION}
        self.edr_url_modified = (started, "System" if edr_url is None else "admin")
        self.objects = seed_objects(config.devices, config.seed, started)

    def add_user(self, user):
        """Add or replace a token (tokens are unique, compared case-insensitively); a user has one token."""
        for token, other in list(self.users.items()):
            if other.name == user.name:
                del self.users[token]
        self.users[user.token.upper()] = user

    def user_for_token(self, token):
        """Return the console user owning ``token`` (GUIDs compare case-insensitively), or None."""
        return self.users.get(token.strip().upper())

    def claimed_auth_label(self, headers):
        """``token:<console user>`` for a known token, ``token:<unknown>`` for another one, None without the header."""
        token = headers.get("X-Auth-Token")
        if token is None:
            return None
        user = self.user_for_token(token)
        return "token:" + (user.name if user else "<unknown>")

    def authenticate(self, headers):
        """Return the console user of ``X-Auth-Token`` or raise 401."""
        user = self.user_for_token(headers.get("X-Auth-Token") or "")
        if user is None:
            raise ac_error(401, "invalid or missing API token")
        return user

    def authorize(self, ctx, user, permission):
        """Raise the same 401 as for a bad token unless ``user``'s role has ``permission``."""
        if permission is not None and permission not in user.permissions:
            ctx.log_fields["denied_permission"] = permission
            raise ac_error(401, "the role lacks " + permission)

    def server_config(self):
        """The serverConfig properties (CBServerUrl is left out when ``edr_url`` was set to null)."""
        started = timestamp(self.started)
        version = self.settings["server_version"]
        items = [(1, "API_Version", "1"), (7, "ParityServerVersion", version), (12, "WebServerAddress", self.web_server_address),
                 (13, "BinaryPort", "41002")]
        rows = [{"id": item_id, "name": name, "value": value, "dateModified": started, "modifiedBy": "System"}
                for item_id, name, value in items]
        if self.settings["edr_url"] is not None:
            modified, by = self.edr_url_modified
            rows.append({"id": 42, "name": "CBServerUrl", "value": self.settings["edr_url"], "dateModified": timestamp(modified),
                         "modifiedBy": by})
        rows.append({"id": 43, "name": "ParityServerOSDescription", "value": "Windows Server 2019 Standard",
                     "dateModified": started, "modifiedBy": "System"})
        return rows

    def object_list(self, name):
        """A copy of the objects of one type."""
        if name == "serverConfig":
            return self.server_config()
        return [dict(item) for item in self.objects[name]]

    def update_settings(self, data):
        """Change ``edr_url`` (string; null removes CBServerUrl) and/or ``server_version``; raises ValueError."""
        unknown = sorted(set(data) - {"edr_url", "server_version"})
        if unknown:
            raise ValueError("unknown App Control settings {0}; known: edr_url, server_version".format(", ".join(unknown)))
        if "edr_url" in data and data["edr_url"] is not None and not isinstance(data["edr_url"], str):
            raise ValueError("edr_url must be a string (\"\" = not configured) or null (no CBServerUrl property)")
        if "server_version" in data and (not isinstance(data["server_version"], str) or not data["server_version"]):
            raise ValueError("server_version must be a non-empty string, e.g. 8.9.4.12")
        if "edr_url" in data:
            self.edr_url_modified = (datetime.now(timezone.utc), "admin")
        self.settings.update(data)
        return dict(self.settings)

    def describe_settings(self):
        """Return a copy of the settings."""
        return dict(self.settings)

    def add_from_dict(self, data):
        """``POST /_sim/onprem/users``: add a console user's token; return the user (without the token)."""
        user = user_from_dict(data)
        self.add_user(user)
        return user.describe()

    def describe(self):
        """The state for ``GET /_sim/onprem`` (no tokens)."""
        return {"product": PRODUCT, "settings": self.describe_settings(),
                "counts": {name: len(items) for name, items in self.objects.items()},
                "users": [user.describe() for user in self.users.values()]}

    def known_secrets(self):
        """Every token (for scrubbing the request log), as configured and upper-cased."""
        return [value for user in list(self.users.values()) for value in (user.token, user.token.upper(), user.token.lower())]


# --- queries: q, limit, offset, sort, group ------------------------------------------------------------------------


def query_int(ctx, name):
    """Return an integer query parameter or None; 400 if it is not an integer."""
    values = ctx.query.get(name)
    if not values:
        return None
    try:
        return int(values[-1])
    except ValueError:
        raise ac_error(400, "{0} must be an integer, not {1!r}".format(name, values[-1])) from None


def field_name(name, fields):
    """Resolve a field name case-insensitively (``SHA256`` → ``sha256``), or 400."""
    for field in fields:
        if field.lower() == name.lower():
            return field
    raise ac_error(400, "unknown field {0!r}".format(name))


def coerce(text, sample):
    """Convert a query value to the type of the object's value ``sample``; raises ValueError."""
    if isinstance(sample, bool):
        lowered = text.lower()
        if lowered not in ("true", "false", "1", "0"):
            raise ValueError("expected true or false")
        return lowered in ("true", "1")
    if isinstance(sample, int):
        return int(text)
    if isinstance(sample, float):
        return float(text)
    return text


def parse_time(text, now):
    """An ISO 8601 time or a relative one (``-10h``, ``-30d``; units s, m, h, d, w)."""
    match = RELATIVE_TIME.match(text)
    if match:
        return now - timedelta(seconds=int(match.group(1)) * UNITS[match.group(2)])
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def like(value, pattern, wildcards):
    """Case-insensitive equality, or a match with ``*`` wildcards."""
    if value is None:
        return pattern == ""
    if isinstance(value, str):
        if wildcards and "*" in pattern:
            regex = ".*".join(re.escape(part) for part in pattern.split("*"))
            return re.fullmatch(regex, value, re.IGNORECASE | re.S) is not None
        return value.casefold() == pattern.casefold()
    return value == coerce(pattern, value)


def compare(value, text, field, greater, now):
    """``field<text`` / ``field>text`` for numbers, times (also relative) and strings."""
    if value is None:
        return False
    if field in DATE_FIELDS:
        left, right = parse_time(value, now), parse_time(text, now)
    elif isinstance(value, str):
        left, right = value.casefold(), text.casefold()
    else:
        left, right = value, coerce(text, value)
    return left > right if greater else left < right


def condition_matcher(text, fields, now):
    """Return a predicate for one ``q`` condition ``<field><op><value>`` (``|`` in the value means OR)."""
    match = CONDITION.match(text)
    if not match:
        raise ac_error(400, "malformed condition {0!r}: expected <field><op><value>, op one of : = ! < > + -".format(text))
    field, operator, value = field_name(match.group(1), fields), match.group(2), match.group(3)
    alternatives = value.split("|")

    def predicate(item):
        current = item.get(field)
        if operator in ":=":
            return any(like(current, alt, operator == ":") for alt in alternatives)
        if operator == "!":
            return not any(like(current, alt, True) for alt in alternatives)
        if operator in "<>":
            return any(compare(current, alt, field, operator == ">", now) for alt in alternatives)
        if isinstance(current, bool) or not isinstance(current, int):
            raise ValueError("{0} is not a bit field".format(field))
        masks = [int(alt) for alt in alternatives]
        if operator == "+":
            return any(current & mask == mask for mask in masks)
        return any(current & mask == 0 for mask in masks)

    return predicate


def run_query(ctx, name, items):
    """Apply the query string to ``items``: a ``{"count": N}``, a ``group`` list or a page of objects."""
    unknown = sorted(set(ctx.query) - set(QUERY_PARAMS))
    if unknown:
        raise ac_error(400, "unexpected parameter(s) {0}".format(", ".join(unknown)))
    fields = FIELDS[name]
    now = datetime.now(timezone.utc)
    predicates = [condition_matcher(text, fields, now) for text in ctx.query.get("q", [])]
    try:
        matched = [item for item in items if all(predicate(item) for predicate in predicates)]
    except ValueError as exc:
        raise ac_error(400, "bad query value: {0}".format(exc)) from None
    limit, offset = query_int(ctx, "limit"), query_int(ctx, "offset")
    if (limit is not None and limit < -1) or (offset is not None and offset < 0):
        raise ac_error(400, "limit must be -1 (count), 0 (all) or positive, and offset not negative")
    if limit == -1:
        return {"count": len(matched)}
    group = (ctx.query.get("group") or [None])[-1]
    if group:
        group = field_name(group, fields)
        counts = {}
        for item in matched:
            counts[item.get(group)] = counts.get(item.get(group), 0) + 1
        return [{"value": value, "count": count} for value, count in sorted(counts.items(), key=lambda pair: (-pair[1], str(pair[0])))]
    sort = (ctx.query.get("sort") or [None])[-1]
    if sort:
        parts = sort.split()
        direction = parts[1].upper() if len(parts) > 1 else "ASC"
        if len(parts) > 2 or direction not in ("ASC", "DESC"):
            raise ac_error(400, "sort must be '<field> [ASC|DESC]'")
        key = field_name(parts[0], fields)
        matched.sort(key=lambda item: (item.get(key) is None, sort_key(item.get(key))), reverse=direction == "DESC")
    if limit == 0:
        return matched
    start = offset or 0
    return matched[start:start + (limit or DEFAULT_LIMIT)]


def sort_key(value):
    """Sort strings case-insensitively; None sorts as the empty string."""
    if value is None:
        return ""
    return value.casefold() if isinstance(value, str) else value


def list_handler(name):
    """``GET /api/bit9platform/v1/<name>``: a JSON array, or ``{"count": N}`` with ``limit=-1``."""

    def handler(ctx):
        with ctx.state.lock:
            items = ctx.state.onprem.object_list(name)
        return Response(200, run_query(ctx, name, items))

    return handler


def get_handler(name):
    """``GET /api/bit9platform/v1/<name>/<id>``: one object, or 404."""

    def handler(ctx):
        with ctx.state.lock:
            items = ctx.state.onprem.object_list(name)
        for item in items:
            if str(item["id"]) == ctx.params["object_id"]:
                return Response(200, item)
        raise ac_error(404, "{0} {1} not found".format(name, ctx.params["object_id"]))

    return handler


def register(table, auth):
    """Add the App Control routes; ``auth`` is the route auth kind the server checks with ``onprem.check_access``."""
    for name, permission in OBJECTS.items():
        table.add("GET", BASE + "/" + name, list_handler(name), "appcontrol." + name, permission=permission, auth=auth)
        table.add("GET", BASE + "/" + name + r"/(?P<object_id>[^/]+)", get_handler(name), "appcontrol.{0}.get".format(name),
                  permission=permission, auth=auth)
