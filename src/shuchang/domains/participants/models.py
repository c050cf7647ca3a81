"""Tables of the participants domain (接入认证)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from shuchang.db import Base, BigId, UTCDateTime, new_id, utcnow


class Participant(Base):
    """A member of the data space: an organisation or a natural person (参与方)."""

    __tablename__ = "participants"
    # At most one live participant per identifier, even under concurrent registrations;
    # rejected and revoked registrations keep their identifier for the record.
    __table_args__ = (
        Index(
            "uq_participants_live_identifier",
            "identifier",
            unique=True,
            sqlite_where=text("status IN ('pending', 'verified', 'active', 'suspended')"),
            postgresql_where=text("status IN ('pending', 'verified', 'active', 'suspended')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200), index=True)
    name_en: Mapped[str | None] = mapped_column(String(200))
    identifier: Mapped[str] = mapped_column(String(40), index=True)
    identifier_kind: Mapped[str] = mapped_column(String(16))
    region: Mapped[str | None] = mapped_column(String(6))
    roles: Mapped[list[str]] = mapped_column(JSON)
    contact_email: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    decision_reason: Mapped[str | None] = mapped_column(String(64))
    credential: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VerificationStep(Base):
    """One step of one automatic verification run, with its result and reason (核验记录)."""

    __tablename__ = "participant_verification_steps"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    participant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    run: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(32))
    result: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(64))
    message_zh: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrustedIssuer(Base):
    """A credential issuer the operator trusts, e.g. an e-business-licence service (可信签发方)."""

    __tablename__ = "trusted_issuers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RevokedCredential(Base):
    """A credential its issuer has withdrawn (吊销)."""

    __tablename__ = "revoked_credentials"

    issuer_id: Mapped[str] = mapped_column(ForeignKey("trusted_issuers.id"), primary_key=True)
    credential_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    reason: Mapped[str | None] = mapped_column(String(500))
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ParticipantKey(Base):
    """A public signing key bound to a participant (Ed25519; SM2 optional)."""

    __tablename__ = "participant_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16))
    replaced_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiKey(Base):
    """An API key scoped to one participant and one role. Only its SHA-256 is stored."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Connector(Base):
    """A connector endpoint a participant runs (连接器)."""

    __tablename__ = "connectors"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    public_key: Mapped[str] = mapped_column(String(200))
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
