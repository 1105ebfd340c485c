# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cbc_devices
short_description: Carbon Black Cloud devices as an Ansible inventory
version_added: 1.1.0
author:
  - carbonblack.cloud contributors (@carbonblack)
description:
  - Reads the devices of a Carbon Black Cloud organization that match O(criteria), O(exclusions) and O(query) and
    makes each one a host, with the device fields named in O(fields) as host variables under O(hostvar_prefix).
  - The inventory file name must end in C(cbc_devices.yml) or C(cbc_devices.yaml).
  - The connection options are those of the modules, with the same precedence (options in the file > credential
    profile > C(CBC_*) environment variables > the SDK's defaults) and the same checks before any request. An
    AWX/AAP inventory source gets them from the collection's credential type (C(docs/awx.md)).
  - Devices are read in pages of 10,000 (C(_search), then C(_scroll) past 10,000), so 20,000 devices take three
    requests. Each page is trimmed to the fields needed as it is decoded.
  - An empty selection never means every device. Set O(criteria) or O(query), or O(all_devices=true) to list the
    whole organization. A criterion with an empty list, O(criteria={}) or a blank O(query) is an error.
  - Host names come from O(hostnames), the first entry that gives a non-empty value. When several devices get the
    same host name, the most recently seen device (the latest C(last_contact_time), then the highest C(id)) keeps
    it, and each other device is named C(<name>_<id>). One warning lists them.
  - Every error is one line that says what happened and what to fix, raised before any request where possible. No
    secret appears in a message.
options:
  plugin:
    description: The name of this plugin. It must be V(carbonblack.cloud.cbc_devices).
    type: str
    required: true
    choices: [carbonblack.cloud.cbc_devices]
  criteria:
    description:
      - "The Devices API search criteria, as in M(carbonblack.cloud.cbc_device_info): lists of values (OR within a
        field, AND across fields), except C(last_contact_time), which is C({range: -7d}) or C({start: ..., end: ...})."
      - Keys must be device fields; values of C(os), C(status), C(target_priority) and C(deployment_type) are checked
        against the API's enumerations before any request.
    type: dict
  exclusions:
    description:
      - Criteria that exclude devices, in the same form as O(criteria). They narrow a selection; alone they select
        nothing.
    type: dict
  query:
    description:
      - A search query string, for example C(name:web-*) or C(sensor_version:2.13*).
    type: str
  all_devices:
    description:
      - List every device of the organization. Cannot be combined with O(criteria) or O(query).
      - Without it, O(criteria) or O(query) is required.
    type: bool
    default: false
  fields:
    description:
      - The device fields to set as host variables, each named O(hostvar_prefix) + field (for example
        C(cbc_policy_name)). C(id) is always included. Unknown field names are an error before any request.
      - Fields needed for O(hostnames), O(ansible_host_field) and the duplicate-name rule are read too, but are host
        variables only when listed here.
    type: list
    elements: str
    default: [id, name, os, os_version, status, policy_id, policy_name, sensor_version, sensor_kit_type,
              last_contact_time, last_internal_ip_address, last_external_ip_address, deployment_type, quarantined,
              target_priority]
  hostnames:
    description:
      - The host name of each device, in order of preference; the first entry that gives a non-empty value wins.
      - An entry is one of the device fields V(name), V(last_internal_ip_address), V(last_external_ip_address) and
        V(id), or a Jinja2 template over the host variables, for example C({{ cbc_name | lower }}).
      - A device for which no entry gives a value is left out (one warning counts them). A template that fails counts
        as empty, unless O(strict=true), when it is an error.
    type: list
    elements: str
    default: [name, id]
  ansible_host_field:
    description:
      - The device field set as C(ansible_host), when the device has a value for it.
      - Empty leaves C(ansible_host) unset. O(compose) may set C(ansible_host) too; O(compose) wins.
    type: str
    default: last_internal_ip_address
  hostvar_prefix:
    description:
      - Prefix of the host variable names made from O(fields). O(compose), O(groups), O(keyed_groups) and templates in
        O(hostnames) see the variables with this prefix.
    type: str
    default: cbc_
extends_documentation_fragment:
  - carbonblack.cloud.auth
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
notes:
  - With O(cache=true) the devices are stored in the cache plugin's store (for example C(cache_plugin=jsonfile)
    with C(cache_connection) a directory) and the next run within O(cache_timeout) sends no request at all. The cache
    holds the trimmed devices only, never settings or secrets. A change of the selection, the fields or the
    organization is not served from the cache; C(ansible-inventory --flush-cache) reads the API again.
  - Connection options given as Jinja2 templates in the file (for example a vault or environment lookup) are
    rendered before use, as are O(criteria), O(exclusions) and O(query).
  - The plugin runs on the controller (or in the execution environment) and needs C(requests) there.
