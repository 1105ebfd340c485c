"""Policy Service v1 (facts section 4): the routes (the summary, policy CRUD, the ``rules`` sub-resource,
``rule_configs`` by category, the configs presentation), ``register(table)``, and how a validated body changes a
stored policy. The seeded policies and the defaults of a new one are in ``policy_seed.py``; the checks of request
bodies in ``policy_validation.py``.

Choices where the facts are silent ([UNVERIFIED], listed in the README under Design choices):

* Names are not unique: POST and PUT accept a name another policy already has (the SDK does no
  uniqueness check either); clients must detect duplicates themselves.
* PUT is a full replace: a top-level setting missing from the body falls back to its default
  (empty list, default AV settings...). ``id``, ``org_key``, ``position``, ``is_system``,
  ``version`` and ``rule_configs`` are server-controlled and ignored in a PUT body; rule configs
  change only through ``/rule_configs/{category}``. Rules in a PUT keep their ``id``; rules without
  one get a new id; an id that is not in the policy is a 400.
* DELETE of a policy that still has devices succeeds (204) and the devices move to the org's
  system policy (Standard), as the console does. A system policy cannot be deleted (400).
* Two rules with the same application and operation in one policy are a 400.
"""

import copy

from cbcsim.policy_seed import RULE_CONFIG_CATEGORIES, new_policy, parameter_schema
from cbcsim.policy_validation import check_parameters, check_rule_unique, validate_policy_body, validate_rule
from cbcsim.protocol import Response, bad_request, not_found
from cbcsim.routing import ORG

POLICY_BASE = "/policyservice/v1/orgs/" + ORG + "/policies"
POLICY_ID = r"/(?P<policy_id>[0-9]+)"


def policy_summary(policy, devices):
    """Return the summary view of a policy, with ``num_devices`` counted from the device table."""
    count = sum(1 for device in devices.values() if device.get("policy_id") == policy["id"])
    summary = {key: policy.get(key) for key in ("id", "name", "description", "priority_level", "is_system", "position")}
    summary["num_devices"] = count
    return summary


def apply_body(policy, body, next_rule_id):
    """Replace the settable fields of ``policy`` from a validated body (missing fields → defaults)."""
    defaults = new_policy(policy["id"], policy["org_key"], body["name"], policy["position"])
    for key in ("name", "priority_level", "description", "auto_deregister_inactive_vdi_interval_ms",
                "auto_delete_known_bad_hashes_delay", "av_settings", "directory_action_rules", "sensor_settings",
                "managed_detection_response_permissions"):
        value = body.get(key)
        policy[key] = copy.deepcopy(value if value is not None else defaults[key])
    rules = []
    for rule in body.get("rules") or []:
        rule = copy.deepcopy(rule)
        if rule.get("id") is None:
            rule["id"] = next_rule_id
            next_rule_id += 1
        rules.append(rule)
    policy["rules"] = rules


def next_rule_id(policy):
    return max([rule["id"] for rule in policy["rules"]] + [0]) + 1


# --- handlers -----------------------------------------------------------------------------------


def find_policy(org, policy_id):
    """Return the policy of ``org`` with this id, or raise 404."""
    for policy in org.policies:
        if policy["id"] == policy_id:
            return policy
    raise not_found("Policy {0} not found".format(policy_id))


def _policy(ctx):
    org = ctx.state.org(ctx.org_key)
    policy = find_policy(org, int(ctx.params["policy_id"]))
    policy["org_key"] = org.org_key  # the seed does not know the org key of every org
    return org, policy


def list_policy_summaries(ctx):
    """``GET /policyservice/v1/orgs/{org_key}/policies/summary``."""
    org = ctx.state.org(ctx.org_key)
    with ctx.state.lock:
        return Response(200, {"policies": [policy_summary(policy, org.devices) for policy in org.policies]})


def get_policy(ctx):
    """``GET /policies/{id}``: the full policy."""
    with ctx.state.lock:
        return Response(200, copy.deepcopy(_policy(ctx)[1]))


