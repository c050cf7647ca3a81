"""Settlement's compute meter: a released computation is one billable call of its agreement;
an answer from the cache is free; a refused or failed job bills nothing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parent))
from compute_flow import DEFAULT_RATE, Space, open_space
from test_jobs import run

from shuchang.db import utcnow
from shuchang.domains.compute import period_jobs
from shuchang.domains.compute.sandbox import Sandbox
from shuchang.domains.settlement import meters
from shuchang.domains.settlement.periods import period_of
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


def test_released_jobs_are_calls_and_cached_answers_are_free(
    space: Space, sandbox: Sandbox
) -> None:
    assert run(space, sandbox, sql=DEFAULT_RATE).state == "succeeded"
    assert run(space, sandbox, sql=DEFAULT_RATE, epsilon=0.4).state == "succeeded"
    cached = run(space, sandbox, sql=DEFAULT_RATE)  # the first one again: from the cache
    assert cached.cached_from is not None
    period = period_of(utcnow())
    with space.platform.unit(write=False) as s:
        (usage,) = period_jobs(s, period.start, period.end).values()
        metered = meters.usage(s, period)[space.agreement_id]
        before = period_jobs(s, period.start - timedelta(days=40), period.start)
    assert (usage.jobs, usage.released, usage.cached, usage.failed) == (3, 2, 1, 0)
    (compute,) = [m for m in metered if m.meter == "compute"]
    assert compute.quantities == {"call": 2} and compute.records == 3
    assert meters.quantities(metered)["call"] == 2  # no gateway use under this agreement
    assert before == {}  # jobs count in the month they finished
