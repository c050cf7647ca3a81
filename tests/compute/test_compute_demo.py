"""S1 in the demo: `shuchang demo` gives the tax product data, a profile and the bank an
agreement that runs "default rate by industry and district" through the API."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from litestar.testing import TestClient

from shuchang.app import create_app
from shuchang.cli import cli
from shuchang.demo import keys_file
from shuchang.demo_compute import BANK, DEFAULT_RATE, demo_rows
from shuchang.settings import Settings


def test_demo_rows_are_deterministic_and_plausible() -> None:
    rows = demo_rows(2000)
    assert rows == demo_rows(2000)
    assert len({r[0] for r in rows}) == 2000
    rate = sum(r[5] for r in rows) / len(rows)
    assert 0.01 < rate < 0.06


def test_the_bank_runs_default_rate_by_industry_and_district(tmp_path: Path) -> None:
    env = {
        "SHUCHANG_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "SHUCHANG_SEQUENCER": "false",
        "SHUCHANG_DATA_ROOT": str(tmp_path / "data"),
        "SHUCHANG_LOG_KEY_FILE": str(tmp_path / "log.key"),
    }
    result = CliRunner().invoke(cli, ["demo"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    settings = Settings.from_env(env)
    bank = {"Authorization": f"Bearer {json.loads(keys_file(settings).read_text())[BANK]}"}
    with TestClient(create_app(settings)) as client:
        jobs = client.get("/api/v1/compute/jobs", headers=bank)
        assert jobs.status_code == 200 and jobs.json() == []
        agreements = client.get("/api/v1/contracts/agreements", headers=bank).json()
        # the bank's agreement on the tax bureau's compute-only product (it has others: S1/S2)
        (agreement,) = [
            a
            for a in agreements
            if a["status"] == "active" and "epsilonPeriod" in json.dumps(a["document"])
        ]
        budget = client.get(f"/api/v1/compute/agreements/{agreement['id']}/budget", headers=bank)
        assert budget.json()["period_budget"] == 3.0
        body = {"agreement_id": agreement["id"], "template": "default_rate"}
        answer = client.post("/api/v1/compute/jobs?wait=60", json=body, headers=bank)
        assert answer.status_code == 200, answer.text
        result = answer.json()["result"]
        assert result["columns"] == ["industry_code", "district", "enterprises", "default_rate"]
        assert len(result["rows"]) == 80 and not all(result["suppressed"])
        sql = client.post(
            "/api/v1/compute/jobs?wait=60",
            json={**body, "template": None, "sql": DEFAULT_RATE},
            headers=bank,
        )
        assert sql.json()["cached_from"] == answer.json()["id"]  # the same normalised query
