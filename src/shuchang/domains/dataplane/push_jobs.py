"""Push jobs (推送任务): one row per push transfer and start (epoch), leased by one pusher.

A job is made for every STARTED push transfer of this connector that has none for its epoch
(:func:`ensure_jobs`; the unique (transfer, epoch) key makes concurrent pushers agree). A
pusher takes a due job (:func:`claim`: ``pending`` and due, or ``running`` with a lease that
ran out) by locking its row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's writers take
turns), counts the attempt and leases it under a fresh ``owner`` token. Whoever takes over a
dead pusher's job first closes that pusher's usage record still in flight as
``interrupted`` with the bytes its last heartbeat wrote: a record is never left open and
never closed twice. While sending, :func:`beat` renews the lease with every chunk and says
whether the transfer is still STARTED in the job's epoch (a suspension, completion or
termination stops the job at the next chunk) and whether the lease is still ours.

The job's ``progress`` keeps, per unit, the record that paid for it: a retry, a take-over or
a new start of the same transfer sends that unit again as a continuation, decided but not
counted (the "paid copy" of downloads, docs/dataplane §7, at the granularity of a unit).
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuchang.db import table_of, utcnow
from shuchang.domains.dataplane import metering
from shuchang.domains.dataplane.delivery_models import PushJob
from shuchang.domains.transfers import (
    Outbound,
    PushTransfer,
    finish_push,
    push_transfer,
    started_pushes,
    transfer_states,
)

PENDING, RUNNING, DONE, FAILED, STOPPED = "pending", "running", "done", "failed", "stopped"
BACKOFF_CAP = 300.0  # seconds: the longest wait between two attempts
INTERRUPTED = "interrupted"  # the outcome of a record whose pusher died mid-send
STOPPED_OUTCOME = "stopped"  # the transfer was suspended or ended while the unit was sent
CLIENT_CLOSED = 499

_jobs = table_of(PushJob)
_beat = (
    update(_jobs)
    .where(
        _jobs.c.id == bindparam("job"),
        _jobs.c.owner == bindparam("me"),
        _jobs.c.state == RUNNING,
    )
    .values(lease_until=bindparam("until"), sent=bindparam("sent"), updated_at=bindparam("at"))
)


@dataclass
class Claimed:
    """A job this pusher holds: the transfer, the attempt number and the progress so far."""

    job_id: int
    owner: str
    transfer: PushTransfer
    attempt: int
    progress: dict[str, Any] = field(default_factory=dict)


class LeaseLost(Exception):
    """Another pusher took the job over (this one was too slow to renew its lease)."""


class Stopped(Exception):
    """The transfer is no longer STARTED in the job's epoch."""


