# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CbcClient: the one path every CBC request takes.

One ``requests.Session`` per module run, TLS and proxy settings with the SDK's
meaning, retries (429 honours Retry-After for every method; 502/503/504 and
connection errors with bounded exponential backoff for requests that are safe
to repeat), one renewal of a bearer token on a 401, and errors that say what
to fix.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import platform
import re
import ssl
import time

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by CbcModule
    HTTPAdapter = object
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc

from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION

from .errors import (CbcApiError, CbcConfigError, CbcConnectionError, CbcRetryAfterTooLong, CbcWriteOutcomeUnknown,
                     attempts_text)
from .json_rows import decode_with_rows
from .redaction import redact_url
from .services import ENDPOINTS, build_url, endpoint_path

COLLECTION_VERSION = "1.0.0"

SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))
# Retried for reads; on a write they leave its outcome unknown (the caller reconciles, see writes.py).
RETRY_STATUSES = frozenset((500, 502, 503, 504))
# Defaults of the retries and retry_max_wait options.
DEFAULT_RETRIES = 5
DEFAULT_RETRY_MAX_WAIT = 60
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
# After a write timed out, wait this long (at most) before re-reading: the server may still be applying it.
SETTLE_PAUSE_CAP = 30.0


def user_agent(integration=None):
    """``[integration ]carbonblack.cloud/V ansible-core/V Python/V`` (integration first, like the SDK)."""
    agent = "carbonblack.cloud/%s ansible-core/%s Python/%s" % (
        COLLECTION_VERSION, ANSIBLE_VERSION, platform.python_version())
    return "%s %s" % (integration, agent) if integration else agent


