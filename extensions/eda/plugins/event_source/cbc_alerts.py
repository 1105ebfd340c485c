# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""carbonblack.cloud.cbc_alerts: an ansible-rulebook event source that polls Carbon Black Cloud Alerts v7.

Every alert that matches the selection is put on the queue once, as ``{"cbc_alert": alert, "cbc_source": {...}}``,
in ``backend_timestamp`` order. The position (the newest ``backend_timestamp`` emitted and the ids emitted at that
timestamp) survives restarts through ``state_file``. Requests go through the collection's own client
(``plugins/module_utils/client.py``), run in a worker thread so the event loop is never blocked.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
short_description: Receive Carbon Black Cloud alerts as events
description:
  - "An ansible-rulebook event source that polls the Carbon Black Cloud Alerts v7 search
    (C(POST /api/alerts/v7/orgs/{org_key}/alerts/_search)) every O(interval) seconds and puts each new alert on the
    queue exactly once, oldest first, as an event C({\"cbc_alert\": <the alert>, \"cbc_source\": {\"org_key\",
    \"url\", \"source\"}})."
  - The cursor is the alert's C(backend_timestamp), the time the backend created it, which never changes. Each
    search asks for C(backend_timestamp) from the cursor (inclusive) to now minus O(settle_time), sorted ascending,
    in pages of O(rows); the ids already emitted at the cursor's timestamp are skipped, so alerts that share a
    timestamp are neither lost nor repeated. Alerts updated later (workflow, notes) are not emitted again.
  - With O(state_file) the cursor is written (atomically) after every batch of events and read back at start, so a
    restarted source resumes where it stopped, without duplicates or gaps.
  - Uses the connection options of the collection's modules, with the same precedence (options > credential
    profile > C(CBC_*) environment variables > defaults) and the same client (TLS, proxy, retries, C(Retry-After),
    CSP token renewal). Needs C(ansible-core) and C(requests) in the Python that runs ansible-rulebook.
  - HTTP 429 is retried by the client within O(retry_max_wait); beyond that, and after HTTP 5xx or connection
    errors, the source logs a warning and polls again later with a growing pause (at least the C(Retry-After) asked
    for). Configuration errors (bad options, an unreadable state file, HTTP 400/401/403/404, a rejected CSP token
    exchange) stop the source with a one-line message. Secrets are never logged.
version_added: 1.1.0
author:
  - carbonblack.cloud contributors (@carbonblack)
options:
  criteria:
    description:
      - "Alert search criteria, passed into the search body's C(criteria), for example
        C({type: [WATCHLIST, CB_ANALYTICS], device_os: [WINDOWS], workflow_status: [OPEN]})."
      - The rules of M(carbonblack.cloud.cbc_alert_info) apply before any request. Each value is a list; only alert
        fields are accepted (an unknown field would be ignored by the API and widen the selection); nested fields take
        the flat names (C(workflow_status), C(determination_value), ...). C(backend_timestamp) is the cursor's and
        C(minimum_severity) has its own option. Without O(criteria), O(query) and O(minimum_severity) every alert of the
        org is emitted.
    type: dict
  exclusions:
    description:
      - Alert search exclusions (same form as O(criteria)).
    type: dict
  query:
    description:
      - A Lucene query string added to the search, for example C(device_name:WS-FIN*).
    type: str
  minimum_severity:
    description:
      - Only alerts of at least this severity, 1 to 10 (sent as C(criteria.minimum_severity)).
    type: int
  start_time:
    description:
      - Where to start when there is no state (no O(state_file), or the file does not exist yet).
      - V(now) (default) emits only alerts created from the start of the source on (the clock of the host that
        runs ansible-rulebook).
      - An ISO-8601 time such as V(2024-05-01T08:00:00Z) (a time without zone is UTC) emits every alert created
        from then on; a lookback such as V(-15m), V(-2h), V(-7d) or V(-1w) (units s, m, h, d, w) from that long
        before the start.
      - Ignored when O(state_file) holds a position.
    type: str
    default: now
  state_file:
    description:
      - A JSON file holding the position (C(backend_timestamp) and the ids emitted at it). Read at start, written
        atomically (a temporary file in the same directory, then C(os.replace)) after every batch of events and at
        shutdown. Its directory must exist and be writable.
      - Without it the position lives only in memory and a restart begins again at O(start_time).
      - A file written for another O(org_key), or one that is not a state file, stops the source; delete it to start
        over at O(start_time).
    type: path
  interval:
    description:
      - Seconds between polls (a fraction is allowed), more than 0 and at most 86400.
      - A poll that ends at the API's 10,000-result window is followed by the next one at once.
    type: float
    default: 30
  rows:
    description:
      - Alerts per search page, 1 to 10000.
    type: int
    default: 100
  settle_time:
    description:
      - Seconds, 0 to 3600, that the search window ends before now. Alerts the backend makes searchable only after
        the poll that covered their C(backend_timestamp) would be missed; a few seconds of settle time give them
        that long to appear. Events arrive that much later.
    type: float
    default: 0
  url:
    description:
      - The CBC console host, for example C(https://defense-prod05.conferdeploy.net). Falls back to the profile, then
        E(CBC_URL), then E(CBAPI_URL).
    type: str
  org_key:
    description:
      - The organization key. Falls back to the profile, then E(CBC_ORG_KEY), then E(CBAPI_ORG_KEY).
    type: str
  token:
    description:
      - API key as C(SECRET_KEY/API_ID); needs C(org.alerts READ). Falls back to the profile, then E(CBC_TOKEN),
        then E(CBAPI_TOKEN).
    type: str
  csp_oauth_app_id:
    description:
      - Client ID of a CSP OAuth app (with O(csp_oauth_app_secret)). Falls back to E(CBC_CSP_OAUTH_APP_ID).
    type: str
  csp_oauth_app_secret:
    description:
      - Client secret of the CSP OAuth app. Falls back to E(CBC_CSP_OAUTH_APP_SECRET).
    type: str
  csp_api_token:
    description:
      - A CSP personal API token. Falls back to E(CBC_CSP_API_TOKEN).
    type: str
  csp_url_override:
    description:
      - The Cloud Services Platform for token exchanges (default C(https://console.cloud.vmware.com)). Falls back to
        E(CBC_CSP_URL_OVERRIDE).
      - One token exchange per token lifetime; the token is renewed once on a 401 (see O(token_cache)).
    type: str
  ssl_verify:
    description:
      - Verify the server's TLS certificate (default V(true)). Falls back to E(CBC_SSL_VERIFY).
    type: bool
  ssl_verify_hostname:
    description:
      - Check the certificate's host name (default V(true)). Falls back to E(CBC_SSL_VERIFY_HOSTNAME).
    type: bool
  ssl_cert_file:
    description:
      - A PEM CA bundle to verify the server with. Falls back to E(CBC_SSL_CERT_FILE).
    type: path
  ssl_force_tls_1_2:
    description:
      - Refuse TLS older than 1.2. Falls back to E(CBC_SSL_FORCE_TLS_1_2).
    type: bool
  proxy:
    description:
      - Proxy URL for HTTPS, for example C(http://proxy.example.com:3128); without it E(HTTPS_PROXY) applies. Falls
        back to E(CBC_PROXY).
    type: str
  ignore_system_proxy:
    description:
      - Ignore proxies from the environment. Falls back to E(CBC_IGNORE_SYSTEM_PROXY).
    type: bool
  integration:
    description:
      - Name and version put first in the User-Agent, for example C(soc-eda/1.0). Falls back to E(CBC_INTEGRATION).
    type: str
  default_timeout:
    description:
      - Accepted so a credential profile can be passed through; not used by this source.
    type: int
  profile:
    description:
      - A credential profile (C(credentials.psc)/C(credentials.cbc) in C(/etc/carbonblack), C(~/.carbonblack),
        C(./.carbonblack)), read as the official SDK reads it. Without complete options or environment, the
        C(default) profile is read.
    type: str
  credential_file:
    description:
      - Credential file(s) to read instead of the default search path.
    type: list
    elements: path
  timeout:
    description:
      - Seconds per HTTP attempt, 1 to 3600.
    type: int
    default: 60
  retries:
    description:
      - Retries of one search after HTTP 429, 5xx or a connection error, 0 to 20, before the source pauses.
    type: int
    default: 5
  retry_max_wait:
    description:
      - Seconds one search may wait between its retries (C(Retry-After) or backoff), 0 to 3600. A longer
        C(Retry-After) ends the poll; the next one waits at least that long.
    type: int
    default: 60
  token_cache:
    description:
      - Share CSP access tokens with the collection's modules through the per-user token cache
        (C($XDG_CACHE_HOME/carbonblack.cloud/csp-tokens)). V(false) keeps the token in memory only.
    type: bool
    default: true
notes:
  - "Event: C(cbc_alert) is the alert as the API returns it (C(id), C(type), C(severity), C(device_id),
    C(device_name), C(backend_timestamp), C(workflow), ...); C(cbc_source) holds C(org_key), C(url) and C(source)
    (C(carbonblack.cloud.cbc_alerts)). ansible-rulebook adds its own C(meta) key."
  - Delivery is exactly once while the source runs and across restarts that go through a shutdown (the state is
    written when the source is cancelled). After a crash between putting a batch on the queue and writing the
    state, that batch is emitted again (at least once).
  - The API reads at most 10,000 results of one search; a larger backlog is read in several polls from the
    advancing cursor.
"""

EXAMPLES = r"""
- name: Respond to Carbon Black Cloud alerts
  hosts: localhost
  sources:
    - carbonblack.cloud.cbc_alerts:
        profile: default
        minimum_severity: 5
        criteria:
          workflow_status: [OPEN]
        start_time: -15m
        state_file: /var/lib/eda/cbc_alerts.json
        interval: 30
  rules:
    - name: Quarantine the device of a severe alert
      condition: event.cbc_alert.severity >= 7
      action:
        run_playbook:
          name: carbonblack.cloud.eda_quarantine_alert_device
"""

import asyncio
import json
import logging
import os
import re
import sys
import tempfile
from datetime import datetime, timedelta, timezone


def _collections_root(path):
    """The directory that holds the ``ansible_collections`` directory this file is installed under, or None."""
    directory = os.path.dirname(os.path.abspath(path))
    while True:
        parent = os.path.dirname(directory)
        if os.path.basename(directory) == "ansible_collections":
            return parent
        if parent == directory:
            return None
        directory = parent


def _import_collection():
    """Import the collection's module_utils; ansible-rulebook does not put the collections root on sys.path."""
    try:
        from ansible_collections.carbonblack.cloud.plugins.module_utils import cbc_module
    except ImportError as first:
        root = _collections_root(globals().get("__file__") or "")
        if root is None or root in sys.path:
            raise ImportError("carbonblack.cloud.cbc_alerts cannot import the carbonblack.cloud collection (%s). Fix: "
                              "install the collection (ansible-galaxy collection install carbonblack.cloud) and "
                              "ansible-core and requests in the Python that runs ansible-rulebook" % first)
        sys.path.insert(0, root)
        try:
            from ansible_collections.carbonblack.cloud.plugins.module_utils import cbc_module
        except ImportError as second:
            raise ImportError("carbonblack.cloud.cbc_alerts cannot import the carbonblack.cloud collection from %s "
                              "(%s). Fix: install ansible-core and requests in the Python that runs ansible-rulebook"
                              % (root, second))
    from ansible_collections.carbonblack.cloud.plugins.module_utils import (alerts, auth, client, errors, redaction,
                                                                            settings, validation)
    return cbc_module, auth, client, errors, redaction, settings, alerts, validation


_COLLECTION = _import_collection()
_cbc_module = _COLLECTION[0]
_auth = _COLLECTION[1]
_client = _COLLECTION[2]
_errors = _COLLECTION[3]
_redaction = _COLLECTION[4]
_settings = _COLLECTION[5]
_alerts = _COLLECTION[6]
_validation = _COLLECTION[7]

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # noqa: E402  (needs ansible-core, as above)

SOURCE_NAME = "carbonblack.cloud.cbc_alerts"
STATE_FORMAT = 1
# The API reads at most this many results of one search (the SDK's MAX_RESULTS_LIMIT, docs/api-evidence.md).
MAX_RESULTS = 10000
# Pauses after failed polls double from the interval up to this many seconds (or the interval, when longer).
MAX_BACKOFF = 300.0
# HTTP statuses that mean the configuration is wrong: retrying the same search cannot help.
FATAL_STATUSES = frozenset((400, 401, 403, 404, 405, 410))
# Keys ansible-rulebook adds to the arguments itself.
RULEBOOK_KEYS = ("eda_feedback_queue",)
_LOOKBACK_RE = re.compile(r"^-\s*(\d+)\s*([smhdw])$")
_LOOKBACK_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_ISO_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?)?\s*(Z|[+-]\d\d:?\d\d)?$",
                     re.IGNORECASE)

logger = logging.getLogger(SOURCE_NAME)

SOURCE_ARGUMENT_SPEC = dict(
    criteria=dict(type="dict"),
    exclusions=dict(type="dict"),
    query=dict(type="str"),
    minimum_severity=dict(type="int"),
    start_time=dict(type="str", default="now"),
    state_file=dict(type="path"),
    interval=dict(type="float", default=30.0),
    rows=dict(type="int", default=100),
    settle_time=dict(type="float", default=0.0),
)


class CbcAlertsSourceError(Exception):
    """Why the source stopped: one line, no secret."""


# --- time ----------------------------------------------------------------------------------------------------------

def parse_time(text):
    """An ISO-8601 time (``Z``, an offset or none for UTC; any fraction of a second) as an aware datetime, or None."""
    if not isinstance(text, str):
        return None
    match = _ISO_RE.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = timezone.utc
    if zone and zone.upper() != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        value = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro,
                         tzinfo=tz)
    except ValueError:
        return None
    return value.astimezone(timezone.utc)


def format_time(value):
    """``2024-05-01T08:00:00.123Z``, the form of the API's timestamps (milliseconds, truncated)."""
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (value.microsecond // 1000)


def start_position(start_time, now):
    """The cursor time for ``start_time`` (``now``, an ISO-8601 time or a lookback such as ``-15m``)."""
    text = (start_time or "now").strip()
    if text.lower() == "now":
        return format_time(now)
    match = _LOOKBACK_RE.match(text)
    if match:
        return format_time(now - timedelta(seconds=int(match.group(1)) * _LOOKBACK_SECONDS[match.group(2)]))
    parsed = parse_time(text)
    if parsed is None:
        raise CbcAlertsSourceError("start_time %r is neither now, an ISO-8601 time (e.g. 2024-05-01T08:00:00Z) nor a "
                                   "lookback (e.g. -15m, -2h, -7d). Fix: use one of those forms" % text[:60])
    return format_time(parsed)


# --- cursor and state file -----------------------------------------------------------------------------------------

class Cursor:
    """The newest ``backend_timestamp`` emitted (as the API wrote it) and the ids emitted at that timestamp."""

    def __init__(self, timestamp, ids=()):
        self.timestamp = timestamp
        self.when = parse_time(timestamp)
        if self.when is None:
            raise CbcAlertsSourceError("the cursor time %r is not an ISO-8601 time" % (timestamp,))
        self.ids = set(str(item) for item in ids)

    def copy(self):
        return Cursor(self.timestamp, self.ids)

    def covers(self, when, alert_id):
        """True if an alert created at ``when`` with this id was emitted before this cursor was taken."""
        return when < self.when or (when == self.when and alert_id in self.ids)

    def advance(self, timestamp, when, alert_id):
        if when > self.when:
            self.timestamp, self.when, self.ids = timestamp, when, set([alert_id])
        elif when == self.when:
            self.ids.add(alert_id)

    def to_json(self):
        return {"backend_timestamp": self.timestamp, "ids": sorted(self.ids)}


class StateFile:
    """The JSON file that keeps the cursor across restarts."""

    def __init__(self, path, org_key):
        self.path = os.path.abspath(os.path.expanduser(path))
        self.org_key = org_key
        self.written = None

    def load(self):
        """The stored Cursor, or None when the file does not exist or is empty."""
        try:
            with open(self.path, "rb") as handle:
                raw = handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CbcAlertsSourceError("state_file %s cannot be read (%s). Fix: make it readable by the user that runs "
                                       "ansible-rulebook" % (self.path, exc.strerror or exc))
        if not raw.strip():
            return None
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or data.get("format") != STATE_FORMAT or data.get("source") != SOURCE_NAME:
                raise ValueError("not a %s state file" % SOURCE_NAME)
            cursor = data["cursor"]
            ids = cursor.get("ids") or []
            if not isinstance(ids, list):
                raise ValueError("cursor.ids is not a list")
            result = Cursor(cursor["backend_timestamp"], ids)
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError, CbcAlertsSourceError) as exc:
            raise CbcAlertsSourceError("state_file %s is not a %s state file (%s). Fix: delete it to start over at "
                                       "start_time, or point state_file at another file" % (self.path, SOURCE_NAME, exc))
        if data.get("org_key") != self.org_key:
            raise CbcAlertsSourceError("state_file %s holds the position of org %s, not of org_key %s. Fix: give each "
                                       "org its own state_file" % (self.path, data.get("org_key"), self.org_key))
        self.written = result.to_json()
        return result

    def save(self, cursor):
        """Write the cursor atomically (same-directory temporary file, fsync, os.replace), if it changed."""
        position = cursor.to_json()
        if position == self.written:
            return
        data = {"format": STATE_FORMAT, "source": SOURCE_NAME, "org_key": self.org_key, "cursor": position,
                "saved_at": format_time(datetime.now(timezone.utc))}
        directory = os.path.dirname(self.path)
        try:
            fd, temporary = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(self.path) + ".")
        except OSError as exc:
            raise CbcAlertsSourceError("state_file %s cannot be written (%s). Fix: point state_file into an existing "
                                       "directory the user that runs ansible-rulebook may write to"
                                       % (self.path, exc.strerror or exc))
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle, indent=1, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise
        self.written = position


