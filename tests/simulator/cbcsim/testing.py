"""Test helper: start a simulator subprocess, read its request log and drive its control API.

Example::

    sim = Simulator.start(tmp_path / "sim", devices=50)
    try:
        mark = sim.mark()
        ...  # call sim.url with verify=sim.ca_file
        assert [r["api"] for r in sim.requests(since=mark)] == ["devices.search"]
    finally:
        sim.stop()
"""

import json
import os
import subprocess
import sys
import time

import requests

SIMULATOR_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START_TIMEOUT = 30.0


class SimulatorStartError(RuntimeError):
    """The simulator process did not become ready."""


class Simulator:
    """A running simulator subprocess."""

    def __init__(self, process, state_dir, info):
        self.process = process
        self.state_dir = str(state_dir)
        self.url = info["url"]
        self.port = info["port"]
        self.pid = info["pid"]
        self.ca_file = info["ca_file"]
        self.log_file = info["log_file"]
        #: ``cbc``, ``edr`` or ``app_control`` (``Simulator.start(..., extra_args=["--product", "edr"])``).
        self.product = info.get("product", "cbc")
        self._session = requests.Session()
        self._session.verify = self.ca_file
        self._session.trust_env = False

    @classmethod
    def start(cls, state_dir, devices=50, seed=1, extra_args=(), timeout=START_TIMEOUT):
        """Launch ``python -m cbcsim`` with the current interpreter and wait until it is ready."""
        state_dir = os.path.abspath(str(state_dir))
        os.makedirs(state_dir, exist_ok=True)
        ready_path = os.path.join(state_dir, "simulator.json")
        if os.path.exists(ready_path):
            os.remove(ready_path)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (SIMULATOR_ROOT, env.get("PYTHONPATH")) if p)
        command = [sys.executable, "-m", "cbcsim", "--state-dir", state_dir, "--devices", str(devices), "--seed", str(seed)]
        command.extend(str(arg) for arg in extra_args)
        stdout_path = os.path.join(state_dir, "stdout.log")
        stderr_path = os.path.join(state_dir, "stderr.log")
        with open(stdout_path, "ab") as stdout, open(stderr_path, "ab") as stderr:
            process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env)  # pylint: disable=consider-using-with
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(ready_path):
                with open(ready_path, encoding="utf-8") as handle:
                    info = json.load(handle)
                if info.get("pid") == process.pid:
                    return cls(process, state_dir, info)
            if process.poll() is not None:
                break
            time.sleep(0.05)
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        with open(stderr_path, encoding="utf-8", errors="replace") as handle:
            stderr_text = handle.read()
        raise SimulatorStartError("CBC simulator did not start (exit code {0}); stderr:\n{1}".format(process.returncode, stderr_text))

    # --- request log ---------------------------------------------------------------------------

    def mark(self):
        """Return the current end of the request log; pass it to ``requests(since=...)``."""
        try:
            return os.path.getsize(self.log_file)
        except OSError:
            return 0

    def requests(self, since=None):
        """Return the parsed request-log entries (only those after ``since`` when given)."""
        if not os.path.exists(self.log_file):
            return []
        with open(self.log_file, "rb") as handle:
            if since:
                handle.seek(since)
            data = handle.read()
        return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]

    # --- control API ---------------------------------------------------------------------------

    def control(self, method, path, **kwargs):
        """Call the control API and return the ``requests`` response (raises on HTTP errors)."""
        response = self._session.request(method, self.url + "/_sim/" + path.lstrip("/"), timeout=30, **kwargs)
        response.raise_for_status()
        return response

    def health(self):
        """Return ``GET /_sim/health``."""
        return self.control("GET", "health").json()

    def add_fault(self, **rule):
        """Add a fault rule (keys as in the ``--fault`` spec); return its description."""
        return self.control("POST", "faults", json=rule).json()

    def clear_faults(self):
        """Remove every fault rule."""
        return self.control("DELETE", "faults").json()

    def revoke_tokens(self):
        """Revoke every issued CSP access and refresh token."""
        return self.control("POST", "revoke_tokens").json()

    def reset(self):
        """Reseed the state from the start-up arguments."""
        return self.control("POST", "reset").json()

    def add_key(self, **identity):
        """Add an identity (same schema as the keys file)."""
        return self.control("POST", "keys", json=identity).json()

    def device(self, device_id):
        """Return the raw device object, or None if there is no such device."""
        response = self._session.get("{0}/_sim/devices/{1}".format(self.url, device_id), timeout=30)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def device_ids(self, org_key="ABCD1234"):
        """Return every device id of an org."""
        return self.control("GET", "devices", params={"org_key": org_key}).json()["ids"]

    def devices(self, device_ids):
        """Return ``{id: raw device or None}`` for many ids in one call."""
        ids = list(device_ids)
        found = self.control("GET", "devices", params={"ids": ",".join(str(i) for i in ids)}).json()["devices"]
        by_id = {device["id"]: device for device in found}
        return {device_id: by_id.get(device_id) for device_id in ids}

    def delete_device(self, device_id):
        """Make a device disappear from its org (as if deleted between a search and an action)."""
        return self.control("DELETE", "devices/{0}".format(device_id)).json()

    def complete_sensor_updates(self):
        """Install every sensor version requested by UPDATE_SENSOR_VERSION; return the completed updates."""
        return self.control("POST", "complete_sensor_updates").json()["completed"]

    def stop(self):
        """Terminate the simulator process (by its own pid) and wait for it."""
        self._session.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        return self.process.returncode

    # --- data forwarders (appended with the forwarder routes) ---------------------------------

    def forwarder_state(self, org_key="ABCD1234"):
        """Return ``GET /_sim/forwarders``: ``{"forwarders", "list_shape", "misconfigured_buckets", "region",
        "empty_list_status"}``."""
        return self.control("GET", "forwarders", params={"org_key": org_key}).json()

    def forwarders(self, org_key="ABCD1234"):
        """Return the stored forwarder configs of an org."""
        return self.forwarder_state(org_key)["forwarders"]

    def forwarder_settings(self, org_key="ABCD1234", **settings):
        """Set forwarder switches (``list_shape="results"``, ``misconfigured_buckets=["bucket", "bucket/prefix"]``,
        ``region="eu-central-1"``, ``empty_list_status=404``); return them. ``reset()`` restores the defaults."""
        return self.control("POST", "forwarders/settings", json=dict(settings, org_key=org_key)).json()

    def add_forwarder(self, org_key="ABCD1234", **config):
        """Store a forwarder config as given, without validation (``id`` and times filled in); return it."""
        return self.control("POST", "forwarders", json=dict(config, org_key=org_key)).json()

    # --- on-prem products (--product edr|app_control) -------------------------------------------

    def onprem(self):
        """Return ``GET /_sim/onprem``: ``{"product", "settings", "users", ...}`` (no tokens)."""
        return self.control("GET", "onprem").json()

    def onprem_settings(self, **settings):
        """Change settings until the next reset (EDR: ``server_version``, ``denied_status``, ``cblr_enabled``,
        ``platformserver``; App Control: ``edr_url``, ``server_version``); return them."""
        return self.control("POST", "onprem/settings", json=settings).json()

    def set_edr_url(self, url):
        """App Control: set the configured EDR server (serverConfig ``CBServerUrl``); ``""`` = not configured,
        None = no CBServerUrl property at all."""
        return self.onprem_settings(edr_url=url)

    def add_onprem_user(self, **user):
        """EDR: add a user (``username``, ``token``, ``global_admin``, ``teams``, ...); App Control: add a console
        user's token (``name``, ``token``, ``permissions``). Returns it without the token."""
        return self.control("POST", "onprem/users", json=user).json()

    # --- alerts, jobs and reputation overrides --------------------------------------------------

    def add_alerts(self, alerts=None, count=0, org_key="ABCD1234"):
        """Add alerts: each item of ``alerts`` is merged over a generated alert (``type``, ``device_id``,
        ``backend_timestamp`` pick the generated one; default a WATCHLIST alert created now), plus ``count``
        generated ones. Returns the stored alerts."""
        body = {"org_key": org_key, "alerts": list(alerts or []), "count": count}
        return self.control("POST", "alerts", json=body).json()["added"]

    def alerts(self, org_key="ABCD1234"):
        """Return the raw alerts of an org (jobs that fell due are completed first)."""
        return self.control("GET", "alerts", params={"org_key": org_key}).json()["alerts"]

    def clear_alerts(self, org_key="ABCD1234"):
        """Remove every alert of an org; return how many there were."""
        return self.control("DELETE", "alerts", params={"org_key": org_key}).json()["cleared"]

    def jobs(self, org_key="ABCD1234"):
        """Return the org's jobs as ``[{"job": <API object>, "pending": bool, "result": [changed alert ids]}]``."""
        return self.control("GET", "jobs", params={"org_key": org_key}).json()["jobs"]

    def job_settings(self, **settings):
        """Set ``job_delay`` (seconds a job stays CREATED; 0 = done at once) and/or ``fail_next`` (the next N jobs
        end FAILED, changing nothing); return the settings. ``reset()`` restores ``--job-delay`` and 0."""
        return self.control("POST", "jobs/settings", json=settings).json()

    def complete_jobs(self):
        """Complete every pending job now; return their ids."""
        return self.control("POST", "jobs/complete").json()["completed"]

    def reputation_overrides(self, org_key="ABCD1234"):
        """Return the stored reputation overrides of an org."""
        return self.control("GET", "reputation_overrides", params={"org_key": org_key}).json()["overrides"]

    def add_reputation_override(self, org_key="ABCD1234", **override):
        """Store an override as given, without validation or duplicate check (``id``, ``created_by``,
        ``create_time`` filled in when absent); return it."""
        return self.control("POST", "reputation_overrides", json=dict(override, org_key=org_key)).json()

    def reputation_settings(self, org_key="ABCD1234", **settings):
        """Set ``duplicates`` (``"reject"``: a duplicate create is a 409, the default; ``"store"``: keep a second
        copy); return the org's settings."""
        return self.control("POST", "reputation_overrides/settings", json=dict(settings, org_key=org_key)).json()
