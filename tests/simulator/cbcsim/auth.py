"""Identities (API keys, CSP OAuth apps, CSP API tokens), issued bearer tokens and RBAC checks."""

import base64
import hmac
import json
import secrets
import threading
import time

from cbcsim.protocol import ApiError

DEFAULT_ORG = "ABCD1234"
OTHER_ORG = "WXYZ9876"

#: Every RBAC permission the simulator knows, as ``"<permission>:<OPERATION>"`` (facts section 7.2).
ALL_PERMISSIONS = (
    "device:READ",
    "device.policy:UPDATE",
    "device.bg-scan:EXECUTE",
    "device.bypass:EXECUTE",
    "device.quarantine:EXECUTE",
    "org.kits:EXECUTE",
    "device.uninstall:EXECUTE",
    "device.deregistered:DELETE",
    "org.policies:READ",
    "org.policies:CREATE",
    "org.policies:UPDATE",
    "org.policies:DELETE",
    "event-forwarder.settings:CREATE",
    "event-forwarder.settings:READ",
    "event-forwarder.settings:UPDATE",
    "event-forwarder.settings:DELETE",
    "org.alerts:READ",
    "group-management:READ",
    "org.liveresponse.session:CREATE",
    "org.audits:READ",
    "vulnerabilityAssessment.data:EXECUTE",
    "vulnerabilityAssessment.data:READ",
    "org.alerts.close:EXECUTE",
    "jobs.status:READ",
    "org.reputations:CREATE",
    "org.reputations:READ",
    "org.reputations:DELETE",
)

API_KEY = "api_key"
OAUTH_APP = "oauth_app"
API_TOKEN = "api_token"
IDENTITY_TYPES = (API_KEY, OAUTH_APP, API_TOKEN)

#: The built-in identities. Secrets here are test fixtures, not real credentials.
DEFAULT_IDENTITIES = (
    {"type": API_KEY, "api_id": "FULLACCESS", "secret": "FULLSECRETKEY00000000000", "org_key": DEFAULT_ORG, "permissions": "*"},
    {"type": API_KEY, "api_id": "DEVICEREAD", "secret": "DEVICEREADSECRET00000000", "org_key": DEFAULT_ORG, "permissions": ["device:READ"]},
    {"type": API_KEY, "api_id": "DEVICEREADQ", "secret": "DEVICEREADQSECRET0000000", "org_key": DEFAULT_ORG,
     "permissions": ["device:READ", "device.quarantine:EXECUTE"]},
    {"type": API_KEY, "api_id": "NOPERMS", "secret": "NOPERMSSECRET00000000000", "org_key": DEFAULT_ORG, "permissions": []},
    {"type": API_KEY, "api_id": "POLICYREAD", "secret": "POLICYREADSECRET00000000", "org_key": DEFAULT_ORG,
     "permissions": ["device:READ", "org.policies:READ"]},
    {"type": API_KEY, "api_id": "FORWARDERREAD", "secret": "FORWARDERREADSECRET00000", "org_key": DEFAULT_ORG,
     "permissions": ["event-forwarder.settings:READ"]},
    {"type": API_KEY, "api_id": "ALERTREAD", "secret": "ALERTREADSECRET000000000", "org_key": DEFAULT_ORG,
     "permissions": ["org.alerts:READ", "jobs.status:READ"]},
    {"type": API_KEY, "api_id": "REPUTATIONREAD", "secret": "REPUTATIONREADSECRET0000", "org_key": DEFAULT_ORG,
     "permissions": ["org.reputations:READ"]},
    {"type": API_KEY, "api_id": "OTHERORG", "secret": "OTHERORGSECRET0000000000", "org_key": OTHER_ORG, "permissions": "*"},
    {"type": OAUTH_APP, "client_id": "sim-oauth-app", "client_secret": "sim-oauth-secret", "org_key": DEFAULT_ORG, "permissions": "*"},
    {"type": API_TOKEN, "token": "sim-csp-api-token", "label": "sim-csp-user", "org_key": DEFAULT_ORG, "permissions": "*"},
)


class Identity:
    """A caller: its type, public name (API ID, client id or token label), secret, org and permissions."""

    def __init__(self, kind, name, secret, org_key, permissions):
        self.kind = kind
        self.name = name
        self.secret = secret
        self.org_key = org_key
        self.permissions = frozenset(permissions)

    def has_permission(self, permission):
        """Return True if this identity holds ``permission`` (``"*"`` grants everything)."""
        return permission is None or "*" in self.permissions or permission in self.permissions

    def describe(self):
        """Return a dict describing the identity without its secret."""
        return {"type": self.kind, "name": self.name, "org_key": self.org_key, "permissions": sorted(self.permissions)}


