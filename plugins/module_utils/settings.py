# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a module's connection settings come from, and checks made before any request.

Precedence: task arguments (and module_defaults) > credential profile > environment
(``CBC_<KEY>`` for every credential key, ``CBAPI_*`` after ``CBC_*`` for url, token, org_key and ssl_verify;
an empty variable counts as unset, see ``credentials.environment_settings``) > the SDK's defaults.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from .credentials import (CREDENTIAL_KEYS, MAX_DEFAULT_TIMEOUT, SDK_DEFAULTS, CredentialError, environment_settings,
                          load_profile)
from .errors import CbcConfigError
from .redaction import redact_url
from .validation import check_range

_URL_RE = re.compile(r"^https://[^/\s?#@]+/?$")
_TOKEN_RE = re.compile(r"^[^/\s]+/[^/\s]+$")
_ORG_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")

AUTH_HELP = ("set token (SECRET_KEY/API_ID), or csp_api_token, or csp_oauth_app_id and csp_oauth_app_secret; "
             "or name a credential profile; or export CBC_URL, CBC_TOKEN and CBC_ORG_KEY")


def _has_auth(values):
    return bool(values.get("token") or values.get("csp_api_token")
                or (values.get("csp_oauth_app_id") and values.get("csp_oauth_app_secret")))


def resolve_settings(params, environ=None, warn=None):
    """Merge the sources into one settings dict with the 15 credential keys."""
    explicit = dict((key, params[key]) for key in CREDENTIAL_KEYS if params.get(key) is not None)
    env = environment_settings(environ)
    profile_name = params.get("profile")
    credential_file = params.get("credential_file") or None
    stated = dict(env)
    stated.update(explicit)

    profile_values = {}
    if profile_name or credential_file:
        profile_values = load_profile(profile_name, credential_file=credential_file, fill_defaults=False, warn=warn)
    elif not (stated.get("url") and _has_auth(stated)):
        # Nothing complete was given: read the default profile, as the SDK would.
        try:
            profile_values = load_profile(None, fill_defaults=False, warn=warn)
        except CredentialError as exc:
            if not any(stated.get(key) for key in ("url", "token", "csp_api_token", "csp_oauth_app_id",
                                                   "csp_oauth_app_secret")):
                raise CbcConfigError("no complete CBC credentials were given (%s). Fix: %s" % (exc, AUTH_HELP))
            # Something was given: validate_settings names exactly what is missing.

    settings = dict(SDK_DEFAULTS)
    settings.update(env)
    settings.update(profile_values)
    settings.update(explicit)
    if settings.get("default_timeout") is not None:
        settings["default_timeout"] = min(int(settings["default_timeout"]), MAX_DEFAULT_TIMEOUT)
    return settings


def validate_settings(settings):
    """Raise CbcConfigError naming what to fix; never echoes a secret."""
    url = settings.get("url")
    if not url:
        raise CbcConfigError("url is not set. Fix: set url to your CBC console host, e.g. "
                             "https://defense-prod05.conferdeploy.net (or CBC_URL, or a profile)")
    if not url.lower().startswith("https://"):
        raise CbcConfigError("url %s does not start with https://. Fix: the CBC API is HTTPS only; use "
                             "https://<your console host>" % redact_url(url))
    if not _URL_RE.match(url):
        raise CbcConfigError("url %s is not a bare host. Fix: give only the console host, e.g. "
                             "https://defense-prod05.conferdeploy.net, without a path; modules add the API path" % redact_url(url))
    org_key = settings.get("org_key")
    if not org_key:
        raise CbcConfigError("org_key is not set. Fix: set org_key (Settings > General or API Access in the console)")
    if re.search(r"[<>{}]", org_key):
        raise CbcConfigError("org_key %s contains < > { } brackets. Fix: write the bare key, e.g. ABCD1234, "
                             "not <ABCD1234> or {ABCD1234}" % org_key)
    if not _ORG_KEY_RE.match(org_key):
        raise CbcConfigError("org_key %r contains spaces, slashes or other characters an org key never has. "
                             "Fix: copy the org key from Settings > General in the console" % org_key)
    token = settings.get("token")
    if token:
        if not _TOKEN_RE.match(token):
            raise CbcConfigError("token is not in the form SECRET_KEY/API_ID (the API secret key, one '/', then the "
                                 "API ID, no spaces). Fix: copy both parts from Settings > API Access > API Keys, "
                                 "secret first")
    elif settings.get("csp_api_token"):
        pass
    elif settings.get("csp_oauth_app_id") or settings.get("csp_oauth_app_secret"):
        missing = "csp_oauth_app_secret" if settings.get("csp_oauth_app_id") else "csp_oauth_app_id"
        if not (settings.get("csp_oauth_app_id") and settings.get("csp_oauth_app_secret")):
            raise CbcConfigError("%s is not set; an OAuth app needs both csp_oauth_app_id and csp_oauth_app_secret. "
                                 "Fix: set %s" % (missing, missing))
    else:
        raise CbcConfigError("no credentials are set. Fix: " + AUTH_HELP)
    csp_url = settings.get("csp_url_override")
    if csp_url and not csp_url.lower().startswith("https://"):
        raise CbcConfigError("csp_url_override %s does not start with https://. Fix: use e.g. "
                             "https://console.cloud.vmware.com" % csp_url)
    cert = settings.get("ssl_cert_file")
    if cert and settings.get("ssl_verify") is not False and not os.path.isfile(cert):
        raise CbcConfigError("ssl_cert_file %s does not exist or is not a file. Fix: point it at a PEM CA bundle" % cert)
    proxy = settings.get("proxy")
    if proxy and not re.match(r"^(https?|socks5h?)://", proxy):
        raise CbcConfigError("proxy must be a URL such as http://proxy.example.com:3128. Fix: add the scheme")
    check_range(settings.get("default_timeout"), "default_timeout", 1, unit="milliseconds",
                fix="remove it from the task or profile for the SDK's default of 300000")
    integration = settings.get("integration")
    if integration is not None and (not integration.strip() or len(integration) > 128
                                    or re.search(r"[\x00-\x1f\x7f]", integration)):
        raise CbcConfigError("integration must be a short name and version for the User-Agent, e.g. soc-automation/2.1 "
                             "(1 to 128 characters, no control characters). Fix: shorten or clean it")
    return settings
