"""Reading transfer processes for the management API, CLI and console."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shuchang.domains.participants import Actor
from shuchang.domains.transfers.models import TransferEvent, TransferProcess
from shuchang.domains.transfers.schemas import TransferEventOut, TransferOut
from shuchang.errors import NotFound

OVERSIGHT = ("operator", "regulator", "system")
SECRET_PROPERTIES = ("authorization", "refreshToken")


def _visible(actor: Actor, t: TransferProcess) -> bool:
    return actor.role in OVERSIGHT or actor.participant_id in (
        t.local_participant_id,
        t.counterparty_id,
    )


def _address(actor: Actor, t: TransferProcess) -> dict[str, object] | None:
    """The data address; its secrets only for the side that holds it (and the platform)."""
    if t.data_address is None or actor.participant_id == t.local_participant_id:
        return t.data_address
    if actor.role == "system":
        return t.data_address
    props = [
        {**p, "value": "***"} if p.get("name") in SECRET_PROPERTIES else p
        for p in t.data_address.get("endpointProperties", [])
    ]
    return {**t.data_address, "endpointProperties": props} if props else t.data_address


def transfer_out(session: Session, actor: Actor, t: TransferProcess) -> TransferOut:
    events = session.scalars(
        select(TransferEvent).where(TransferEvent.transfer_id == t.id).order_by(TransferEvent.id)
    )
    return TransferOut(
        id=t.id,
        role=t.role,
        state=t.state,
        provider_pid=t.provider_pid,
        consumer_pid=t.consumer_pid,
        counterparty_id=t.counterparty_id,
        agreement_id=t.agreement_id,
        transfer_type=t.transfer_type,
        data_address=_address(actor, t),
        suspended_by=t.suspended_by,
        error=t.error,
        events=[
            TransferEventOut(e.direction, e.message_type, e.from_state, e.to_state, e.at)
            for e in events
        ],
        created_at=t.created_at,
        updated_at=t.updated_at,
    )


def load(
    session: Session, actor: Actor, transfer_id: uuid.UUID, *, lock: bool = False
) -> TransferProcess:
    stmt = select(TransferProcess).where(TransferProcess.id == transfer_id)
    t = session.scalars(stmt.with_for_update() if lock else stmt).first()
    if t is None or not _visible(actor, t):
        raise NotFound("Transfer process not found", "传输过程不存在", code="transfer.not_found")
    return t


def list_transfers(
    session: Session,
    actor: Actor,
    *,
    state: str | None = None,
    agreement_id: uuid.UUID | None = None,
    limit: int = 100,
) -> list[TransferOut]:
    stmt = select(TransferProcess).order_by(TransferProcess.created_at.desc()).limit(limit)
    if actor.role not in OVERSIGHT:
        stmt = stmt.where(
            or_(
                TransferProcess.local_participant_id == actor.participant_id,
                TransferProcess.counterparty_id == actor.participant_id,
            )
        )
    if state:
        stmt = stmt.where(TransferProcess.state == state)
    if agreement_id:
        stmt = stmt.where(TransferProcess.agreement_id == agreement_id)
    return [transfer_out(session, actor, t) for t in session.scalars(stmt)]
