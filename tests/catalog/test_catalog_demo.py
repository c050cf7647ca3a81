"""`shuchang demo` seeds the demo region's catalog (东瓯市) as the scenarios describe it.

Run once on a fresh SQLite file; the consumer (a bank), the operator (the data bureau) and a
provider (the traffic police) then use it through the API as they would in the console.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from catalog_support import PRODUCTS, RESOURCES, SEARCH, Client
from click.testing import CliRunner
from litestar.testing import TestClient

from shuchang.app import create_app
from shuchang.cli import cli
from shuchang.demo import keys_file
from shuchang.platform import Platform
from shuchang.settings import Settings


@dataclass
class Demo:
    client: Client
    keys: dict[str, str]

    def get(self, who: str, path: str, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.keys[who]}"}
        response = self.client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder: Path = tmp_path_factory.mktemp("demo")
    env = {
        "SHUCHANG_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}",
        "SHUCHANG_SEQUENCER": "false",
    }
    result = CliRunner().invoke(cli, ["demo"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    settings = Settings.from_env(env)
    keys = json.loads(keys_file(settings).read_text())
    assert "东瓯商业银行股份有限公司" in result.stdout
    platform = Platform.build(settings)
    with TestClient(create_app(settings, platform)) as client:
        yield Demo(client, keys)


BANK = "东瓯商业银行股份有限公司"
BUREAU = "东瓯市数据局"
POLICE = "东瓯市公安局交通警察支队"


def titles(page: dict[str, Any]) -> set[str]:
    return {hit["title"] for hit in page["items"]}


def test_a_consumer_finds_the_listed_products(demo: Demo) -> None:
    products = demo.get(BANK, SEARCH, type="product", limit=100)

    assert titles(products) == {
        "企业登记与处罚信息数据集",
        "纳税信用隐私计算服务",
        "企业用电指数（数据元件）",
        "企业月度用电指数（数据元件·实时加工）",  # made by the demo's data-element run
        "人伤医疗费用核验",
        "线缆质量追溯数据",
    }
    assert titles(demo.get(BANK, SEARCH, q="税务局")) >= {"纳税信用隐私计算服务"}
    assert titles(demo.get(BANK, SEARCH, q="车险理赔", type="product")) == {"人伤医疗费用核验"}
    assert titles(demo.get(BANK, SEARCH, q="credit_grade")) == {
        "纳税信用等级与发票汇总",
        "纳税信用隐私计算服务",
    }


def test_the_core_data_resource_is_hidden_from_a_consumer(demo: Demo) -> None:
    everything = demo.get(BANK, SEARCH, limit=100)
    seen_by_bureau = demo.get(BUREAU, SEARCH, q="重点车辆", classification="core")

    assert "重点车辆实时轨迹" not in titles(everything)
    assert {hit["classification"] for hit in everything["items"]} <= {"general", "important"}
    [core] = seen_by_bureau["items"]
    headers = {"Authorization": f"Bearer {demo.keys[BANK]}"}
    response = demo.client.get(f"{RESOURCES}/{core['id']}", headers=headers)
    assert (response.status_code, response.json()["code"]) == (404, "resource.not_found")


def test_the_returned_product_says_it_needs_a_legal_basis(demo: Demo) -> None:
    hits = demo.get(POLICE, SEARCH, q="道路交通事故记录", type="resource")["items"]
    [accidents] = hits
    lineage = demo.get(POLICE, f"{RESOURCES}/{accidents['id']}/lineage")
    [product_id] = lineage["products"]

    product = demo.get(POLICE, f"{PRODUCTS}/{product_id}")

    assert (product["title"], product["status"]) == ("交通事故认定查询接口", "returned")
    assert [r["code"] for r in product["review_reasons"]] == ["listing.legal_basis"]
    assert demo.get(BANK, f"{RESOURCES}/{accidents['id']}/lineage")["products"] == []


def test_one_product_waits_for_review(demo: Demo) -> None:
    queue = demo.get(BUREAU, "/api/v1/catalog/review-queue")

    assert [(p["title"], p["status"]) for p in queue] == [
        ("企业活力指数（一级开发产品）", "submitted")
    ]
