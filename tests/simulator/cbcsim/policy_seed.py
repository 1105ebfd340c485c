"""Policy Service seed data (facts section 4): the seeded full policies (Standard, Advanced, Monitored) with their
prevention rules, the console's default settings of a new policy, and the org's rule configuration catalogue with
each configuration's parameters, defaults and allowed values.

Data and builders only: no validation (``policy_validation.py``) and no routes (``policies.py``).
"""

import copy

#: The rule configuration categories (``/rule_configs/{category}``).
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
