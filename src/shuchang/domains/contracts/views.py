"""Reading negotiations and agreements for the management API, CLI and console."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shuchang.domains.contracts import agreements
from shuchang.domains.contracts.models import Agreement, Negotiation, NegotiationEvent
from shuchang.domains.contracts.schemas import AgreementOut, EventOut, NegotiationOut
from shuchang.domains.participants import Actor
from shuchang.errors import NotFound

OVERSIGHT = ("operator", "regulator", "system")


def _visible(actor: Actor, *parties: uuid.UUID) -> bool:
    return actor.role in OVERSIGHT or actor.participant_id in parties


def negotiation_out(session: Session, n: Negotiation) -> NegotiationOut:
    events = session.scalars(
        select(NegotiationEvent)
        .where(NegotiationEvent.negotiation_id == n.id)
        .order_by(NegotiationEvent.id)
    )
    return NegotiationOut(
        id=n.id,
        role=n.role,
        state=n.state,
        provider_pid=n.provider_pid,
        consumer_pid=n.consumer_pid,
        counterparty_id=n.counterparty_id,
        dataset_id=n.dataset_id,
        offer=n.offer,
        agreement_id=n.agreement_id,
        error=n.error,
        events=[
            EventOut(e.direction, e.message_type, e.from_state, e.to_state, e.at) for e in events
        ],
        created_at=n.created_at,
        updated_at=n.updated_at,
    )


def load_negotiation(session: Session, actor: Actor, negotiation_id: uuid.UUID) -> Negotiation:
    n = session.get(Negotiation, negotiation_id)
    if n is None or not _visible(actor, n.local_participant_id, n.counterparty_id):
        raise NotFound("Negotiation not found", "协商不存在", code="negotiation.not_found")
    return n


def list_negotiations(
    session: Session, actor: Actor, state: str | None = None, limit: int = 100
) -> list[NegotiationOut]:
    stmt = select(Negotiation).order_by(Negotiation.created_at.desc()).limit(limit)
    if actor.role not in OVERSIGHT:
        stmt = stmt.where(
            or_(
                Negotiation.local_participant_id == actor.participant_id,
                Negotiation.counterparty_id == actor.participant_id,
            )
        )
    if state:
        stmt = stmt.where(Negotiation.state == state)
    return [negotiation_out(session, n) for n in session.scalars(stmt)]


def agreement_out(row: Agreement) -> AgreementOut:
    return AgreementOut(
        id=row.id,
        status=row.status,
        provider_id=row.provider_id,
        consumer_id=row.consumer_id,
        dataset_id=row.dataset_id,
        purpose=row.purpose,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        price_model=row.price_model,
        price_fen=row.price_fen,
        document=agreements.document(row.document, row.signatures),
        created_at=row.created_at,
    )


def load_agreement(session: Session, actor: Actor, agreement_id: uuid.UUID) -> Agreement:
    row = session.get(Agreement, agreement_id)
    if row is None or not _visible(actor, row.provider_id, row.consumer_id):
        raise NotFound("Agreement not found", "合约不存在", code="agreement.not_found")
    return row


def list_agreements(session: Session, actor: Actor, limit: int = 100) -> list[AgreementOut]:
    stmt = select(Agreement).order_by(Agreement.created_at.desc()).limit(limit)
    if actor.role not in OVERSIGHT:
        stmt = stmt.where(
            or_(
                Agreement.provider_id == actor.participant_id,
                Agreement.consumer_id == actor.participant_id,
            )
        )
    return [agreement_out(r) for r in session.scalars(stmt)]


def find_agreement(session: Session, agreement_id: uuid.UUID) -> AgreementOut | None:
    """An agreement held here, whoever asks (callers check the parties themselves)."""
    row = session.get(Agreement, agreement_id)
    return agreement_out(row) if row is not None else None


def active_agreement_ids(session: Session) -> list[uuid.UUID]:
    """Every concluded agreement (status ``active``), oldest first: what settlement bills."""
    stmt = (
        select(Agreement.id)
        .where(Agreement.status == "active")
        .order_by(Agreement.created_at, Agreement.id)
    )
    return list(session.scalars(stmt))
