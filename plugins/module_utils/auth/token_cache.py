# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-user cache of CSP access tokens, shared by every task of a playbook run.

Each Ansible task is a new process, so an in-memory token dies with the task.
To make one CSP token exchange per credential set for the token's lifetime,
the access token is kept in ``<cache dir>/<sha256 of the credential set>.json``
(directory 0700, file 0600, written atomically) and reused until shortly
before it expires. An exclusive lock around "read, exchange if needed, write"
keeps parallel forks from exchanging the same credentials at once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import hashlib
import json
import os
import tempfile
import time

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows hosts lose only the lock, not the cache
    fcntl = None

# A cached token is not handed out when it has less than this many seconds left.
EXPIRY_MARGIN = 60


def default_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "carbonblack.cloud", "csp-tokens")


def cache_key(*parts):
    """A stable, non-reversible file name for a credential set."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update((part or "").encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


class TokenCache:
    def __init__(self, directory=None):
        self.directory = directory or default_cache_dir()

    def _path(self, key, suffix=".json"):
        return os.path.join(self.directory, key + suffix)

    def _ensure_dir(self):
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        os.chmod(self.directory, 0o700)

    @contextlib.contextmanager
    def locked(self, key):
        """Hold an exclusive lock for one credential set (no-op without fcntl)."""
        self._ensure_dir()
        if fcntl is None:
            yield
            return
        fd = os.open(self._path(key, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def get(self, key, now=None):
        """Return a still-valid access token, or None."""
        now = time.time() if now is None else now
        try:
            with open(self._path(key)) as handle:
                entry = json.load(handle)
            if entry["expires_at"] - EXPIRY_MARGIN > now:
                return entry["access_token"]
        except (OSError, IOError, ValueError, KeyError, TypeError):
            pass
        return None

    def put(self, key, access_token, expires_at):
        self._ensure_dir()
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump({"access_token": access_token, "expires_at": expires_at}, handle)
            os.rename(tmp, self._path(key))
        except Exception:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def discard(self, key):
        try:
            os.unlink(self._path(key))
        except OSError:
            pass
