"""The provider's side of a transfer process: accept a request, start (with a token for pull
transfers), take a resume request, refresh a token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.contracts import AgreementOut, Connector, Sender
from shuchang.domains.participants import connector_urls, find, participant_urn
from shuchang.domains.transfers import messages, tokens
from shuchang.domains.transfers.models import TransferProcess
from shuchang.domains.transfers.process import (
    Outbound,
    TransferProblem,
    agreement_uuid,
    check_provider_terms,
    from_counterparty,
    move,
    new_pid,
    peer_url,
    usable_agreement,
)
from shuchang.settings import Settings


@dataclass(frozen=True)
class Plane:
    """Where pull transfers are served and for how long a token lives."""

    endpoint: str
    token_seconds: int

    @classmethod
    def of(cls, settings: Settings) -> Plane:
        url = settings.dataplane_url.rstrip("/")
        if not url:
            parts = urlsplit(settings.connector_url)
            url = f"{parts.scheme}://{parts.netloc}/data"
        return cls(endpoint=url, token_seconds=settings.transfer_token_seconds)


def _duplicate() -> TransferProblem:
    return TransferProblem(
        409,
        "dsp.duplicate_request",
        "A transfer with this consumerPid exists",
        "该 consumerPid 的传输过程已存在",
    )


def _checked_request(
    session: Session, sender: Sender, msg: dict[str, Any], connector: Connector
) -> tuple[AgreementOut, str, dict[str, Any] | None]:
    """The agreement, the callback and the push sink of an acceptable request."""
    agreement = usable_agreement(
        session,
        agreement_uuid(msg["agreementId"]),
        provider_id=connector.participant.id,
        consumer_id=sender.participant_id,
    )
    check_provider_terms(session, agreement, connector, transfer_type=msg.get("format"))
    callback = msg["callbackAddress"].rstrip("/")
    if callback not in connector_urls(session, sender.participant_id):
        raise TransferProblem(
            400,
            "dsp.callback_unregistered",
            "callbackAddress is not a registered connector of the requester",
            "回调地址不是请求方登记的连接器",
        )
    kind, address = msg["format"], msg.get("dataAddress")
    if kind not in messages.FORMATS:
        raise TransferProblem(
            400,
            "dsp.format_unsupported",
            f"format is one of {', '.join(messages.FORMATS)}",
            f"format 须为 {'、'.join(messages.FORMATS)} 之一",
        )
    if (kind == messages.PUSH) != (address is not None):
        raise TransferProblem(
            400,
            "dsp.data_address_invalid",
            "A push transfer needs the consumer's dataAddress; a pull transfer takes none",
            "推送方式须提供接收端 dataAddress；拉取方式不得提供",
        )
    if address is not None:
        try:
            messages.endpoint_of(address)
        except messages.MessageInvalid as exc:
            raise TransferProblem(400, "dsp.data_address_invalid", exc.en, exc.zh) from exc
    return agreement, callback, address


def on_request(
    session: Session, sender: Sender, msg: dict[str, Any], connector: Connector, plane: Plane
) -> tuple[TransferProcess, Outbound]:
    """A consumer asks to transfer under an agreement: check it all, then start at once (the
    agreement is the authorization; there is nothing left to approve)."""
    agreement, callback, address = _checked_request(session, sender, msg, connector)
    exists = select(TransferProcess.id).where(
        TransferProcess.role == "provider", TransferProcess.consumer_pid == msg["consumerPid"]
    )
    if session.scalar(exists):
        raise _duplicate()
    t = TransferProcess(
        id=uuid.uuid4(),
        role="provider",
        provider_pid=new_pid(),
        consumer_pid=msg["consumerPid"],
        state="INITIAL",
        local_participant_id=connector.participant.id,
        counterparty_id=sender.participant_id,
        agreement_id=agreement.id,
        transfer_type=msg["format"],
        callback_address=callback,
        data_address=address,
        epoch=0,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    try:
        with session.begin_nested():  # a concurrent twin of this request may win the insert
            session.add(t)
    except IntegrityError as exc:
        raise _duplicate() from exc
    move(session, t, "TransferRequestMessage", "in", msg)
    return t, start(session, t, connector, plane)


def _token_address(
    session: Session, t: TransferProcess, connector: Connector, plane: Plane
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A fresh pull data address (endpoint + token), and what evidence keeps of it."""
    consumer = find(session, t.counterparty_id)
    assert consumer is not None  # a process's counterparty is a registered participant
    token, claims = tokens.issue(
        connector.signer,
        issuer=connector.urn,
        subject=participant_urn(consumer),
        audience=plane.endpoint,
        agreement_id=t.agreement_id,
        consumer_id=t.counterparty_id,
        transfer_id=t.id,
        provider_pid=str(t.provider_pid),
        epoch=t.epoch,
        lifetime=plane.token_seconds,
    )
    address = messages.data_address(
        plane.endpoint,
        {
            "authorization": token,
            "authType": "bearer",
            "expiresIn": str(plane.token_seconds),
            "refreshEndpoint": f"{connector.base_url}/transfers/{t.provider_pid}/token",
        },
    )
    kept = {"token_id": claims.token_id, "token_expires_at": claims.expires_at, "epoch": t.epoch}
    return address, kept


