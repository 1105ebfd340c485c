# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Comparison and planning: a desired policy (``policy_spec.normalize_spec``) against the server's.

A PolicyPlan holds the one full-object PUT body (or None) and the rule-configuration PUTs per category, with the
before/after views that diff and the results show. Check mode and apply share the plan. No requests, no Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

from .errors import CbcConfigError
from .policy_spec import DEFAULT_PRIORITY, PARAMETER_CATEGORIES, SCALAR_FIELDS, rule_content, rule_key


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
