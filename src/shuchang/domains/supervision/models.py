"""Tables of supervision (监管): evidence-log audit results and daily usage rollups."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from shuchang.db import Base, BigId, UTCDateTime, utcnow


class AuditRun(Base):
    """One run of the evidence-log audit (`shuchang supervision audit` or the console)."""

    __tablename__ = "supervision_audit_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    ok: Mapped[bool] = mapped_column(Boolean)
    size: Mapped[int] = mapped_column(BigInteger)
    checkpoints: Mapped[int] = mapped_column(Integer)
    findings: Mapped[int] = mapped_column(Integer)
    detail: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    duration_ms: Mapped[int] = mapped_column(Integer)


class UsageDay(Base):
    """Data requests of one agreement on one closed Asia/Shanghai day (日汇总), rolled up
    once the day is over so the dashboard never rescans old metering records."""

    __tablename__ = "supervision_usage_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger)
    permitted: Mapped[int] = mapped_column(BigInteger)


class RollupMark(Base):
    """How far a rollup has got: every day up to ``until`` (inclusive) is summed."""

    __tablename__ = "supervision_rollups"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    until: Mapped[date] = mapped_column(Date)
