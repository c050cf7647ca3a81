"""What the console shows of the data plane (数据面视图): a push job's status, usage per
transfer, an agreement's usage per hour and per day, and a dataset's manifest.

Access is the agreement's: its two parties and oversight (operator, regulator); anyone else
is told the agreement does not exist, as by ``GET /api/v1/dataplane/usage``. Usage records
live where the gateway runs (the provider's platform): a consumer's own platform shows what
was metered there, which for a transfer from another deployment is nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from shuchang.db import table_of, utcnow
from shuchang.domains.contracts import find_agreement
from shuchang.domains.dataplane.delivery_models import PushJob
from shuchang.domains.dataplane.metering import usage_summary
from shuchang.domains.dataplane.models import UsageRecord
from shuchang.domains.dataplane.schemas import UsageSummary
from shuchang.domains.participants import Actor
from shuchang.errors import NotFound, ShuchangError
from shuchang.platform import Platform

OVERSIGHT = ("operator", "regulator", "system")
MAX_HOURS = 24 * 14
_records = table_of(UsageRecord)


@dataclass(frozen=True)
class PushStatus:
    """The latest push job of a transfer (推送任务状态)."""

    epoch: int
    state: str
    attempts: int
    max_attempts: int
    next_at: datetime | None
    last_error: dict[str, Any] | None
    units_done: int
    bytes_done: int
    in_flight: int  # bytes of the unit being sent, at the last heartbeat
    updated_at: datetime


def push_status(session: Session, transfer_id: uuid.UUID, max_attempts: int) -> PushStatus | None:
    job = session.scalars(
        select(PushJob).where(PushJob.transfer_id == transfer_id).order_by(PushJob.epoch.desc())
    ).first()
    if job is None:
        return None
    done = [u for u in (job.progress or {}).values() if u.get("done")]
    return PushStatus(
        epoch=job.epoch,
        state=job.state,
        attempts=job.attempts,
        max_attempts=max_attempts,
        next_at=job.next_at if job.state == "pending" else None,
        last_error=job.last_error,
        units_done=len(done),
        bytes_done=sum(int(u.get("bytes", 0)) for u in done),
        in_flight=job.sent if job.state == "running" else 0,
        updated_at=job.updated_at,
    )


@dataclass(frozen=True)
class TransferUsage:
    """What one transfer was metered for so far."""

    requests: int
    permitted: int
    bytes: int
    rows: int


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(cast(case((condition, 1), else_=0), Integer)), 0)


def transfer_usage(
    session: Session, transfer_ids: list[uuid.UUID]
) -> dict[uuid.UUID, TransferUsage]:
    """Requests (pull) or pushed units, bytes and rows per transfer, in one query."""
    if not transfer_ids:
        return {}
    c = _records.c
    rows = session.execute(
        select(
            c.transfer_id,
            func.count(),
            _flag(c.permitted.is_(True)),
            func.coalesce(func.sum(c.bytes), 0),
            func.coalesce(func.sum(c.rows), 0),
        )
        .where(c.transfer_id.in_(transfer_ids))
        .group_by(c.transfer_id)
    )
    return {
        tid: TransferUsage(int(n), int(ok), int(size), int(count))
        for tid, n, ok, size, count in rows
    }


def check_access(session: Session, actor: Actor, agreement_id: uuid.UUID) -> None:
    agreement = find_agreement(session, agreement_id)
    parties = () if agreement is None else (agreement.provider_id, agreement.consumer_id)
    if agreement is None or (actor.participant_id not in parties and actor.role not in OVERSIGHT):
        raise NotFound("Agreement not found", "合约不存在", code="agreement.not_found")


def _hour(session: Session) -> ColumnElement[Any]:
    """The Asia/Shanghai hour of a record, as ``YYYY-MM-DD HH:00``."""
    if session.get_bind().dialect.name == "postgresql":
        local = func.timezone("Asia/Shanghai", _records.c.started_at)
        return func.to_char(func.date_trunc("hour", local), "YYYY-MM-DD HH24:00")
    return func.strftime("%Y-%m-%d %H:00", _records.c.started_at, "+8 hours")


def usage_hours(
    session: Session, actor: Actor, agreement_id: uuid.UUID, hours: int = 48
) -> list[dict[str, Any]]:
    """Requests per Asia/Shanghai hour over the last ``hours`` (only hours with any):
    ``{"hour", "permitted", "denied", "bytes"}``."""
    check_access(session, actor, agreement_id)
    since = utcnow() - timedelta(hours=max(1, min(hours, MAX_HOURS)))
    hour = _hour(session).label("hour")
    c = _records.c
    stmt = (
        select(
            hour,
            _flag(c.permitted.is_(True)),
            _flag(c.permitted.is_(False)),
            func.coalesce(func.sum(c.bytes), 0),
        )
        .where(c.agreement_id == agreement_id, c.started_at >= since)
        .group_by(hour)
        .order_by(hour)
    )
    return [
        {"hour": str(h), "permitted": int(p), "denied": int(d), "bytes": int(b)}
        for h, p, d, b in session.execute(stmt)
    ]


def usage_days(session: Session, actor: Actor, agreement_id: uuid.UUID) -> UsageSummary:
    check_access(session, actor, agreement_id)
    return usage_summary(session, agreement_id)


def dataset_manifest(platform: Platform, agreement_id: uuid.UUID) -> list[dict[str, Any]] | None:
    """The parts of the agreement's dataset with their digests, as ``/data/manifest`` gives
    them, when this platform holds the data (the provider's); None otherwise."""
    from shuchang.domains.dataplane.datasets import Datasets

    datasets = Datasets(platform)
    try:
        with platform.unit(write=False) as s:
            offering = datasets.offerings.get(s, agreement_id)
        if offering.kind not in ("dataset", "data_element"):
            return None
        return [datasets.describe(p) for p in offering.parts]
    except (ShuchangError, OSError, KeyError):
        return None
