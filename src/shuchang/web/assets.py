"""Data-asset pages (数据资产登记): the register, applying for a listed product, one asset with
its certificate (PDF download), the reviewer's decision, valuations and pledges.

Every action goes through the same domain functions as the API; a refusal is a flash message
and changes nothing.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from shuchang.domains.assets import documents, holdings, service, views
from shuchang.domains.assets.schemas import (
    RIGHTS,
    AssetApplication,
    AssetDecision,
    PledgeIn,
    PledgeRelease,
    ValuationIn,
)
from shuchang.domains.catalog import products
from shuchang.domains.evidence import history
from shuchang.domains.participants import with_role
from shuchang.errors import ShuchangError
from shuchang.http import platform_of
from shuchang.web.catalog_views import provider_names
from shuchang.web.evidence import download
from shuchang.web.forms import choices, text
from shuchang.web.i18n import translate
from shuchang.web.market_forms import convert, fen
from shuchang.web.pages import Req, check_csrf, flash, flash_error, redirect, render, viewer

Form = URLEncodedBody[dict[str, Any]]
STATUSES = ("applied", "returned", "registered", "revoked", "cancelled", "expired", "withdrawn")


def _say(request: Req, key: str) -> None:
    flash(request, "ok", translate("zh-CN", key), translate("en", key))


class AssetPages(Controller):
    path = "/assets"

    @get("/", sync_to_thread=True)
    def register(
        self, request: Req, status: Annotated[str | None, QueryParameter(max_length=16)] = None
    ) -> Template:
        chosen = status if status in STATUSES else None
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            found = views.listing(s, user.actor, status=chosen)
            pledges = holdings.pledges_to(s, user.actor)
            names = provider_names(s, [r.holder_id for r in found])
        return render(
            request,
            "assets/list.html",
            user=user,
            found=found,
            names=names,
            status=chosen or "",
            statuses=STATUSES,
            pledges=pledges,
        )

    @get("/new", sync_to_thread=True)
    def new_form(self, request: Req) -> Template:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            listed = [p for p in products.list_own(s, user.actor) if p.status == "listed"]
        return render(request, "assets/new.html", user=user, listed=listed, rights=RIGHTS)

    @post("/new", sync_to_thread=True, status_code=303)
    def apply(self, request: Req, data: Form) -> Redirect:
        check_csrf(request, data)
        platform = platform_of(request)
        values = {
            "product_id": text(data, "product_id"),
            "rights": choices(data, "rights"),
            "description": text(data, "description"),
            "valid_years": text(data, "valid_years") or 3,
        }
        if text(data, "title"):
            values["title"] = text(data, "title")
        try:
            application = convert(values, AssetApplication)
            with platform.unit() as s:
                user = viewer(s, request, allow_inactive=False)
                applied = service.apply(s, user.actor, application, platform.settings)
        except ShuchangError as exc:
            flash_error(request, exc)
            return redirect("/console/assets/new")
        _say(request, "asset.applied_ok")
        return redirect(f"/console/assets/{applied.id}")

    @get("/{registration_id:uuid}", sync_to_thread=True)
    def detail(self, request: Req, registration_id: FromPath[uuid.UUID]) -> Template:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            asset = views.detail(s, user.actor, registration_id)
            r = asset.registration
            ids = [r.holder_id, *(p.pledgee_id for p in asset.pledges)]
            ids += [v.valuer_id for v in asset.valuations]
            names = provider_names(s, ids)
            product = products.get(s, user.actor, r.product_id, ("operator", "service_firm"))
            trail = history(s, f"asset:{r.id}")
            pledgees = [m for m in with_role(s, "consumer") if m.id != r.holder_id]
        return render(
            request,
            "assets/detail.html",
            user=user,
            asset=asset,
            r=r,
            names=names,
            product=product,
            trail=trail,
            may_review=user.role in service.REVIEWERS,
            is_holder=user.is_self(r.holder_id),
            pledgees=pledgees,
        )

    @post("/{registration_id:uuid}/review", sync_to_thread=True, status_code=303)
    def review(self, request: Req, registration_id: FromPath[uuid.UUID], data: Form) -> Redirect:
        check_csrf(request, data)
        reason = text(data, "reason")
        decision = AssetDecision(
            decision="return" if text(data, "decision") == "return" else "approve",
            reasons=[reason] if reason else [],
        )
        return self._act(
            request,
            registration_id,
            "asset.reviewed_ok",
            lambda s, user, settings: service.review(
                s, user.actor, registration_id, decision, settings
            ),
        )

    @post("/{registration_id:uuid}/valuations", sync_to_thread=True, status_code=303)
    def value(self, request: Req, registration_id: FromPath[uuid.UUID], data: Form) -> Redirect:
        check_csrf(request, data)

        def act(s: Any, user: Any, _settings: Any) -> object:
            body = convert(
                {
                    "method": text(data, "method"),
                    "amount_fen": fen(text(data, "amount"), "amount"),
                    "basis": text(data, "basis"),
                    "valued_on": text(data, "valued_on"),
                },
                ValuationIn,
            )
            return holdings.value(s, user.actor, registration_id, body)

        return self._act(request, registration_id, "asset.valued_ok", act)

    @post("/{registration_id:uuid}/pledges", sync_to_thread=True, status_code=303)
    def pledge(self, request: Req, registration_id: FromPath[uuid.UUID], data: Form) -> Redirect:
        check_csrf(request, data)

        def act(s: Any, user: Any, _settings: Any) -> object:
            body = convert(
                {
                    "pledgee_id": text(data, "pledgee_id"),
                    "amount_fen": fen(text(data, "amount"), "amount"),
                    "starts_on": text(data, "starts_on"),
                    "ends_on": text(data, "ends_on"),
                    "reference": text(data, "reference"),
                },
                PledgeIn,
            )
            return holdings.pledge(s, user.actor, registration_id, body)

        return self._act(request, registration_id, "asset.pledged_ok", act)

    @post("/pledges/{pledge_id:uuid}/release", sync_to_thread=True, status_code=303)
    def release(self, request: Req, pledge_id: FromPath[uuid.UUID], data: Form) -> Redirect:
        check_csrf(request, data)
        back = text(data, "back")
        target = back if back.startswith("/console/assets") else "/console/assets"
        try:
            with platform_of(request).unit() as s:
                user = viewer(s, request, allow_inactive=False)
                holdings.release(
                    s, user.actor, pledge_id, PledgeRelease(reason=text(data, "reason") or None)
                )
        except ShuchangError as exc:
            flash_error(request, exc)
            return redirect(target)
        _say(request, "asset.released_ok")
        return redirect(target)

    @get("/{registration_id:uuid}/certificate.pdf", sync_to_thread=True)
    def certificate_pdf(
        self, request: Req, registration_id: FromPath[uuid.UUID]
    ) -> Response[bytes]:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            name, body = documents.certificate_pdf(s, user.actor, registration_id)
        return download(body, name, "application/pdf")

    @staticmethod
    def _act(request: Req, registration_id: uuid.UUID, ok: str, step: Any) -> Redirect:
        path = f"/console/assets/{registration_id}"
        platform = platform_of(request)
        try:
            with platform.unit() as s:
                user = viewer(s, request, allow_inactive=False)
                step(s, user, platform.settings)
        except ShuchangError as exc:
            flash_error(request, exc)
            return redirect(path)
        _say(request, ok)
        return redirect(path)
