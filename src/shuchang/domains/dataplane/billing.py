"""What settlement may bill from metering (计费口径), counted in the database.

A usage record is **billable** when the request was permitted and counted a use, and either
the upstream answered with a success (HTTP 2xx) that was sent (``delivered``), or it was a
download (a file or table part, ``channel`` set) that the client left (``client_gone``): the
copy it opened stays paid for, and the rest of it can be fetched again without a new use
(docs/dataplane §6). Everything else is counted but not billed, each kind apart, so
reconciliation can report it:

* ``uncounted`` — permitted but no use counted: a resumed range of a paid copy, a HEAD, the
  manifest (they are metered, and billed through the copy they continue);
* ``unknown`` — permitted, but the gateway stopped before the outcome was written: the
  consumer may or may not have received data, so it is not billed (the use still counts
  against the agreement's limits, see :mod:`.metering`);
* ``upstream_failed`` — the provider's backend was down or too slow (502/504 to the consumer);
* ``error_status`` — the provider's backend answered with a non-2xx status, or the request
  ended any other way than the ones above (an API client that left, an answer too large …);
* ``denied`` — refused by the usage decision.

Every record is exactly one of billable, ``uncounted``, ``unknown``, ``upstream_failed``,
``error_status`` or ``denied``. One GROUP BY per call: the totals of a period per agreement
and metering batch, and the evidence entry of each batch, so a transaction record can cite
the sealed batches behind it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Select, and_, case, cast, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from shuchang.db import table_of
from shuchang.domains.dataplane.metering import DELIVERED, UNKNOWN, UPSTREAM_FAILED
from shuchang.domains.dataplane.models import MeteringBatch, UsageRecord

_records, _batches = table_of(UsageRecord), table_of(MeteringBatch)
OK_LOW, OK_HIGH = 200, 300


@dataclass
class PeriodUsage:
    """One agreement's metered requests in a period, billable and not."""

    agreement_id: uuid.UUID
    records: int = 0
    calls: int = 0  # billable requests
    rows: int = 0  # rows of billable requests
    unknown: int = 0
    upstream_failed: int = 0
    error_status: int = 0
    denied: int = 0
    uncounted: int = 0  # continuations of a paid copy, HEAD, the manifest
    unsealed: int = 0
    first_id: int = 0
    last_id: int = 0
    sealed_in: dict[int, int] = field(default_factory=dict)  # metering batch → evidence id


def _count(condition: ColumnElement[bool], value: Any = 1) -> ColumnElement[int]:
    return func.coalesce(func.sum(cast(case((condition, value), else_=0), BigInteger)), 0)


def counted() -> ColumnElement[bool]:
    c = _records.c
    return and_(c.permitted.is_(True), c.counted.is_(True))


def billable() -> ColumnElement[bool]:
    c = _records.c
    answered = and_(c.outcome == DELIVERED, c.status >= OK_LOW, c.status < OK_HIGH)
    left_download = and_(c.outcome == "client_gone", c.channel.is_not(None))
    return and_(counted(), or_(answered, left_download))


def period_usage(
    session: Any,
    since: datetime,
    until: datetime,
    *,
    agreements: Select[Any] | None = None,
    excluding: Select[Any] | None = None,
) -> dict[uuid.UUID, PeriodUsage]:
    """Usage started in ``[since, until)`` per agreement, for the agreements ``agreements``
    selects (a subquery of ids; all when None) or all but those ``excluding`` selects."""
    c = _records.c
    stmt = (
        select(
            c.agreement_id,
            c.batch_id,
            func.count(),
            _count(billable()),
            _count(billable(), c.rows),
            _count(and_(counted(), c.outcome == UNKNOWN)),
            _count(and_(counted(), c.outcome.in_(UPSTREAM_FAILED))),
            _count(
                and_(
                    counted(),
                    ~billable(),
                    c.outcome != UNKNOWN,
                    c.outcome.not_in(UPSTREAM_FAILED),
                )
            ),
            _count(c.permitted.is_(False)),
            _count(and_(c.permitted.is_(True), c.counted.is_(False))),
            func.min(c.id),
            func.max(c.id),
        )
        .where(c.started_at >= since, c.started_at < until)
        .group_by(c.agreement_id, c.batch_id)
    )
    if agreements is not None:
        stmt = stmt.where(c.agreement_id.in_(agreements))
    if excluding is not None:
        stmt = stmt.where(c.agreement_id.not_in(excluding))
    found: dict[uuid.UUID, PeriodUsage] = {}
    batches: set[int] = set()
    for agreement_id, batch_id, *n in session.execute(stmt):
        u = found.get(agreement_id) or found.setdefault(agreement_id, PeriodUsage(agreement_id))
        records, calls, rows, unknown, failed, error, denied, uncounted, low, high = (
            int(x) for x in n
        )
        u.records, u.uncounted = u.records + records, u.uncounted + uncounted
        u.calls, u.rows, u.unknown = u.calls + calls, u.rows + rows, u.unknown + unknown
        u.upstream_failed, u.error_status = u.upstream_failed + failed, u.error_status + error
        u.denied += denied
        u.first_id = low if not u.first_id else min(u.first_id, low)
        u.last_id = max(u.last_id, high)
        if batch_id is None:
            u.unsealed += records
        else:
            u.sealed_in[batch_id] = 0
            batches.add(batch_id)
    _fill_evidence(session, found, batches)
    return found


def _fill_evidence(session: Any, found: dict[uuid.UUID, PeriodUsage], batches: set[int]) -> None:
    if not batches:
        return
    evidence_of: dict[int, int] = {}
    ids = sorted(batches)
    for start in range(0, len(ids), 5000):  # SQLite's parameter limit is far above this
        chunk = ids[start : start + 5000]
        rows = session.execute(
            select(_batches.c.id, _batches.c.evidence_id).where(_batches.c.id.in_(chunk))
        )
        evidence_of.update({int(b): int(e) for b, e in rows})
    for u in found.values():
        u.sealed_in = {b: evidence_of.get(b, 0) for b in sorted(u.sealed_in)}
