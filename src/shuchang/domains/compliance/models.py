"""Tables of compliance review (合规审核): questionnaires answered per product, their
assessment by a service firm, and the compliance certificates that follow."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from shuchang.db import Base, UTCDateTime, new_id, utcnow

OPEN = "status IN ('draft', 'submitted', 'assigned', 'changes_requested')"


class ComplianceReview(Base):
    """One round of compliance review of a product: the provider's self-assessment
    (自评估问卷) and the assessor's decision. At most one open round per product."""

    __tablename__ = "compliance_reviews"
    __table_args__ = (
        Index(
            "uq_compliance_reviews_open_product",
            "product_id",
            unique=True,
            sqlite_where=text(OPEN),
            postgresql_where=text(OPEN),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("catalog_products.id"), index=True)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    questionnaire: Mapped[str] = mapped_column(String(16))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), index=True)
    assessor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("participants.id"), index=True)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ComplianceCertificate(Base):
    """The signed compliance certificate (合规证书) of a passed review."""

    __tablename__ = "compliance_certificates"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    review_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("compliance_reviews.id"), unique=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("catalog_products.id"), index=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    evidence_id: Mapped[int] = mapped_column(BigInteger)
