# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is secret in the settings, and how it is kept out of output: the one list of secret keys, the values a
module adds to ``no_log_values``, and the redaction of credentials in a URL shown in a message."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from urllib.parse import urlparse

# The secret settings of every product: a CBC API key, a CSP OAuth app secret or API token, an on-prem API token.
SECRET_KEYS = ("token", "csp_oauth_app_secret", "csp_api_token")

_URL_CREDENTIALS_RE = re.compile(r"//[^/@]*@")


def redact_url(url):
    """``url`` with any ``user:password@`` replaced by ``***@``, for messages."""
    return _URL_CREDENTIALS_RE.sub("//***@", url or "")


def secret_values(settings):
    """The values to mask wherever they might appear: the secret settings (also when read from a profile or the
    environment) and the password of a proxy URL."""
    values = [settings[key] for key in SECRET_KEYS if settings.get(key)]
    try:
        proxy_password = urlparse(settings.get("proxy") or "").password
    except ValueError:
        proxy_password = None
    if proxy_password:
        values.append(proxy_password)
    return values
