"""Policy Service v1 (facts section 4): seeded full policies, the summary, policy CRUD, the ``rules``
sub-resource and ``rule_configs`` by category.

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

from cbcsim.protocol import Response, bad_request, not_found
from cbcsim.routing import ORG

POLICY_BASE = "/policyservice/v1/orgs/" + ORG + "/policies"
POLICY_ID = r"/(?P<policy_id>[0-9]+)"

PRIORITIES = ("LOW", "MEDIUM", "HIGH", "MISSION_CRITICAL")
RULE_ACTIONS = ("IGNORE", "ALLOW", "TERMINATE_PROCESS", "TERMINATE_THREAD", "TERMINATE", "DENY")
APP_TYPES = ("NAME_PATH", "SIGNED_BY", "REPUTATION")
REPUTATIONS = ("ADAPTIVE_WHITE_LIST", "ADWARE", "COMMON_WHITE_LIST", "COMPANY_BLACK_LIST", "COMPANY_WHITE_LIST",
               "HEURISTIC", "IGNORE", "KNOWN_MALWARE", "LOCAL_WHITE", "NOT_LISTED", "PUP", "RESOLVING",
               "SUSPECT_MALWARE", "TRUSTED_WHITE_LIST")
OPERATIONS = ("BYPASS_ALL", "BYPASS_API", "INVOKE_SCRIPT", "INVOKE_SYSAPP", "POL_INVOKE_NOT_TRUSTED",
              "INVOKE_CMD_INTERPRETER", "RANSOM", "NETWORK", "PROCESS_ISOLATION", "CODE_INJECTION", "MEMORY_SCRAPE",
              "RUN_INMEMORY_CODE", "ESCALATE", "RUN")
SENSOR_SETTINGS = ("SHOW_UI", "ALLOW_UNINSTALL", "ALLOW_UPLOAD", "QUARANTINE_DEVICE", "ENABLE_FORENSICS", "LOGGING_LEVEL",
                   "QUARANTINE_DEVICE_MESSAGE", "ENABLE_THREAT_SHARING", "SET_SENSOR_MODE", "SENSOR_RESET",
                   "BLOCK_REMOVABLE_MEDIA", "POLICY_ACTION_OVERRIDE", "BACKGROUND_SCAN", "RATE_LIMIT", "QUEUE_SIZE",
                   "DROP_CONNECTION_TIME", "CONNECTION_LIMIT", "LEARNING_MODE", "SET_AV_MODE", "SCAN_NETWORK_DRIVE",
                   "BYPASS_AFTER_RESTART_MINS", "BYPASS_AFTER_LOGIN_MINS", "HELP_MESSAGE", "SHOW_FULL_UI",
                   "SCAN_EXECUTE_ON_NETWORK_DRIVE", "DELAY_EXECUTE", "ALLOW_INLINE_BLOCKING",
                   "PRESERVE_SYSTEM_MEMORY_SCAN", "HASH_MD5", "SCAN_LARGE_FILE_READ", "SECURITY_CENTER_OPT",
                   "CB_LIVE_RESPONSE", "UNINSTALL_CODE", "ALLOW_EXPEDITED_SCAN", "UBS_OPT_IN",
                   "DISABLE_MALWARE_SERVICES", "ALLOW_UPLOADS")
SCAN_MODES = ("NORMAL", "AGGRESSIVE")
SCAN_OPTIONS = ("AUTOSCAN", "DISABLED")
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
RULE_CONFIG_CATEGORIES = ("core_prevention", "host_based_firewall", "data_collection", "bypass")

#: The org's rule configurations: id, name, category, default parameters, and the enum of each parameter
#: (``bool`` for a boolean). Every policy carries all of them.
RULE_CONFIG_CATALOGUE = (
    ("88b19232-7ebb-48ef-a198-2a75a282de5d", "Privilege Escalation", "core_prevention"),
    ("1c03d653-eca4-4adc-81a1-04b17b6cbffc", "Credential Theft", "core_prevention"),
    ("c4ed61b3-d5aa-41a9-814f-0f277451532b", "Defense Evasion", "core_prevention"),
    ("8a16234c-9848-473a-a803-f0f0ffaf5f29", "Persistence", "core_prevention"),
    ("ac67fa14-f6be-4df9-93f2-6de0dbd96061", "Carbon Black Threat Intel", "core_prevention"),
    ("91c919da-fb90-4e63-9eac-506255b0a0d0", "Authentication Events", "data_collection"),
    ("cc075469-8d1e-4056-84b6-0e6f437c4010", "XDR", "data_collection"),
)
RULE_CONFIG_PARAMETERS = {
    "core_prevention": {"WindowsAssignmentMode": ("BLOCK", ("REPORT", "BLOCK"))},
    "Authentication Events": {"enable_auth_events": (True, bool)},
    "XDR": {"enable_network_data_collection": (False, bool)},
}

#: (name, description, priority_level, is_system, profile) of the seeded policies, in position order.
SEED_POLICIES = (
    ("Standard", "Default policy with balanced prevention settings", "MEDIUM", True, "standard"),
    ("Advanced", "Stricter prevention for servers and high-value assets", "HIGH", False, "advanced"),
    ("Monitored", "Observe-only policy: alerts without blocking", "LOW", False, "monitored"),
)

DEFAULT_AV_SETTINGS = {
    "avira_protection_cloud": {"enabled": False, "max_exe_delay": 45, "max_file_size": 4, "risk_level": 4},
    "on_access_scan": {"enabled": True, "mode": "NORMAL"},
    "on_demand_scan": {"enabled": True, "profile": "NORMAL",
                       "schedule": {"days": [], "start_hour": 0, "range_hours": 0, "recovery_scan_if_missed": True},
                       "scan_usb": "AUTOSCAN", "scan_cd_dvd": "AUTOSCAN"},
    "signature_update": {"enabled": True,
                         "schedule": {"full_interval_hours": 0, "initial_random_delay_hours": 4, "interval_hours": 4}},
    "update_servers": {"servers_override": [],
                       "servers_for_onsite_devices": [{"server": "http://updates2.cdc.carbonblack.io/update2",
                                                       "preferred": False}],
                       "servers_for_offsite_devices": ["http://updates2.cdc.carbonblack.io/update2"]},
}
DEFAULT_SENSOR_SETTINGS = (
    ("ALLOW_UNINSTALL", "true"), ("ALLOW_UPLOADS", "false"), ("SHOW_UI", "true"), ("ENABLE_THREAT_SHARING", "true"),
    ("QUARANTINE_DEVICE", "false"), ("LOGGING_LEVEL", "false"), ("QUARANTINE_DEVICE_MESSAGE", "Device has been quarantined by your computer administrator."),
    ("SET_SENSOR_MODE", "0"), ("SENSOR_RESET", "0"), ("BACKGROUND_SCAN", "true"), ("POLICY_ACTION_OVERRIDE", "true"),
    ("HELP_MESSAGE", ""), ("PRESERVE_SYSTEM_MEMORY_SCAN", "false"), ("HASH_MD5", "false"),
    ("SCAN_LARGE_FILE_READ", "false"), ("SCAN_EXECUTE_ON_NETWORK_DRIVE", "true"), ("DELAY_EXECUTE", "true"),
    ("SCAN_NETWORK_DRIVE", "false"), ("BYPASS_AFTER_LOGIN_MINS", "0"), ("BYPASS_AFTER_RESTART_MINS", "0"),
    ("SHOW_FULL_UI", "false"), ("SECURITY_CENTER_OPT", "true"), ("CB_LIVE_RESPONSE", "true"),
    ("UNINSTALL_CODE", "false"), ("ALLOW_EXPEDITED_SCAN", "false"), ("UBS_OPT_IN", "true"),
)
DEFAULT_AUTO_DEREGISTER_MS = 0
DEFAULT_AUTO_DELETE_DELAY = 1209600000  # two weeks, the console default

FULL_FIELDS = ("id", "name", "org_key", "version", "priority_level", "position", "is_system", "description",
               "auto_deregister_inactive_vdi_interval_ms", "auto_delete_known_bad_hashes_delay", "av_settings", "rules",
               "directory_action_rules", "sensor_settings", "managed_detection_response_permissions", "rule_configs")


def _rule(rule_id, action, app_type, value, operation, required=True):
    return {"id": rule_id, "required": required, "action": action,
            "application": {"type": app_type, "value": value}, "operation": operation}


def _seed_rules(profile):
    """Prevention rules per seeded profile (ids are per policy, from 1)."""
    rules = [("DENY", "REPUTATION", "KNOWN_MALWARE", "RUN"),
             ("DENY", "REPUTATION", "COMPANY_BLACK_LIST", "RUN"),
             ("TERMINATE", "REPUTATION", "PUP", "MEMORY_SCRAPE"),
             ("TERMINATE", "REPUTATION", "SUSPECT_MALWARE", "CODE_INJECTION"),
             ("IGNORE", "NAME_PATH", "**\\Program Files\\Acme\\**", "BYPASS_ALL")]
    if profile == "advanced":
        rules += [("TERMINATE", "REPUTATION", "NOT_LISTED", "RANSOM"),
                  ("DENY", "REPUTATION", "ADAPTIVE_WHITE_LIST", "INVOKE_CMD_INTERPRETER"),
                  ("TERMINATE", "REPUTATION", "RESOLVING", "RUN_INMEMORY_CODE")]
    elif profile == "monitored":
        rules = rules[:2]
    return [_rule(index, *rule) for index, rule in enumerate(rules, start=1)]


def default_rule_configs():
    """Every catalogue rule configuration with its default parameters."""
    configs = []
    for config_id, name, category in RULE_CONFIG_CATALOGUE:
        schema = RULE_CONFIG_PARAMETERS.get(name) or RULE_CONFIG_PARAMETERS.get(category) or {}
        configs.append({"id": config_id, "name": name, "description": name, "category": category,
                        "inherited_from": "psc:region" if category == "core_prevention" else "",
                        "parameters": {key: default for key, (default, _allowed) in schema.items()}})
    return configs


def parameter_schema(config):
    """``{parameter: (default, allowed)}`` of a rule configuration."""
    return RULE_CONFIG_PARAMETERS.get(config["name"]) or RULE_CONFIG_PARAMETERS.get(config["category"]) or {}


def new_policy(policy_id, org_key, name, position, description="", priority="MEDIUM", is_system=False):
    """A full policy object with the console's defaults."""
    return {
        "id": policy_id, "name": name, "org_key": org_key, "version": 1, "priority_level": priority,
        "position": position, "is_system": is_system, "description": description,
        "auto_deregister_inactive_vdi_interval_ms": DEFAULT_AUTO_DEREGISTER_MS,
        "auto_delete_known_bad_hashes_delay": DEFAULT_AUTO_DELETE_DELAY,
        "av_settings": copy.deepcopy(DEFAULT_AV_SETTINGS),
        "rules": [],
        "directory_action_rules": [],
        "sensor_settings": [{"name": key, "value": value} for key, value in DEFAULT_SENSOR_SETTINGS],
        "managed_detection_response_permissions": {"policy_modification": False, "quarantine": False},
        "rule_configs": default_rule_configs(),
    }


