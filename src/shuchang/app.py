"""The composition root: the only place where settings, storage, routes and pages meet."""

from __future__ import annotations

import gc
from typing import Any

from litestar import Litestar, Request, get
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from sqlalchemy import text

from shuchang import __version__
from shuchang.domains.assets.api import ROUTES as ASSET_ROUTES
from shuchang.domains.catalog.api import ROUTES as CATALOG_ROUTES
from shuchang.domains.catalog.dsp_api import ROUTES as DSP_CATALOG_ROUTES
from shuchang.domains.compliance.api import ROUTES as COMPLIANCE_ROUTES
from shuchang.domains.compute.api import ROUTES as COMPUTE_ROUTES
from shuchang.domains.compute.elements_api import ROUTES as ELEMENT_ROUTES
from shuchang.domains.compute.psi_api import ROUTES as PSI_ROUTES
from shuchang.domains.compute.psi_dsp import ROUTES as PSI_PROTOCOL_ROUTES
from shuchang.domains.contracts.api import ROUTES as CONTRACT_ROUTES
from shuchang.domains.contracts.dsp_api import ROUTES as NEGOTIATION_ROUTES
from shuchang.domains.dataplane.api import ROUTES as DATAPLANE_ROUTES
from shuchang.domains.evidence.api import ROUTES as EVIDENCE_ROUTES
from shuchang.domains.evidence.logview import witnesses
from shuchang.domains.evidence.sequencer import Sequencer
from shuchang.domains.participants.api import ROUTES as PARTICIPANT_ROUTES
from shuchang.domains.settlement.api import ROUTES as SETTLEMENT_ROUTES
from shuchang.domains.supervision.api import ROUTES as SUPERVISION_ROUTES
from shuchang.domains.supervision.metrics import count_requests
from shuchang.domains.transfers.api import ROUTES as TRANSFER_ROUTES
from shuchang.domains.transfers.dsp_api import ROUTES as TRANSFER_PROTOCOL_ROUTES
from shuchang.http import handle_exception, platform_of, refuse_nul
from shuchang.platform import Platform
from shuchang.settings import Settings
from shuchang.web import console


@get("/healthz", sync_to_thread=True, tags=["system"], include_in_schema=True)
def healthz(request: Request[Any, Any, Any]) -> dict[str, str]:
    """Liveness and database reachability."""
    with platform_of(request).unit(write=False) as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok", "version": __version__}


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> Litestar:
    """Build the ASGI app for ``settings`` (read from the environment when omitted)."""
    settings = settings or Settings.from_env()
    witnesses(
        settings.witness_keys
    )  # a malformed SHUCHANG_WITNESS_KEYS fails here, not per request
    platform = platform or Platform.build(settings)
    sequencer = Sequencer(platform) if settings.sequencer else None
    app = Litestar(
        route_handlers=[
            healthz,
            *PARTICIPANT_ROUTES,
            *CATALOG_ROUTES,
            *DSP_CATALOG_ROUTES,
            *CONTRACT_ROUTES,
            *NEGOTIATION_ROUTES,
            *TRANSFER_ROUTES,
            *TRANSFER_PROTOCOL_ROUTES,
            *DATAPLANE_ROUTES,
            *COMPUTE_ROUTES,
            *EVIDENCE_ROUTES,
            *ASSET_ROUTES,
            *COMPLIANCE_ROUTES,
            *SUPERVISION_ROUTES,
            *SETTLEMENT_ROUTES,
            *ELEMENT_ROUTES,
            *PSI_ROUTES,
            *PSI_PROTOCOL_ROUTES,
            *console.ROUTES,
        ],
        exception_handlers={Exception: handle_exception},
        before_request=refuse_nul,
        middleware=[count_requests, console.session_middleware(settings)],
        template_config=console.template_config(),
        openapi_config=OpenAPIConfig(
            title="Shuchang 数场 API",
            version=__version__,
            description="Trusted data space (可信数据空间). Errors are RFC 9457 problems.",
            path="/docs",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        ),
        on_startup=[
            platform.limit_threads,
            *([sequencer.start] if sequencer else []),
        ],
        on_shutdown=[*([sequencer.stop] if sequencer else []), platform.engine.dispose],
        debug=False,
    )
    app.state.platform = platform
    return app


def serve_app() -> Litestar:
    """The app a ``shuchang serve`` worker runs: :func:`create_app`, then ``gc.freeze()``.

    Everything alive once the app is built (modules, routes, the mapper registry, compiled
    policies) lives as long as the process; freezing it keeps the collector's full passes
    from walking it again every few thousand allocations (a quarter of a bulk import's CPU).
    """
    app = create_app()
    gc.collect()
    gc.freeze()
    return app
