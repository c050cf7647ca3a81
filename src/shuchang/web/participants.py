"""Participant pages (参与方): directory, application with live checks, detail, approval."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from itertools import groupby
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, get, post
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from shuchang.domains import evidence
from shuchang.domains.evidence import EvidenceEntry
from shuchang.domains.participants import access, keys, service
from shuchang.domains.participants.identifiers import check_identifier
from shuchang.domains.participants.schemas import (
    ANONYMOUS,
    ApiKeyOut,
    ConnectorOut,
    KeyOut,
    ParticipantOut,
    StepOut,
)
from shuchang.domains.participants.verification import identifier_step
from shuchang.errors import Conflict, InvalidInput, ShuchangError
from shuchang.http import platform_of
from shuchang.web.catalog_views import actor_names
from shuchang.web.evidence_views import EvidenceLog, evidence_log
from shuchang.web.forms import (
    KINDS,
    OPEN_ROLES,
    Errors,
    FieldError,
    parse_registration,
    parse_status_change,
    registration_values,
    text,
)
from shuchang.web.i18n import translate
from shuchang.web.pages import Req, Viewer, check_csrf, flash, flash_error, redirect, render, viewer

PAGE_SIZE = 25
Filter = Annotated[str | None, QueryParameter(max_length=100)]
Cursor = Annotated[str | None, QueryParameter(max_length=200)]
Form = URLEncodedBody[dict[str, Any]]


@dataclass(frozen=True)
class ParticipantView:
    """Everything the detail page shows about one participant."""

    participant: ParticipantOut
    runs: list[tuple[int, list[StepOut]]]
    history: list[EvidenceEntry]
    actors: dict[str, ParticipantOut]
    log: EvidenceLog
    keys: list[KeyOut]
    api_keys: list[ApiKeyOut]
    connectors: list[ConnectorOut]
    actions: list[str]


def participant_view(session: Session, user: Viewer, participant_id: uuid.UUID) -> ParticipantView:
    """The detail page's data; :func:`service.detail` decides who may see it."""
    detail = service.detail(session, user.actor, participant_id)
    status = detail.participant.status
    may_see_api_keys = user.is_operator or user.is_self(participant_id)
    history = evidence.history(session, f"participant:{participant_id}")
    return ParticipantView(
        participant=detail.participant,
        runs=[(run, list(steps)) for run, steps in groupby(detail.verification, lambda s: s.run)],
        history=history,
        actors=actor_names(session, [e.actor for e in history]),
        log=evidence_log(session, user, history),
        keys=keys.list_participant_keys(session, user.actor, participant_id),
        api_keys=access.list_keys(session, participant_id) if may_see_api_keys else [],
        connectors=keys.list_connectors(session, participant_id),
        actions=[
            action
            for action, (sources, _) in service.TRANSITIONS.items()
            if user.is_operator and status in sources and not user.is_self(participant_id)
        ],
    )


@dataclass(frozen=True)
class IdentifierCheckView:
    valid: bool
    message_zh: str
    message_en: str


def check_identifier_for(kind: str, code: str) -> IdentifierCheckView:
    """The same identifier check registration runs, for the form's live feedback."""
    if kind in KINDS:
        outcome = identifier_step(kind, code)
        return IdentifierCheckView(outcome.result == "pass", outcome.message_zh, outcome.message_en)
    checked = check_identifier(code)
    if checked.valid:
        return IdentifierCheckView(
            True, translate("zh-CN", "check.valid"), translate("en", "check.valid")
        )
    return IdentifierCheckView(False, checked.message_zh or "", checked.message_en or "")


def _page_url(q: str | None, kind: str | None, status: str | None, cursor: str | None) -> str:
    query = {
        k: v for k, v in {"q": q, "kind": kind, "status": status, "cursor": cursor}.items() if v
    }
    return "/console/participants" + (f"?{urlencode(query)}" if query else "")


def _status_flash(request: Req, action: str, status: str) -> None:
    def say(language: str) -> str:
        return translate(
            language,
            "flash.status_changed",
            action=translate(language, f"action.{action}"),
            status=translate(language, f"status.{status}"),
        )

    flash(request, "ok", say("zh-CN"), say("en"))


class ParticipantPages(Controller):
    path = "/participants"

    @get("/", sync_to_thread=True)
    def directory(
        self,
        request: Req,
        q: Filter = None,
        kind: Filter = None,
        status: Filter = None,
        cursor: Cursor = None,
    ) -> Template:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            page = service.search(
                s, user.actor, q=q, kind=kind, status=status, cursor=cursor, limit=PAGE_SIZE
            )
        return render(
            request,
            "participants/list.html",
            user=user,
            page=page,
            filters={"q": q or "", "kind": kind or "", "status": status or ""},
            kinds=KINDS,
            next_url=_page_url(q, kind, status, page.next_cursor) if page.next_cursor else None,
            first_url=_page_url(q, kind, status, None) if cursor else None,
        )

    @get("/new", sync_to_thread=False)
    def application_form(self, request: Req) -> Template:
        return self._form(request, {"kind": "enterprise", "roles": []}, {})

    @post("/new", sync_to_thread=True, status_code=200)
    def apply(self, request: Req, data: Form) -> Template:
        """Register; the result page shows every check and the API key (once)."""
        check_csrf(request, data)
        application, errors = parse_registration(data)
        if application is None:
            return self._form(request, registration_values(data), errors, status_code=422)
        platform = platform_of(request)
        try:
            with platform.unit() as s:
                registration = service.register(s, ANONYMOUS, application, platform.rules)
        except ShuchangError as exc:
            field_errors = {exc.field or "form": FieldError.from_error(exc)}
            return self._form(
                request, registration_values(data), field_errors, status_code=exc.status
            )
        return render(request, "participants/registered.html", registration=registration)

    @post("/check-identifier", sync_to_thread=False, status_code=200)
    def check_identifier(self, request: Req, data: Form) -> Template:
        """htmx: the identifier check's result as a fragment, while the user types."""
        check_csrf(request, data)
        code = text(data, "identifier")
        result = check_identifier_for(text(data, "kind"), code) if code else None
        return render(request, "participants/_identifier_check.html", check=result, fragment=True)

    @get("/{participant_id:uuid}", sync_to_thread=True)
    def detail(self, request: Req, participant_id: FromPath[uuid.UUID]) -> Template:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request)
            view = participant_view(s, user, participant_id)
        return render(request, "participants/detail.html", user=user, view=view)

    @post("/{participant_id:uuid}/status", sync_to_thread=True, status_code=303)
    def change_status(
        self, request: Req, participant_id: FromPath[uuid.UUID], data: Form
    ) -> Redirect:
        """Operator: approve, reject, suspend, reinstate or revoke, then back to the page."""
        check_csrf(request, data)
        try:
            change = parse_status_change(data)
            with platform_of(request).unit() as s:
                user = viewer(s, request, allow_inactive=False)
                changed = service.change_status(s, user.actor, participant_id, change)
        except (Conflict, InvalidInput) as exc:
            flash_error(request, exc)
        else:
            _status_flash(request, change.action, changed.status)
        return redirect(f"/console/participants/{participant_id}")

    @staticmethod
    def _form(
        request: Req, values: dict[str, Any], errors: Errors, status_code: int = 200
    ) -> Template:
        return render(
            request,
            "participants/new.html",
            values=values,
            errors=errors,
            kinds=KINDS,
            roles=OPEN_ROLES,
            status_code=status_code,
        )
