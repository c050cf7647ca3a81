"""HTTP plumbing shared by every domain's routes: the platform, the actor, problem responses."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    ValidationException,
)
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from shuchang.domains.participants import access
from shuchang.domains.participants.schemas import ANONYMOUS, Actor
from shuchang.errors import (
    NotFound,
    PermissionDenied,
    ShuchangError,
    Unauthenticated,
    ValidationFailed,
)
from shuchang.platform import Platform
from shuchang.validation_messages import field_of, say_in_chinese

log = logging.getLogger("shuchang")
PROBLEM_JSON = "application/problem+json"


def platform_of(request: Request[Any, Any, Any]) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def presented_key(request: Request[Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


def actor_of(
    session: Session | Connection, request: Request[Any, Any, Any], *, allow_inactive: bool = False
) -> Actor:
    """The authenticated actor: an API key header, or the console's session cookie."""
    secret = presented_key(request)
    if secret is None:
        cookie = request.scope.get("session")
        secret = cookie.get("api_key") if isinstance(cookie, dict) else None
    return access.authenticate(session, secret, allow_inactive=allow_inactive)


def optional_actor(session: Session, request: Request[Any, Any, Any]) -> Actor:
    """For public routes: the caller if it presented a key, else the anonymous system actor."""
    if presented_key(request) is None:
        return ANONYMOUS
    return actor_of(session, request)


def problem_response(error: ShuchangError, request: Request[Any, Any, Any]) -> Response[Any]:
    return Response(
        content=error.problem(instance=request.url.path),
        status_code=error.http_status,
        media_type=PROBLEM_JSON,
    )


def _validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    first: dict[str, Any] = {}
    if isinstance(exc.extra, list) and exc.extra and isinstance(exc.extra[0], dict):
        first = exc.extra[0]
    message = str(first.get("message") or exc.detail)
    # Litestar gives the path to the object ("fields[0]", or "data" for the body) and msgspec
    # names the missing member in the message: join them ("fields[0].type").
    key = first.get("key")
    prefix = key if key not in (None, "", "data") else None
    named = field_of(message)
    field = ".".join(p for p in (prefix, named) if p) or None
    error = ValidationFailed(
        f"Invalid value: {message}",
        say_in_chinese(message),
        code="request.invalid_field",
        field=str(field) if field else None,
    )
    return problem_response(error, request)


class HttpProblem(ShuchangError):
    """A framework-level HTTP error (bad method, unreadable body …) said as a problem."""

    def __init__(self, status: int, en: str, zh: str, code: str) -> None:
        super().__init__(en, zh, code=code, status=status)

    @property
    def title(self) -> str:
        return self.message_en


def _http_problem(exc: HTTPException) -> HttpProblem:
    detail = str(exc.detail)
    if exc.status_code == 400:  # noqa: PLR2004 - the body could not be decoded at all
        return HttpProblem(
            400,
            f"Malformed JSON body: {detail}",
            f"请求体不是合法的 JSON：{detail}",
            "request.malformed_json",
        )
    if isinstance(exc, MethodNotAllowedException):
        return HttpProblem(
            405, "Method not allowed", "不支持该请求方法", "route.method_not_allowed"
        )
    return HttpProblem(exc.status_code, detail, detail, f"http.{exc.status_code}")


# A JSON escape of U+0000: "\u0000" preceded by an even number of backslashes (an odd number
# would make it the six characters \u0000 of ordinary text).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


async def refuse_nul(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """Refuse U+0000 anywhere in a request: PostgreSQL text cannot hold it, and no field of
    this platform has a use for it, so it is a 422 for every route on every backend."""
    query = request.scope.get("query_string", b"")
    path = request.scope.get("raw_path") or request.scope.get("path", "").encode()
    body = await request.body() if request.method in ("POST", "PUT", "PATCH") else b""
    in_url = b"%00" in query or b"%00" in path or b"\x00" in path
    if in_url or b"\x00" in body or _JSON_NUL.search(body):
        error = ValidationFailed(
            "Text contains the NUL character (U+0000)",
            "文本中含有 NUL 字符（U+0000）",
            code="request.nul_character",
        )
        return problem_response(error, request)
    return None


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The one place where errors become RFC 9457 problems."""
    if isinstance(exc, ShuchangError):
        return problem_response(exc, request)
    if isinstance(exc, ValidationException):
        return _validation_error(request, exc)
    if isinstance(exc, NotFoundException):
        return problem_response(
            NotFound("No such route", "没有该地址", code="route.not_found"), request
        )
    if isinstance(exc, HTTPException):
        return problem_response(_http_problem(exc), request)
    log.exception("unhandled error on %s", request.url.path)
    return problem_response(ShuchangError(), request)


require = access.require

__all__ = [
    "PROBLEM_JSON",
    "PermissionDenied",
    "Unauthenticated",
    "actor_of",
    "handle_exception",
    "optional_actor",
    "platform_of",
    "require",
]
