"""Data Forwarder v2: the read-only config list (a bare JSON array; empty by default).

Later work adds create/update/delete/health_check here.
"""

from cbcsim.protocol import Response
from cbcsim.routing import ORG

FORWARDER_BASE = "/data_forwarder/v2/orgs/" + ORG + "/configs"


def list_forwarders(ctx):
    """``GET /data_forwarder/v2/orgs/{org_key}/configs`` (trailing slash accepted)."""
    org = ctx.state.org(ctx.org_key)
    with ctx.state.lock:
        return Response(200, list(org.forwarders))


def register(table):
    """Add the data-forwarder routes to ``table``."""
    table.add("GET", FORWARDER_BASE + r"/?", list_forwarders, "forwarders.list", permission="event-forwarder.settings:READ")
