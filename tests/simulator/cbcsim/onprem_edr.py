"""Carbon Black EDR (CB Response) mode: users with their API tokens, the Global Administrator check, and the cheap
authenticated reads of ``shared/docs/cb-onprem-facts.md`` section 2 (``/api/info``, ``/api/users``,
``/api/user/<username>``, license, process/binary counts, storage partitions, the App Control integration settings).

Errors are HTML pages, as from the real server's web framework: the facts say not to expect JSON bodies.
"""

import hmac
import re
from http import HTTPStatus
from urllib.parse import unquote

from cbcsim.protocol import ApiError, Response

PRODUCT = "edr"
#: ``permission`` of routes only a Global Administrator may call (the others need just a valid token).
GLOBAL_ADMIN = "global_admin"
DEFAULT_VERSION = "7.8.0.231115.1200"
DENIED_STATUSES = (403, 405)
JSON_TYPE = "application/json; charset=utf-8"
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")

#: The built-in users. Their tokens are test fixtures (40 hex characters, like real EDR tokens), not real credentials.
DEFAULT_USERS = (
    {"username": "edradmin", "first_name": "EDR", "last_name": "Administrator", "email": "edradmin@example.invalid",
     "global_admin": True, "teams": [{"id": 1, "name": "Administrators"}], "token": "edad000000000000000000000000000000000001"},
    {"username": "analyst", "first_name": "SOC", "last_name": "Analyst", "email": "analyst@example.invalid",
     "global_admin": False, "teams": [{"id": 2, "name": "Analysts"}], "token": "a7a1000000000000000000000000000000000002"},
)
TEAM_IDS = {"Administrators": 1, "Analysts": 2}


class EdrError(ApiError):
    """An EDR error, answered as a small HTML page (``text/html``) with the status's standard title."""

    def to_response(self):
        phrase = HTTPStatus(self.status).phrase
        page = ('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<title>{0} {1}</title>\n<h1>{1}</h1>\n'
                '<p>{2}</p>\n').format(self.status, phrase, self.message)
        headers = dict(self.headers)
        headers["Content-Type"] = "text/html; charset=utf-8"
        return Response(self.status, page.encode("utf-8"), headers)


def edr_error(status, message):
    """Return an EdrError with the status's standard phrase as its error code."""
    return EdrError(status, HTTPStatus(status).phrase.upper().replace(" ", "_"), message)


def ok(body):
    """A 200 answer with EDR's ``application/json; charset=utf-8``."""
    return Response(200, body, {"Content-Type": JSON_TYPE})


class EdrUser:
    """One EDR console user and its API token."""

    org_key = None

    def __init__(self, username, token, global_admin=False, first_name="", last_name="", email="", teams=()):
        self.username = username
        self.name = username
        self.token = token
        self.global_admin = bool(global_admin)
        self.first_name = first_name
        self.last_name = last_name
        self.email = email
        self.teams = [dict(team) for team in teams]

    def to_api(self):
        """The user object of ``/api/user(s)`` (no token: choice, the facts leave ``auth_token`` unconfirmed)."""
        return {"username": self.username, "first_name": self.first_name, "last_name": self.last_name,
                "email": self.email, "global_admin": self.global_admin, "teams": [dict(team) for team in self.teams]}


def user_from_dict(data):
    """Build an EdrUser from a control-API object; raises ValueError when invalid."""
    if not isinstance(data, dict):
        raise ValueError("a user must be a JSON object")
    username, token = data.get("username"), data.get("token")
    if not isinstance(username, str) or not USERNAME_PATTERN.match(username):
        raise ValueError("username must be 1-64 characters: letters, digits and . _ @ + -")
    if not isinstance(token, str) or not token.strip():
        raise ValueError("token must be a non-empty string (real EDR tokens are 40 hex characters)")
    global_admin = data.get("global_admin", False)
    if not isinstance(global_admin, bool):
        raise ValueError("global_admin must be true or false")
    teams = []
    for team in data.get("teams", []):
        if isinstance(team, str):
            team = {"id": TEAM_IDS.get(team, 100 + len(teams)), "name": team}
        if not isinstance(team, dict) or not isinstance(team.get("name"), str):
            raise ValueError("teams must be team names or {id, name} objects")
        teams.append({"id": team.get("id", 100 + len(teams)), "name": team["name"]})
    texts = {}
    for key in ("first_name", "last_name", "email"):
        value = data.get(key, "")
        if not isinstance(value, str):
            raise ValueError("{0} must be a string".format(key))
        texts[key] = value
    return EdrUser(username, token.strip(), global_admin=global_admin, teams=teams, **texts)


