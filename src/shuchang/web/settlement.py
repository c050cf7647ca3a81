"""Settlement pages (交易与清结算): monthly transaction value and batches for oversight,
orders and invoices for each participant, a batch with its statements and transfers,
reconciliation, and the filings and vouchers to download.

Every action goes through the settlement domain's functions, as the API does
(:mod:`shuchang.domains.settlement.api`); a refusal is a flash message and changes nothing.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from shuchang.db import utcnow
from shuchang.domains.settlement import batches, exports, reconciliation, views
from shuchang.domains.settlement.rail import rail_for
from shuchang.errors import NotFound, ShuchangError
from shuchang.http import platform_of
from shuchang.web.evidence import download
from shuchang.web.forms import text
from shuchang.web.i18n import translate
from shuchang.web.pages import Req, check_csrf, flash, flash_error, redirect, render, viewer
from shuchang.web.settlement_views import batch_view, order_list, overview, record_list

Form = URLEncodedBody[dict[str, Any]]
PeriodFilter = Annotated[str | None, QueryParameter(name="period", pattern=r"^\d{4}-\d{2}$")]
HOME = "/console/settlement"


def _say(request: Req, key: str, *, status: str = "", **values: object) -> None:
    """A flash message in both languages (``status``: a message key said in each)."""
    zh = translate("zh-CN", key, status=translate("zh-CN", status), **values)
    flash(request, "ok", zh, translate("en", key, status=translate("en", status), **values))


class SettlementPages(Controller):
    path = "/settlement"

    @get("/", sync_to_thread=True)
    def overview_page(self, request: Req) -> Template:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            found = overview(s, user, utcnow())
        return render(
            request,
            "settlement/overview.html",
            user=user,
            view=found,
            chart=json.dumps(found.chart()),
        )

    @post("/run", sync_to_thread=True, status_code=303)
    def run(self, request: Req, data: Form) -> Redirect:
        """The operator clears and pays a month (the same call as POST …/periods/{p}/run)."""
        check_csrf(request, data)
        period = text(data, "period")
        platform = platform_of(request)
        try:
            with platform.unit(write=False) as s:
                user = viewer(s, request, allow_inactive=False)
            result = batches.run(platform, user.actor, period)
        except ShuchangError as exc:
            flash_error(request, exc)
            return redirect(HOME)
        _say(
            request,
            "settlement.run_ok",
            period=result.batch.period,
            status=f"bstatus.{result.batch.status}",
        )
        return redirect(f"{HOME}/batches/{result.batch.period}")

    @get("/orders", sync_to_thread=True)
    def orders_page(self, request: Req) -> Template:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            found = order_list(s, user)
        return render(request, "settlement/orders.html", user=user, view=found)

    @get("/batches/{period:str}", sync_to_thread=True)
    def batch_page(self, request: Req, period: FromPath[str]) -> Template:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            found = batch_view(s, user, period)
        return render(request, "settlement/batch.html", user=user, view=found)

    @post("/batches/{period:str}/pay", sync_to_thread=True, status_code=303)
    def pay(self, request: Req, period: FromPath[str], data: Form) -> Redirect:
        check_csrf(request, data)
        platform = platform_of(request)
        try:
            with platform.unit(write=False) as s:
                user = viewer(s, request, allow_inactive=False)
            result = batches.pay(platform, user.actor, period)
        except ShuchangError as exc:
            flash_error(request, exc)
            return redirect(f"{HOME}/batches/{period}")
        _say(request, "settlement.pay_ok", n=len(result.transfers))
        return redirect(f"{HOME}/batches/{period}")

    @post("/batches/{period:str}/reconcile", sync_to_thread=True, status_code=303)
    def reconcile(self, request: Req, period: FromPath[str], data: Form) -> Redirect:
        check_csrf(request, data)
        platform = platform_of(request)
        rail = rail_for(platform.settings.settlement_rail, platform.unit)
        try:
            with platform.unit() as s:
                user = viewer(s, request, allow_inactive=False)
                report = reconciliation.reconcile(s, user.actor, period, rail)
        except ShuchangError as exc:
            flash_error(request, exc)
            return redirect(f"{HOME}/batches/{period}")
        key = "settlement.reconciled_ok" if report.ok else "settlement.reconciled_bad"
        _say(request, key, n=report.errors)
        return redirect(f"{HOME}/batches/{period}/reconciliation")

    @get("/batches/{period:str}/reconciliation", sync_to_thread=True)
    def reconciliation_page(self, request: Req, period: FromPath[str]) -> Template:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            report = reconciliation.latest(s, user.actor, period)
        return render(request, "settlement/reconciliation.html", user=user, report=report)

    @get("/batches/{period:str}/statements/{participant_id:uuid}/csv", sync_to_thread=True)
    def statement_csv(
        self, request: Req, period: FromPath[str], participant_id: FromPath[uuid.UUID]
    ) -> Response[bytes]:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            found = batches.statements(s, user.actor, period, participant_id)
        if not found or found[0].participant_id != participant_id:
            raise NotFound("No statement", "没有该结算单", code="settlement.statement_not_found")
        body = exports.statement_csv(found[0]).encode("utf-8-sig")  # the BOM: Excel reads UTF-8
        return download(body, f"statement-{period}-{participant_id}.csv", "text/csv; charset=utf-8")

    @get("/records", sync_to_thread=True)
    def records_page(self, request: Req, period: PeriodFilter = None) -> Template:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            found = record_list(s, user, period)
        return render(
            request, "settlement/records.html", user=user, records=found, period=period or ""
        )

    @get("/records/{record_id:uuid}/download", sync_to_thread=True)
    def record_file(self, request: Req, record_id: FromPath[uuid.UUID]) -> Response[bytes]:
        """The signed document, with its evidence leaf and receipt once in a checkpoint."""
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            found = views.get_record(s, user.actor, record_id)
        body = json.dumps(found.document, ensure_ascii=False, indent=2).encode() + b"\n"
        return download(body, f"{found.kind}-{found.period}-{found.id}.json", "application/json")