def seed_policies(id_base, org_key="ABCD1234"):
    """Return the seeded full policy objects; ids are ``id_base + position``."""
    policies = []
    for position, (name, description, priority, is_system, profile) in enumerate(SEED_POLICIES, start=1):
        policy = new_policy(id_base + position, org_key, name, position, description, priority, is_system)
        policy["version"] = 2
        policy["rules"] = _seed_rules(profile)
        if profile == "advanced":
            policy["av_settings"]["on_access_scan"]["mode"] = "AGGRESSIVE"
            policy["av_settings"]["avira_protection_cloud"]["enabled"] = True
            policy["av_settings"]["on_demand_scan"]["schedule"].update(days=["SUNDAY"], start_hour=2, range_hours=4)
            policy["directory_action_rules"] = [{"file_upload": False, "protection": True, "path": "C:\\Secure\\**"}]
            policy["managed_detection_response_permissions"] = {"policy_modification": False, "quarantine": True}
            policy["auto_delete_known_bad_hashes_delay"] = 86400000
            for setting in policy["sensor_settings"]:
                if setting["name"] in ("ALLOW_UNINSTALL", "SHOW_UI"):
                    setting["value"] = "false"
        elif profile == "monitored":
            policy["av_settings"]["on_access_scan"]["enabled"] = False
            policy["sensor_settings"].append({"name": "DISABLE_MALWARE_SERVICES", "value": "false"})
            for config in policy["rule_configs"]:
                if config["category"] == "core_prevention":
                    config["parameters"]["WindowsAssignmentMode"] = "REPORT"
                    config["inherited_from"] = ""
        elif profile == "standard":
            policy["directory_action_rules"] = [{"file_upload": True, "protection": False, "path": "/tmp/uploads/**"}]
        policies.append(policy)
    return policies