def create_policy(ctx):
    """``POST /policies``: a full policy without id → 200 with id, position and version assigned."""
    body = ctx.json(default={})
    if body.get("id") is not None:
        raise bad_request("id must not be set when creating a policy")
    if isinstance(body.get("rules"), list):
        # Rule ids in a create body mean nothing: every rule gets a new one.
        body = dict(body, rules=[dict(rule, id=None) if isinstance(rule, dict) else rule for rule in body["rules"]])
    validate_policy_body(body)
    with ctx.state.lock:
        org = ctx.state.org(ctx.org_key)
        # Ids are never reused, also after a delete.
        policy_id = max([policy["id"] for policy in org.policies] + [getattr(org, "last_policy_id", 0)]) + 1
        org.last_policy_id = policy_id
        position = max([policy["position"] for policy in org.policies] + [0]) + 1
        policy = new_policy(policy_id, org.org_key, body["name"], position)
        apply_body(policy, body, 1)
        # Rule configs in a create body (the SDK builder sends them) set parameters of known configs.
        by_id = dict((config["id"], config) for config in policy["rule_configs"])
        for config in body.get("rule_configs") or []:
            if isinstance(config, dict) and config.get("id") in by_id and isinstance(config.get("parameters"), dict):
                target = by_id[config["id"]]
                try:
                    check_parameters(target, config["parameters"])
                except ValueError as exc:
                    raise bad_request("rule_configs: {0}".format(exc)) from None
                target["parameters"].update(config["parameters"])
                target["inherited_from"] = ""
        org.policies.append(policy)
        ctx.log_fields["policy_id"] = policy_id
        return Response(200, copy.deepcopy(policy))


def update_policy(ctx):
    """``PUT /policies/{id}``: full replace of the settable fields → the policy, ``version`` bumped."""
    body = ctx.json(default={})
    with ctx.state.lock:
        policy = _policy(ctx)[1]
        if body.get("id") is not None and body.get("id") != policy["id"]:
            raise bad_request("id {0!r} in the body does not match the path ({1})".format(body.get("id"), policy["id"]))
        validate_policy_body(body, existing_rules=policy["rules"])
        apply_body(policy, body, next_rule_id(policy))
        policy["version"] += 1
        return Response(200, copy.deepcopy(policy))


def delete_policy(ctx):
    """``DELETE /policies/{id}`` → 204; its devices move to the org's system policy."""
    with ctx.state.lock:
        org, policy = _policy(ctx)
        if policy["is_system"]:
            raise bad_request("Policy {0} ({1}) is a system policy and cannot be deleted".format(policy["id"], policy["name"]))
        fallback = next((p for p in org.policies if p["is_system"]), None)
        moved = 0
        for device in org.devices.values():
            if device.get("policy_id") == policy["id"] and fallback is not None:
                device.update(policy_id=fallback["id"], policy_name=fallback["name"],
                              current_sensor_policy_name=fallback["name"], policy_override=False)
                moved += 1
        org.policies.remove(policy)
        ctx.log_fields["moved_devices"] = moved
        return Response(204)


def add_rule(ctx):
    """``POST /policies/{id}/rules``: a rule without id → the rule with its new id."""
    body = ctx.json(default={})
    if body.get("id") is not None:
        raise bad_request("id must not be set when adding a rule")
    validate_rule(body)
    with ctx.state.lock:
        policy = _policy(ctx)[1]
        check_rule_unique(policy["rules"], body, None)
        rule = dict(copy.deepcopy(body), id=next_rule_id(policy))
        policy["rules"].append(rule)
        policy["version"] += 1
        return Response(200, copy.deepcopy(rule))


def _find_rule(policy, ctx):
    rule_id = int(ctx.params["rule_id"])
    for rule in policy["rules"]:
        if rule["id"] == rule_id:
            return rule
    raise not_found("Rule {0} not found in policy {1}".format(rule_id, policy["id"]))


def update_rule(ctx):
    """``PUT /policies/{id}/rules/{rule_id}`` → the rule."""
    body = ctx.json(default={})
    validate_rule(body)
    with ctx.state.lock:
        policy = _policy(ctx)[1]
        rule = _find_rule(policy, ctx)
        if body.get("id") is not None and body["id"] != rule["id"]:
            raise bad_request("id in the body does not match the path")
        check_rule_unique(policy["rules"], body, rule["id"])
        rule.clear()
        rule.update(copy.deepcopy(body), id=int(ctx.params["rule_id"]))
        policy["version"] += 1
        return Response(200, copy.deepcopy(rule))


def delete_rule(ctx):
    """``DELETE /policies/{id}/rules/{rule_id}`` → 204."""
    with ctx.state.lock:
        policy = _policy(ctx)[1]
        policy["rules"].remove(_find_rule(policy, ctx))
        policy["version"] += 1
        return Response(204)


def _category(ctx):
    category = ctx.params["category"]
    if category not in RULE_CONFIG_CATEGORIES:
        raise not_found("Unknown rule configuration category {0!r}; known: {1}".format(category, ", ".join(RULE_CONFIG_CATEGORIES)))
    return category


def get_rule_configs(ctx):
    """``GET /policies/{id}/rule_configs/{category}`` → ``{"results": [...]}``."""
    category = _category(ctx)
    with ctx.state.lock:
        policy = _policy(ctx)[1]
        return Response(200, {"results": [copy.deepcopy(config) for config in policy["rule_configs"]
                                          if config["category"] == category]})


