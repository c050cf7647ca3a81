"""Tables of the contracts domain (数字合约): negotiations, agreements, usage, nonces."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from shuchang.db import Base, BigId, UTCDateTime, new_id, utcnow


class Negotiation(Base):
    """One side's view of a DSP contract negotiation (合约协商).

    ``role`` is this connector's side: ``provider`` or ``consumer``. The counterparty is a
    participant registered on this platform, reached at ``callback_address`` (consumer's) or
    its registered connector URL (provider's).
    """

    __tablename__ = "contract_negotiations"
    __table_args__ = (
        UniqueConstraint("role", "provider_pid", name="uq_contract_negotiations_provider_pid"),
        UniqueConstraint("role", "consumer_pid", name="uq_contract_negotiations_consumer_pid"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    role: Mapped[str] = mapped_column(String(8))
    provider_pid: Mapped[str | None] = mapped_column(String(100))
    consumer_pid: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16), index=True)
    local_participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"))
    counterparty_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    dataset_id: Mapped[str] = mapped_column(String(100))
    product_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    offer: Mapped[dict[str, Any]] = mapped_column(JSON)
    callback_address: Mapped[str] = mapped_column(String(500))
    agreement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NegotiationEvent(Base):
    """Every message that moved a negotiation, in or out, with its state change."""

    __tablename__ = "contract_negotiation_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    negotiation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contract_negotiations.id"), index=True
    )
    direction: Mapped[str] = mapped_column(String(3))
    message_type: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    body_digest: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Agreement(Base):
    """A contract agreement (合约) fixed by a negotiation and signed by both parties."""

    __tablename__ = "contract_agreements"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    negotiation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contract_negotiations.id"))
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    consumer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    dataset_id: Mapped[str] = mapped_column(String(100))
    product_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    signatures: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    purpose: Mapped[str | None] = mapped_column(String(200))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    price_model: Mapped[str] = mapped_column(String(16))
    price_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Usage(Base):
    """How often an agreement has been used for an action (for count constraints)."""

    __tablename__ = "contract_usage"

    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contract_agreements.id"), primary_key=True
    )
    action: Mapped[str] = mapped_column(String(16), primary_key=True)
    uses: Mapped[int] = mapped_column(Integer, default=0)


class SeenNonce(Base):
    """Nonces of signed DSP requests already accepted: a second use is a replay."""

    __tablename__ = "contract_seen_nonces"

    keyid: Mapped[str] = mapped_column(String(16), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
