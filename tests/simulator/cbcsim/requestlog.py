"""JSON-lines request log: one line per API request, flushed per line, with secrets redacted."""

import json
import threading
from datetime import datetime, timezone

REDACTED = "***"
#: Body/query keys whose values are always replaced by ``***``.
SECRET_KEY_PARTS = ("secret", "token", "password", "authorization", "credential")


def is_secret_key(key):
    """Return True for a dict key whose value must never be logged."""
    lowered = str(key).lower()
    return any(part in lowered for part in SECRET_KEY_PARTS)


def redact(value):
    """Return a copy of a JSON-like value with the values of secret-looking keys replaced."""
    if isinstance(value, dict):
        return {key: (REDACTED if is_secret_key(key) else redact(item)) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def utc_timestamp():
    """Return the current time as ``2024-01-02T03:04:05.678Z``."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + "{0:03d}Z".format(now.microsecond // 1000)


class RequestLog:
    """Append-only JSONL writer; ``secrets`` is a callable returning strings that must never appear."""

    def __init__(self, path, secrets=None):
        self.path = path
        self._secrets = secrets or (lambda: [])
        self._lock = threading.Lock()
        self._handle = open(path, "a", encoding="utf-8")  # pylint: disable=consider-using-with

    def write(self, entry):
        """Write one entry as a JSON line and flush it."""
        line = json.dumps(entry, sort_keys=False, default=str)
        for secret in self._secrets():
            if secret and len(secret) >= 6 and secret in line:
                line = line.replace(secret, REDACTED)
        with self._lock:
            self._handle.write(line + "\n")
            self._handle.flush()

    def close(self):
        """Close the file."""
        with self._lock:
            self._handle.close()
