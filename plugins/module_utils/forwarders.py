# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Data Forwarder v2 (``/data_forwarder/v2/orgs/{org_key}/configs``): list (bare array or
``{"results": [...]}``), find by name or id, compare a desired definition with a config and build
the full-object PUT, for one forwarder or a list of them (one list request per task). No Ansible imports: usable
with any client that has ``call``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from .diff import changed_fields
from .errors import CbcApiError, CbcConfigError, CbcError
from .validation import check_name, check_not_empty, check_text
from .writes import delete_sender, reconciled_write

TYPES = ("alert", "auth.event", "endpoint.event", "watchlist.hit")
DESTINATIONS = ("aws_s3", "azure_blob_storage")
S3_FIELDS = ("s3_bucket_name", "s3_prefix")
# Azure forwarders write as a managed identity with a federated credential: no secret is part of the setup.
AZURE_FIELDS = ("azure_storage_account", "azure_container_name", "azure_tenant_id", "azure_client_id")
# What a task can state and the module compares.
COMPARED_FIELDS = ("name", "type", "enabled", "destination") + S3_FIELDS + AZURE_FIELDS + ("version_constraint", "filters")
DESTINATION_FIELDS = {"aws_s3": S3_FIELDS, "azure_blob_storage": AZURE_FIELDS}
# Kept by the server: left out of an update body, which otherwise carries every field the server returned.
SERVER_FIELDS = ("id", "org_key", "create_time", "update_time", "current_version")
# Pinned (1.0.0), patch-floating (1.0.*) or minor-floating (1.*.*).
VERSION_PATTERN = re.compile(r"^\d+\.(\d+\.(\d+|\*)|\*\.\*)$")
REGION_PATTERN = re.compile(r"\b((?:us|eu|ap|ca|sa|me|af|il|mx)(?:-gov)?-[a-z]+-\d)\b")
# Words of a 400 that come from the destination test write rather than from the body's fields.
DESTINATION_ERROR_PATTERN = re.compile(r"bucket|healthcheck|container|access ?denied|permission|policy", re.I)


# -- reading -------------------------------------------------------------------------------------

def forwarders_from_response(body):
    """The config list from a list response: a bare JSON array (real servers) or ``{"results": [...]}``."""
    if body is None:
        return []
    if isinstance(body, list):
        items = body
    elif isinstance(body, dict) and isinstance(body.get("results"), list):
        items = body["results"]
    else:
        raise CbcError("the data forwarder list is neither a JSON array nor an object with 'results' (got %s). "
                       "Fix: check that url is your CBC console host" % type(body).__name__)
    if not all(isinstance(item, dict) for item in items):
        raise CbcError("the data forwarder list holds entries that are not objects. Fix: check that url is your CBC "
                       "console host")
    return items


def list_forwarders(client):
    """Every forwarder config of the org.

    Some orgs answer the list with 404 when none is configured; so does any API for an org_key or url that is
    wrong. One read of the same org on the Devices API tells them apart: it answers, so the org has no forwarder;
    it is 404 too, so the org (or url) is wrong and the task fails. When that read is not permitted either, the
    list is taken as empty with a warning.
    """
    try:
        body = client.call("forwarders.list")
    except CbcApiError as error:
        if error.status != 404:
            raise
        _confirm_org(client, error)
        return []
    return forwarders_from_response(body)


class OrgNotFound(CbcConfigError):
    """The forwarder list and the Devices API both answer 404: the org_key or url is wrong."""


def _confirm_org(client, list_error):
    try:
        client.call("devices.search", body={"rows": 0})
    except CbcApiError as error:
        if error.status == 404:
            raise OrgNotFound("both the Data Forwarder API and the Devices API answer HTTP 404 for org_key %s at "
                              "%s, so the organization or the URL is wrong. Fix: check org_key and url (the CBC "
                              "console host of your organization)" % (client.org_key, client.url))
        client.warn("the data forwarder list answered HTTP 404 (%s), read as no forwarders configured; the org could "
                    "not be confirmed on the Devices API (HTTP %s)" % (list_error.api_message or "no message", error.status))


