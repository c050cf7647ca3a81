"""`shuchang demo` seeds the data market: every listed product has passed compliance review,
the power company's index is a registered asset with a valuation and a pledge to the bank,
and the regulator's dashboard counts them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from shuchang.app import create_app
from shuchang.cli import cli
from shuchang.demo import keys_file
from shuchang.platform import Platform
from shuchang.settings import Settings

BANK = "东瓯商业银行股份有限公司"
REGULATOR = "东瓯市互联网信息办公室"
POWER = "东瓯电力有限公司"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:  # type: ignore[type-arg]
    folder: Path = tmp_path_factory.mktemp("demo")
    env = {
        "SHUCHANG_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}",
        "SHUCHANG_SEQUENCER": "false",
    }
    result = CliRunner().invoke(cli, ["demo"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    settings = Settings.from_env(env)
    keys = json.loads(keys_file(settings).read_text())
    with TestClient(create_app(settings, Platform.build(settings))) as client:
        yield client, keys


def _get(demo: tuple[TestClient, dict[str, str]], who: str, path: str) -> Any:  # type: ignore[type-arg]
    client, keys = demo
    response = client.get(path, headers={"Authorization": f"Bearer {keys[who]}"})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_power_companys_index_is_a_pledged_asset(
    demo: tuple[TestClient, dict[str, str]],
) -> None:  # type: ignore[type-arg]
    registered = _get(demo, BANK, "/api/v1/assets/?status=registered")
    assert [r["title"] for r in registered] == ["企业用电指数（数据元件）"]
    detail = _get(demo, BANK, f"/api/v1/assets/{registered[0]['id']}")
    assert detail["value_fen"] == 480_000_000 and detail["pledged_fen"] == 300_000_000
    pledges = _get(demo, BANK, "/api/v1/assets/pledges")
    assert len(pledges) == 1 and pledges[0]["status"] == "registered"


def test_every_listed_product_passed_compliance(demo: tuple[TestClient, dict[str, str]]) -> None:  # type: ignore[type-arg]
    listed = _get(demo, BANK, "/api/v1/catalog/search?type=product&limit=100&facets=false")["items"]
    assert len(listed) == 6  # five from the catalog seed, the power company's data element
    for hit in listed:
        status = _get(demo, BANK, f"/api/v1/compliance/products/{hit['id']}")
        assert status["status"] == "passed" and status["current"], hit["title"]


def test_the_dashboard_counts_the_demo(demo: tuple[TestClient, dict[str, str]]) -> None:  # type: ignore[type-arg]
    board = _get(demo, REGULATOR, "/api/v1/supervision/indicators")
    registry = {
        (r[0], r[1]): r[2]
        for r in next(t for t in board["tables"] if t["name"] == "registry")["rows"]
    }
    assert registry[("asset", "registered")] == 1
    assert registry[("compliance", "passed")] == 6
    assert registry[("pledge", "registered_fen")] == 300_000_000
    assert board["headline"]["products_listed"] == 6
