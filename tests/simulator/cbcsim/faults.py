"""Fault injection: rules that match requests by path regex (and method) and answer a status,
add latency, or drop the connection, a limited number of times or forever; with ``apply`` the
request is handled first (the write happens) and only its answer is dropped, replaced or delayed.

CLI spec syntax (``--fault``): comma-separated ``key=value`` pairs, e.g.
``path=devices/_search,status=429,retry_after=1,count=3``. Keys: ``path`` (regex searched in the
URL path), ``method``, ``status``, ``retry_after`` (seconds, sets the Retry-After header),
``latency_ms``, ``drop`` (bare or ``drop=true``), ``apply`` (bare or ``apply=true``: handle the
request normally first, then drop/replace/delay the answer), ``count`` (times to fire; default every time),
``after`` (let the first N matching requests pass untouched, then start firing; default 0),
``error_code`` and ``message`` (body of a status fault), ``name`` (label in the request log),
``probability`` (0 < p <= 1: a matching request is faulted with this chance, default 1) and ``seed``
(an integer that makes the random draws of a rule repeatable).
The control API takes the same keys as a JSON object, plus ``body`` (any JSON body).
"""

import itertools
import random
import re
import threading

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_INT_KEYS = ("status", "retry_after", "latency_ms", "count", "after")
_BOOL_KEYS = ("drop", "apply")
_INT_KEYS = _INT_KEYS + ("seed",)
_KNOWN_KEYS = ("path", "method", "status", "retry_after", "latency_ms", "drop", "apply", "count", "after", "error_code", "message",
               "name", "body", "probability", "seed")
_IDS = itertools.count(1)


class FaultRule:
    """One fault rule: which requests it matches, what it does, and how many uses are left.

    ``after`` matching requests pass untouched first (the rule is not live yet); then the rule
    fires ``count`` times (or forever).

    Without ``apply`` the fault acts before routing (latency before handling). With ``apply`` the
    server handles the request first (the write is applied) and the fault then acts on the answer:
    ``drop`` closes the connection, ``status`` replaces the real response, ``latency_ms`` delays it.
    """

    def __init__(self, path=".*", method=None, status=None, retry_after=None, latency_ms=None, drop=False,
                 count=None, error_code=None, message=None, name=None, body=None, after=0, apply=False,
                 probability=1.0, seed=None):
        try:
            self.path = re.compile(path)
        except re.error as exc:
            raise ValueError("invalid path regex {0!r}: {1}".format(path, exc)) from None
        self.method = method.upper() if method else None
        self.status = status
        self.retry_after = retry_after
        self.latency_ms = latency_ms
        self.drop = bool(drop)
        self.apply = bool(apply)
        self.probability = float(probability)
        if not 0.0 < self.probability <= 1.0:
            raise ValueError("probability must be above 0 and at most 1")
        self.random = random.Random(seed)
        self.count = count
        self.after = after
        self.body = body
        if status is not None and not 100 <= status <= 599:
            raise ValueError("status must be between 100 and 599")
        if count is not None and count < 1:
            raise ValueError("count must be at least 1")
        if after < 0:
            raise ValueError("after must not be negative")
        if latency_ms is not None and latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        if status is None and not latency_ms and not self.drop:
            raise ValueError("a fault needs status, latency_ms or drop")
        if self.drop and status is not None:
            raise ValueError("drop and status cannot be combined")
        if status is not None and body is None and status != 204:
            self.body = {"error_code": error_code or "SIMULATED_FAULT",
                         "message": message or "Simulated fault: HTTP {0}".format(status)}
        self.id = next(_IDS)
        self.name = name or self._auto_name()

    def _auto_name(self):
        if self.drop:
            kind = "drop"
        elif self.status is not None:
            kind = "status={0}".format(self.status)
        else:
            kind = "latency_ms={0}".format(self.latency_ms)
        if self.apply:
            kind += "+apply"
        return "{0}#{1}".format(kind, self.id)

    def matches(self, method, path):
        """Return True if the rule applies to the request (ignoring the remaining count)."""
        return (self.method is None or self.method == method.upper()) and self.path.search(path) is not None

    def describe(self):
        """Return the rule as a JSON-serializable dict."""
        return {"id": self.id, "name": self.name, "path": self.path.pattern, "method": self.method, "status": self.status,
                "retry_after": self.retry_after, "latency_ms": self.latency_ms, "drop": self.drop,
                "apply": self.apply, "remaining": self.count, "after": self.after, "body": self.body,
                "probability": self.probability}


def _coerce(key, value):
    if key in _INT_KEYS:
        if isinstance(value, bool):
            raise ValueError("{0} must be an integer".format(key))
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError("{0} must be an integer, not {1!r}".format(key, value)) from None
    if key == "probability":
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError("probability must be a number, not {0!r}".format(value)) from None
    if key in _BOOL_KEYS:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("{0} must be true or false, not {1!r}".format(key, value))
    return value


def rule_from_dict(data):
    """Build a FaultRule from a JSON object; raises ValueError when invalid."""
    if not isinstance(data, dict):
        raise ValueError("a fault rule must be a JSON object")
    unknown = sorted(set(data) - set(_KNOWN_KEYS))
    if unknown:
        raise ValueError("unknown fault key(s): {0}".format(", ".join(unknown)))
    return FaultRule(**{key: _coerce(key, value) for key, value in data.items() if value is not None})


def parse_fault_spec(spec):
    """Parse a CLI ``--fault`` spec such as ``path=devices/_search,status=429,count=3`` into a FaultRule."""
    data = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep:
            if key in _BOOL_KEYS:
                data[key] = True
                continue
            raise ValueError("fault spec item {0!r} is not key=value".format(part))
        data[key] = value.strip()
    return rule_from_dict(data)


class FaultInjector:
    """Thread-safe list of live fault rules."""

    def __init__(self, rules=()):
        self._lock = threading.Lock()
        self._rules = list(rules)

    def add(self, rule):
        """Append a rule (earlier rules are checked first)."""
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self):
        """Remove every rule; return how many there were."""
        with self._lock:
            count = len(self._rules)
            self._rules = []
        return count

    def rules(self):
        """Return descriptions of the live rules."""
        with self._lock:
            return [rule.describe() for rule in self._rules]

    def match(self, method, path):
        """Return the first live rule for the request and consume one of its uses; None if none.

        A matching rule that still has requests to let pass (``after``) counts this one down and
        does not fire; later rules may still match the request.
        """
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    if rule.after > 0:
                        rule.after -= 1
                        continue
                    if rule.probability < 1.0 and rule.random.random() >= rule.probability:
                        continue
                    if rule.count is not None:
                        rule.count -= 1
                        if rule.count <= 0:
                            self._rules.remove(rule)
                    return rule
        return None
