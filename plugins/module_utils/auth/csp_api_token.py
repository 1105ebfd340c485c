# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CSP personal API token, exchanged for an access token."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..services import CSP_API_TOKEN_PATH
from .csp_bearer import CspBearerAuth


class CspApiTokenAuth(CspBearerAuth):
    mode = "csp_api_token"
    exchange_path = CSP_API_TOKEN_PATH
    public_id = None

    def __init__(self, api_token, csp_url, use_cache=True, cache=None):
        super(CspApiTokenAuth, self).__init__(csp_url, use_cache=use_cache, cache=cache)
        self._api_token = api_token

    def credential_parts(self):
        return [self._api_token]

    def secret_values(self):
        return [self._api_token]

    def exchange_request(self):
        return {}, {"api_token": self._api_token}

    def describe(self):
        return "API token's user"
