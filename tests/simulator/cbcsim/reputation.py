"""Reputation overrides (facts section 11): create, search, get, delete and bulk delete.

Base ``/appservices/v6/orgs/{org_key}/reputations/overrides``. Sources: the SDK's ``platform/reputation.py``
(routes, bodies, paging), ``platform/models/reputation_override.yaml`` (fields and enumerations),
``src/tests/unit/platform/test_reputation_overrides.py`` with the fixtures of ``mock_reputation_override.py``,
and ``src/tests/uat/reputation_override_uat.py`` (a second delete of the same id is a 404).

* **Create** ``POST base`` with one override → **201** with the stored object: the body plus ``id`` (32 hex
  characters), ``created_by`` (the caller's API ID or client id) and ``create_time`` (ISO, milliseconds, ``Z``;
  later than every earlier one of the org, so it orders creations).
  The SDK reads the answer as JSON without checking the status, so 201 is an [UNVERIFIED] choice (200 would
  serve the SDK as well). ``sha256_hash`` is stored lower-cased (choice).
* Validation (400, nothing stored): the body is an object; ``override_list`` ∈ WHITE_LIST, BLACK_LIST and
  ``override_type`` ∈ SHA256, CERT, IT_TOOL are required; ``description`` is an optional string. SHA256 needs
  ``sha256_hash`` (64 hex characters) and takes an optional ``filename``; CERT needs ``signed_by`` and takes an
  optional ``certificate_authority``; IT_TOOL needs ``path`` and takes an optional boolean
  ``include_child_processes`` (stored as false when absent, a choice). BLACK_LIST is valid for SHA256 only (the
  model). Any other field, a field of another type, or ``id``/``created_by``/``create_time`` → 400.
* **Duplicates** (not published): by default a create whose SHA256 hash, CERT signer (and authority) or IT_TOOL
  path is already an override of that type, on either list, is a **409** ``CONFLICT`` naming the existing id.
  That is the safe side for clients, which must search first; the switch ``duplicates: "store"``
  (``POST /_sim/reputation_overrides/settings``) stores a second copy instead, like a lenient server.
* **Search** ``POST base/_search``: ``criteria`` with plain-string (not array) ``override_list`` and/or
  ``override_type`` (an unknown criteria key or value → 400); ``query``: words (``"quoted phrases"`` allowed),
  all of which must match; a word is a case-insensitive substring of any text field (``description``,
  ``filename``, ``sha256_hash``, ``signed_by``, ``certificate_authority``, ``path``, ``created_by``), a word
  with ``*``/``?`` must match a whole field value (``foo*`` matches filename ``foo.exe``), and ``field:value``
  limits a word to that field (choices: the real syntax is not published). ``start`` is a **0-based offset**
  (the SDK sends ``start`` = the rows it has read). ``rows`` defaults to **100** when absent (the SDK sends no
  ``rows`` when it iterates; the real default is [UNVERIFIED]) and may be 0..1000 (more → 400; the real
  maximum is [UNVERIFIED], 1000 keeps clients on small pages). Sorting: flat ``sort_field`` (an override field)
  and ``sort_order`` (ASC/DESC in either case, default ASC); without ``sort_field``, ascending ``create_time``
  (choice); ties keep creation order. Other keys → 400. Answer ``{"num_found": N, "results": [...]}``.
* **Get** ``GET base/{id}`` → 200 with the object; **delete** ``DELETE base/{id}`` → 204 (the SDK accepts 200
  or 204); an unknown id → 404 for both.
* **Bulk delete** ``POST base/_delete`` with a bare JSON array of id strings (not empty; duplicates count once)
  → 200 ``{"results": [deleted ids], "errors": [...]}``. An unknown id is not an error of the request: it is
  listed in ``errors`` as ``{"id", "error_code": "NOT_FOUND", "message"}`` and the known ids are still deleted
  (the error item's shape is an [UNVERIFIED] choice; the SDK's mock answers ``errors: []``).
"""

import copy
import fnmatch
import re
import shlex
import uuid
from datetime import datetime, timedelta, timezone

from cbcsim.protocol import ApiError, Response, bad_request, not_found
from cbcsim.routing import ORG
from cbcsim.search import format_time, parse_time

