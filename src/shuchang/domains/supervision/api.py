"""HTTP routes of supervision (监管): indicators as JSON and CSV, evidence audits, and the
Prometheus endpoint ``/metrics``."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

from shuchang.db import utcnow
from shuchang.domains.participants import Actor
from shuchang.domains.supervision import audits, export, indicators, metrics
from shuchang.domains.supervision.schemas import AuditOut, Dashboard, Table
from shuchang.http import actor_of, platform_of

Req = Request[Any, Any, Any]


def csv_response(table: Table, stamp: str) -> Response[bytes]:
    return Response(
        content=export.to_csv(table),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename(table, stamp)}"',
            "Cache-Control": "no-store",
        },
    )


def _admitted(request: Req) -> Actor:
    """The caller, if operator or regulator; closed days are rolled up before reading."""
    platform = platform_of(request)
    with platform.unit(write=False) as s:
        actor = actor_of(s, request)
        due = indicators.authorise(s, actor)
    if due:
        indicators.fresh(platform)
    return actor


class SupervisionController(Controller):
    path = "/api/v1/supervision"
    tags = ["supervision"]

    @get("/indicators", sync_to_thread=True, summary="Every indicator (operator, regulator)")
    def indicators(self, request: Req) -> Dashboard:
        platform = platform_of(request)
        actor = _admitted(request)
        with platform.unit(write=False) as s:
            return indicators.dashboard(s, actor, platform.log_signer)

    @get("/indicators/{name:str}", sync_to_thread=True, summary="One indicator table")
    def indicator(self, request: Req, name: FromPath[str]) -> Table:
        platform = platform_of(request)
        actor = _admitted(request)
        with platform.unit(write=False) as s:
            return indicators.table(s, actor, platform.log_signer, name)

    @get("/indicators/{name:str}/csv", sync_to_thread=True, summary="One indicator as CSV")
    def indicator_csv(self, request: Req, name: FromPath[str]) -> Response[bytes]:
        """UTF-8 with a byte-order mark, so that Excel shows the Chinese text."""
        platform = platform_of(request)
        actor = _admitted(request)
        with platform.unit(write=False) as s:
            table = indicators.table(s, actor, platform.log_signer, name)
        return csv_response(table, f"{utcnow():%Y%m%d}")

    @post("/audits", status_code=201, sync_to_thread=True, summary="Audit the evidence log now")
    def audit(self, request: Req) -> AuditOut:
        platform = platform_of(request)
        with platform.unit() as s:
            return audits.run(s, actor_of(s, request), platform.log_signer)

    @get("/audits", sync_to_thread=True, summary="Past audits, newest first")
    def audit_history(self, request: Req) -> list[AuditOut]:
        with platform_of(request).unit(write=False) as s:
            return audits.history(s, actor_of(s, request))


@get("/metrics", sync_to_thread=True, include_in_schema=False)
def prometheus(request: Req) -> Response[bytes]:
    """Prometheus text exposition (token or loopback only; see supervision.metrics)."""
    platform = platform_of(request)
    metrics.admit(
        platform.settings.metrics_token, request.headers.get("authorization"), request.client
    )
    return Response(content=metrics.exposition(platform), media_type=metrics.CONTENT_TYPE)


ROUTES: list[ControllerRouterHandler] = [SupervisionController, prometheus]
