"""Tables of the transfers domain (数据交付): transfer processes and the messages moving them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from shuchang.db import Base, BigId, UTCDateTime, new_id, utcnow


class TransferProcess(Base):
    """One side's view of a DSP transfer process (传输过程) under a finalized agreement.

    ``role`` is this connector's side (``provider`` or ``consumer``); ``callback_address`` is
    where the other side is reached (the consumer's callback, or the provider's connector).
    ``data_address`` is the push sink the consumer gave (both sides) or, on the consumer's side
    of a pull transfer, the endpoint and token the provider sent (the EDR). ``epoch`` counts
    the starts: a token names its epoch, so tokens issued before a suspension stay dead after
    the transfer resumes.
    """

    __tablename__ = "transfer_processes"
    __table_args__ = (
        UniqueConstraint("role", "provider_pid", name="uq_transfer_processes_provider_pid"),
        UniqueConstraint("role", "consumer_pid", name="uq_transfer_processes_consumer_pid"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    role: Mapped[str] = mapped_column(String(8))
    provider_pid: Mapped[str | None] = mapped_column(String(100))
    consumer_pid: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16), index=True)
    local_participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"))
    counterparty_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contract_agreements.id"), index=True
    )
    transfer_type: Mapped[str] = mapped_column(String(16))
    callback_address: Mapped[str] = mapped_column(String(500))
    data_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    suspended_by: Mapped[str | None] = mapped_column(String(8))
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TransferEvent(Base):
    """Every message that moved (or asked to move) a transfer process, in or out."""

    __tablename__ = "transfer_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    transfer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("transfer_processes.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))
    message_type: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    body_digest: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
