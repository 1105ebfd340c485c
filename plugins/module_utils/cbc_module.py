# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CbcModule: AnsibleModule with the common connection options, a client, and
one place where errors become a one-line ``fail_json``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from .auth import select_auth
from .onprem import DEFAULT_TIMEOUTS, OnPremTokenAuth, resolve_onprem_settings, validate_onprem_settings
from .errors import (MAX_RETRY_MAX_WAIT, CbcApiError, CbcConfigError, CbcConnectionError, CbcError,
                     CbcWriteOutcomeUnknown, CbcWriteUnconfirmed)
from .client import DEFAULT_RETRIES, DEFAULT_RETRY_MAX_WAIT, CbcClient
from .redaction import secret_values
from .settings import resolve_settings, validate_settings
from .validation import check_range

DEFAULT_TIMEOUT = 60
# option: (lowest, highest, unit), checked before any request. default_timeout, which a profile may
# also set, is checked with the resolved settings (settings.validate_settings).
CONNECTION_RANGES = {
    "timeout": (1, 3600, "seconds per HTTP attempt"),
    "retries": (0, 20, "retries per request"),
    "retry_max_wait": (0, MAX_RETRY_MAX_WAIT, "seconds of waiting between retries per request"),
}

# Named like the SDK's credential keys, so a profile dict from the
# cbc_credentials lookup can be passed straight to module_defaults.
AUTH_ARGUMENT_SPEC = dict(
    url=dict(type="str"),
    org_key=dict(type="str", no_log=False),
    token=dict(type="str", no_log=True),
    csp_oauth_app_id=dict(type="str"),
    csp_oauth_app_secret=dict(type="str", no_log=True),
    csp_api_token=dict(type="str", no_log=True),
    csp_url_override=dict(type="str"),
    ssl_verify=dict(type="bool"),
    ssl_verify_hostname=dict(type="bool"),
    ssl_cert_file=dict(type="path"),
    ssl_force_tls_1_2=dict(type="bool"),
    proxy=dict(type="str"),
    ignore_system_proxy=dict(type="bool"),
    integration=dict(type="str"),
    default_timeout=dict(type="int"),
    profile=dict(type="str"),
    credential_file=dict(type="list", elements="path"),
    timeout=dict(type="int"),
    retries=dict(type="int", default=DEFAULT_RETRIES),
    retry_max_wait=dict(type="int", default=DEFAULT_RETRY_MAX_WAIT),
    token_cache=dict(type="bool", default=True, no_log=False),
)


def check_connection_ranges(params):
    """Range-check the numeric connection options of ``params`` (raises CbcConfigError)."""
    for option, (lowest, highest, unit) in CONNECTION_RANGES.items():
        default = AUTH_ARGUMENT_SPEC[option].get("default", DEFAULT_TIMEOUT)
        check_range(params.get(option), option, lowest, highest, unit=unit,
                    fix="use a value in that range, e.g. the default %s" % default)


def connection_timeout(params, product="cbc"):
    """Seconds per HTTP attempt: ``timeout``, else 60 (120 for EDR, cbapi's default there)."""
    if params.get("timeout") is not None:
        return params["timeout"]
    return DEFAULT_TIMEOUTS.get(product, DEFAULT_TIMEOUT)


def validate_items(items, option, argument_spec, **rules):
    """Each item of a list option checked against the spec of the module's single-item options, with the same
    rules (``required_one_of``, ``required_if``, ...), as Ansible checks the options themselves. Returns the
    items with their defaults; raises CbcConfigError naming the item."""
    validator = ArgumentSpecValidator(argument_spec, **rules)
    validated = []
    for index, item in enumerate(items or []):
        if not isinstance(item, dict):
            raise CbcConfigError("%s[%d] must be a mapping of options, not %r. Fix: see the EXAMPLES" % (option, index, item))
        result = validator.validate(item)
        if result.unsupported_parameters:
            raise CbcConfigError("%s[%d]: unsupported option %s. Fix: use %s" % (
                option, index, ", ".join(sorted(result.unsupported_parameters)), ", ".join(sorted(argument_spec))))
        if result.error_messages:
            raise CbcConfigError("%s[%d]: %s. Fix: correct the item" % (option, index, "; ".join(result.error_messages)))
        validated.append(result.validated_parameters)
    return validated


