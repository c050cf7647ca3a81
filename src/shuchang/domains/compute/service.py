"""The compute use cases as the API, CLI and console call them: a job is submitted in one
transaction and, when queued, run by this process's runner (or inline) afterwards."""

from __future__ import annotations

import contextlib
import time
import uuid
from concurrent.futures import TimeoutError as FutureTimeout

from shuchang.domains.compute import jobs, views
from shuchang.domains.compute.execution import run_job
from shuchang.domains.compute.runner import runner_for
from shuchang.domains.compute.sandbox import shared_sandbox
from shuchang.domains.compute.schemas import JobIn, JobOut
from shuchang.domains.participants import Actor
from shuchang.platform import Platform


def _read(platform: Platform, actor: Actor, job_id: uuid.UUID) -> JobOut:
    with platform.unit(write=False) as s:
        return views.job_out(jobs.load_job(s, actor, job_id), actor)


def submit(platform: Platform, actor: Actor, data: JobIn, *, wait: float | None) -> JobOut:
    """Submit; run in the background and wait up to ``wait`` seconds (None: run inline)."""
    with platform.unit() as s:
        job = jobs.submit(s, actor, data)
        job_id, queued = job.id, job.state == "queued"
    if queued and wait is None:
        run_job(
            platform.unit,
            platform.settings,
            shared_sandbox(platform.settings.compute_workers),
            job_id,
        )
    elif queued:
        future = runner_for(platform.unit, platform.settings, id(platform)).start(job_id)
        with contextlib.suppress(FutureTimeout):  # still running: the caller polls GET /jobs/{id}
            future.result(timeout=wait)
    return _read(platform, actor, job_id)


def show(platform: Platform, actor: Actor, job_id: uuid.UUID, *, wait: float = 0) -> JobOut:
    """The job; with ``wait``, poll until it finishes or ``wait`` seconds pass."""
    deadline = time.monotonic() + wait
    out = _read(platform, actor, job_id)
    while out.state in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.1)
        out = _read(platform, actor, job_id)
    return out


def cancel(platform: Platform, actor: Actor, job_id: uuid.UUID) -> JobOut:
    with platform.unit() as s:
        jobs.cancel(s, actor, job_id)
    runner_for(platform.unit, platform.settings, id(platform)).cancel(job_id)
    return _read(platform, actor, job_id)
