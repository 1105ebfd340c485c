# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Data Forwarder v2 (``/data_forwarder/v2/orgs/{org_key}/configs``): list (bare array or
``{"results": [...]}``), find by name or id, compare a desired definition with a config and build
the full-object PUT. No Ansible imports: usable with any client that has ``call``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from .diff import changed_fields
from .errors import CbcApiError, CbcConfigError, CbcError
from .validation import check_name, check_text
from .writes import delete_sender, reconciled_write

TYPES = ("alert", "endpoint.event", "watchlist.hit")
DESTINATIONS = ("aws_s3", "azure_blob_storage")
S3_FIELDS = ("s3_bucket_name", "s3_prefix")
AZURE_FIELDS = ("azure_storage_account", "azure_container_name", "azure_tenant_id", "azure_client_id")
SECRET_FIELD = "azure_client_secret"
# What a task can state and the module compares (the secret is write-only, never compared).
COMPARED_FIELDS = ("name", "type", "enabled", "destination") + S3_FIELDS + AZURE_FIELDS + ("version_constraint", "filter")
DESTINATION_FIELDS = {"aws_s3": S3_FIELDS, "azure_blob_storage": AZURE_FIELDS}
SERVER_FIELDS = ("id", "org_key", "create_time", "update_time", "current_version")
UPDATE_SECRET_CHOICES = ("always", "on_create")
VERSION_PATTERN = re.compile(r"^\d+\.\d+\.\d+$")
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
    """Every forwarder config of the org. A 404 means none configured (facts section 7.1), so ``[]``."""
    try:
        body = client.call("forwarders.list")
    except CbcApiError as error:
        if error.status == 404:
            return []
        raise
    return forwarders_from_response(body)


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
    ``filter`` is the same as an empty one.
    """
    current = dict((key, config.get(key)) for key in COMPARED_FIELDS if key in config)
    if current.get("destination") is None:
        current["destination"] = "azure_blob_storage" if config.get("azure_container_name") else "aws_s3"
    if current["destination"] == "aws_s3" and not current.get("s3_prefix"):
        current["s3_prefix"] = ""
    if not current.get("filter"):
        current["filter"] = ""
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
    if params.get("filter") is not None:
        check_text(params["filter"], "filter")
    desired = dict((key, params.get(key)) for key in COMPARED_FIELDS if params.get(key) is not None)
    s3_stated = [key for key in S3_FIELDS if key in desired]
    azure_stated = [key for key in AZURE_FIELDS + (SECRET_FIELD,) if params.get(key) is not None]
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
        raise CbcConfigError("version_constraint must look like 1.0.0, not %r. Fix: quote it, e.g. "
                             "version_constraint: \"2.0.0\"" % version)
    if "s3_bucket_name" in desired and not desired["s3_bucket_name"].strip():
        raise CbcConfigError("s3_bucket_name must not be empty. Fix: set the bucket name (without s3://)")
    bucket = desired.get("s3_bucket_name") or ""
    if bucket.startswith("s3://") or bucket.startswith("arn:"):
        raise CbcConfigError("s3_bucket_name must be the bare bucket name, not %r. Fix: drop the s3:// or arn "
                             "part" % bucket)
    return desired


def _check_complete(body, secret, changes_destination):
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
        if changes_destination and not secret:
            missing.append(SECRET_FIELD)
    if missing:
        raise CbcConfigError("a new or re-targeted data forwarder needs %s. Fix: add %s to the task"
                             % (", ".join(missing), " and ".join(missing)))


class ForwarderPlan:
    """What cbc_forwarder does: ``action`` (created, updated, deleted, none), the request ``body``,
    the changed stated fields (``before``/``after``), whether the secret is sent, and the would-be config."""

    def __init__(self, action, current=None, body=None, before=None, after=None, secret_sent=False, result=None):
        self.action = action
        self.current = current
        self.body = body
        self.before = before or {}
        self.after = after or {}
        self.secret_sent = secret_sent
        self.result = result

    @property
    def changed(self):
        return self.action != "none"


def plan_present(current, desired, secret=None, update_secret="on_create", others=()):
    """Plan ``state: present``: create when ``current`` is None, else a full PUT of the merged config when a
    stated field differs (or the secret must be sent). ``others`` are the other configs (name clash check)."""
    if current is None:
        body = dict(desired)
        body.setdefault("destination", "aws_s3")
        if body.get("destination") == "aws_s3":
            body.setdefault("s3_prefix", "")
        _check_complete(body, secret, True)
        if secret:
            body[SECRET_FIELD] = secret
        after = dict((key, value) for key, value in body.items() if key != SECRET_FIELD)
        result = dict(after, id=None)
        shown = dict(after)
        if secret:
            shown[SECRET_FIELD] = "<sent>"
        return ForwarderPlan("created", body=body, after=shown, secret_sent=bool(secret), result=result)

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
    changes_destination = desired.get("destination", existing["destination"]) != existing["destination"]
    send_secret = bool(secret) and (update_secret == "always" or changes_destination)
    if not before and not send_secret:
        return ForwarderPlan("none", current=current, result=current)

    merged = dict(existing)
    merged.update(desired)
    destination = merged["destination"]
    for other, fields in DESTINATION_FIELDS.items():
        if other != destination:
            for key in fields:
                merged.pop(key, None)
    if not merged.get("filter"):
        merged.pop("filter", None)
    merged = dict((key, value) for key, value in merged.items() if value is not None)
    _check_complete(merged, secret, changes_destination and destination == "azure_blob_storage")
    result = dict(current)
    for key in COMPARED_FIELDS:
        result.pop(key, None)
    result.update(merged)
    body = dict(merged)
    if send_secret:
        body[SECRET_FIELD] = secret
        before[SECRET_FIELD] = "<write-only>"
        after[SECRET_FIELD] = "<sent>"
    return ForwarderPlan("updated", current=current, body=body, before=before, after=after, secret_sent=send_secret,
                         result=result)


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
                    "%r (%s). Fix: give the app registration azure_client_id write access to the container (e.g. the "
                    "Storage Blob Data Contributor role) and check azure_tenant_id and azure_client_secret"
                    % (self.container, self.account, api))
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
