"""What every console page shares: language, CSRF token, flash message, viewer, rendering.

The session cookie (encrypted, see :func:`shuchang.web.console.session_middleware`) holds:
``api_key`` (who is signed in), ``csrf`` (the per-session form token), ``lang`` (zh-CN/en)
and ``flash`` (one message to show on the next page, after a redirect).
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import quote, urlencode

from litestar import Request, Response
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from shuchang.domains.participants import access, service
from shuchang.domains.participants.schemas import Actor, ParticipantOut
from shuchang.errors import PermissionDenied, ShuchangError, Unauthenticated
from shuchang.http import handle_exception, platform_of
from shuchang.web.i18n import normalise_language, pick, translate
from shuchang.web.nav import current_path, entries_for

Req = Request[Any, Any, Any]
Form = Mapping[str, Any]
LOGIN_PATH = "/console/login"
VIEWER_STATE = "console_viewer"


class LoginRequired(Exception):
    """Raised by pages that need a signed-in user; the console turns it into a redirect."""

    def __init__(self, reason: ShuchangError | None = None) -> None:
        super().__init__("login required")
        self.reason = reason


@dataclass(frozen=True)
class Viewer:
    """The signed-in user: the actor its API key makes, and its participant record."""

    actor: Actor
    participant: ParticipantOut

    @property
    def role(self) -> str:
        return self.actor.role

    @property
    def is_operator(self) -> bool:
        return self.actor.role == "operator"

    @property
    def sees_directory(self) -> bool:
        return self.actor.role in service.DIRECTORY_ROLES

    def is_self(self, participant_id: uuid.UUID) -> bool:
        return self.participant.id == participant_id


def language_of(request: Req) -> str:
    chosen = request.session.get("lang")
    return str(chosen) if chosen else platform_of(request).settings.console_language


async def remember_language(request: Req) -> None:
    """``?lang=en`` (or ``zh-CN``) on any console page switches and stays for the session."""
    chosen = normalise_language(request.query_params.get("lang"))
    if chosen is not None:
        request.session["lang"] = chosen


def csrf_token(request: Req) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Req, form: Form) -> None:
    """Every console POST carries the session's form token (double submit inside the cookie)."""
    sent, expected = form.get("_csrf"), request.session.get("csrf")
    if not (isinstance(sent, str) and isinstance(expected, str) and expected) or not (
        hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise PermissionDenied(
            "The form token is missing or stale; reload the page and try again",
            "表单令牌缺失或已过期，请刷新页面后重试",
            code="console.csrf",
        )


def flash(request: Req, kind: str, zh: str, en: str) -> None:
    request.session["flash"] = {"kind": kind, "zh": zh, "en": en}


def flash_error(request: Req, error: ShuchangError) -> None:
    flash(request, "error", error.message_zh, error.message_en)


def _take_flash(request: Req) -> dict[str, str] | None:
    found = request.session.pop("flash", None)
    return found if isinstance(found, dict) else None


def viewer(session: Session, request: Req, *, allow_inactive: bool = True) -> Viewer:
    """The signed-in user, or :class:`LoginRequired` when the session holds no usable key.

    With ``allow_inactive`` (the default) participants awaiting review may look at their own
    pages; a suspended or revoked one is signed out with the reason. Without it, an inactive
    participant gets the 403 problem the API would give.
    """
    secret = request.session.get("api_key")
    if not secret:
        raise LoginRequired
    try:
        actor = access.authenticate(session, str(secret), allow_inactive=allow_inactive)
    except Unauthenticated as exc:
        raise LoginRequired(exc) from exc
    except PermissionDenied as exc:
        if not allow_inactive:
            raise
        raise LoginRequired(exc) from exc
    assert actor.participant_id is not None  # keys always belong to a participant
    found = Viewer(actor, service.get(session, actor, actor.participant_id))
    request.state[VIEWER_STATE] = found  # for the error page, should the page fail later
    return found


def _language_switch_url(request: Req, language: str) -> str:
    other = "en" if language == "zh-CN" else "zh-CN"
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    query["lang"] = other
    return f"{request.url.path}?{urlencode(query)}"


def render(
    request: Req,
    template: str,
    *,
    user: Viewer | None = None,
    status_code: int = 200,
    fragment: bool = False,
    **context: Any,
) -> Template:
    """A page in the current language, with the layout's shared context.

    A ``fragment`` (an htmx partial) leaves the flash message for the next whole page.
    """
    language = language_of(request)
    reviewers = platform_of(request).settings.reviewers
    nav = entries_for(user.role, user.participant.status, reviewers) if user else []
    shared: dict[str, Any] = {
        "t": partial(translate, language),
        "pick": partial(pick, language),
        "lang": language,
        "lang_url": _language_switch_url(request, language),
        "csrf": csrf_token(request),
        "flash": None if fragment else _take_flash(request),
        "path": request.url.path,
        "user": user,
        "nav": nav,
        "nav_current": current_path(nav, request.url.path),
    }
    return Template(template_name=template, context={**shared, **context}, status_code=status_code)


def redirect(path: str) -> Redirect:
    """After a POST: see the result with a GET (303 See Other)."""
    return Redirect(path=path, status_code=303)


def safe_next(target: str | None) -> str:
    """Where to go after login: only a console path, never another site."""
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return "/console/"


def to_login(request: Req, exc: LoginRequired) -> Response[Any]:
    """Exception handler of the console router: sign out and go to the login page."""
    request.session.pop("api_key", None)
    if exc.reason is not None:
        flash_error(request, exc.reason)
    target = request.url.path if request.method == "GET" else "/console/"
    if request.method == "GET" and request.url.query:
        target += "?" + request.url.query
    return redirect(f"{LOGIN_PATH}?next={quote(target, safe='')}")


def error_page(request: Req, exc: ShuchangError) -> Response[Any]:
    """Exception handler of the console router: a page that says why, in the current language,
    when a page cannot be shown (403, 404 …). Form posts keep the problem response."""
    if request.method not in ("GET", "HEAD"):
        return handle_exception(request, exc)
    user = request.state.get(VIEWER_STATE)
    shown = user if isinstance(user, Viewer) else None
    return render(request, "error.html", user=shown, error=exc, status_code=exc.status)