# --- options -------------------------------------------------------------------------------------------------------

class Options:
    """The validated arguments: connection settings and the selection."""

    def __init__(self, args):
        spec = dict(_cbc_module.AUTH_ARGUMENT_SPEC)
        spec["timeout"] = dict(type="int", default=_cbc_module.DEFAULT_TIMEOUT)
        spec.update(SOURCE_ARGUMENT_SPEC)
        given = dict((key, value) for key, value in (args or {}).items() if key not in RULEBOOK_KEYS)
        result = ArgumentSpecValidator(spec).validate(given)
        if result.unsupported_parameters:
            raise CbcAlertsSourceError("unsupported option(s) %s. Fix: use %s" % (
                ", ".join(sorted(str(name) for name in result.unsupported_parameters)), ", ".join(sorted(spec))))
        if result.error_messages:
            raise CbcAlertsSourceError("%s. Fix: correct the source's arguments" % "; ".join(result.error_messages))
        params = result.validated_parameters
        self.params = params
        _cbc_module.check_connection_ranges(params)
        _validation.check_range(params["rows"], "rows", 1, MAX_RESULTS, fix="use a whole number in that range")
        if not 0 < params["interval"] <= 86400:
            raise CbcAlertsSourceError("interval must be more than 0 and at most 86400 seconds, not %r. Fix: use e.g. "
                                       "the default 30" % params["interval"])
        if not 0 <= params["settle_time"] <= 3600:
            raise CbcAlertsSourceError("settle_time must be 0 to 3600 seconds, not %r. Fix: use e.g. 0 or 5"
                                       % params["settle_time"])
        for section in ("criteria", "exclusions"):
            if "backend_timestamp" in (params[section] or {}):
                raise CbcAlertsSourceError("%s.backend_timestamp is not allowed: the source's cursor sets the time range. "
                                           "Fix: use start_time for where to begin" % section)
        # The modules' selection rules (cbc_alert_info): known field names only, lists of values, no empty criteria
        # or blank query, minimum_severity 1 to 10; no selection reads every alert of the org.
        self.selection = _alerts.selection_from_params(
            dict((name, params[name]) for name in ("criteria", "exclusions", "query", "minimum_severity")),
            whole_org_when_unset=True)
        self.interval = float(params["interval"])
        self.settle_time = float(params["settle_time"])
        self.rows = params["rows"]
        self.start_time = params["start_time"]
        self.state_file = params["state_file"]


