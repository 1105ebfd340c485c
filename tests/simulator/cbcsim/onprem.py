"""On-premises products (``--product edr`` or ``--product app_control``): one product per simulator process.

The server asks this module for the product's routes (instead of the CBC ones), and checks a route registered with
``auth=onprem.AUTH`` through :func:`check_access`: ``X-Auth-Token: <user API token>``, no org key in URLs. The
product modules (``onprem_edr``, ``onprem_appcontrol``) hold the users, the routes and the answers; the control API
gets ``/_sim/onprem`` calls (state, settings such as App Control's ``edr_url``, more users or tokens).
See ``tests/simulator/README.md``, section "On-premises products".
"""

from cbcsim import onprem_appcontrol, onprem_edr
from cbcsim.protocol import Response, bad_request
from cbcsim.routing import RouteTable

CBC = "cbc"
EDR = onprem_edr.PRODUCT
APP_CONTROL = onprem_appcontrol.PRODUCT
PRODUCTS = (CBC, EDR, APP_CONTROL)
#: The ``auth`` kind of on-prem routes (the CBC routes use ``"cbc"``).
AUTH = "onprem"
MODULES = {EDR: onprem_edr, APP_CONTROL: onprem_appcontrol}


def new_state(config, started):
    """Return the product state for ``config.product`` (None for CBC)."""
    product = getattr(config, "product", CBC)
    if product == EDR:
        return onprem_edr.EdrState(config)
    if product == APP_CONTROL:
        return onprem_appcontrol.AppControlState(config, started)
    return None


def build_api_routes(product):
    """Return the RouteTable of an on-prem product."""
    table = RouteTable()
    MODULES[product].register(table, AUTH)
    return table


def check_access(ctx, permission):
    """Authenticate the request's ``X-Auth-Token`` and check ``permission``; raise the product's 401/403/405.

    Sets ``ctx.auth_label`` (``token:<username>``) first, so that a rejected request is logged with it."""
    product_state = ctx.state.onprem
    ctx.auth_label = product_state.claimed_auth_label(ctx.headers)
    ctx.identity = product_state.authenticate(ctx.headers)
    product_state.authorize(ctx, ctx.identity, permission)


def describe(ctx):
    """``GET /_sim/onprem``: product, settings, users (without tokens)."""
    with ctx.state.lock:
        return Response(200, ctx.state.onprem.describe())


def update_settings(ctx):
    """``POST /_sim/onprem/settings``: change settings (EDR: ``server_version``, ``denied_status``, ``cblr_enabled``,
    ``platformserver``; App Control: ``edr_url``, ``server_version``) until the next reset."""
    data = ctx.json(default={})
    with ctx.state.lock:
        try:
            return Response(200, ctx.state.onprem.update_settings(data))
        except ValueError as exc:
            raise bad_request(str(exc)) from None


def add_user(ctx):
    """``POST /_sim/onprem/users``: add a user (EDR: ``username``, ``token``, ``global_admin``, ...) or a console
    user's token (App Control: ``name``, ``token``, ``permissions``) until the next reset."""
    data = ctx.json(default={})
    with ctx.state.lock:
        try:
            return Response(201, ctx.state.onprem.add_from_dict(data))
        except ValueError as exc:
            raise bad_request(str(exc)) from None


def register_control(table, product):
    """Add the ``/_sim/onprem`` control calls for an on-prem product (none for CBC)."""
    if product == CBC:
        return
    table.add("GET", r"/_sim/onprem", describe, "sim.onprem", auth="none")
    table.add("POST", r"/_sim/onprem/settings", update_settings, "sim.onprem.settings", auth="none")
    table.add("POST", r"/_sim/onprem/users", add_user, "sim.onprem.users", auth="none")
