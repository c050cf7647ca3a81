"""Private set intersection sessions (隐私求交): the machine both connectors keep.

States (the same names on both sides; see :mod:`.psi_messages` for the flow)::

    PREPARING ──request──► REQUESTED ──response──► RESPONDED ──result──► COMPLETED
    (consumer)                  └──client-request──► EXCHANGING ──response──┘
    any live state ──termination──► TERMINATED;  past its deadline ──► EXPIRED

What authorises a session: an active agreement between the two connectors' participants on
a listed **compute-only** product of the provider, inside its period, whose policy permits
``compute`` for the agreement's purpose on the identifier field (decided and *counted* by
the contracts decision point, so the offer's count limits bound sessions too), and at most
``SHUCHANG_PSI_SESSIONS_PER_DAY`` sessions per agreement per 24 hours. Each party must bring
at least ``SHUCHANG_PSI_MIN_SET_SIZE`` distinct identifiers.

Every step writes a :class:`PsiEvent` and an evidence entry in the transaction that makes it
(who, agreement, mode, set sizes, result size, digests of bodies and sets — never an
identifier); refusals change nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.canonical import canonical_json, digest
from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.compute import psi_messages as m
from shuchang.domains.compute.psi_models import PsiEvent, PsiSession
from shuchang.domains.contracts import Connector, DeliveryFailed, Sender, Transport
from shuchang.errors import ShuchangError
from shuchang.settings import Settings

logger = logging.getLogger("shuchang.compute.psi")
Unit = Callable[[], AbstractContextManager[Session]]
FINAL = ("COMPLETED", "TERMINATED", "EXPIRED")
LIVE = ("PREPARING", "REQUESTED", "EXCHANGING", "RESPONDED")
TRANSITIONS: dict[tuple[str, str], str] = {
    (m.REQUEST, "INITIAL"): "REQUESTED",
    (m.REQUEST, "PREPARING"): "REQUESTED",
    (m.RESPONSE, "REQUESTED"): "RESPONDED",
    (m.CLIENT_REQUEST, "REQUESTED"): "EXCHANGING",
    (m.RESPONSE, "EXCHANGING"): "RESPONDED",
    (m.RESULT, "RESPONDED"): "COMPLETED",
    (m.RESULT, "REQUESTED"): "COMPLETED",  # RR22 only: the protocol ran over the direct link
    **{(m.TERMINATION, s): "TERMINATED" for s in LIVE},
    **{("expired", s): "EXPIRED" for s in LIVE},
}


class PsiProblem(ShuchangError):
    """A protocol refusal, answered as a ``shuchang:PsiError`` (or a problem in the API)."""

    def __init__(
        self, status: int, code: str, en: str, zh: str, s: PsiSession | None = None
    ) -> None:
        super().__init__(en, zh, code=code, status=status)
        self.provider_pid = s.provider_pid if s else None
        self.consumer_pid = s.consumer_pid if s else None

    def message(self) -> dict[str, Any]:
        return m.error(
            self.provider_pid, self.consumer_pid, self.code, [self.message_en, self.message_zh]
        )


@dataclass(frozen=True)
class Wire:
    """What background steps need: transactions, the transport, our connector, settings."""

    unit: Unit
    transport: Transport
    connector: Connector
    settings: Settings


@dataclass(frozen=True)
class Outbound:
    session_id: uuid.UUID
    url: str
    body: dict[str, Any]


def new_pid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def body_size(body: dict[str, Any]) -> int:
    return len(canonical_json(body))


def move(
    session: Session,
    s: PsiSession,
    trigger: str,
    direction: str,
    body: dict[str, Any],
    *,
    extra: dict[str, Any] | None = None,
) -> None:
    """Take the transition ``trigger`` from the current state, with its event and evidence."""
    after = TRANSITIONS.get((trigger, s.state))
    if trigger == m.RESULT and s.state == "REQUESTED" and s.protocol != "rr22":
        after = None
    if after is None:
        raise PsiProblem(
            409,
            "psi.invalid_transition",
            f"{trigger} is not allowed in state {s.state}",
            f"当前状态 {s.state} 不允许 {trigger}",
            s,
        )
    size = body_size(body)
    session.add(
        PsiEvent(
            session_id=s.id,
            direction=direction,
            message_type=trigger,
            from_state=s.state,
            to_state=after,
            body_digest=digest(body),
            bytes=size,
            at=utcnow(),
        )
    )
    evidence.record(
        session,
        f"psi.{after.lower()}",
        f"psi:{s.id}",
        f"participant:{s.local_participant_id}",
        {
            "role": s.role,
            "mode": s.mode,
            "protocol": s.protocol,
            "agreement": str(s.agreement_id),
            "providerPid": s.provider_pid,
            "consumerPid": s.consumer_pid,
            "from": s.state,
            "to": after,
            "message": trigger,
            "direction": direction,
            "body_sha256": digest(body),
            "bytes": size,
            **(extra or {}),
        },
    )
    s.state, s.updated_at = after, utcnow()


def find_by_pid(session: Session, pid: str) -> PsiSession:
    """The session a message addresses (our pid), locked against a concurrent copy."""
    row = session.scalars(
        select(PsiSession)
        .where(
            ((PsiSession.role == "provider") & (PsiSession.provider_pid == pid))
            | ((PsiSession.role == "consumer") & (PsiSession.consumer_pid == pid))
        )
        .with_for_update()
    ).first()
    if row is None:
        raise PsiProblem(404, "psi.session_not_found", "No such PSI session", "求交会话不存在")
    return row


def lock(session: Session, session_id: uuid.UUID) -> PsiSession | None:
    return session.scalars(
        select(PsiSession).where(PsiSession.id == session_id).with_for_update()
    ).first()


def from_counterparty(s: PsiSession, sender: Sender, msg: dict[str, Any], now: datetime) -> None:
    """The message is from the other party, names this session, and the session is live."""
    if sender.participant_id != s.counterparty_id:
        raise PsiProblem(
            403,
            "psi.not_a_party",
            "The sender is not a party to this session",
            "发送方不是该求交会话的当事方",
            s,
        )
    if s.role == "consumer" and s.provider_pid is None:
        s.provider_pid = msg.get("providerPid")  # the answer can overtake the request's reply
    if msg.get("consumerPid") != s.consumer_pid or msg.get("providerPid") != s.provider_pid:
        raise PsiProblem(
            400, "psi.pid_mismatch", "providerPid/consumerPid do not match", "会话标识不匹配", s
        )
    if s.state in LIVE and now >= s.deadline:
        raise PsiProblem(
            409, "psi.session_expired", "The session is past its deadline", "求交会话已超时", s
        )


def peer_url(s: PsiSession, verb: str) -> str:
    pid = s.consumer_pid if s.role == "provider" else s.provider_pid
    return f"{s.callback_address}/psi/{pid}/{verb}"


def view_state(s: PsiSession, now: datetime | None = None) -> str:
    """The state as shown: a live session past its deadline is EXPIRED even before the
    sweep (:func:`expire_stale`) has written it."""
    if s.state in LIVE and (now or utcnow()) >= s.deadline:
        return "EXPIRED"
    return s.state


def expire_stale(session: Session, now: datetime, limit: int = 500) -> int:
    """Write EXPIRED (with evidence) for live sessions past their deadline; how many."""
    rows = session.scalars(
        select(PsiSession)
        .where(PsiSession.state.in_(LIVE), PsiSession.deadline <= now)
        .order_by(PsiSession.deadline)
        .limit(limit)
        .with_for_update()
    ).all()
    for s in rows:
        move(session, s, "expired", "in", {"deadline": s.deadline.isoformat()})
        s.pending = None
    return len(rows)


def terminate(
    session: Session, s: PsiSession, code: str, reason: str, *, direction: str
) -> dict[str, Any]:
    """End the session with a reason; the termination message (sent by the caller if ours)."""
    body = m.message(
        m.TERMINATION, s.provider_pid or "", s.consumer_pid, code=code, reason=[reason]
    )
    move(session, s, m.TERMINATION, direction, body, extra={"code": code})
    s.pending, s.error = None, {"code": code, "reason": reason, "by": direction}
    return body


def deliver(wire: Wire, outbound: Outbound | None) -> dict[str, Any]:
    """Send a decided message after its transaction committed; on failure our side is
    terminated (the peer's session expires)."""
    if outbound is None:
        return {}
    connector = wire.connector
    try:
        return wire.transport.post(outbound.url, outbound.body, connector.signer, connector.keyid)
    except DeliveryFailed as exc:
        logger.warning("PSI delivery failed: %s", exc)
        with wire.unit() as session:
            s = lock(session, outbound.session_id)
            if s is not None and s.state in LIVE:
                reason = f"delivery failed: {exc}"[:300]
                terminate(session, s, "psi.delivery_failed", reason, direction="out")
        return {}


def fail_and_tell(wire: Wire, session_id: uuid.UUID, code: str, reason: str) -> None:
    """A background step could not finish: terminate here and tell the peer."""
    with wire.unit() as session:
        s = lock(session, session_id)
        if s is None or s.state not in LIVE:
            return
        body = terminate(session, s, code, reason, direction="out")
        known = s.provider_pid is not None
        url = peer_url(s, "termination")
    if known:
        deliver(wire, Outbound(session_id, url, body))
