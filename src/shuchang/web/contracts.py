"""Contract pages (数字合约): request access to a listed product, negotiations (合约协商) with
approval and termination, agreements (合约) with their signatures, the signed file to verify
offline, evidence receipts and a "try a decision" form.

Every step goes through the same domain functions as the management API
(:mod:`shuchang.domains.contracts.api`); a message the step decided to send to the other
connector is delivered after the transaction commits, as the API does.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from shuchang.domains.contracts.messages import STATES
from shuchang.domains.contracts.negotiation import Connector, Outbound
from shuchang.domains.contracts.service import deliver
from shuchang.errors import ShuchangError
from shuchang.http import platform_of
from shuchang.web.contract_views import (
    agreement_list,
    agreement_view,
    approve_negotiation,
    document_text,
    negotiation_list,
    negotiation_view,
    parse_termination,
    parse_use,
    signed_document,
    start_for_product,
    terminate_negotiation,
    try_decision,
)
from shuchang.web.evidence import download
from shuchang.web.forms import text
from shuchang.web.i18n import translate
from shuchang.web.pages import (
    Req,
    check_csrf,
    flash,
    flash_error,
    language_of,
    redirect,
    render,
    viewer,
)
from shuchang.web.transfer_views import agreement_transfers

Form = URLEncodedBody[dict[str, Any]]
StateFilter = Annotated[str | None, QueryParameter(name="state", max_length=16)]


def _say(request: Req, kind: str, key: str, **values: object) -> None:
    flash(request, kind, translate("zh-CN", key, **values), translate("en", key, **values))


def _then_deliver(
    request: Req, path: str, outbound: Outbound | None, connector: Connector
) -> Redirect:
    """Back to ``path``; the decided message goes to the other connector once committed."""
    platform = platform_of(request)
    task = (
        BackgroundTask(deliver, platform.unit, platform.transport, connector, outbound)
        if outbound
        else None
    )
    return Redirect(path=path, status_code=303, background=task)


class NegotiationPages(Controller):
    path = "/contracts/negotiations"

    @get("/", sync_to_thread=True)
    def list_page(self, request: Req, in_state: StateFilter = None) -> Template:
        chosen = in_state if in_state in STATES else None
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            found = negotiation_list(s, user, chosen, platform.settings.reviewers)
        return render(
            request,
            "contracts/negotiations.html",
            user=user,
            found=found,
            state=chosen or "",
            states=STATES,
        )

    @post("/", sync_to_thread=True, status_code=303)
    def request_access(self, request: Req, data: Form) -> Redirect:
        """A consumer asks for a listed product (申请使用); back to the product on a problem."""
        check_csrf(request, data)
        platform = platform_of(request)
        raw = text(data, "product_id")
        try:
            product_id = uuid.UUID(raw)
        except ValueError:
            return redirect("/console/catalog")
        back = f"/console/catalog/products/{product_id}"
        try:
            with platform.unit() as s:
                user = viewer(s, request, allow_inactive=False)
                outbound, connector = start_for_product(s, user, platform.settings, product_id)
        except ShuchangError as exc:
            flash_error(request, exc)
            return redirect(back)
        _say(request, "ok", "negotiation.requested_ok")
        path = f"/console/contracts/negotiations/{outbound.negotiation_id}"
        return _then_deliver(request, path, outbound, connector)

    @get("/{negotiation_id:uuid}", sync_to_thread=True)
    def detail(self, request: Req, negotiation_id: FromPath[uuid.UUID]) -> Template:
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            view = negotiation_view(
                s, user, negotiation_id, platform.settings, language_of(request)
            )
        return render(request, "contracts/negotiation.html", user=user, view=view)

    @post("/{negotiation_id:uuid}/approve", sync_to_thread=True, status_code=303)
    def approve(self, request: Req, negotiation_id: FromPath[uuid.UUID], data: Form) -> Redirect:
        """The provider agrees (manual approval): the signed agreement goes to the consumer."""
        check_csrf(request, data)
        platform = platform_of(request)
        path = f"/console/contracts/negotiations/{negotiation_id}"
        try:
            with platform.unit() as s:
                user = viewer(s, request, allow_inactive=False)
                outbound, connector = approve_negotiation(
                    s, user, platform.settings, negotiation_id
                )
        except ShuchangError as exc:
            flash_error(request, exc)
            return redirect(path)
        _say(request, "ok", "negotiation.approved_ok")
        return _then_deliver(request, path, outbound, connector)

    @post("/{negotiation_id:uuid}/terminate", sync_to_thread=True, status_code=303)
    def terminate(self, request: Req, negotiation_id: FromPath[uuid.UUID], data: Form) -> Redirect:
        check_csrf(request, data)
        platform = platform_of(request)
        path = f"/console/contracts/negotiations/{negotiation_id}"
        try:
            reason = parse_termination(data).reason
            with platform.unit() as s:
                user = viewer(s, request, allow_inactive=False)
                outbound, connector = terminate_negotiation(
                    s, user, platform.settings, negotiation_id, reason
                )
        except ShuchangError as exc:
            flash_error(request, exc)
            return redirect(path)
        _say(request, "ok", "negotiation.terminated_ok")
        return _then_deliver(request, path, outbound, connector)


class AgreementPages(Controller):
    path = "/contracts/agreements"

    @get("/", sync_to_thread=True)
    def list_page(self, request: Req) -> Template:
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            found = agreement_list(s, user, platform.settings.reviewers)
        return render(request, "contracts/agreements.html", user=user, found=found)

    @get("/{agreement_id:uuid}", sync_to_thread=True)
    def detail(self, request: Req, agreement_id: FromPath[uuid.UUID]) -> Template:
        """The agreement; with ``?action=…`` also the decision the "try" form asked for."""
        platform = platform_of(request)
        asked = "action" in request.query_params
        use, form = parse_use(request.query_params)
        with platform.unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            view = agreement_view(
                s, user, agreement_id, platform.settings.reviewers, language_of(request)
            )
            if use is not None:
                form.decision = try_decision(s, user, agreement_id, use)
            transfers = agreement_transfers(s, user, view.agreement, platform.settings)
        if not asked:
            form.errors.clear()
        return render(
            request,
            "contracts/agreement.html",
            user=user,
            view=view,
            form=form,
            asked=asked,
            transfers=transfers,
            status_code=422 if form.errors else 200,
        )

    @get("/{agreement_id:uuid}/document", sync_to_thread=True)
    def document(self, request: Req, agreement_id: FromPath[uuid.UUID]) -> Response[bytes]:
        """The signed agreement file: `shuchang contracts verify FILE` checks it offline."""
        with platform_of(request).unit(write=False) as s:
            found = signed_document(s, viewer(s, request, allow_inactive=False), agreement_id)
        body = (document_text(found) + "\n").encode()
        return download(body, f"agreement-{agreement_id}.json", "application/json")
