"""Management API of PSI sessions (the consumer starts one; both sides read them)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, JSONBody

from shuchang.domains.compute import psi_consumer, psi_data, psi_views
from shuchang.domains.compute.psi import Wire
from shuchang.domains.compute.psi_schemas import PsiSessionOut, PsiStart
from shuchang.domains.contracts import load_connector
from shuchang.http import actor_of, platform_of
from shuchang.platform import Platform

Req = Request[Any, Any, Any]


def start_session(
    platform: Platform, request: Req, data: PsiStart
) -> tuple[PsiSessionOut, BackgroundTask]:
    """Shared by the API and the console: check, store, and schedule the request."""
    raw = (
        psi_data.parse_upload(data.csv, data.column)
        if data.csv is not None
        else list(data.identifiers)
    )
    with platform.unit() as s:
        actor = actor_of(s, request)
        connector = load_connector(s, platform.settings)
        wire = Wire(platform.unit, platform.transport, connector, platform.settings)
        row, work = psi_consumer.start(
            s,
            actor,
            wire,
            agreement_id=data.agreement_id,
            mode=data.mode,
            normalization=data.normalization,
            identifiers=raw,
            identifier_field=data.identifier_field,
            protocol=data.protocol,
        )
        out = psi_views.to_out(s, row)
    return out, BackgroundTask(work)


class PsiController(Controller):
    path = "/api/v1/psi/sessions"
    tags = ["compute"]

    @post("/", sync_to_thread=True, status_code=201)
    def start(self, request: Req, data: JSONBody[PsiStart]) -> Response[PsiSessionOut]:
        """Start a PSI session as the consumer (identifiers as a list or CSV); it runs in the
        background — poll the session for its state and result."""
        out, task = start_session(platform_of(request), request, data)
        return Response(out, status_code=201, background=task)

    @get("/", sync_to_thread=True)
    def list_sessions(self, request: Req) -> list[PsiSessionOut]:
        with platform_of(request).unit(write=False) as s:
            return psi_views.list_sessions(s, actor_of(s, request))

    @get("/{session_id:uuid}", sync_to_thread=True)
    def detail(self, request: Req, session_id: FromPath[uuid.UUID]) -> PsiSessionOut:
        with platform_of(request).unit(write=False) as s:
            return psi_views.get(s, actor_of(s, request), session_id)

    @get("/{session_id:uuid}/members", sync_to_thread=True)
    def members(self, request: Req, session_id: FromPath[uuid.UUID]) -> list[str]:
        """The intersection (``intersection`` mode, consumer only)."""
        with platform_of(request).unit(write=False) as s:
            return psi_views.members(s, actor_of(s, request), session_id)


ROUTES = [PsiController]
