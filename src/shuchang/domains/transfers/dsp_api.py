"""Dataspace Protocol 2025-1 transfer process endpoints (HTTPS binding), both sides.

Provider side: ``POST /dsp/transfers/request``, ``GET /dsp/transfers/{providerPid}``,
``POST /dsp/transfers/{providerPid}/start|completion|suspension|termination`` and Shuchang's
``POST /dsp/transfers/{providerPid}/token`` (a new pull token). Consumer side (the callback
address is ``<base>/dsp``): ``POST /dsp/transfers/{consumerPid}/start|completion|suspension|
termination``. A pid names one side's process, so one set of routes serves both. Every request
carries an RFC 9421 signature by a key registered here; a replayed nonce is refused. Errors are
``TransferError`` messages, and an error changes nothing (not even the nonce is spent).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, RawBody
from sqlalchemy.orm import Session

from shuchang.domains.contracts import (
    Connector,
    Sender,
    SignatureError,
    authenticate,
    load_connector,
)
from shuchang.domains.transfers import consumer, messages, process, provider, steps
from shuchang.domains.transfers.models import TransferProcess
from shuchang.domains.transfers.process import Outbound, TransferProblem
from shuchang.domains.transfers.service import deliver
from shuchang.errors import ShuchangError
from shuchang.http import platform_of
from shuchang.platform import Platform

Req = Request[Any, Any, Any]
JSON_LD = "application/json"
Work = Callable[[Session, Sender, Connector, provider.Plane], tuple[Any, Outbound | None]]
VERBS = {
    "start": "TransferStartMessage",
    "completion": "TransferCompletionMessage",
    "suspension": "TransferSuspensionMessage",
    "termination": "TransferTerminationMessage",
    "token": messages.TOKEN_REQUEST,
}


def _answer(problem: TransferProblem) -> Response[Any]:
    return Response(problem.message(), status_code=problem.http_status, media_type=JSON_LD)


def _handle(request: Req, body: bytes, work: Work, status: int = 200) -> Response[Any]:
    """Authenticate, run ``work`` in one transaction, answer, then send what it decided."""
    platform: Platform = platform_of(request)
    try:
        with platform.unit() as s:
            connector = load_connector(s, platform.settings)
            try:
                sender = authenticate(s, request, body)
            except SignatureError as exc:
                raise TransferProblem(exc.status, exc.code, exc.en, exc.zh) from exc
            content, outbound = work(s, sender, connector, provider.Plane.of(platform.settings))
    except TransferProblem as problem:
        return _answer(problem)
    except messages.MessageInvalid as exc:
        return _answer(TransferProblem(400, "dsp.message_invalid", exc.en, exc.zh))
    except ShuchangError as exc:  # the connector is off or misconfigured
        return _answer(TransferProblem(exc.http_status, exc.code, exc.message_en, exc.message_zh))
    task = (
        BackgroundTask(deliver, platform.unit, platform.transport, connector, outbound)
        if outbound
        else None
    )
    return Response(content, status_code=status, media_type=JSON_LD, background=task)


def _wrong_side(t: TransferProcess, kind: str) -> TransferProblem:
    return TransferProblem(
        400, "dsp.wrong_side", f"{kind} is not sent to the {t.role}", f"{kind} 不应发给{t.role}", t
    )


def _dispatch(
    s: Session,
    sender: Sender,
    msg: dict[str, Any],
    pid: str,
    c: Connector,
    *,
    plane: provider.Plane,
) -> tuple[Any, Outbound | None]:
    kind = msg["@type"]
    t = process.find_by_pid(s, pid)
    if kind == messages.TOKEN_REQUEST:
        if t.role != "provider":
            raise _wrong_side(t, kind)
        return provider.refresh(s, sender, msg, t, c, plane=plane), None
    if kind == "TransferStartMessage":
        if t.role == "provider":
            return {}, provider.on_resume(s, sender, msg, t, c, plane=plane)
        consumer.on_start(s, sender, msg, t, c)
        return {}, None
    steps.received(s, sender, msg, t)
    return {}, None


class TransferProtocol(Controller):
    path = "/dsp/transfers"
    tags = ["dsp"]
    include_in_schema = True

    @post("/request", sync_to_thread=True)
    def request_transfer(self, request: Req, body: RawBody) -> Response[Any]:
        """TransferRequestMessage under a finalized agreement (provider side)."""

        def work(
            s: Session, sender: Sender, c: Connector, plane: provider.Plane
        ) -> tuple[Any, Outbound | None]:
            msg = messages.parse(body, "TransferRequestMessage")
            t, outbound = provider.on_request(s, sender, msg, c, plane)
            return messages.process(str(t.provider_pid), t.consumer_pid, "REQUESTED"), outbound

        return _handle(request, body, work, status=201)

    @get("/{pid:str}", sync_to_thread=True)
    def transfer_state(self, request: Req, pid: FromPath[str]) -> Response[Any]:
        """The process's state, for its parties only (a signed GET with an empty body)."""

        def work(
            s: Session, sender: Sender, c: Connector, plane: provider.Plane
        ) -> tuple[Any, Outbound | None]:
            t = process.find_by_pid(s, pid)
            if sender.participant_id != t.counterparty_id:
                raise TransferProblem(
                    404, "dsp.transfer_not_found", "No such transfer process", "传输过程不存在"
                )
            return messages.process(str(t.provider_pid or ""), t.consumer_pid, t.state), None

        return _handle(request, b"", work)

    @post("/{pid:str}/{verb:str}", sync_to_thread=True)
    def message(
        self, request: Req, pid: FromPath[str], verb: FromPath[str], body: RawBody
    ) -> Response[Any]:
        """Every later message, to either side; the verb names the message kind."""
        kind = VERBS.get(verb)
        if kind is None:
            return _answer(
                TransferProblem(
                    404, "dsp.unknown_endpoint", "No such DSP endpoint", "没有该协议端点"
                )
            )

        def work(
            s: Session, sender: Sender, c: Connector, plane: provider.Plane
        ) -> tuple[Any, Outbound | None]:
            return _dispatch(s, sender, messages.parse(body, kind), pid, c, plane=plane)

        return _handle(request, body, work)


ROUTES = [TransferProtocol]
