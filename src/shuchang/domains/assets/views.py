"""Reading the registry: who may see what, and the response shapes.

The register is public to members once an asset is registered (登记公示): any active member
may look a registered asset or a certificate number up, as a counterparty checks a pledge or
a purchase. Applications — applied, returned, withdrawn — are seen only by the holder, the
operator, the regulator and service firms (who review and value).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains.assets.models import (
    AssetCertificate,
    AssetPledge,
    AssetRegistration,
    AssetValuation,
)
from shuchang.domains.assets.schemas import (
    AssetDetail,
    CertificateOut,
    PledgeOut,
    RegistrationOut,
    ValuationOut,
)
from shuchang.domains.participants import Actor
from shuchang.errors import InvalidTransition, NotFound, PermissionDenied

STAFF = ("operator", "regulator", "service_firm", "system")
PUBLIC = ("registered", "revoked", "cancelled", "expired")
STATUS_ZH = {
    "applied": "待审核",
    "returned": "已退回",
    "withdrawn": "已撤回",
    "registered": "已登记",
    "revoked": "已撤销",
    "cancelled": "已注销",
    "expired": "已过期",
}


def certificate_status(c: AssetCertificate, now: datetime | None = None) -> str:
    """Issued certificates count as expired from their end, before the sweep records it."""
    if c.status == "issued" and c.valid_until <= (now or utcnow()):
        return "expired"
    return c.status


def certificate_out(c: AssetCertificate) -> CertificateOut:
    return CertificateOut(
        number=c.number,
        status=certificate_status(c),
        valid_from=c.valid_from,
        valid_until=c.valid_until,
        issued_at=c.issued_at,
        digest=c.digest,
        evidence_id=c.evidence_id,
        ended_at=c.ended_at,
        end_reason=c.end_reason,
    )


def certificate_of(session: Session, registration_id: uuid.UUID) -> AssetCertificate | None:
    return session.scalars(
        select(AssetCertificate).where(AssetCertificate.registration_id == registration_id)
    ).first()


def effective_status(session: Session, r: AssetRegistration) -> str:
    if r.status == "registered":
        c = certificate_of(session, r.id)
        if c is not None and certificate_status(c) == "expired":
            return "expired"
    return r.status


def registration_out(session: Session, r: AssetRegistration) -> RegistrationOut:
    c = certificate_of(session, r.id)
    return RegistrationOut(
        id=r.id,
        product_id=r.product_id,
        holder_id=r.holder_id,
        status=effective_status(session, r),
        title=r.title,
        description=r.description,
        rights=list(r.rights),
        valid_years=r.valid_years,
        content_digest=r.content_digest,
        reasons=list(r.reasons),
        reviewer=r.reviewer,
        created_at=r.created_at,
        updated_at=r.updated_at,
        decided_at=r.decided_at,
        certificate=None if c is None else certificate_out(c),
    )


def may_see(actor: Actor, r: AssetRegistration) -> bool:
    return r.status in PUBLIC or actor.role in STAFF or actor.participant_id == r.holder_id


def load(session: Session, actor: Actor, registration_id: uuid.UUID) -> AssetRegistration:
    r = session.get(AssetRegistration, registration_id)
    if r is None or not may_see(actor, r):
        raise NotFound("Data asset not found", "数据资产不存在", code="asset.not_found")
    return r


def valuation_out(v: AssetValuation) -> ValuationOut:
    return ValuationOut(
        v.id,
        v.registration_id,
        v.valuer_id,
        v.method,
        v.amount_fen,
        v.basis,
        v.valued_on,
        v.created_at,
    )


def pledge_out(p: AssetPledge) -> PledgeOut:
    return PledgeOut(
        p.id,
        p.registration_id,
        p.pledgee_id,
        p.amount_fen,
        p.starts_on,
        p.ends_on,
        p.reference,
        p.status,
        p.registered_at,
        p.released_at,
        p.release_reason,
    )


def latest_value(session: Session, registration_id: uuid.UUID) -> int | None:
    """The amount of the most recent valuation (by valuation date, then recording time)."""
    return session.scalar(
        select(AssetValuation.amount_fen)
        .where(AssetValuation.registration_id == registration_id)
        .order_by(AssetValuation.valued_on.desc(), AssetValuation.created_at.desc())
        .limit(1)
    )


def pledged(session: Session, registration_id: uuid.UUID) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(AssetPledge.amount_fen), 0)).where(
            AssetPledge.registration_id == registration_id, AssetPledge.status == "registered"
        )
    )
    return int(total or 0)


def detail(session: Session, actor: Actor, registration_id: uuid.UUID) -> AssetDetail:
    r = load(session, actor, registration_id)
    valuations = session.scalars(
        select(AssetValuation)
        .where(AssetValuation.registration_id == r.id)
        .order_by(AssetValuation.valued_on, AssetValuation.created_at)
    )
    pledges = session.scalars(
        select(AssetPledge)
        .where(AssetPledge.registration_id == r.id)
        .order_by(AssetPledge.registered_at)
    )
    return AssetDetail(
        registration=registration_out(session, r),
        valuations=[valuation_out(v) for v in valuations],
        pledges=[pledge_out(p) for p in pledges],
        value_fen=latest_value(session, r.id),
        pledged_fen=pledged(session, r.id),
    )


def listing(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    holder_id: uuid.UUID | None = None,
    limit: int = 200,
) -> list[RegistrationOut]:
    """Registrations the actor may see, newest change first; filters by status and holder."""
    stmt = select(AssetRegistration).order_by(
        AssetRegistration.updated_at.desc(), AssetRegistration.id
    )
    if status is not None:
        stmt = stmt.where(AssetRegistration.status == status)
    if holder_id is not None:
        stmt = stmt.where(AssetRegistration.holder_id == holder_id)
    if actor.role not in STAFF:
        stmt = stmt.where(
            AssetRegistration.status.in_(PUBLIC)
            | (AssetRegistration.holder_id == actor.participant_id)
        )
    return [registration_out(session, r) for r in session.scalars(stmt.limit(limit))]


def by_number(session: Session, number: str) -> AssetCertificate:
    c = session.scalars(select(AssetCertificate).where(AssetCertificate.number == number)).first()
    if c is None:
        raise NotFound(
            "No certificate has that registration number",
            "没有该登记编号的证书",
            code="asset.certificate_not_found",
        )
    return c


def subject(r: AssetRegistration) -> str:
    return f"asset:{r.id}"


def owned(session: Session, actor: Actor, registration_id: uuid.UUID) -> AssetRegistration:
    r = load(session, actor, registration_id)
    if actor.participant_id != r.holder_id and actor.role != "system":
        raise PermissionDenied(
            "Only the asset's holder may do this",
            "只有资产持有人可以执行此操作",
            code="asset.not_holder",
        )
    return r


def require_status(r: AssetRegistration, allowed: tuple[str, ...], action_zh: str) -> None:
    if r.status not in allowed:
        state = STATUS_ZH.get(r.status, r.status)
        raise InvalidTransition(
            f"Not possible while the registration is {r.status}",
            f"登记状态为“{state}”，不能{action_zh}",
            code="asset.invalid_transition",
        )


def counts(session: Session) -> dict[str, int]:
    """Registrations per (effective) status, and the sum of pledges not released, in fen."""
    out: dict[str, int] = {}
    for r in session.scalars(select(AssetRegistration)):
        status = effective_status(session, r)
        out[status] = out.get(status, 0) + 1
    out["pledged_fen"] = int(
        session.scalar(
            select(func.coalesce(func.sum(AssetPledge.amount_fen), 0)).where(
                AssetPledge.status == "registered"
            )
        )
        or 0
    )
    return out
