"""Cancellation: a queued job never runs; a running one is stopped through the database
flag (as from another API process), releases nothing and spends nothing."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

sys.path.append(str(Path(__file__).resolve().parent))
from compute_flow import DEFAULT_RATE, Space, open_space

from shuchang.domains.compute import jobs, ledger
from shuchang.domains.compute.execution import run_job
from shuchang.domains.compute.models import ComputeJob
from shuchang.domains.compute.sandbox import Outcome, Sandbox, SandboxError, Task
from shuchang.domains.compute.schemas import JobIn
from shuchang.errors import InvalidTransition
from shuchang.platform import Platform


class SlowSandbox(Sandbox):
    """A sandbox whose query runs until it is cancelled (a fake of a long aggregate)."""

    started: threading.Event

    def __init__(self) -> None:
        super().__init__(1)
        self.started = threading.Event()

    def run(self, task: Task, cancel: threading.Event | None = None) -> Outcome:
        assert cancel is not None
        self.started.set()
        if not cancel.wait(10):
            raise AssertionError("never cancelled")
        raise SandboxError("cancelled", "interrupted")


@pytest.fixture
def space(platform: Platform, tmp_path: Path) -> Iterator[Space]:
    with open_space(platform, tmp_path) as opened:
        yield opened


def submit(space: Space) -> ComputeJob:
    body = {"agreement_id": str(space.agreement_id), "sql": DEFAULT_RATE}
    with space.platform.unit() as s:
        return jobs.submit(s, space.consumer, msgspec.convert(body, JobIn))


def test_a_queued_job_is_cancelled_and_never_runs(space: Space) -> None:
    job = submit(space)
    with space.platform.unit() as s:
        assert jobs.cancel(s, space.consumer, job.id).state == "cancelled"
    run_job(space.platform.unit, space.platform.settings, SlowSandbox(), job.id)
    with space.platform.unit(write=False) as s:
        assert s.get(ComputeJob, job.id).state == "cancelled"  # type: ignore[union-attr]
    with space.platform.unit() as s, pytest.raises(InvalidTransition):
        jobs.cancel(s, space.consumer, job.id)


def test_a_running_job_stops_on_the_database_flag(space: Space) -> None:
    job = submit(space)
    box = SlowSandbox()
    runner = threading.Thread(
        target=run_job, args=(space.platform.unit, space.platform.settings, box, job.id)
    )
    runner.start()
    assert box.started.wait(10)
    with space.platform.unit() as s:
        assert jobs.cancel(s, space.provider, job.id).cancel_requested
    runner.join(10)
    assert not runner.is_alive()
    with space.platform.unit(write=False) as s:
        done = s.get(ComputeJob, job.id)
        assert done is not None and done.state == "cancelled"
        assert done.result is None and done.charged_micro == 0
        account = ledger.consumer_account(done.consumer_id, done.period)
        assert ledger.spent(s, done.product_id, account) == 0