class EdrState:
    """The EDR server: users, settings (server version, the status of a denied request, the platformserver
    settings) and the counts behind the cheap reads. Rebuilt from the start-up arguments by ``reset``."""

    product = PRODUCT

    def __init__(self, config):
        self.sensors = config.devices
        self.users = {}
        for data in DEFAULT_USERS:
            self.add_user(user_from_dict(data))
        self.settings = {"server_version": DEFAULT_VERSION, "denied_status": 403, "cblr_enabled": True,
                         "platformserver": {"server_url": "", "ssl_certificate_verify": "false", "watchlist_export": "false"}}

    def add_user(self, user):
        """Add or replace a user (by username); raises ValueError if another user has the same token."""
        for other in self.users.values():
            if other.username != user.username and other.token == user.token:
                raise ValueError("user {0} already has this token".format(other.username))
        self.users[user.username] = user

    def user_for_token(self, token):
        """Return the user owning ``token`` (constant-time compare per user), or None."""
        for user in list(self.users.values()):
            if hmac.compare_digest(user.token.encode("utf-8"), token.encode("utf-8")):
                return user
        return None

    def claimed_auth_label(self, headers):
        """``token:<username>`` for a known token, ``token:<unknown>`` for another one, None without the header."""
        token = headers.get("X-Auth-Token")
        if token is None:
            return None
        user = self.user_for_token(token.strip())
        return "token:" + (user.username if user else "<unknown>")

    def authenticate(self, headers):
        """Return the user of the request's ``X-Auth-Token`` or raise 401."""
        token = (headers.get("X-Auth-Token") or "").strip()
        if not token:
            raise edr_error(401, "The server could not verify that you are authorized to access the URL requested: no X-Auth-Token.")
        user = self.user_for_token(token)
        if user is None:
            raise edr_error(401, "The server could not verify that you are authorized to access the URL requested.")
        return user

    def deny(self, ctx, what):
        """Raise the answer to a user who is not a Global Administrator (403, or 405 as EDR 5.x did)."""
        ctx.log_fields["denied_permission"] = GLOBAL_ADMIN
        status = self.settings["denied_status"]
        raise edr_error(status, "{0} requires a Global Administrator.".format(what))

    def authorize(self, ctx, user, permission):
        """Raise the denial unless ``user`` holds ``permission`` (None: any valid user)."""
        if permission == GLOBAL_ADMIN and not user.global_admin:
            self.deny(ctx, ctx.path)

    def update_settings(self, data):
        """Change settings from a control-API object; raises ValueError when invalid. Returns the settings."""
        known = ("server_version", "denied_status", "cblr_enabled", "platformserver")
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError("unknown EDR settings {0}; known: {1}".format(", ".join(unknown), ", ".join(known)))
        if "server_version" in data and (not isinstance(data["server_version"], str) or not data["server_version"]):
            raise ValueError("server_version must be a non-empty string, e.g. 7.8.0.231115.1200")
        if "denied_status" in data and data["denied_status"] not in DENIED_STATUSES:
            raise ValueError("denied_status must be 403 (EDR 7.x) or 405 (EDR 5.x)")
        if "cblr_enabled" in data and not isinstance(data["cblr_enabled"], bool):
            raise ValueError("cblr_enabled must be true or false")
        if "platformserver" in data:
            value = data["platformserver"]
            if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
                raise ValueError("platformserver must be an object of strings (server_url, ssl_certificate_verify, watchlist_export)")
            data = dict(data, platformserver=dict(self.settings["platformserver"], **value))
        self.settings.update(data)
        return self.describe_settings()

    def describe_settings(self):
        """Return a copy of the settings."""
        return dict(self.settings, platformserver=dict(self.settings["platformserver"]))

    def add_from_dict(self, data):
        """``POST /_sim/onprem/users``: add a user; return it (without the token)."""
        user = user_from_dict(data)
        self.add_user(user)
        return user.to_api()

    def describe(self):
        """The state for ``GET /_sim/onprem`` (no tokens)."""
        return {"product": PRODUCT, "settings": self.describe_settings(), "sensors": self.sensors,
                "users": [user.to_api() for user in self.users.values()]}

    def known_secrets(self):
        """Every token (for scrubbing the request log)."""
        return [user.token for user in list(self.users.values())]


def version_release(version):
    """``7.8.0.231115.1200`` → ``7.8.0-1`` (the shape of the recorded ``version_release``)."""
    return ".".join(version.split(".")[:3]) + "-1"


