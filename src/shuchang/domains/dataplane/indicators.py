"""Data requests over all agreements by day, for supervision (监管统计): read with the index
on ``started_at``, one Asia/Shanghai day (or a few) at a time."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuchang.domains.dataplane.metering import _day, _flag, _records


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def usage_by_day(
    session: Session, since: datetime, until: datetime | None = None
) -> list[tuple[date, uuid.UUID, int, int]]:
    """``(Asia/Shanghai day, agreement, requests, permitted)`` for records started in
    ``[since, until)``."""
    day = _day(session).label("day")
    c = _records.c
    stmt = (
        select(day, c.agreement_id, func.count(), _flag(c.permitted.is_(True)))
        .where(c.started_at >= since)
        .group_by(day, c.agreement_id)
    )
    if until is not None:
        stmt = stmt.where(c.started_at < until)
    return [(_as_date(d), a, int(n), int(p)) for d, a, n, p in session.execute(stmt)]


def first_request_at(session: Session) -> datetime | None:
    """When the oldest usage record started (an index lookup)."""
    found: datetime | None = session.scalar(select(func.min(_records.c.started_at)))
    return found
