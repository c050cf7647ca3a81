"""Product pages (产品上架): my products, build or edit with an offer builder, detail, submit,
delist. The reviewer's pages are in :mod:`.catalog`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from shuchang.domains.catalog import products
from shuchang.domains.catalog.schemas import ProductIn, ProductOut
from shuchang.domains.participants import require
from shuchang.errors import Conflict, InvalidInput, ShuchangError
from shuchang.http import platform_of
from shuchang.policy import validate
from shuchang.web.catalog_forms import (
    PERIODS,
    PRICE_MODELS,
    PRODUCT_KINDS,
    new_product_values,
    offer_of,
    parse_product,
    product_inputs,
    product_values,
    product_values_from,
    service_error,
)
from shuchang.web.catalog_views import (
    not_owner,
    own_products,
    own_resource_choices,
    product_view,
)
from shuchang.web.compliance import compliance_box
from shuchang.web.contract_views import access_view
from shuchang.web.forms import Errors, text
from shuchang.web.i18n import translate
from shuchang.web.offers import BUILDER_ACTIONS, RECIPIENT_ROLES, describe
from shuchang.web.pages import (
    Req,
    Viewer,
    check_csrf,
    flash,
    flash_error,
    language_of,
    redirect,
    render,
    viewer,
)

Form = URLEncodedBody[dict[str, Any]]
CHOICES: dict[str, Any] = {
    "kinds": PRODUCT_KINDS,
    "price_models": PRICE_MODELS,
    "periods": PERIODS,
    "actions": BUILDER_ACTIONS,
    "recipient_roles": RECIPIENT_ROLES,
}


def _say(request: Req, kind: str, key: str, **values: object) -> None:
    flash(request, kind, translate("zh-CN", key, **values), translate("en", key, **values))


def _outcome(request: Req, product: ProductOut) -> None:
    """Tell the provider what saving (and perhaps submitting) did."""
    if product.status == "submitted":
        _say(request, "ok", "product.submitted_ok", title=product.title)
    elif product.status == "returned":
        _say(request, "error", "product.returned_auto", title=product.title)
    else:
        _say(request, "ok", "product.saved", title=product.title)


def _provider(request: Req) -> Viewer:
    with platform_of(request).unit(write=False) as s:
        user = viewer(s, request, allow_inactive=False)
    require(user.actor, "provider")
    return user


class ProductPages(Controller):
    path = "/catalog/products"

    @get("/", sync_to_thread=True)
    def mine(self, request: Req) -> Template:
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            mine = own_products(s, user, platform.settings.reviewers)
        return render(request, "catalog/products.html", user=user, products=mine)

    # --- build ---------------------------------------------------------------------------

    @get("/new", sync_to_thread=True)
    def new_form(
        self,
        request: Req,
        resource: Annotated[uuid.UUID | None, QueryParameter(required=False)] = None,
    ) -> Template:
        """The builder; ``?resource=`` comes from a resource page and ticks that resource."""
        values = new_product_values()
        if resource is not None:
            values["resources"] = [str(resource)]
        return self._form(request, _provider(request), values, {})

    @post("/new", sync_to_thread=True, status_code=200)
    def create(self, request: Req, data: Form) -> Template | Redirect:
        """Save the draft and, with "save and submit", run the automatic checks at once."""
        check_csrf(request, data)
        user = _provider(request)
        product, errors, values = parse_product(data)
        if product is None:
            return self._form(request, user, values, errors, status_code=422)
        try:
            saved = self._save(request, user, None, product, text(data, "then") == "submit")
        except ShuchangError as exc:
            found = service_error(exc, product_inputs(values))
            return self._form(request, user, values, found, status_code=exc.status)
        _outcome(request, saved)
        return redirect(f"/console/catalog/products/{saved.id}")

    @post("/offer-preview", sync_to_thread=False, status_code=200)
    def offer_preview(self, request: Req, data: Form) -> Template:
        """htmx: the offer the builder (or the JSON box) makes, in words, while the user types."""
        check_csrf(request, data)
        values = product_values(data)
        offer, errors = offer_of(values)
        faults = validate(offer, expected_type="Offer") if offer is not None else []
        return render(
            request,
            "catalog/_offer_preview.html",
            lines=describe(offer, language_of(request)) if offer and not faults else [],
            faults=faults,
            errors=errors,
            fragment=True,
        )

    # --- edit ----------------------------------------------------------------------------

    @get("/{product_id:uuid}/edit", sync_to_thread=True)
    def edit_form(self, request: Req, product_id: FromPath[uuid.UUID]) -> Template:
        user = _provider(request)
        current = self._editable(request, user, product_id)
        return self._form(request, user, product_values_from(current), {}, product=current)

    @post("/{product_id:uuid}/edit", sync_to_thread=True, status_code=200)
    def edit(
        self, request: Req, product_id: FromPath[uuid.UUID], data: Form
    ) -> Template | Redirect:
        check_csrf(request, data)
        user = _provider(request)
        current = self._editable(request, user, product_id)
        product, errors, values = parse_product(data)
        if product is None:
            return self._form(request, user, values, errors, product=current, status_code=422)
        try:
            saved = self._save(request, user, product_id, product, text(data, "then") == "submit")
        except ShuchangError as exc:
            found = service_error(exc, product_inputs(values))
            return self._form(request, user, values, found, product=current, status_code=exc.status)
        _outcome(request, saved)
        return redirect(f"/console/catalog/products/{product_id}")

    # --- detail and lifecycle ------------------------------------------------------------

    @get("/{product_id:uuid}", sync_to_thread=True)
    def detail(self, request: Req, product_id: FromPath[uuid.UUID]) -> Template:
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            view = product_view(
                s, user, product_id, platform.settings.reviewers, language_of(request)
            )
            access = access_view(s, user, view.product, platform.settings)
            compliance = compliance_box(s, user.actor, product_id)
        return render(
            request,
            "catalog/product.html",
            user=user,
            view=view,
            access=access,
            compliance=compliance,
        )

    @post("/{product_id:uuid}/submit", sync_to_thread=True, status_code=303)
    def submit(self, request: Req, product_id: FromPath[uuid.UUID], data: Form) -> Redirect:
        """Run the automatic checks: passed → awaits a reviewer; failed → returned with reasons."""
        check_csrf(request, data)
        try:
            with platform_of(request).unit() as s:
                user = viewer(s, request, allow_inactive=False)
                submitted = products.submit(s, user.actor, product_id)
        except Conflict as exc:
            flash_error(request, exc)
        else:
            _outcome(request, submitted)
        return redirect(f"/console/catalog/products/{product_id}")

    @post("/{product_id:uuid}/delist", sync_to_thread=True, status_code=303)
    def delist(self, request: Req, product_id: FromPath[uuid.UUID], data: Form) -> Redirect:
        check_csrf(request, data)
        reason = text(data, "reason")[:500] or None
        try:
            with platform_of(request).unit() as s:
                user = viewer(s, request, allow_inactive=False)
                delisted = products.delist(s, user.actor, product_id, reason)
        except (Conflict, InvalidInput) as exc:
            flash_error(request, exc)
        else:
            _say(request, "ok", "product.delisted_ok", title=delisted.title)
        return redirect(f"/console/catalog/products/{product_id}")

    # --- shared --------------------------------------------------------------------------

    @staticmethod
    def _save(
        request: Req,
        user: Viewer,
        product_id: uuid.UUID | None,
        product: ProductIn,
        then_submit: bool,
    ) -> ProductOut:
        """Create or update, and submit if asked, in one transaction."""
        with platform_of(request).unit() as s:
            if product_id is None:
                saved = products.create(s, user.actor, product)
            else:
                saved = products.update(s, user.actor, product_id, product)
            if then_submit:
                saved = products.submit(s, user.actor, saved.id)
            return saved

    @staticmethod
    def _editable(request: Req, user: Viewer, product_id: uuid.UUID) -> ProductOut:
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            current = products.get(s, user.actor, product_id, platform.settings.reviewers)
        if not user.is_self(current.provider_id):
            raise not_owner("product")
        return current

    @staticmethod
    def _form(
        request: Req,
        user: Viewer,
        values: dict[str, Any],
        errors: Errors,
        *,
        product: ProductOut | None = None,
        status_code: int = 200,
    ) -> Template:
        with platform_of(request).unit(write=False) as s:
            sources = own_resource_choices(s, user)
        return render(
            request,
            "catalog/product_form.html",
            user=user,
            values=values,
            errors=errors,
            product=product,
            sources=sources,
            status_code=status_code,
            **CHOICES,
        )
