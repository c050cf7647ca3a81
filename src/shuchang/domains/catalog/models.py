"""Tables of the catalog domain (资源目录 / 产品上架)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from shuchang.db import Base, BigId, UTCDateTime, new_id, utcnow


class Resource(Base):
    """A data resource a provider holds (数据资源). Its content lives in versions."""

    __tablename__ = "catalog_resources"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ResourceVersion(Base):
    """One immutable version of a resource's description (资源登记信息)."""

    __tablename__ = "catalog_resource_versions"

    resource_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("catalog_resources.id"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(500))
    legal_basis: Mapped[str | None] = mapped_column(String(500))
    update_frequency: Mapped[str] = mapped_column(String(16))
    regions: Mapped[list[str]] = mapped_column(JSON)
    temporal_start: Mapped[date | None] = mapped_column(Date)
    temporal_end: Mapped[date | None] = mapped_column(Date)
    tags: Mapped[list[str]] = mapped_column(JSON)
    industry: Mapped[str] = mapped_column(String(8))
    classification: Mapped[str] = mapped_column(String(16))
    personal_info: Mapped[bool] = mapped_column(Boolean)
    sensitive_personal_info: Mapped[bool] = mapped_column(Boolean)
    location: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128))


class Product(Base):
    """A data product offered from one or more resources (数据产品), with its offer."""

    __tablename__ = "catalog_products"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    price_model: Mapped[str] = mapped_column(String(16))
    price_fen: Mapped[int] = mapped_column(BigInteger)
    price_period: Mapped[str | None] = mapped_column(String(8))
    price_terms: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # a tiered price's tiers
    transformation: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    review_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProductSource(Base):
    """Lineage: a product is made from these resource versions (数据血缘)."""

    __tablename__ = "catalog_product_sources"

    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("catalog_products.id"), primary_key=True
    )
    resource_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("catalog_resources.id"), primary_key=True, index=True
    )
    resource_version: Mapped[int] = mapped_column(Integer)


class ReviewStep(Base):
    """One step of a product's listing review (上架审核), with the automatic checks' results."""

    __tablename__ = "catalog_review_steps"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("catalog_products.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CatalogEntry(Base):
    """One searchable thing (a resource's current version or a product) with its filters.

    The full-text index lives beside it: an FTS5 table on SQLite, a tsvector column with a
    GIN index on PostgreSQL (created by the migration; see :mod:`.search`).
    """

    __tablename__ = "catalog_entries"
    __table_args__ = (
        Index("ix_catalog_entries_filter", "doc_type", "visible", "classification"),
        Index("ix_catalog_entries_industry", "industry"),
        Index("ix_catalog_entries_provider", "provider_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    doc_type: Mapped[str] = mapped_column(String(16))
    doc_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    provider_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    visible: Mapped[bool] = mapped_column(Boolean)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str | None] = mapped_column(String(16))
    classification: Mapped[str] = mapped_column(String(16))
    industry: Mapped[str] = mapped_column(String(8))
    region: Mapped[str | None] = mapped_column(String(6))
    price_fen: Mapped[int | None] = mapped_column(BigInteger)
    price_model: Mapped[str | None] = mapped_column(String(16))
    price_period: Mapped[str | None] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The entry's tags, regions and industries packed for facet counting (search.pack_facets).
    facet_values: Mapped[str] = mapped_column(Text, server_default="")


class CatalogEntryTerm(Base):
    """A filter value of a catalog entry: its tags, regions and industries (many of each)."""

    __tablename__ = "catalog_entry_terms"
    __table_args__ = (Index("ix_catalog_entry_terms_facet_value", "facet", "value"),)

    entry_id: Mapped[int] = mapped_column(ForeignKey("catalog_entries.id"), primary_key=True)
    facet: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(50), primary_key=True)
