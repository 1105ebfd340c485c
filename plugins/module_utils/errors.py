# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exception types shared by every module and plugin of carbonblack.cloud.

Errors are raised deep down (credentials, auth, client) and turned into one
``fail_json`` line in one place (``CbcModule.fail_from``). Their messages
never carry a secret: callers only put public facts into them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

# The largest retry_max_wait the modules accept (seconds).
MAX_RETRY_MAX_WAIT = 3600


# Reason and suggested fix per HTTP status, after the troubleshooting table of
# the CBC API access guide (reference 001).
STATUS_HINTS = {
    400: ("the request contains unexpected or missing parameters",
          "check the task's options against the module documentation"),
    401: ("authentication failed: the token is wrong or malformed, or the key's access level does not allow this API",
          "check that token is SECRET_KEY/API_ID (secret first, then the API ID) with your own values, "
          "and that url and org_key belong to the key's organization"),
    403: ("the credentials are valid but lack the RBAC permission for this call",
          "add the permission to the key's Custom access level (or the OAuth app's role), "
          "or use a key of the right type"),
    404: ("the object or organization was not found",
          "verify the object was not deleted and that org_key is correct (no < > or { } brackets)"),
    405: ("the server does not support this method on this route",
          "check that url is your CBC console host (e.g. https://defense-prod05.conferdeploy.net) "
          "and compare verb and route with the API documentation"),
    409: ("the name already exists or contains an unacceptable character",
          "choose another name (replace spaces with underscores)"),
    410: ("this API was deactivated",
          "use its replacement; see the Carbon Black Cloud migration guides"),
    429: ("the CBC rate limit was exceeded and retries ran out",
          "run fewer tasks in parallel (forks, serial), or raise retries or retry_max_wait"),
    500: ("an unexpected error occurred on the CBC server",
          "try again; if it happens consistently, open a support case"),
    502: ("the CBC gateway did not get an answer from the service",
          "try again later"),
    503: ("the CBC service is unavailable or busy",
          "try again later"),
    504: ("the CBC gateway timed out",
          "try again later or narrow the request"),
}


def status_hint(status):
    """Return ``(reason, fix)`` for an HTTP status, or a generic pair."""
    if status in STATUS_HINTS:
        return STATUS_HINTS[status]
    if status is not None and status >= 500:
        return STATUS_HINTS[500]
    return ("the API rejected the request", "check the task's options against the module documentation")


class CbcError(Exception):
    """Base of every carbonblack.cloud error; ``str()`` is one line."""


class CbcConfigError(CbcError):
    """Bad or missing input, found before any request is sent."""


class CbcConnectionError(CbcError):
    """The server could not be reached: DNS, refused connection, TLS, proxy or timeout.

    ``retryable`` says whether sending the same request again may help; ``sent`` whether the request
    may have reached the server (a dropped connection or a read timeout, as opposed to a connection
    that was never made); ``kind`` is ``timeout``, ``dropped`` or ``connect``.
    """

    def __init__(self, message, retryable=False, sent=False, kind="connect"):
        self.retryable = retryable
        self.sent = sent
        self.kind = kind
        super(CbcConnectionError, self).__init__(message)


class CbcWriteOutcomeUnknown(CbcError):
    """A write reached the server (or may have), but its answer was lost: a dropped connection, a read
    timeout or a 5xx. The server may or may not have applied it; the caller reconciles with a read.

    ``may_resend`` is false after a read timeout (the server may still be applying the first one) and
    after an idempotent write whose retries ran out.
    """

    def __init__(self, method, path, cause, may_resend, attempts=1, elapsed=0.0):
        self.method = method
        self.path = path
        self.cause = cause
        self.may_resend = may_resend
        self.attempts = attempts
        self.elapsed = elapsed
        super(CbcWriteOutcomeUnknown, self).__init__(
            "%s %s: %s%s, so it is not known whether the server applied it"
            % (method, path, cause, attempts_text(attempts, elapsed)))


class CbcWriteUnconfirmed(CbcError):
    """A write whose outcome stayed unknown after reconciliation: it may have been applied."""


def attempts_text(attempts, elapsed):
    """`` after 6 attempts over 31.5 s`` (empty for a single attempt)."""
    if attempts <= 1:
        return ""
    return " after %d attempts over %.1f s" % (attempts, elapsed)


class CbcApiError(CbcError):
    """The API answered with an error status.

    ``permission`` names the RBAC permission the call needs, when known, so a
    403 can say exactly what to grant.
    """

    def __init__(self, method, path, status, message=None, permission=None, attempts=1, elapsed=0.0):
        self.method = method
        self.path = path
        self.status = status
        self.api_message = _one_line(message)
        self.permission = permission
        self.attempts = attempts
        self.elapsed = elapsed
        self.reason, self.fix = status_hint(status)
        if status == 403 and permission:
            self.reason = "the credentials are valid but lack the RBAC permission %s" % permission
            self.fix = "grant %s in the key's Custom access level (or the OAuth app's role)" % permission
        super(CbcApiError, self).__init__(self._render())

    @property
    def hint(self):
        """Reason and fix, without the request line."""
        return "%s. Fix: %s" % (self.reason, self.fix)

    def _render(self):
        text = "%s %s returned HTTP %s" % (self.method, self.path, self.status)
        if self.api_message:
            text += " (%s)" % self.api_message
        return "%s%s: %s." % (text, attempts_text(self.attempts, self.elapsed), self.hint)


class CbcRetryAfterTooLong(CbcApiError):
    """HTTP 429 whose Retry-After asks for a longer wait than the retry budget has left."""

    def __init__(self, method, path, retry_after, budget_left, max_wait, attempts=1, elapsed=0.0):
        self.retry_after = retry_after
        self.budget_left = budget_left
        self.max_wait = max_wait
        super(CbcRetryAfterTooLong, self).__init__(method, path, 429, None, attempts=attempts, elapsed=elapsed)

    def _render(self):
        needed = int(math.ceil(self.max_wait - self.budget_left + self.retry_after))
        if needed <= MAX_RETRY_MAX_WAIT:
            fix = "set retry_max_wait: %d or more, or run fewer tasks in parallel (forks, serial)" % needed
        else:
            fix = ("run the task later or fewer tasks in parallel (forks, serial); retry_max_wait allows at most %d s"
                   % MAX_RETRY_MAX_WAIT)
        return ("%s %s returned HTTP 429 and asked to wait %d s (Retry-After), more than the %d s of retry_max_wait "
                "left%s. Fix: %s" % (self.method, self.path, round(self.retry_after), max(0, int(self.budget_left)),
                                     attempts_text(self.attempts, self.elapsed), fix))


def _one_line(message, limit=300):
    if message is None:
        return None
    text = " ".join(str(message).split())
    if len(text) > limit:
        text = text[:limit] + "..."
    return text
