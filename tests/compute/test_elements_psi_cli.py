"""`shuchang compute elements …` and `shuchang compute psi …` as a provider's operator uses them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
from click.testing import CliRunner, Result
from elements_support import definition, power_company

from shuchang.cli import cli
from shuchang.platform import Platform


def _run(platform: Platform, *args: str | Path) -> Result:
    env = {
        "SHUCHANG_DATABASE_URL": platform.settings.database_url,
        "SHUCHANG_LOG_KEY_FILE": platform.settings.log_key_file,
        "SHUCHANG_DATA_ROOT": platform.settings.data_root,
    }
    return CliRunner(env=env).invoke(cli, [str(a) for a in args])


def _ok(result: Result) -> Any:
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def test_define_run_and_list_an_element_from_the_command_line(
    platform: Platform, tmp_path: Path
) -> None:
    company = power_company(platform, Path(platform.settings.data_root))
    spec = tmp_path / "element.json"
    spec.write_bytes(msgspec.json.encode(definition(company, on_violation="suppress")))
    me = str(company.member.id)
    element = _ok(_run(platform, "compute", "elements", "define", spec, "--as", me))
    run = _ok(_run(platform, "compute", "elements", "run", element["id"], "--as", me))
    assert run["status"] == "succeeded" and len(run["sm3"]) == 64
    listing = tmp_path / "listing.json"
    listing.write_text(
        json.dumps(
            {
                "title": "企业月度用电指数",
                "description": "按企业按月的用电量区间（数据元件），标识经 HMAC-SM3 处理。",
                "policy": {"@type": "Offer", "permission": [{"action": "use"}]},
                "price": {"model": "free"},
                "tags": ["用电"],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    product = _ok(_run(platform, "compute", "elements", "list-run", run["id"], listing, "--as", me))
    assert product["kind"] == "data_element" and product["status"] == "submitted"
    assert [
        r["id"]
        for r in _ok(_run(platform, "compute", "elements", "runs", element["id"], "--as", me))
    ] == [run["id"]]


def test_a_bad_definition_is_a_problem_on_stderr(platform: Platform, tmp_path: Path) -> None:
    company = power_company(platform, Path(platform.settings.data_root))
    spec = tmp_path / "element.json"
    spec.write_bytes(msgspec.json.encode(definition(company, sql="DROP TABLE meter")))
    result = _run(platform, "compute", "elements", "define", spec, "--as", str(company.member.id))
    assert result.exit_code == 1
    assert json.loads(result.stderr)["code"] == "element.sql_not_select"


def test_psi_list_shows_every_session_to_the_platform(platform: Platform) -> None:
    assert _ok(_run(platform, "compute", "psi", "list")) == []
    assert _run(platform, "compute", "psi", "expire").output.strip() == "0 sessions expired"
