# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one list of secret settings, and what a module masks from it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.carbonblack.cloud.plugins.module_utils.redaction import SECRET_KEYS, redact_url, secret_values


def test_every_secret_setting_and_the_proxy_password_are_masked():
    settings = {"url": "https://cbc.example.com", "token": "SECRET/ID", "csp_oauth_app_secret": "app-secret",
                "csp_api_token": "api-token", "csp_oauth_app_id": "app-id", "org_key": "ORG",
                "proxy": "http://user:proxy-pass@proxy.example.com:3128"}
    assert sorted(secret_values(settings)) == ["SECRET/ID", "api-token", "app-secret", "proxy-pass"]
    assert set(SECRET_KEYS) == {"token", "csp_oauth_app_secret", "csp_api_token"}


def test_unset_secrets_and_a_proxy_without_password_add_nothing():
    assert secret_values({"token": "", "csp_api_token": None, "proxy": "http://proxy.example.com:3128"}) == []
    assert secret_values({"proxy": "http://[bad"}) == []


def test_a_url_in_a_message_loses_its_credentials():
    assert redact_url("http://user:pw@proxy.example.com:3128") == "http://***@proxy.example.com:3128"
    assert redact_url("https://cbc.example.com/path") == "https://cbc.example.com/path"
    assert redact_url(None) == ""
