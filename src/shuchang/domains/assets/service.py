"""Use cases of data-asset registration (数据资产登记).

Lifecycle of a registration::

    apply ─► applied ──approve──► registered ──revoke (operator)──► revoked
               │  ▲                   ├──cancel (holder, no pledge)──► cancelled
          return  revise              └──its end passes──► expired (the sweep records it)
               ▼  │
            returned ──withdraw──► withdrawn   (applied may be withdrawn too)

Rules: only the provider that holds a product may apply, and only for a listed product (it
has passed listing review, so its description and sources have been checked); one live
registration per product; the reviewer (the operator or a service firm) approves only if the
product still has the content it had when the application was made. Approval issues the
certificate in the same transaction, with its evidence entry.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuchang.attestations import body_digest, load_issuer, sign_document
from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.assets import certificate, lifecycle, numbers, views
from shuchang.domains.assets.content import BASIS, content_basis, content_digest
from shuchang.domains.assets.models import AssetCertificate, AssetRegistration
from shuchang.domains.assets.schemas import (
    AssetApplication,
    AssetDecision,
    AssetRevision,
    RegistrationOut,
)
from shuchang.domains.catalog import ProductOut, get_product
from shuchang.domains.participants import (
    SYSTEM,
    Actor,
    ParticipantOut,
    find,
    require,
    with_role,
)
from shuchang.errors import (
    Conflict,
    Duplicate,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from shuchang.settings import Settings

REVIEWERS = ("operator", "service_firm")
LIVE = ("applied", "returned", "registered")
CHINA = timedelta(hours=8)


def _held_product(session: Session, actor: Actor, product_id: uuid.UUID) -> ProductOut:
    """The actor's own listed product, or the problem that says why not."""
    try:
        product = get_product(session, actor, product_id)
    except NotFound:
        raise NotFound(
            "Product not found",
            "数据产品不存在",
            code="asset.product_not_found",
            field="product_id",
        ) from None
    if product.provider_id != actor.participant_id:
        raise PermissionDenied(
            "Only the provider that holds a product may register it as its data asset",
            "只有持有该数据产品的提供方可以申请登记",
            code="asset.not_holder",
            field="product_id",
        )
    if product.status != "listed":
        raise InvalidTransition(
            f"Only a listed product can be registered; this one is {product.status}",
            "只有已上架（通过上架审核）的产品可以申请数据资产登记",
            code="asset.product_not_listed",
            field="product_id",
        )
    return product


def _years(settings: Settings, years: int) -> int:
    if years > settings.asset_certificate_years:
        raise ValidationFailed(
            f"At most {settings.asset_certificate_years} years here",
            f"证书有效期最长 {settings.asset_certificate_years} 年",
            code="asset.validity_too_long",
            field="valid_years",
        )
    return years


def apply(
    session: Session, actor: Actor, data: AssetApplication, settings: Settings
) -> RegistrationOut:
    """A holder applies to register one of its listed products (登记申请)."""
    require(actor, "provider")
    assert actor.participant_id is not None
    product = _held_product(session, actor, data.product_id)
    lifecycle.expire_due(session)  # an expired certificate no longer blocks a new application
    years = _years(settings, data.valid_years)
    live = session.scalars(
        select(AssetRegistration.id).where(
            AssetRegistration.product_id == product.id, AssetRegistration.status.in_(LIVE)
        )
    ).first()
    if live is not None:
        raise _duplicate(live)
    basis = content_basis(session, product)
    now = utcnow()
    r = AssetRegistration(
        id=uuid.uuid4(),
        product_id=product.id,
        holder_id=actor.participant_id,
        status="applied",
        title=data.title or product.title,
        description=data.description,
        rights=list(dict.fromkeys(data.rights)),
        valid_years=years,
        content=basis,
        content_digest=content_digest(basis),
        reasons=[],
        created_at=now,
        updated_at=now,
    )
    session.add(r)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent application won the partial unique index
        raise _duplicate(None) from exc
    evidence.record(
        session,
        "asset.applied",
        views.subject(r),
        actor.ref,
        {"product": str(product.id), "rights": r.rights, "content_sha256": r.content_digest},
    )
    return views.registration_out(session, r)


def _duplicate(existing: uuid.UUID | None) -> Duplicate:
    return Duplicate(
        "This product already has a live registration",
        "该产品已有在办或有效的数据资产登记",
        code="asset.duplicate",
        field="product_id",
        extra={"registration_id": str(existing)} if existing else None,
    )


def revise(
    session: Session,
    actor: Actor,
    registration_id: uuid.UUID,
    data: AssetRevision,
    settings: Settings,
) -> RegistrationOut:
    """Correct a returned application and send it back for review (content re-taken)."""
    r = views.owned(session, actor, registration_id)
    views.require_status(r, ("returned",), "修改后重新提交")
    product = _held_product(session, actor, r.product_id)
    basis = content_basis(session, product)
    r.title, r.description = data.title or product.title, data.description
    r.rights, r.valid_years = list(dict.fromkeys(data.rights)), _years(settings, data.valid_years)
    r.content, r.content_digest = basis, content_digest(basis)
    r.status, r.reasons, r.updated_at = "applied", [], utcnow()
    evidence.record(
        session,
        "asset.revised",
        views.subject(r),
        actor.ref,
        {"rights": r.rights, "content_sha256": r.content_digest},
    )
    return views.registration_out(session, r)


