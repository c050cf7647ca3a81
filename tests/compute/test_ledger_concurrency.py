"""Concurrent jobs never overspend: releases lock the ledger rows (both backends)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import select

sys.path.append(str(Path(__file__).resolve().parent))
from compute_flow import DEFAULT_RATE, offer, open_space

from shuchang.domains.compute import jobs, ledger
from shuchang.domains.compute.execution import run_job
from shuchang.domains.compute.models import BudgetAccount, ComputeJob
from shuchang.domains.compute.sandbox import Sandbox
from shuchang.domains.compute.schemas import JobIn
from shuchang.platform import Platform


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(2)
    yield box
    box.close()


def test_eight_concurrent_releases_spend_exactly_the_budget(
    platform: Platform, tmp_path: Path, sandbox: Sandbox
) -> None:
    with open_space(platform, tmp_path, policy=offer(epsilon="3.0")) as space:
        body = {"agreement_id": str(space.agreement_id), "sql": DEFAULT_RATE, "epsilon": 0.5}
        with space.platform.unit() as s:
            queued = [
                jobs.submit(s, space.consumer, msgspec.convert(body, JobIn)).id for _ in range(8)
            ]
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda j: run_job(space.platform.unit, space.platform.settings, sandbox, j),
                    queued,
                )
            )
        with space.platform.unit(write=False) as s:
            states = sorted(s.get(ComputeJob, j).state for j in queued)  # type: ignore[union-attr]
            accounts = {
                a.account: (a.spent_micro, a.releases) for a in s.scalars(select(BudgetAccount))
            }
    assert states == ["failed"] * 2 + ["succeeded"] * 6
    assert accounts[ledger.PRODUCT] == (3_000_000, 6)
    (period,) = [k for k in accounts if k.startswith("consumer:")]
    assert accounts[period] == (3_000_000, 6)
