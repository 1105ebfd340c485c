# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What both CSP auth methods share: exchange for a bearer token, honour
``expires_in``, reuse it through the token cache, renew once on a 401."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ..errors import CbcConfigError
from .token_cache import TokenCache, cache_key


class CspBearerAuth:
    """Base class; subclasses say how the exchange request looks."""

    mode = None
    exchange_path = None

    def __init__(self, csp_url, use_cache=True, cache=None):
        self.csp_url = csp_url.rstrip("/")
        self.cache = (cache or TokenCache()) if use_cache else None
        self._access_token = None
        self._expires_at = 0
        self.exchanges = 0

    # -- to be provided by subclasses ------------------------------------
    def exchange_request(self):
        """Return ``(headers, form data)`` for the token request."""
        raise NotImplementedError

    def credential_parts(self):
        """The values that identify this credential set (hashed for the cache)."""
        raise NotImplementedError

    def secret_values(self):
        raise NotImplementedError

    # --------------------------------------------------------------------
    @property
    def _cache_key(self):
        return cache_key(self.mode, self.csp_url, *self.credential_parts())

    def headers(self, client):
        if not self._access_token or self._expires_at - 30 <= time.time():
            self._obtain(client, force=False)
        return {"Authorization": "Bearer " + self._access_token}

    def refresh(self, client):
        """Get a new token after a 401; the caller retries once."""
        self._obtain(client, force=True)
        return True

    def _obtain(self, client, force):
        if self.cache is None:
            self._exchange(client)
            return
        key = self._cache_key
        try:
            with self.cache.locked(key):
                cached = None if force else self.cache.get(key)
                if cached:
                    self._access_token = cached
                    self._expires_at = time.time() + 60
                    return
                self._exchange(client)
                self.cache.put(key, self._access_token, self._expires_at)
        except (OSError, IOError) as exc:
            client.warn("the CSP token cache in %s is not usable (%s); exchanging a token for this task only"
                        % (self.cache.directory, exc.strerror or exc))
            self.cache = None
            if not self._access_token or force:
                self._exchange(client)

    def _exchange(self, client):
        headers, data = self.exchange_request()
        body = client.csp_token_request(self.csp_url + self.exchange_path, headers, data, self.mode)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise CbcConfigError("the CSP token exchange at %s returned no access_token. Fix: check csp_url_override "
                                 "points at your Cloud Services Platform (default https://console.cloud.vmware.com)"
                                 % self.csp_url)
        if not body.get("scope"):
            raise CbcConfigError("the CSP token exchange at %s returned a token with an empty scope. Fix: give the %s "
                                 "a role with Carbon Black Cloud permissions" % (self.csp_url, self.describe()))
        try:
            lifetime = int(body.get("expires_in") or 1800)
        except (TypeError, ValueError):
            lifetime = 1800
        self._access_token = token
        self._expires_at = time.time() + lifetime
        self.exchanges += 1

    def describe(self):
        return "credentials"
