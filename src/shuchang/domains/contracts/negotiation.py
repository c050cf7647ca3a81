"""Contract negotiation (合约协商) per DSP 2025-1, on the provider's and the consumer's side.

States and the messages that move them (both sides keep the same machine)::

    REQUESTED ──offer──► OFFERED ──ACCEPTED──► ACCEPTED ──agreement──► AGREED
        │  ◄──request (counter)──┘                                      │
        └────────────agreement───────────────────────────────────────► AGREED
    AGREED ──verification──► VERIFIED ──FINALIZED──► FINALIZED
    any non-final state ──termination──► TERMINATED

Every function takes the database session and returns what must be sent next (an
:class:`Outbound`), which the caller sends after the transaction commits: a state never
depends on a message that was not durably decided first. Every step is an evidence entry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuchang.canonical import canonical_json, digest
from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.catalog import listed_offer
from shuchang.domains.contracts import agreements, messages
from shuchang.domains.contracts.models import Agreement, Negotiation, NegotiationEvent
from shuchang.domains.participants import (
    Actor,
    ParticipantOut,
    connector_urls,
    find,
    participant_urn,
)
from shuchang.errors import ShuchangError
from shuchang.ports import Ed25519Signer

FINAL = ("FINALIZED", "TERMINATED")
# (message or event, state before) → state after, the same on both sides.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("ContractRequestMessage", "INITIAL"): "REQUESTED",
    ("ContractRequestMessage", "OFFERED"): "REQUESTED",
    ("ContractOfferMessage", "REQUESTED"): "OFFERED",
    ("ACCEPTED", "OFFERED"): "ACCEPTED",
    ("ContractAgreementMessage", "REQUESTED"): "AGREED",
    ("ContractAgreementMessage", "ACCEPTED"): "AGREED",
    ("ContractAgreementVerificationMessage", "AGREED"): "VERIFIED",
    ("FINALIZED", "VERIFIED"): "FINALIZED",
    **{
        ("ContractNegotiationTerminationMessage", s): "TERMINATED"
        for s in messages.STATES
        if s not in FINAL
    },
}
# ``INITIAL`` exists only inside the transaction that creates a negotiation and moves it.


class DspProblem(ShuchangError):
    """A protocol error, answered as a ContractNegotiationError (see api)."""

    def __init__(
        self, status: int, code: str, en: str, zh: str, n: Negotiation | None = None
    ) -> None:
        super().__init__(en, zh, code=code, status=status)
        self.provider_pid = n.provider_pid if n else None
        self.consumer_pid = n.consumer_pid if n else None

    def message(self) -> dict[str, Any]:
        return messages.error(
            self.provider_pid, self.consumer_pid, self.code, [self.message_en, self.message_zh]
        )


@dataclass(frozen=True)
class Connector:
    """This platform's connector: whom it speaks for, how it signs, where it is reached."""

    participant: ParticipantOut
    signer: Ed25519Signer
    keyid: str
    base_url: str
    agreement_days: int = 365
    auto_agree: bool = True

    @property
    def urn(self) -> str:
        return participant_urn(self.participant)


@dataclass(frozen=True)
class Sender:
    """The authenticated connector a DSP message came from."""

    participant_id: uuid.UUID
    public_key: bytes


@dataclass(frozen=True)
class Outbound:
    negotiation_id: uuid.UUID
    url: str
    body: dict[str, Any]


def _pid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def _move(
    session: Session, n: Negotiation, trigger: str, direction: str, body: dict[str, Any]
) -> None:
    _allowed(n, trigger)
    after = TRANSITIONS[(trigger, n.state)]
    if after is None:  # pragma: no cover - _allowed checked it
        raise DspProblem(
            400,
            "dsp.invalid_transition",
            f"{trigger} is not allowed in state {n.state}",
            f"当前状态 {n.state} 不允许 {trigger}",
            n,
        )
    session.add(
        NegotiationEvent(
            negotiation_id=n.id,
            direction=direction,
            message_type=trigger,
            from_state=n.state,
            to_state=after,
            body_digest=digest(body),
            at=utcnow(),
        )
    )
    evidence.record(
        session,
        f"negotiation.{after.lower()}",
        f"negotiation:{n.id}",
        f"participant:{n.local_participant_id}",
        {
            "role": n.role,
            "from": n.state,
            "to": after,
            "message": trigger,
            "direction": direction,
            "providerPid": n.provider_pid,
            "consumerPid": n.consumer_pid,
            "body_sha256": digest(body),
        },
    )
    n.state, n.updated_at = after, utcnow()


