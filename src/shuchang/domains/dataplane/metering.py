"""Metering (计量): one usage record per data request that reached the usage decision.

A record is inserted in the decision's own transaction — the transaction that also counts
the use — so a counted use always has its record and a record always has its use: the
two commit together or not at all. For a permitted request the record's ``outcome`` is
``unknown`` at that point; after the upstream answered, :func:`close_records` fills in
status, bytes, rows and duration in a second transaction keyed by the record's id. The
gateway writes both for many requests at once (group commit, :mod:`.admission`). If the
gateway dies between the two, the record stays ``unknown``: it is still a counted use,
the summary shows it and sealing takes it once it is older than any request could run.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, bindparam, case, cast, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from shuchang.db import table_of
from shuchang.domains.dataplane.models import UsageRecord
from shuchang.domains.dataplane.schemas import DayUsage, UsageSummary

UNKNOWN = "unknown"  # permitted, outcome not written yet (or never: the gateway stopped)
DENIED = "denied"
DELIVERED = "delivered"  # the upstream answered and the answer was sent (any status)
UPSTREAM_FAILED = ("upstream_unavailable", "upstream_timeout")
MAX_PATH = 500

_records = table_of(UsageRecord)
_insert_many = insert(_records).returning(_records.c.id, sort_by_parameter_order=True)
_close = (
    update(_records)
    # written once, to a record still waiting for it: a record with an outcome never changes
    .where(
        _records.c.id == bindparam("rid"),
        _records.c.batch_id.is_(None),
        _records.c.outcome == UNKNOWN,
    )
    .values(
        outcome=bindparam("o"),
        status=bindparam("st"),
        bytes=bindparam("b"),
        rows=bindparam("r"),
        duration_ms=bindparam("d"),
    )
)


@dataclass(frozen=True)
class Opening:
    """A request that reached the usage decision, as its record is first written."""

    agreement_id: uuid.UUID
    transfer_id: uuid.UUID
    consumer_id: uuid.UUID
    method: str
    path: str
    permitted: bool
    started_at: datetime
    duration_ms: int | None = None  # a denial's, known at once
    counted: bool = True  # False: a resumed range of a paid copy, HEAD, the manifest
    resource_id: uuid.UUID | None = None  # downloads: which source part
    byte_range: str | None = None
    channel: str | None = None  # downloads: pull or push


@dataclass(frozen=True)
class Closing:
    """A permitted request's outcome, written once its answer was sent (or failed)."""

    record_id: int
    outcome: str
    status: int
    size: int
    rows: int
    duration_ms: int


def _row(o: Opening) -> dict[str, Any]:
    return {
        "agreement_id": o.agreement_id,
        "transfer_id": o.transfer_id,
        "consumer_id": o.consumer_id,
        "method": o.method,
        "path": o.path[:MAX_PATH],
        "permitted": o.permitted,
        "outcome": UNKNOWN if o.permitted else DENIED,
        "status": None if o.permitted else 403,
        "bytes": 0,
        "rows": 0,
        "duration_ms": o.duration_ms,
        "started_at": o.started_at,
        "counted": o.counted,
        "resource_id": o.resource_id,
        "byte_range": o.byte_range,
        "channel": o.channel,
    }


def open_records(session: Session, openings: Sequence[Opening]) -> list[int]:
    """Insert the records in the caller's transaction (the decisions'), in one statement;
    their ids in the order given."""
    if not openings:
        return []
    result = session.execute(_insert_many, [_row(o) for o in openings])
    return [int(i) for i in result.scalars()]


def close_records(session: Session, closings: Sequence[Closing]) -> int:
    """Write permitted requests' outcomes in one statement; how many were written. A record
    sealed meanwhile (as ``unknown``, after the in-flight grace) is left as sealed: a sealed
    record is never changed."""
    if not closings:
        return 0
    params = [
        {
            "rid": c.record_id,
            "o": c.outcome,
            "st": c.status,
            "b": c.size,
            "r": c.rows,
            "d": c.duration_ms,
        }
        for c in closings
    ]
    result = session.execute(_close, params)
    return int(getattr(result, "rowcount", 0) or 0)


def _day(session: Session) -> ColumnElement[Any]:
    """The Asia/Shanghai calendar day of a record (UTC+8, no daylight saving)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", _records.c.started_at))
    return func.date(_records.c.started_at, "+8 hours")


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(cast(case((condition, 1), else_=0), Integer)), 0)


def usage_summary(
    session: Session,
    agreement_id: uuid.UUID,
    since: datetime | None = None,
    until: datetime | None = None,
) -> UsageSummary:
    """Requests, permitted, denied, bytes and rows of an agreement, in total and per day
    (``since`` inclusive, ``until`` exclusive). Access is the caller's to check."""
    day = _day(session).label("day")
    c = _records.c
    stmt = (
        select(
            day,
            func.count(),
            _flag(c.permitted.is_(True)),
            _flag(c.outcome == UNKNOWN),
            _flag(c.outcome.in_(UPSTREAM_FAILED)),
            func.coalesce(func.sum(c.bytes), 0),
            func.coalesce(func.sum(c.rows), 0),
        )
        .where(c.agreement_id == agreement_id)
        .group_by(day)
        .order_by(day)
    )
    if since is not None:
        stmt = stmt.where(c.started_at >= since)
    if until is not None:
        stmt = stmt.where(c.started_at < until)
    days, unknown, failed = [], 0, 0
    for when, requests, permitted, unknowns, failures, size, rows in session.execute(stmt):
        day_of = when if isinstance(when, date) else date.fromisoformat(str(when))
        days.append(
            DayUsage(day_of, requests, permitted, requests - permitted, int(size), int(rows))
        )
        unknown, failed = unknown + unknowns, failed + failures
    return UsageSummary(
        agreement_id=agreement_id,
        since=since,
        until=until,
        requests=sum(d.requests for d in days),
        permitted=sum(d.permitted for d in days),
        denied=sum(d.denied for d in days),
        unknown=unknown,
        upstream_failed=failed,
        bytes=sum(d.bytes for d in days),
        rows=sum(d.rows for d in days),
        days=days,
    )
