"""Compliance pages (合规审核): the questionnaire form of a product, the provider's rounds,
the assessors' queue, one review with assignment and the assessor's decision.

The product page and the listing reviewer's page show the product's compliance status
(:func:`compliance_box`)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from shuchang.domains.catalog import products
from shuchang.domains.compliance import questionnaire, service, views
from shuchang.domains.compliance.schemas import (
    AnswersIn,
    AssessorDecision,
    AssignIn,
    Finding,
    ProductCompliance,
)
from shuchang.domains.evidence import history
from shuchang.domains.participants import Actor, with_role
from shuchang.errors import NotFound, ShuchangError
from shuchang.http import platform_of
from shuchang.web.catalog_views import provider_names
from shuchang.web.forms import choices, text
from shuchang.web.i18n import translate
from shuchang.web.pages import Req, check_csrf, flash, flash_error, redirect, render, viewer

Form = URLEncodedBody[dict[str, Any]]
DECISIONS = ("pass", "fail", "request_changes")


def _say(request: Req, key: str) -> None:
    flash(request, "ok", translate("zh-CN", key), translate("en", key))


def compliance_box(
    session: Session, actor: Actor, product_id: uuid.UUID
) -> ProductCompliance | None:
    """The status the product and review pages show (None when the product is not visible)."""
    try:
        return views.product_status(session, actor, product_id)
    except NotFound:
        return None


def answers_of(form: dict[str, Any]) -> dict[str, Any]:
    """The questionnaire's answers from the posted form; unanswered questions are left out."""
    out: dict[str, Any] = {}
    for q in questionnaire.QUESTIONS:
        if q.kind == "multi":
            picked = choices(form, q.id)
            if picked:
                out[q.id] = picked
            continue
        value = text(form, q.id)
        if not value:
            continue
        out[q.id] = {"yes": True, "no": False}.get(value, value) if q.kind == "bool" else value
    return out


class CompliancePages(Controller):
    path = "/compliance"

    @get("/", sync_to_thread=True)
    def overview(self, request: Req) -> Template:
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            if user.role == "provider":
                rounds = views.of_provider(s, user.actor)
                own = products.list_own(s, user.actor)
                statuses = {p.id: views.product_status(s, user.actor, p.id).status for p in own}
            else:
                rounds, own, statuses = views.queue(s, user.actor), [], {}
            titles = {
                r.product_id: products.get(
                    s, user.actor, r.product_id, ("operator", "service_firm")
                ).title
                for r in rounds
            }
        return render(
            request,
            "compliance/list.html",
            user=user,
            rounds=rounds,
            own=own,
            statuses=statuses,
            titles=titles,
        )

    @get("/products/{product_id:uuid}", sync_to_thread=True)
    def form(self, request: Req, product_id: FromPath[uuid.UUID]) -> Template:
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            product = products.get(s, user.actor, product_id, platform.settings.reviewers)
            status = views.product_status(s, user.actor, product_id)
            current = views.open_round(s, product_id)
            answers = dict(current.answers) if current else {}
        return render(
            request,
            "compliance/form.html",
            user=user,
            product=product,
            status=status,
            answers=answers,
            questions=questionnaire.QUESTIONS,
            version=questionnaire.VERSION,
            editable=current is None or current.status in service.EDITABLE,
        )

    @post("/products/{product_id:uuid}", sync_to_thread=True, status_code=303)
    def save(self, request: Req, product_id: FromPath[uuid.UUID], data: Form) -> Redirect:
        """Save the answers (opening a round if needed) and, with "submit", send them.

        Saving and submitting are two transactions: answers that do not pass the checks yet
        stay saved as the draft, and the problem says which answer to fix."""
        check_csrf(request, data)
        path = f"/console/compliance/products/{product_id}"
        body = AnswersIn(answers=answers_of(data))
        submit = text(data, "then") == "submit"
        platform = platform_of(request)
        try:
            with platform.unit() as s:
                user = viewer(s, request, allow_inactive=False)
                current = views.open_round(s, product_id)
                if current is None:
                    review = service.start(s, user.actor, product_id, body)
                else:
                    review = service.save(s, user.actor, current.id, body)
            if submit:
                with platform.unit() as s:
                    review = service.submit(s, user.actor, review.id)
        except ShuchangError as exc:
            flash_error(request, exc)
            return redirect(path)
        _say(request, "comp.submitted_ok" if submit else "comp.saved_ok")
        return redirect(f"/console/compliance/reviews/{review.id}" if submit else path)

    @get("/reviews/{review_id:uuid}", sync_to_thread=True)
    def review(self, request: Req, review_id: FromPath[uuid.UUID]) -> Template:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            review = views.review_out(s, views.load(s, user.actor, review_id))
            product = products.get(s, user.actor, review.product_id, ("operator", "service_firm"))
            firms = with_role(s, "service_firm") if user.role == "operator" else []
            names = provider_names(s, [x for x in (review.provider_id, review.assessor_id) if x])
            trail = history(s, f"compliance:{review.id}")
        return render(
            request,
            "compliance/review.html",
            user=user,
            review=review,
            product=product,
            firms=firms,
            names=names,
            trail=trail,
            by_id=questionnaire.BY_ID,
        )

    @post("/reviews/{review_id:uuid}/assign", sync_to_thread=True, status_code=303)
    def assign(self, request: Req, review_id: FromPath[uuid.UUID], data: Form) -> Redirect:
        check_csrf(request, data)
        raw = text(data, "assessor_id")
        return self._act(
            request,
            review_id,
            "comp.assigned_ok",
            lambda s, user, _: service.assign(
                s, user.actor, review_id, AssignIn(assessor_id=uuid.UUID(raw) if raw else None)
            ),
        )

    @post("/reviews/{review_id:uuid}/decide", sync_to_thread=True, status_code=303)
    def decide(self, request: Req, review_id: FromPath[uuid.UUID], data: Form) -> Redirect:
        check_csrf(request, data)
        chosen = text(data, "decision")
        findings = [
            Finding(text=line.strip()[:1000])
            for line in str(data.get("findings") or "").splitlines()
            if line.strip()
        ]
        decision = AssessorDecision(
            decision=chosen if chosen in DECISIONS else "request_changes",  # type: ignore[arg-type]
            findings=findings[:50],
        )
        return self._act(
            request,
            review_id,
            "comp.decided_ok",
            lambda s, user, settings: service.decide(s, user.actor, review_id, decision, settings),
        )

    @staticmethod
    def _act(request: Req, review_id: uuid.UUID, ok: str, step: Any) -> Redirect:
        path = f"/console/compliance/reviews/{review_id}"
        platform = platform_of(request)
        try:
            with platform.unit() as s:
                user = viewer(s, request, allow_inactive=False)
                step(s, user, platform.settings)
        except (ShuchangError, ValueError) as exc:
            if isinstance(exc, ShuchangError):
                flash_error(request, exc)
            return redirect(path)
        _say(request, ok)
        return redirect(path)
