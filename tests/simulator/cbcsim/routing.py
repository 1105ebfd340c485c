"""Route table: maps (method, path regex) to a handler, grouped by API.

Each API module (devices, policies, ...) has a ``register(table)`` function that adds its routes.
A route carries what the server needs before it calls the handler: the ``api`` label written to
the request log, the RBAC permission the caller needs, whether the call changes state (``write``)
and how the caller authenticates (``auth``: ``"cbc"`` for X-Auth-Token/Bearer, ``"none"`` for the
CSP token endpoints and the control API, which check credentials themselves or not at all).
"""

import re

from cbcsim.protocol import ApiError

#: Regex fragment for the ``{org_key}`` path segment.
ORG = r"(?P<org_key>[A-Za-z0-9_-]+)"


class Route:
    """One route: method, compiled full-match path regex, handler and metadata."""

    def __init__(self, method, pattern, handler, api, permission=None, write=False, auth="cbc"):
        self.method = method.upper()
        self.pattern = re.compile(pattern)
        self.handler = handler
        self.api = api
        self.permission = permission
        self.write = write
        self.auth = auth

    def __repr__(self):
        return "Route({0} {1} -> {2})".format(self.method, self.pattern.pattern, self.api)


class RouteTable:
    """An ordered list of routes; the first route whose regex fully matches the path wins."""

    def __init__(self):
        self.routes = []

    def add(self, method, pattern, handler, api, permission=None, write=False, auth="cbc"):
        """Add a route and return it."""
        route = Route(method, pattern, handler, api, permission=permission, write=write, auth=auth)
        self.routes.append(route)
        return route

    def resolve(self, method, path):
        """Return ``(route, params)`` for a request.

        Raises ApiError 404 if no route matches the path and 405 (with an ``Allow`` header) if
        the path is known but not for this method.
        """
        allowed = []
        for route in self.routes:
            match = route.pattern.fullmatch(path)
            if not match:
                continue
            if route.method == method.upper():
                return route, match.groupdict()
            if route.method not in allowed:
                allowed.append(route.method)
        if allowed:
            raise ApiError(405, "METHOD_NOT_ALLOWED", "Method {0} is not allowed for {1}".format(method, path),
                           headers={"Allow": ", ".join(allowed)})
        raise ApiError(404, "NOT_FOUND", "No such API endpoint: {0} {1}".format(method, path))

    def find_api(self, method, path):
        """Return the api label of the route matching the request, or None (never raises)."""
        try:
            route, _params = self.resolve(method, path)
        except ApiError:
            return None
        return route.api