def withdraw(session: Session, actor: Actor, registration_id: uuid.UUID) -> RegistrationOut:
    r = views.owned(session, actor, registration_id)
    views.require_status(r, ("applied", "returned"), "撤回")
    r.status, r.updated_at = "withdrawn", utcnow()
    evidence.record(session, "asset.withdrawn", views.subject(r), actor.ref, {})
    return views.registration_out(session, r)


def review(
    session: Session,
    actor: Actor,
    registration_id: uuid.UUID,
    decision: AssetDecision,
    settings: Settings,
) -> RegistrationOut:
    """The operator or a service firm approves (the certificate is issued) or returns."""
    require(actor, *REVIEWERS)
    r = views.load(session, actor, registration_id)
    views.require_status(r, ("applied",), "审核")
    if decision.decision == "return":
        if not decision.reasons:
            raise ValidationFailed(
                "Say why the application is returned",
                "退回须写明理由",
                code="asset.reasons_required",
                field="reasons",
            )
        r.status, r.reasons = "returned", list(decision.reasons)
        r.reviewer, r.decided_at = actor.ref, utcnow()
        r.updated_at = r.decided_at
        evidence.record(
            session, "asset.returned", views.subject(r), actor.ref, {"reasons": r.reasons}
        )
        return views.registration_out(session, r)
    _unchanged(session, r)
    _issue(session, actor, r, settings)
    return views.registration_out(session, r)


def _unchanged(session: Session, r: AssetRegistration) -> None:
    product = get_product(session, SYSTEM, r.product_id)
    if product.status != "listed":
        raise InvalidTransition(
            "The product is no longer listed",
            "该产品已不在上架状态，不能登记",
            code="asset.product_not_listed",
        )
    if content_digest(content_basis(session, product)) != r.content_digest:
        raise Conflict(
            "The product's sources changed since the application; the holder must revise it",
            "申请后产品的来源资源已变更，须由持有人修改后重新提交",
            code="asset.content_changed",
        )


def _member(session: Session, ref_id: uuid.UUID | None) -> ParticipantOut:
    found = find(session, ref_id) if ref_id is not None else None
    assert found is not None
    return found


def issuer(session: Session) -> ParticipantOut:
    """The operator in whose name the platform signs (the first active operator)."""
    operators = with_role(session, "operator", limit=1)
    if not operators:
        raise Conflict(
            "No active operator: certificates are issued in the operator's name",
            "没有已启用的运营者，无法以运营者名义签发证书",
            code="asset.no_issuer",
        )
    return operators[0]


def region(settings: Settings, operator: ParticipantOut) -> str:
    return settings.asset_region or operator.region or "000000"


def _issue(session: Session, actor: Actor, r: AssetRegistration, settings: Settings) -> None:
    operator = issuer(session)
    reviewer = operator if actor.participant_id is None else _member(session, actor.participant_id)
    holder = _member(session, r.holder_id)
    now = utcnow().replace(microsecond=0)
    until = add_years(now, r.valid_years)
    number = numbers.format_number(
        region(settings, operator),
        (now + CHINA).year,
        numbers.next_serial(session, region(settings, operator), (now + CHINA).year),
    )
    asset = {
        "id": str(r.id),
        "title": r.title,
        "description": r.description,
        "product": str(r.product_id),
        "productKind": r.content.get("kind"),
        "sources": [
            {"resource": s["resource"], "version": s["version"], "title": s["title"]}
            for s in r.content.get("sources", [])
        ],
    }
    body = certificate.body(
        number,
        asset,
        holder,
        (r.content_digest, BASIS),
        list(r.rights),
        (now, until, now),
        operator,
        reviewer,
    )
    document = sign_document(certificate.DOCUMENT_TYPE, body, load_issuer(settings))
    evidence_id = evidence.record(
        session, certificate.ISSUED, views.subject(r), actor.ref, certificate.issuance_payload(body)
    )
    session.add(
        AssetCertificate(
            registration_id=r.id,
            number=number,
            document=document,
            digest=body_digest(body),
            status="issued",
            valid_from=now,
            valid_until=until,
            issued_at=now,
            evidence_id=evidence_id,
        )
    )
    r.status, r.reviewer, r.decided_at, r.updated_at = "registered", actor.ref, now, now


def add_years(when: datetime, years: int) -> datetime:
    """The same moment ``years`` later; 29 February becomes 28 February."""
    try:
        return when.replace(year=when.year + years)
    except ValueError:
        return when.replace(year=when.year + years, day=28)
