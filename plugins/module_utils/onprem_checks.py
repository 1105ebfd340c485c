# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Token checks of the on-premises products with one cheap read each (../shared/docs/cb-onprem-facts.md):
EDR's ``/api/info`` and its Global Administrator test, App Control's count queries and its ``CBServerUrl``.
No Ansible imports: ``client`` is a CbcClient built with an OnPremTokenAuth."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from urllib.parse import quote, urlsplit

from .errors import CbcApiError, CbcConfigError
from .validation import check_name

APP_CONTROL_BASE = "/api/bit9platform/v1"
# Objects a role commonly may read, each with the App Control permission its count query needs.
APP_CONTROL_OBJECTS = {
    "computer": "View computers",
    "policy": "View policies",
    "fileCatalog": "View files",
    "approvalRequest": "View approval requests",
}
SERVER_CONFIG_PERMISSION = "View system configuration"
GLOBAL_ADMIN_FIX = ("make that EDR user a Global Administrator (EDR console: Administration > Users, the Global "
                    "Administrator check box; the integration user also belongs in the Administrators team) and use "
                    "that user's API token, from the user's profile page")
# EDR answers 403 (7.x) or 405 (5.x) for a Global Administrator resource asked for by another user.
NOT_ADMIN_STATUSES = (403, 405)


def check_onprem_options(params, product):
    """Checks made before any request: the options that only CBC takes, the username and the object names."""
    if product == "cbc":
        return
    for option in ("org_key", "csp_oauth_app_id", "csp_oauth_app_secret", "csp_api_token", "csp_url_override"):
        if params.get(option):
            raise CbcConfigError("%s does not apply to product %s (its servers take a user API token and no org key). "
                                 "Fix: remove %s from the task, or use product: cbc" % (option, product, option))
    if params.get("username") is not None:
        check_name(params["username"], "username")
    objects = params.get("app_control_objects")
    if objects is not None:
        if not objects:
            raise CbcConfigError("app_control_objects is empty. Fix: name at least one object to count, e.g. computer")
        for index, name in enumerate(objects):
            if not isinstance(name, str) or not re.match(r"^[A-Za-z][A-Za-z0-9]*$", name):
                raise CbcConfigError("app_control_objects[%d] %r is not an App Control object name. Fix: use names such "
                                     "as computer, policy, fileCatalog" % (index, name))


def check_edr(client, username=None, require_global_admin=False):
    """Validate an EDR token (``GET /api/info``, with the server version) and find out whether its user is a Global
    Administrator: ``GET /api/user/<username>`` when a username is given, else ``GET /api/users`` (Global
    Administrators only)."""
    try:
        info = client.request("GET", "/api/info") or {}
    except CbcApiError as error:
        if error.status in (401, 403):
            raise CbcConfigError("the EDR server at %s refused the token (HTTP %s on /api/info). Fix: use the API "
                                 "token of an EDR user, from the user's profile page in the EDR console"
                                 % (client.url, error.status))
        raise
    result = {"product": "edr", "url": client.url, "version": info.get("version"), "username": username}
    if username:
        path = "/api/user/%s" % quote(username, safe="")
        source = "GET " + path
        try:
            user = client.request("GET", path) or {}
            global_admin = user.get("global_admin") is True
        except CbcApiError as error:
            if error.status not in NOT_ADMIN_STATUSES + (404,):
                raise
            global_admin = False
            if error.status == 404:
                raise CbcConfigError("the EDR server has no user %r (HTTP 404). Fix: give the username of the EDR user "
                                     "whose token this is" % username)
    else:
        source = "GET /api/users"
        try:
            client.request("GET", "/api/users")
            global_admin = True
        except CbcApiError as error:
            if error.status not in NOT_ADMIN_STATUSES:
                raise
            global_admin = False
    who = ("user %r" % username) if username else "the token's user"
    hint = None if global_admin else ("%s is not a Global Administrator of the EDR server at %s (%s), which the App "
                                      "Control integration needs. Fix: %s" % (who, client.url, source, GLOBAL_ADMIN_FIX))
    result.update(global_admin=global_admin, global_admin_source=source, global_admin_hint=hint)
    if require_global_admin and not global_admin:
        raise CbcConfigError(hint)
    return result


def check_app_control(client, objects=None):
    """Validate an App Control token with a count query (``?limit=-1``) per object, and read ``CBServerUrl`` and
    the server version from serverConfig when the role may. App Control answers 401 both for a bad token and for
    a missing permission, so a 401 is reported as either."""
    objects = list(objects or APP_CONTROL_OBJECTS)
    readable, probes = [], {}
    for name in objects:
        permission = APP_CONTROL_OBJECTS.get(name, "View " + name)
        try:
            body = client.request("GET", "%s/%s" % (APP_CONTROL_BASE, name), params={"limit": -1}) or {}
            probes[name] = {"readable": True, "count": body.get("count"), "http_status": 200, "permission": permission}
            readable.append(name)
        except CbcApiError as error:
            if error.status not in (401, 403):
                raise
            probes[name] = {"readable": False, "count": None, "http_status": error.status, "permission": permission}
    if not readable:
        raise CbcConfigError("the App Control server at %s answered HTTP 401 to every count query (%s): the token is "
                             "wrong, or its user's role may read none of these (App Control does not tell the two "
                             "apart). Fix: check the token (the console user's API token), and give the role the "
                             "View permission of at least one of them" % (client.url, ", ".join(objects)))
    config = {}
    config_status = 200
    try:
        for item in client.request("GET", APP_CONTROL_BASE + "/serverConfig") or []:
            if isinstance(item, dict) and item.get("name"):
                config[item["name"]] = item.get("value")
    except CbcApiError as error:
        if error.status not in (401, 403):
            raise
        config_status = error.status
    return {"product": "app_control", "url": client.url, "objects": probes, "readable": readable,
            "server_config_readable": config_status == 200, "server_config_permission": SERVER_CONFIG_PERMISSION,
            "version": config.get("ParityServerVersion"), "cb_server_url": config.get("CBServerUrl")}


def normalize_url(url):
    """``scheme://host[:port]`` lower-cased, without the default port, path or trailing slash (for comparing the EDR
    URL App Control is configured with against the EDR server in use)."""
    text = (url or "").strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is None or (scheme, port) in (("https", 443), ("http", 80)):
        return "%s://%s" % (scheme, host)
    return "%s://%s:%d" % (scheme, host, port)