seealso:
  - module: carbonblack.cloud.cbc_device_info
  - plugin: ansible.builtin.constructed
    plugin_type: inventory
"""

EXAMPLES = r"""
# cbc_servers.cbc_devices.yml: Windows servers in the Servers policy, grouped by OS version.
plugin: carbonblack.cloud.cbc_devices
profile: default
criteria:
  os: [WINDOWS]
  policy_name: [Servers]
  status: [REGISTERED]
keyed_groups:
  - key: cbc_os_version
    prefix: os_version
---
# cbc_stale.cbc_devices.yml: devices not seen for 7 days (seen within the last year, but not the last week).
plugin: carbonblack.cloud.cbc_devices
criteria:
  last_contact_time:
    start: "2025-01-01T00:00:00.000Z"
    end: "{{ '%Y-%m-%dT%H:%M:%S.000Z' | strftime(now(utc=true).timestamp() - 7 * 86400, utc=true) }}"
---
# cbc_old_sensors.cbc_devices.yml: Linux sensors older than 2.15, by policy and OS, reached on the external address.
plugin: carbonblack.cloud.cbc_devices
query: "os:LINUX AND (sensor_version:2.13* OR sensor_version:2.14*)"
hostnames:
  - "{{ cbc_name | lower }}"
  - id
ansible_host_field: ""
compose:
  ansible_host: cbc_last_external_ip_address
keyed_groups:
  - key: cbc_policy_name
    prefix: policy
  - key: cbc_os | lower
    prefix: os
groups:
  quarantined: cbc_quarantined
