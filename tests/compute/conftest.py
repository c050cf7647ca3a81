"""The compute tests' platform has a data root of its own (``SHUCHANG_DATA_ROOT``)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from shuchang.settings import Settings


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    root = tmp_path / "data"
    root.mkdir()
    return dataclasses.replace(settings, data_root=str(root))


# The contracts and catalog test helpers (two parties, signed DSP messages, schemas).
sys.path.append(str(Path(__file__).resolve().parents[1] / "contracts"))
sys.path.append(str(Path(__file__).resolve().parents[1] / "catalog"))
sys.path.append(str(Path(__file__).resolve().parents[1] / "web"))


@pytest.fixture
def chromium() -> Iterator[Browser]:
    from browser_support import headless_chromium

    with headless_chromium() as browser:
        yield browser
