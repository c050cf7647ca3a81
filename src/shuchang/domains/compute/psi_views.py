"""Reading PSI sessions: lists, details, and the members a consumer may see."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.domains.compute.psi import view_state
from shuchang.domains.compute.psi_filters import unpack
from shuchang.domains.compute.psi_models import PsiEvent, PsiSession
from shuchang.domains.compute.psi_schemas import PsiEventOut, PsiSessionOut
from shuchang.domains.participants import Actor
from shuchang.errors import NotFound

OVERSIGHT = ("operator", "regulator", "system")


def _visible(actor: Actor, s: PsiSession) -> bool:
    return actor.participant_id == s.local_participant_id or actor.role in OVERSIGHT


def to_out(session: Session, s: PsiSession) -> PsiSessionOut:
    events = session.scalars(
        select(PsiEvent).where(PsiEvent.session_id == s.id).order_by(PsiEvent.id)
    ).all()
    outs = [
        PsiEventOut(
            e.direction, e.message_type, e.from_state, e.to_state, e.body_digest, e.bytes, e.at
        )
        for e in events
    ]
    return PsiSessionOut(
        id=s.id,
        role=s.role,
        state=view_state(s),
        mode=s.mode,
        protocol=s.protocol,
        normalization=s.normalization,
        agreement_id=s.agreement_id,
        counterparty_id=s.counterparty_id,
        provider_pid=s.provider_pid,
        consumer_pid=s.consumer_pid,
        identifier_field=s.identifier_field,
        local_size=s.local_size,
        peer_size=s.peer_size,
        result_size=s.result_size,
        local_digest=s.local_digest,
        result_digest=s.result_digest,
        rejected=s.rejected,
        filter_name=s.filter_name,
        members_available=s.role == "consumer" and s.members is not None,
        error=s.error,
        bytes_sent=sum(e.bytes for e in events if e.direction == "out"),
        bytes_received=sum(e.bytes for e in events if e.direction == "in"),
        deadline=s.deadline,
        created_at=s.created_at,
        updated_at=s.updated_at,
        events=outs,
    )


def get(session: Session, actor: Actor, session_id: uuid.UUID) -> PsiSessionOut:
    s = session.get(PsiSession, session_id)
    if s is None or not _visible(actor, s):
        raise NotFound("No such PSI session", "求交会话不存在", code="psi.session_not_found")
    return to_out(session, s)


def list_sessions(session: Session, actor: Actor, limit: int = 100) -> list[PsiSessionOut]:
    query = select(PsiSession).order_by(PsiSession.created_at.desc()).limit(limit)
    if actor.role not in OVERSIGHT:
        query = query.where(PsiSession.local_participant_id == actor.participant_id)
    return [to_out(session, s) for s in session.scalars(query)]


def members(session: Session, actor: Actor, session_id: uuid.UUID) -> list[str]:
    """The intersection the consumer learned (``intersection`` mode) — to the consumer only;
    a provider's filter never leaves through this call."""
    s = session.get(PsiSession, session_id)
    if (
        s is None
        or s.role != "consumer"
        or actor.participant_id != s.local_participant_id
        or s.members is None
    ):
        raise NotFound(
            "No intersection to show", "没有可查看的交集", code="psi.members_unavailable"
        )
    return unpack(s.members)