def policy_summary(policy, devices):
    """Return the summary view of a policy, with ``num_devices`` counted from the device table."""
    count = sum(1 for device in devices.values() if device.get("policy_id") == policy["id"])
    summary = {key: policy.get(key) for key in ("id", "name", "description", "priority_level", "is_system", "position")}
    summary["num_devices"] = count
    return summary


# --- validation ---------------------------------------------------------------------------------


def _enum(value, allowed, where):
    if value not in allowed:
        raise bad_request("{0}: invalid value {1!r}; allowed: {2}".format(where, value, ", ".join(allowed)))


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def validate_rule(rule, where="rule"):
    """Raise a 400 unless ``rule`` has the required fields with valid enums; return it."""
    if not isinstance(rule, dict):
        raise bad_request("{0} must be an object".format(where))
    for key in ("required", "action", "application", "operation"):
        if key not in rule:
            raise bad_request("{0}: missing required field {1}".format(where, key))
    if not isinstance(rule["required"], bool):
        raise bad_request("{0}.required must be a boolean".format(where))
    _enum(rule["action"], RULE_ACTIONS, where + ".action")
    _enum(rule["operation"], OPERATIONS, where + ".operation")
    app = rule["application"]
    if not isinstance(app, dict) or set(app) != {"type", "value"} or not isinstance(app["value"], str):
        raise bad_request("{0}.application must be {{\"type\": ..., \"value\": <string>}}".format(where))
    _enum(app["type"], APP_TYPES, where + ".application.type")
    if app["type"] == "REPUTATION":
        _enum(app["value"], REPUTATIONS, where + ".application.value")
    return rule


