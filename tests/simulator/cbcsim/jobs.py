"""Jobs v1: the background jobs that alert workflow updates return (facts section 12).

``POST .../alerts/workflow`` answers ``{"request_id": "<id>"}`` and creates a job here; clients read
``GET /jobs/v1/orgs/{org_key}/jobs/{id}`` until ``status`` is ``COMPLETED`` or ``FAILED`` (cbc_sdk's
``Job.await_completion``). The job's shape follows the recorded workflow job (SDK fixture
``mock_alerts_v7.py`` ``GET_CLOSE_WORKFLOW_JOB_RESP``) and the job model (``platform/models/job.yaml``).

Life cycle: a job is ``CREATED`` for ``job_delay`` seconds (``--job-delay``, default 0.2; the control
call ``POST /_sim/jobs/settings`` changes it, 0 completes a job before the workflow call returns), then
it completes: its change is applied (for a workflow job, the alerts change) and ``status`` becomes
``COMPLETED``. Completion is lazy: a due job completes when anything reads the org's alerts or jobs
(API or control API), with the timestamps of the moment it fell due, so a client cannot tell the
difference from a background worker. ``fail_next: N`` makes the next N jobs end ``FAILED`` without
applying anything. ``POST /_sim/jobs/complete`` completes every pending job at once.

``progress`` is ``{"num_total": 0, "num_completed": 0, "message": ...}`` also when alerts changed: the
recording shows 0/0 for a workflow job, so the counts say nothing about how many alerts changed
(re-search to report that). Messages: ``"Dismissal completed"`` (recorded) when completed; ``"QUEUED"``
(the job model's first progress message) while created, and ``"Dismissal failed"`` plus ``errors`` when
failed (both [UNVERIFIED] choices). ``owner_id`` (model only, not in the recording) is not sent.
"""

import copy
import itertools
import time
from datetime import datetime, timedelta, timezone

from cbcsim.protocol import Response, bad_request, not_found
from cbcsim.routing import ORG

JOB_BASE = "/jobs/v1/orgs/" + ORG + "/jobs"
JOB_ID = r"(?P<job_id>[^/]+)"

CREATED = "CREATED"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
DEFAULT_JOB_DELAY = 0.2
#: Job ids are unique over the whole run (also across ``/_sim/reset``), as plain ints like the recorded 666666.
_JOB_IDS = itertools.count(100001)


def format_job_time(value):
    """Format an aware datetime like the recorded job times: ``2023-10-18T13:19:02.000467Z`` (microseconds)."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def default_settings(job_delay=DEFAULT_JOB_DELAY):
    """The job switches ``/_sim/reset`` restores: ``job_delay`` (seconds) and ``fail_next`` (jobs)."""
    return {"job_delay": float(job_delay), "fail_next": 0}


def state_settings(state):
    """Return the simulator-wide job switches (``state.job_settings``), created on first use."""
    settings = getattr(state, "job_settings", None)
    if not settings:
        settings = default_settings(getattr(state.config, "job_delay", DEFAULT_JOB_DELAY))
        state.job_settings = settings
    return settings


def org_jobs(org):
    """Return the org's ``{job_id: Job}`` (an Org field; created on first use for older state objects)."""
    jobs = getattr(org, "jobs", None)
    if jobs is None:
        jobs = {}
        org.jobs = jobs
    return jobs


class Job:
    """One background job: its public fields, when it falls due, and the change it applies on completion."""

    def __init__(self, org_key, job_type, connector_id, parameters, apply, delay, fail):
        self.id = next(_JOB_IDS)
        self.org_key = org_key
        self.type = job_type
        self.connector_id = connector_id
        self.parameters = parameters
        self.apply = apply
        self.fail = fail
        self.status = CREATED
        self.created = datetime.now(timezone.utc)
        self.delay = max(float(delay), 0.0)
        self.due = time.monotonic() + self.delay
        self.updated = self.created
        #: Whatever ``apply`` returned (for a workflow job: the ids of the alerts it changed).
        self.result = None

    @property
    def done(self):
        """True once the job is COMPLETED or FAILED."""
        return self.status != CREATED

    def finish(self, when=None):
        """Complete (or fail) the job now, with timestamps of ``when`` (default: the moment it fell due)."""
        if self.done:
            return
        self.updated = when or (self.created + timedelta(seconds=self.delay))
        if self.fail:
            self.status = FAILED
            return
        self.result = self.apply(self.updated) if self.apply else None
        self.status = COMPLETED

    def progress(self):
        """The ``progress`` object (0/0 as recorded, see the module docstring)."""
        message = {CREATED: "QUEUED", COMPLETED: "Dismissal completed", FAILED: "Dismissal failed"}[self.status]
        return {"num_total": 0, "num_completed": 0, "message": message}

    def to_json(self):
        """The job as ``GET .../jobs/{id}`` answers it."""
        body = {
            "id": self.id,
            "type": self.type,
            "job_parameters": {"job_parameters": copy.deepcopy(self.parameters)},
            "connector_id": self.connector_id,
            "org_key": self.org_key,
            "status": self.status,
            "progress": self.progress(),
            "create_time": format_job_time(self.created),
            "last_update_time": format_job_time(self.updated),
        }
        if self.status == FAILED:
            body["errors"] = "Simulated job failure"
        return body

    def describe(self):
        """The job plus what the simulator knows about it (control API only)."""
        return {"job": self.to_json(), "pending": not self.done, "result": copy.deepcopy(self.result)}