def find_forwarder(forwarders, name=None, config_id=None):
    """The config with ``config_id`` (when given) else the one named ``name``; None when there is none.

    Two or more configs with the name are an error that lists their ids.
    """
    if config_id is not None:
        for config in forwarders:
            if config.get("id") == config_id:
                return config
        return None
    matches = [config for config in forwarders if config.get("name") == name]
    if len(matches) > 1:
        raise CbcConfigError("%d data forwarders are named %r (ids %s). Fix: set id to the one to manage, and delete "
                             "or rename the others" % (len(matches), name, ", ".join(str(c.get("id")) for c in matches)))
    return matches[0] if matches else None


def health_check(client, config_id):
    """The health_check body of one config (the API answers 200 whether the test write worked or not)."""
    return client.call("forwarders.health_check", config_id=config_id)


# -- desired state -------------------------------------------------------------------------------

def normalize(config):
    """The compared fields of a config as the API returns it, with the defaults the API implies.

    Configs made before Azure support carry no ``destination``: they are S3. No ``s3_prefix`` or
    ``filters`` is the same as an empty one.
    """
    current = dict((key, config.get(key)) for key in COMPARED_FIELDS if key in config)
    if current.get("destination") is None:
        current["destination"] = "azure_blob_storage" if config.get("azure_container_name") else "aws_s3"
    if current["destination"] == "aws_s3" and not current.get("s3_prefix"):
        current["s3_prefix"] = ""
    if not current.get("filters"):
        current["filters"] = []
    return current


def check_identity(params):
    """``name`` and ``id`` of a forwarder task, when given: non-blank, no control characters, bounded length."""
    if params.get("name") is not None:
        check_name(params["name"], "name")
    if params.get("id") is not None:
        check_name(params["id"], "id", limit=64)


def desired_from_params(params):
    """The stated fields of a cbc_forwarder task, validated before any request (raises CbcConfigError).

    ``destination`` is implied by the S3 or Azure options when not stated.
    """
    check_identity(params)
    for key in AZURE_FIELDS + ("s3_bucket_name",):
        if params.get(key) is not None:
            check_name(params[key], key)
    if params.get("s3_prefix"):
        check_name(params["s3_prefix"], "s3_prefix", limit=1024)
    for index, item in enumerate(params.get("filters") or []):
        if isinstance(item, str) and item.strip():
            check_text(item, "filters[%d]" % index)
        elif not isinstance(item, dict) or not item:
            raise CbcConfigError("filters[%d] must be a filter object or string, got %r. Fix: write each filter as "
                                 "the Data Forwarder API takes it, or use filters: [] to remove them" % (index, item))
    desired = dict((key, params.get(key)) for key in COMPARED_FIELDS if params.get(key) is not None)
    s3_stated = [key for key in S3_FIELDS if key in desired]
    azure_stated = [key for key in AZURE_FIELDS if params.get(key) is not None]
    if s3_stated and azure_stated:
        raise CbcConfigError("%s and %s cannot be used together. Fix: use the S3 options for destination aws_s3 or "
                             "the Azure options for azure_blob_storage" % (", ".join(s3_stated), ", ".join(azure_stated)))
    destination = desired.get("destination")
    if destination is None and (s3_stated or azure_stated):
        destination = "aws_s3" if s3_stated else "azure_blob_storage"
        desired["destination"] = destination
    if destination == "aws_s3" and azure_stated:
        raise CbcConfigError("%s cannot be used with destination aws_s3. Fix: remove them or set destination: "
                             "azure_blob_storage" % ", ".join(azure_stated))
    if destination == "azure_blob_storage" and s3_stated:
        raise CbcConfigError("%s cannot be used with destination azure_blob_storage. Fix: remove them or set "
                             "destination: aws_s3" % ", ".join(s3_stated))
    if destination == "azure_blob_storage" and desired.get("type") == "endpoint.event":
        raise CbcConfigError("type endpoint.event cannot be forwarded to Azure Blob Storage. Fix: use destination "
                             "aws_s3 for endpoint events")
    version = desired.get("version_constraint")
    if version is not None and not VERSION_PATTERN.match(version):
        raise CbcConfigError("version_constraint must be a version (1.0.0), patch-floating (1.0.*) or minor-floating "
                             "(1.*.*), not %r. Fix: quote it, e.g. version_constraint: \"2.0.0\"" % version)
    if "s3_bucket_name" in desired and not desired["s3_bucket_name"].strip():
        raise CbcConfigError("s3_bucket_name must not be empty. Fix: set the bucket name (without s3://)")
    bucket = desired.get("s3_bucket_name") or ""
    if bucket.startswith("s3://") or bucket.startswith("arn:"):
        raise CbcConfigError("s3_bucket_name must be the bare bucket name, not %r. Fix: drop the s3:// or arn "
                             "part" % bucket)
    return desired


