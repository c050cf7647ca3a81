"""Tables of the evidence domain (存证溯源)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from shuchang.db import Base, BigId, UTCDateTime, utcnow


class OutboxEntry(Base):
    """One state change, written in the same transaction as the change (append-only).

    The log sequencer turns these rows into Merkle-log leaves; a database trigger refuses
    UPDATE and DELETE so that not even a bug can rewrite history before it is sequenced.
    """

    __tablename__ = "evidence_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    payload_digest: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
