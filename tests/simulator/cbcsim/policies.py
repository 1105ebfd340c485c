"""Policy service v1: seeded policies and the read-only ``policies/summary`` route.

Later work adds the full policy CRUD routes here.
"""

from cbcsim.protocol import Response
from cbcsim.routing import ORG

POLICY_BASE = "/policyservice/v1/orgs/" + ORG + "/policies"

#: (name, description, priority_level, is_system) of the seeded policies, in position order.
SEED_POLICIES = (
    ("Standard", "Default policy with balanced prevention settings", "MEDIUM", True),
    ("Advanced", "Stricter prevention for servers and high-value assets", "HIGH", False),
    ("Monitored", "Observe-only policy: alerts without blocking", "LOW", False),
)


def seed_policies(id_base):
    """Return the seeded policy objects; ids are ``id_base + position``."""
    policies = []
    for position, (name, description, priority, is_system) in enumerate(SEED_POLICIES, start=1):
        policies.append({
            "id": id_base + position,
            "name": name,
            "description": description,
            "priority_level": priority,
            "is_system": is_system,
            "position": position,
            "version": 2,
        })
    return policies


def policy_summary(policy, devices):
    """Return the summary view of a policy, with ``num_devices`` counted from the device table."""
    count = sum(1 for device in devices.values() if device.get("policy_id") == policy["id"])
    summary = {key: policy.get(key) for key in ("id", "name", "description", "priority_level", "is_system", "position")}
    summary["num_devices"] = count
    return summary


def list_policy_summaries(ctx):
    """``GET /policyservice/v1/orgs/{org_key}/policies/summary``."""
    org = ctx.state.org(ctx.org_key)
    with ctx.state.lock:
        return Response(200, {"policies": [policy_summary(policy, org.devices) for policy in org.policies]})


def register(table):
    """Add the policy routes to ``table``."""
    table.add("GET", POLICY_BASE + r"/summary", list_policy_summaries, "policies.summary", permission="org.policies:READ")