def _check_complete(body):
    missing = []
    if not body.get("name"):
        missing.append("name")
    if not body.get("type"):
        missing.append("type")
    destination = body.get("destination")
    if destination == "aws_s3" and not body.get("s3_bucket_name"):
        missing.append("s3_bucket_name")
    if destination == "azure_blob_storage":
        missing.extend(key for key in AZURE_FIELDS if not body.get(key))
    if missing:
        raise CbcConfigError("a new or re-targeted data forwarder needs %s. Fix: add %s to the task"
                             % (", ".join(missing), " and ".join(missing)))


class ForwarderPlan:
    """What cbc_forwarder does: ``action`` (created, updated, deleted, none), the request ``body``,
    the changed stated fields (``before``/``after``) and the would-be config."""

    def __init__(self, action, current=None, body=None, before=None, after=None, result=None):
        self.action = action
        self.current = current
        self.body = body
        self.before = before or {}
        self.after = after or {}
        self.result = result

    @property
    def changed(self):
        return self.action != "none"


def plan_present(current, desired, others=()):
    """Plan ``state: present``: create when ``current`` is None, else a full PUT when a stated field differs.

    The PUT carries every field of the config as the server returned it (fields set in the console, or that this
    collection does not know, survive), with the stated fields on top. ``others`` are the other configs (name
    clash check)."""
    if current is None:
        body = dict(desired)
        body.setdefault("destination", "aws_s3")
        if body.get("destination") == "aws_s3":
            body.setdefault("s3_prefix", "")
        _check_complete(body)
        return ForwarderPlan("created", body=body, after=dict(body), result=dict(body, id=None))

    existing = normalize(current)
    if "type" in desired and desired["type"] != existing.get("type"):
        raise CbcConfigError("data forwarder %r (id %s) has type %s; the type of a forwarder cannot be changed. Fix: "
                             "delete it (state: absent) and create it again with type %s, or use another name"
                             % (current.get("name"), current.get("id"), existing.get("type"), desired["type"]))
    new_name = desired.get("name")
    if new_name is not None and new_name != current.get("name"):
        clash = [config.get("id") for config in others if config.get("name") == new_name]
        if clash:
            raise CbcConfigError("cannot rename data forwarder %s to %r: forwarder %s already has that name. Fix: "
                                 "choose another name" % (current.get("id"), new_name, ", ".join(map(str, clash))))
    before, after = changed_fields(existing, desired)
    if not before:
        return ForwarderPlan("none", current=current, result=current)

    body = dict((key, value) for key, value in current.items() if key not in SERVER_FIELDS)
    body.setdefault("destination", existing["destination"])
    body.update(desired)
    destination = body["destination"]
    for other, fields in DESTINATION_FIELDS.items():
        if other != destination:
            for key in fields:
                body.pop(key, None)
    body = dict((key, value) for key, value in body.items() if value is not None)
    _check_complete(body)
    result = dict(current)
    result.update(body)
    for other, fields in DESTINATION_FIELDS.items():
        if other != destination:
            for key in fields:
                result.pop(key, None)
    return ForwarderPlan("updated", current=current, body=body, before=before, after=after, result=result)


