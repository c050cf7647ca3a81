"""The web console (控制台): server-rendered pages, zh-CN first, login by API key.

``app.py`` mounts :data:`ROUTES`, :func:`session_middleware` and :func:`template_config`.
Pages live in :mod:`.home`, :mod:`.participants`, the catalog's :mod:`.catalog`,
:mod:`.catalog_resources` and :mod:`.catalog_products`, the evidence log's :mod:`.evidence` and
the contracts' :mod:`.contracts`, the transfers' :mod:`.transfers`; their shared machinery
(language, CSRF token, flash message, the signed-in viewer) in :mod:`.pages`; strings in
:mod:`.i18n`; navigation in :mod:`.nav`. Static files (CSS, vendored htmx) are served from
``/console/static``. Settlement's pages are in :mod:`.settlement`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from litestar import Router
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler, Middleware

from shuchang.errors import ShuchangError
from shuchang.settings import Settings
from shuchang.web.assets import AssetPages
from shuchang.web.catalog import CatalogPages, ReviewPages
from shuchang.web.catalog_products import ProductPages
from shuchang.web.catalog_resources import ResourcePages
from shuchang.web.compliance import CompliancePages
from shuchang.web.compute import ComputePages
from shuchang.web.compute_elements import ElementPages
from shuchang.web.compute_psi import PsiPages
from shuchang.web.contracts import AgreementPages, NegotiationPages
from shuchang.web.evidence import EvidencePages
from shuchang.web.home import HomePages
from shuchang.web.offers import yuan
from shuchang.web.pages import LoginRequired, error_page, remember_language, to_login
from shuchang.web.participants import ParticipantPages
from shuchang.web.settlement import SettlementPages
from shuchang.web.supervision import SupervisionPages
from shuchang.web.transfers import TransferPages
from shuchang.web.usage import UsagePages

HERE = Path(__file__).parent
CHINA_TIME = timezone(timedelta(hours=8), "Asia/Shanghai")
"""Times are stored UTC and shown in China Standard Time (no daylight saving since 1991)."""


def session_middleware(settings: Settings) -> Middleware:
    """Encrypted (AES-GCM) cookie session holding the console user's API key."""
    seed = settings.secret_key or f"shuchang-console:{settings.database_url}"
    secret = hashlib.sha256(seed.encode()).digest()
    return CookieBackendConfig(
        secret=secret, key="shuchang_console", httponly=True, samesite="lax", max_age=8 * 3600
    ).middleware


def local_time(value: datetime | None) -> str:
    """``2026-03-01 09:30:00`` in Asia/Shanghai (naive values are taken as UTC)."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S")


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _register_filters(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters["local_time"] = local_time
    engine.engine.filters["compact_json"] = compact_json
    engine.engine.filters["yuan"] = yuan
    engine.engine.trim_blocks = True
    engine.engine.lstrip_blocks = True


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(
        directory=HERE / "templates",
        engine=JinjaTemplateEngine,
        engine_callback=_register_filters,
    )


PAGES = Router(
    path="/console",
    route_handlers=[
        HomePages,
        ParticipantPages,
        CatalogPages,
        ResourcePages,
        ProductPages,
        ReviewPages,
        EvidencePages,
        NegotiationPages,
        AgreementPages,
        TransferPages,
        AssetPages,
        CompliancePages,
        SupervisionPages,
        SettlementPages,
        ComputePages,
        ElementPages,
        PsiPages,
        UsagePages,
    ],
    before_request=remember_language,
    exception_handlers={LoginRequired: to_login, ShuchangError: error_page},
    include_in_schema=False,
)

STATIC = create_static_files_router(
    path="/console/static",
    directories=[HERE / "static"],
    name="console-static",
    include_in_schema=False,
)

ROUTES: list[ControllerRouterHandler] = [PAGES, STATIC]