def start(session: Session, t: TransferProcess, connector: Connector, plane: Plane) -> Outbound:
    """Start (or restart) the transfer: re-check the agreement, open a new epoch (→ STARTED)."""
    agreement = usable_agreement(
        session,
        t.agreement_id,
        provider_id=connector.participant.id,
        consumer_id=t.counterparty_id,
        t=t,
    )
    check_provider_terms(session, agreement, connector, t)
    t.epoch += 1
    address: dict[str, Any] | None = None
    kept: dict[str, Any] = {}
    if t.transfer_type == messages.PULL:
        address, kept = _token_address(session, t, connector, plane)
    body = messages.start(str(t.provider_pid), t.consumer_pid, address)
    move(session, t, "TransferStartMessage", "out", body, extra=kept)
    t.suspended_by = None
    url = peer_url(t, "start")
    assert url is not None  # the provider always knows the consumer's pid
    return Outbound(t.id, url, body)


def on_resume(
    session: Session,
    sender: Sender,
    msg: dict[str, Any],
    t: TransferProcess,
    connector: Connector,
    *,
    plane: Plane,
) -> Outbound:
    """The consumer asks to resume a suspended transfer; one the provider suspended stays so."""
    from_counterparty(t, sender, msg)
    if t.state != "SUSPENDED":
        raise TransferProblem(
            409,
            "dsp.invalid_transition",
            f"TransferStartMessage from the consumer is not allowed in state {t.state}",
            f"当前状态 {t.state} 不允许使用方发起开始",
            t,
        )
    if t.suspended_by == "provider":
        raise TransferProblem(
            409,
            "dsp.suspended_by_provider",
            "The provider suspended this transfer; only the provider resumes it",
            "该传输由提供方暂停，只能由提供方恢复",
            t,
        )
    return start(session, t, connector, plane)


def refresh(
    session: Session,
    sender: Sender,
    msg: dict[str, Any],
    t: TransferProcess,
    connector: Connector,
    *,
    plane: Plane,
) -> dict[str, Any]:
    """A new token for a STARTED pull transfer, asked for by the consumer's signed request."""
    from_counterparty(t, sender, msg)
    if t.role != "provider" or t.transfer_type != messages.PULL or t.state != "STARTED":
        raise TransferProblem(
            409,
            "dsp.refresh_not_allowed",
            "Only a STARTED pull transfer gets a new token",
            "只有进行中的拉取传输可以刷新令牌",
            t,
        )
    agreement = usable_agreement(
        session,
        t.agreement_id,
        provider_id=connector.participant.id,
        consumer_id=t.counterparty_id,
        t=t,
    )
    check_provider_terms(session, agreement, connector, t)
    address, kept = _token_address(session, t, connector, plane)
    evidence.record(
        session,
        "transfer.token_refreshed",
        f"transfer:{t.id}",
        f"participant:{t.local_participant_id}",
        {"providerPid": t.provider_pid, "consumerPid": t.consumer_pid, **kept},
    )
    return address
