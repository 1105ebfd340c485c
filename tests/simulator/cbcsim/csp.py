"""CSP (VMware Cloud Services) token endpoints served on the simulator's own host.

Tests point ``csp_url_override`` at the simulator URL. Both endpoints answer the CSP
AccessToken JSON (``access_token``, ``expires_in``, ``id_token``, ``refresh_token``, ``scope``,
``token_type``) and errors as ``{"statusCode": N, "error_code": ..., "message": ...}``.
"""

import json
from urllib.parse import parse_qs

from cbcsim.auth import parse_basic_auth
from cbcsim.protocol import ApiError, Response


def csp_error(status, error_code, message):
    """Return an ApiError whose body also carries CSP's ``statusCode`` field."""
    return ApiError(status, error_code, message, extra={"statusCode": status})


def read_params(ctx):
    """Return the request parameters as a flat dict: query string, then form or JSON body."""
    params = {key: values[-1] for key, values in ctx.query.items()}
    body = ctx.raw_body.decode("utf-8", "replace") if ctx.raw_body else ""
    if not body.strip():
        return params
    if ctx.content_type() == "application/json" or body.lstrip().startswith("{"):
        try:
            data = json.loads(body)
        except ValueError:
            raise csp_error(400, "invalid_request", "Request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise csp_error(400, "invalid_request", "Request body must be a JSON object")
        params.update({key: value for key, value in data.items() if isinstance(value, str)})
    else:
        params.update({key: values[-1] for key, values in parse_qs(body, keep_blank_values=True).items()})
    return params


def oauth_token(ctx):
    """``POST /csp/gateway/am/api/auth/token``: client-credentials grant with Basic auth."""
    params = read_params(ctx)
    grant_type = params.get("grant_type")
    if not grant_type:
        raise csp_error(400, "invalid_request", "Missing required parameter grant_type")
    if grant_type != "client_credentials":
        raise csp_error(400, "unsupported_grant_type", "Unsupported grant_type {0!r}".format(grant_type))
    client_id, client_secret = parse_basic_auth(ctx.headers.get("Authorization"))
    if client_id is None:
        raise csp_error(401, "invalid_client", "Missing or malformed Basic authorization for the OAuth client")
    ctx.auth_label = "csp_basic:" + client_id
    identity = ctx.state.identities.oauth_app(client_id, client_secret)
    if identity is None:
        raise csp_error(401, "invalid_client", "Invalid client credentials for client {0}".format(client_id))
    ctx.identity = identity
    return Response(200, ctx.state.tokens.issue(identity))


def api_token_authorize(ctx):
    """``POST /csp/gateway/am/api/auth/api-tokens/authorize``: exchange an API token or refresh token."""
    params = read_params(ctx)
    value = params.get("api_token") or params.get("refresh_token")
    if not value:
        raise csp_error(400, "invalid_request", "Missing required parameter api_token or refresh_token")
    identity = ctx.state.identities.api_token(value) or ctx.state.tokens.lookup_refresh(value)
    if identity is None:
        ctx.auth_label = "csp_api_token:<unknown>"
        raise csp_error(401, "invalid_grant", "Invalid or expired API token")
    ctx.auth_label = "csp_api_token:" + identity.name
    ctx.identity = identity
    return Response(200, ctx.state.tokens.issue(identity))


def register(table):
    """Add the CSP routes to ``table``."""
    table.add("POST", r"/csp/gateway/am/api/auth/token", oauth_token, "csp.oauth_token", auth="none")
    table.add("POST", r"/csp/gateway/am/api/auth/api-tokens/authorize", api_token_authorize, "csp.api_token", auth="none")