def _allowed(n: Negotiation, trigger: str) -> None:
    if (trigger, n.state) not in TRANSITIONS:
        raise DspProblem(
            400,
            "dsp.invalid_transition",
            f"{trigger} is not allowed in state {n.state}",
            f"当前状态 {n.state} 不允许 {trigger}",
            n,
        )


def find_by_pid(session: Session, pid: str) -> Negotiation:
    """The negotiation a message addresses: our provider pid, or our consumer pid."""
    # Locked: two copies of one message arriving together must not both move the state.
    n = session.scalars(
        select(Negotiation)
        .where(
            ((Negotiation.role == "provider") & (Negotiation.provider_pid == pid))
            | ((Negotiation.role == "consumer") & (Negotiation.consumer_pid == pid))
        )
        .with_for_update()
    ).first()
    if n is None:
        raise DspProblem(404, "dsp.negotiation_not_found", "No such negotiation", "协商不存在")
    return n


def _from_counterparty(n: Negotiation, sender: Sender, msg: dict[str, Any]) -> None:
    if sender.participant_id != n.counterparty_id:
        raise DspProblem(
            403,
            "dsp.not_a_party",
            "The sender is not a party to this negotiation",
            "发送方不是该协商的当事方",
            n,
        )
    if msg.get("consumerPid") != n.consumer_pid or (
        n.provider_pid and msg.get("providerPid") != n.provider_pid
    ):
        raise DspProblem(
            400, "dsp.pid_mismatch", "providerPid/consumerPid do not match", "协商标识不匹配", n
        )


