"""Contracts use cases that cross the network: who our connector is, and sending after commit."""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from shuchang.domains.contracts import negotiation
from shuchang.domains.contracts.models import Negotiation
from shuchang.domains.contracts.negotiation import Connector, DspProblem, Outbound
from shuchang.domains.contracts.transport import DeliveryFailed, Transport
from shuchang.domains.participants import Actor, find, require
from shuchang.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from shuchang.policy import validate
from shuchang.ports import Ed25519Signer, fingerprint
from shuchang.settings import Settings

logger = logging.getLogger("shuchang.contracts")


def load_connector(session: Session, settings: Settings) -> Connector:
    """This platform's connector from the settings, or a 503 DSP problem if it is off."""
    if not (
        settings.connector_participant and settings.connector_key_file and settings.connector_url
    ):
        raise DspProblem(
            503,
            "dsp.connector_off",
            "This platform's connector is not configured",
            "本平台未配置连接器",
        )
    try:
        participant = find(session, uuid.UUID(settings.connector_participant))
        seed = base64.b64decode(
            Path(settings.connector_key_file).read_text().strip(), validate=True
        )
        signer = Ed25519Signer.from_seed(seed)
    except (ValueError, OSError) as exc:
        raise DspProblem(
            503,
            "dsp.connector_misconfigured",
            f"Connector settings are unusable: {exc}",
            "连接器配置无效",
        ) from exc
    if participant is None or participant.status != "active":
        raise DspProblem(
            503,
            "dsp.connector_misconfigured",
            "The connector's participant is not active here",
            "连接器所属参与方未启用",
        )
    return Connector(
        participant=participant,
        signer=signer,
        keyid=fingerprint(signer.public_key()),
        base_url=settings.connector_url.rstrip("/"),
        agreement_days=settings.agreement_days,
        auto_agree=settings.negotiation_approval == "auto",
    )


Unit = Callable[[], AbstractContextManager[Session]]


def deliver(
    unit: Unit, transport: Transport, connector: Connector, outbound: Outbound | None
) -> None:
    """Send a decided message after its transaction committed; ``unit`` opens the next one.

    On failure our side is terminated (the peer may never know; it will time out)."""
    if outbound is None:
        return
    try:
        answer = transport.post(outbound.url, outbound.body, connector.signer, connector.keyid)
    except DeliveryFailed as exc:
        logger.warning("DSP delivery failed: %s", exc)
        with unit() as s:
            n = s.get(Negotiation, outbound.negotiation_id)
            if n is not None and n.state not in negotiation.FINAL:
                negotiation.abandon(s, n, f"delivery failed: {exc}")
        return
    if outbound.body.get("@type") == "ContractRequestMessage":
        with unit() as s:
            negotiation.on_created(s, outbound.negotiation_id, answer)


def as_problem(exc: DspProblem) -> InvalidTransition:
    """A protocol problem as the management API and console report it (409, DSP code kept)."""
    return InvalidTransition(exc.message_en, exc.message_zh, code=exc.code)


def request_offer(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    provider_id: uuid.UUID,
    dataset_id: str,
    offer: dict[str, Any],
) -> tuple[Outbound, Connector]:
    """The consumer's side of starting a negotiation (API and console): checks, then REQUESTED."""
    require(actor, "consumer")
    faults = validate(offer, expected_type="Offer")
    if faults:
        raise ValidationFailed(
            faults[0].message_en,
            faults[0].message_zh,
            code="negotiation.offer_invalid",
            field=f"offer.{faults[0].path}",
        )
    connector = load_connector(session, settings)
    if actor.participant_id != connector.participant.id:
        raise PermissionDenied(
            "This connector speaks for another participant",
            "本连接器不代表该参与方",
            code="negotiation.not_connector_owner",
        )
    provider = find(session, provider_id)
    if provider is None or provider.status != "active" or "provider" not in provider.roles:
        raise NotFound(
            "No such active provider",
            "提供方不存在或未启用",
            code="negotiation.provider_unknown",
            field="provider_id",
        )
    try:
        outbound = negotiation.start(
            session,
            actor,
            provider=provider,
            dataset_id=dataset_id,
            offer=offer,
            connector=connector,
        )
    except DspProblem as exc:
        raise as_problem(exc) from exc
    return outbound, connector