class CbcModule(AnsibleModule):
    """Base for every carbonblack.cloud module: ``CbcModule(argument_spec=own_spec, ...)``."""

    _client = None
    _settings = None

    def __init__(self, argument_spec=None, **kwargs):
        spec = dict(AUTH_ARGUMENT_SPEC)
        spec.update(argument_spec or {})
        super(CbcModule, self).__init__(argument_spec=spec, **kwargs)
        self._settings = None
        self._client = None

    def check_connection_ranges(self):
        """Range-check the numeric connection options (raises CbcConfigError)."""
        check_connection_ranges(self.params)

    @property
    def product(self):
        """cbc, or an on-prem product (edr, app_control) for modules that take ``product``."""
        return self.params.get("product") or "cbc"

    @property
    def timeout(self):
        return connection_timeout(self.params, self.product)

    @property
    def settings(self):
        """Resolved and validated connection settings (raises CbcConfigError)."""
        if self._settings is None:
            self.check_connection_ranges()
            if self.product != "cbc":
                settings = resolve_onprem_settings(self.params, self.product, warn=self.warn)
            else:
                settings = resolve_settings(self.params, warn=self.warn)
            # Values read from a profile or the environment are secrets too: mask them wherever they might appear.
            self.no_log_values.update(secret_values(settings))
            if self.product != "cbc":
                self._settings = validate_onprem_settings(settings, self.product)
            else:
                self._settings = validate_settings(settings)
        return self._settings

    @property
    def client(self):
        if self._client is None:
            settings = self.settings
            if self.product != "cbc":
                auth = OnPremTokenAuth(settings["token"])
            else:
                auth = select_auth(settings, use_cache=self.params.get("token_cache", True))
            self.no_log_values.update(value for value in auth.secret_values() if value)
            self._client = CbcClient(settings, auth, timeout=self.timeout, warn=self.warn,
                                     retries=self.params["retries"], retry_max_wait=self.params["retry_max_wait"])
        return self._client

    def _common_result(self, result):
        """What every result carries once a client exists: ``requests_sent``, and the writes whose lost answer
        was reconciled (a warning each, and the list under ``reconciled``)."""
        if self._client is None:
            return result
        result.setdefault("requests_sent", self._client.requests_sent)
        notes = getattr(self._client, "notes", None) or []
        if notes:
            result.setdefault("reconciled", list(notes))
            for text in notes:
                self.warn(text)
            del notes[:]
        return result

    def fail_json(self, msg, **kwargs):
        super(CbcModule, self).fail_json(msg=msg, **self._common_result(kwargs))

    def exit_json(self, **kwargs):
        super(CbcModule, self).exit_json(**self._common_result(kwargs))

    def fail_from(self, error, **result):
        """Turn a CbcError into one ``fail_json`` line with the fix."""
        details = dict(result)
        if isinstance(error, CbcApiError):
            details.update(http_status=error.status, api_message=error.api_message, method=error.method,
                           path=error.path)
            if error.permission:
                details["permission"] = error.permission
        elif isinstance(error, (CbcWriteOutcomeUnknown, CbcWriteUnconfirmed)):
            # The write may have been applied: say so, and never call it a connection failure.
            details["write_unconfirmed"] = True
            details["changed"] = True
        elif isinstance(error, CbcConnectionError):
            details["unreachable"] = True
        if self._client is not None:
            details.setdefault("retries", getattr(self._client, "retries_done", 0))
        self.fail_json(msg=str(error), **details)

    def run(self, runner):
        """Call ``runner(self)`` and exit with its result dict plus the common keys (``requests_sent``,
        ``reconciled``; warnings are added by AnsibleModule); CbcErrors become fail_json."""
        try:
            result = runner(self)
        except CbcError as error:
            self.fail_from(error)
        finally:
            if self._client is not None:
                self._client.close()
        self.exit_json(**result)
