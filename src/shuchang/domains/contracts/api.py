"""Management routes of the contracts domain (the console and integrators use these)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, JSONBody, QueryParameter

from shuchang.domains.contracts import negotiation, usage, views
from shuchang.domains.contracts.negotiation import DspProblem, Outbound
from shuchang.domains.contracts.schemas import (
    AgreementOut,
    NegotiationOut,
    StartNegotiation,
    Termination,
    UseDecision,
    UseRequest,
)
from shuchang.domains.contracts.service import as_problem, deliver, load_connector, request_offer
from shuchang.errors import PermissionDenied, ValidationFailed
from shuchang.http import actor_of, platform_of
from shuchang.platform import Platform

Req = Request[Any, Any, Any]


def _respond(
    platform: Platform, out: NegotiationOut, outbound: Outbound | None, connector: Any, status: int
) -> Response[NegotiationOut]:
    task = (
        BackgroundTask(deliver, platform.unit, platform.transport, connector, outbound)
        if outbound
        else None
    )
    return Response(out, status_code=status, background=task)


class NegotiationController(Controller):
    path = "/api/v1/contracts/negotiations"
    tags = ["contracts"]

    @post("/", sync_to_thread=True, summary="Request a listed offer from a provider's connector")
    def start(self, request: Req, data: JSONBody[StartNegotiation]) -> Response[NegotiationOut]:
        platform = platform_of(request)
        if not isinstance(data.offer.get("@id"), str) or not data.offer["@id"]:
            raise ValidationFailed(
                "The offer needs its @id from the provider's catalog",
                "要约须带有提供方目录中的 @id",
                code="negotiation.offer_invalid",
                field="offer.@id",
            )
        with platform.unit() as s:
            actor = actor_of(s, request)
            outbound, connector = request_offer(
                s,
                platform.settings,
                actor,
                provider_id=data.provider_id,
                dataset_id=data.dataset_id,
                offer=data.offer,
            )
            out = views.negotiation_out(
                s, views.load_negotiation(s, actor, outbound.negotiation_id)
            )
        return _respond(platform, out, outbound, connector, 201)

    @get("/", sync_to_thread=True)
    def list_(
        self,
        request: Req,
        in_state: Annotated[str | None, QueryParameter(name="state", max_length=16)] = None,
    ) -> list[NegotiationOut]:
        with platform_of(request).unit(write=False) as s:
            return views.list_negotiations(s, actor_of(s, request), in_state)

    @get("/{negotiation_id:uuid}", sync_to_thread=True)
    def detail(self, request: Req, negotiation_id: FromPath[uuid.UUID]) -> NegotiationOut:
        with platform_of(request).unit(write=False) as s:
            return views.negotiation_out(
                s, views.load_negotiation(s, actor_of(s, request), negotiation_id)
            )

    @post("/{negotiation_id:uuid}/approve", sync_to_thread=True, status_code=200)
    def approve(
        self, request: Req, negotiation_id: FromPath[uuid.UUID]
    ) -> Response[NegotiationOut]:
        """Provider-side approval (manual mode): agree and send the signed agreement."""
        platform = platform_of(request)
        with platform.unit() as s:
            actor = actor_of(s, request)
            n = views.load_negotiation(s, actor, negotiation_id)
            connector = load_connector(s, platform.settings)
            if n.role != "provider" or actor.participant_id != n.local_participant_id:
                raise PermissionDenied(
                    "Only the provider approves",
                    "只有提供方可以批准",
                    code="negotiation.not_provider",
                )
            try:
                outbound = negotiation.agree(s, n, connector)
            except DspProblem as exc:
                raise as_problem(exc) from exc
            out = views.negotiation_out(s, n)
        return _respond(platform, out, outbound, connector, 200)

    @post("/{negotiation_id:uuid}/terminate", sync_to_thread=True, status_code=200)
    def terminate(
        self, request: Req, negotiation_id: FromPath[uuid.UUID], data: JSONBody[Termination]
    ) -> Response[NegotiationOut]:
        platform = platform_of(request)
        with platform.unit() as s:
            actor = actor_of(s, request)
            n = views.load_negotiation(s, actor, negotiation_id)
            if actor.participant_id != n.local_participant_id:
                raise PermissionDenied(
                    "Only a party ends a negotiation",
                    "只有当事方可以终止协商",
                    code="negotiation.not_party",
                )
            connector = load_connector(s, platform.settings)
            try:
                outbound = negotiation.terminate(s, n, data.reason)
            except DspProblem as exc:
                raise as_problem(exc) from exc
            out = views.negotiation_out(s, n)
        return _respond(platform, out, outbound, connector, 200)


class AgreementController(Controller):
    path = "/api/v1/contracts/agreements"
    tags = ["contracts"]

    @get("/", sync_to_thread=True)
    def list_(self, request: Req) -> list[AgreementOut]:
        with platform_of(request).unit(write=False) as s:
            return views.list_agreements(s, actor_of(s, request))

    @post(
        "/{agreement_id:uuid}/decide",
        sync_to_thread=True,
        status_code=200,
        summary="Decide one use (使用控制)",
    )
    def decide(
        self, request: Req, agreement_id: FromPath[uuid.UUID], data: JSONBody[UseRequest]
    ) -> UseDecision:
        """Permit or deny a use under the agreement, with the rules that decided; ``consume``
        counts a permitted use (count constraints)."""
        with platform_of(request).unit(write=data.consume) as s:
            return usage.decide_use(s, actor_of(s, request), agreement_id, data)

    @get("/{agreement_id:uuid}", sync_to_thread=True, summary="An agreement with both signatures")
    def detail(self, request: Req, agreement_id: FromPath[uuid.UUID]) -> AgreementOut:
        with platform_of(request).unit(write=False) as s:
            return views.agreement_out(views.load_agreement(s, actor_of(s, request), agreement_id))


ROUTES = [NegotiationController, AgreementController]
