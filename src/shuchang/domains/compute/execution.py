"""Running a queued job (执行): materialise, rewrite, sandbox, noise, then release.

Only the last step writes an answer, and it does so in one transaction with the budget
debit: lock the product's lifetime account, then the consumer's period account; decide the
use again with what the consumer has now spent (``decide_use`` counts it); check the
lifetime cap; debit both; store the result and its evidence. A refusal at that point marks
the job failed and stores nothing of the answer. Failures before it (data source, timeout,
cancellation, sandbox error) spend nothing.
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import msgspec
from sqlalchemy.orm import Session

from shuchang.datasources import DataSourceUnavailable
from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.compute import ledger, sqlcheck
from shuchang.domains.compute import plan as p
from shuchang.domains.compute.errors import JobFailed
from shuchang.domains.compute.jobs import (
    Terms,
    check_budget,
    facts,
    psi_filter,
    terms_of,
    use_request,
)
from shuchang.domains.compute.materialise import Materialised, materialise
from shuchang.domains.compute.models import ComputeJob
from shuchang.domains.compute.profiles import Loaded
from shuchang.domains.compute.release import Privacy, release
from shuchang.domains.compute.sandbox import Restriction, Sandbox, SandboxError, Task
from shuchang.domains.compute.schemas import ResultOut
from shuchang.domains.participants import SYSTEM, Actor
from shuchang.errors import ShuchangError
from shuchang.settings import Settings

Unit = Callable[[], AbstractContextManager[Session]]
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Prepared:
    job_id: uuid.UUID
    consumer: Actor
    terms: Terms
    plan: p.Plan
    epsilon_micro: int
    restrict_to: Restriction | None = None


def _prepare(unit: Unit, job_id: uuid.UUID) -> Prepared | None:
    """Mark the job running (None: it was cancelled or taken by another runner)."""
    with unit() as s:
        job = s.get(ComputeJob, job_id, with_for_update=True)
        if job is None or job.state != "queued":
            return None
        consumer = Actor(participant_id=job.consumer_id, role="consumer")
        terms = terms_of(s, consumer, job.agreement_id)
        try:
            plan = sqlcheck.validate(job.normalised_sql, terms.loaded.catalogue)
            restrict_to = psi_filter(s, terms, job.psi_filter) if job.psi_filter else None
        except ShuchangError as exc:  # the profile (or the filter) changed since submission
            _fail(s, job, exc)
            return None
        job.state, job.started_at = "running", utcnow()
        return Prepared(job_id, consumer, terms, plan, job.epsilon_micro, restrict_to)


def _fail(s: Session, job: ComputeJob, error: ShuchangError, state: str = "failed") -> None:
    job.state, job.finished_at, job.error = state, utcnow(), error.problem()
    evidence.record(
        s,
        f"compute.job_{state}",
        f"compute_job:{job.id}",
        SYSTEM.ref,
        {**facts(job), "error": job.error["code"], "charged_micro": 0},
    )


def _watch(unit: Unit, job_id: uuid.UUID, cancel: threading.Event, done: threading.Event) -> None:
    """Turn a cancel request written by any process into ``cancel`` for this runner."""
    while not done.wait(POLL_SECONDS):
        with unit() as s:
            job = s.get(ComputeJob, job_id)
            if job is not None and job.cancel_requested:
                cancel.set()
                return


def compute_release(
    settings: Settings,
    sandbox: Sandbox,
    loaded: Loaded,
    plan: p.Plan,
    epsilon: float,
    *,
    restrict_to: Restriction | None = None,
    cancel: threading.Event | None = None,
) -> tuple[ResultOut, Materialised]:
    """Exact aggregates from the sandbox, then the private answer (nothing stored, nothing
    debited: the caller settles). ``restrict_to`` limits the rows to a set of identifier
    values held at the provider (PSI then aggregate); its column must be the person column
    or a declared column of the profile, and the DP guarantee is unchanged by it."""
    source, profile, cat = loaded.source, loaded.profile, loaded.catalogue
    if restrict_to is not None and restrict_to.column not in (cat.person, *cat.dimensions):
        raise ValueError(f"restrict_to.column {restrict_to.column!r} is not materialised")
    data = materialise(settings, source, cat)
    bound = profile.contribution_bound
    sql = p.rewrite(
        plan,
        cat,
        bound,
        enforce_bound=data.max_rows_per_person > bound,
        distinct_persons=data.max_rows_per_person > 1,
        restrict_column=restrict_to.column if restrict_to else None,
    )
    task = Task(
        data.path,
        sql.sql,
        sql.params,
        timeout_seconds=profile.timeout_seconds,
        memory_limit_mb=profile.memory_limit_mb,
        threads=min(2, os.cpu_count() or 1),
        restrict_to=restrict_to,
    )
    outcome = sandbox.run(task, cancel)
    privacy = Privacy(
        epsilon=epsilon,
        k=profile.k,
        bound=bound,
        mechanism=profile.sum_mechanism,
        delta=profile.delta,
    )
    return release(plan, cat, outcome.rows, privacy), data


def run_job(
    unit: Unit,
    settings: Settings,
    sandbox: Sandbox,
    job_id: uuid.UUID,
    cancel: threading.Event | None = None,
) -> None:
    """Run one queued job to its end (succeeded, failed or cancelled)."""
    ready = _prepare(unit, job_id)
    if ready is None:
        return
    cancel = cancel or threading.Event()
    done = threading.Event()
    threading.Thread(target=_watch, args=(unit, job_id, cancel, done), daemon=True).start()
    try:
        result, data = compute_release(
            settings,
            sandbox,
            ready.terms.loaded,
            ready.plan,
            ledger.epsilon_of(ready.epsilon_micro),
            restrict_to=ready.restrict_to,
            cancel=cancel,
        )
    except SandboxError as exc:
        failure = JobFailed(
            f"The computation stopped ({exc.code}): {exc.message}",
            f"计算中止（{exc.code}），未发布结果，也未扣减预算",
            code=f"compute.{exc.code}",
        )
        _finish_failed(unit, job_id, failure, "cancelled" if exc.code == "cancelled" else "failed")
        return
    except (DataSourceUnavailable, ShuchangError) as exc:
        _finish_failed(unit, job_id, exc)
        return
    finally:
        done.set()
    with unit() as s:
        settle(s, ready, result, data)


def _finish_failed(
    unit: Unit, job_id: uuid.UUID, error: ShuchangError, state: str = "failed"
) -> None:
    with unit() as s:
        job = s.get(ComputeJob, job_id, with_for_update=True)
        if job is not None and job.state == "running":
            _fail(s, job, error, "cancelled" if job.cancel_requested else state)


def settle(s: Session, ready: Prepared, result: ResultOut, data: Materialised) -> None:
    """Debit and release in this one transaction, or refuse and release nothing."""
    job = s.get(ComputeJob, ready.job_id, with_for_update=True)
    assert job is not None
    if job.state != "running" or job.cancel_requested:
        if job.state == "running":
            _fail(s, job, JobFailed("Cancelled", "已取消", code="compute.cancelled"), "cancelled")
        return
    terms = ready.terms
    lifetime = ledger.lock(s, job.product_id, ledger.PRODUCT)
    job.period = ledger.period_key(terms.budget.period, utcnow())
    account = ledger.lock(s, job.product_id, ledger.consumer_account(job.consumer_id, job.period))
    request = use_request(terms, None, job.epsilon_micro, account.spent_micro)
    request = msgspec.structs.replace(
        request, purpose=job.purpose or terms.agreement.purpose, region=job.region, consume=True
    )
    try:
        check_budget(s, ready.consumer, terms, request, lifetime.spent_micro)
    except ShuchangError as exc:
        _fail(s, job, exc)
        return
    ledger.debit(lifetime, job.epsilon_micro)
    ledger.debit(account, job.epsilon_micro)
    body = msgspec.to_builtins(result)
    job.result, job.charged_micro = body, job.epsilon_micro
    job.input_digest = data.digest
    job.result_digest = hashlib.sha256(msgspec.json.encode(body)).hexdigest()
    job.state, job.finished_at = "succeeded", utcnow()
    evidence.record(
        s,
        "compute.job_released",
        f"compute_job:{job.id}",
        ready.consumer.ref,
        {
            **facts(job),
            "charged_micro": job.charged_micro,
            "delta": repr(result.delta),
            "input": {"digest": data.digest, "rows": data.rows},
            "result_digest": job.result_digest,
            "cells": len(result.rows),
            "suppressed": sum(result.suppressed),
        },
    )
