"""Policy Service body validation: the enums of policy fields, and the checks of a policy POST/PUT body, a rule
and rule configuration parameters. Every check raises a 400 (``bad_request``), except ``check_parameters``, whose
``ValueError`` the caller turns into a 400 or a ``failed`` entry.

No state is read or changed here: the handlers (``policies.py``) call these checks before they change a policy.
"""

from cbcsim.policy_seed import parameter_schema
from cbcsim.protocol import bad_request

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


def check_rule_unique(rules, rule, rule_id):
    """Raise a 400 if another rule than ``rule_id`` in ``rules`` has the application and operation of ``rule``."""
    key = (rule["application"]["type"], rule["application"]["value"], rule["operation"])
    for other in rules:
        if other["id"] != rule_id and (other["application"]["type"], other["application"]["value"], other["operation"]) == key:
            raise bad_request("rule {0} already covers this application and operation".format(other["id"]))


def check_parameters(config, parameters):
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