---
# cbc_all.cbc_devices.yml: the whole organization, a few fields, cached for an hour.
plugin: carbonblack.cloud.cbc_devices
url: https://defense-prod05.conferdeploy.net
org_key: ABCD1234
token: "{{ lookup('ansible.builtin.env', 'MY_CBC_TOKEN') }}"
all_devices: true
fields: [name, os, policy_name, status]
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/cbc_inventory
cache_timeout: 3600
"""

import re
import hashlib
import json

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.vars import combine_vars

from ansible_collections.carbonblack.cloud.plugins.module_utils.auth import select_auth
from ansible_collections.carbonblack.cloud.plugins.module_utils.cbc_module import (
    AUTH_ARGUMENT_SPEC, DEFAULT_TIMEOUT, check_connection_ranges)
from ansible_collections.carbonblack.cloud.plugins.module_utils.client import (
    DEFAULT_RETRIES, DEFAULT_RETRY_MAX_WAIT, CbcClient)
from ansible_collections.carbonblack.cloud.plugins.module_utils.devices import (
    DEVICE_FIELDS, returned_fields, search_devices, selection_from_params)
from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import CbcConfigError, CbcError
from ansible_collections.carbonblack.cloud.plugins.module_utils.settings import resolve_settings, validate_settings

# Device fields a hostnames entry may name (anything else must be a template).
HOSTNAME_FIELDS = ("name", "last_internal_ip_address", "last_external_ip_address", "id")
# What the duplicate-name rule compares: the most recently seen device, then the highest id, keeps a name.
SEEN_FIELDS = ("last_contact_time", "id")
# Options rendered as templates before use (connection and selection); the rest are templates per host or plain.
TEMPLATED_SELECTION = ("criteria", "exclusions", "query")
CACHE_FORMAT = 1
# The numeric connection options when the file leaves them unset, as in the modules.
CONNECTION_DEFAULTS = {"timeout": DEFAULT_TIMEOUT, "retries": DEFAULT_RETRIES, "retry_max_wait": DEFAULT_RETRY_MAX_WAIT,
                       "token_cache": True}
# The warning lists at most this many shared host names, and this many renamed devices of each.
LISTED_DUPLICATES = 20
LISTED_RENAMED = 5
_PREFIX_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)?$")
_NAME_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")
# Bare words Jinja reads as literals, not variables.
_JINJA_LITERALS = frozenset(("true", "false", "none", "True", "False", "None"))
_UNSET = object()
_TIME_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?")


def seen_key(device):
    """Sort key of the duplicate-name rule: (has a contact time, that time, id); larger is more recently seen."""
    match = _TIME_RE.match(str(device.get("last_contact_time") or ""))
    device_id = device.get("id")
    device_id = device_id if isinstance(device_id, int) and not isinstance(device_id, bool) else -1
    if not match:
        return (0, (), device_id)
    fraction = int((match.group(7) or "0")[:6].ljust(6, "0"))
    return (1, tuple(int(part) for part in match.groups()[:6]) + (fraction,), device_id)


def assign_host_names(entries):
    """Apply the duplicate-name rule to ``[(host name, device), ...]``.

    Returns ``(names, shared)``: the final host name of each entry, in order, and ``{shared name: [device ids]}``
    with the id that keeps the name first. The others are named ``<name>_<id>`` (``_<id>`` is added again in the
    unlikely case that name is taken too).
    """
    names = [name for name, unused_device in entries]
    by_name = {}
    for index, name in enumerate(names):
        by_name.setdefault(name, []).append(index)
    taken = set(by_name)
    shared = {}
    for name, indexes in by_name.items():
        if len(indexes) < 2:
            continue
        ordered = sorted(indexes, key=lambda index: seen_key(entries[index][1]), reverse=True)
        shared[name] = [entries[index][1].get("id") for index in ordered]
        for index in ordered[1:]:
            suffix = "_%s" % entries[index][1].get("id")
            candidate = name + suffix
            while candidate in taken:
                candidate += suffix
            taken.add(candidate)
            names[index] = candidate
    return names, shared


def duplicates_warning(shared):
    """One line naming the shared host names (at most LISTED_DUPLICATES of them) and how they were resolved."""
    devices = sum(len(ids) for ids in shared.values())
    listed = []
    for name in sorted(shared)[:LISTED_DUPLICATES]:
        ids = shared[name]
        renamed = ", ".join("%s_%s" % (name, other) for other in ids[1:LISTED_RENAMED + 1])
        if len(ids) > LISTED_RENAMED + 1:
            renamed += " and %d more" % (len(ids) - LISTED_RENAMED - 1)
        listed.append("%s (kept by %s; %s)" % (name, ids[0], renamed))
    more = len(shared) - len(listed)
    return ("cbc_devices: %d host name(s) are shared by %d devices; the most recently seen device (last_contact_time, "
            "then highest id) keeps each name and the others are named <name>_<id>: %s%s"
            % (len(shared), devices, "; ".join(listed), "; and %d more" % more if more > 0 else ""))


def cache_signature(settings, selection, fetched):
    """What the cached devices were read for (no secret): another org, selection or field list is a cache miss."""
    text = json.dumps([CACHE_FORMAT, settings["url"].rstrip("/").lower(), settings["org_key"], selection.search_body(),
                       list(fetched)], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Plan:
    """The validated options of one inventory source."""

    def __init__(self, **values):
        self.__dict__.update(values)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = "carbonblack.cloud.cbc_devices"

    def verify_file(self, path):
        if super(InventoryModule, self).verify_file(path) and path.endswith(("cbc_devices.yml", "cbc_devices.yaml")):
            return True
        self.display.vvv("Skipping %s: a carbonblack.cloud.cbc_devices inventory file name ends in cbc_devices.yml or "
                         "cbc_devices.yaml" % path)
        return False

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache=cache)
        self._read_config_data(path)
        try:
            plan = self._plan()
            devices = self._devices(path, plan, cache)
        except CbcError as error:
            raise AnsibleParserError(str(error))
        self._populate(devices, plan)

    # -- options -----------------------------------------------------------------------------------------------
    def _rendered(self, name):
        """An option's value, its templates rendered (lookups of vaulted or environment secrets, for example)."""
        value = self.get_option(name)
        if value is None or isinstance(value, (bool, int)):
            return value
        try:
            return self.templar.template(value)
        except Exception as error:  # pylint: disable=broad-except
            # The message names the option and the template error, never the rendered value.
            raise CbcConfigError("%s could not be rendered (%s). Fix: correct the template in the inventory file"
                                 % (name, " ".join(str(error).split())[:200]))

    def _plan(self):
        """Check every option before any request or credential read; raises CbcConfigError."""
        prefix = self.get_option("hostvar_prefix")
        prefix = "" if prefix is None else prefix
        if not _PREFIX_RE.match(prefix):
            raise CbcConfigError("hostvar_prefix %r cannot start a variable name. Fix: use letters, digits and "
                                 "underscores, not starting with a digit, e.g. cbc_" % prefix)
        fields = self.get_option("fields")
        if not fields:
            raise CbcConfigError("fields is empty. Fix: name the device fields to set as host variables, e.g. "
                                 "[name, os, policy_name], or remove the option for the default set")
        fields = returned_fields(fields)
        hostnames = self._hostnames()
        host_field = self.get_option("ansible_host_field") or None
        if host_field is not None and host_field not in DEVICE_FIELDS:
            raise CbcConfigError("ansible_host_field %r is not a device field. Fix: use e.g. last_internal_ip_address "
                                 "or last_external_ip_address, or an empty value to leave ansible_host unset"
                                 % host_field)
        fetched = list(fields)
        extra = [value for kind, value in hostnames if kind == "field"] + [host_field] + list(SEEN_FIELDS)
        for field in extra:
            if field and field not in fetched:
                fetched.append(field)

        params = dict((name, self._rendered(name)) for name in TEMPLATED_SELECTION)
        params["all_devices"] = self.get_option("all_devices")
        if not (params["criteria"] is not None or params["query"] is not None or params["all_devices"]):
            raise CbcConfigError("no devices are selected (criteria, query and all_devices are unset), and an empty "
                                 "selection never means every device. Fix: set criteria or query, or all_devices: true "
                                 "to list every device of the organization")
        selection = selection_from_params(params)

        # Every connection option of the modules that this plugin's documentation (the auth fragment) defines.
        connection = dict((name, self._rendered(name)) for name in AUTH_ARGUMENT_SPEC if name in self._options)
        for option, default in CONNECTION_DEFAULTS.items():
            if connection.get(option) is None:
                connection[option] = default
        check_connection_ranges(connection)
        settings = validate_settings(resolve_settings(connection, warn=self.display.warning))
        return Plan(prefix=prefix, fields=fields, fetched=tuple(fetched), hostnames=hostnames, host_field=host_field,
                    selection=selection, connection=connection, settings=settings, strict=self.get_option("strict"))

    def _hostnames(self):
        entries = self.get_option("hostnames")
        if not entries:
            raise CbcConfigError("hostnames is empty. Fix: list host name sources in order of preference, e.g. "
                                 "[name, id]")
        parsed = []
        for index, entry in enumerate(entries):
            if entry in HOSTNAME_FIELDS:
                parsed.append(("field", entry))
            elif isinstance(entry, str) and ("{{" in entry or "{%" in entry):
                parsed.append(("template", entry))
            else:
                raise CbcConfigError("hostnames[%d] %r is neither a device field (%s) nor a Jinja2 template. Fix: use "
                                     "one of those fields, or a template such as '{{ cbc_name | lower }}'"
                                     % (index, entry, ", ".join(HOSTNAME_FIELDS)))
        return parsed

    # -- devices -----------------------------------------------------------------------------------------------
    def _devices(self, path, plan, cache):
        """The trimmed devices, from the cache when it is on, fresh and made for this selection; else from the API."""
        use_cache = self.get_option("cache")
        signature = cache_signature(plan.settings, plan.selection, plan.fetched)
        key = self.get_cache_key(path)
        if use_cache and cache:
            try:
                stored = self._cache[key]
            except KeyError:
                stored = None
            devices = self._from_cache(stored, signature)
            if devices is not None:
                self.display.vv("cbc_devices: %d devices from the cache, no request sent" % len(devices))
                return devices
        devices = self._fetch(plan)
        if use_cache:
            self._cache[key] = {"format": CACHE_FORMAT, "signature": signature, "fields": list(plan.fetched),
                                "rows": [[device.get(field) for field in plan.fetched] for device in devices]}
        return devices

    @staticmethod
    def _from_cache(stored, signature):
        if not isinstance(stored, dict) or stored.get("format") != CACHE_FORMAT or stored.get("signature") != signature:
            return None
        fields = stored.get("fields") or []
        return [dict(zip(fields, row)) for row in stored.get("rows") or []]

    def _client(self, plan):
        """The client every module uses (same auth selection, retries and TLS settings)."""
        connection = plan.connection
        auth = select_auth(plan.settings, use_cache=connection["token_cache"])
        return CbcClient(plan.settings, auth, timeout=connection["timeout"], warn=self.display.warning,
                         retries=connection["retries"], retry_max_wait=connection["retry_max_wait"])

    def _fetch(self, plan):
        client = self._client(plan)
        try:
            devices, num_found = search_devices(client, plan.selection, fields=plan.fetched)
        finally:
            client.close()
        self.display.vv("cbc_devices: %d of %d matching devices read with %d request(s)"
                        % (len(devices), num_found, client.requests_sent))
        return devices

    # -- inventory ---------------------------------------------------------------------------------------------
    def _bare_variable(self, expression, variables):
        """The value of an expression that is only a variable name (``cbc_policy_name``), or _UNSET.

        Ansible compiles every expression again for every host (about 0.3 ms each); a bare name means the variable's
        value, so it is read directly. Anything else, and a name an extra variable may override, goes to Ansible.
        """
        match = _NAME_RE.match(expression) if isinstance(expression, str) else None
        if not match or match.group(1) in _JINJA_LITERALS or match.group(1) not in variables:
            return _UNSET
        if self._vars and match.group(1) in self._vars and self.get_option("use_extra_vars"):
            return _UNSET
        return variables[match.group(1)]

    def _compose(self, template, variables, disable_lookups=Ellipsis):
        value = self._bare_variable(template, variables)
        if value is not _UNSET:
            return value
        if disable_lookups is Ellipsis:
            return super(InventoryModule, self)._compose(template, variables)
        return super(InventoryModule, self)._compose(template, variables, disable_lookups=disable_lookups)

    def _add_host_to_composed_groups(self, groups, variables, host, strict=False, fetch_hostvars=True):
        """Conditionals that are a bare boolean variable (``quarantined: cbc_quarantined``) are read directly."""
        if not groups or not isinstance(groups, dict):
            return
        if fetch_hostvars:
            variables = combine_vars(variables, self.inventory.get_host(host).get_vars())
        others = {}
        for group_name, conditional in groups.items():
            value = self._bare_variable(conditional, variables)
            if not isinstance(value, bool):
                others[group_name] = conditional
            elif value:
                self.inventory.add_child(self.inventory.add_group(self._sanitize_group_name(group_name)), host)
        if others:
            super(InventoryModule, self)._add_host_to_composed_groups(others, variables, host, strict=strict,
                                                                      fetch_hostvars=False)

    def _host_name(self, device, hostvars, plan):
        for kind, value in plan.hostnames:
            if kind == "field":
                name = device.get(value)
            else:
                name = self._render_host_name(value, hostvars, device, plan.strict)
            if name is not None and not isinstance(name, (dict, list)):
                name = str(name).strip()
                if name:
                    return name
        return None

    def _render_host_name(self, template, hostvars, device, strict):
        variables = hostvars
        if self.get_option("use_extra_vars"):
            variables = combine_vars(hostvars, self._vars)
        self.templar.available_variables = variables
        try:
            return self.templar.template(template)
        except Exception as error:  # pylint: disable=broad-except
            if strict:
                raise AnsibleParserError("the hostnames template %s failed for device %s (%s). Fix: correct the "
                                         "template, or set strict: false to skip to the next hostnames entry"
                                         % (template, device.get("id"), " ".join(str(error).split())[:200]))
            return None

    def _populate(self, devices, plan):
        prefix = plan.prefix
        entries = []
        unnamed = 0
        for device in devices:
            hostvars = dict((prefix + field, device.get(field)) for field in plan.fields)
            name = self._host_name(device, hostvars, plan)
            if name is None:
                unnamed += 1
                continue
            entries.append((name, device, hostvars))
        names, shared = assign_host_names([(name, device) for name, device, unused in entries])
        if shared:
            self.display.warning(duplicates_warning(shared))
        if unnamed:
            self.display.warning("cbc_devices: %d device(s) have no value for any hostnames entry (%s) and were left "
                                 "out. Fix: add id as the last hostnames entry"
                                 % (unnamed, ", ".join(value for unused, value in plan.hostnames)))

        strict = plan.strict
        compose = self.get_option("compose")
        groups = self.get_option("groups")
        keyed_groups = self.get_option("keyed_groups")
        inventory = self.inventory
        for host, (unused, device, hostvars) in zip(names, entries):
            inventory.add_host(host)
            for variable, value in hostvars.items():
                inventory.set_variable(host, variable, value)
            variables = hostvars
            address = device.get(plan.host_field) if plan.host_field else None
            if address not in (None, ""):
                inventory.set_variable(host, "ansible_host", address)
                variables = dict(hostvars, ansible_host=address)
            self._set_composite_vars(compose, variables, host, strict=strict)
            self._add_host_to_composed_groups(groups, variables, host, strict=strict)
            self._add_host_to_keyed_groups(keyed_groups, variables, host, strict=strict)
