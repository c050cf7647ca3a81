"""Management routes of the transfers domain (the console, integrators and the CLI's peers)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, JSONBody, QueryParameter

from shuchang.domains.transfers import service, views
from shuchang.domains.transfers.process import Outbound
from shuchang.domains.transfers.schemas import Reason, StartTransfer, TransferOut
from shuchang.http import actor_of, platform_of
from shuchang.platform import Platform

Req = Request[Any, Any, Any]


def _respond(
    platform: Platform,
    out: TransferOut,
    outbound: Outbound | None,
    connector: Any,
    status: int,
) -> Response[TransferOut]:
    task = (
        BackgroundTask(service.deliver, platform.unit, platform.transport, connector, outbound)
        if outbound
        else None
    )
    return Response(out, status_code=status, background=task)


def _act(
    request: Req, transfer_id: uuid.UUID, action: service.Action, reason: str = ""
) -> Response[TransferOut]:
    platform = platform_of(request)
    with platform.unit() as s:
        actor = actor_of(s, request)
        t, outbound, connector = service.act(
            s, platform.settings, actor, transfer_id, action, reason=reason
        )
        out = views.transfer_out(s, actor, t)
    return _respond(platform, out, outbound, connector, 200)


class TransferController(Controller):
    path = "/api/v1/transfers"
    tags = ["transfers"]

    @post("/", sync_to_thread=True, summary="Start a transfer under a finalized agreement")
    def start(self, request: Req, data: JSONBody[StartTransfer]) -> Response[TransferOut]:
        """The consumer's connector sends a TransferRequestMessage to the provider's; for a
        pull transfer the endpoint and token arrive with the provider's start."""
        platform = platform_of(request)
        with platform.unit() as s:
            actor = actor_of(s, request)
            outbound, connector = service.start_transfer(s, platform.settings, actor, data)
            out = views.transfer_out(s, actor, views.load(s, actor, outbound.transfer_id))
        return _respond(platform, out, outbound, connector, 201)

    @get("/", sync_to_thread=True)
    def list_(
        self,
        request: Req,
        in_state: Annotated[str | None, QueryParameter(name="state", max_length=16)] = None,
        agreement_id: Annotated[uuid.UUID | None, QueryParameter(name="agreement_id")] = None,
    ) -> list[TransferOut]:
        with platform_of(request).unit(write=False) as s:
            actor = actor_of(s, request)
            return views.list_transfers(s, actor, state=in_state, agreement_id=agreement_id)

    @get("/{transfer_id:uuid}", sync_to_thread=True)
    def detail(self, request: Req, transfer_id: FromPath[uuid.UUID]) -> TransferOut:
        with platform_of(request).unit(write=False) as s:
            actor = actor_of(s, request)
            return views.transfer_out(s, actor, views.load(s, actor, transfer_id))

    @post("/{transfer_id:uuid}/suspend", sync_to_thread=True, status_code=200)
    def suspend(
        self, request: Req, transfer_id: FromPath[uuid.UUID], data: JSONBody[Reason]
    ) -> Response[TransferOut]:
        return _act(request, transfer_id, "suspend", data.reason)

    @post("/{transfer_id:uuid}/resume", sync_to_thread=True, status_code=200)
    def resume(self, request: Req, transfer_id: FromPath[uuid.UUID]) -> Response[TransferOut]:
        """Provider: restart (a new token goes out). Consumer: ask the provider to restart."""
        return _act(request, transfer_id, "resume")

    @post("/{transfer_id:uuid}/complete", sync_to_thread=True, status_code=200)
    def complete(self, request: Req, transfer_id: FromPath[uuid.UUID]) -> Response[TransferOut]:
        return _act(request, transfer_id, "complete")

    @post("/{transfer_id:uuid}/terminate", sync_to_thread=True, status_code=200)
    def terminate(
        self, request: Req, transfer_id: FromPath[uuid.UUID], data: JSONBody[Reason]
    ) -> Response[TransferOut]:
        return _act(request, transfer_id, "terminate", data.reason)

    @post("/{transfer_id:uuid}/refresh", sync_to_thread=True, status_code=200)
    def refresh(self, request: Req, transfer_id: FromPath[uuid.UUID]) -> TransferOut:
        """Consumer: fetch a new pull token from the provider now (signed request)."""
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            actor = actor_of(s, request)
        service.refresh_token(
            platform.unit, platform.transport, platform.settings, actor, transfer_id
        )
        with platform.unit(write=False) as s:
            return views.transfer_out(s, actor, views.load(s, actor, transfer_id))


ROUTES = [TransferController]