def update_rule_configs(ctx):
    """``PUT /policies/{id}/rule_configs/{category}``: a list (or one object) of ``{id, parameters}``
    → ``{"successful": [ruleconfig...], "failed": [{"id", "error_code", "message"}]}``."""
    category = _category(ctx)
    body = ctx.json(required_type=(list, dict))
    items = [body] if isinstance(body, dict) else body
    if not items:
        raise bad_request("Request body must not be empty")
    successful, failed = [], []
    with ctx.state.lock:
        policy = _policy(ctx)[1]
        by_id = dict((config["id"], config) for config in policy["rule_configs"] if config["category"] == category)
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise bad_request("every rule configuration needs a string id")
            config = by_id.get(item["id"])
            if config is None:
                failed.append({"id": item["id"], "error_code": "NOT_FOUND",
                               "message": "rule configuration {0} not found in category {1}".format(item["id"], category)})
                continue
            parameters = item.get("parameters") or {}
            try:
                if not isinstance(parameters, dict):
                    raise ValueError("parameters must be an object")
                check_parameters(config, parameters)
            except ValueError as exc:
                failed.append({"id": item["id"], "error_code": "INVALID_PARAMETER", "message": str(exc)})
                continue
            config["parameters"].update(parameters)
            config["inherited_from"] = ""
            successful.append(copy.deepcopy(config))
        if successful:
            policy["version"] += 1
    return Response(200, {"successful": successful, "failed": failed})


def delete_rule_config(ctx):
    """``DELETE /policies/{id}/rule_configs/{category}/{rc_id}`` → 204; the parameters go back to their defaults."""
    category = _category(ctx)
    with ctx.state.lock:
        policy = _policy(ctx)[1]
        for config in policy["rule_configs"]:
            if config["category"] == category and config["id"] == ctx.params["config_id"]:
                config["parameters"] = {key: default for key, (default, _allowed) in parameter_schema(config).items()}
                config["inherited_from"] = "psc:region" if category == "core_prevention" else ""
                policy["version"] += 1
                return Response(204)
    raise not_found("Rule configuration {0} not found".format(ctx.params["config_id"]))


def presentation(ctx):
    """``GET /policies/{id}/configs/presentation``: the rule configurations this policy can carry."""
    with ctx.state.lock:
        policy = _policy(ctx)[1]
        configs = []
        for config in policy["rule_configs"]:
            parameters = []
            for key, (default, allowed) in parameter_schema(config).items():
                values = [True, False] if allowed is bool else list(allowed)
                parameters.append({"name": key, "default": default, "description": key,
                                   "validations": [{"type": "enum", "values": values}]})
            configs.append({"id": config["id"], "name": config["name"], "description": config["description"],
                            "presentation": {"category": config["category"]}, "parameters": parameters})
        return Response(200, {"configs": configs})


def register(table):
    """Add the policy routes to ``table``."""
    read, create, update, delete = ("org.policies:" + op for op in ("READ", "CREATE", "UPDATE", "DELETE"))
    table.add("GET", POLICY_BASE + r"/summary", list_policy_summaries, "policies.summary", permission=read)
    table.add("POST", POLICY_BASE, create_policy, "policies.create", permission=create, write=True)
    table.add("GET", POLICY_BASE + POLICY_ID, get_policy, "policies.get", permission=read)
    table.add("PUT", POLICY_BASE + POLICY_ID, update_policy, "policies.update", permission=update, write=True)
    table.add("DELETE", POLICY_BASE + POLICY_ID, delete_policy, "policies.delete", permission=delete, write=True)
    rules = POLICY_BASE + POLICY_ID + r"/rules"
    table.add("POST", rules, add_rule, "policies.rules.create", permission=update, write=True)
    table.add("PUT", rules + r"/(?P<rule_id>[0-9]+)", update_rule, "policies.rules.update", permission=update, write=True)
    table.add("DELETE", rules + r"/(?P<rule_id>[0-9]+)", delete_rule, "policies.rules.delete", permission=update, write=True)
    table.add("GET", POLICY_BASE + POLICY_ID + r"/configs/presentation", presentation, "policies.presentation",
              permission=read)
    configs = POLICY_BASE + POLICY_ID + r"/rule_configs/(?P<category>[a-z_]+)"
    table.add("GET", configs, get_rule_configs, "policies.rule_configs.get", permission=read)
    table.add("PUT", configs, update_rule_configs, "policies.rule_configs.update", permission=update, write=True)
    table.add("DELETE", configs + r"/(?P<config_id>[0-9a-f-]+)", delete_rule_config, "policies.rule_configs.delete",
              permission=delete, write=True)