def retry_after_seconds(value, now=None):
    """Parse a Retry-After header (seconds or an HTTP date); None when absent or unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


class TlsAdapter(HTTPAdapter):
    """Adapter for ``ssl_force_tls_1_2`` and ``ssl_verify_hostname: false``.

    Unlike the SDK, the TLS 1.2 context does not enable hostname checking
    itself, so it also works with ``ssl_verify: false`` on urllib3 2.
    """

    def __init__(self, force_tls_1_2=False, verify_hostname=True, **kwargs):
        self._force_tls_1_2 = force_tls_1_2
        self._verify_hostname = verify_hostname
        super(TlsAdapter, self).__init__(**kwargs)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        if self._force_tls_1_2:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.set_ciphers("TLSv1.2:!aNULL:!eNULL:!MD5")
            context.load_default_certs()
            pool_kwargs["ssl_context"] = context
        if not self._verify_hostname:
            pool_kwargs["assert_hostname"] = False
        super(TlsAdapter, self).init_poolmanager(connections, maxsize, block=block, **pool_kwargs)


class CbcClient:
    """HTTP client for one CBC org.

    ``settings`` is the resolved credential dict (see ``settings.resolve_settings``);
    ``auth`` one of the auth method objects.
    """

    def __init__(self, settings, auth, timeout=60, warn=None, sleep=None, clock=None, retries=DEFAULT_RETRIES,
                 retry_max_wait=DEFAULT_RETRY_MAX_WAIT):
        if not HAS_REQUESTS:
            raise CbcConfigError("the Python library 'requests' is required on the host that runs the module "
                                 "(%s). Fix: pip install requests" % REQUESTS_IMPORT_ERROR)
        self.url = settings["url"].rstrip("/")
        self.org_key = settings["org_key"]
        self.auth = auth
        self.timeout = timeout
        self._warn = warn
        self._sleep_function = sleep
        self._clock_function = clock
        self.max_attempts = retries + 1
        self.retry_max_wait = float(retry_max_wait)
        self.requests_sent = 0
        self.retries_done = 0
        # Writes whose lost answer was reconciled (writes.note): shown as warnings of the task.
        self.notes = []
        self.verify = self._verify_setting(settings)
        self.proxies = self._proxy_setting(settings)
        self.proxy_label = redact_url(settings.get("proxy")) if settings.get("proxy") else None
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent(settings.get("integration"))
        adapter = TlsAdapter(force_tls_1_2=bool(settings.get("ssl_force_tls_1_2")),
                             verify_hostname=settings.get("ssl_verify_hostname") is not False,
                             max_retries=Retry(0, read=False, respect_retry_after_header=False))
        self.session.mount("https://", adapter)
        if self.verify is False:
            try:
                from urllib3.exceptions import InsecureRequestWarning
                requests.packages.urllib3.disable_warnings(InsecureRequestWarning)
            except (ImportError, AttributeError):  # pragma: no cover
                pass

    @staticmethod
    def _verify_setting(settings):
        if settings.get("ssl_verify") is False:
            return False
        return settings.get("ssl_cert_file") or True

    @staticmethod
    def _proxy_setting(settings):
        # Per request, as the SDK does: session-level proxies lose to HTTP(S)_PROXY.
        if settings.get("ignore_system_proxy"):
            return {"http": "", "https": ""}
        if settings.get("proxy"):
            return {"http": settings["proxy"], "https": settings["proxy"]}
        return None

    def _sleep(self, seconds):
        # time.sleep is looked up at call time, so tests can replace it.
        (self._sleep_function or time.sleep)(seconds)

    def _clock(self):
        return (self._clock_function or time.monotonic)()

    def warn(self, message):
        if self._warn:
            self._warn(message)

    def close(self):
        self.session.close()

    # -- public API ---------------------------------------------------------
    def call(self, endpoint_name, body=None, params=None, permission=None, shape_results=None, **path_params):
        """Send a catalogued API call and return the decoded JSON (None for an empty body).

        ``permission`` overrides the catalogue's, for endpoints whose permission depends on the body.
        ``shape_results`` is applied to each element of the answer's ``results`` array as it is decoded.
        """
        endpoint = ENDPOINTS[endpoint_name]
        path = endpoint_path(endpoint, self.org_key, **path_params)
        return self.request(endpoint.method, path, body=body, params=params, safe=endpoint.safe,
                            permission=permission or endpoint.permission, shape_results=shape_results)

    def request(self, method, path, body=None, params=None, safe=None, permission=None, shape_results=None):
        """Send an authenticated request to ``{url}{path}``; raise CbcApiError on an error status.

        ``safe`` (default: GET) means the request only reads, so it may be repeated blindly. A write whose
        answer was lost raises CbcWriteOutcomeUnknown.
        """
        method = method.upper()
        safe = method in SAFE_METHODS if safe is None else safe
        url = build_url(self.url, path)
        sent = self._authenticated_send(method, url, path, body, params, safe)
        response = sent.response
        if response.status_code >= 400:
            raise CbcApiError(method, path, response.status_code, api_message(response), permission=permission,
                              attempts=sent.attempts, elapsed=sent.elapsed)
        return decode_json(response, method, path, shape_results)

    def settle_pause(self):
        """Seconds to wait after a write timed out before reading back whether it was applied."""
        return min(float(self.timeout), SETTLE_PAUSE_CAP)

    def pause(self, seconds):
        self._sleep(seconds)

    def csp_token_request(self, url, headers, data, mode):
        """POST a CSP token exchange (form-encoded) and return its JSON body.

        Repeating an exchange only mints another token, so it is retried like a read.
        """
        response = self._send("POST", url, url, headers=headers, data=data, safe=True).response
        if response.status_code != 200:
            message = api_message(response)
            if response.status_code in (400, 401, 403):
                what = ("csp_oauth_app_id and csp_oauth_app_secret" if mode == "csp_oauth_app" else "csp_api_token")
                raise CbcConfigError(
                    "the CSP token exchange at %s was rejected with HTTP %s (%s). Fix: check %s, and that "
                    "csp_url_override is your Cloud Services Platform" % (url, response.status_code, message or "no message", what))
            raise CbcApiError("POST", url, response.status_code, message)
        return decode_json(response, "POST", url)

    # -- internals ----------------------------------------------------------
    def _authenticated_send(self, method, url, path, body, params, safe):
        renewed = False
        while True:
            headers = dict(self.auth.headers(self))
            sent = self._send(method, url, path, headers=headers, json=body, params=params, safe=safe)
            if sent.response.status_code == 401 and not renewed and self.auth.refresh(self):
                renewed = True
                continue
            return sent

    def _send(self, method, url, path, headers=None, json=None, data=None, params=None, safe=False):
        """Send with retries, bounded by ``max_attempts`` and ``retry_max_wait`` seconds of waiting.

        Returns a ``Sent`` (the last response, attempts and elapsed seconds). Raises CbcConnectionError
        when the server could not be reached, CbcWriteOutcomeUnknown when a write may have been applied
        without an answer (a dropped connection, a read timeout, a 5xx), CbcRetryAfterTooLong when a 429
        asks to wait past the budget. HTTP 429 is retried for every request: the server did not act on it.
        """
        started = self._clock()
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            try:
                self.requests_sent += 1
                response = self.session.request(method, url, headers=headers, json=json, data=data, params=params,
                                                timeout=self.timeout, verify=self.verify, proxies=self.proxies)
            except requests.exceptions.RequestException as exc:
                error = self._connection_error(exc, url)
                delay = backoff(attempt)
                can_retry = attempt < self.max_attempts and waited + delay <= self.retry_max_wait
                if error.sent and not safe:
                    raise CbcWriteOutcomeUnknown(method, path, _cause(error, self.timeout),
                                                 may_resend=error.kind != "timeout", attempts=attempt,
                                                 elapsed=self._clock() - started)
                if error.retryable and can_retry:
                    waited += delay
                    self.retries_done += 1
                    self._sleep(delay)
                    continue
                raise CbcConnectionError(str(error) + attempts_text(attempt, self._clock() - started),
                                         error.retryable, error.sent, error.kind)

            status = response.status_code
            if status in RETRY_STATUSES and not safe:
                response.close()
                raise CbcWriteOutcomeUnknown(method, path, "HTTP %d" % status, may_resend=True, attempts=attempt,
                                             elapsed=self._clock() - started)
            delay, asked = self._retry_delay(response, attempt)
            if delay is None or attempt >= self.max_attempts:
                return Sent(response, attempt, self._clock() - started)
            if waited + delay > self.retry_max_wait:
                if asked is not None:
                    response.close()
                    raise CbcRetryAfterTooLong(method, path, asked, self.retry_max_wait - waited, self.retry_max_wait,
                                               attempts=attempt, elapsed=self._clock() - started)
                return Sent(response, attempt, self._clock() - started)
            response.close()
            waited += delay
            self.retries_done += 1
            self._sleep(delay)

    @staticmethod
    def _retry_delay(response, attempt):
        """``(seconds to wait before the next attempt, or None for none; the Retry-After asked, or None)``.

        Only reads get here with a RETRY_STATUSES answer: ``_send`` has turned that answer to a write into
        CbcWriteOutcomeUnknown already.
        """
        status = response.status_code
        if status == 429 or status in RETRY_STATUSES:
            after = retry_after_seconds(response.headers.get("Retry-After"))
            return (after if after else backoff(attempt)), after
        return None, None

    def _connection_error(self, exc, url):
        host = re.sub(r"^(https?://[^/]+).*$", r"\1", url)
        if isinstance(exc, requests.exceptions.SSLError):
            detail = _short_reason(exc)
            if "hostname" in detail.lower() or "match" in detail.lower():
                fix = "use the host name the certificate was issued for in url, or set ssl_verify_hostname: false"
            else:
                fix = ("set ssl_cert_file to the CA bundle that signed the server certificate "
                       "(or ssl_verify: false, for tests only)")
            return CbcConnectionError("TLS verification of %s failed (%s). Fix: %s" % (host, detail, fix), False)
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return CbcConnectionError("could not connect to %s within %s seconds. Fix: check that url is your CBC "
                                      "console host and that it is reachable from this host (proxy, firewall, DNS)"
                                      % (host, self.timeout), True)
        if isinstance(exc, requests.exceptions.ProxyError):
            return CbcConnectionError("could not reach %s through the proxy %s (%s). Fix: check the proxy option "
                                      "(or HTTPS_PROXY), or set ignore_system_proxy: true"
                                      % (host, self.proxy_label or "from the environment", _short_reason(exc)), True)
        if isinstance(exc, requests.exceptions.Timeout):
            return CbcConnectionError("no answer from %s within the timeout of %s seconds per attempt. Fix: raise "
                                      "timeout, or check the network and proxy settings" % (host, self.timeout), True,
                                      sent=True, kind="timeout")
        if isinstance(exc, requests.exceptions.ConnectionError):
            reason = _short_reason(exc)
            if _reached_server(exc):
                return CbcConnectionError("the connection to %s was dropped before an answer came (%s). Fix: check "
                                          "the network and proxy settings; a re-run is safe" % (host, reason), True,
                                          sent=True, kind="dropped")
            # A refused connection or an unknown name will not heal in the seconds a retry waits.
            retryable = not any(text in reason for text in ("refused", "not known", "name resolution", "No route"))
            return CbcConnectionError("could not connect to %s (%s). Fix: check that url is your CBC console host "
                                      "(e.g. https://defense-prod05.conferdeploy.net) and that it is reachable from "
                                      "this host (proxy, firewall, DNS)" % (host, reason), retryable)
        return CbcConnectionError("the request to %s failed (%s). Fix: check url, proxy and TLS options"
                                  % (host, _short_reason(exc)), False)


class Sent:
    """What ``_send`` ends with: the last response, the attempts it took and the seconds they took."""

    def __init__(self, response, attempts, elapsed):
        self.response = response
        self.attempts = attempts
        self.elapsed = elapsed


def _cause(error, timeout):
    if error.kind == "timeout":
        return "no answer came within the timeout of %s s" % timeout
    return "the connection was dropped before the answer came"


def _reached_server(exc):
    """Whether a ConnectionError happened after the request was sent (dropped, reset, closed without an
    answer) rather than while connecting. Unknown shapes count as sent: that is the safe side for writes."""
    seen = set()
    pending = [exc]
    while pending:
        item = pending.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        name = type(item).__name__
        if name in ("NewConnectionError", "NameResolutionError", "ConnectTimeoutError", "ConnectionRefusedError"):
            return False
        if name in ("ProtocolError", "RemoteDisconnected", "ConnectionResetError", "BrokenPipeError",
                    "IncompleteRead", "ReadTimeoutError"):
            return True
        pending.extend(arg for arg in getattr(item, "args", ()) if isinstance(arg, BaseException))
        pending.extend((getattr(item, "reason", None), item.__cause__, item.__context__))
    text = str(exc)
    return not any(word in text for word in ("refused", "not known", "name resolution", "No route",
                                             "Failed to establish"))


def backoff(attempt):
    return min(BACKOFF_CAP, BACKOFF_BASE * (2 ** (attempt - 1)))


def _short_reason(exc):
    text = str(exc)
    for pattern in (r"\[SSL: [^\]]+\] ([^(')]+)", r"(Connection refused)", r"(Name or service not known)",
                    r"(Temporary failure in name resolution)", r"(Connection reset by peer)",
                    r"(Remote end closed connection without response)", r"(Tunnel connection failed: [^'\")]+)",
                    r"(No route to host)", r"(hostname '[^']+' doesn't match[^'\")]*)", r"(certificate verify failed[^'\")]*)"):
        match = re.search(pattern, text)
        if match:
            return match.group(1).strip()
    return " ".join(text.split())[:200]


def api_message(response):
    """The API's own error text, from the usual JSON keys or the raw body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "error_message", "errorMessage", "reason", "error_description", "error"):
            if body.get(key):
                return str(body[key])
    text = (response.text or "").strip()
    return text[:300] or None


def decode_json(response, method, path, shape_results=None):
    if response.status_code == 204 or not response.content:
        return None
    try:
        if shape_results is not None:
            # JSON is UTF-8 (RFC 8259); UnicodeDecodeError is a ValueError.
            body = decode_with_rows(response.content.decode("utf-8"), "results", shape_results)
        else:
            body = response.json()
    except ValueError:
        raise CbcApiError(method, path, response.status_code, "the response is not JSON: %s" % response.text[:100])
    if isinstance(body, dict) and body.get("errorMessage"):
        # An error reported inside a 2xx answer; the SDK raises on it too (connection.py api_json_request).
        raise CbcApiError(method, path, response.status_code, str(body["errorMessage"]))
    return body
