"""`shuchang compute …` through click's runner on the test database."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

sys.path.append(str(Path(__file__).resolve().parent))
from compute_flow import DEFAULT_RATE, Space, open_space, profile_body

from shuchang.cli import cli
from shuchang.platform import Platform


@pytest.fixture
def space(platform: Platform, tmp_path: Path) -> Iterator[Space]:
    with open_space(platform, tmp_path) as opened:
        yield opened


def run(space: Space, *args: str) -> Result:
    settings = space.platform.settings
    env = {
        "SHUCHANG_DATABASE_URL": settings.database_url,
        "SHUCHANG_LOG_KEY_FILE": settings.log_key_file,
        "SHUCHANG_DATA_ROOT": settings.data_root,
        "SHUCHANG_COMPUTE_STORE": settings.compute_store,
    }
    return CliRunner(env=env).invoke(cli, list(args))


def ok(result: Result) -> Any:
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def test_submit_show_budget_and_the_job_log(space: Space) -> None:
    consumer, provider = str(space.parties.consumer.id), str(space.parties.provider.id)
    job = ok(run(space, "compute", "submit", str(space.agreement_id), "--sql", DEFAULT_RATE,
                 "--epsilon", "0.25", "--as", consumer))  # fmt: skip
    assert job["state"] == "succeeded" and job["result"]["epsilon"] == 0.25
    shown = ok(run(space, "compute", "show", job["id"], "--as", consumer))
    assert shown["result"]["rows"] == job["result"]["rows"]
    budget = ok(run(space, "compute", "budget", str(space.agreement_id), "--as", consumer))
    assert budget["period_spent"] == 0.25
    log = ok(run(space, "compute", "list", "--product", str(space.product_id), "--as", provider))
    assert [j["id"] for j in log] == [job["id"]] and log[0]["result"] is None


def test_templates_with_params_and_refusals_as_problems(space: Space) -> None:
    consumer = str(space.parties.consumer.id)
    job = ok(run(space, "compute", "submit", str(space.agreement_id), "--template",
                 "district_invoices", "--param", "industry=F51", "--as", consumer))  # fmt: skip
    assert job["result"]["columns"] == ["district", "invoices"]
    refused = run(space, "compute", "submit", str(space.agreement_id), "--sql",
                  "SELECT * FROM read_csv('/etc/passwd')", "--as", consumer)  # fmt: skip
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert json.loads(refused.stderr)["code"] == "compute.query.table_function"


def test_profile_set_and_show(space: Space, tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(profile_body(k=20)))
    out = ok(run(space, "compute", "profile", "set", str(space.product_id), str(path),
                 "--as", str(space.parties.provider.id)))  # fmt: skip
    assert out["revision"] == 2 and out["profile"]["k"] == 20
    assert ok(run(space, "compute", "profile", "show", str(space.product_id)))["revision"] == 2
