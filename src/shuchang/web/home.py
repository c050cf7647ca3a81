"""Sign in, sign out and the overview page (登录、退出、概览)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any, get_args

from litestar import Controller, get, post
from litestar.params import QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from shuchang.domains.participants import access, service
from shuchang.domains.participants.schemas import Actor, Status
from shuchang.errors import ShuchangError
from shuchang.http import platform_of
from shuchang.web.forms import FieldError, text
from shuchang.web.pages import Req, check_csrf, redirect, render, safe_next, viewer

STATUSES: tuple[str, ...] = get_args(Status)
NextPath = Annotated[str | None, QueryParameter(name="next", max_length=500)]


def status_counts(session: Session, actor: Actor) -> dict[str, int]:
    """Participants per status (one GROUP BY in the participants service)."""
    counts = service.count_by_status(session, actor)
    return {status: counts.get(status, 0) for status in STATUSES}


class HomePages(Controller):
    path = "/"

    @get("/login", sync_to_thread=False)
    def login_form(self, request: Req, next_path: NextPath = None) -> Template:
        return render(request, "login.html", next_path=safe_next(next_path))

    @post("/login", sync_to_thread=True, status_code=200)
    def login(self, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Template | Redirect:
        """Check the pasted key (a participant still awaiting approval may sign in too)."""
        check_csrf(request, data)
        secret = text(data, "api_key")
        try:
            with platform_of(request).unit(write=False) as s:
                access.authenticate(s, secret, allow_inactive=True)
        except ShuchangError as exc:
            return render(
                request,
                "login.html",
                next_path=safe_next(text(data, "next")),
                error=FieldError.from_error(exc),
                status_code=exc.status,
            )
        request.session["api_key"] = secret
        request.session["csrf"] = secrets.token_urlsafe(32)  # a new token for the new user
        return redirect(safe_next(text(data, "next")))

    @post("/logout", sync_to_thread=False, status_code=303)
    def logout(self, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Redirect:
        check_csrf(request, data)
        language = request.session.get("lang")
        request.clear_session()
        if language:
            request.set_session({"lang": language})
        return redirect("/console/login")

    @get("/", sync_to_thread=True)
    def dashboard(self, request: Req) -> Template:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request)
            counts = status_counts(s, user.actor) if user.sees_directory else None
        return render(
            request,
            "dashboard.html",
            user=user,
            counts=counts,
            total=sum(counts.values()) if counts else 0,
        )
