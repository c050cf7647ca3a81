"""The PSI hook: a DP aggregate restricted to an identifier set held at the provider."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parent))
from compute_flow import Space, open_space

from shuchang.domains.compute import (
    Restriction,
    Sandbox,
    compute_release,
    load_profile,
    validate_query,
)
from shuchang.platform import Platform


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(1)
    yield box
    box.close()


@pytest.fixture
def space(platform: Platform, tmp_path: Path) -> Iterator[Space]:
    with open_space(platform, tmp_path) as opened:
        yield opened


def test_restrict_to_counts_only_the_intersection(space: Space, sandbox: Sandbox) -> None:
    applicants = (*(str(row[0]) for row in space.rows[:1000]), "91330300MA99999999")
    with space.platform.unit(write=False) as s:
        loaded = load_profile(s, space.product_id)
    plan = validate_query("SELECT COUNT(*) AS n FROM tax", loaded.catalogue)
    result, data = compute_release(
        space.platform.settings,
        sandbox,
        loaded,
        plan,
        2.0,
        restrict_to=Restriction("uscc", applicants),
    )
    assert data.rows == 3000
    assert abs(result.rows[0][0] - 1000) < 40  # discrete Laplace of scale 1 / (2.0 / 2)
    assert result.epsilon == 2.0


def test_restrict_to_only_on_materialised_columns(space: Space, sandbox: Sandbox) -> None:
    with space.platform.unit(write=False) as s:
        loaded = load_profile(s, space.product_id)
    plan = validate_query("SELECT COUNT(*) FROM tax", loaded.catalogue)
    with pytest.raises(ValueError, match="not materialised"):
        compute_release(
            space.platform.settings,
            sandbox,
            loaded,
            plan,
            1.0,
            restrict_to=Restriction("name", ("x",)),
        )