OVERRIDE_BASE = "/appservices/v6/orgs/" + ORG + "/reputations/overrides"
OVERRIDE_ID = r"(?P<override_id>[^/_][^/]*)"

OVERRIDE_LISTS = ("WHITE_LIST", "BLACK_LIST")
OVERRIDE_TYPES = ("SHA256", "CERT", "IT_TOOL")
#: Per override type: (required fields, optional fields).
TYPE_FIELDS = {
    "SHA256": (("sha256_hash",), ("filename",)),
    "CERT": (("signed_by",), ("certificate_authority",)),
    "IT_TOOL": (("path",), ("include_child_processes",)),
}
COMMON_FIELDS = ("description", "override_list", "override_type")
SERVER_FIELDS = ("id", "created_by", "create_time")
TEXT_FIELDS = ("description", "filename", "sha256_hash", "signed_by", "certificate_authority", "path", "created_by")
SORT_FIELDS = SERVER_FIELDS + COMMON_FIELDS + ("sha256_hash", "filename", "signed_by", "certificate_authority", "path",
                                               "include_child_processes")
SEARCH_KEYS = ("criteria", "query", "start", "rows", "sort_field", "sort_order")
CRITERIA_VALUES = {"override_list": OVERRIDE_LISTS, "override_type": OVERRIDE_TYPES}
DEFAULT_ROWS = 100
MAX_ROWS = 1000
DUPLICATE_MODES = ("reject", "store")
_SHA256 = re.compile(r"^[0-9A-Fa-f]{64}$")


def org_overrides(org):
    """Return the org's list of overrides (an Org field; created on first use for older state objects)."""
    overrides = getattr(org, "reputation_overrides", None)
    if overrides is None:
        overrides = []
        org.reputation_overrides = overrides
    return overrides


def sim_settings(org):
    """The org's simulator switches (``duplicates``); they live on the Org, so ``/_sim/reset`` restores them."""
    settings = getattr(org, "reputation_sim", None)
    if settings is None:
        settings = {"duplicates": "reject"}
        org.reputation_sim = settings
    return settings


def _invalid(message, field=None, value=None, known=None):
    extra = {}
    if field is not None:
        extra = {"field": field, "invalid_value": str(value), "known_values": list(known)}
    return ApiError(400, "INVALID_REQUEST", message, extra=extra)


def _non_empty_string(body, key):
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise bad_request("{0} is required for override_type {1} and must be a non-empty string".format(
            key, body.get("override_type")))
    return value


def validate_override(body):
    """Return the stored fields of a create body (validated as the module docstring says); raises 400."""
    if not isinstance(body, dict):
        raise bad_request("the override must be a JSON object")
    server = [key for key in SERVER_FIELDS if key in body]
    if server:
        raise bad_request("{0} are set by the server".format(", ".join(server)))
    override_list = body.get("override_list")
    if override_list not in OVERRIDE_LISTS:
        raise _invalid("override_list is required and must be one of {0}".format(", ".join(OVERRIDE_LISTS)),
                       "override_list", override_list, OVERRIDE_LISTS)
    override_type = body.get("override_type")
    if override_type not in OVERRIDE_TYPES:
        raise _invalid("override_type is required and must be one of {0}".format(", ".join(OVERRIDE_TYPES)),
                       "override_type", override_type, OVERRIDE_TYPES)
    required, optional = TYPE_FIELDS[override_type]
    allowed = set(COMMON_FIELDS) | set(required) | set(optional)
    unknown = sorted(set(body) - allowed)
    if unknown:
        other = [key for key in unknown if any(key in fields for pair in TYPE_FIELDS.values() for fields in pair)]
        if other:
            raise bad_request("{0} do(es) not apply to override_type {1}".format(", ".join(other), override_type))
        raise bad_request("unknown field(s): {0}".format(", ".join(unknown)))
    if override_list == "BLACK_LIST" and override_type != "SHA256":
        raise bad_request("BLACK_LIST is valid only for override_type SHA256 ({0} can only be approved)".format(override_type))
    if "description" in body and not isinstance(body["description"], str):
        raise bad_request("description must be a string")
    stored = {"description": body["description"]} if "description" in body else {}
    stored.update({"override_list": override_list, "override_type": override_type})
    if override_type == "SHA256":
        sha256 = body.get("sha256_hash")
        if not isinstance(sha256, str) or not _SHA256.match(sha256):
            raise bad_request("sha256_hash is required for SHA256 and must be 64 hexadecimal characters")
        stored["sha256_hash"] = sha256.lower()
        if "filename" in body:
            if not isinstance(body["filename"], str):
                raise bad_request("filename must be a string")
            stored["filename"] = body["filename"]
    elif override_type == "CERT":
        stored["signed_by"] = _non_empty_string(body, "signed_by")
        if "certificate_authority" in body:
            if not isinstance(body["certificate_authority"], str):
                raise bad_request("certificate_authority must be a string")
            stored["certificate_authority"] = body["certificate_authority"]
    else:
        stored["path"] = _non_empty_string(body, "path")
        include = body.get("include_child_processes", False)
        if not isinstance(include, bool):
            raise bad_request("include_child_processes must be a boolean")
        stored["include_child_processes"] = include
    return stored


