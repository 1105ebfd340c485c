"""Simulator configuration and mutable state (orgs with their devices, policies, forwarders, alerts, reputation
overrides and jobs; identities; issued tokens; fault rules), rebuilt from the configuration by ``reset()``."""

import threading
from datetime import datetime, timezone

from cbcsim import jobs, onprem
from cbcsim.alerts import seed_alerts
from cbcsim.auth import (API_KEY, DEFAULT_IDENTITIES, DEFAULT_ORG, OAUTH_APP, OTHER_ORG, IdentityStore, TokenStore,
                         identity_from_dict, load_keys_file)
from cbcsim.devices import seed_devices
from cbcsim.faults import FaultInjector, parse_fault_spec
from cbcsim.policy_seed import seed_policies


class SimulatorConfig:
    """Start-up options (the CLI arguments)."""

    def __init__(self, state_dir, host="127.0.0.1", port=0, devices=50, seed=1, token_ttl=1800, faults=(),
                 latency_ms=0, keys_file=None, other_org_devices=5, orgs=0, org_devices=20, product=onprem.CBC, edr_url=None,
                 alerts=0, job_delay=jobs.DEFAULT_JOB_DELAY):
        self.state_dir = state_dir
        self.host = host
        self.port = port
        self.devices = devices
        self.seed = seed
        self.token_ttl = token_ttl
        self.faults = list(faults)
        self.latency_ms = latency_ms
        self.keys_file = keys_file
        self.other_org_devices = other_org_devices
        self.orgs = orgs
        self.org_devices = org_devices
        #: ``cbc``, ``edr`` or ``app_control`` (see ``onprem.py``); ``edr_url`` is App Control's CBServerUrl.
        self.product = product
        self.edr_url = edr_url
        #: Alerts seeded in the default org (``--alerts``); seconds a job stays CREATED (``--job-delay``).
        self.alerts = alerts
        self.job_delay = job_delay


def extra_org_key(number):
    """The org key of extra org ``number`` (1-based): MSSP0001, MSSP0002, ..."""
    return "MSSP%04d" % number


def extra_org_identities(count):
    """Per extra org: a full-access API key ``MSSPnnnnKEY`` / ``MSSPnnnnSECRET000000000`` and a CSP OAuth app
    ``mssp-nnnn-app`` / ``mssp-nnnn-secret``. Test fixtures, not real credentials."""
    identities = []
    for number in range(1, count + 1):
        org_key = extra_org_key(number)
        identities.append({"type": API_KEY, "api_id": org_key + "KEY", "secret": (org_key + "SECRET").ljust(24, "0"),
                           "org_key": org_key, "permissions": "*"})
        identities.append({"type": OAUTH_APP, "client_id": "mssp-%04d-app" % number,
                           "client_secret": "mssp-%04d-secret" % number, "org_key": org_key, "permissions": "*"})
    return tuple(identities)


class Org:
    """One organization and its data."""

    def __init__(self, org_key, index):
        self.org_key = org_key
        self.index = index
        self.name_prefix = "" if index == 0 else org_key.lower() + "-"
        self.domain = "{0}.example.com".format(org_key.lower())
        self.organization_id = 1000 + index
        self.device_id_base = 4000000 + index * 5000000
        self.policies = seed_policies(6520 + index * 1000)
        self.devices = {}
        #: ``{device_id: version}`` requested by UPDATE_SENSOR_VERSION, installed by ``/_sim/complete_sensor_updates``.
        self.pending_sensor_updates = {}
        self.forwarders = []
        self.alerts = []
        #: Reputation overrides (``reputation.py``) and ``{job_id: jobs.Job}`` (``jobs.py``).
        self.reputation_overrides = []
        self.jobs = {}
        #: ``{device_id: ["ON", "OFF", ...]}``: the BACKGROUND_SCAN toggles received, which no device field shows.
        self.background_scan_toggles = {}

    def remove_device(self, device_id):
        """Remove a device (and any pending sensor update); return True if it existed."""
        self.pending_sensor_updates.pop(device_id, None)
        return self.devices.pop(device_id, None) is not None


class SimulatorState:
    """All mutable state, guarded by ``lock`` for handlers that read or change org data."""

    def __init__(self, config):
        self.config = config
        self.lock = threading.RLock()
        self.started = datetime.now(timezone.utc)
        self.identities = None
        self.tokens = TokenStore(config.token_ttl)
        self.faults = FaultInjector()
        self.orgs = {}
        #: The EDR or App Control state (``onprem.py``), None for CBC.
        self.onprem = None
        #: The job switches (``jobs.py``: ``job_delay``, ``fail_next``), restored by ``reset()``.
        self.job_settings = {}
        self.reset()

    def reset(self):
        """Rebuild orgs, identities, faults and tokens from the configuration."""
        identities = [identity_from_dict(item) for item in DEFAULT_IDENTITIES + extra_org_identities(self.config.orgs)]
        if self.config.keys_file:
            replace, extra = load_keys_file(self.config.keys_file)
            identities = extra if replace else identities + extra
        rules = [parse_fault_spec(spec) for spec in self.config.faults]
        now = self.started
        orgs = {}
        seeded = [(DEFAULT_ORG, self.config.devices), (OTHER_ORG, self.config.other_org_devices)]
        seeded += [(extra_org_key(number), self.config.org_devices) for number in range(1, self.config.orgs + 1)]
        onprem_state = onprem.new_state(self.config, now)
        if onprem_state is not None:
            seeded = []
        for org_key, count in seeded:
            org = Org(org_key, len(orgs))
            org.devices = seed_devices(org, count, self.config.seed, now)
            if org_key == DEFAULT_ORG:
                org.alerts = seed_alerts(org, self.config.alerts, self.config.seed, now)
            orgs[org_key] = org
        with self.lock:
            self.orgs = orgs
            self.onprem = onprem_state
            self.job_settings = jobs.default_settings(self.config.job_delay)
            self.identities = IdentityStore(identities)
            self.tokens.revoke_all()
            self.faults.clear()
            for rule in rules:
                self.faults.add(rule)

    def org(self, org_key):
        """Return the Org for ``org_key``, creating an empty one for orgs only known from identities."""
        with self.lock:
            org = self.orgs.get(org_key)
            if org is None:
                org = Org(org_key, len(self.orgs))
                self.orgs[org_key] = org
            return org

    def find_device(self, device_id):
        """Return ``(org_key, device)`` for a device id in any org, or ``(None, None)``."""
        with self.lock:
            for org in self.orgs.values():
                device = org.devices.get(device_id)
                if device is not None:
                    return org.org_key, device
        return None, None

    def remove_device(self, device_id):
        """Remove a device from whichever org holds it; return that org's key, or None if there is no such device."""
        with self.lock:
            for org in self.orgs.values():
                if org.remove_device(device_id):
                    return org.org_key
        return None

    def known_secrets(self):
        """Return every secret and live token (for scrubbing the request log)."""
        onprem_secrets = self.onprem.known_secrets() if self.onprem is not None else []
        return self.identities.known_secrets() + self.tokens.active_values() + onprem_secrets