# --- the source ----------------------------------------------------------------------------------------------------

class Redactor:
    """Masks secret values in text that may reach the log."""

    def __init__(self):
        self.secrets = []

    def add(self, values):
        for value in values:
            if value and len(str(value)) >= 4 and str(value) not in self.secrets:
                self.secrets.append(str(value))
        self.secrets.sort(key=len, reverse=True)

    def __call__(self, text):
        text = str(text)
        for value in self.secrets:
            text = text.replace(value, "********")
        return text


class AlertPoller:
    """Searches alerts from the cursor on and emits each once; the client's calls run in a worker thread."""

    def __init__(self, queue, options, settings, client, state, cursor, redact):
        self.queue = queue
        self.options = options
        self.client = client
        self.state = state
        self.cursor = cursor
        self.redact = redact
        self.source_info = {"org_key": settings["org_key"], "url": settings["url"].rstrip("/"), "source": SOURCE_NAME}
        self.emitted = 0
        self.contacted = False

    def body(self, window_start, end, offset):
        body = self.options.selection.search_body()
        body.update({"time_range": {"start": window_start, "end": end},
                     "sort": [{"field": "backend_timestamp", "order": "ASC"}],
                     "start": offset + 1, "rows": self.options.rows})
        return body

    async def search(self, body):
        answer = await asyncio.to_thread(self.client.call, "alerts.search", body=body)
        self.contacted = True
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list):
            raise _errors.CbcApiError("POST", "alerts/_search", 200, "the answer has no results list")
        return results

    async def poll(self):
        """One poll: every page from the cursor to now minus settle_time. True if the next poll should follow at once
        (the 10,000-result window was reached)."""
        end_time = datetime.now(timezone.utc) - timedelta(seconds=self.options.settle_time)
        if end_time < self.cursor.when:
            return False
        end = format_time(end_time)
        floor = self.cursor.copy()
        seen = set()
        window_start = self.cursor.timestamp
        offset = 0
        while True:
            if offset >= MAX_RESULTS:
                if self.cursor.when > floor.when:
                    return True
                logger.warning("%s: more than %d alerts share backend_timestamp %s; the ones past the API's result "
                               "window cannot be read", SOURCE_NAME, MAX_RESULTS, self.cursor.timestamp)
                return False
            page = await self.search(self.body(window_start, end, offset))
            await self.emit(page, floor, seen)
            if len(page) < self.options.rows:
                return False
            if self.cursor.when > parse_time(window_start):
                # Keyset paging: start the next page at the newest timestamp emitted, so alerts that share it are read
                # again (and skipped) rather than lost when the server orders ties differently between pages.
                window_start, offset = self.cursor.timestamp, 0
            else:
                offset += self.options.rows

    async def emit(self, page, floor, seen):
        batch = 0
        try:
            for alert in page:
                if not isinstance(alert, dict):
                    continue
                alert_id = str(alert.get("id"))
                if alert_id in seen:
                    continue
                timestamp = alert.get("backend_timestamp")
                when = parse_time(timestamp)
                if when is not None and floor.covers(when, alert_id):
                    continue
                seen.add(alert_id)
                await self.queue.put({"cbc_alert": alert, "cbc_source": dict(self.source_info)})
                batch += 1
                if when is None:
                    logger.warning("%s: alert %s has no usable backend_timestamp (%r); emitted, the cursor stays",
                                   SOURCE_NAME, alert_id, timestamp)
                else:
                    self.cursor.advance(timestamp, when, alert_id)
        finally:
            if batch:
                self.emitted += batch
                logger.info("%s: %d new alert(s), cursor %s", SOURCE_NAME, batch, self.cursor.timestamp)
                self.save_state()

    def save_state(self):
        if self.state is not None:
            self.state.save(self.cursor)

    async def run(self):
        failures = 0
        while True:
            try:
                again = await self.poll()
                failures = 0
                delay = 0 if again else self.options.interval
            except (_errors.CbcError, OSError) as error:
                failures += 1
                delay = self.failure_delay(error, failures)
            await asyncio.sleep(delay)

    def failure_delay(self, error, failures):
        """The pause after a failed poll, or raise CbcAlertsSourceError for errors that retrying cannot fix."""
        message = self.redact(error)
        if isinstance(error, _errors.CbcApiError) and error.status in FATAL_STATUSES:
            raise CbcAlertsSourceError(message)
        if isinstance(error, _errors.CbcConfigError):
            raise CbcAlertsSourceError(message)
        if isinstance(error, _errors.CbcConnectionError) and not error.retryable and not self.contacted:
            # Before the first answer, a TLS failure, an unknown host or a refused connection is a wrong url,
            # certificate or proxy rather than an outage.
            raise CbcAlertsSourceError(message)
        delay = min(max(MAX_BACKOFF, self.options.interval), self.options.interval * (2 ** min(failures - 1, 16)))
        asked = getattr(error, "retry_after", None)
        if asked:
            delay = max(delay, float(asked))
        logger.warning("%s: poll failed (%s); polling again in %.1f s", SOURCE_NAME, message, delay)
        return delay


