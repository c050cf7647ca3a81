"""Jobs end to end on both backends: submit → validate → rewrite → sandbox → DP → debit →
answer, with evidence; cache at no cost; budget exhaustion releases nothing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import select

sys.path.append(str(Path(__file__).resolve().parent))
from compute_flow import DEFAULT_RATE, Space, open_space

from shuchang.domains.compute import jobs, views
from shuchang.domains.compute.errors import BudgetExhausted, QueryRejected
from shuchang.domains.compute.execution import run_job
from shuchang.domains.compute.models import BudgetAccount, ComputeJob
from shuchang.domains.compute.sandbox import Sandbox
from shuchang.domains.compute.schemas import JobIn, JobOut
from shuchang.domains.evidence.models import OutboxEntry
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


def run(space: Space, sandbox: Sandbox, **body: object) -> JobOut:
    data = msgspec.convert({"agreement_id": str(space.agreement_id), **body}, JobIn)
    with space.platform.unit() as s:
        job = jobs.submit(s, space.consumer, data)
        job_id, state = job.id, job.state
    if state == "queued":
        run_job(space.platform.unit, space.platform.settings, sandbox, job_id)
    with space.platform.unit(write=False) as s:
        return views.job_out(s.get(ComputeJob, job_id), space.consumer)  # type: ignore[arg-type]


def test_default_rate_by_industry_and_district(space: Space, sandbox: Sandbox) -> None:
    out = run(space, sandbox, sql=DEFAULT_RATE, epsilon=0.6)
    assert out.state == "succeeded", out.error
    assert out.result is not None
    assert out.result.columns == ["industry_code", "district", "n", "default_rate"]
    assert len(out.result.rows) == 6 * 4  # every cell of the public domain
    assert out.result.epsilon == 0.6 and out.epsilon_charged == 0.6
    stats = {s.kind: s for s in out.result.statistics}
    assert stats["persons"].mechanism == "discrete_laplace"
    assert stats["persons"].epsilon == pytest.approx(0.2)  # ε split over persons, rows, sum
    assert stats["sum"].scale >= 1 / 0.2
    released = [
        r for r, hidden in zip(out.result.rows, out.result.suppressed, strict=True) if not hidden
    ]
    assert released and all(0 <= r[3] <= 1 for r in released)
    total = sum(r[2] for r in released)
    assert abs(total - 3000) < 300  # 24 noisy counts of scale 5 around 3000
    assert out.input_digest and out.result_digest


def test_release_is_recorded_as_evidence_with_digests(space: Space, sandbox: Sandbox) -> None:
    out = run(space, sandbox, template="default_rate")
    with space.platform.unit(write=False) as s:
        entry = s.scalars(
            select(OutboxEntry).where(
                OutboxEntry.subject == f"compute_job:{out.id}",
                OutboxEntry.kind == "compute.job_released",
            )
        ).one()
    payload = entry.payload
    assert payload["agreement"] == str(space.agreement_id)
    assert payload["consumer"] == str(space.parties.consumer.id)
    assert payload["normalised_sql"] == out.normalised_sql
    assert payload["charged_micro"] == 500_000
    assert payload["input"]["digest"] == out.input_digest and payload["input"]["rows"] == 3000
    assert payload["result_digest"] == out.result_digest


def test_identical_normalised_queries_are_answered_from_cache_at_no_cost(
    space: Space, sandbox: Sandbox
) -> None:
    first = run(space, sandbox, sql=DEFAULT_RATE)
    again = run(space, sandbox, sql=DEFAULT_RATE.lower().replace("group by", "GROUP   BY"))
    assert again.cached_from == first.id and again.epsilon_charged == 0
    assert again.result is not None and first.result is not None
    assert again.result.rows == first.result.rows and again.result.cached
    with space.platform.unit(write=False) as s:
        assert views.budget(s, space.consumer, space.agreement_id).period_spent == 0.5
    other_epsilon = run(space, sandbox, sql=DEFAULT_RATE, epsilon=0.4)
    assert other_epsilon.cached_from is None and other_epsilon.epsilon_charged == 0.4


def test_template_parameters_are_typed_and_bound(space: Space, sandbox: Sandbox) -> None:
    out = run(space, sandbox, template="district_invoices", params={"industry": "C13"})
    assert out.state == "succeeded" and out.result is not None
    assert out.result.columns == ["district", "invoices"]
    with pytest.raises(QueryRejected) as info:
        run(space, sandbox, template="district_invoices", params={"industry": "X99"})
    assert info.value.reason == "value_outside_domain"
    with pytest.raises(QueryRejected):
        run(space, sandbox, template="district_invoices", params={"industry": 3})


def test_exhaustion_is_a_clear_error_and_releases_nothing(space: Space, sandbox: Sandbox) -> None:
    for epsilon in (1.0, 0.99, 0.91):  # 2.9 of the agreement's 3.0 (distinct: no cache)
        assert run(space, sandbox, sql=DEFAULT_RATE, epsilon=epsilon).state == "succeeded"
    with space.platform.unit(write=False) as s:
        jobs_before = len(s.scalars(select(ComputeJob)).all())
    with pytest.raises(BudgetExhausted) as info:
        run(space, sandbox, sql="SELECT COUNT(*) FROM tax", epsilon=0.2)
    problem = info.value.problem()
    assert problem["status"] == 409 and problem["code"] == "compute.budget_exhausted"
    assert problem["epsilon_remaining"] == pytest.approx(0.1)
    assert "未发布任何结果" in problem["message_zh"]
    with space.platform.unit(write=False) as s:
        assert len(s.scalars(select(ComputeJob)).all()) == jobs_before
        accounts = {a.account: a.spent_micro for a in s.scalars(select(BudgetAccount))}
    assert accounts["product"] == 2_900_000
    assert run(space, sandbox, sql="SELECT COUNT(*) FROM tax", epsilon=0.1).state == "succeeded"


def test_a_job_that_would_overspend_at_release_is_refused_then(
    space: Space, sandbox: Sandbox
) -> None:
    """Two jobs pass the early check; the second to release finds the budget gone."""
    data = [msgspec.convert({"agreement_id": str(space.agreement_id), "sql": DEFAULT_RATE,
                             "epsilon": e}, JobIn) for e in (1.0, 0.99, 0.98, 0.5)]  # fmt: skip
    with space.platform.unit() as s:
        queued = [jobs.submit(s, space.consumer, d).id for d in data]
    for job_id in queued:
        run_job(space.platform.unit, space.platform.settings, sandbox, job_id)
    with space.platform.unit(write=False) as s:
        states = [s.get(ComputeJob, i) for i in queued]
    assert [j.state for j in states] == ["succeeded", "succeeded", "succeeded", "failed"]  # type: ignore[union-attr]
    last = states[-1]
    assert last is not None and last.result is None and last.charged_micro == 0
    assert last.error is not None and last.error["code"] == "compute.budget_exhausted"
