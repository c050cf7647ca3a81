"""Shapes the data plane returns: usage summaries (for settlement) and sealed batches."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import msgspec


class DayUsage(msgspec.Struct, frozen=True):
    """One day's usage (Asia/Shanghai calendar day, 自然日)."""

    day: date
    requests: int
    permitted: int
    denied: int
    bytes: int
    rows: int


class UsageSummary(msgspec.Struct, frozen=True):
    """What an agreement was used for between ``since`` and ``until`` (计量汇总).

    ``requests`` = ``permitted`` + ``denied``; ``unknown`` counts permitted requests whose
    outcome was never written (the gateway stopped in between): they are counted as uses."""

    agreement_id: uuid.UUID
    since: datetime | None
    until: datetime | None
    requests: int
    permitted: int
    denied: int
    unknown: int
    upstream_failed: int
    bytes: int
    rows: int
    days: list[DayUsage]


class BatchOut(msgspec.Struct, frozen=True):
    """A sealed metering batch: the evidence entry holds the same digest."""

    id: int
    count: int
    first_id: int
    last_id: int
    digest: str
    evidence_id: int
    sealed_at: datetime
