"""Fixtures of the settlement tests: the region of :mod:`settlement_support` on each backend."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parent))
from settlement_support import Region, region

from shuchang.platform import Platform


@pytest.fixture
def world(platform: Platform) -> Region:
    return region(platform)
