"""Catalogue search (资源目录) and listing review (上架审核) pages.

Resource pages live in :mod:`.catalog_resources`, product pages in :mod:`.catalog_products`;
the forms of all of them in :mod:`.catalog_forms`, what they show in :mod:`.catalog_views`.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from shuchang.domains import compliance
from shuchang.domains.catalog import products
from shuchang.domains.participants import require
from shuchang.errors import Conflict, InvalidInput
from shuchang.http import platform_of
from shuchang.web.catalog_forms import (
    CLASSIFICATIONS,
    DOC_TYPES,
    INDUSTRY_SECTIONS,
    PRODUCT_KINDS,
    SORTS,
    parse_review,
    parse_search,
)
from shuchang.web.catalog_views import product_view, provider_names, run_search
from shuchang.web.compliance import compliance_box
from shuchang.web.forms import Errors, FieldError
from shuchang.web.i18n import translate
from shuchang.web.pages import Req, check_csrf, flash, language_of, redirect, render, viewer

PAGE_SIZE = 20
Form = URLEncodedBody[dict[str, Any]]
FACET_NAMES = [
    ("doc_type", "type", "catalog.type"),
    ("kind", "kind", "catalog.kind"),
    ("classification", "classification", "catalog.classification"),
    ("industry", "industry", "catalog.industry"),
    ("region", "region", "catalog.region"),
    ("tag", "tag", "catalog.tag"),
]
"""Facets of the catalog's search: name, the filter (query parameter) it sets, heading."""


def _params(request: Req) -> dict[str, list[str]]:
    """The query string with every value of repeated parameters (``tag`` may repeat)."""
    query = request.query_params
    return {name: query.getall(name) for name in query}


def _flash_title(request: Req, key: str, title: str) -> None:
    flash(
        request,
        "ok",
        translate("zh-CN", key, title=title),
        translate("en", key, title=title),
    )


class CatalogPages(Controller):
    path = "/catalog"

    @get("/", sync_to_thread=True)
    def search_page(self, request: Req) -> Template:
        """Full-text search with filters, facets as links and cursor pages."""
        form = parse_search(_params(request), PAGE_SIZE)
        results = None
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            if form.query is not None:
                try:
                    results = run_search(s, user, form.query)
                except InvalidInput as exc:  # a cursor that is stale or was edited by hand
                    form.errors["form"] = FieldError.from_error(exc)
        return render(
            request,
            "catalog/search.html",
            user=user,
            form=form,
            results=results,
            facet_names=FACET_NAMES,
            doc_types=DOC_TYPES,
            kinds=PRODUCT_KINDS,
            classifications=CLASSIFICATIONS,
            sections=INDUSTRY_SECTIONS,
            sorts=SORTS,
            status_code=422 if form.errors else 200,
        )


class ReviewPages(Controller):
    path = "/catalog/review"

    @get("/", sync_to_thread=True)
    def queue(self, request: Req) -> Template:
        """Products waiting for a reviewer; the regulator may look but not decide."""
        platform = platform_of(request)
        reviewers = platform.settings.reviewers
        with platform.unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            waiting = products.review_queue(s, user.actor, reviewers)
            providers = provider_names(s, (p.provider_id for p in waiting))
        return render(
            request,
            "catalog/review_queue.html",
            user=user,
            waiting=waiting,
            providers=providers,
            may_decide=user.role in reviewers,
        )

    @get("/{product_id:uuid}", sync_to_thread=True)
    def review_page(self, request: Req, product_id: FromPath[uuid.UUID]) -> Template:
        return self._page(request, product_id, {}, "")

    @post("/{product_id:uuid}", sync_to_thread=True, status_code=303)
    def decide(
        self, request: Req, product_id: FromPath[uuid.UUID], data: Form
    ) -> Template | Redirect:
        """Approve (the product is listed and becomes searchable) or return with reasons."""
        check_csrf(request, data)
        reasons = str(data.get("reasons") or "")
        decision, errors = parse_review(data)
        if decision is None:
            return self._page(request, product_id, errors, reasons, status_code=422)
        platform = platform_of(request)
        try:
            with platform.unit() as s:
                user = viewer(s, request, allow_inactive=False)
                settings = platform.settings
                gate = compliance.require_passed if settings.listing_requires_compliance else None
                decided = products.review(
                    s, user.actor, product_id, decision, settings.reviewers, gate=gate
                )
        except (InvalidInput, Conflict) as exc:
            field = "reasons" if exc.field == "reasons" else "form"
            return self._page(
                request, product_id, {field: FieldError.from_error(exc)}, reasons, exc.status
            )
        key = "review.approved" if decided.status == "listed" else "review.returned"
        _flash_title(request, key, decided.title)
        return redirect("/console/catalog/review")

    @staticmethod
    def _page(
        request: Req,
        product_id: uuid.UUID,
        errors: Errors,
        reasons: str,
        status_code: int = 200,
    ) -> Template:
        platform = platform_of(request)
        reviewers = platform.settings.reviewers
        with platform.unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            require(user.actor, *reviewers, "regulator")
            view = product_view(s, user, product_id, reviewers, language_of(request))
            compliance = compliance_box(s, user.actor, product_id)
        return render(
            request,
            "catalog/review.html",
            compliance=compliance,
            user=user,
            view=view,
            errors=errors,
            reasons=reasons,
            may_decide=user.role in reviewers and view.product.status == "submitted",
            status_code=status_code,
        )
