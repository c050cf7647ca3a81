"""Tables of the compute domain (隐私计算): profiles, the privacy budget ledger, jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from shuchang.db import Base, BigId, UTCDateTime, new_id, utcnow


class ComputeProfile(Base):
    """What a provider approves for one compute-only product (计算配置), as validated JSON."""

    __tablename__ = "compute_profiles"

    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("catalog_products.id"), primary_key=True
    )
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    resource_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    resource_version: Mapped[int] = mapped_column(Integer)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(128))


class BudgetAccount(Base):
    """One line of the privacy budget ledger (隐私预算账户), in micro-ε (integers, exact).

    ``account`` is ``product`` (the product's lifetime total over all consumers) or
    ``consumer:<id>:<period>`` (one consumer in one budget period, e.g. ``2026-12``).
    Rows are locked (``SELECT … FOR UPDATE``) while a release is debited.
    """

    __tablename__ = "compute_budget_accounts"
    __table_args__ = (
        Index("ix_compute_budget_accounts_key", "product_id", "account", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("catalog_products.id"))
    account: Mapped[str] = mapped_column(String(80))
    spent_micro: Mapped[int] = mapped_column(BigInteger, default=0)
    releases: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ComputeJob(Base):
    """One computation under an agreement (计算任务) and, once released, its answer."""

    __tablename__ = "compute_jobs"
    __table_args__ = (
        Index("ix_compute_jobs_cache", "product_id", "consumer_id", "cache_key"),
        Index("ix_compute_jobs_product_created", "product_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    agreement_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("catalog_products.id"))
    consumer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"))
    state: Mapped[str] = mapped_column(String(16), index=True)
    template: Mapped[str | None] = mapped_column(String(63))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    submitted_sql: Mapped[str | None] = mapped_column(Text)
    normalised_sql: Mapped[str] = mapped_column(Text)
    cache_key: Mapped[str] = mapped_column(String(64))
    profile_revision: Mapped[int] = mapped_column(Integer)
    epsilon_micro: Mapped[int] = mapped_column(BigInteger)
    charged_micro: Mapped[int] = mapped_column(BigInteger, default=0)
    period: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(100))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cached_from: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    psi_filter: Mapped[str | None] = mapped_column(String(64))  # PSI then aggregate
    input_digest: Mapped[str | None] = mapped_column(String(64))
    result_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))
