"""Tables of supervision (监管): the results of evidence-log audits, kept for the console."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String
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