def identity_key(override):
    """What makes two overrides the same: the type and its identifying value(s), case-insensitive."""
    kind = override.get("override_type")
    if kind == "SHA256":
        return kind, str(override.get("sha256_hash", "")).lower()
    if kind == "CERT":
        return kind, str(override.get("signed_by", "")).lower(), str(override.get("certificate_authority", "")).lower()
    return kind, str(override.get("path", "")).lower()


def new_override(fields, created_by, now=None):
    """The stored object: server fields first, then ``fields`` (the order of the recorded answer)."""
    override = {"id": uuid.uuid4().hex, "created_by": created_by, "create_time": format_time(now or datetime.now(timezone.utc))}
    override.update(fields)
    return override


def _next_create_time(overrides):
    """Now, but later than every stored ``create_time`` (1 ms resolution), so creation order is sortable."""
    now = datetime.now(timezone.utc)
    latest = max((parse_time(item.get("create_time")) for item in overrides if parse_time(item.get("create_time"))), default=None)
    if latest is not None and now <= latest:
        now = latest + timedelta(milliseconds=1)
    return now


def create_override(ctx):
    """``POST /appservices/v6/orgs/{org_key}/reputations/overrides`` → 201 with the stored override."""
    fields = validate_override(ctx.json(default=None))
    org = ctx.state.org(ctx.org_key)
    created_by = ctx.identity.name if ctx.identity is not None else "unknown"
    with ctx.state.lock:
        overrides = org_overrides(org)
        if sim_settings(org)["duplicates"] == "reject":
            key = identity_key(fields)
            for existing in overrides:
                if identity_key(existing) == key:
                    raise ApiError(409, "CONFLICT", "A {0} override for this {1} already exists (id {2}, {3})".format(
                        fields["override_type"], {"SHA256": "hash", "CERT": "signer", "IT_TOOL": "path"}[fields["override_type"]],
                        existing.get("id"), existing.get("override_list")))
        override = new_override(fields, created_by, _next_create_time(overrides))
        overrides.append(override)
        ctx.log_fields["override_id"] = override["id"]
        return Response(201, copy.deepcopy(override))


# --- search ----------------------------------------------------------------------------------------------


class _Word:
    def __init__(self, text):
        field, sep, value = text.partition(":")
        if sep and field in TEXT_FIELDS + ("override_list", "override_type", "id"):
            self.fields, self.value = (field,), value
        else:
            self.fields, self.value = TEXT_FIELDS, text
        self.value = self.value.lower()
        self.wildcard = any(ch in self.value for ch in "*?")

    def __call__(self, override):
        for field in self.fields:
            value = override.get(field)
            if not isinstance(value, str):
                continue
            value = value.lower()
            if fnmatch.fnmatchcase(value, self.value) if self.wildcard else self.value in value:
                return True
        return False


