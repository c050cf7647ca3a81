"""Metering (计量): one usage record per data request that reached the usage decision.

A record is inserted in the decision's own transaction — the transaction that also counts
the use — so a counted use always has its record and a record always has its use: the
two commit together or not at all. For a permitted request the record's ``outcome`` is
``unknown`` at that point; after the upstream answered, :func:`close` fills in status,
bytes, rows and duration in a second short transaction keyed by the record's id. If the
gateway dies between the two, the record stays ``unknown``: it is still a counted use,
the summary shows it and sealing takes it once it is older than any request could run.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, case, cast, func, insert, select, update
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
_insert = insert(_records).returning(_records.c.id)


def open_record(
    session: Session,
    *,
    agreement_id: uuid.UUID,
    transfer_id: uuid.UUID,
    consumer_id: uuid.UUID,
    method: str,
    path: str,
    permitted: bool,
    started_at: datetime,
    duration_ms: int | None = None,
) -> int:
    """Insert a request's record in the caller's transaction (the decision's); its id."""
    record_id = session.execute(
        _insert,
        {
            "agreement_id": agreement_id,
            "transfer_id": transfer_id,
            "consumer_id": consumer_id,
            "method": method,
            "path": path[:MAX_PATH],
            "permitted": permitted,
            "outcome": UNKNOWN if permitted else DENIED,
            "status": None if permitted else 403,
            "bytes": 0,
            "rows": 0,
            "duration_ms": duration_ms,
            "started_at": started_at,
        },
    ).scalar_one()
    return int(record_id)


def close(
    session: Session,
    record_id: int,
    *,
    outcome: str,
    status: int,
    size: int,
    rows: int,
    duration_ms: int,
) -> bool:
    """Write a permitted request's outcome. False if the record was sealed meanwhile (as
    ``unknown``, after the in-flight grace): a sealed record is never changed."""
    result = session.execute(
        update(_records)
        .where(_records.c.id == record_id, _records.c.batch_id.is_(None))
        .values(outcome=outcome, status=status, bytes=size, rows=rows, duration_ms=duration_ms)
    )
    return bool(getattr(result, "rowcount", 0))


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
