"""What settlement may bill from computations (计算计费口径), counted in the database.

A compute job is **billable** once it ran and its answer was released (``succeeded``, not
served from the cache): the provider's connector did the work and the consumer received a
private answer. An answer from the cache (the same normalised query asked again, at no ε) is
not billed, nor is a job that failed or was cancelled — nothing was released. Jobs count in
the period (Asia/Shanghai month, chosen by the caller) in which they finished. One GROUP BY.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Select, and_, case, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from shuchang.db import table_of
from shuchang.domains.compute.models import ComputeJob

_jobs = table_of(ComputeJob)


@dataclass(frozen=True)
class JobUsage:
    """One agreement's finished compute jobs in a period."""

    agreement_id: uuid.UUID
    jobs: int
    released: int  # billable: ran and released
    cached: int
    failed: int
    cancelled: int


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(cast(case((condition, 1), else_=0), BigInteger)), 0)


def period_jobs(
    session: Session,
    since: datetime,
    until: datetime,
    *,
    agreements: Select[Any] | None = None,
    excluding: Select[Any] | None = None,
) -> dict[uuid.UUID, JobUsage]:
    """Jobs finished in ``[since, until)`` per agreement, for the agreements ``agreements``
    selects (all when None) or all but those ``excluding`` selects."""
    c = _jobs.c
    done = c.state == "succeeded"
    stmt = (
        select(
            c.agreement_id,
            func.count(),
            _count(and_(done, c.cached_from.is_(None))),
            _count(and_(done, c.cached_from.is_not(None))),
            _count(c.state == "failed"),
            _count(c.state == "cancelled"),
        )
        .where(c.finished_at >= since, c.finished_at < until)
        .group_by(c.agreement_id)
    )
    if agreements is not None:
        stmt = stmt.where(c.agreement_id.in_(agreements))
    if excluding is not None:
        stmt = stmt.where(c.agreement_id.not_in(excluding))
    return {a: JobUsage(a, *(int(n) for n in counts)) for a, *counts in session.execute(stmt)}
