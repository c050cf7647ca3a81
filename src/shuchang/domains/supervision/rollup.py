"""Daily rollups of data requests (日汇总) for the dashboard.

Metering writes one record per request (up to millions a day); summing them for every
dashboard refresh would cost more each day. So a day is summed once, per agreement, into
``supervision_usage_days`` after it has closed — Asia/Shanghai midnight plus
:data:`GRACE`, longer than any request's decision transaction stays open — and the
dashboard reads closed days from the rollup and only the open ones (today, and yesterday
during the grace) from the metering records, through the index on ``started_at``.

:func:`catch_up` is idempotent and cheap when there is nothing to do (one primary-key read);
the dashboard and the API call it before reading, and `shuchang supervision rollup` does the
same from cron.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from shuchang.db import table_of, utcnow
from shuchang.domains.dataplane import first_request_at, usage_by_day
from shuchang.domains.supervision.models import RollupMark, UsageDay

NAME = "usage_days"
CHINA = timedelta(hours=8)
GRACE = timedelta(minutes=10)
MAX_DAYS_PER_RUN = 400
_days = table_of(UsageDay).alias("usage_days")


def day_start(day: date) -> datetime:
    """Asia/Shanghai midnight of ``day``, in UTC."""
    return datetime.combine(day, time(), tzinfo=UTC) - CHINA


def last_closed(now: datetime) -> date:
    """The latest Asia/Shanghai day that ended at least GRACE ago."""
    return (now - GRACE + CHINA).date() - timedelta(days=1)


def rolled_until(session: Session) -> date | None:
    mark = session.get(RollupMark, NAME)
    return None if mark is None else mark.until


def pending(session: Session, now: datetime | None = None) -> bool:
    """Whether a closed day is not rolled up yet (a read; no lock taken)."""
    until = rolled_until(session)
    return until is None or until < last_closed(now or utcnow())


def catch_up(session: Session, now: datetime | None = None) -> int:
    """Sum every closed day not yet rolled up (at most MAX_DAYS_PER_RUN); days summed."""
    now = now or utcnow()
    target = last_closed(now)
    mark = session.get(RollupMark, NAME, with_for_update=True)
    if mark is None:
        first = first_request_at(session)
        start = target + timedelta(days=1) if first is None else (first + CHINA).date()
        mark = RollupMark(name=NAME, until=start - timedelta(days=1))
        session.add(mark)
        session.flush()
    days = 0
    while mark.until < target and days < MAX_DAYS_PER_RUN:
        day = mark.until + timedelta(days=1)
        rows = usage_by_day(session, day_start(day), day_start(day + timedelta(days=1)))
        if rows:
            session.execute(
                insert(table_of(UsageDay)),
                [
                    {"day": d, "agreement_id": a, "requests": n, "permitted": p}
                    for d, a, n, p in rows
                ],
            )
        mark.until, days = day, days + 1
    session.flush()
    return days


def _month(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _split(session: Session, since: date) -> tuple[date | None, date]:
    """The last rolled-up day to read from the rollup (None: none), and the first live day."""
    until = rolled_until(session)
    if until is None or until < since:
        return None, since
    return until, until + timedelta(days=1)


def days_since(session: Session, since: date) -> list[tuple[date, int, int]]:
    """``(day, requests, permitted)`` over all agreements from ``since``, summed in SQL:
    closed days from the rollup, later days live from the metering records."""
    until, live_from = _split(session, since)
    out: dict[date, list[int]] = {}
    if until is not None:
        days = _days.c
        stored = session.execute(
            select(days.day, func.sum(days.requests), func.sum(days.permitted))
            .where(days.day >= since, days.day <= until)
            .group_by(days.day)
        )
        for day, n, p in stored:
            out[day] = [int(n), int(p)]
    for day, _, n, p in usage_by_day(session, day_start(live_from)):
        row = out.setdefault(day, [0, 0])
        row[0], row[1] = row[0] + n, row[1] + p
    return [(d, n, p) for d, (n, p) in sorted(out.items())]


def permitted_by_month(
    session: Session, since: date, agreements: Collection[uuid.UUID]
) -> list[tuple[str, uuid.UUID, int]]:
    """``("YYYY-MM", agreement, permitted requests)`` for ``agreements`` from ``since``."""
    if not agreements:
        return []
    until, live_from = _split(session, since)
    out: dict[tuple[str, uuid.UUID], int] = {}
    if until is not None:
        days = _days.c
        month = _month(session, days.day)
        stored = session.execute(
            select(month, days.agreement_id, func.sum(days.permitted))
            .where(days.day >= since, days.day <= until, days.agreement_id.in_(list(agreements)))
            .group_by(month, days.agreement_id)
        )
        for m, a, p in stored:
            out[(str(m), a)] = int(p)
    wanted = set(agreements)
    for day, a, _, p in usage_by_day(session, day_start(live_from)):
        if a in wanted:
            key = (f"{day:%Y-%m}", a)
            out[key] = out.get(key, 0) + p
    return [(m, a, p) for (m, a), p in sorted(out.items(), key=lambda kv: kv[0][0])]