def _make_client(options, redact):
    params = options.params

    def warn(text):
        logger.warning("%s: %s", SOURCE_NAME, redact(text))

    resolved = _settings.resolve_settings(params, warn=warn)
    redact.add(_redaction.secret_values(resolved))
    settings = _settings.validate_settings(resolved)
    auth = _auth.select_auth(settings, use_cache=params["token_cache"])
    redact.add(auth.secret_values())
    client = _client.CbcClient(settings, auth, timeout=params["timeout"], warn=warn, retries=params["retries"],
                               retry_max_wait=params["retry_max_wait"])
    return settings, client


async def main(queue, args):
    """The ansible-rulebook entry point: poll alerts and put each new one on ``queue`` until cancelled."""
    redact = Redactor()
    redact.add(value for key, value in (args or {}).items() if key in _redaction.SECRET_KEYS and isinstance(value, str))
    try:
        options = Options(args)
        settings, client = _make_client(options, redact)
    except _errors.CbcError as error:
        raise CbcAlertsSourceError(redact(error)) from None
    try:
        state = StateFile(options.state_file, settings["org_key"]) if options.state_file else None
        cursor = state.load() if state is not None else None
        resumed = cursor is not None
        if cursor is None:
            cursor = Cursor(start_position(options.start_time, datetime.now(timezone.utc)))
        poller = AlertPoller(queue, options, settings, client, state, cursor, redact)
        # Written at once, so a restart before the first alert still resumes from here, not from a later "now".
        poller.save_state()
        logger.info("%s: polling org %s at %s every %s s from %s (%s)", SOURCE_NAME, settings["org_key"],
                    poller.source_info["url"], options.interval, cursor.timestamp,
                    "resumed from %s" % state.path if resumed else "start_time %s" % options.start_time)
        try:
            await poller.run()
        finally:
            poller.save_state()
    finally:
        client.close()
