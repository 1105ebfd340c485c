# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Auth methods: each turns credentials into request headers, nothing else."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .api_key import ApiKeyAuth
from .csp_api_token import CspApiTokenAuth
from .csp_oauth_app import CspOAuthAppAuth
from ..services import CSP_DEFAULT_URL


def select_auth(settings, use_cache=True):
    """Pick the auth method like the SDK: token > csp_api_token > OAuth app id + secret.

    ``settings`` must have passed ``settings.validate_settings``.
    """
    csp_url = settings.get("csp_url_override") or CSP_DEFAULT_URL
    if settings.get("token"):
        return ApiKeyAuth(settings["token"])
    if settings.get("csp_api_token"):
        return CspApiTokenAuth(settings["csp_api_token"], csp_url, use_cache=use_cache)
    return CspOAuthAppAuth(settings["csp_oauth_app_id"], settings["csp_oauth_app_secret"], csp_url, use_cache=use_cache)
