# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reputation overrides (``/appservices/v6/orgs/{org_key}/reputations/overrides``): validate a declared set of one
list and kind, read the current set with one paged search, plan the creates and deletes, and apply them.

The API has no update: an override whose stated fields differ is replaced (deleted, then created). Creates are one
POST per override (the API publishes no bulk create); deletes go in bulk (``_delete`` with a list of ids). No Ansible
imports: usable with any client that has ``call``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from .errors import CbcConfigError, CbcError, CbcWriteUnconfirmed
from .validation import check_name, check_not_empty, check_text
from .writes import reconciled_write

OVERRIDE_LISTS = ("WHITE_LIST", "BLACK_LIST")
OVERRIDE_TYPES = ("SHA256", "CERT", "IT_TOOL")
# The fields of each kind: the ones that identify an override (its key), then the ones compared when stated.
KEY_FIELDS = {"SHA256": ("sha256_hash",), "CERT": ("signed_by", "certificate_authority"), "IT_TOOL": ("path",)}
VALUE_FIELDS = {"SHA256": ("filename", "description"), "CERT": ("description",),
                "IT_TOOL": ("include_child_processes", "description")}
ITEM_FIELDS = ("sha256_hash", "filename", "signed_by", "certificate_authority", "path", "include_child_processes",
               "description")
SHA256_PATTERN = re.compile(r"^[0-9A-Fa-f]{64}$")
# Rows per search page. The server's default and maximum are not published; pages advance by the rows that came
# back, so a server that returns fewer still reads the whole set.
PAGE_ROWS = 1000
DEFAULT_BATCH_SIZE = 100


def override_key(override_type, override):
    """What identifies an override of a kind: its hash (any case), its signer and CA, or its path."""
    values = []
    for field in KEY_FIELDS[override_type]:
        value = override.get(field)
        if field == "sha256_hash" and isinstance(value, str):
            value = value.lower()
        values.append(value or None)
    return tuple(values)


def key_label(override_type, key):
    if override_type == "CERT":
        return "%s (CA %s)" % (key[0], key[1]) if key[1] else key[0]
    return key[0]


# -- the declared set ------------------------------------------------------------------------------

def desired_overrides(override_list, override_type, items, description=None):
    """Validate the declared overrides of one list and kind; return their create bodies, in order.

    Raises CbcConfigError before any request: a hash that is not 64 hex characters, an empty path, a certificate
    without its signer, a banned certificate or IT tool, a field of another kind, or the same override twice.
    """
    if override_list not in OVERRIDE_LISTS:
        raise CbcConfigError("override_list %r is not one of %s" % (override_list, ", ".join(OVERRIDE_LISTS)))
    if override_type not in OVERRIDE_TYPES:
        raise CbcConfigError("override_type %r is not one of %s" % (override_type, ", ".join(OVERRIDE_TYPES)))
    if override_list == "BLACK_LIST" and override_type != "SHA256":
        raise CbcConfigError("only SHA256 hashes can be banned (override_list BLACK_LIST); certificates and IT tools "
                             "can only be approved. Fix: use override_list: WHITE_LIST, or ban the hashes")
    if description is not None:
        check_text(description, "description")
    check_not_empty(items, "overrides", _EXAMPLES[override_type])
    allowed = KEY_FIELDS[override_type] + VALUE_FIELDS[override_type]
    bodies, seen = [], {}
    for index, item in enumerate(items or []):
        where = "overrides[%d]" % index
        stated = dict((field, value) for field, value in item.items() if value is not None)
        other = sorted(set(stated) - set(allowed))
        if other:
            raise CbcConfigError("%s has %s, which %s overrides do not take. Fix: use %s"
                                 % (where, ", ".join(other), override_type, ", ".join(allowed)))
        body = {"override_list": override_list, "override_type": override_type}
        if override_type == "SHA256":
            value = stated.get("sha256_hash")
            if not isinstance(value, str) or not SHA256_PATTERN.match(value.strip()):
                raise CbcConfigError("%s.sha256_hash must be 64 hexadecimal characters, not %r. Fix: give the "
                                     "file's SHA-256 hash" % (where, value))
            body["sha256_hash"] = value.strip().lower()
            if "filename" in stated:
                body["filename"] = check_name(stated["filename"], where + ".filename")
        elif override_type == "CERT":
            if not stated.get("signed_by") or not str(stated["signed_by"]).strip():
                raise CbcConfigError("%s needs signed_by, the certificate's signer. Fix: e.g. signed_by: Acme Corp"
                                     % where)
            body["signed_by"] = check_name(stated["signed_by"], where + ".signed_by")
            if stated.get("certificate_authority") is not None:
                body["certificate_authority"] = check_name(stated["certificate_authority"],
                                                           where + ".certificate_authority")
        else:
            if not stated.get("path") or not str(stated["path"]).strip():
                raise CbcConfigError("%s needs path, the IT tool's path (a file or directory, wildcards allowed). Fix: "
                                     "e.g. path: C:\\Program Files\\Tool\\tool.exe" % where)
            body["path"] = check_name(stated["path"], where + ".path", limit=1024)
            include = stated.get("include_child_processes")
            if include is not None and not isinstance(include, bool):
                raise CbcConfigError("%s.include_child_processes must be true or false, not %r" % (where, include))
            body["include_child_processes"] = bool(include)
        text = stated.get("description", description)
        if text is not None:
            body["description"] = check_text(text, where + ".description")
        key = override_key(override_type, body)
        if key in seen:
            raise CbcConfigError("overrides[%d] and overrides[%d] are the same override (%s). Fix: keep one"
                                 % (seen[key], index, key_label(override_type, key)))
        seen[key] = index
        bodies.append(body)
    return bodies


