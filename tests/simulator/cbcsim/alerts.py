"""Alerts v7: search and get, over an alert list that is empty unless tests add alerts."""

from cbcsim.protocol import Response, not_found
from cbcsim.routing import ORG
from cbcsim.search import SearchRequest

ALERT_BASE = "/api/alerts/v7/orgs/" + ORG + "/alerts"


def search_alerts(ctx):
    """``POST /api/alerts/v7/orgs/{org_key}/alerts/_search``."""
    request = SearchRequest(ctx.json(default={}))
    org = ctx.state.org(ctx.org_key)
    with ctx.state.lock:
        found = request.select(org.alerts)
        return Response(200, {"results": request.page(found), "num_found": len(found), "num_available": len(found)})


def get_alert(ctx):
    """``GET /api/alerts/v7/orgs/{org_key}/alerts/{alert_id}``."""
    org = ctx.state.org(ctx.org_key)
    with ctx.state.lock:
        for alert in org.alerts:
            if str(alert.get("id")) == ctx.params["alert_id"]:
                return Response(200, alert)
    raise not_found("Alert {0} not found".format(ctx.params["alert_id"]))


def register(table):
    """Add the alert routes to ``table``."""
    table.add("POST", ALERT_BASE + r"/_search", search_alerts, "alerts.search", permission="org.alerts:READ")
    table.add("GET", ALERT_BASE + r"/(?P<alert_id>[^/_][^/]*)", get_alert, "alerts.get", permission="org.alerts:READ")
