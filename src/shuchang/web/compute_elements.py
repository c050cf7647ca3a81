"""Data-element pages (数据元件): the provider's elements with a definition form, one
element with its runs (digests, k-anonymity report), a run button and a listing form.

Every step goes through the same services as the management API
(:mod:`shuchang.domains.compute.elements_api`); a refusal is shown with its field and
changes nothing.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from shuchang.domains.compute import element_runs, elements
from shuchang.domains.compute.element_schemas import ElementIn, ElementListing
from shuchang.domains.compute.elements_api import RUNNER
from shuchang.errors import ShuchangError, ValidationFailed
from shuchang.http import platform_of, require
from shuchang.web.catalog_views import own_resource_choices
from shuchang.web.forms import text
from shuchang.web.i18n import translate
from shuchang.web.pages import Req, Viewer, check_csrf, flash, flash_error, redirect, render, viewer

Form = URLEncodedBody[dict[str, Any]]
BLANK = {
    "name": "",
    "title": "",
    "resource_id": "",
    "alias": "src",
    "sql": "SELECT * FROM src",
    "steps": "[]",
    "qi": "",
    "k": "5",
    "on_violation": "fail",
}


def _provider(request: Req) -> Viewer:
    with platform_of(request).unit(write=False) as s:
        user = viewer(s, request, allow_inactive=False)
    require(user.actor, "provider")
    return user


def _say(request: Req, key: str) -> None:
    flash(request, "ok", translate("zh-CN", key), translate("en", key))


def parse_definition(form: dict[str, Any]) -> ElementIn:
    """The form's fields as a definition; a problem naming the field when they do not fit."""
    try:
        steps = json.loads(text(form, "steps") or "[]")
    except ValueError as exc:
        raise ValidationFailed(
            "Steps are not JSON",
            "去标识化步骤不是合法的 JSON",
            code="element.steps_json",
            field="steps",
        ) from exc
    body = {
        "name": text(form, "name"),
        "title": text(form, "title"),
        "sources": [{"alias": text(form, "alias"), "resource_id": text(form, "resource_id")}],
        "sql": text(form, "sql"),
        "steps": steps,
        "quasi_identifiers": [q.strip() for q in text(form, "qi").split(",") if q.strip()],
        "k": int(text(form, "k")) if text(form, "k").isdigit() else 0,
        "on_violation": text(form, "on_violation") or "fail",
    }
    try:
        return msgspec.convert(body, ElementIn)
    except msgspec.ValidationError as exc:
        message = str(exc)
        field = message.rsplit("`$.", 1)[-1].rstrip("`") if "`$." in message else None
        raise ValidationFailed(
            message, f"字段不合法：{message}", code="request.invalid_field", field=field
        ) from exc


class ElementPages(Controller):
    path = "/compute/elements"

    def _list(
        self, request: Req, user: Viewer, form: dict[str, Any], error: ShuchangError | None = None
    ) -> Template:
        with platform_of(request).unit(write=False) as s:
            found = elements.list_own(s, user.actor)
            choices = own_resource_choices(s, user)
        return render(
            request,
            "compute/elements.html",
            user=user,
            found=found,
            choices=choices,
            form=form,
            error=error,
            status_code=422 if error else 200,
        )

    @get("/", sync_to_thread=True)
    def list_page(self, request: Req) -> Template:
        return self._list(request, _provider(request), dict(BLANK))

    @post("/", sync_to_thread=True, status_code=200)
    def define(self, request: Req, data: Form) -> Template | Redirect:
        check_csrf(request, data)
        user = _provider(request)
        values = {k: text(data, k) for k in BLANK}
        platform = platform_of(request)
        try:
            element = elements.define(
                platform.unit, platform.settings, user.actor, parse_definition(data), RUNNER
            )
        except ShuchangError as exc:
            return self._list(request, user, values, exc)
        _say(request, "element.defined_ok")
        return redirect(f"/console/compute/elements/{element.id}")

    @get("/{element_id:uuid}", sync_to_thread=True)
    def detail(self, request: Req, element_id: FromPath[uuid.UUID]) -> Template:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            element = elements.get(s, user.actor, element_id)
            runs = element_runs.runs(s, user.actor, element_id)
        return render(request, "compute/element.html", user=user, element=element, runs=runs)

    @post("/{element_id:uuid}/run", sync_to_thread=True, status_code=303)
    def run(self, request: Req, element_id: FromPath[uuid.UUID], data: Form) -> Redirect:
        check_csrf(request, data)
        user = _provider(request)
        platform = platform_of(request)
        try:
            element_runs.run(platform.unit, platform.settings, user.actor, element_id, RUNNER)
        except ShuchangError as exc:
            flash_error(request, exc)
        else:
            _say(request, "element.ran_ok")
        return redirect(f"/console/compute/elements/{element_id}")

    @post("/runs/{run_id:uuid}/listing", sync_to_thread=True, status_code=303)
    def list_run(self, request: Req, run_id: FromPath[uuid.UUID], data: Form) -> Redirect:
        check_csrf(request, data)
        user = _provider(request)
        back = f"/console/compute/elements/{text(data, 'element_id')}"
        fen = int(text(data, "price_fen")) if text(data, "price_fen").isdigit() else 0
        permission: dict[str, Any] = {"action": "use"}
        if text(data, "purpose"):
            permission["constraint"] = [
                {"leftOperand": "purpose", "operator": "eq", "rightOperand": text(data, "purpose")}
            ]
        body = {
            "title": text(data, "title"),
            "description": text(data, "description"),
            "policy": {"@type": "Offer", "permission": [permission]},
            "price": {"model": "per_call", "amount_fen": fen} if fen else {"model": "free"},
            "tags": ["数据元件"],
        }
        try:
            listing = msgspec.convert(body, ElementListing)
            with platform_of(request).unit() as s:
                product = element_runs.list_run(s, user.actor, run_id, listing)
        except msgspec.ValidationError as exc:
            flash(request, "error", f"上架信息不完整：{exc}", f"Incomplete listing: {exc}")
            return redirect(back)
        except ShuchangError as exc:
            flash_error(request, exc)
            return redirect(back)
        _say(request, "element.listed_ok")
        return redirect(f"/console/catalog/products/{product.id}")
