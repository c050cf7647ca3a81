"""Transfer processes (传输过程) per DSP 2025-1: the machine both sides keep, and the rules.

States and the messages that move them (the same on the provider's and the consumer's side)::

    REQUESTED ──start──► STARTED ──completion──► COMPLETED
                          │   ▲
               suspension ▼   │ start (a new token for pull transfers)
                         SUSPENDED
    REQUESTED, STARTED, SUSPENDED ──termination──► TERMINATED

A transfer exists only under a FINALIZED (``active``) agreement whose consumer asks for it,
inside the agreement's period, while the product is listed and both participants are active.
Every step takes the row lock, writes a :class:`TransferEvent` and an evidence entry in the
same transaction, and returns what must be sent next (:class:`Outbound`); the caller sends it
after the commit. Refusals are :class:`TransferProblem` and change nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.canonical import digest
from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.catalog import listed_offer
from shuchang.domains.contracts import AgreementOut, Connector, Sender, find_agreement
from shuchang.domains.participants import find
from shuchang.domains.transfers import messages
from shuchang.domains.transfers.models import TransferEvent, TransferProcess
from shuchang.errors import ShuchangError

FINAL = ("COMPLETED", "TERMINATED")
TRANSITIONS: dict[tuple[str, str], str] = {
    ("TransferRequestMessage", "INITIAL"): "REQUESTED",
    ("TransferStartMessage", "REQUESTED"): "STARTED",
    ("TransferStartMessage", "SUSPENDED"): "STARTED",
    ("TransferSuspensionMessage", "STARTED"): "SUSPENDED",
    ("TransferCompletionMessage", "STARTED"): "COMPLETED",
    **{
        ("TransferTerminationMessage", s): "TERMINATED"
        for s in ("REQUESTED", "STARTED", "SUSPENDED")
    },
}
# ``INITIAL`` exists only inside the transaction that creates a process and moves it.
VERB = {
    "TransferStartMessage": "start",
    "TransferCompletionMessage": "completion",
    "TransferSuspensionMessage": "suspension",
    "TransferTerminationMessage": "termination",
}


class TransferProblem(ShuchangError):
    """A protocol refusal, answered as a TransferError (DSP) or a problem (management API)."""

    def __init__(
        self, status: int, code: str, en: str, zh: str, t: TransferProcess | None = None
    ) -> None:
        super().__init__(en, zh, code=code, status=status)
        self.provider_pid = t.provider_pid if t else None
        self.consumer_pid = t.consumer_pid if t else None

    def message(self) -> dict[str, Any]:
        return messages.error(
            self.provider_pid, self.consumer_pid, self.code, [self.message_en, self.message_zh]
        )


@dataclass(frozen=True)
class Outbound:
    transfer_id: uuid.UUID
    url: str
    body: dict[str, Any]


def new_pid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def _record(
    session: Session,
    t: TransferProcess,
    trigger: str,
    direction: str,
    body: dict[str, Any],
    *,
    after: str,
    extra: dict[str, Any] | None = None,
) -> None:
    session.add(
        TransferEvent(
            transfer_id=t.id,
            direction=direction,
            message_type=trigger,
            from_state=t.state,
            to_state=after,
            body_digest=digest(body),
            at=utcnow(),
        )
    )
    kind = f"transfer.{after.lower()}" if after != t.state else "transfer.resume_requested"
    evidence.record(
        session,
        kind,
        f"transfer:{t.id}",
        f"participant:{t.local_participant_id}",
        {
            "role": t.role,
            "from": t.state,
            "to": after,
            "message": trigger,
            "direction": direction,
            "providerPid": t.provider_pid,
            "consumerPid": t.consumer_pid,
            "agreement": str(t.agreement_id),
            "format": t.transfer_type,
            "body_sha256": digest(body),
            **(extra or {}),
        },
    )
    t.state, t.updated_at = after, utcnow()


def allowed(t: TransferProcess, trigger: str) -> None:
    if (trigger, t.state) not in TRANSITIONS:
        raise TransferProblem(
            409,
            "dsp.invalid_transition",
            f"{trigger} is not allowed in state {t.state}",
            f"当前状态 {t.state} 不允许 {trigger}",
            t,
        )


def move(
    session: Session,
    t: TransferProcess,
    trigger: str,
    direction: str,
    body: dict[str, Any],
    *,
    extra: dict[str, Any] | None = None,
) -> None:
    """Take the transition ``trigger`` from the current state, with its event and evidence."""
    allowed(t, trigger)
    _record(
        session, t, trigger, direction, body, after=TRANSITIONS[(trigger, t.state)], extra=extra
    )


def note(session: Session, t: TransferProcess, trigger: str, body: dict[str, Any]) -> None:
    """An outgoing message that asks for a step the peer decides (a resume request)."""
    _record(session, t, trigger, "out", body, after=t.state)


def find_by_pid(session: Session, pid: str) -> TransferProcess:
    """The process a message addresses (our provider pid, or our consumer pid), locked: two
    copies of one message arriving together must not both move the state."""
    t = session.scalars(
        select(TransferProcess)
        .where(
            ((TransferProcess.role == "provider") & (TransferProcess.provider_pid == pid))
            | ((TransferProcess.role == "consumer") & (TransferProcess.consumer_pid == pid))
        )
        .with_for_update()
    ).first()
    if t is None:
        raise TransferProblem(
            404, "dsp.transfer_not_found", "No such transfer process", "传输过程不存在"
        )
    return t


def lock(session: Session, transfer_id: uuid.UUID) -> TransferProcess | None:
    return session.scalars(
        select(TransferProcess).where(TransferProcess.id == transfer_id).with_for_update()
    ).first()


def from_counterparty(t: TransferProcess, sender: Sender, msg: dict[str, Any]) -> None:
    if sender.participant_id != t.counterparty_id:
        raise TransferProblem(
            403,
            "dsp.not_a_party",
            "The sender is not a party to this transfer",
            "发送方不是该传输过程的当事方",
            t,
        )
    if t.provider_pid is None and t.role == "consumer":
        t.provider_pid = msg.get("providerPid")  # the start can overtake the request's answer
    if msg.get("consumerPid") != t.consumer_pid or msg.get("providerPid") != t.provider_pid:
        raise TransferProblem(
            400, "dsp.pid_mismatch", "providerPid/consumerPid do not match", "传输标识不匹配", t
        )


def peer_url(t: TransferProcess, verb: str) -> str | None:
    """Where the other side receives ``verb`` for this process (None: its pid is unknown)."""
    pid = t.consumer_pid if t.role == "provider" else t.provider_pid
    return f"{t.callback_address}/transfers/{pid}/{verb}" if pid else None


# --- the agreement behind a transfer ----------------------------------------------------------


def agreement_uuid(agreement_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(agreement_id.removeprefix("urn:uuid:"))
    except ValueError:
        return None


def _refuse(code: str, en: str, zh: str, t: TransferProcess | None, status: int = 403) -> NoReturn:
    raise TransferProblem(status, code, en, zh, t)


def usable_agreement(
    session: Session,
    agreement_id: uuid.UUID | None,
    *,
    provider_id: uuid.UUID | None,
    consumer_id: uuid.UUID,
    t: TransferProcess | None = None,
    now: datetime | None = None,
) -> AgreementOut:
    """The agreement if a transfer may run under it now: FINALIZED, between these parties,
    inside its period. ``provider_id`` None: any provider (the consumer's own check)."""
    agreement = find_agreement(session, agreement_id) if agreement_id else None
    if agreement is None or (provider_id is not None and agreement.provider_id != provider_id):
        raise TransferProblem(
            404, "dsp.agreement_unknown", "No such agreement here", "本方没有该合约", t
        )
    if agreement.consumer_id != consumer_id:
        _refuse(
            "dsp.not_agreement_consumer",
            "The agreement belongs to another consumer",
            "该合约不属于请求方",
            t,
        )
    if agreement.status != "active":
        _refuse(
            "dsp.agreement_not_active",
            f"The agreement is {agreement.status}, not finalized",
            f"合约状态为 {agreement.status}，未生效",
            t,
            409,
        )
    at = now or utcnow()
    if not agreement.valid_from <= at < agreement.valid_until:
        _refuse(
            "dsp.agreement_expired",
            "The agreement is outside its period of validity",
            "合约不在有效期内",
            t,
        )
    return agreement


def check_provider_terms(
    session: Session,
    agreement: AgreementOut,
    connector: Connector,
    t: TransferProcess | None = None,
    transfer_type: str | None = None,
) -> None:
    """What only the provider knows: the product is still listed, the consumer still active,
    and it can be delivered this way (an API product is served per request: pull only)."""
    consumer = find(session, agreement.consumer_id)
    if consumer is None or consumer.status != "active" or "consumer" not in consumer.roles:
        _refuse(
            "dsp.participant_not_allowed",
            "The consumer is not an active participant",
            "使用方不是已启用的参与方",
            t,
        )
    product = agreement_uuid(agreement.dataset_id)
    listed = listed_offer(session, product) if product else None
    if listed is None or listed.provider_id != connector.participant.id:
        _refuse(
            "dsp.product_delisted",
            "The agreement's product is no longer listed",
            "合约标的产品已下架",
            t,
            409,
        )
    if listed.kind == "compute_only":
        _refuse(
            "dsp.format_unsupported",
            "A compute-only product is not delivered by transfer",
            "可用不可见（仅计算）产品不提供数据传输",
            t,
            400,
        )
    if listed.kind == "api" and (transfer_type or (t.transfer_type if t else None)) == (
        messages.PUSH
    ):
        _refuse(
            "dsp.format_unsupported",
            "An API product is served per request through the gateway: use HttpData-PULL",
            "接口服务类产品按次经网关调用，只支持拉取方式（HttpData-PULL）",
            t,
            400,
        )
