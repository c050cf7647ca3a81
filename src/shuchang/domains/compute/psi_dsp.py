"""PSI endpoints between connectors, beside the Dataspace Protocol's (same signatures).

Provider side: ``POST /dsp/psi/request``; either side: ``POST /dsp/psi/{pid}/client-request|
response|result|termination`` (a pid names one side's session, so one set of routes serves
both). Every request carries an RFC 9421 signature by a key registered here and a fresh
nonce; errors are ``shuchang:PsiError`` and change nothing (not even the nonce is spent).
Heavy work (curve operations over the sets) runs after the answer, then the next message is
sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, Response, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, RawBody
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains.compute import psi_consumer, psi_provider
from shuchang.domains.compute import psi_messages as m
from shuchang.domains.compute.psi import (
    PsiProblem,
    Wire,
    find_by_pid,
    from_counterparty,
    terminate,
)
from shuchang.domains.contracts import Sender, SignatureError, authenticate, load_connector
from shuchang.errors import ShuchangError
from shuchang.http import platform_of

Req = Request[Any, Any, Any]
JSON = "application/json"
Work = Callable[[], None]
Step = Callable[[Session, Sender, Wire], tuple[Any, Work | None]]


def _answer(problem: PsiProblem) -> Response[Any]:
    return Response(problem.message(), status_code=problem.http_status, media_type=JSON)


def _handle(request: Req, body: bytes, step: Step, status: int = 200) -> Response[Any]:
    platform = platform_of(request)
    try:
        with platform.unit() as s:
            connector = load_connector(s, platform.settings)
            wire = Wire(platform.unit, platform.transport, connector, platform.settings)
            try:
                sender = authenticate(s, request, body)
            except SignatureError as exc:
                raise PsiProblem(exc.status, exc.code, exc.en, exc.zh) from exc
            content, work = step(s, sender, wire)
    except PsiProblem as problem:
        return _answer(problem)
    except m.MessageInvalid as exc:
        return _answer(PsiProblem(400, "psi.message_invalid", exc.en, exc.zh))
    except ShuchangError as exc:  # the connector is off or misconfigured
        return _answer(PsiProblem(exc.http_status, exc.code, exc.message_en, exc.message_zh))
    task = BackgroundTask(work) if work else None
    return Response(content, status_code=status, media_type=JSON, background=task)


def _dispatch(s: Session, sender: Sender, msg: dict[str, Any], pid: str, wire: Wire) -> Work | None:
    kind, row = msg["@type"], find_by_pid(s, pid)
    provider = row.role == "provider"
    if kind == m.RESPONSE and provider:
        return psi_provider.on_response(s, sender, msg, row, wire)
    if kind == m.RESPONSE:
        return psi_consumer.on_response(s, sender, msg, row, wire)
    if kind == m.RESULT:
        if provider:
            psi_provider.on_result(s, sender, msg, row)
        else:
            psi_consumer.on_result(s, sender, msg, row)
        return None
    if kind == m.CLIENT_REQUEST:
        if provider:
            raise PsiProblem(
                400,
                "psi.wrong_side",
                "The provider sends the client request",
                "提供方不接收该请求",
                row,
            )
        return psi_consumer.on_client_request(s, sender, msg, row, wire)
    from_counterparty(row, sender, msg, utcnow())
    reason = msg.get("reason")
    text = str(reason[0])[:300] if isinstance(reason, list) and reason else str(msg["code"])
    terminate(s, row, str(msg["code"]), text, direction="in")
    return None


class PsiProtocol(Controller):
    path = "/dsp/psi"
    tags = ["dsp"]
    include_in_schema = True

    @post("/request", sync_to_thread=True)
    def request_session(self, request: Req, body: RawBody) -> Response[Any]:
        """PsiRequestMessage under an agreement (provider side)."""

        def step(s: Session, sender: Sender, wire: Wire) -> tuple[Any, Work | None]:
            row, work = psi_provider.on_request(s, sender, m.parse(body, m.REQUEST), wire)
            answer = m.session(str(row.provider_pid), row.consumer_pid, row.state)
            if row.link_address:
                answer["linkAddress"] = row.link_address
            return answer, work

        return _handle(request, body, step, status=201)

    @post("/{pid:str}/{verb:str}", sync_to_thread=True)
    def message(
        self, request: Req, pid: FromPath[str], verb: FromPath[str], body: RawBody
    ) -> Response[Any]:
        """Every later message, to either side; the verb names the message kind."""
        kind = m.VERBS.get(verb)
        if kind is None:
            return _answer(
                PsiProblem(404, "psi.unknown_endpoint", "No such PSI endpoint", "没有该求交端点")
            )

        def step(s: Session, sender: Sender, wire: Wire) -> tuple[Any, Work | None]:
            return {}, _dispatch(s, sender, m.parse(body, kind), pid, wire)

        return _handle(request, body, step)


ROUTES = [PsiProtocol]
