"""Data requests per day over all agreements, for supervision (监管统计)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from shuchang.domains.dataplane.metering import _day, _flag, _records


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def requests_per_day(session: Session, since: datetime) -> list[tuple[date, int, int]]:
    """``(Asia/Shanghai day, requests, permitted)`` for days from ``since`` on."""
    day = _day(session).label("day")
    c = _records.c
    rows = session.execute(
        select(day, func.count(), _flag(c.permitted.is_(True)))
        .where(c.started_at >= since)
        .group_by(day)
        .order_by(day)
    )
    return [(_as_date(d), int(n), int(p)) for d, n, p in rows]


def permitted_by_agreement_month(
    session: Session, since: datetime
) -> list[tuple[uuid.UUID, str, int]]:
    """``(agreement, "YYYY-MM" in Asia/Shanghai, permitted requests)``: what per-call prices
    are charged on."""
    month = func.substr(cast(_day(session), String), 1, 7).label("month")
    c = _records.c
    rows = session.execute(
        select(c.agreement_id, month, func.count())
        .where(c.started_at >= since, c.permitted.is_(True))
        .group_by(c.agreement_id, month)
    )
    return [(a, str(m), int(n)) for a, m, n in rows]
