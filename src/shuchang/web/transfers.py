"""Transfer pages (传输过程): the viewer's transfers on either side, one transfer with its
timeline and evidence receipts, a pull transfer started from an agreement, and suspend,
resume, complete and terminate buttons.

Every step goes through the same domain functions as the management API
(:mod:`shuchang.domains.transfers.api`); a message the step decided to send to the other
connector is delivered after the transaction commits, as the API does. A refusal is a flash
message and changes nothing.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from shuchang.domains.contracts import Connector
from shuchang.domains.transfers import service
from shuchang.domains.transfers.process import Outbound
from shuchang.domains.transfers.schemas import PushAddress, StartTransfer
from shuchang.errors import ShuchangError, ValidationFailed
from shuchang.http import platform_of
from shuchang.web.contract_views import parse_termination
from shuchang.web.forms import explain, text
from shuchang.web.i18n import translate
from shuchang.web.pages import Req, check_csrf, flash, flash_error, redirect, render, viewer
from shuchang.web.transfer_views import STATES, transfer_list, transfer_view

Form = URLEncodedBody[dict[str, Any]]
StateFilter = Annotated[str | None, QueryParameter(name="state", max_length=16)]
WITH_REASON = ("suspend", "terminate")
ACTIONS: dict[str, service.Action] = {
    "suspend": "suspend",
    "resume": "resume",
    "complete": "complete",
    "terminate": "terminate",
}


def _say(request: Req, key: str) -> None:
    flash(request, "ok", translate("zh-CN", key), translate("en", key))


def _then_deliver(
    request: Req, path: str, outbound: Outbound | None, connector: Connector
) -> Redirect:
    """Back to ``path``; the decided message goes to the other connector once committed."""
    platform = platform_of(request)
    task = (
        BackgroundTask(service.deliver, platform.unit, platform.transport, connector, outbound)
        if outbound
        else None
    )
    return Redirect(path=path, status_code=303, background=task)


class TransferPages(Controller):
    path = "/transfers"

    @get("/", sync_to_thread=True)
    def list_page(self, request: Req, in_state: StateFilter = None) -> Template:
        chosen = in_state if in_state in STATES else None
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            found = transfer_list(s, user, chosen)
        return render(
            request,
            "transfers/list.html",
            user=user,
            found=found,
            state=chosen or "",
            states=STATES,
        )

    @post("/", sync_to_thread=True, status_code=303)
    def start(self, request: Req, data: Form) -> Redirect:
        """The consumer starts a pull (or push) transfer under one of its agreements."""
        check_csrf(request, data)
        try:
            agreement_id = uuid.UUID(text(data, "agreement_id"))
        except ValueError:
            return redirect("/console/contracts/agreements")
        back = f"/console/contracts/agreements/{agreement_id}"
        platform = platform_of(request)
        try:
            asked = _start_request(agreement_id, data)
            with platform.unit() as s:
                user = viewer(s, request, allow_inactive=False)
                outbound, connector = service.start_transfer(
                    s, platform.settings, user.actor, asked
                )
        except ShuchangError as exc:
            flash_error(request, exc)
            return redirect(back)
        _say(request, "transfer.started_ok")
        path = f"/console/transfers/{outbound.transfer_id}"
        return _then_deliver(request, path, outbound, connector)

    @get("/{transfer_id:uuid}", sync_to_thread=True)
    def detail(self, request: Req, transfer_id: FromPath[uuid.UUID]) -> Template:
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            view = transfer_view(s, user, transfer_id, platform)
        return render(request, "transfers/detail.html", user=user, view=view)

    @post("/{transfer_id:uuid}/{action:str}", sync_to_thread=True, status_code=303)
    def act(
        self, request: Req, transfer_id: FromPath[uuid.UUID], action: FromPath[str], data: Form
    ) -> Redirect:
        """Suspend, resume, complete or terminate this side (``service.act``, as the API)."""
        check_csrf(request, data)
        path = _back(data) or f"/console/transfers/{transfer_id}"
        if action == "refresh":
            return self._refresh(request, transfer_id, path)
        chosen = ACTIONS.get(action)
        if chosen is None:
            return redirect(path)
        platform = platform_of(request)
        try:
            reason = parse_termination(data).reason if action in WITH_REASON else ""
            with platform.unit() as s:
                user = viewer(s, request, allow_inactive=False)
                t, outbound, connector = service.act(
                    s, platform.settings, user.actor, transfer_id, chosen, reason=reason
                )
                role = t.role
        except ShuchangError as exc:
            flash_error(request, exc)
            return redirect(path)
        done = "resume_requested" if action == "resume" and role == "consumer" else action
        _say(request, f"transfer.{done}_ok")
        return _then_deliver(request, path, outbound, connector)

    def _refresh(self, request: Req, transfer_id: uuid.UUID, path: str) -> Redirect:
        """The consumer fetches a new pull token from the provider now (a signed request)."""
        platform = platform_of(request)
        try:
            with platform.unit(write=False) as s:
                user = viewer(s, request, allow_inactive=False)
            service.refresh_token(
                platform.unit, platform.transport, platform.settings, user.actor, transfer_id
            )
        except ShuchangError as exc:
            flash_error(request, exc)
            return redirect(path)
        _say(request, "transfer.refresh_ok")
        return redirect(path)


def _back(data: Form) -> str | None:
    """Where a button on another page (the agreement's) asks to go back to."""
    back = text(data, "back")
    if back.startswith("/console/contracts/agreements/") and "//" not in back:
        return back
    return None


def _start_request(agreement_id: uuid.UUID, data: Form) -> StartTransfer:
    """A pull transfer, or a push transfer to the endpoint (and auth header) the form gives."""
    if text(data, "transfer_type") != "push":
        return StartTransfer(agreement_id=agreement_id)
    auth = text(data, "authorization")
    address = {
        "endpoint": text(data, "endpoint"),
        "properties": {"authorization": auth} if auth else {},
    }
    try:
        return StartTransfer(
            agreement_id=agreement_id,
            transfer_type="HttpData-PUSH",
            data_address=msgspec.convert(address, PushAddress),
        )
    except msgspec.ValidationError as exc:
        field, message = explain(exc)
        raise ValidationFailed(
            message.en, message.zh, code="transfer.data_address_invalid", field=field
        ) from exc
