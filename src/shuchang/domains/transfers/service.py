"""Transfer use cases for the management API and the CLI, and sending after commit."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Literal

from sqlalchemy.orm import Session

from shuchang.domains import evidence
from shuchang.domains.contracts import Connector, DeliveryFailed, Transport, load_connector
from shuchang.domains.participants import Actor, require
from shuchang.domains.transfers import consumer, messages, provider, steps
from shuchang.domains.transfers.models import TransferProcess
from shuchang.domains.transfers.process import FINAL, Outbound, TransferProblem, lock
from shuchang.domains.transfers.schemas import StartTransfer
from shuchang.domains.transfers.views import load
from shuchang.errors import (
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ShuchangError,
    ValidationFailed,
)
from shuchang.settings import Settings

logger = logging.getLogger("shuchang.transfers")
Unit = Callable[[], AbstractContextManager[Session]]
Action = Literal["suspend", "resume", "complete", "terminate"]


def as_problem(exc: TransferProblem) -> ShuchangError:
    """A protocol refusal as the management API reports it (the DSP code kept)."""
    kind = {404: NotFound, 403: PermissionDenied, 400: ValidationFailed}.get(
        exc.http_status, InvalidTransition
    )
    return kind(exc.message_en, exc.message_zh, code=exc.code)


def own_connector(session: Session, settings: Settings, actor: Actor) -> Connector:
    """This platform's connector, if ``actor`` is the participant it speaks for."""
    try:
        connector = load_connector(session, settings)
    except ShuchangError as exc:
        raise InvalidTransition(exc.message_en, exc.message_zh, code=exc.code) from exc
    if actor.participant_id != connector.participant.id:
        raise PermissionDenied(
            "This connector speaks for another participant",
            "本连接器不代表该参与方",
            code="transfer.not_connector_owner",
        )
    return connector


def _push_address(data: StartTransfer) -> dict[str, Any] | None:
    if (data.transfer_type == messages.PUSH) != (data.data_address is not None):
        raise ValidationFailed(
            "A push transfer needs data_address; a pull transfer takes none",
            "推送方式须提供 data_address；拉取方式不得提供",
            code="transfer.data_address_invalid",
            field="data_address",
        )
    if data.data_address is None:
        return None
    address = messages.data_address(data.data_address.endpoint, data.data_address.properties)
    try:
        messages.endpoint_of(address)
    except messages.MessageInvalid as exc:
        raise ValidationFailed(
            exc.en, exc.zh, code="transfer.data_address_invalid", field="data_address.endpoint"
        ) from exc
    return address


def start_transfer(
    session: Session, settings: Settings, actor: Actor, data: StartTransfer
) -> tuple[Outbound, Connector]:
    """The consumer asks the provider of one of its agreements to transfer (→ REQUESTED)."""
    require(actor, "consumer")
    address = _push_address(data)
    connector = own_connector(session, settings, actor)
    try:
        outbound = consumer.request(
            session, connector, data.agreement_id, data.transfer_type, address
        )
    except TransferProblem as exc:
        raise as_problem(exc) from exc
    return outbound, connector


def _act(
    session: Session,
    t: TransferProcess,
    action: Action,
    reason: str,
    *,
    connector: Connector,
    settings: Settings,
) -> Outbound | None:
    if action == "suspend":
        return steps.suspend(session, t, reason)
    if action == "complete":
        return steps.complete(session, t)
    if action == "terminate":
        return steps.terminate(session, t, reason)
    if t.role == "consumer":
        return consumer.resume(session, t)
    if t.state != "SUSPENDED" or t.suspended_by == "consumer":
        raise TransferProblem(
            409,
            "dsp.invalid_transition",
            "Only a transfer the provider suspended can be resumed by it",
            "提供方只能恢复自己暂停的传输",
            t,
        )
    return provider.start(session, t, connector, provider.Plane.of(settings))


def act(
    session: Session,
    settings: Settings,
    actor: Actor,
    transfer_id: uuid.UUID,
    action: Action,
    *,
    reason: str = "",
) -> tuple[TransferProcess, Outbound | None, Connector]:
    """Suspend, resume, complete or terminate a transfer from this side."""
    t = load(session, actor, transfer_id, lock=True)
    if actor.participant_id != t.local_participant_id:
        raise PermissionDenied(
            "Only the party whose side this is acts on it",
            "只有本方当事人可以操作该传输过程",
            code="transfer.not_party",
        )
    connector = own_connector(session, settings, actor)
    try:
        outbound = _act(
            session, t, action, reason or action, connector=connector, settings=settings
        )
    except TransferProblem as exc:
        raise as_problem(exc) from exc
    return t, outbound, connector


def deliver(
    unit: Unit, transport: Transport, connector: Connector, outbound: Outbound | None
) -> None:
    """Send a decided message after its transaction committed; ``unit`` opens the next one.

    A request or start the peer never got ends our side (it would wait for ever otherwise);
    any other failure is kept on the process as its error, with an evidence entry."""
    if outbound is None:
        return
    try:
        answer = transport.post(outbound.url, outbound.body, connector.signer, connector.keyid)
    except DeliveryFailed as exc:
        logger.warning("DSP transfer delivery failed: %s", exc)
        _failed(unit, outbound, str(exc))
        return
    if outbound.body["@type"] == "TransferRequestMessage":
        with unit() as s:
            consumer.on_created(s, outbound.transfer_id, answer)


def _failed(unit: Unit, outbound: Outbound, reason: str) -> None:
    kind = outbound.body["@type"]
    with unit() as s:
        t = lock(s, outbound.transfer_id)
        if t is None or t.state in FINAL:
            return
        ends = kind == "TransferRequestMessage" or (
            kind == "TransferStartMessage" and t.role == "provider"
        )
        if ends:
            steps.abandon(s, t, f"delivery failed: {reason}")
            return
        t.error = {"code": "delivery_failed", "reason": [reason], "message": kind}
        evidence.record(
            s,
            "transfer.delivery_failed",
            f"transfer:{t.id}",
            f"participant:{t.local_participant_id}",
            {"message": kind, "state": t.state, "reason": reason[:500]},
        )


def refresh_token(
    unit: Unit, transport: Transport, settings: Settings, actor: Actor, transfer_id: uuid.UUID
) -> None:
    """The consumer asks the provider for a new token (signed request) and keeps it."""
    with unit() as s:
        t = load(s, actor, transfer_id)
        connector = own_connector(s, settings, actor)
        if t.role != "consumer" or actor.participant_id != t.local_participant_id:
            raise PermissionDenied(
                "Only the consumer refreshes its token",
                "只有使用方可以刷新令牌",
                code="transfer.not_consumer",
            )
        if t.transfer_type != messages.PULL or t.state != "STARTED" or not t.provider_pid:
            raise InvalidTransition(
                "Only a STARTED pull transfer gets a new token",
                "只有进行中的拉取传输可以刷新令牌",
                code="dsp.refresh_not_allowed",
            )
        url = f"{t.callback_address}/transfers/{t.provider_pid}/token"
        body = messages.token_request(t.provider_pid, t.consumer_pid)
    try:
        answer = transport.post(url, body, connector.signer, connector.keyid)
    except DeliveryFailed as exc:
        raise InvalidTransition(
            f"The provider refused or could not be reached: {exc}",
            "提供方拒绝或无法连接",
            code="transfer.refresh_failed",
        ) from exc
    with unit() as s:
        t = load(s, actor, transfer_id, lock=True)
        try:
            consumer.keep_refreshed(s, t, connector, answer)
        except TransferProblem as exc:
            raise as_problem(exc) from exc