def identity_from_dict(data):
    """Build an Identity from a keys-file / control-API entry; raises ValueError when invalid."""
    if not isinstance(data, dict):
        raise ValueError("identity must be a JSON object")
    kind = data.get("type", API_KEY)
    if kind == API_KEY:
        name, secret = data.get("api_id"), data.get("secret")
        fields = "api_id and secret"
    elif kind == OAUTH_APP:
        name, secret = data.get("client_id"), data.get("client_secret")
        fields = "client_id and client_secret"
    elif kind == API_TOKEN:
        secret = data.get("token")
        name = data.get("label") or "api-token-{0}".format(len(secret or ""))
        fields = "token"
    else:
        raise ValueError("unknown identity type {0!r}; expected one of {1}".format(kind, ", ".join(IDENTITY_TYPES)))
    if not isinstance(name, str) or not name or not isinstance(secret, str) or not secret:
        raise ValueError("identity of type {0} needs non-empty {1}".format(kind, fields))
    org_key = data.get("org_key", DEFAULT_ORG)
    if not isinstance(org_key, str) or not org_key:
        raise ValueError("org_key must be a non-empty string")
    permissions = data.get("permissions", [])
    if permissions in ("*", "all"):
        permissions = ["*"]
    if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
        raise ValueError("permissions must be a list of '<permission>:<OPERATION>' strings or '*'")
    if "*" in permissions:
        permissions = list(ALL_PERMISSIONS) + ["*"]
    return Identity(kind, name, secret, org_key, permissions)


def load_keys_file(path):
    """Read a keys file; return ``(replace, [Identity, ...])``.

    The file is either a JSON list of identities or ``{"replace": bool, "identities": [...]}``.
    """
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    replace = False
    if isinstance(data, dict):
        replace = bool(data.get("replace", False))
        data = data.get("identities", [])
    if not isinstance(data, list):
        raise ValueError("keys file must hold a list of identities or an object with 'identities'")
    return replace, [identity_from_dict(item) for item in data]


class IdentityStore:
    """All known identities, indexed by type and public name."""

    def __init__(self, identities=()):
        self._lock = threading.Lock()
        self._by_kind = {kind: {} for kind in IDENTITY_TYPES}
        for identity in identities:
            self.add(identity)

    def add(self, identity):
        """Add or replace an identity (same type and name)."""
        with self._lock:
            if identity.kind == API_TOKEN:
                self._by_kind[API_TOKEN][identity.secret] = identity
            else:
                self._by_kind[identity.kind][identity.name] = identity

    def _lookup(self, kind, name, secret):
        with self._lock:
            identity = self._by_kind[kind].get(name)
        if identity is None or not hmac.compare_digest(identity.secret.encode("utf-8"), secret.encode("utf-8")):
            return None
        return identity

    def api_key(self, api_id, secret):
        """Return the API-key identity for ``api_id`` if ``secret`` matches, else None."""
        return self._lookup(API_KEY, api_id, secret)

    def oauth_app(self, client_id, client_secret):
        """Return the OAuth-app identity if the client credentials match, else None."""
        return self._lookup(OAUTH_APP, client_id, client_secret)

    def api_token(self, token):
        """Return the identity owning a CSP API token, else None."""
        with self._lock:
            return self._by_kind[API_TOKEN].get(token)

    def known_secrets(self):
        """Return all secrets (used to scrub the request log as a second line of defence)."""
        with self._lock:
            return [identity.secret for group in self._by_kind.values() for identity in group.values()]

    def all(self):
        """Return every identity."""
        with self._lock:
            return [identity for group in self._by_kind.values() for identity in group.values()]


class IssuedToken:
    """A bearer access token or a refresh token minted by the CSP endpoints."""

    def __init__(self, value, identity, expires_at):
        self.value = value
        self.identity = identity
        self.expires_at = expires_at


