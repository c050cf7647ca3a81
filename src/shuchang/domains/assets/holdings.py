"""Valuations (价值评估) and pledges (质押登记) of registered data assets.

Rules, decided here and documented in docs/assets.*.md:

* Only a registered asset whose certificate is in force may be valued or pledged.
* A valuation is recorded by a service firm (服务方) — the valuer — with its method (cost,
  income or market), amount in fen, basis and date (not in the future). Valuations are never
  edited; a new one supersedes the old, and the latest by valuation date is the asset's value.
* A pledge is registered by the holder (or the operator on its behalf) in favour of another
  active participant, under a pledge contract reference, for a period that ends no later than
  the certificate. It needs a valuation, and the pledges not yet released may together never
  exceed the latest value: an asset cannot be pledged twice beyond what it is worth.
* A pledge is released (解除) by its pledgee or the operator. While any pledge is registered
  the holder cannot cancel the registration (and so cannot hand the asset over by
  cancelling and re-registering); the operator can still revoke it, and the revocation's
  evidence names the pledges outstanding.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.assets import views
from shuchang.domains.assets.models import AssetPledge, AssetRegistration, AssetValuation
from shuchang.domains.assets.schemas import (
    PledgeIn,
    PledgeOut,
    PledgeRelease,
    ValuationIn,
    ValuationOut,
)
from shuchang.domains.participants import Actor, find, require
from shuchang.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)

CHINA = timedelta(hours=8)


def _in_force(session: Session, actor: Actor, registration_id: uuid.UUID) -> AssetRegistration:
    """The registration, locked for this transaction (PostgreSQL), if its certificate holds."""
    views.load(session, actor, registration_id)
    r = session.get(
        AssetRegistration, registration_id, with_for_update=True, populate_existing=True
    )
    assert r is not None
    if views.effective_status(session, r) != "registered":
        state = views.STATUS_ZH.get(views.effective_status(session, r), r.status)
        raise InvalidTransition(
            f"The asset is {views.effective_status(session, r)}, not registered",
            f"资产状态为“{state}”，证书不在有效期内",
            code="asset.not_in_force",
        )
    return r


def value(
    session: Session, actor: Actor, registration_id: uuid.UUID, data: ValuationIn
) -> ValuationOut:
    require(actor, "service_firm")
    assert actor.participant_id is not None
    r = _in_force(session, actor, registration_id)
    if data.valued_on > (utcnow() + CHINA).date():
        raise ValidationFailed(
            "A valuation date cannot be in the future",
            "评估基准日不能晚于今天",
            code="asset.valuation_future",
            field="valued_on",
        )
    v = AssetValuation(
        registration_id=r.id,
        valuer_id=actor.participant_id,
        method=data.method,
        amount_fen=data.amount_fen,
        basis=data.basis,
        valued_on=data.valued_on,
        created_at=utcnow(),
    )
    session.add(v)
    session.flush()
    evidence.record(
        session,
        "asset.valued",
        f"asset:{r.id}",
        actor.ref,
        {
            "valuation": str(v.id),
            "method": v.method,
            "amount_fen": v.amount_fen,
            "valued_on": v.valued_on.isoformat(),
        },
    )
    return views.valuation_out(v)


def _check_pledge(session: Session, r: AssetRegistration, data: PledgeIn) -> None:
    pledgee = find(session, data.pledgee_id)
    if pledgee is None or pledgee.status != "active":
        raise NotFound(
            "The pledgee is not an active participant",
            "质权人不是已启用的参与方",
            code="asset.pledgee_unknown",
            field="pledgee_id",
        )
    if pledgee.id == r.holder_id:
        raise ValidationFailed(
            "The holder cannot pledge to itself",
            "不能向资产持有人自己出质",
            code="asset.pledge_to_self",
            field="pledgee_id",
        )
    c = views.certificate_of(session, r.id)
    assert c is not None
    if data.ends_on <= data.starts_on:
        raise ValidationFailed(
            "The pledge must end after it starts",
            "质押期限的结束须晚于开始",
            code="asset.pledge_period",
            field="ends_on",
        )
    if (
        data.starts_on < (c.valid_from + CHINA).date()
        or data.ends_on > (c.valid_until + CHINA).date()
    ):
        raise ValidationFailed(
            "The pledge period must lie within the certificate's validity",
            "质押期限须在登记证书有效期内",
            code="asset.pledge_period",
            field="ends_on",
        )


def pledge(session: Session, actor: Actor, registration_id: uuid.UUID, data: PledgeIn) -> PledgeOut:
    r = _in_force(session, actor, registration_id)
    if actor.participant_id != r.holder_id:
        require(actor, "operator")
    _check_pledge(session, r, data)
    worth = views.latest_value(session, r.id)
    if worth is None:
        raise Conflict(
            "An asset is pledged only after a valuation",
            "资产须先经价值评估才能质押",
            code="asset.not_valued",
        )
    already = views.pledged(session, r.id)
    if already + data.amount_fen > worth:
        raise Conflict(
            f"Pledges would total {already + data.amount_fen} fen, above the value {worth} fen",
            f"质押总额将达 {already + data.amount_fen} 分，超过评估价值 {worth} 分",
            code="asset.pledge_exceeds_value",
            field="amount_fen",
            extra={"value_fen": worth, "pledged_fen": already},
        )
    p = AssetPledge(
        registration_id=r.id,
        pledgee_id=data.pledgee_id,
        amount_fen=data.amount_fen,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        reference=data.reference,
        status="registered",
        registered_at=utcnow(),
    )
    session.add(p)
    session.flush()
    evidence.record(
        session,
        "asset.pledged",
        f"asset:{r.id}",
        actor.ref,
        {
            "pledge": str(p.id),
            "pledgee": str(p.pledgee_id),
            "amount_fen": p.amount_fen,
            "starts_on": p.starts_on.isoformat(),
            "ends_on": p.ends_on.isoformat(),
            "reference": p.reference,
        },
    )
    return views.pledge_out(p)


def release(session: Session, actor: Actor, pledge_id: uuid.UUID, data: PledgeRelease) -> PledgeOut:
    p = session.get(AssetPledge, pledge_id, with_for_update=True)
    if p is None:
        raise NotFound("Pledge not found", "质押记录不存在", code="asset.pledge_not_found")
    if actor.participant_id != p.pledgee_id and actor.role not in ("operator", "system"):
        raise PermissionDenied(
            "Only the pledgee or the operator releases a pledge",
            "只有质权人或运营者可以解除质押",
            code="asset.not_pledgee",
        )
    if p.status != "registered":
        raise InvalidTransition(
            "The pledge is already released", "该质押已解除", code="asset.pledge_released"
        )
    p.status, p.released_at, p.release_reason = "released", utcnow(), data.reason
    evidence.record(
        session,
        "asset.pledge_released",
        f"asset:{p.registration_id}",
        actor.ref,
        {"pledge": str(p.id), "reason": data.reason},
    )
    return views.pledge_out(p)


def pledges_to(session: Session, actor: Actor) -> list[PledgeOut]:
    """Pledges in the acting participant's favour (a bank's view)."""
    rows = session.scalars(
        select(AssetPledge)
        .where(AssetPledge.pledgee_id == actor.participant_id)
        .order_by(AssetPledge.registered_at.desc())
    )
    return [views.pledge_out(p) for p in rows]
