# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The desired policy: the enumerations of Policy Service v1 and the validation of a task's policies.

Everything here runs before any request: a bad value fails with the allowed values named. No Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from .errors import CbcConfigError
from .validation import check_id, check_name, check_not_empty, check_text

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