def _product_id(dataset_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(dataset_id.removeprefix("urn:uuid:"))
    except ValueError:
        return None


# --- provider side -------------------------------------------------------------------------


def on_request(
    session: Session, sender: Sender, msg: dict[str, Any], connector: Connector
) -> Negotiation:
    """A consumer asks for a listed offer: check who, where to call back, and what."""
    consumer = find(session, sender.participant_id)
    if consumer is None or consumer.status != "active" or "consumer" not in consumer.roles:
        raise DspProblem(
            403,
            "dsp.participant_not_allowed",
            "The requester is not an active consumer",
            "请求方不是已启用的使用方",
        )
    callback = str(msg.get("callbackAddress", "")).rstrip("/")
    if callback not in connector_urls(session, consumer.id):
        raise DspProblem(
            400,
            "dsp.callback_unregistered",
            "callbackAddress is not a registered connector of the requester",
            "回调地址不是请求方登记的连接器",
        )
    offer = msg["offer"]
    product_id = _product_id(str(offer.get("target", "")))
    product = listed_offer(session, product_id) if product_id else None
    if product is None or product.provider_id != connector.participant.id:
        raise DspProblem(
            404,
            "dsp.offer_unknown",
            "The offer's target is not a listed product here",
            "要约标的不是本方在架产品",
        )
    if canonical_json(agreements.offer_body(offer)) != canonical_json(
        agreements.offer_body(product.policy)
    ):
        raise DspProblem(
            400,
            "dsp.offer_mismatch",
            "The offer does not match the listed product's offer",
            "要约内容与在架产品的要约不一致",
        )
    if session.scalar(
        select(Negotiation.id).where(
            Negotiation.role == "provider", Negotiation.consumer_pid == msg["consumerPid"]
        )
    ):
        raise DspProblem(
            409,
            "dsp.duplicate_request",
            "A negotiation with this consumerPid exists",
            "该 consumerPid 的协商已存在",
        )
    n = Negotiation(
        id=uuid.uuid4(),
        role="provider",
        provider_pid=_pid(),
        consumer_pid=msg["consumerPid"],
        state="INITIAL",
        local_participant_id=connector.participant.id,
        counterparty_id=consumer.id,
        dataset_id=str(offer["target"]),
        product_id=product.id,
        offer=offer,
        callback_address=callback,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    try:
        with session.begin_nested():  # a concurrent twin of this request may win the insert
            session.add(n)
    except IntegrityError as exc:
        raise DspProblem(
            409,
            "dsp.duplicate_request",
            "A negotiation with this consumerPid exists",
            "该 consumerPid 的协商已存在",
        ) from exc
    _move(session, n, "ContractRequestMessage", "in", msg)
    return n


def agree(session: Session, n: Negotiation, connector: Connector) -> Outbound:
    """The provider agrees: build and sign the agreement and send it (→ AGREED)."""
    product = listed_offer(session, n.product_id) if n.product_id else None
    consumer = find(session, n.counterparty_id)
    if product is None or consumer is None or consumer.status != "active":
        raise DspProblem(
            409,
            "dsp.no_longer_available",
            "The product is no longer listed or the consumer is not active",
            "产品已下架或使用方已停用",
            n,
        )
    terms = agreements.Terms(
        dataset_id=n.dataset_id,
        provider_urn=connector.urn,
        consumer_urn=participant_urn(consumer),
        price_model=product.price.model,
        price_fen=product.price.amount_fen,
        price_period=product.price.period,
        days=connector.agreement_days,
        price_unit=product.price.unit,
        price_tiers=tuple((t.up_to, t.unit_fen) for t in product.price.tiers),
    )
    document = agreements.build(n.offer, terms, utcnow())
    signature = agreements.sign(document, "assigner", connector.urn, connector.signer)
    row = _store_agreement(
        session, n, document, [signature], provider=connector.participant.id, consumer=consumer.id
    )
    body = messages.agreement(str(n.provider_pid), n.consumer_pid, document, [signature])
    _move(session, n, "ContractAgreementMessage", "out", body)
    n.agreement_id = row.id
    return Outbound(n.id, f"{n.callback_address}/negotiations/{n.consumer_pid}/agreement", body)


def _store_agreement(
    session: Session,
    n: Negotiation,
    document: dict[str, Any],
    signatures: list[dict[str, Any]],
    *,
    provider: uuid.UUID,
    consumer: uuid.UUID,
) -> Agreement:
    start, end = agreements.window(document)
    price = document.get("shuchang:price", {})
    row = Agreement(
        id=uuid.UUID(document["@id"].removeprefix("urn:uuid:")),
        negotiation_id=n.id,
        provider_id=provider,
        consumer_id=consumer,
        dataset_id=n.dataset_id,
        product_id=n.product_id,
        document=document,
        signatures=signatures,
        purpose=agreements.purpose(document),
        valid_from=start,
        valid_until=end,
        price_model=str(price.get("model", "free")),
        price_fen=int(price.get("amountFen", "0")),
        status="pending",
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def on_verification(
    session: Session, sender: Sender, msg: dict[str, Any], n: Negotiation, connector: Connector
) -> Outbound:
    """The consumer countersigned: check its signature, then finalize (→ VERIFIED → FINALIZED)."""
    _from_counterparty(n, sender, msg)
    _allowed(n, "ContractAgreementVerificationMessage")
    row = session.get(Agreement, n.agreement_id) if n.agreement_id else None
    signature = msg.get("shuchang:signature")
    if row is None or not isinstance(signature, dict):
        raise DspProblem(
            400,
            "dsp.signature_missing",
            "The verification carries no consumer signature",
            "核验报文缺少使用方签名",
            n,
        )
    try:
        agreements.check_signature(
            row.document, {**signature, "role": "assignee"}, sender.public_key
        )
    except agreements.AgreementInvalid as exc:
        raise DspProblem(400, exc.code, exc.en, exc.zh, n) from exc
    _move(session, n, "ContractAgreementVerificationMessage", "in", msg)
    row.signatures = [*row.signatures, {**signature, "role": "assignee"}]
    event = messages.event(str(n.provider_pid), n.consumer_pid, "FINALIZED")
    _move(session, n, "FINALIZED", "out", event)
    _activate(session, row, n)
    return Outbound(n.id, f"{n.callback_address}/negotiations/{n.consumer_pid}/events", event)


def _activate(session: Session, row: Agreement, n: Negotiation) -> None:
    row.status = "active"
    evidence.record(
        session,
        "agreement.concluded",
        f"agreement:{row.id}",
        f"participant:{n.local_participant_id}",
        {
            "negotiation": str(n.id),
            "target": row.dataset_id,
            "purpose": row.purpose,
            "valid_from": row.valid_from.isoformat(),
            "valid_until": row.valid_until.isoformat(),
            "price_fen": row.price_fen,
            "agreement_sha256": digest(row.document),
            "signatures": [s["keyid"] for s in row.signatures],
        },
    )


# --- consumer side -------------------------------------------------------------------------


def start(
    session: Session,
    actor: Actor,
    *,
    provider: ParticipantOut,
    dataset_id: str,
    offer: dict[str, Any],
    connector: Connector,
) -> Outbound:
    """The consumer asks a provider's connector for an offer (→ REQUESTED)."""
    urls = connector_urls(session, provider.id)
    if not urls:
        raise DspProblem(
            409,
            "dsp.provider_unreachable",
            "The provider has no registered connector",
            "提供方没有登记连接器",
        )
    n = Negotiation(
        id=uuid.uuid4(),
        role="consumer",
        provider_pid=None,
        consumer_pid=_pid(),
        state="INITIAL",
        local_participant_id=connector.participant.id,
        counterparty_id=provider.id,
        dataset_id=dataset_id,
        product_id=None,
        offer={**offer, "target": dataset_id},
        callback_address=urls[0],
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(n)
    session.flush()
    body = messages.request(n.consumer_pid, n.offer, connector.base_url)
    _move(session, n, "ContractRequestMessage", "out", body)
    return Outbound(n.id, f"{urls[0]}/negotiations/request", body)


def on_created(session: Session, negotiation_id: uuid.UUID, response: dict[str, Any]) -> None:
    """The provider acknowledged the request: remember its pid."""
    n = session.get(Negotiation, negotiation_id)
    if n is not None and n.provider_pid is None and isinstance(response.get("providerPid"), str):
        n.provider_pid = response["providerPid"]


def on_agreement(
    session: Session, sender: Sender, msg: dict[str, Any], n: Negotiation, connector: Connector
) -> Outbound:
    """The provider agreed: check the agreement is what we asked for, countersign (→ AGREED)."""
    if n.provider_pid is None:
        n.provider_pid = msg.get("providerPid")
    _from_counterparty(n, sender, msg)
    _allowed(n, "ContractAgreementMessage")
    provider = find(session, n.counterparty_id)
    assert provider is not None  # a negotiation's counterparty is a registered participant
    document = msg["agreement"]
    signatures = msg.get("shuchang:signatures") or []
    provider_sig = next(
        (s for s in signatures if isinstance(s, dict) and s.get("role") == "assigner"), None
    )
    provider_sig = _check_agreement(
        n,
        document,
        provider_sig,
        sender,
        connector=connector,
        provider_urn=participant_urn(provider),
    )
    _move(session, n, "ContractAgreementMessage", "in", msg)
    mine = agreements.sign(document, "assignee", connector.urn, connector.signer)
    row = _store_agreement(
        session,
        n,
        document,
        [provider_sig, mine],
        provider=n.counterparty_id,
        consumer=connector.participant.id,
    )
    n.agreement_id = row.id
    body = messages.verification(str(n.provider_pid), n.consumer_pid, mine)
    _move(session, n, "ContractAgreementVerificationMessage", "out", body)
    return Outbound(
        n.id, f"{n.callback_address}/negotiations/{n.provider_pid}/agreement/verification", body
    )


def _narrows(asked: dict[str, Any], document: dict[str, Any]) -> bool:
    """The agreement keeps every rule asked for, each with at least its constraints, and adds
    no permission; prohibitions and obligations are exactly those asked for."""
    got = document.get("permission", [])
    if len(got) != len(asked.get("permission", [])):
        return False
    for want, have in zip(asked.get("permission", []), got, strict=True):
        if want.get("action") != have.get("action"):
            return False
        if not all(c in have.get("constraint", []) for c in want.get("constraint", [])):
            return False
    return all(document.get(k, []) == asked.get(k, []) for k in ("prohibition", "obligation"))


def _check_agreement(
    n: Negotiation,
    document: dict[str, Any],
    sig: dict[str, Any] | None,
    sender: Sender,
    *,
    connector: Connector,
    provider_urn: str,
) -> dict[str, Any]:
    if sig is None:
        raise DspProblem(
            400,
            "dsp.signature_missing",
            "The agreement is not signed by the provider",
            "合约缺少提供方签名",
            n,
        )
    try:
        agreements.check_signature(document, sig, sender.public_key)
    except agreements.AgreementInvalid as exc:
        raise DspProblem(400, exc.code, exc.en, exc.zh, n) from exc
    if not _narrows(agreements.offer_body(n.offer), document):
        raise DspProblem(
            400,
            "dsp.agreement_mismatch",
            "The agreement loosens or changes the offer",
            "合约内容与所请求的要约不符",
            n,
        )
    if document.get("assigner") != provider_urn:
        raise DspProblem(
            400,
            "dsp.agreement_mismatch",
            "The agreement names another assigner than the provider",
            "合约的授予方不是该提供方",
            n,
        )
    if document.get("target") != n.dataset_id or document.get("assignee") != connector.urn:
        raise DspProblem(
            400,
            "dsp.agreement_mismatch",
            "The agreement names another target or assignee",
            "合约标的或受让方不符",
            n,
        )
    return sig


def on_event(
    session: Session, sender: Sender, msg: dict[str, Any], n: Negotiation, connector: Connector
) -> Outbound | None:
    _from_counterparty(n, sender, msg)
    kind = msg["eventType"]
    _move(session, n, kind, "in", msg)
    if kind == "FINALIZED":
        row = session.get(Agreement, n.agreement_id) if n.agreement_id else None
        if row is not None:
            _activate(session, row, n)
        return None
    return agree(session, n, connector) if connector.auto_agree else None


def on_termination(session: Session, sender: Sender, msg: dict[str, Any], n: Negotiation) -> None:
    _from_counterparty(n, sender, msg)
    n.error = {"code": msg.get("code"), "reason": msg.get("reason")}
    _move(session, n, "ContractNegotiationTerminationMessage", "in", msg)
    _end_agreement(session, n)


def terminate(
    session: Session, n: Negotiation, reason: str, code: str = "terminated"
) -> Outbound | None:
    """Either side ends a negotiation that is not final (→ TERMINATED)."""
    body = messages.termination(str(n.provider_pid or ""), n.consumer_pid, code, [reason])
    _move(session, n, "ContractNegotiationTerminationMessage", "out", body)
    n.error = {"code": code, "reason": [reason]}
    _end_agreement(session, n)
    if n.provider_pid is None:
        return None
    path = n.consumer_pid if n.role == "provider" else n.provider_pid
    return Outbound(n.id, f"{n.callback_address}/negotiations/{path}/termination", body)


def _end_agreement(session: Session, n: Negotiation) -> None:
    row = session.get(Agreement, n.agreement_id) if n.agreement_id else None
    if row is not None and row.status == "pending":
        row.status = "terminated"


def negotiation_view(n: Negotiation) -> dict[str, Any]:
    return messages.negotiation(str(n.provider_pid or ""), n.consumer_pid, n.state)


def abandon(session: Session, n: Negotiation, reason: str) -> None:
    """End our side locally when the peer cannot be told (delivery failed)."""
    body = messages.termination(
        str(n.provider_pid or ""), n.consumer_pid, "delivery_failed", [reason]
    )
    _move(session, n, "ContractNegotiationTerminationMessage", "out", body)
    n.error = {"code": "delivery_failed", "reason": [reason]}
    _end_agreement(session, n)
