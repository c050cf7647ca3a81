"""Use cases of compliance review (合规审核).

Lifecycle of one round::

    start ─► draft ──submit (answers complete and consistent)──► submitted
                                                                   │ assign (operator → a
                                                                   ▼  service firm, or a firm
    changes_requested ◄──request changes── assigned ──pass──► passed   takes it itself)
         └──submit again──► assigned               └──fail──► failed

At most one open round per product (a partial unique index). The provider answers; the
assigned service firm decides with findings. A pass issues a compliance certificate signed by
the platform's issuer key and names the assessor. A pass is for the product's sources as
pinned at submission: once they change, the product's status is ``stale``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import msgspec
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuchang.attestations import body_digest, load_issuer, sign_document
from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.catalog import ProductOut, get_product, get_resource
from shuchang.domains.compliance import questionnaire, views
from shuchang.domains.compliance.models import ComplianceCertificate, ComplianceReview
from shuchang.domains.compliance.schemas import AnswersIn, AssessorDecision, AssignIn, ReviewOut
from shuchang.domains.participants import SYSTEM, Actor, find, participant_urn, require
from shuchang.errors import (
    Duplicate,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from shuchang.settings import Settings

DOCUMENT_TYPE = "ShuchangComplianceCertificate"
EDITABLE = ("draft", "changes_requested")


def _product(session: Session, actor: Actor, product_id: uuid.UUID) -> ProductOut:
    try:
        product = get_product(session, actor, product_id)
    except NotFound:
        raise NotFound(
            "Product not found",
            "数据产品不存在",
            code="compliance.product_not_found",
            field="product_id",
        ) from None
    if product.provider_id != actor.participant_id and actor.role != "system":
        raise PermissionDenied(
            "Only the product's provider answers its questionnaire",
            "只有产品的提供方可以填写合规自评估问卷",
            code="compliance.not_provider",
        )
    return product


def facts(session: Session, product: ProductOut) -> questionnaire.Facts:
    versions = [
        get_resource(session, SYSTEM, s.resource_id, s.resource_version) for s in product.sources
    ]
    return questionnaire.facts_of(versions)


def pinned(product: ProductOut) -> list[dict[str, object]]:
    return sorted(
        ({"resource": str(s.resource_id), "version": s.resource_version} for s in product.sources),
        key=lambda s: str(s["resource"]),
    )


def start(session: Session, actor: Actor, product_id: uuid.UUID, data: AnswersIn) -> ReviewOut:
    """Open a round with the provider's (possibly partial) answers as a draft."""
    require(actor, "provider")
    product = _product(session, actor, product_id)
    questionnaire.check_types(data.answers)
    now = utcnow()
    review = ComplianceReview(
        id=uuid.uuid4(),
        product_id=product.id,
        provider_id=product.provider_id,
        questionnaire=questionnaire.VERSION,
        answers=dict(data.answers),
        sources=pinned(product),
        status="draft",
        findings=[],
        created_at=now,
        updated_at=now,
    )
    if views.open_round(session, product.id) is not None:
        raise _duplicate()
    session.add(review)
    try:
        session.flush()
    except IntegrityError as exc:
        raise _duplicate() from exc
    evidence.record(
        session,
        "compliance.started",
        views.subject(review),
        actor.ref,
        {"product": str(product.id), "questionnaire": review.questionnaire},
    )
    return views.review_out(session, review)


def _duplicate() -> Duplicate:
    return Duplicate(
        "The product already has an open compliance review",
        "该产品已有进行中的合规审核",
        code="compliance.duplicate",
        field="product_id",
    )


def _own(session: Session, actor: Actor, review_id: uuid.UUID) -> ComplianceReview:
    review = views.load(session, actor, review_id)
    if actor.participant_id != review.provider_id and actor.role != "system":
        raise PermissionDenied(
            "Only the product's provider may do this",
            "只有产品的提供方可以执行此操作",
            code="compliance.not_provider",
        )
    return review


def save(session: Session, actor: Actor, review_id: uuid.UUID, data: AnswersIn) -> ReviewOut:
    """Replace the answers of a draft (or of a round the assessor sent back)."""
    review = _own(session, actor, review_id)
    views.require_status(review, EDITABLE, "修改问卷")
    questionnaire.check_types(data.answers)
    review.answers, review.updated_at = dict(data.answers), utcnow()
    return views.review_out(session, review)


def submit(session: Session, actor: Actor, review_id: uuid.UUID) -> ReviewOut:
    """Check the answers against the product's classification and send them for assessment."""
    review = _own(session, actor, review_id)
    views.require_status(review, EDITABLE, "提交")
    product = get_product(session, SYSTEM, review.product_id)
    questionnaire.check(review.answers, facts(session, product))
    back_to_assessor = review.status == "changes_requested"
    now = utcnow()
    review.sources, review.submitted_at, review.updated_at = pinned(product), now, now
    review.status = "assigned" if back_to_assessor else "submitted"
    evidence.record(
        session,
        "compliance.submitted",
        views.subject(review),
        actor.ref,
        {"answers_sha256": body_digest(review.answers), "sources": review.sources},
    )
    return views.review_out(session, review)