def backoff(attempt: int, base: float = 2.0) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1, 2 …): base, 2·base, 4·base …"""
    return float(min(BACKOFF_CAP, base * 2 ** max(0, attempt - 1)))


def ensure_jobs(session: Session, provider_id: uuid.UUID) -> int:
    """A pending job for every STARTED push transfer of ``provider_id`` without one for its
    epoch, inheriting the progress of the transfer's latest earlier job; how many were made."""
    pushes = started_pushes(session, provider_id)
    if not pushes:
        return 0
    rows = session.execute(
        select(PushJob.transfer_id, PushJob.epoch).where(
            PushJob.transfer_id.in_([p.id for p in pushes])
        )
    )
    have = {(transfer_id, epoch) for transfer_id, epoch in rows}
    made = 0
    for p in pushes:
        if (p.id, p.epoch) in have:
            continue
        earlier = session.scalars(
            select(PushJob.progress)
            .where(PushJob.transfer_id == p.id, PushJob.epoch < p.epoch)
            .order_by(PushJob.epoch.desc())
            .limit(1)
        ).first()
        now = utcnow()
        job = PushJob(
            transfer_id=p.id,
            epoch=p.epoch,
            state=PENDING,
            attempts=0,
            next_at=now,
            progress=dict(earlier or {}),
            sent=0,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():  # another pusher may make the same job meanwhile
                session.add(job)
        except IntegrityError:
            continue
        made += 1
    return made


def _due(session: Session, now: datetime) -> list[PushJob]:
    stmt = (
        select(PushJob)
        .where(
            ((PushJob.state == PENDING) & (PushJob.next_at <= now))
            | ((PushJob.state == RUNNING) & (PushJob.lease_until < now))
        )
        .order_by(PushJob.next_at, PushJob.id)
        .limit(10)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def _close_dead(session: Session, job: PushJob, outcome: str = INTERRUPTED) -> None:
    """Close the record a dead pusher (or a failed step before sending) left in flight, with
    the bytes last reported."""
    if job.record_id is not None:
        metering.close_records(
            session,
            [
                metering.Closing(
                    record_id=job.record_id,
                    outcome=outcome,
                    status=CLIENT_CLOSED,
                    size=job.sent,
                    rows=0,
                    duration_ms=0,
                )
            ],
        )
    job.record_id, job.sent = None, 0


def claim(
    session: Session, provider_id: uuid.UUID, *, lease: float, attempts: int
) -> tuple[Claimed | None, list[Outbound]]:
    """Take the next due job of ``provider_id``'s transfers; the messages to send for jobs
    that ended on the way (attempts used up after a crash)."""
    now, outbound = utcnow(), []
    for job in _due(session, now):
        t = push_transfer(session, job.transfer_id)
        if t is None or t.provider_id != provider_id:
            continue
        _close_dead(session, job)
        if t.state != "STARTED" or t.epoch != job.epoch:
            _end(job, STOPPED, now)
            continue
        job.attempts += 1
        if job.attempts > attempts:
            message = finish_push(session, t.id, t.epoch, reason=_gave_up(job), code="push_failed")
            _end(job, FAILED, now)
            outbound += [message] if message else []
            continue
        job.state, job.owner = RUNNING, secrets.token_hex(8)
        job.lease_until, job.updated_at = now + timedelta(seconds=lease), now
        return Claimed(job.id, job.owner, t, job.attempts, dict(job.progress or {})), outbound
    return None, outbound


def _gave_up(job: PushJob) -> str:
    last = (job.last_error or {}).get("message", "the pusher stopped while sending")
    return f"push failed after {job.attempts - 1} attempts: {last}"[:500]


def _end(job: PushJob, state: str, now: datetime) -> None:
    job.state, job.owner, job.lease_until, job.updated_at = state, None, None, now


def held(session: Session, claimed: Claimed) -> PushJob:
    """The job row, locked, while ``claimed`` still holds it; else LeaseLost."""
    job = session.get(PushJob, claimed.job_id, with_for_update=True, populate_existing=True)
    if job is None or job.owner != claimed.owner or job.state != RUNNING:
        raise LeaseLost()
    return job


def beat(session: Session, claimed: Claimed, *, sent: int, lease: float) -> None:
    """Renew the lease and report the bytes sent of the unit in flight; LeaseLost if another
    pusher holds the job now, Stopped if the transfer left STARTED or its epoch."""
    now = utcnow()
    result = session.execute(
        _beat,
        {
            "job": claimed.job_id,
            "me": claimed.owner,
            "until": now + timedelta(seconds=lease),
            "sent": sent,
            "at": now,
        },
    )
    if not getattr(result, "rowcount", 0):
        raise LeaseLost()
    state = transfer_states(session, [claimed.transfer.id]).get(claimed.transfer.id)
    if state is None or state[0] != "STARTED" or state[1] != claimed.transfer.epoch:
        raise Stopped()


def opened(session: Session, claimed: Claimed, key: str, record_id: int, counted: bool) -> None:
    """A unit's admission committed with its record (same transaction): remember the record
    in flight and, when it counted a use, that the unit is paid for."""
    job = held(session, claimed)
    entry = dict(claimed.progress.get(key, {}))
    if counted:
        entry["paid"] = record_id
    claimed.progress[key] = entry
    job.progress = dict(claimed.progress)
    job.record_id, job.sent, job.updated_at = record_id, 0, utcnow()


def closed(
    session: Session, claimed: Claimed, key: str, closing: metering.Closing, facts: dict[str, Any]
) -> PushJob:
    """A unit's outcome: its record closed, ``facts`` (done, bytes, digests …) kept."""
    job = held(session, claimed)
    metering.close_records(session, [closing])
    claimed.progress[key] = {**claimed.progress.get(key, {}), **facts}
    job.progress = dict(claimed.progress)
    job.record_id, job.sent, job.updated_at = None, 0, utcnow()
    return job


def succeed(session: Session, claimed: Claimed) -> Outbound | None:
    """Every unit and the manifest are delivered: the job is done, the transfer COMPLETED."""
    job = held(session, claimed)
    _end(job, DONE, utcnow())
    job.last_error = None
    t = claimed.transfer
    return finish_push(session, t.id, t.epoch)


def fail(
    session: Session,
    claimed: Claimed,
    error: dict[str, Any],
    *,
    attempts: int,
    base: float,
    final: bool = False,
) -> Outbound | None:
    """An attempt failed: wait and try again, or — attempts used up, or ``final`` (the
    agreement denies it, the data cannot be delivered) — fail the job and TERMINATE the
    transfer with the reason."""
    job = held(session, claimed)
    _close_dead(session, job, "error")
    now = utcnow()
    job.last_error = {**error, "attempt": job.attempts, "at": now.isoformat()}
    if final or job.attempts >= attempts:
        _end(job, FAILED, now)
        t = claimed.transfer
        reason = f"push failed after {job.attempts} attempts: {error.get('message', '')}"
        return finish_push(
            session, t.id, t.epoch, reason=reason[:500], code=str(error.get("code", "push_failed"))
        )
    _end(job, PENDING, now)
    job.next_at = now + timedelta(seconds=backoff(job.attempts, base))
    return None


def stop(session: Session, claimed: Claimed) -> None:
    """The transfer moved on (suspended, ended): the job stops here."""
    try:
        job = held(session, claimed)
    except LeaseLost:
        return
    _close_dead(session, job, STOPPED_OUTCOME)
    _end(job, STOPPED, utcnow())


def clock() -> float:
    return time.monotonic()