def compile_override_query(text):
    """Return a predicate for the ``query`` string (see the module docstring), or None for an empty query."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise bad_request("query must be a string")
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise ApiError(400, "INVALID_QUERY", "Invalid query: {0}".format(exc), extra={"reason": "query_malformed_syntax"}) from None
    predicates = [_Word(word) for word in words if word]
    if not predicates:
        return None
    return lambda override: all(predicate(override) for predicate in predicates)


def _int_value(body, key, default, maximum=None):
    value = body.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or (maximum is not None and value > maximum):
        bound = "at least 0" if maximum is None else "0 to {0}".format(maximum)
        raise bad_request("{0} must be an integer, {1} (got {2!r})".format(key, bound, value))
    return value


def _sort_key(value):
    if value is None:
        return (1, "")
    if isinstance(value, bool):
        return (0, str(value).lower())
    return (0, str(value).lower())


def search_overrides(ctx):
    """``POST .../reputations/overrides/_search`` → ``{"num_found", "results"}``."""
    body = ctx.json(default={})
    if not isinstance(body, dict):
        raise bad_request("search body must be a JSON object")
    unknown = sorted(set(body) - set(SEARCH_KEYS))
    if unknown:
        raise bad_request("unknown search key(s): {0}; known: {1}".format(", ".join(unknown), ", ".join(SEARCH_KEYS)))
    criteria = body.get("criteria") or {}
    if not isinstance(criteria, dict):
        raise bad_request("criteria must be a JSON object")
    for key, value in criteria.items():
        if key not in CRITERIA_VALUES:
            raise bad_request("unknown criteria {0}; known: {1}".format(key, ", ".join(CRITERIA_VALUES)))
        if not isinstance(value, str):
            raise bad_request("criteria.{0} must be a string (not an array)".format(key))
        if value not in CRITERIA_VALUES[key]:
            raise _invalid("criteria.{0} must be one of {1}".format(key, ", ".join(CRITERIA_VALUES[key])),
                           key, value, CRITERIA_VALUES[key])
    query = compile_override_query(body.get("query"))
    start = _int_value(body, "start", 0)
    rows = _int_value(body, "rows", DEFAULT_ROWS, MAX_ROWS)
    sort_field = body.get("sort_field")
    if sort_field is not None and sort_field not in SORT_FIELDS:
        raise bad_request("sort_field must be one of {0}".format(", ".join(SORT_FIELDS)))
    order = str(body.get("sort_order") or "ASC")
    if order.upper() not in ("ASC", "DESC"):
        raise bad_request("sort_order must be ASC or DESC")
    org = ctx.state.org(ctx.org_key)
    with ctx.state.lock:
        found = [item for item in org_overrides(org)
                 if all(item.get(key) == value for key, value in criteria.items()) and (query is None or query(item))]
        found.sort(key=lambda item: _sort_key(item.get(sort_field or "create_time")), reverse=order.upper() == "DESC")
        if order.upper() == "DESC":
            missing = [item for item in found if item.get(sort_field or "create_time") is None]
            found = [item for item in found if item.get(sort_field or "create_time") is not None] + missing
        page = copy.deepcopy(found[start:start + rows])
    return Response(200, {"num_found": len(found), "results": page})


# --- get, delete, bulk delete ----------------------------------------------------------------------------


def _find(org, override_id):
    for override in org_overrides(org):
        if override.get("id") == override_id:
            return override
    return None


def get_override(ctx):
    """``GET .../reputations/overrides/{id}``."""
    org = ctx.state.org(ctx.org_key)
    with ctx.state.lock:
        override = _find(org, ctx.params["override_id"])
        if override is None:
            raise not_found("Reputation override {0} not found".format(ctx.params["override_id"]))
        return Response(200, copy.deepcopy(override))


def delete_override(ctx):
    """``DELETE .../reputations/overrides/{id}`` → 204."""
    org = ctx.state.org(ctx.org_key)
    with ctx.state.lock:
        override = _find(org, ctx.params["override_id"])
        if override is None:
            raise not_found("Reputation override {0} not found".format(ctx.params["override_id"]))
        org_overrides(org).remove(override)
    return Response(204)


def bulk_delete(ctx):
    """``POST .../reputations/overrides/_delete`` with ``["id", ...]`` → 200 ``{"results": [ids], "errors": [...]}``."""
    ids = ctx.json(default=None, required_type=None)
    if not isinstance(ids, list) or not ids or not all(isinstance(item, str) and item for item in ids):
        raise bad_request("the body must be a non-empty JSON array of override id strings")
    org = ctx.state.org(ctx.org_key)
    deleted, errors = [], []
    with ctx.state.lock:
        overrides = org_overrides(org)
        for override_id in dict.fromkeys(ids):
            override = _find(org, override_id)
            if override is None:
                errors.append({"id": override_id, "error_code": "NOT_FOUND",
                               "message": "Reputation override {0} not found".format(override_id)})
                continue
            overrides.remove(override)
            deleted.append(override_id)
    ctx.log_fields["deleted_count"] = len(deleted)
    return Response(200, {"results": deleted, "errors": errors})


def register(table):
    """Add the reputation override routes to ``table``."""
    table.add("POST", OVERRIDE_BASE, create_override, "reputation_overrides.create", permission="org.reputations:CREATE",
              write=True)
    table.add("POST", OVERRIDE_BASE + r"/_search", search_overrides, "reputation_overrides.search",
              permission="org.reputations:READ")
    table.add("POST", OVERRIDE_BASE + r"/_delete", bulk_delete, "reputation_overrides.bulk_delete",
              permission="org.reputations:DELETE", write=True)
    table.add("GET", OVERRIDE_BASE + "/" + OVERRIDE_ID, get_override, "reputation_overrides.get",
              permission="org.reputations:READ")
    table.add("DELETE", OVERRIDE_BASE + "/" + OVERRIDE_ID, delete_override, "reputation_overrides.delete",
              permission="org.reputations:DELETE", write=True)


# --- control API -----------------------------------------------------------------------------------------


def _control_org(ctx, body=None):
    org_key = (body or {}).get("org_key") or (ctx.query.get("org_key") or ["ABCD1234"])[-1]
    return org_key, ctx.state.org(org_key)


def control_list(ctx):
    """``GET /_sim/reputation_overrides?org_key=ABCD1234`` → ``{"org_key", "settings", "overrides": [...]}``."""
    org_key, org = _control_org(ctx)
    with ctx.state.lock:
        return Response(200, {"org_key": org_key, "settings": dict(sim_settings(org)),
                              "overrides": copy.deepcopy(org_overrides(org))})


def control_add(ctx):
    """``POST /_sim/reputation_overrides``: store an override as given, without validation (optional ``org_key``;
    ``id``, ``created_by`` and ``create_time`` filled in when absent) → 201 with it."""
    body = ctx.json(default={})
    org_key, org = _control_org(ctx, body)
    fields = {key: value for key, value in body.items() if key != "org_key"}
    with ctx.state.lock:
        override = new_override({}, "sim-control")
        override.update(fields)
        org_overrides(org).append(override)
        return Response(201, dict(copy.deepcopy(override), org_key=org_key))


def control_settings(ctx):
    """``POST /_sim/reputation_overrides/settings`` with ``duplicates`` (``reject`` | ``store``; optional ``org_key``)."""
    body = ctx.json(default={})
    _org_key, org = _control_org(ctx, body)
    unknown = sorted(set(body) - {"org_key", "duplicates"})
    if unknown:
        raise bad_request("unknown setting(s): {0}".format(", ".join(unknown)))
    with ctx.state.lock:
        settings = sim_settings(org)
        if "duplicates" in body:
            if body["duplicates"] not in DUPLICATE_MODES:
                raise bad_request("duplicates must be one of {0}".format(", ".join(DUPLICATE_MODES)))
            settings["duplicates"] = body["duplicates"]
        return Response(200, dict(settings))


def register_control(table):
    """Add the reputation override control routes (``/_sim/reputation_overrides...``) to the control table."""
    table.add("GET", r"/_sim/reputation_overrides", control_list, "sim.reputation_overrides", auth="none")
    table.add("POST", r"/_sim/reputation_overrides", control_add, "sim.reputation_overrides", auth="none")
    table.add("POST", r"/_sim/reputation_overrides/settings", control_settings, "sim.reputation_overrides.settings",
              auth="none")
