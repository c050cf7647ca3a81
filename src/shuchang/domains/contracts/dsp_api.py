"""Dataspace Protocol 2025-1 contract negotiation endpoints (HTTPS binding), both sides.

Provider side: ``POST /dsp/negotiations/request``, ``GET /dsp/negotiations/{pid}``,
``POST /dsp/negotiations/{pid}/request|events|agreement/verification|termination``.
Consumer side (the callback address is ``<base>/dsp``): ``POST /dsp/negotiations/{pid}/
offers|agreement|events|termination``. A pid names one side's negotiation, so one set of
routes serves both. Every request must carry an RFC 9421 signature by a key registered to a
participant here (see :mod:`.httpsig`); nonces are remembered, so a replay is refused. Errors
are ``ContractNegotiationError`` messages; state never changes on an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, RawBody
from sqlalchemy.orm import Session

from shuchang.domains.contracts import httpsig, messages, negotiation, peers
from shuchang.domains.contracts.models import Negotiation
from shuchang.domains.contracts.negotiation import Connector, DspProblem, Outbound, Sender
from shuchang.domains.contracts.service import deliver, load_connector
from shuchang.http import platform_of
from shuchang.platform import Platform

Req = Request[Any, Any, Any]
JSON_LD = "application/json"
PROVIDER_RECEIVES = {"ContractRequestMessage", "ACCEPTED", "ContractAgreementVerificationMessage"}
CONSUMER_RECEIVES = {"ContractOfferMessage", "ContractAgreementMessage", "FINALIZED"}


def _sender(session: Session, request: Req, body: bytes) -> Sender:
    """Authenticate the signing connector and spend its nonce (in this transaction)."""
    try:
        return peers.authenticate(session, request, body)
    except httpsig.SignatureError as exc:
        raise DspProblem(exc.status, exc.code, exc.en, exc.zh) from exc


def _answer(problem: DspProblem) -> Response[Any]:
    return Response(problem.message(), status_code=problem.http_status, media_type=JSON_LD)


def _handle(
    request: Req,
    body: bytes,
    work: Callable[[Session, Sender, Connector], tuple[Any, Outbound | None]],
    status: int = 200,
) -> Response[Any]:
    """Authenticate, run ``work`` in one transaction, answer, then send what it decided."""
    platform: Platform = platform_of(request)
    try:
        with platform.unit() as s:
            connector = load_connector(s, platform.settings)
            sender = _sender(s, request, body)
            content, outbound = work(s, sender, connector)
    except DspProblem as problem:
        return _answer(problem)
    except messages.MessageInvalid as exc:
        return _answer(DspProblem(400, "dsp.message_invalid", exc.en, exc.zh))
    task = (
        BackgroundTask(deliver, platform.unit, platform.transport, connector, outbound)
        if outbound
        else None
    )
    return Response(content, status_code=status, media_type=JSON_LD, background=task)


def _addressed(session: Session, pid: str, kind: str) -> Negotiation:
    n = negotiation.find_by_pid(session, pid)
    receives = PROVIDER_RECEIVES if n.role == "provider" else CONSUMER_RECEIVES
    if kind not in receives and kind != "ContractNegotiationTerminationMessage":
        raise DspProblem(
            400,
            "dsp.wrong_side",
            f"{kind} is not sent to the {n.role}",
            f"{kind} 不应发给{n.role}",
            n,
        )
    return n


class NegotiationProtocol(Controller):
    path = "/dsp/negotiations"
    tags = ["dsp"]
    include_in_schema = True

    @post("/request", sync_to_thread=True)
    def request_contract(self, request: Req, body: RawBody) -> Response[Any]:
        """ContractRequestMessage that starts a negotiation (provider side)."""

        def work(s: Session, sender: Sender, connector: Connector) -> tuple[Any, Outbound | None]:
            msg = messages.parse(body, "ContractRequestMessage")
            n = negotiation.on_request(s, sender, msg, connector)
            outbound = negotiation.agree(s, n, connector) if connector.auto_agree else None
            view = messages.negotiation(str(n.provider_pid), n.consumer_pid, "REQUESTED")
            return view, outbound

        return _handle(request, body, work, status=201)

    @get("/{pid:str}", sync_to_thread=True)
    def negotiation_state(self, request: Req, pid: FromPath[str]) -> Response[Any]:
        """The negotiation's state, for its parties only (signed GET with an empty body)."""

        def work(s: Session, sender: Sender, connector: Connector) -> tuple[Any, Outbound | None]:
            n = negotiation.find_by_pid(s, pid)
            if sender.participant_id != n.counterparty_id:
                raise DspProblem(
                    404, "dsp.negotiation_not_found", "No such negotiation", "协商不存在"
                )
            return negotiation.negotiation_view(n), None

        return _handle(request, b"", work)

    @post("/{pid:str}/{verb:path}", sync_to_thread=True)
    def message(
        self, request: Req, pid: FromPath[str], verb: FromPath[str], body: RawBody
    ) -> Response[Any]:
        """Every later message, to either side; the verb names the message kind."""
        kinds = VERBS.get(verb.strip("/"))
        if kinds is None:
            return _answer(
                DspProblem(404, "dsp.unknown_endpoint", "No such DSP endpoint", "没有该协议端点")
            )

        def work(s: Session, sender: Sender, connector: Connector) -> tuple[Any, Outbound | None]:
            msg = messages.parse(body, *kinds)
            kind = (
                msg["eventType"]
                if msg["@type"] == "ContractNegotiationEventMessage"
                else msg["@type"]
            )
            n = _addressed(s, pid, kind)
            return {}, HANDLERS[kind](s, sender, msg, n, connector)

        return _handle(request, body, work)


VERBS = {
    "request": ("ContractRequestMessage",),
    "offers": ("ContractOfferMessage",),
    "events": ("ContractNegotiationEventMessage",),
    "agreement": ("ContractAgreementMessage",),
    "agreement/verification": ("ContractAgreementVerificationMessage",),
    "termination": ("ContractNegotiationTerminationMessage",),
}


def _termination(
    s: Session, sender: Sender, msg: dict[str, Any], n: Negotiation, _: Connector
) -> Outbound | None:
    negotiation.on_termination(s, sender, msg, n)
    return None


def _unsupported(
    s: Session, sender: Sender, msg: dict[str, Any], n: Negotiation, _: Connector
) -> Outbound | None:
    raise DspProblem(
        400,
        "dsp.counter_offer_unsupported",
        "Counter-offers are not supported; terminate and request the listed offer",
        "暂不支持还价，请终止后按在架要约重新请求",
        n,
    )


HANDLERS: dict[
    str, Callable[[Session, Sender, dict[str, Any], Negotiation, Connector], Outbound | None]
] = {
    "ContractRequestMessage": _unsupported,
    "ContractOfferMessage": _unsupported,
    "ACCEPTED": negotiation.on_event,
    "FINALIZED": negotiation.on_event,
    "ContractAgreementMessage": negotiation.on_agreement,
    "ContractAgreementVerificationMessage": negotiation.on_verification,
    "ContractNegotiationTerminationMessage": _termination,
}

ROUTES = [NegotiationProtocol]
