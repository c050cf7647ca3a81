"""The end of a certificate (证书终止): revoked by the operator, cancelled by its holder, or
expired at the end of its validity (the sweep records it; reads show it at once)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.assets import certificate, views
from shuchang.domains.assets.models import AssetCertificate, AssetPledge, AssetRegistration
from shuchang.domains.assets.schemas import RegistrationOut
from shuchang.domains.participants import SYSTEM, Actor, require
from shuchang.errors import Conflict


def _end(
    session: Session, actor: Actor, r: AssetRegistration, status: str, reason: str
) -> RegistrationOut:
    c = views.certificate_of(session, r.id)
    assert c is not None
    now = utcnow()
    active = [
        str(p.id)
        for p in session.scalars(
            select(AssetPledge).where(
                AssetPledge.registration_id == r.id, AssetPledge.status == "registered"
            )
        )
    ]
    c.status, c.ended_at, c.end_reason = status, now, reason
    r.status, r.updated_at = status, now
    evidence.record(
        session,
        f"asset.certificate_{status}",
        views.subject(r),
        actor.ref,
        {"number": c.number, "reason": reason, "active_pledges": active},
    )
    return views.registration_out(session, r)


def revoke(
    session: Session, actor: Actor, registration_id: uuid.UUID, reason: str
) -> RegistrationOut:
    """The operator revokes a certificate (撤销), e.g. when the registration proves false.
    Pledges stay on record (the evidence entry lists them); the pledgees are the ones to act."""
    require(actor, "operator")
    r = views.load(session, actor, registration_id)
    if views.effective_status(session, r) != "registered":
        views.require_status(r, (), "撤销")
    return _end(session, actor, r, "revoked", reason)


def cancel(
    session: Session, actor: Actor, registration_id: uuid.UUID, reason: str
) -> RegistrationOut:
    """The holder gives the registration up (注销); never while a pledge is registered."""
    r = views.owned(session, actor, registration_id)
    if views.effective_status(session, r) != "registered":
        views.require_status(r, (), "注销")
    if views.pledged(session, r.id):
        raise Conflict(
            "A pledged asset cannot be cancelled; the pledges must be released first",
            "资产存在未解除的质押，须先解除质押才能注销",
            code="asset.pledged",
        )
    return _end(session, actor, r, "cancelled", reason)


def expire_due(session: Session, now: datetime | None = None) -> list[str]:
    """Record the expiry of every certificate whose end has passed (the daily sweep)."""
    now = now or utcnow()
    due = session.scalars(
        select(AssetCertificate).where(
            AssetCertificate.status == "issued", AssetCertificate.valid_until <= now
        )
    ).all()
    for c in due:
        r = session.get(AssetRegistration, c.registration_id)
        assert r is not None
        c.status, c.ended_at, c.end_reason = "expired", now, "validity ended"
        r.status, r.updated_at = "expired", now
        evidence.record(
            session,
            "asset.certificate_expired",
            views.subject(r),
            SYSTEM.ref,
            {"number": c.number, "valid_until": certificate.stamp(c.valid_until)},
        )
    return [c.number for c in due]
