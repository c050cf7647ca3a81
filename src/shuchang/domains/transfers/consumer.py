"""The consumer's side of a transfer process: request under an agreement, receive the start
(and the pull token), ask to resume, keep a refreshed token."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.contracts import Connector, Sender
from shuchang.domains.participants import active_keys, connector_urls
from shuchang.domains.transfers import messages, tokens
from shuchang.domains.transfers.models import TransferProcess
from shuchang.domains.transfers.process import (
    Outbound,
    TransferProblem,
    from_counterparty,
    move,
    new_pid,
    note,
    peer_url,
    usable_agreement,
)
from shuchang.ports import fingerprint

START = "TransferStartMessage"


def request(
    session: Session,
    connector: Connector,
    agreement_id: uuid.UUID,
    transfer_type: str,
    address: dict[str, Any] | None,
) -> Outbound:
    """Ask the agreement's provider to transfer (→ REQUESTED). Checked here first so that a
    request the provider must refuse is not sent."""
    agreement = usable_agreement(
        session, agreement_id, provider_id=None, consumer_id=connector.participant.id
    )
    urls = connector_urls(session, agreement.provider_id)
    if not urls:
        raise TransferProblem(
            409,
            "dsp.provider_unreachable",
            "The provider has no registered connector",
            "提供方没有登记连接器",
        )
    t = TransferProcess(
        id=uuid.uuid4(),
        role="consumer",
        provider_pid=None,
        consumer_pid=new_pid(),
        state="INITIAL",
        local_participant_id=connector.participant.id,
        counterparty_id=agreement.provider_id,
        agreement_id=agreement.id,
        transfer_type=transfer_type,
        callback_address=urls[0],
        data_address=address,
        epoch=0,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(t)
    session.flush()
    body = messages.request(
        t.consumer_pid, f"urn:uuid:{agreement.id}", transfer_type, connector.base_url, address
    )
    move(session, t, "TransferRequestMessage", "out", body)
    return Outbound(t.id, f"{urls[0]}/transfers/request", body)


def on_created(session: Session, transfer_id: uuid.UUID, answer: dict[str, Any]) -> None:
    """The provider acknowledged the request: remember its pid."""
    t = session.get(TransferProcess, transfer_id, with_for_update=True)
    pid = answer.get("providerPid")
    if t is not None and t.provider_pid is None and isinstance(pid, str) and pid:
        t.provider_pid = pid


def _check_token(session: Session, t: TransferProcess, connector: Connector, token: str) -> int:
    """The pull token verifies under the provider's registered keys and names us; its expiry."""
    keys = {fingerprint(k): k for k in active_keys(session, t.counterparty_id)}
    try:
        claims = tokens.verify_token(token, keys, subject=connector.urn)
    except (tokens.TokenRejected, tokens.TokenMisdirected) as exc:
        raise TransferProblem(400, "dsp.token_invalid", exc.message_en, exc.message_zh, t) from exc
    return claims.expires_at


def _pull_address(
    session: Session, t: TransferProcess, connector: Connector, msg: dict[str, Any]
) -> tuple[dict[str, Any], int]:
    address = msg.get("dataAddress")
    token = messages.properties_of(address).get("authorization") if address else None
    if address is None or not token:
        raise TransferProblem(
            400,
            "dsp.data_address_invalid",
            "A pull transfer starts with a dataAddress holding an authorization token",
            "拉取传输的开始报文须含带 authorization 令牌的 dataAddress",
            t,
        )
    try:
        messages.endpoint_of(address)
    except messages.MessageInvalid as exc:
        raise TransferProblem(400, "dsp.data_address_invalid", exc.en, exc.zh, t) from exc
    return address, _check_token(session, t, connector, token)


def on_start(
    session: Session, sender: Sender, msg: dict[str, Any], t: TransferProcess, connector: Connector
) -> None:
    """The provider started the transfer; for pull, keep the endpoint and token (the EDR)."""
    from_counterparty(t, sender, msg)
    extra: dict[str, Any] = {}
    if t.transfer_type == messages.PULL:
        address, expires = _pull_address(session, t, connector, msg)
        extra = {"token_expires_at": expires}
    move(session, t, START, "in", msg, extra=extra)
    if t.transfer_type == messages.PULL:
        t.data_address = address
    t.epoch += 1
    t.suspended_by = None


def resume(session: Session, t: TransferProcess) -> Outbound:
    """Ask the provider to restart a transfer this side suspended (DSP: the consumer's
    TransferStartMessage); the state moves when the provider's start arrives."""
    if t.state != "SUSPENDED" or t.suspended_by == "provider":
        raise TransferProblem(
            409,
            "dsp.invalid_transition",
            "Only a transfer the consumer suspended can be resumed by it",
            "使用方只能恢复自己暂停的传输",
            t,
        )
    body = messages.start(str(t.provider_pid), t.consumer_pid)
    note(session, t, START, body)
    url = peer_url(t, "start")
    assert url is not None  # a started transfer knows the provider's pid
    return Outbound(t.id, url, body)


def keep_refreshed(
    session: Session, t: TransferProcess, connector: Connector, address: Any
) -> None:
    """Store the data address a refresh returned, once it proves to be a valid token for us."""
    try:
        messages.check_address(address)
    except messages.MessageInvalid as exc:
        raise TransferProblem(502, "dsp.refresh_invalid", exc.en, exc.zh, t) from exc
    token = messages.properties_of(address).get("authorization", "")
    expires = _check_token(session, t, connector, token)
    t.data_address, t.updated_at = address, utcnow()
    evidence.record(
        session,
        "transfer.token_refreshed",
        f"transfer:{t.id}",
        f"participant:{t.local_participant_id}",
        {
            "providerPid": t.provider_pid,
            "consumerPid": t.consumer_pid,
            "token_expires_at": expires,
        },
    )