class TokenStore:
    """Access and refresh tokens minted by the CSP endpoints."""

    def __init__(self, ttl):
        self.ttl = ttl
        self._lock = threading.Lock()
        self._access = {}
        self._refresh = {}

    def issue(self, identity):
        """Mint an access token (and a refresh token) for ``identity``; return the CSP AccessToken JSON."""
        now = time.time()
        access = IssuedToken("simat-" + secrets.token_urlsafe(32), identity, now + self.ttl)
        refresh = IssuedToken("simrt-" + secrets.token_urlsafe(32), identity, now + 30 * 24 * 3600)
        with self._lock:
            self._purge(now)
            self._access[access.value] = access
            self._refresh[refresh.value] = refresh
        id_claims = base64.urlsafe_b64encode(json.dumps({"sub": identity.name, "context_name": identity.org_key}).encode()).decode().rstrip("=")
        return {
            "access_token": access.value,
            "expires_in": int(self.ttl),
            "id_token": "eyJhbGciOiJub25lIn0." + id_claims + ".",
            "refresh_token": refresh.value,
            "scope": "openid group_names customer_number cbc:org:{0}".format(identity.org_key),
            "token_type": "bearer",
        }

    def _purge(self, now):
        for table in (self._access, self._refresh):
            for value in [v for v, t in table.items() if t.expires_at <= now]:
                del table[value]

    def lookup_access(self, value):
        """Return ``(identity, reason)``: the identity of a live access token, or None and why not."""
        with self._lock:
            token = self._access.get(value)
        if token is None:
            return None, "unknown or revoked access token"
        if token.expires_at <= time.time():
            return None, "access token expired"
        return token.identity, None

    def lookup_refresh(self, value):
        """Return the identity of a live refresh token, or None."""
        with self._lock:
            token = self._refresh.get(value)
        if token is None or token.expires_at <= time.time():
            return None
        return token.identity

    def label_for(self, value):
        """Return the public name of the identity behind an access token (even expired), or None."""
        with self._lock:
            token = self._access.get(value)
        return token.identity.name if token else None

    def revoke_all(self):
        """Forget every issued token; return how many access tokens were revoked."""
        with self._lock:
            count = len(self._access)
            self._access.clear()
            self._refresh.clear()
        return count

    def active_values(self):
        """Return every live token value (for log scrubbing)."""
        with self._lock:
            return list(self._access) + list(self._refresh)


def unauthorized(message):
    """Return a 401 ApiError."""
    return ApiError(401, "UNAUTHORIZED", message)


def claimed_auth_label(headers, tokens):
    """Return the auth label of the identity a request *claims*, without checking it.

    Used for the request log, also for requests rejected or faulted before authentication.
    Never contains a secret: only the API ID, the client id or the token label.
    """
    x_auth = headers.get("X-Auth-Token")
    if x_auth is not None:
        if "/" in x_auth:
            return "api_key:" + x_auth.rsplit("/", 1)[1]
        return "api_key:<malformed>"
    authorization = headers.get("Authorization") or ""
    scheme, _sep, value = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return "bearer:" + (tokens.label_for(value.strip()) or "<unknown>")
    if scheme.lower() == "basic":
        client_id = parse_basic_auth(authorization)[0]
        return "csp_basic:" + (client_id if client_id is not None else "<malformed>")
    return None


def parse_basic_auth(header_value):
    """Return ``(client_id, client_secret)`` from a Basic Authorization header, or ``(None, None)``."""
    scheme, _sep, value = (header_value or "").partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None, None
    if ":" not in decoded:
        return None, None
    client_id, _sep, client_secret = decoded.partition(":")
    return client_id, client_secret


def authenticate(headers, identities, tokens):
    """Return ``(identity, auth_label)`` for a CBC API request or raise a 401 ApiError.

    ``X-Auth-Token: SECRET/API_ID`` wins over ``Authorization: Bearer``, as in cbc_sdk.
    """
    x_auth = headers.get("X-Auth-Token")
    if x_auth is not None:
        secret, sep, api_id = x_auth.strip().rpartition("/")
        if not sep or not secret or not api_id:
            raise unauthorized("Malformed X-Auth-Token: expected '<API secret key>/<API ID>'")
        identity = identities.api_key(api_id, secret)
        if identity is None:
            raise unauthorized("Invalid API credentials for API ID {0}".format(api_id))
        return identity, "api_key:" + api_id
    authorization = headers.get("Authorization")
    if authorization:
        scheme, _sep, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise unauthorized("Unsupported Authorization header: expected 'Bearer <access token>'")
        identity, reason = tokens.lookup_access(value.strip())
        if identity is None:
            raise unauthorized("Invalid bearer token: " + reason)
        return identity, "bearer:" + identity.name
    raise unauthorized("Missing credentials: send X-Auth-Token or Authorization: Bearer")


def authorize(identity, route_org_key, permission):
    """Check org and RBAC for an authenticated identity; raise 404 (other org) or 403 (missing permission)."""
    if route_org_key is not None and route_org_key != identity.org_key:
        raise ApiError(404, "NOT_FOUND", "Organization {0} not found".format(route_org_key))
    require_permission(identity, permission)


def require_permission(identity, permission):
    """Raise a 403 ApiError naming ``permission`` unless the identity holds it.

    Routes whose permission depends on the request body (device actions) call this from the handler.
    """
    if not identity.has_permission(permission):
        raise ApiError(403, "FORBIDDEN", "Access denied: this operation requires {0}".format(permission))
