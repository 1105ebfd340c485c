# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CBC API key auth: ``X-Auth-Token: SECRET/API_ID`` on every request."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ApiKeyAuth:
    mode = "api_key"

    def __init__(self, token):
        self._token = token

    @property
    def public_id(self):
        """The API ID, the public half of the token."""
        return self._token.rsplit("/", 1)[-1]

    def secret_values(self):
        return [self._token, self._token.split("/", 1)[0]]

    def headers(self, client):
        return {"X-Auth-Token": self._token}

    def refresh(self, client):
        """An API key cannot be renewed: a 401 is final."""
        return False
