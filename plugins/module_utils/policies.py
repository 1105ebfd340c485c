# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Policy Service v1: validate a desired policy, compare it with the server's, and apply the difference.

No Ansible imports: usable with any client that has ``call``. The read cost of applying N policies
is one ``policies/summary`` plus one ``GET`` per existing policy; a policy whose body differs gets
exactly one full-object ``PUT`` (the server's unstated settings ride along unchanged), and rule
configurations whose parameters differ get one ``PUT`` per category.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

from .errors import CbcApiError, CbcConfigError, CbcError
from .validation import check_id, check_name, check_not_empty, check_text
from .writes import delete_sender, reconciled_write

PRIORITIES = ("LOW", "MEDIUM", "HIGH", "MISSION_CRITICAL")
RULE_ACTIONS = ("IGNORE", "ALLOW", "TERMINATE_PROCESS", "TERMINATE_THREAD", "TERMINATE", "DENY")
APP_TYPES = ("NAME_PATH", "SIGNED_BY", "REPUTATION")
REPUTATIONS = ("ADAPTIVE_WHITE_LIST", "ADWARE", "COMMON_WHITE_LIST", "COMPANY_BLACK_LIST", "COMPANY_WHITE_LIST",
               "HEURISTIC", "IGNORE", "KNOWN_MALWARE", "LOCAL_WHITE", "NOT_LISTED", "PUP", "RESOLVING",
               "SUSPECT_MALWARE", "TRUSTED_WHITE_LIST")
OPERATIONS = ("BYPASS_ALL", "BYPASS_API", "INVOKE_SCRIPT", "INVOKE_SYSAPP", "POL_INVOKE_NOT_TRUSTED",
              "INVOKE_CMD_INTERPRETER", "RANSOM", "NETWORK", "PROCESS_ISOLATION", "CODE_INJECTION", "MEMORY_SCRAPE",
              "RUN_INMEMORY_CODE", "ESCALATE", "RUN")
# The SDK's list, plus ALLOW_UPLOADS which the recorded fixtures carry.
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
AV_SECTIONS = ("avira_protection_cloud", "on_access_scan", "on_demand_scan", "signature_update", "update_servers")
MDR_KEYS = ("policy_modification", "quarantine")
RULE_CONFIG_CATEGORIES = ("core_prevention", "host_based_firewall", "data_collection", "bypass")
# Categories whose PUT takes a list of {id, parameters}; bypass wants {id, exclusions} and is not managed here.
PARAMETER_CATEGORIES = ("core_prevention", "host_based_firewall", "data_collection")
# Parameter enumerations known from the facts (section 4.1).
RULE_CONFIG_PARAMETER_ENUMS = {"WindowsAssignmentMode": ("REPORT", "BLOCK")}

SCALAR_FIELDS = ("name", "description", "priority_level", "auto_deregister_inactive_vdi_interval_ms",
                 "auto_delete_known_bad_hashes_delay")
SETTING_FIELDS = ("description", "priority_level", "rules", "sensor_settings", "av_settings", "directory_action_rules",
                  "managed_detection_response_permissions", "rule_configs", "auto_deregister_inactive_vdi_interval_ms",
                  "auto_delete_known_bad_hashes_delay")
SPEC_KEYS = ("name", "id", "state", "purge_rules", "purge_sensor_settings", "force") + SETTING_FIELDS
DEFAULT_PRIORITY = "MEDIUM"


class PolicyError(CbcError):
    """A write that the API partly refused (rule_configs ``failed`` entries)."""


# -- validation of the desired state (before any request) ------------------------------------------


def _enum(value, allowed, where):
    if value not in allowed:
        raise CbcConfigError("%s has the unknown value %r. Fix: use one of %s" % (where, value, ", ".join(allowed)))


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _bool(value, where):
    if not isinstance(value, bool):
        raise CbcConfigError("%s must be true or false, not %r. Fix: use a YAML boolean" % (where, value))
    return value


def setting_value(value, where):
    """A sensor setting value as the API's string: booleans become ``"true"``/``"false"``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    raise CbcConfigError("%s must be a string, number or boolean, not %r. Fix: quote the value" % (where, value))


def normalize_rule(rule, where):
    """Return ``{required, action, application: {type, value}, operation}`` or raise CbcConfigError."""
    if not isinstance(rule, dict):
        raise CbcConfigError("%s must be a mapping with action, application and operation. Fix: see the EXAMPLES" % where)
    if "id" in rule:
        raise CbcConfigError("%s has an id; rules are matched by application and operation, not by id. "
                             "Fix: remove id" % where)
    unknown = sorted(set(rule) - {"required", "action", "application", "operation"})
    if unknown:
        raise CbcConfigError("%s has unknown key(s) %s. Fix: use required, action, application, operation"
                             % (where, ", ".join(unknown)))
    for key in ("action", "application", "operation"):
        if rule.get(key) is None:
            raise CbcConfigError("%s needs %s. Fix: add it" % (where, key))
    _enum(rule["action"], RULE_ACTIONS, where + ".action")
    _enum(rule["operation"], OPERATIONS, where + ".operation")
    app = rule["application"]
    if not isinstance(app, dict) or set(app) != {"type", "value"} or not isinstance(app["value"], str):
        raise CbcConfigError("%s.application must be {type: ..., value: <string>}. Fix: e.g. "
                             "{type: REPUTATION, value: KNOWN_MALWARE}" % where)
    _enum(app["type"], APP_TYPES, where + ".application.type")
    if app["type"] == "REPUTATION":
        _enum(app["value"], REPUTATIONS, where + ".application.value")
    required = _bool(rule.get("required", True), where + ".required")
    return {"required": required, "action": rule["action"],
            "application": {"type": app["type"], "value": app["value"]}, "operation": rule["operation"]}


def rule_key(rule):
    """A rule's identity: what it applies to (application and operation), not its id or position."""
    return (rule["application"]["type"], rule["application"]["value"], rule["operation"])


def rule_content(rule):
    """A rule without its id (what is compared)."""
    return {"required": rule.get("required", True), "action": rule.get("action"),
            "application": dict(rule.get("application") or {}), "operation": rule.get("operation")}


def normalize_sensor_settings(value, where="sensor_settings"):
    """``{NAME: value}`` or ``[{name, value}]`` → ``{NAME: "string"}``."""
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = []
        for index, item in enumerate(value):
            if not isinstance(item, dict) or set(item) != {"name", "value"}:
                raise CbcConfigError("%s[%d] must be {name: ..., value: ...}. Fix: or use the mapping form NAME: value"
                                     % (where, index))
            items.append((item["name"], item["value"]))
    else:
        raise CbcConfigError("%s must be a mapping NAME: value or a list of {name, value}. Fix: e.g. "
                             "{SHOW_UI: true}" % where)
    settings = {}
    for name, setting in items:
        _enum(name, SENSOR_SETTINGS, "%s name" % where)
        if name in settings:
            raise CbcConfigError("%s sets %s twice. Fix: keep one" % (where, name))
        settings[name] = setting_value(setting, "%s.%s" % (where, name))
    return settings


def _check_av_settings(value):
    if not isinstance(value, dict):
        raise CbcConfigError("av_settings must be a mapping of sections. Fix: use %s" % ", ".join(AV_SECTIONS))
    for section, settings in value.items():
        _enum(section, AV_SECTIONS, "av_settings section")
        if not isinstance(settings, dict):
            raise CbcConfigError("av_settings.%s must be a mapping. Fix: e.g. {enabled: true}" % section)
    on_access = value.get("on_access_scan") or {}
    if "mode" in on_access:
        _enum(on_access["mode"], SCAN_MODES, "av_settings.on_access_scan.mode")
    on_demand = value.get("on_demand_scan") or {}
    if "profile" in on_demand:
        _enum(on_demand["profile"], SCAN_MODES, "av_settings.on_demand_scan.profile")
    for key in ("scan_usb", "scan_cd_dvd"):
        if key in on_demand:
            _enum(on_demand[key], SCAN_OPTIONS, "av_settings.on_demand_scan." + key)
    for day in (on_demand.get("schedule") or {}).get("days") or []:
        _enum(day, DAYS, "av_settings.on_demand_scan.schedule.days")
    return value


def _check_directory_rules(value):
    if not isinstance(value, list):
        raise CbcConfigError("directory_action_rules must be a list of {path, file_upload, protection}. Fix: wrap it in a list")
    rules = []
    for index, rule in enumerate(value):
        where = "directory_action_rules[%d]" % index
        if not isinstance(rule, dict) or set(rule) != {"path", "file_upload", "protection"} or \
                not isinstance(rule["path"], str):
            raise CbcConfigError("%s must be {path: <string>, file_upload: <bool>, protection: <bool>}. Fix: set all three"
                                 % where)
        rules.append({"file_upload": _bool(rule["file_upload"], where + ".file_upload"),
                      "protection": _bool(rule["protection"], where + ".protection"), "path": rule["path"]})
    return rules


def _check_rule_configs(value):
    if not isinstance(value, list):
        raise CbcConfigError("rule_configs must be a list of {name or id, parameters}. Fix: wrap it in a list")
    configs = []
    for index, item in enumerate(value):
        where = "rule_configs[%d]" % index
        if not isinstance(item, dict) or not (item.get("name") or item.get("id")):
            raise CbcConfigError("%s needs a name or an id. Fix: e.g. {name: Privilege Escalation, parameters: "
                                 "{WindowsAssignmentMode: REPORT}}" % where)
        unknown = sorted(set(item) - {"name", "id", "category", "parameters"})
        if unknown:
            raise CbcConfigError("%s has unknown key(s) %s. Fix: use name or id, category, parameters"
                                 % (where, ", ".join(unknown)))
        if item.get("category") is not None:
            _enum(item["category"], RULE_CONFIG_CATEGORIES, where + ".category")
            if item["category"] not in PARAMETER_CATEGORIES:
                raise CbcConfigError("%s: category %s is not managed by this module. Fix: use one of %s"
                                     % (where, item["category"], ", ".join(PARAMETER_CATEGORIES)))
        parameters = item.get("parameters")
        if not isinstance(parameters, dict) or not parameters:
            raise CbcConfigError("%s needs parameters, a mapping. Fix: e.g. {WindowsAssignmentMode: BLOCK}" % where)
        for key, allowed in RULE_CONFIG_PARAMETER_ENUMS.items():
            if key in parameters:
                _enum(parameters[key], allowed, "%s.parameters.%s" % (where, key))
        configs.append({"name": item.get("name"), "id": item.get("id"), "category": item.get("category"),
                        "parameters": dict(parameters)})
    return configs


def normalize_spec(spec, where="policy"):
    """Validate one desired policy (the module options, or one item of ``policies``) and return it normalized.

    Raises CbcConfigError before any request is sent, naming the allowed values.
    """
    if not isinstance(spec, dict):
        raise CbcConfigError("%s must be a mapping. Fix: see the EXAMPLES" % where)
    unknown = sorted(set(spec) - set(SPEC_KEYS))
    if unknown:
        raise CbcConfigError("%s has unknown option(s) %s. Fix: use %s" % (where, ", ".join(unknown), ", ".join(SPEC_KEYS)))
    desired = {}
    state = spec.get("state") or "present"
    _enum(state, ("present", "absent"), where + ".state")
    name, policy_id = spec.get("name"), spec.get("id")
    if name is None and policy_id is None:
        raise CbcConfigError("%s needs a name or an id. Fix: set name" % where)
    if name is not None:
        check_name(name, where + ".name")
    if policy_id is not None and not _is_int(policy_id):
        try:
            policy_id = int(policy_id)
        except (TypeError, ValueError):
            raise CbcConfigError("%s.id must be an integer, not %r. Fix: use the id from cbc_policy_info" % (where, policy_id))
    if policy_id is not None:
        check_id(policy_id, where + ".id")
    label = name if name is not None else "id %s" % policy_id
    where = "policy %s" % label if where == "policy" else "%s (%s)" % (where, label)
    options = {"state": state, "name": name, "id": policy_id,
               "purge_rules": _bool(spec.get("purge_rules") or False, where + ".purge_rules"),
               "purge_sensor_settings": _bool(spec.get("purge_sensor_settings") or False, where + ".purge_sensor_settings"),
               "force": _bool(spec.get("force") or False, where + ".force"), "where": where}
    if spec.get("description") is not None:
        desired["description"] = check_text(spec["description"], where + ".description")
    if spec.get("priority_level") is not None:
        _enum(spec["priority_level"], PRIORITIES, where + ".priority_level")
        desired["priority_level"] = spec["priority_level"]
    for key in ("auto_deregister_inactive_vdi_interval_ms", "auto_delete_known_bad_hashes_delay"):
        if spec.get(key) is not None:
            if not _is_int(spec[key]) or spec[key] < 0:
                raise CbcConfigError("%s.%s must be a non-negative integer (milliseconds). Fix: e.g. 86400000"
                                     % (where, key))
            desired[key] = spec[key]
    if spec.get("rules") is not None:
        if not isinstance(spec["rules"], list):
            raise CbcConfigError("%s.rules must be a list. Fix: wrap the rule in a list" % where)
        rules, seen = [], {}
        for index, rule in enumerate(spec["rules"]):
            rule = normalize_rule(rule, "%s.rules[%d]" % (where, index))
            if rule_key(rule) in seen:
                raise CbcConfigError("%s.rules[%d] and rules[%d] are for the same application and operation. "
                                     "Fix: keep one" % (where, seen[rule_key(rule)], index))
            seen[rule_key(rule)] = index
            rules.append(rule)
        desired["rules"] = rules
    elif options["purge_rules"]:
        raise CbcConfigError("%s: purge_rules needs rules. Fix: state the rules to keep (rules: [] removes all)" % where)
    if spec.get("sensor_settings") is not None:
        desired["sensor_settings"] = normalize_sensor_settings(spec["sensor_settings"], where + ".sensor_settings")
    elif options["purge_sensor_settings"]:
        raise CbcConfigError("%s: purge_sensor_settings needs sensor_settings. Fix: state the settings to keep" % where)
    if spec.get("av_settings") is not None:
        desired["av_settings"] = copy.deepcopy(_check_av_settings(spec["av_settings"]))
    if spec.get("directory_action_rules") is not None:
        desired["directory_action_rules"] = _check_directory_rules(spec["directory_action_rules"])
    mdr = spec.get("managed_detection_response_permissions")
    if mdr is not None:
        if not isinstance(mdr, dict):
            raise CbcConfigError("%s.managed_detection_response_permissions must be a mapping. Fix: use %s"
                                 % (where, ", ".join(MDR_KEYS)))
        for key, value in mdr.items():
            _enum(key, MDR_KEYS, where + ".managed_detection_response_permissions key")
            _bool(value, "%s.managed_detection_response_permissions.%s" % (where, key))
        desired["managed_detection_response_permissions"] = dict(mdr)
    if spec.get("rule_configs") is not None:
        desired["rule_configs"] = _check_rule_configs(spec["rule_configs"])
    options["desired"] = desired
    return options


def normalize_specs(specs):
    """Validate a list of desired policies; the same name or id twice is an error."""
    check_not_empty(specs, "policies", "[{name: Servers, priority_level: HIGH}]")
    normalized, names, ids = [], {}, {}
    for index, spec in enumerate(specs):
        item = normalize_spec(spec, "policies[%d]" % index)
        for key, seen in (("name", names), ("id", ids)):
            if item[key] is not None:
                if item[key] in seen:
                    raise CbcConfigError("policies[%d] and policies[%d] are both %s %r. Fix: keep one"
                                         % (seen[item[key]], index, key, item[key]))
                seen[item[key]] = index
        normalized.append(item)
    return normalized


# -- comparison --------------------------------------------------------------------------------------


def _canonical(value):
    return json.dumps(value, sort_keys=True)


def deep_merge(current, desired):
    """``current`` with the keys of ``desired`` replaced, recursively for mappings (lists are replaced)."""
    result = copy.deepcopy(current) if isinstance(current, dict) else {}
    for key, value in desired.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def project(current, desired):
    """The part of ``current`` at the keys ``desired`` states (recursively); missing keys are None."""
    result = {}
    current = current if isinstance(current, dict) else {}
    for key, value in desired.items():
        if isinstance(value, dict):
            result[key] = project(current.get(key), value)
        else:
            result[key] = copy.deepcopy(current.get(key))
    return result


def sensor_settings_map(settings):
    return dict((item.get("name"), item.get("value")) for item in settings or [])


def compare_rules(current_rules, desired_rules, purge):
    """Return ``(new rules, removed, added_or_changed)``: rules keep their server id when their key matches."""
    desired_by_key = dict((rule_key(rule), rule) for rule in desired_rules)
    new_rules, removed, changed = [], [], []
    seen = set()
    for rule in current_rules or []:
        key = rule_key(rule)
        seen.add(key)
        if key in desired_by_key:
            want = desired_by_key[key]
            if rule_content(rule) != want:
                removed.append(rule_content(rule))
                changed.append(want)
            new_rule = copy.deepcopy(want)
            if rule.get("id") is not None:
                new_rule["id"] = rule["id"]
            new_rules.append(new_rule)
        elif purge:
            removed.append(rule_content(rule))
        else:
            new_rules.append(copy.deepcopy(rule))
    for rule in desired_rules:
        if rule_key(rule) not in seen:
            new_rules.append(copy.deepcopy(rule))
            changed.append(rule)
    return new_rules, removed, changed


def compare_sensor_settings(current_settings, desired, purge):
    """Return ``(new list, before, after)``; before/after map only the names that change (None = absent)."""
    current = sensor_settings_map(current_settings)
    before, after = {}, {}
    new_list = []
    for item in current_settings or []:
        name = item.get("name")
        if name in desired:
            if desired[name] != item.get("value"):
                before[name], after[name] = item.get("value"), desired[name]
            new_list.append({"name": name, "value": desired[name]})
        elif purge:
            before[name], after[name] = item.get("value"), None
        else:
            new_list.append(dict(item))
    for name, value in desired.items():
        if name not in current:
            before[name], after[name] = None, value
            new_list.append({"name": name, "value": value})
    return new_list, before, after


def resolve_rule_config(current_configs, wanted, where):
    """Find the policy's rule configuration for ``{name or id, category}``; raise CbcConfigError otherwise."""
    if wanted.get("id"):
        matches = [config for config in current_configs if config.get("id") == wanted["id"]]
        label = "id %s" % wanted["id"]
    else:
        matches = [config for config in current_configs if config.get("name") == wanted["name"]]
        label = repr(wanted["name"])
    if wanted.get("category"):
        matches = [config for config in matches if config.get("category") == wanted["category"]]
    if not matches:
        known = sorted("%s (%s)" % (config.get("name"), config.get("category")) for config in current_configs)
        raise CbcConfigError("%s: no rule configuration %s. Fix: use one of %s" % (where, label, ", ".join(known) or "(none)"))
    if len(matches) > 1:
        raise CbcConfigError("%s: %d rule configurations are named %s (ids %s). Fix: use id or category"
                             % (where, len(matches), label, ", ".join(str(config.get("id")) for config in matches)))
    config = matches[0]
    if config.get("category") not in PARAMETER_CATEGORIES:
        raise CbcConfigError("%s: rule configuration %s is in category %s, which this module does not manage. Fix: "
                             "remove it from rule_configs" % (where, config.get("name"), config.get("category")))
    known_parameters = config.get("parameters") or {}
    for key, value in wanted["parameters"].items():
        if key not in known_parameters:
            raise CbcConfigError("%s: rule configuration %s has no parameter %r. Fix: use one of %s"
                                 % (where, config.get("name"), key, ", ".join(sorted(known_parameters)) or "(none)"))
        if isinstance(known_parameters[key], bool) and not isinstance(value, bool):
            raise CbcConfigError("%s: parameter %s of %s must be true or false, not %r. Fix: use a YAML boolean"
                                 % (where, key, config.get("name"), value))
    return config


# The parameters an update of these categories carries, as the SDK sends them: the host-based firewall GET also
# returns ``rulesets``, which the SDK's update leaves out (HostBasedFirewallRuleConfig._update_ruleconfig).
UPDATE_PARAMETERS = {"host_based_firewall": ("enable_host_based_firewall", "default_rule", "rule_groups")}


def compare_rule_configs(current_configs, desired, where):
    """Return ``(updates by category, before, after)``; only stated parameters are compared."""
    updates, before, after = {}, {}, {}
    for wanted in desired:
        config = resolve_rule_config(current_configs or [], wanted, where)
        current_parameters = config.get("parameters") or {}
        differing = dict((key, value) for key, value in wanted["parameters"].items()
                         if current_parameters.get(key) != value)
        if differing:
            label = config.get("name") or config["id"]
            before[label] = dict((key, current_parameters.get(key)) for key in differing)
            after[label] = differing
            merged = dict(current_parameters)
            merged.update(wanted["parameters"])
            if config["category"] in UPDATE_PARAMETERS:
                merged = dict((key, value) for key, value in merged.items()
                              if key in UPDATE_PARAMETERS[config["category"]] or key in wanted["parameters"])
            updates.setdefault(config["category"], []).append({"id": config["id"], "parameters": merged})
    return updates, before, after


class PolicyPlan:
    """What applying one desired policy to the server's policy (or None) takes."""

    def __init__(self, body=None, rule_config_updates=None, before=None, after=None):
        self.body = body                              # full PUT/POST body, or None when nothing in it changes
        self.rule_config_updates = rule_config_updates or {}
        self.before = before or {}
        self.after = after or {}

    @property
    def changed(self):
        return bool(self.body is not None or self.rule_config_updates)


def plan_update(current, desired, purge_rules=False, purge_sensor_settings=False, name=None, where="policy"):
    """Compare a full server policy with a normalized desired state (``normalize_spec()['desired']``).

    Returns a PolicyPlan whose ``body`` is the server's policy with only the stated fields changed.
    """
    body = copy.deepcopy(current)
    before, after = {}, {}
    wanted = dict(desired)
    if name is not None:
        wanted["name"] = name
    for key in SCALAR_FIELDS:
        if key in wanted and current.get(key) != wanted[key]:
            before[key], after[key] = current.get(key), wanted[key]
            body[key] = wanted[key]
    for key in ("av_settings", "managed_detection_response_permissions"):
        if key in wanted:
            merged = deep_merge(current.get(key) or {}, wanted[key])
            if merged != (current.get(key) or {}):
                before[key], after[key] = project(current.get(key), wanted[key]), copy.deepcopy(wanted[key])
                body[key] = merged
    if "directory_action_rules" in wanted:
        current_dirs = current.get("directory_action_rules") or []
        if sorted(map(_canonical, current_dirs)) != sorted(map(_canonical, wanted["directory_action_rules"])):
            before["directory_action_rules"] = copy.deepcopy(current_dirs)
            after["directory_action_rules"] = copy.deepcopy(wanted["directory_action_rules"])
            body["directory_action_rules"] = copy.deepcopy(wanted["directory_action_rules"])
    if "rules" in wanted:
        new_rules, removed, changed = compare_rules(current.get("rules"), wanted["rules"], purge_rules)
        if removed or changed:
            before["rules"], after["rules"] = removed, changed
            body["rules"] = new_rules
    if "sensor_settings" in wanted:
        new_list, settings_before, settings_after = compare_sensor_settings(
            current.get("sensor_settings"), wanted["sensor_settings"], purge_sensor_settings)
        if settings_before:
            before["sensor_settings"], after["sensor_settings"] = settings_before, settings_after
            body["sensor_settings"] = new_list
    updates = {}
    if "rule_configs" in wanted:
        updates, configs_before, configs_after = compare_rule_configs(current.get("rule_configs"), wanted["rule_configs"],
                                                                      where)
        if configs_before:
            before["rule_configs"], after["rule_configs"] = configs_before, configs_after
    body_changed = any(key != "rule_configs" for key in before)
    return PolicyPlan(body if body_changed else None, updates, before, after)


def create_body(name, desired, org_key):
    """The POST body of a new policy: the stated fields, with ``org_key`` and ``version: 2`` as the SDK always
    sends them (its Policy and PolicyBuilder); the API fills in the rest."""
    body = {"org_key": org_key, "version": 2, "name": name, "description": desired.get("description", ""),
            "priority_level": desired.get("priority_level", DEFAULT_PRIORITY), "is_system": False,
            "rules": copy.deepcopy(desired.get("rules", [])),
            "sensor_settings": [{"name": key, "value": value} for key, value in desired.get("sensor_settings", {}).items()]}
    for key in ("av_settings", "directory_action_rules", "managed_detection_response_permissions",
                "auto_deregister_inactive_vdi_interval_ms", "auto_delete_known_bad_hashes_delay"):
        if key in desired:
            body[key] = copy.deepcopy(desired[key])
    return body


def stated_view(desired, name=None):
    """The stated fields of a desired policy, as shown in a diff of a creation."""
    view = {}
    if name is not None:
        view["name"] = name
    for key, value in desired.items():
        if key == "rule_configs":
            view[key] = dict((item.get("name") or item.get("id"), item["parameters"]) for item in value)
        else:
            view[key] = copy.deepcopy(value)
    return view


def apply_rule_config_result(policy, successful):
    """Update a policy object's rule_configs from the ``successful`` entries of a rule_configs PUT."""
    by_id = dict((item.get("id"), item) for item in successful or [])
    configs = []
    for config in policy.get("rule_configs") or []:
        configs.append(copy.deepcopy(by_id.get(config.get("id"), config)))
    policy["rule_configs"] = configs


def simulate_rule_configs(policy, updates):
    """The would-be policy of check mode: rule configuration parameters set locally."""
    for items in updates.values():
        for item in items:
            for config in policy.get("rule_configs") or []:
                if config.get("id") == item["id"]:
                    config["parameters"] = dict(item["parameters"])


# -- API ----------------------------------------------------------------------------------------------


def list_summaries(client):
    return (client.call("policies.summary") or {}).get("policies") or []


def get_policy(client, policy_id):
    policy = client.call("policies.get", policy_id=policy_id)
    if not isinstance(policy, dict) or policy.get("id") is None:
        raise PolicyError("the policy GET for id %s answered without a policy (%s). Fix: check that url is your CBC "
                          "console host, then re-run" % (policy_id, type(policy).__name__))
    return policy


def find_by_name(summaries, name):
    return [summary for summary in summaries if summary.get("name") == name]


def policy_ids(policies):
    return ", ".join(str(policy.get("id")) for policy in policies)


def identify(summaries, item):
    """Return the summary of the policy a desired item is about, or None (raises on ambiguity)."""
    if item["id"] is not None:
        match = [summary for summary in summaries if summary.get("id") == item["id"]]
        if item["name"] is not None and (not match or match[0].get("name") != item["name"]):
            # Only a real rename is refused; a policy that already shares its name can still be managed by id.
            others = [summary for summary in find_by_name(summaries, item["name"]) if summary.get("id") != item["id"]]
            if others and item["state"] == "present":
                raise CbcConfigError("%s: cannot rename policy %s to %r, the name is taken by id %s. Fix: choose "
                                     "another name" % (item["where"], item["id"], item["name"], policy_ids(others)))
        if not match and item["state"] == "present":
            raise CbcConfigError("%s: no policy has id %s. Fix: omit id to create the policy by name (the API assigns "
                                 "ids), or use an existing id" % (item["where"], item["id"]))
        return match[0] if match else None
    matches = find_by_name(summaries, item["name"])
    if len(matches) > 1:
        raise CbcConfigError("%s: %d policies are named %r (ids %s). Fix: set id to choose one, and rename or delete "
                             "the others" % (item["where"], len(matches), item["name"], policy_ids(matches)))
    return matches[0] if matches else None


def create_policy(client, body):
    """POST a new policy. When the answer is lost, the summary is read: a policy of that name is the one sent."""
    def confirm():
        matches = find_by_name(list_summaries(client), body["name"])
        if len(matches) == 1:
            return True, get_policy(client, matches[0]["id"])
        return False, None

    answer = reconciled_write(client, "the creation of policy %r" % body["name"],
                              lambda: client.call("policies.create", body=body), confirm)
    if is_full_policy(answer):
        return answer
    # The SDK reads the policy again when a write answers with less than the policy (no body, {"result": ...},
    # only an id): so do we.
    policy_id = answer.get("id") if isinstance(answer, dict) else None
    if policy_id is None:
        matches = find_by_name(list_summaries(client), body["name"])
        if len(matches) != 1:
            raise PolicyError("the API accepted the creation of policy %r without naming it in its answer, and %d "
                              "policies have that name now. Fix: check the org's policies, then re-run"
                              % (body["name"], len(matches)))
        policy_id = matches[0]["id"]
    return get_policy(client, policy_id)


def is_full_policy(answer):
    return isinstance(answer, dict) and answer.get("id") is not None and "name" in answer and "rules" in answer


def update_policy(client, policy_id, body, item):
    """PUT a policy. When its answer is lost, the policy is read back and compared with the desired state."""
    def confirm():
        now = get_policy(client, policy_id)
        again = plan_update(now, item["desired"], item["purge_rules"], item["purge_sensor_settings"], item["name"],
                            item["where"])
        return (again.body is None, now)

    return reconciled_write(client, "the update of policy %r (id %s)" % (body.get("name"), policy_id),
                            lambda: client.call("policies.update", body=body, policy_id=policy_id), confirm)


def delete_policy(client, policy_id, what):
    """DELETE a policy; a lost answer is checked by id (404 = deleted), and a 404 to a second send is success."""
    def confirm():
        try:
            get_policy(client, policy_id)
        except CbcApiError as error:
            if error.status == 404:
                return True, None
            raise
        return False, None

    return reconciled_write(client, what, delete_sender(lambda: client.call("policies.delete", policy_id=policy_id)),
                            confirm)


def _put_rule_configs(client, policy_id, category, items):
    """PUT one category's rule configurations; a lost answer is checked against the policy read back."""
    sent_ids = set(item["id"] for item in items)
    wanted = [{"id": item["id"], "name": None, "category": category, "parameters": item["parameters"]}
              for item in items]

    def confirm():
        now = get_policy(client, policy_id)
        left = compare_rule_configs(now.get("rule_configs"), wanted, "policy %s" % policy_id)[0]
        applied = [config for config in now.get("rule_configs") or [] if config.get("id") in sent_ids]
        return (not left, {"successful": applied, "failed": []})

    return reconciled_write(client, "the %s rule configuration update of policy %s" % (category, policy_id),
                            lambda: client.call("policies.rule_configs.update", body=items, policy_id=policy_id,
                                                category=category), confirm)


def update_rule_configs(client, policy_id, updates, where):
    """PUT each category's changed rule configurations; return the ``successful`` entries."""
    successful = []
    for category in sorted(updates):
        result = _put_rule_configs(client, policy_id, category, updates[category]) or {}
        if isinstance(result, list):
            # An echo of the request (the SDK ignores this answer for core_prevention and data_collection).
            successful.extend(entry for entry in result if isinstance(entry, dict) and entry.get("id"))
            continue
        successful.extend(result.get("successful") or [])
        failed = result.get("failed") or []
        if failed:
            reasons = "; ".join("%s: %s" % (item.get("id"), item.get("message")) for item in failed)
            raise PolicyError("%s: the API refused %d %s rule configuration update(s): %s. Fix: check the parameters "
                              "against cbc_policy_info's rule_configs" % (where, len(failed), category, reasons))
    return successful


def plan_all(client, items):
    """Read (1 summary + 1 GET per existing policy) and plan every item, before any write."""
    summaries = list_summaries(client)
    plans = []
    for item in items:
        summary = identify(summaries, item)
        entry = {"item": item, "summary": summary, "current": None, "plan": None}
        if item["state"] == "present":
            if summary is not None:
                entry["current"] = get_policy(client, summary["id"])
                entry["plan"] = plan_update(entry["current"], item["desired"], item["purge_rules"],
                                            item["purge_sensor_settings"], item["name"], item["where"])
            elif item["desired"].get("rule_configs"):
                # The new policy's rule configurations are only known after the POST: check their shape now.
                for wanted in item["desired"]["rule_configs"]:
                    if wanted.get("category") and wanted["category"] not in PARAMETER_CATEGORIES:
                        raise CbcConfigError("%s: category %s is not managed" % (item["where"], wanted["category"]))
        elif summary is not None and summary.get("num_devices") and not item["force"]:
            raise CbcConfigError("%s: policy %r (id %s) still has %d device(s). Fix: move them to another policy first "
                                 "(cbc_device policy_name), or set force: true to delete it anyway; CBC then moves them "
                                 "to the system default policy"
                                 % (item["where"], summary.get("name"), summary["id"], summary["num_devices"]))
        plans.append(entry)
    return plans


def apply_one(client, entry, check_mode):
    """Carry out one planned entry; return its result dict."""
    item, summary, current, plan = entry["item"], entry["summary"], entry["current"], entry["plan"]
    name = item["name"] if item["name"] is not None else (summary or {}).get("name")
    result = {"name": name, "id": (summary or {}).get("id"), "state": item["state"], "changed": False,
              "action": "none", "before": {}, "after": {}}
    if item["state"] == "absent":
        if summary is None:
            result["policy"] = None
            return result
        result.update(changed=True, action="deleted", moved_devices=summary.get("num_devices") or 0, policy=None,
                      before={"name": summary.get("name"), "id": summary["id"],
                              "num_devices": summary.get("num_devices") or 0},
                      after={})
        if not check_mode:
            delete_policy(client, summary["id"], "the deletion of policy %r (id %s)" % (summary.get("name"), summary["id"]))
        return result
    if summary is None:
        body = create_body(item["name"], item["desired"], client.org_key)
        result.update(changed=True, action="created", before={}, after=stated_view(item["desired"], item["name"]))
        if check_mode:
            result["policy"] = dict(body, id=None, position=None)
            return result
        created = create_policy(client, body)
        result["id"] = created.get("id")
        if item["desired"].get("rule_configs"):
            updates = compare_rule_configs(created.get("rule_configs"), item["desired"]["rule_configs"], item["where"])[0]
            if updates:
                apply_rule_config_result(created, update_rule_configs(client, created["id"], updates, item["where"]))
        result["policy"] = created
        return result
    result.update(before=plan.before, after=plan.after, changed=plan.changed,
                  action="updated" if plan.changed else "none")
    policy = copy.deepcopy(current)
    if plan.body is not None:
        if check_mode:
            policy = copy.deepcopy(plan.body)
        else:
            policy = update_policy(client, current["id"], plan.body, item)
            if not is_full_policy(policy):
                policy = get_policy(client, current["id"])
    if plan.rule_config_updates:
        if check_mode:
            simulate_rule_configs(policy, plan.rule_config_updates)
        else:
            apply_rule_config_result(policy, update_rule_configs(client, current["id"], plan.rule_config_updates,
                                                                 item["where"]))
    result["name"] = policy.get("name", name)
    result["policy"] = policy
    return result


def apply_policies(client, items, check_mode=False):
    """Plan every item (reads only), then write; return the per-policy results in input order.

    On an error part-way, the error carries ``results`` (what was already done).
    """
    entries = plan_all(client, items)
    results = []
    for entry in entries:
        try:
            results.append(apply_one(client, entry, check_mode))
        except CbcError as error:
            error.results = results
            raise
    return results


def get_policies(client, ids=None, names=None):
    """Full policies by id and/or name; return ``(policies, missing)``.

    Ids alone cost one GET each (404 = missing); names need the summary first.
    """
    wanted_ids = list(ids or [])
    missing = []
    if names:
        summaries = list_summaries(client)
        for name in names:
            matches = find_by_name(summaries, name)
            if not matches:
                missing.append(name)
            wanted_ids.extend(summary["id"] for summary in matches if summary["id"] not in wanted_ids)
    policies = []
    for policy_id in wanted_ids:
        try:
            policies.append(get_policy(client, policy_id))
        except CbcApiError as error:
            if error.status != 404:
                raise
            missing.append(policy_id)
    return policies, missing
