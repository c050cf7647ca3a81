"""Compute pages (隐私计算): the consumer's query page with the remaining budget and answers
that state ε and noise, the provider's job log and compute profile form.

Every action goes through the same domain functions as the API
(:mod:`shuchang.domains.compute.api`); a refusal is a flash message and changes nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from shuchang.domains.compute import jobs, profiles, service, views
from shuchang.domains.compute.schemas import JobIn, ProfileIn
from shuchang.errors import ShuchangError, ValidationFailed
from shuchang.http import platform_of
from shuchang.web.compute_views import agreement_rows, product_rows, profile_text, query_page
from shuchang.web.forms import text
from shuchang.web.i18n import translate
from shuchang.web.pages import Req, check_csrf, flash, flash_error, redirect, render, viewer

Form = URLEncodedBody[dict[str, Any]]


def _job_in(agreement_id: uuid.UUID, data: dict[str, Any]) -> JobIn:
    """The query form: a template with its parameter fields, or SQL; ε optional."""
    template, sql = text(data, "template"), text(data, "sql")
    params: dict[str, str | int] = {}
    prefix = f"param.{template}."
    for key in data:
        raw = text(data, key)
        if key.startswith(prefix) and raw:
            params[key[len(prefix) :]] = int(raw) if raw.lstrip("-").isdigit() else raw
    epsilon_text = text(data, "epsilon")
    try:
        epsilon = float(epsilon_text) if epsilon_text else None
    except ValueError as exc:
        raise ValidationFailed("ε must be a number", "ε 须为数字", field="epsilon") from exc
    use_template = bool(template) and not sql
    return msgspec.convert(
        {
            "agreement_id": str(agreement_id),
            "template": template if use_template else None,
            "sql": None if use_template else (sql or None),
            "params": params if use_template else {},
            "epsilon": epsilon,
        },
        JobIn,
    )


class ComputePages(Controller):
    path = "/compute"

    @get("/", sync_to_thread=True)
    def index(self, request: Req) -> Template:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            return render(
                request,
                "compute/index.html",
                user=user,
                agreements=agreement_rows(s, user),
                products=product_rows(s, user),
                jobs=views.list_jobs(s, user.actor, limit=50),
            )

    @get("/agreements/{agreement_id:uuid}", sync_to_thread=True)
    def query(self, request: Req, agreement_id: FromPath[uuid.UUID]) -> Template:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            page = query_page(s, user, agreement_id)
        return render(request, "compute/query.html", user=user, page=page)

    @post("/agreements/{agreement_id:uuid}", sync_to_thread=True, status_code=303)
    def run(self, request: Req, agreement_id: FromPath[uuid.UUID], data: Form) -> Redirect:
        check_csrf(request, data)
        back = f"/console/compute/agreements/{agreement_id}"
        platform = platform_of(request)
        try:
            with platform.unit(write=False) as s:
                user = viewer(s, request, allow_inactive=False)
            wait = platform.settings.compute_wait_seconds
            out = service.submit(platform, user.actor, _job_in(agreement_id, data), wait=wait)
        except (ShuchangError, msgspec.ValidationError) as exc:
            if isinstance(exc, msgspec.ValidationError):
                exc = ValidationFailed(str(exc), f"查询表单不合法：{exc}")
            flash_error(request, exc)
            return redirect(back)
        return redirect(f"/console/compute/jobs/{out.id}")

    @get("/jobs/{job_id:uuid}", sync_to_thread=True)
    def job(self, request: Req, job_id: FromPath[uuid.UUID]) -> Template:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            out = views.job_out(jobs.load_job(s, user.actor, job_id), user.actor)
        return render(request, "compute/job.html", user=user, job=out)

    @post("/jobs/{job_id:uuid}/cancel", sync_to_thread=True, status_code=303)
    def cancel(self, request: Req, job_id: FromPath[uuid.UUID], data: Form) -> Redirect:
        check_csrf(request, data)
        platform = platform_of(request)
        try:
            with platform.unit(write=False) as s:
                user = viewer(s, request, allow_inactive=False)
            service.cancel(platform, user.actor, job_id)
        except ShuchangError as exc:
            flash_error(request, exc)
        return redirect(f"/console/compute/jobs/{job_id}")

    @get("/products/{product_id:uuid}/profile", sync_to_thread=True)
    def profile(self, request: Req, product_id: FromPath[uuid.UUID]) -> Template:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            body, revision = profile_text(s, user, product_id)
            log = views.list_jobs(s, user.actor, product_id=product_id, limit=100)
        return render(
            request,
            "compute/profile.html",
            user=user,
            product_id=product_id,
            body=body,
            revision=revision,
            jobs=log,
            error=None,
        )

    @post("/products/{product_id:uuid}/profile", sync_to_thread=True)
    def save_profile(
        self, request: Req, product_id: FromPath[uuid.UUID], data: Form
    ) -> Template | Redirect:
        check_csrf(request, data)
        body = str(data.get("profile", ""))
        platform = platform_of(request)
        try:
            parsed = msgspec.json.decode(body.encode(), type=ProfileIn)
            with platform.unit() as s:
                user = viewer(s, request, allow_inactive=False)
                profiles.set_profile(s, user.actor, product_id, parsed)
        except (ShuchangError, msgspec.DecodeError) as exc:
            error = (
                exc
                if isinstance(exc, ShuchangError)
                else ValidationFailed(str(exc), f"配置不是合法的 JSON：{exc}")
            )
            with platform.unit(write=False) as s:
                user = viewer(s, request, allow_inactive=False)
                log = views.list_jobs(s, user.actor, product_id=product_id, limit=100)
            return render(
                request,
                "compute/profile.html",
                user=user,
                product_id=product_id,
                body=body,
                revision=None,
                jobs=log,
                error=error,
                status_code=422,
            )
        flash(
            request,
            "ok",
            translate("zh-CN", "compute.profile_saved"),
            translate("en", "compute.profile_saved"),
        )
        return redirect(f"/console/compute/products/{product_id}/profile")
