# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Policy Service v1 calls: read the summary and policies, identify the policy a task means, and apply plans.

The read cost of applying N policies is one ``policies/summary`` plus one ``GET`` per existing policy; a policy
whose body differs gets exactly one full-object ``PUT`` (the server's unstated settings ride along unchanged), and
rule configurations whose parameters differ get one ``PUT`` per category. Writes whose answer is lost are reconciled
with the server (``writes.reconciled_write``). No Ansible imports: usable with any client that has ``call``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from .errors import CbcApiError, CbcConfigError, CbcError
from .policy_plan import (apply_rule_config_result, compare_rule_configs, create_body, plan_update, simulate_rule_configs,
                          stated_view)
from .policy_spec import PARAMETER_CATEGORIES
from .writes import delete_sender, reconciled_write


class PolicyError(CbcError):
    """A write that the API partly refused (rule_configs ``failed`` entries)."""


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
