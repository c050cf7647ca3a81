"""Fixtures of the data-plane tests: a running gateway in front of a stand-in backend."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parent))
from dataplane_support import Plane, open_plane

from shuchang.platform import Platform


@pytest.fixture
def plane(platform: Platform, tmp_path: Path) -> Iterator[Plane]:
    with open_plane(platform, tmp_path) as opened:
        yield opened
