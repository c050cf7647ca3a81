"""Helpers of the console tests: the form token, signing in, counting participants."""

from __future__ import annotations

import re
from typing import Any

import httpx
from litestar.testing import TestClient
from sqlalchemy import func, select

from shuchang.domains.participants.models import Participant
from shuchang.platform import Platform

Client = TestClient  # type: ignore[type-arg]
_CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert found, "the page has no form token"
    return found.group(1)


def form_token(client: Client, path: str = "/console/login") -> str:
    return csrf_of(client.get(path))


def sign_in(client: Client, api_key: str | None) -> httpx.Response:
    assert api_key
    token = form_token(client)
    return client.post(
        "/console/login", data={"_csrf": token, "api_key": api_key}, follow_redirects=False
    )


def post_form(client: Client, path: str, token: str, **fields: Any) -> httpx.Response:
    return client.post(path, data={"_csrf": token, **fields}, follow_redirects=False)


def participant_count(platform: Platform) -> int:
    with platform.unit(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(Participant)) or 0)


def field_error(page: httpx.Response, field: str) -> str | None:
    found = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', page.text)
    return found.group(1) if found else None
