"""Tables of the data plane (数据面): one usage record per request, and sealed batches."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Uuid, true
from sqlalchemy.orm import Mapped, mapped_column

from shuchang.db import Base, BigId, UTCDateTime, utcnow


class MeteringBatch(Base):
    """A run of usage records sealed into the evidence log as one digest (计量批次)."""

    __tablename__ = "dataplane_metering_batches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    count: Mapped[int] = mapped_column(Integer)
    first_id: Mapped[int] = mapped_column(BigInteger)
    last_id: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(64))
    evidence_id: Mapped[int] = mapped_column(BigInteger)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UsageRecord(Base):
    """One data request that reached the usage decision (计量记录).

    Written with the decision (same transaction as the use counter); a permitted request's
    ``outcome`` is ``unknown`` until the upstream answered and the second, short transaction
    filled in ``status``, ``bytes``, ``rows`` and ``duration_ms``. ``batch_id`` is set once
    the record is sealed; a sealed record never changes again.
    """

    __tablename__ = "dataplane_usage_records"
    __table_args__ = (
        Index("ix_dataplane_usage_records_agreement_started", "agreement_id", "started_at"),
        # Supervision reads requests by time over all agreements (daily rollups, today's live
        # figures); added by migration 0012.
        Index("ix_dataplane_usage_records_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    transfer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    consumer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    permitted: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(String(24))
    status: Mapped[int | None] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataplane_metering_batches.id"), index=True
    )
    # Downloads (docs/dataplane §6): a resumed range inside a copy already paid for is a
    # permitted record that did not count a use; which source part, which bytes, pull or push.
    counted: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    resource_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    byte_range: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(8))
