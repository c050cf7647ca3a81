"""The regulator's dashboard (监管看板): headline figures, ECharts charts, every indicator table
with its CSV export, the evidence log's state and its last audit, refreshed every 30 seconds
from the JSON API (``/api/v1/supervision/indicators``, signed in by the session cookie)."""

from __future__ import annotations

from typing import Any, get_args

from litestar import Controller, get, post
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Template

from shuchang.domains.catalog.schemas import Classification
from shuchang.domains.participants import require
from shuchang.domains.participants.schemas import Kind
from shuchang.domains.supervision import audits, indicators
from shuchang.http import platform_of
from shuchang.web.i18n import translate
from shuchang.web.pages import Req, check_csrf, flash, language_of, redirect, render, viewer

Form = URLEncodedBody[dict[str, Any]]
REFRESH_SECONDS = 30
CODES: dict[str, dict[str, str]] = {
    "participants": {"kind": "kind.", "status": "status."},
    "resources": {"status": "status.", "classification": "class.", "industry": "industry."},
    "products": {
        "status": "pstatus.",
        "kind": "pkind.",
        "classification": "class.",
        "industry": "industry.",
    },
    "agreements": {"status": "agstatus."},
    "transfers": {"role": "role.", "state": "tstate."},
}
"""Which cells hold codes the console's catalogue names (a prefix per table and column)."""


class SupervisionPages(Controller):
    path = "/supervision"

    @get("/", sync_to_thread=True)
    def dashboard(self, request: Req) -> Template:
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            due = indicators.authorise(s, user.actor)
        if due:
            indicators.fresh(platform)
        with platform.unit(write=False) as s:
            board = indicators.dashboard(s, user.actor, platform.log_signer)
        language = language_of(request)
        labels = {
            **{k: translate(language, f"kind.{k}") for k in get_args(Kind)},
            **{c: translate(language, f"class.{c}") for c in get_args(Classification)},
        }
        return render(
            request,
            "supervision/dashboard.html",
            user=user,
            board=board,
            refresh=REFRESH_SECONDS,
            labels=labels,
            codes=CODES,
        )

    @post("/audit", sync_to_thread=True, status_code=303)
    def audit(self, request: Req, data: Form) -> Redirect:
        """Audit the evidence log now (operator or regulator); the result shows on the board."""
        check_csrf(request, data)
        platform = platform_of(request)
        with platform.unit() as s:
            user = viewer(s, request, allow_inactive=False)
            require(user.actor, "operator", "regulator")
            audits.run(s, user.actor, platform.log_signer)
        flash(
            request, "ok", translate("zh-CN", "sup.audited_ok"), translate("en", "sup.audited_ok")
        )
        return redirect("/console/supervision")
