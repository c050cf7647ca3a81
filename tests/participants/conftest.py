"""Fixtures of the onboarding tests: clients over the same database with other rules."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from shuchang.app import create_app
from shuchang.platform import Platform

MakeClient = Callable[..., TestClient]  # type: ignore[type-arg]


@pytest.fixture
def make_client(platform: Platform) -> Iterator[MakeClient]:
    """``make_client(review_rule=..., approval=...)``: the app on the test database with
    those onboarding settings (everything else, the database included, stays the same)."""
    opened: list[TestClient] = []  # type: ignore[type-arg]

    def make(**overrides: Any) -> TestClient:  # type: ignore[type-arg]
        settings = dataclasses.replace(platform.settings, **overrides)
        shared = Platform(settings=settings, engine=platform.engine, sessions=platform.sessions)
        client = TestClient(create_app(settings, shared))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)
