# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CSP OAuth App: client-credentials grant with HTTP Basic auth."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

from ..services import CSP_OAUTH_TOKEN_PATH
from .csp_bearer import CspBearerAuth


class CspOAuthAppAuth(CspBearerAuth):
    mode = "csp_oauth_app"
    exchange_path = CSP_OAUTH_TOKEN_PATH

    def __init__(self, app_id, app_secret, csp_url, use_cache=True, cache=None):
        super(CspOAuthAppAuth, self).__init__(csp_url, use_cache=use_cache, cache=cache)
        self.app_id = app_id
        self._app_secret = app_secret

    @property
    def public_id(self):
        return self.app_id

    def credential_parts(self):
        return [self.app_id, self._app_secret]

    def secret_values(self):
        return [self._app_secret]

    def exchange_request(self):
        basic = base64.b64encode(("%s:%s" % (self.app_id, self._app_secret)).encode("utf-8")).decode("ascii")
        return {"Authorization": "Basic " + basic}, {"grant_type": "client_credentials"}

    def describe(self):
        return "OAuth app %s" % self.app_id