def assign(session: Session, actor: Actor, review_id: uuid.UUID, data: AssignIn) -> ReviewOut:
    """The operator assigns a service firm; a service firm may take a waiting review."""
    require(actor, "operator", "service_firm")
    review = views.load(session, actor, review_id)
    views.require_status(review, ("submitted", "assigned"), "分派")
    chosen = data.assessor_id or (actor.participant_id if actor.role == "service_firm" else None)
    if actor.role == "service_firm" and chosen != actor.participant_id:
        raise PermissionDenied(
            "A service firm can only take a review itself",
            "服务方只能领取给自己",
            code="compliance.assign_other",
        )
    firm = find(session, chosen) if chosen else None
    if firm is None or firm.status != "active" or "service_firm" not in firm.roles:
        raise ValidationFailed(
            "The assessor must be an active service firm",
            "评估方须为已启用的服务方",
            code="compliance.assessor_invalid",
            field="assessor_id",
        )
    review.assessor_id, review.status, review.updated_at = firm.id, "assigned", utcnow()
    evidence.record(
        session, "compliance.assigned", views.subject(review), actor.ref, {"assessor": str(firm.id)}
    )
    return views.review_out(session, review)


def decide(
    session: Session,
    actor: Actor,
    review_id: uuid.UUID,
    data: AssessorDecision,
    settings: Settings,
) -> ReviewOut:
    """The assigned assessor passes, fails or sends the questionnaire back, with findings."""
    require(actor, "service_firm")
    review = views.load(session, actor, review_id)
    views.require_status(review, ("assigned",), "审核")
    if review.assessor_id != actor.participant_id:
        raise PermissionDenied(
            "Only the assigned assessor decides",
            "只有被分派的评估方可以作出结论",
            code="compliance.not_assessor",
        )
    if data.decision != "pass" and not data.findings:
        raise ValidationFailed(
            "Say what must change or why it fails",
            "退回修改或不通过须写明审核意见",
            code="compliance.findings_required",
            field="findings",
        )
    now = utcnow()
    review.findings = [msgspec.to_builtins(f) for f in data.findings]
    review.updated_at = now
    review.status = {"pass": "passed", "fail": "failed", "request_changes": "changes_requested"}[
        data.decision
    ]
    if review.status != "changes_requested":
        review.decided_at = now
    evidence.record(
        session,
        f"compliance.{review.status}",
        views.subject(review),
        actor.ref,
        {"findings": len(review.findings)},
    )
    if review.status == "passed":
        _certify(session, actor, review, settings)
    return views.review_out(session, review)


def _certify(session: Session, actor: Actor, review: ComplianceReview, settings: Settings) -> None:
    product = get_product(session, SYSTEM, review.product_id)
    provider, assessor = find(session, review.provider_id), find(session, actor.participant_id)  # type: ignore[arg-type]
    assert provider is not None and assessor is not None
    now = utcnow().replace(microsecond=0)
    until = now + timedelta(days=settings.compliance_certificate_days)
    number = f"HG-{(now + timedelta(hours=8)):%Y%m%d}-{review.id.hex[:10].upper()}"
    body = {
        "number": number,
        "product": {"id": str(product.id), "title": product.title, "kind": product.kind},
        "provider": {"name": provider.name, "participant": participant_urn(provider)},
        "assessor": {"name": assessor.name, "participant": participant_urn(assessor)},
        "questionnaire": review.questionnaire,
        "answersSha256": body_digest(review.answers),
        "sources": review.sources,
        "result": "passed",
        "findings": review.findings,
        "issuedAt": f"{now:%Y-%m-%dT%H:%M:%SZ}",
        "validUntil": f"{until:%Y-%m-%dT%H:%M:%SZ}",
    }
    document = sign_document(DOCUMENT_TYPE, body, load_issuer(settings))
    evidence_id = evidence.record(
        session,
        "compliance.certificate_issued",
        views.subject(review),
        actor.ref,
        {"number": number, "certificate_sha256": body_digest(body)},
    )
    session.add(
        ComplianceCertificate(
            review_id=review.id,
            product_id=product.id,
            number=number,
            document=document,
            digest=body_digest(body),
            status="issued",
            issued_at=now,
            valid_until=until,
            evidence_id=evidence_id,
        )
    )
    session.flush()


def require_passed(session: Session, product_id: uuid.UUID) -> None:
    """The listing gate (Settings.listing_requires_compliance): a current pass, or refuse."""
    status = views.product_status(session, SYSTEM, product_id)
    if not status.current:
        raise InvalidTransition(
            f"The product needs a passed compliance review of its current sources "
            f"(compliance status: {status.status})",
            "产品须先通过针对当前来源资源的合规审核才能上架",
            code="listing.compliance_required",
            extra={"compliance_status": status.status},
        )