def create_job(state, org, job_type, connector_id, parameters, apply):
    """Create a job in ``org`` (call with ``state.lock`` held); it completes after the configured delay.

    ``apply(when)`` makes the change at completion time ``when`` and returns a JSON-able result.
    """
    settings = state_settings(state)
    fail = settings["fail_next"] > 0
    if fail:
        settings["fail_next"] -= 1
    job = Job(org.org_key, job_type, connector_id, parameters, apply, settings["job_delay"], fail)
    org_jobs(org)[job.id] = job
    if job.delay == 0:
        job.finish(job.created)
    return job


def complete_due(org, now=None):
    """Complete every job of ``org`` that has fallen due (call with the state lock held), in creation order."""
    now = time.monotonic() if now is None else now
    for job in sorted(org_jobs(org).values(), key=lambda item: item.id):
        if not job.done and job.due <= now:
            job.finish()


def _path_job(ctx):
    org = ctx.state.org(ctx.org_key)
    try:
        job_id = int(ctx.params["job_id"])
    except ValueError:
        raise not_found("Job {0} not found".format(ctx.params["job_id"])) from None
    complete_due(org)
    job = org_jobs(org).get(job_id)
    if job is None:
        raise not_found("Job {0} not found".format(job_id))
    return job


def get_job(ctx):
    """``GET /jobs/v1/orgs/{org_key}/jobs/{id}``."""
    with ctx.state.lock:
        return Response(200, _path_job(ctx).to_json())


def get_progress(ctx):
    """``GET /jobs/v1/orgs/{org_key}/jobs/{id}/progress``: ``{num_total, num_completed, message}``."""
    with ctx.state.lock:
        return Response(200, _path_job(ctx).progress())


def list_jobs(ctx):
    """``GET /jobs/v1/orgs/{org_key}/jobs``: ``{"num_found", "results"}`` (mock_jobs.py ``FIND_ALL_JOBS_RESP``)."""
    org = ctx.state.org(ctx.org_key)
    with ctx.state.lock:
        complete_due(org)
        results = [job.to_json() for job in sorted(org_jobs(org).values(), key=lambda item: item.id)]
    return Response(200, {"num_found": len(results), "results": results})


def register(table):
    """Add the job routes to ``table``."""
    table.add("GET", JOB_BASE, list_jobs, "jobs.list", permission="jobs.status:READ")
    table.add("GET", JOB_BASE + "/" + JOB_ID, get_job, "jobs.get", permission="jobs.status:READ")
    table.add("GET", JOB_BASE + "/" + JOB_ID + "/progress", get_progress, "jobs.progress", permission="jobs.status:READ")


# --- control API ------------------------------------------------------------------------------


def control_list(ctx):
    """``GET /_sim/jobs?org_key=ABCD1234``: ``{"org_key", "settings", "jobs": [{"job", "pending", "result"}]}``."""
    org_key = (ctx.query.get("org_key") or ["ABCD1234"])[-1]
    org = ctx.state.org(org_key)
    with ctx.state.lock:
        complete_due(org)
        jobs = [job.describe() for job in sorted(org_jobs(org).values(), key=lambda item: item.id)]
        return Response(200, {"org_key": org_key, "settings": dict(state_settings(ctx.state)), "jobs": jobs})


def control_settings(ctx):
    """``POST /_sim/jobs/settings`` with ``job_delay`` (seconds, >= 0) and/or ``fail_next`` (int >= 0)."""
    body = ctx.json(default={})
    unknown = sorted(set(body) - {"job_delay", "fail_next"})
    if unknown:
        raise bad_request("unknown job setting(s): {0}".format(", ".join(unknown)))
    with ctx.state.lock:
        settings = state_settings(ctx.state)
        if "job_delay" in body:
            delay = body["job_delay"]
            if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
                raise bad_request("job_delay must be a number of seconds, at least 0")
            settings["job_delay"] = float(delay)
        if "fail_next" in body:
            count = body["fail_next"]
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise bad_request("fail_next must be an integer, at least 0")
            settings["fail_next"] = count
        return Response(200, dict(settings))


def control_complete(ctx):
    """``POST /_sim/jobs/complete``: complete every pending job of every org now → ``{"completed": [ids]}``."""
    completed = []
    with ctx.state.lock:
        now = datetime.now(timezone.utc)
        for org in ctx.state.orgs.values():
            for job in sorted(org_jobs(org).values(), key=lambda item: item.id):
                if not job.done:
                    job.finish(now)
                    completed.append(job.id)
    return Response(200, {"completed": completed})


def register_control(table):
    """Add the job control routes (``/_sim/jobs...``) to the control table."""
    table.add("GET", r"/_sim/jobs", control_list, "sim.jobs", auth="none")
    table.add("POST", r"/_sim/jobs/settings", control_settings, "sim.jobs.settings", auth="none")
    table.add("POST", r"/_sim/jobs/complete", control_complete, "sim.jobs.complete", auth="none")