def _validate_av(av_settings):
    if not isinstance(av_settings, dict):
        raise bad_request("av_settings must be an object")
    on_access = av_settings.get("on_access_scan") or {}
    if "mode" in on_access:
        _enum(on_access["mode"], SCAN_MODES, "av_settings.on_access_scan.mode")
    on_demand = av_settings.get("on_demand_scan") or {}
    if "profile" in on_demand:
        _enum(on_demand["profile"], SCAN_MODES, "av_settings.on_demand_scan.profile")
    for key in ("scan_usb", "scan_cd_dvd"):
        if key in on_demand:
            _enum(on_demand[key], SCAN_OPTIONS, "av_settings.on_demand_scan." + key)
    for day in (on_demand.get("schedule") or {}).get("days") or []:
        _enum(day, DAYS, "av_settings.on_demand_scan.schedule.days")
    for section, values in av_settings.items():
        if not isinstance(values, dict):
            raise bad_request("av_settings.{0} must be an object".format(section))


def validate_policy_body(body, existing_rules=None):
    """Validate a POST/PUT body and return the settable fields, rules with ids resolved later.

    ``existing_rules`` (PUT) are the policy's current rules: a rule id in the body must be one of them.
    """
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("name is required and must be a non-empty string")
    if len(name) > 100:
        raise bad_request("name must be at most 100 characters")
    _enum(body.get("priority_level"), PRIORITIES, "priority_level")
    description = body.get("description", "")
    if description is not None and not isinstance(description, str):
        raise bad_request("description must be a string")
    for key in ("auto_deregister_inactive_vdi_interval_ms", "auto_delete_known_bad_hashes_delay"):
        if key in body and body[key] is not None and (not _is_int(body[key]) or body[key] < 0):
            raise bad_request("{0} must be a non-negative integer (milliseconds)".format(key))
    rules = body.get("rules") or []
    if not isinstance(rules, list):
        raise bad_request("rules must be a list")
    seen = {}
    known_ids = set(rule["id"] for rule in existing_rules or [])
    for index, rule in enumerate(rules):
        validate_rule(rule, "rules[{0}]".format(index))
        if "id" in rule and rule["id"] is not None and rule["id"] not in known_ids:
            raise bad_request("rules[{0}].id {1!r} is not a rule of this policy; omit id to add a rule".format(index, rule["id"]))
        key = (rule["application"]["type"], rule["application"]["value"], rule["operation"])
        if key in seen:
            raise bad_request("rules[{0}] duplicates rules[{1}]: same application and operation".format(index, seen[key]))
        seen[key] = index
    settings = body.get("sensor_settings") or []
    if not isinstance(settings, list):
        raise bad_request("sensor_settings must be a list of {\"name\", \"value\"} objects")
    names = set()
    for index, setting in enumerate(settings):
        if not isinstance(setting, dict) or set(setting) != {"name", "value"}:
            raise bad_request("sensor_settings[{0}] must be {{\"name\": ..., \"value\": <string>}}".format(index))
        _enum(setting["name"], SENSOR_SETTINGS, "sensor_settings[{0}].name".format(index))
        if not isinstance(setting["value"], str):
            raise bad_request("sensor_settings[{0}].value must be a string (got {1!r})".format(index, setting["value"]))
        if setting["name"] in names:
            raise bad_request("sensor_settings: {0} is set twice".format(setting["name"]))
        names.add(setting["name"])
    if body.get("av_settings") is not None:
        _validate_av(body["av_settings"])
    directory_rules = body.get("directory_action_rules") or []
    if not isinstance(directory_rules, list):
        raise bad_request("directory_action_rules must be a list")
    for index, rule in enumerate(directory_rules):
        if (not isinstance(rule, dict) or not isinstance(rule.get("path"), str)
                or not isinstance(rule.get("file_upload"), bool) or not isinstance(rule.get("protection"), bool)):
            raise bad_request("directory_action_rules[{0}] must be {{\"path\": <string>, \"file_upload\": <bool>, "
                              "\"protection\": <bool>}}".format(index))
    mdr = body.get("managed_detection_response_permissions")
    if mdr is not None:
        if not isinstance(mdr, dict) or not all(isinstance(value, bool) for value in mdr.values()) or \
                not set(mdr) <= {"policy_modification", "quarantine"}:
            raise bad_request("managed_detection_response_permissions must be {\"policy_modification\": <bool>, "
                              "\"quarantine\": <bool>}")


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
                    _check_parameters(target, config["parameters"])
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
        _check_rule_unique(policy["rules"], body, None)
        rule = dict(copy.deepcopy(body), id=next_rule_id(policy))
        policy["rules"].append(rule)
        policy["version"] += 1
        return Response(200, copy.deepcopy(rule))


def _check_rule_unique(rules, rule, rule_id):
    key = (rule["application"]["type"], rule["application"]["value"], rule["operation"])
    for other in rules:
        if other["id"] != rule_id and (other["application"]["type"], other["application"]["value"], other["operation"]) == key:
            raise bad_request("rule {0} already covers this application and operation".format(other["id"]))


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
        _check_rule_unique(policy["rules"], body, rule["id"])
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


def _check_parameters(config, parameters):
    """Raise ValueError naming the first unknown parameter or bad value."""
    schema = parameter_schema(config)
    for key, value in parameters.items():
        if key not in schema:
            raise ValueError("unknown parameter {0!r} for {1}; known: {2}".format(key, config["name"], ", ".join(schema)))
        allowed = schema[key][1]
        if allowed is bool:
            if not isinstance(value, bool):
                raise ValueError("parameter {0} must be a boolean".format(key))
        elif value not in allowed:
            raise ValueError("parameter {0}: invalid value {1!r}; allowed: {2}".format(key, value, ", ".join(allowed)))


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
                _check_parameters(config, parameters)
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
