"""The compute API: problems with reasons, sync answers, budgets, the provider's job log."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.append(str(Path(__file__).resolve().parent))
from compute_flow import DEFAULT_RATE, Space, open_space, profile_body

from shuchang.platform import Platform


@pytest.fixture
def space(platform: Platform, tmp_path: Path) -> Iterator[Space]:
    with open_space(platform, tmp_path) as opened:
        yield opened


def post_job(space: Space, **body: Any) -> Any:
    return space.side.client.post(
        "/api/v1/compute/jobs?wait=30",
        json={"agreement_id": str(space.agreement_id), **body},
        headers=space.parties.consumer.headers,
    )


def test_a_small_job_answers_synchronously_with_epsilon_and_noise(space: Space) -> None:
    response = post_job(space, sql=DEFAULT_RATE, epsilon=0.3)
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["state"] == "succeeded"
    assert job["result"]["epsilon"] == 0.3
    assert {s["kind"] for s in job["result"]["statistics"]} == {"persons", "count", "sum"}
    assert all(s["scale"] > 0 for s in job["result"]["statistics"])
    budget = space.side.client.get(
        f"/api/v1/compute/agreements/{space.agreement_id}/budget",
        headers=space.parties.consumer.headers,
    ).json()
    assert budget["period_spent"] == 0.3 and budget["period_remaining"] == pytest.approx(2.7)
    assert budget["lifetime_spent"] == 0.3 and budget["lifetime_cap"] == 100.0


def test_rejections_are_problems_with_a_stable_reason(space: Space) -> None:
    response = post_job(space, sql="SELECT MAX(invoice_total_fen) FROM tax")
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "compute.query.min_max" and problem["reason"] == "min_max"
    assert problem["field"] == "sql" and problem["message_zh"] and problem["message_en"]
    assert response.headers["content-type"].startswith("application/problem+json")
    too_big = post_job(space, sql=DEFAULT_RATE, epsilon=5)
    assert too_big.status_code == 422 and too_big.json()["code"] == "compute.epsilon_too_large"


def test_dry_run_check_spends_nothing(space: Space) -> None:
    response = space.side.client.post(
        "/api/v1/compute/jobs/check",
        json={"agreement_id": str(space.agreement_id), "sql": DEFAULT_RATE},
        headers=space.parties.consumer.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["cells"] == 24
    assert response.json()["normalised_sql"].startswith('SELECT "industry_code"')


def test_the_provider_job_log_shows_queries_but_not_answers(space: Space) -> None:
    assert post_job(space, template="default_rate").status_code == 200
    log = space.side.client.get(
        f"/api/v1/compute/jobs?product_id={space.product_id}",
        headers=space.parties.provider.headers,
    ).json()
    assert len(log) == 1 and log[0]["result"] is None and log[0]["epsilon_charged"] == 0.5
    assert log[0]["normalised_sql"] and log[0]["input_digest"]
    mine = space.side.client.get(
        "/api/v1/compute/jobs", headers=space.parties.consumer.headers
    ).json()
    assert mine[0]["result"] is not None


def test_cancelling_a_finished_job_is_a_conflict(space: Space) -> None:
    job = post_job(space, template="default_rate").json()
    response = space.side.client.post(
        f"/api/v1/compute/jobs/{job['id']}/cancel", headers=space.parties.consumer.headers
    )
    assert response.status_code == 409 and response.json()["code"] == "compute.job_finished"


def test_only_the_provider_sets_the_profile_and_faults_name_the_field(space: Space) -> None:
    url = f"/api/v1/compute/profiles/{space.product_id}"
    body = profile_body()
    denied = space.side.client.put(url, json=body, headers=space.parties.consumer.headers)
    assert denied.status_code == 403
    wrong = {**body, "person": "name"}
    refused = space.side.client.put(url, json=wrong, headers=space.parties.provider.headers)
    assert refused.status_code == 422 and refused.json()["field"] == "person"
    no_domain = {**body, "dimensions": [{"name": "district"}]}
    refused = space.side.client.put(url, json=no_domain, headers=space.parties.provider.headers)
    assert refused.status_code == 422 and refused.json()["field"] == "dimensions[0]"
    ok = space.side.client.put(url, json=body, headers=space.parties.provider.headers)
    assert ok.status_code == 200 and ok.json()["revision"] == 2


def test_strangers_do_not_see_jobs_or_budgets(space: Space) -> None:
    job = post_job(space, template="default_rate").json()
    other = space.side.client.get(f"/api/v1/compute/jobs/{job['id']}")
    assert other.status_code == 401