def plan_absent(current):
    """Plan ``state: absent``: delete when the config exists."""
    if current is None:
        return ForwarderPlan("none")
    before = dict((key, value) for key, value in normalize(current).items() if key in current or key == "destination")
    return ForwarderPlan("deleted", current=current, before=before, result=current)


# -- writing -------------------------------------------------------------------------------------

class ForwarderDestinationError(CbcApiError):
    """A 400 from the API's test write to the destination, explained: bucket, region, prefix and the policy needed."""

    def __init__(self, error, body):
        self.body_destination = body.get("destination", "aws_s3")
        self.bucket = body.get("s3_bucket_name")
        self.prefix = (body.get("s3_prefix") or "").strip("/")
        match = REGION_PATTERN.search(error.api_message or "")
        self.region = match.group(1) if match else None
        self.container = body.get("azure_container_name")
        self.account = body.get("azure_storage_account")
        super(ForwarderDestinationError, self).__init__(error.method, error.path, error.status, error.api_message,
                                                        permission=error.permission)

    def _render(self):
        api = "HTTP %s: %s" % (self.status, self.api_message or "no message")
        if self.body_destination == "azure_blob_storage":
            return ("the Data Forwarder API could not write its test object to Azure container %r of storage account "
                    "%r (%s). Fix: give the managed identity azure_client_id a federated credential for Carbon Black "
                    "Cloud and a data role that can write blobs (e.g. Storage Blob Data Contributor) on the storage "
                    "account, and check azure_tenant_id (see docs/forwarders.md)" % (self.container, self.account, api))
        resource = "arn:aws:s3:::%s/%s*" % (self.bucket, self.prefix + "/" if self.prefix else "")
        region = ("region %s (the region of your CBC organization)" % self.region if self.region
                  else "the AWS region of your CBC organization")
        return ("the Data Forwarder API could not write its test object to S3 bucket %r under prefix %r (%s). Fix: the "
                "bucket must exist in %s, and its bucket policy must allow s3:PutObject for the Carbon Black Cloud "
                "forwarder principal on %s (see docs/forwarders.md)" % (self.bucket, self.prefix, api, region, resource))


def _send(client, endpoint, body, **path_params):
    try:
        return client.call(endpoint, body=body, **path_params)
    except CbcApiError as error:
        if error.status == 400 and DESTINATION_ERROR_PATTERN.search(error.api_message or ""):
            raise ForwarderDestinationError(error, body)
        raise


def apply_plan(client, plan, desired, known_ids):
    """Send the plan's one write; return the config as the API answered (None after a delete).

    A write whose answer was lost is reconciled from the forwarder list: a create by a config of that
    name that was not there before (``known_ids``), an update by its id and the ``desired`` fields, a delete
    by the id's absence.
    """
    if plan.action == "created":
        def created():
            new = [config for config in list_forwarders(client)
                   if config.get("name") == plan.body["name"] and config.get("id") not in known_ids]
            return (True, new[0]) if len(new) == 1 else (False, None)

        return reconciled_write(client, "the creation of data forwarder %r" % plan.body["name"],
                                lambda: _send(client, "forwarders.create", plan.body), created)
    config_id = plan.current["id"]
    if plan.action == "updated":
        def updated():
            now = find_forwarder(list_forwarders(client), config_id=config_id)
            if now is None:
                return False, None
            return not plan_present(now, desired).changed, now

        return reconciled_write(client, "the update of data forwarder %s" % config_id,
                                lambda: _send(client, "forwarders.update", plan.body, config_id=config_id), updated)
    if plan.action == "deleted":
        def deleted():
            return find_forwarder(list_forwarders(client), config_id=config_id) is None, None

        reconciled_write(client, "the deletion of data forwarder %s" % config_id,
                         delete_sender(lambda: client.call("forwarders.delete", config_id=config_id)), deleted)
        return None
    return plan.result


# -- many forwarders in one task ---------------------------------------------------------------------

