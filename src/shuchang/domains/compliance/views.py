"""Reading compliance reviews: who may see them, a product's compliance status, queues.

Reviews are seen by the product's provider, the operator, the regulator and service firms
(an assessor must see a review to take it). A product's compliance status — and its
certificate's number — is shown to every member who can see the product.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains.catalog import get_product
from shuchang.domains.compliance.models import ComplianceCertificate, ComplianceReview
from shuchang.domains.compliance.schemas import CertificateOut, ProductCompliance, ReviewOut
from shuchang.domains.participants import Actor, require
from shuchang.errors import InvalidTransition, NotFound

STAFF = ("operator", "regulator", "service_firm", "system")
OPEN = ("draft", "submitted", "assigned", "changes_requested")
STATUS_ZH = {
    "draft": "草稿",
    "submitted": "待分派",
    "assigned": "评估中",
    "changes_requested": "待补正",
    "passed": "已通过",
    "failed": "未通过",
}


def subject(review: ComplianceReview) -> str:
    return f"compliance:{review.id}"


def load(session: Session, actor: Actor, review_id: uuid.UUID) -> ComplianceReview:
    review = session.get(ComplianceReview, review_id)
    if review is None or (actor.role not in STAFF and actor.participant_id != review.provider_id):
        raise NotFound("Compliance review not found", "合规审核不存在", code="compliance.not_found")
    return review


def require_status(review: ComplianceReview, allowed: tuple[str, ...], action_zh: str) -> None:
    if review.status not in allowed:
        raise InvalidTransition(
            f"Not possible while the review is {review.status}",
            f"合规审核状态为“{STATUS_ZH.get(review.status, review.status)}”，不能{action_zh}",
            code="compliance.invalid_transition",
        )


def open_round(session: Session, product_id: uuid.UUID) -> ComplianceReview | None:
    return session.scalars(
        select(ComplianceReview).where(
            ComplianceReview.product_id == product_id, ComplianceReview.status.in_(OPEN)
        )
    ).first()


def certificate_of(session: Session, review_id: uuid.UUID) -> ComplianceCertificate | None:
    return session.scalars(
        select(ComplianceCertificate).where(ComplianceCertificate.review_id == review_id)
    ).first()


def _certificate_out(c: ComplianceCertificate) -> CertificateOut:
    status = "expired" if c.status == "issued" and c.valid_until <= utcnow() else c.status
    return CertificateOut(c.number, status, c.issued_at, c.valid_until, c.digest, c.evidence_id)


def review_out(session: Session, r: ComplianceReview) -> ReviewOut:
    c = certificate_of(session, r.id)
    return ReviewOut(
        id=r.id,
        product_id=r.product_id,
        provider_id=r.provider_id,
        questionnaire=r.questionnaire,
        answers=dict(r.answers),
        sources=list(r.sources),
        status=r.status,
        assessor_id=r.assessor_id,
        findings=list(r.findings),
        created_at=r.created_at,
        updated_at=r.updated_at,
        submitted_at=r.submitted_at,
        decided_at=r.decided_at,
        certificate=None if c is None else _certificate_out(c),
    )


def product_status(session: Session, actor: Actor, product_id: uuid.UUID) -> ProductCompliance:
    """The latest round of a product and whether a pass covers its current sources."""
    product = get_product(session, actor, product_id)
    latest = session.scalars(
        select(ComplianceReview)
        .where(ComplianceReview.product_id == product_id)
        .order_by(ComplianceReview.created_at.desc())
        .limit(1)
    ).first()
    if latest is None:
        return ProductCompliance(product_id, "none", False, None)
    out = review_out(session, latest)
    current_sources = sorted(
        ({"resource": str(s.resource_id), "version": s.resource_version} for s in product.sources),
        key=lambda s: str(s["resource"]),
    )
    current = (
        latest.status == "passed"
        and latest.sources == current_sources
        and out.certificate is not None
        and out.certificate.status == "issued"
    )
    status = "stale" if latest.status == "passed" and not current else latest.status
    shown = out if actor.role in STAFF or actor.participant_id == latest.provider_id else None
    return ProductCompliance(product_id, status, current, shown)


def queue(session: Session, actor: Actor, status: str | None = None) -> list[ReviewOut]:
    """Reviews waiting for assessors: all submitted, and (for a firm) those assigned to it."""
    require(actor, *STAFF)
    stmt = select(ComplianceReview).order_by(ComplianceReview.updated_at)
    if status is not None:
        stmt = stmt.where(ComplianceReview.status == status)
    else:
        stmt = stmt.where(ComplianceReview.status.in_(("submitted", "assigned")))
    if actor.role == "service_firm":
        stmt = stmt.where(
            (ComplianceReview.status == "submitted")
            | (ComplianceReview.assessor_id == actor.participant_id)
        )
    return [review_out(session, r) for r in session.scalars(stmt.limit(500))]


def of_provider(session: Session, actor: Actor) -> list[ReviewOut]:
    rows = session.scalars(
        select(ComplianceReview)
        .where(ComplianceReview.provider_id == actor.participant_id)
        .order_by(ComplianceReview.updated_at.desc())
    )
    return [review_out(session, r) for r in rows]


def certificate_document(session: Session, actor: Actor, review_id: uuid.UUID) -> dict[str, object]:
    review = load(session, actor, review_id)
    c = certificate_of(session, review.id)
    if c is None:
        raise NotFound(
            "This review has no certificate (not passed)",
            "该审核未通过，没有合规证书",
            code="compliance.no_certificate",
        )
    return dict(c.document)


def counts(session: Session) -> dict[str, int]:
    """Compliance rounds per status."""
    rows = session.execute(
        select(ComplianceReview.status, func.count()).group_by(ComplianceReview.status)
    )
    return {status: int(n) for status, n in rows}
