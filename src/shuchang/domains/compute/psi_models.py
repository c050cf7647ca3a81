"""Tables of private set intersection (隐私求交) sessions, both sides."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from shuchang.db import Base, BigId, UTCDateTime, new_id, utcnow


class PsiSession(Base):
    """One side's view of a PSI session between two connectors.

    ``role`` is this connector's side (``provider`` or ``consumer``). ``pending`` holds this
    side's own identifiers and private key while the session runs (compressed) and is
    erased when it ends; ``members`` keeps an intersection this side is allowed to learn
    (the consumer's in ``intersection`` mode, the provider's filter in ``filter`` mode).
    Identifiers are never written to evidence, only counts and digests.
    """

    __tablename__ = "compute_psi_sessions"
    __table_args__ = (
        UniqueConstraint("role", "provider_pid", name="uq_compute_psi_sessions_provider_pid"),
        UniqueConstraint("role", "consumer_pid", name="uq_compute_psi_sessions_consumer_pid"),
        Index("ix_compute_psi_sessions_agreement_created", "agreement_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    role: Mapped[str] = mapped_column(String(8))
    provider_pid: Mapped[str | None] = mapped_column(String(100))
    consumer_pid: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16), index=True)
    mode: Mapped[str] = mapped_column(String(16))
    protocol: Mapped[str] = mapped_column(String(16))
    normalization: Mapped[str] = mapped_column(String(16))
    agreement_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    local_participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"))
    counterparty_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    callback_address: Mapped[str] = mapped_column(String(500))
    identifier_field: Mapped[str | None] = mapped_column(String(63))
    local_size: Mapped[int | None] = mapped_column(Integer)
    peer_size: Mapped[int | None] = mapped_column(Integer)
    result_size: Mapped[int | None] = mapped_column(Integer)
    local_digest: Mapped[str | None] = mapped_column(String(64))
    result_digest: Mapped[str | None] = mapped_column(String(64))
    rejected: Mapped[int | None] = mapped_column(Integer)
    filter_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    link_address: Mapped[str | None] = mapped_column(String(100))
    pending: Mapped[bytes | None] = mapped_column(LargeBinary)
    members: Mapped[bytes | None] = mapped_column(LargeBinary)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PsiEvent(Base):
    """Every message that moved a PSI session, in or out, with the digest of its body."""

    __tablename__ = "compute_psi_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("compute_psi_sessions.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))
    message_type: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    body_digest: Mapped[str] = mapped_column(String(64))
    bytes: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