class ForwarderItem:
    """One forwarder of a task, validated: its options, state and desired fields, and its label in messages."""

    def __init__(self, params, where=None):
        self.params = params
        self.state = params.get("state") or "present"
        label = params.get("name") or params.get("id")
        self.where = "%s (%s)" % (where, label) if where else None
        try:
            if self.state == "present":
                self.desired = desired_from_params(params)
            else:
                check_identity(params)
                self.desired = {}
        except CbcConfigError as error:
            raise self.error(str(error))

    def error(self, text):
        """A CbcConfigError whose message names this item when it is one of a list."""
        return CbcConfigError("%s: %s" % (self.where, text) if self.where else text)


def forwarder_items(params_list):
    """Validate the items of ``forwarders`` (each a dict of the single-forwarder options); the same name or id in
    two items is an error."""
    check_not_empty(params_list, "forwarders", "[{name: alerts-to-s3, type: alert, s3_bucket_name: acme-cbc}]")
    items, seen = [], {}
    for index, params in enumerate(params_list):
        item = ForwarderItem(params, "forwarders[%d]" % index)
        for key in ("name", "id"):
            value = params.get(key)
            if value is not None:
                if (key, value) in seen:
                    raise CbcConfigError("forwarders[%d] and forwarders[%d] are both %s %r. Fix: keep one"
                                         % (seen[(key, value)], index, key, value))
                seen[(key, value)] = index
        items.append(item)
    return items


class ForwarderEntry:
    """An item (or a forwarder that ``purge`` removes) with the config it is about and its plan."""

    def __init__(self, item, current, plan, purged=False):
        self.item = item
        self.current = current
        self.plan = plan
        self.purged = purged

    def result(self, forwarder=None):
        params = self.item.params if self.item else {}
        current = self.current or {}
        name = params.get("name") or current.get("name")
        return {"name": name, "id": current.get("id") if current else params.get("id"),
                "state": "absent" if self.purged else self.item.state, "action": self.plan.action,
                "changed": self.plan.changed, "purged": self.purged,
                "changes": {"before": self.plan.before, "after": self.plan.after},
                "forwarder": forwarder if forwarder is not None else self.plan.result}


def plan_forwarders(forwarders, items, purge=False):
    """Plan every item against the org's configs (read once), before any write; with ``purge``, also delete every
    config no item names. Two items that resolve to the same config are an error."""
    entries, claimed = [], {}
    for index, item in enumerate(items):
        params = item.params
        try:
            current = find_forwarder(forwarders, name=params.get("name"), config_id=params.get("id"))
        except CbcConfigError as error:
            raise item.error(str(error))
        if current is not None:
            if current.get("id") in claimed:
                raise item.error("forwarder %s is also managed by forwarders[%d]. Fix: keep one item for it"
                                 % (current.get("id"), claimed[current.get("id")]))
            claimed[current.get("id")] = index
        if item.state == "present":
            if current is None and params.get("id") is not None:
                raise item.error("no data forwarder has id %s. Fix: check id, or leave it out to create a forwarder "
                                 "named by name" % params["id"])
            others = [config for config in forwarders if config is not current]
            try:
                plan = plan_present(current, item.desired, others=others)
            except CbcConfigError as error:
                raise item.error(str(error))
        else:
            plan = plan_absent(current)
        entries.append(ForwarderEntry(item, current, plan))
    if purge:
        entries.extend(ForwarderEntry(None, config, plan_absent(config), purged=True)
                       for config in forwarders if config.get("id") not in claimed)
    return entries


def apply_forwarders(client, items, purge=False, check_mode=False):
    """Read the configs once, plan every item, then write in item order (purged deletes last); return one result
    per entry. On an error part-way, the error carries ``results`` (what was already done)."""
    forwarders = list_forwarders(client)
    entries = plan_forwarders(forwarders, items, purge=purge)
    known_ids = [config.get("id") for config in forwarders]
    results = []
    for entry in entries:
        forwarder = None
        if entry.plan.changed and not check_mode:
            try:
                answer = apply_plan(client, entry.plan, desired=entry.item.desired if entry.item else {},
                                    known_ids=known_ids)
            except CbcError as error:
                error.results = results
                raise
            if entry.plan.action != "deleted" and isinstance(answer, dict):
                forwarder = answer
        results.append(entry.result(forwarder))
    return results
