"""Console tests run with manual approval and the lenient rule, as a pilot region would start:
a registration with a valid identifier is verified at once and waits for the operator.

The browser tests' ``server`` (the real `shuchang serve` on an SQLite file) and ``chromium``
fixtures are here so that every browser test file shares them (see browser_support)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import Server, headless_chromium, running_server
from playwright.sync_api import Browser

from shuchang.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The suite's settings (log key in the test's folder, sequencer off) with the console's
    # onboarding rules: manual approval and the lenient decision rule.
    return dataclasses.replace(settings, approval="manual", review_rule="lenient")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with running_server(tmp_path) as running:
        yield running


@pytest.fixture
def chromium() -> Iterator[Browser]:
    with headless_chromium() as browser:
        yield browser