_EXAMPLES = {
    "SHA256": "[{sha256_hash: <64 hex characters>, filename: tool.exe}]",
    "CERT": "[{signed_by: Acme Corp, certificate_authority: DigiCert}]",
    "IT_TOOL": "[{path: C:\\Tools\\deploy.exe, include_child_processes: true}]",
}


# -- reading ---------------------------------------------------------------------------------------

def search_overrides(client, override_list=None, override_type=None, query=None, limit=None):
    """Every override matching the filters, with ``_search`` pages; return ``(overrides, num_found)``.

    ``start`` is a 0-based offset here (unlike devices and alerts), moved on by the rows each page returned.
    """
    criteria = {}
    if override_list:
        criteria["override_list"] = override_list
    if override_type:
        criteria["override_type"] = override_type
    body = {"sort_field": "create_time", "sort_order": "ASC"}
    if criteria:
        body["criteria"] = criteria
    if query:
        body["query"] = query
    found, num_found = [], None
    while True:
        rows = PAGE_ROWS if limit is None else min(PAGE_ROWS, limit - len(found))
        page_body = dict(body, rows=max(rows, 1))
        if found:
            page_body["start"] = len(found)
        page = client.call("reputations.search", body=page_body) or {}
        results = page.get("results") or []
        num_found = page.get("num_found", len(results))
        found.extend(results)
        target = num_found if limit is None else min(num_found, limit)
        if not results or len(found) >= target:
            break
    if limit is not None:
        del found[limit:]
    return found, num_found


# -- planning --------------------------------------------------------------------------------------

class OverridePlan:
    """The creates (bodies) and deletes (server overrides) that make one list and kind match, and the keys that
    already match. A replacement is one delete and one create of the same key."""

    def __init__(self, override_type):
        self.override_type = override_type
        self.creates = []
        self.deletes = []
        self.unchanged = []
        self.replaced = []

    @property
    def changed(self):
        return bool(self.creates or self.deletes)

    def labels(self, overrides):
        return [key_label(self.override_type, override_key(self.override_type, item)) for item in overrides]


def _differs(override_type, current, body):
    """Whether a stated field differs; the server's missing description or filename is "", a missing flag false."""
    for field in VALUE_FIELDS[override_type]:
        if field in body:
            value = bool(current.get(field)) if field == "include_child_processes" else current.get(field) or ""
            if value != body[field]:
                return True
    return False


def check_purge(state, purge):
    if purge and state != "present":
        raise CbcConfigError("purge works with state: present (the declared overrides are kept, the others deleted). "
                             "Fix: remove purge, or use state: present")


def plan_overrides(current, bodies, override_type, state="present", purge=False):
    """Compare the server's overrides of one list and kind with the declared ones.

    present: create the missing, replace those whose stated fields differ, and with ``purge`` delete the ones not
    declared. absent: delete the declared ones that exist. Two server overrides with the same key are both kept in
    mind: one matches, the others are duplicates that ``purge`` deletes.
    """
    check_purge(state, purge)
    plan = OverridePlan(override_type)
    by_key = {}
    for override in current:
        by_key.setdefault(override_key(override_type, override), []).append(override)
    declared = set()
    for body in bodies:
        key = override_key(override_type, body)
        declared.add(key)
        existing = by_key.get(key) or []
        if state == "absent":
            plan.deletes.extend(existing)
            continue
        matching = [override for override in existing if not _differs(override_type, override, body)]
        if matching:
            plan.unchanged.append(matching[0])
            if purge:
                plan.deletes.extend(override for override in existing if override is not matching[0])
        else:
            plan.deletes.extend(existing)
            if existing:
                plan.replaced.append(body)
            plan.creates.append(body)
    if purge:
        for key, overrides in by_key.items():
            if key not in declared:
                plan.deletes.extend(overrides)
    return plan


# -- writing ---------------------------------------------------------------------------------------

class OverrideWriteError(CbcError):
    """The API answered a bulk delete with errors."""


def _ids_present(client, override_list, override_type, ids):
    current, _found = search_overrides(client, override_list, override_type)
    present = set(override.get("id") for override in current)
    return [override_id for override_id in ids if override_id in present]


