"""Tables of the data-asset registry (数据资产登记): registrations, certificates, numbering,
valuations and pledges."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from shuchang.db import Base, UTCDateTime, new_id, utcnow

LIVE = "status IN ('applied', 'returned', 'registered')"


class AssetRegistration(Base):
    """A holder's application to register a product as a data asset, and its outcome.

    At most one live registration (applied, returned or registered) per product, enforced
    by a partial unique index, so two concurrent applications cannot both succeed.
    """

    __tablename__ = "asset_registrations"
    __table_args__ = (
        Index(
            "uq_asset_registrations_live_product",
            "product_id",
            unique=True,
            sqlite_where=text(LIVE),
            postgresql_where=text(LIVE),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("catalog_products.id"), index=True)
    holder_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    rights: Mapped[list[str]] = mapped_column(JSON)
    valid_years: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_digest: Mapped[str] = mapped_column(String(64))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    reviewer: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AssetCertificate(Base):
    """The signed certificate (数据资产登记证书) of an approved registration."""

    __tablename__ = "asset_certificates"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    registration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("asset_registrations.id"), unique=True
    )
    number: Mapped[str] = mapped_column(String(32), unique=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    evidence_id: Mapped[int] = mapped_column(BigInteger)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(500))


class AssetNumberCounter(Base):
    """The last serial handed out per region and year (登记编号流水号)."""

    __tablename__ = "asset_number_counters"

    region: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class AssetValuation(Base):
    """A service firm's valuation of a registered asset (价值评估): immutable once recorded."""

    __tablename__ = "asset_valuations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    registration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("asset_registrations.id"), index=True
    )
    valuer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    method: Mapped[str] = mapped_column(String(8))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    basis: Mapped[str] = mapped_column(Text)
    valued_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AssetPledge(Base):
    """A pledge (质押) of a registered asset to a pledgee, until released (解除)."""

    __tablename__ = "asset_pledges"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    registration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("asset_registrations.id"), index=True
    )
    pledgee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), index=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    release_reason: Mapped[str | None] = mapped_column(String(500))
