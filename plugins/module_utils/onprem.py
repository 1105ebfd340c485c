# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The on-premises products, Carbon Black EDR (CB Response) and App Control (CB Protection): their settings and
the user API token they authenticate with (``X-Auth-Token: <token>``, no org key), as the legacy cbapi library
reads and sends them (../shared/docs/cb-onprem-facts.md sections 1 and 4). The HTTP client is the CBC one."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from .credentials import CredentialError, legacy_environment_credentials, load_profile
from .errors import CbcConfigError
from .redaction import redact_url

PRODUCTS = ("cbc", "edr", "app_control")
# The cbapi product each on-prem product's credential file is named after (credentials.response / .protection).
LEGACY_PRODUCTS = {"edr": "response", "app_control": "protection"}
PRODUCT_NAMES = {"edr": "Carbon Black EDR", "app_control": "Carbon Black App Control"}
# cbapi: CbResponseAPI waits 120 s ("2x the default nginx timeout"); CbProtectionAPI sets none, where ours stays
# bounded by the module's own default.
DEFAULT_TIMEOUTS = {"edr": 120}
ONPREM_KEYS = ("url", "token", "ssl_verify", "ssl_verify_hostname", "ssl_cert_file", "ssl_force_tls_1_2", "proxy",
               "ignore_system_proxy", "integration")
_BOOLEANS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}
_URL_RE = re.compile(r"^https://[^/\s?#@]+/?$")


class OnPremTokenAuth:
    """An EDR or App Control user's API token, sent as ``X-Auth-Token``; it cannot be renewed."""

    mode = "user_token"
    public_id = None

    def __init__(self, token):
        self._token = token

    def secret_values(self):
        return [self._token]

    def headers(self, client):
        return {"X-Auth-Token": self._token}

    def refresh(self, client):
        return False


def _boolean(value, key, source):
    if isinstance(value, bool) or value is None:
        return value
    word = str(value).strip().lower()
    if word in _BOOLEANS:
        return _BOOLEANS[word]
    raise CbcConfigError("%s in %s is %r, not true or false. Fix: use true or false" % (key, source, value))


def resolve_onprem_settings(params, product, environ=None, warn=None):
    """Settings for ``product`` (edr or app_control): task arguments > what cbapi reads, which is the environment
    (``CBAPI_URL`` and ``CBAPI_TOKEN`` both set, no ``credential_file``: the profile name is then ignored, as in
    cbapi) or else the credential profile (``credentials.response`` or ``.protection``, ``default`` unless named)
    > cbapi's defaults. With ``url`` and ``token`` both in the task, nothing else is read."""
    explicit = dict((key, params[key]) for key in ONPREM_KEYS if params.get(key) is not None)
    settings = {"ssl_verify": True, "ssl_verify_hostname": True, "ssl_force_tls_1_2": False, "ignore_system_proxy": False}
    if not (explicit.get("url") and explicit.get("token")):
        from_env = legacy_environment_credentials(credential_file=params.get("credential_file") or None,
                                                  environ=environ)
        if from_env is not None:
            settings.update(_converted(from_env, "CBAPI_* environment variables"))
        else:
            settings.update(_profile(params, product, warn))
    settings.update(explicit)
    settings["org_key"] = None
    return settings


def _profile(params, product, warn):
    name = params.get("profile") or "default"
    try:
        values = load_profile(name, credential_file=params.get("credential_file") or None,
                              product=LEGACY_PRODUCTS[product], fill_defaults=False, warn=warn)
    except CredentialError as error:
        raise CbcConfigError("no %s credentials: %s Fix: set url and token, or a profile in credentials.%s"
                             % (PRODUCT_NAMES[product], error, LEGACY_PRODUCTS[product]))
    return _converted(values, "profile %s of credentials.%s" % (name, LEGACY_PRODUCTS[product]))


def _converted(values, source):
    """cbapi's values (strings from a file or the environment) as settings."""
    settings = {}
    for key in ("url", "token", "ssl_cert_file", "proxy"):
        if values.get(key):
            settings[key] = values[key]
    for key in ("ssl_verify_hostname", "ssl_force_tls_1_2", "ignore_system_proxy"):
        if values.get(key) not in (None, ""):
            settings[key] = _boolean(values[key], key, source)
    verify = values.get("ssl_verify")
    if verify not in (None, ""):
        word = str(verify).strip().lower()
        # cbapi keeps a value that is not a boolean word as the CA bundle path passed to requests.
        if isinstance(verify, bool) or word in _BOOLEANS:
            settings["ssl_verify"] = verify if isinstance(verify, bool) else _BOOLEANS[word]
        else:
            settings["ssl_verify"] = True
            settings["ssl_cert_file"] = verify
    return settings


def validate_onprem_settings(settings, product):
    """Raise CbcConfigError naming what to fix; never echoes the token."""
    name = PRODUCT_NAMES[product]
    url = settings.get("url")
    if not url:
        raise CbcConfigError("url is not set. Fix: set url to your %s server, e.g. https://cb.example.com" % name)
    if not url.lower().startswith("https://") or not _URL_RE.match(url):
        raise CbcConfigError("url %s is not https://host[:port]. Fix: give the %s server's base URL with the protocol "
                             "and host (and port) only, as cbapi requires" % (redact_url(url), name))
    token = settings.get("token")
    if not token:
        raise CbcConfigError("token is not set. Fix: set token to the %s user's API token (from the user's profile "
                             "page in the console)" % name)
    if re.search(r"\s", token) or "/" in token:
        raise CbcConfigError("token is not an %s API token (it has spaces or a '/'; SECRET_KEY/API_ID is a CBC API "
                             "key). Fix: copy the user's API token from the %s console" % (name, name))
    cert = settings.get("ssl_cert_file")
    if cert and settings.get("ssl_verify") is not False and not os.path.isfile(cert):
        raise CbcConfigError("ssl_cert_file %s does not exist or is not a file. Fix: point it at the server's PEM "
                             "certificate or CA bundle" % cert)
    proxy = settings.get("proxy")
    if proxy and not re.match(r"^(https?|socks5h?)://", proxy):
        raise CbcConfigError("proxy must be a URL such as http://proxy.example.com:3128. Fix: add the scheme")
    return settings
