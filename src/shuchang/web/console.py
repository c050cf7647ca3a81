"""The web console (控制台): server-rendered pages, zh-CN first, login by API key."""

from __future__ import annotations

import hashlib
from pathlib import Path

from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.template.config import TemplateConfig
from litestar.types import Middleware

from shuchang.settings import Settings

HERE = Path(__file__).parent


def session_middleware(settings: Settings) -> Middleware:
    """Encrypted (AES-GCM) cookie session holding the console user's API key."""
    seed = settings.secret_key or f"shuchang-console:{settings.database_url}"
    secret = hashlib.sha256(seed.encode()).digest()
    return CookieBackendConfig(
        secret=secret, key="shuchang_console", httponly=True, samesite="lax", max_age=8 * 3600
    ).middleware


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine)


ROUTES: list[object] = []