def server_info(ctx):
    """``GET /api/info``: server information and the caller's user preferences; no username and no role."""
    settings = ctx.state.onprem.settings
    return ok({
        "version": settings["server_version"], "version_release": version_release(settings["server_version"]),
        "cblrEnabled": settings["cblr_enabled"], "banningEnabled": True, "cloud_install": False,
        "features": {"event_exclusions": False, "immutable_documents": True, "ipv6_support": True, "thirdparty_sharing": False},
        "linuxInstallerExists": True, "osxInstallerExists": True, "vdiGloballyEnabled": False,
        "liveResponseAutoAttach": True, "maxSearchResultRows": 1000, "maxRowsSolrReportQuery": 10000,
        "processPageSize": 10, "binaryPageSize": 10, "processOrder": "", "binaryOrder": "",
        "searchExportCount": 1000, "timestampDeltaThreshold": 5,
        "user_preferences": {"default": {}, "facetsEnabled": True, "hudGridItems": [], "savedSearches": [], "watchlists": []},
    })


def list_users(ctx):
    """``GET /api/users`` (Global Administrators only): every user."""
    with ctx.state.lock:
        return ok([user.to_api() for user in ctx.state.onprem.users.values()])


def get_user(ctx):
    """``GET /api/user/<username>``: a Global Administrator reads anyone (404 if unknown); another user only itself."""
    username = unquote(ctx.params["username"])
    edr = ctx.state.onprem
    with ctx.state.lock:
        user = edr.users.get(username)
    if not ctx.identity.global_admin and ctx.identity.username != username:
        edr.deny(ctx, "Reading another user")
    if user is None:
        raise edr_error(404, "User {0} does not exist.".format(username))
    return ok(user.to_api())


def license_info(ctx):
    """``GET /api/v1/license``."""
    sensors = ctx.state.onprem.sensors
    return ok({"license_valid": True, "license_end_date": "2030-12-31", "licensed_sensor_count": max(1000, sensors),
               "server_token": "SIM-EDR-SERVER", "license_expired": False, "licensed_sensor_count_exceeded": False,
               "actual_sensor_count": sensors, "license_request_block": ""})


def int_param(ctx, name, default):
    """Return a non-negative integer query parameter, or raise 400."""
    values = ctx.query.get(name)
    if not values:
        return default
    try:
        value = int(values[-1])
    except ValueError:
        value = -1
    if value < 0:
        raise EdrError(400, "INVALID_REQUEST", "{0} must be a non-negative integer".format(name))
    return value


def search_counts(total):
    """A handler for ``/api/v1/process`` or ``/api/v1/binary``: the count only (no documents are simulated)."""

    def handler(ctx):
        start = int_param(ctx, "start", 0)
        int_param(ctx, "rows", 10)
        return ok({"results": [], "total_results": total(ctx.state.onprem), "start": start, "elapsed": 0.01, "terms": [],
                   "facets": {}, "highlights": [], "tagged_pids": {}, "filtered": {}, "comprehensive_search": True,
                   "all_segments": True, "incomplete_results": False})

    return handler


def storage_partitions(ctx):
    """``GET /api/v1/storage/events/partition`` (Global Administrators; cbapi swallows the 403): the hot partition."""
    del ctx
    return ok({"writer": {"name": "writer", "status": "hot", "info": {"isLegacy": False, "dataDir": "/var/cb/data/solr5/cbevents/writer"}}})


def platformserver(ctx):
    """``GET /api/v1/settings/global/platformserver`` (Global Administrators): the App Control integration settings,
    without ``auth_token`` (never returned on GET)."""
    with ctx.state.lock:
        return ok(dict(ctx.state.onprem.settings["platformserver"]))


def register(table, auth):
    """Add the EDR routes; ``auth`` is the route auth kind the server checks with ``onprem.check_access``."""
    table.add("GET", r"/api/info", server_info, "edr.info", auth=auth)
    table.add("GET", r"/api/users", list_users, "edr.users", permission=GLOBAL_ADMIN, auth=auth)
    table.add("GET", r"/api/user/(?P<username>[^/]+)", get_user, "edr.user", auth=auth)
    table.add("GET", r"/api/v1/license", license_info, "edr.license", auth=auth)
    table.add("GET", r"/api/v1/process", search_counts(lambda edr: edr.sensors * 700), "edr.process", auth=auth)
    table.add("GET", r"/api/v1/binary", search_counts(lambda edr: edr.sensors * 40), "edr.binary", auth=auth)
    table.add("GET", r"/api/v1/storage/events/partition", storage_partitions, "edr.storage_partitions",
              permission=GLOBAL_ADMIN, auth=auth)
    table.add("GET", r"/api/v1/settings/global/platformserver", platformserver, "edr.platformserver",
              permission=GLOBAL_ADMIN, auth=auth)