def delete_overrides(client, overrides, override_list, override_type, deleted, batch_size=DEFAULT_BATCH_SIZE):
    """Bulk-delete in batches, appending the ids of each batch done to ``deleted``; a lost answer is checked by
    searching for the batch's ids again."""
    ids = [override["id"] for override in overrides]
    for start in range(0, len(ids), batch_size):
        batch = ids[start:start + batch_size]

        def confirm(batch=batch):
            return (not _ids_present(client, override_list, override_type, batch), None)

        answer = reconciled_write(client, "the deletion of %d reputation override(s)" % len(batch),
                                  lambda batch=batch: client.call("reputations.bulk_delete", body=batch), confirm)
        # An id already gone (deleted in the console since the search) is where the task wants it: absent.
        gone, refused = set(), []
        for error in (answer.get("errors") if isinstance(answer, dict) else None) or []:
            if isinstance(error, dict) and error.get("error_code") == "NOT_FOUND":
                gone.add(error.get("id"))
            else:
                refused.append(error)
        if refused:
            # The ids the answer lists as deleted were deleted, even though others of the batch were refused.
            done = gone | set(answer.get("results") or [])
            deleted.extend(override_id for override_id in batch if override_id in done)
            raise OverrideWriteError("the API refused to delete %d of %d reputation override(s): %s. Fix: check the "
                                     "ids with cbc_reputation_override_info, then re-run" % (len(refused), len(batch), refused))
        deleted.extend(batch)


def create_override(client, body):
    """POST one override; a lost answer is checked by searching for its key (present = created)."""
    override_type = body["override_type"]
    key = override_key(override_type, body)

    def confirm():
        current, _found = search_overrides(client, body["override_list"], override_type)
        matches = [override for override in current if override_key(override_type, override) == key]
        return (True, matches[-1]) if matches else (False, None)

    return reconciled_write(client, "the creation of reputation override %s" % key_label(override_type, key),
                            lambda: client.call("reputations.create", body=body), confirm)


def apply_override_plan(client, plan, override_list, batch_size=DEFAULT_BATCH_SIZE):
    """Deletes first (a replacement must not collide with the override it replaces), then one create each.

    Return ``(created, deleted_ids)``. On an error part-way, the error carries ``created`` and ``deleted``: what was
    done before it.
    """
    created, deleted = [], []
    try:
        if plan.deletes:
            delete_overrides(client, plan.deletes, override_list, plan.override_type, deleted, batch_size)
        for body in plan.creates:
            answer = create_override(client, body)
            created.append(answer if isinstance(answer, dict) and answer.get("id") else dict(body))
    except CbcError as error:
        error.created, error.deleted = created, deleted
        raise
    return created, deleted


# -- reporting -------------------------------------------------------------------------------------

class OverrideOutcome:
    """What a plan did: the overrides created and deleted and, when it stopped part-way, those not created, not
    deleted, and those whose write was sent but could not be confirmed (``unconfirmed``: the create in flight, or
    the delete batch in flight, after a CbcWriteUnconfirmed)."""

    def __init__(self, plan, created, deleted_ids, error=None, batch_size=DEFAULT_BATCH_SIZE):
        gone = set(deleted_ids)
        self.plan = plan
        self.created = list(created)
        self.deleted = [override for override in plan.deletes if override.get("id") in gone]
        self.not_deleted = [override for override in plan.deletes if override.get("id") not in gone]
        # Creates run one at a time, in plan order, after every delete.
        self.not_created = list(plan.creates[len(self.created):])
        self.unconfirmed, self.unconfirmed_write = [], None
        if isinstance(error, CbcWriteUnconfirmed):
            if self.not_deleted:
                self.unconfirmed, self.not_deleted = self.not_deleted[:batch_size], self.not_deleted[batch_size:]
                self.unconfirmed_write = "deletion"
            elif self.not_created:
                self.unconfirmed, self.not_created = self.not_created[:1], self.not_created[1:]
                self.unconfirmed_write = "creation"

    @property
    def changed(self):
        return bool(self.created or self.deleted or self.unconfirmed)

    def failure_details(self):
        return dict(changed=self.changed, created=self.created, deleted=self.deleted, not_created=self.not_created,
                    not_deleted=self.not_deleted, unconfirmed=self.unconfirmed)

    def failure_text(self):
        """One sentence on what was done before the failure and what was not, by hash, signer or path."""
        plan = self.plan
        done = []
        if plan.deletes:
            done.append("deleted %d of %d%s" % (len(self.deleted), len(plan.deletes), _listed(plan, self.deleted)))
        if plan.creates:
            done.append("created %d of %d%s" % (len(self.created), len(plan.creates), _listed(plan, self.created)))
        parts = ["Before the failure it %s" % ", ".join(done)]
        if self.unconfirmed:
            parts.append("the %s%s may have been applied" % (self.unconfirmed_write, _listed(plan, self.unconfirmed)))
        if self.not_deleted:
            parts.append("not deleted%s" % _listed(plan, self.not_deleted))
        if self.not_created:
            parts.append("not created%s" % _listed(plan, self.not_created))
        return "%s. A re-run reads the list again and sends only what is still needed." % "; ".join(parts)


def _listed(plan, overrides, limit=5):
    labels = plan.labels(overrides)
    if not labels:
        return ""
    more = " and %d more" % (len(labels) - limit) if len(labels) > limit else ""
    return " (%s%s)" % (", ".join(labels[:limit]), more)
