"""An S1 space for the compute tests: the tax bureau's compute-only product over a Parquet
file in the data root, listed through review, and the bank's agreement from a real
negotiation (signed, countersigned), with a compute profile set by the provider."""

from __future__ import annotations

import dataclasses
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import msgspec

sys.path.append(str(Path(__file__).resolve().parent))
sys.path.append(str(Path(__file__).resolve().parents[1] / "contracts"))
sys.path.append(str(Path(__file__).resolve().parents[1] / "catalog"))
from compute_support import DISTRICTS, GRADES, INDUSTRIES, tax_rows
from contracts_support import Parties, Side, negotiate, open_side, register_party

from shuchang.domains.catalog import products, resources
from shuchang.domains.catalog.schemas import ProductIn, ResourceIn, ReviewDecision
from shuchang.domains.compute import profiles
from shuchang.domains.compute.schemas import ProfileIn
from shuchang.domains.participants import SYSTEM, Actor
from shuchang.platform import Platform

PURPOSE = "小微企业信贷风险评估"
FIELDS = [
    {"name": "uscc", "type": "string", "role": "identifier", "sensitivity": "general"},
    {"name": "name", "type": "string"},
    {"name": "industry_code", "type": "string", "role": "dimension"},
    {"name": "district", "type": "string", "role": "dimension"},
    {"name": "credit_grade", "type": "string", "role": "dimension"},
    {"name": "year", "type": "integer", "role": "dimension"},
    {"name": "defaulted", "type": "boolean", "role": "measure"},
    {"name": "invoice_total_fen", "type": "integer", "role": "measure"},
]
COLUMNS = ("uscc", "name", "industry_code", "district", "credit_grade", "year", "defaulted",
           "invoice_total_fen")  # fmt: skip
DEFAULT_RATE = (
    "SELECT industry_code, district, COUNT(*) AS n, AVG(defaulted) AS default_rate "
    "FROM tax GROUP BY industry_code, district"
)


def offer(epsilon: str = "3.0", period: str | None = "P1M", count: int = 10_000) -> dict[str, Any]:
    constraints: list[dict[str, Any]] = [
        {"leftOperand": "purpose", "operator": "eq", "rightOperand": PURPOSE},
        {"leftOperand": "count", "operator": "lteq", "rightOperand": str(count)},
        {"leftOperand": "epsilon", "operator": "lteq", "rightOperand": epsilon},
    ]
    if period:
        constraints.append(
            {"leftOperand": "epsilonPeriod", "operator": "eq", "rightOperand": period}
        )
    return {"@type": "Offer", "permission": [{"action": "compute", "constraint": constraints}]}


def profile_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "table": "tax",
        "person": "uscc",
        "dimensions": [
            {"name": "industry_code", "values": list(INDUSTRIES), "label": "行业"},
            {"name": "district", "values": list(DISTRICTS), "label": "区县"},
            {"name": "credit_grade", "values": list(GRADES)},
            {"name": "year", "min": 2019, "max": 2025},
        ],
        "measures": [
            {"name": "defaulted", "lower": 0, "upper": 1, "label": "是否欠税"},
            {"name": "invoice_total_fen", "lower": 0, "upper": 1_000_000_000},
        ],
        "templates": [
            {
                "name": "default_rate",
                "title": "按行业和区县统计违约率",
                "sql": DEFAULT_RATE,
            },
            {
                "name": "district_invoices",
                "title": "某行业各区县开票总额",
                "sql": "SELECT district, SUM(invoice_total_fen) AS invoices FROM tax "
                "WHERE industry_code = :industry GROUP BY district",
                "params": [{"name": "industry", "type": "string", "dimension": "industry_code"}],
            },
        ],
        "k": 10,
        "contribution_bound": 1,
        "epsilon_default": 0.5,
        "epsilon_max": 1.0,
        "lifetime_epsilon": 100.0,
    }
    body.update(overrides)
    return body


def write_parquet(path: Path, rows: list[tuple[object, ...]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect()
    conn.execute(
        "CREATE TABLE t (uscc VARCHAR, name VARCHAR, industry_code VARCHAR, district VARCHAR,"
        " credit_grade VARCHAR, year BIGINT, defaulted BOOLEAN, invoice_total_fen BIGINT)"
    )
    conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute(f"COPY t TO '{path}' (FORMAT parquet)")
    conn.close()


@dataclass
class Space:
    side: Side
    parties: Parties
    agreement_id: uuid.UUID
    rows: list[tuple[object, ...]]

    @property
    def platform(self) -> Platform:
        return self.side.platform

    @property
    def product_id(self) -> uuid.UUID:
        return self.parties.product_id

    @property
    def consumer(self) -> Actor:
        return Actor(participant_id=self.parties.consumer.id, role="consumer")

    @property
    def provider(self) -> Actor:
        return Actor(participant_id=self.parties.provider.id, role="provider")


def list_compute_product(
    platform: Platform, provider_id: uuid.UUID, policy: dict[str, Any]
) -> uuid.UUID:
    actor = Actor(participant_id=provider_id, role="provider")
    resource = msgspec.convert(
        {
            "title": "纳税信用等级与发票汇总",
            "description": "企业纳税信用等级与月度开票金额，属重要数据，仅供隐私计算。",
            "fields": FIELDS,
            "source": "金税系统",
            "update_frequency": "monthly",
            "industry": "S92",
            "classification": "important",
            "location": {"type": "file", "path": "/tax/credit.parquet", "format": "parquet"},
            "tags": ["税务"],
        },
        ResourceIn,
    )
    with platform.unit() as s:
        rid = resources.register(s, actor, resource).id
        body = {
            "kind": "compute_only",
            "title": "纳税信用隐私计算服务",
            "description": "在税务局连接器侧运行经批准的差分隐私聚合，结果不含单个企业的数据。",
            "resources": [str(rid)],
            "policy": policy,
            "price": {"model": "per_call", "amount_fen": 200},
            "tags": ["隐私计算"],
        }
        product = products.create(s, actor, msgspec.convert(body, ProductIn))
        products.submit(s, actor, product.id)
        products.review(s, SYSTEM, product.id, ReviewDecision(decision="approve"), ("operator",))
    return product.id


@contextmanager
def open_space(
    platform: Platform,
    tmp_path: Path,
    *,
    rows: list[tuple[object, ...]] | None = None,
    policy: dict[str, Any] | None = None,
    **profile: Any,
) -> Iterator[Space]:
    data = rows if rows is not None else tax_rows(3000)
    root = tmp_path / "data"
    write_parquet(root / "tax" / "credit.parquet", data)
    settings = dataclasses.replace(
        platform.settings, data_root=str(root), compute_store=str(tmp_path / "store")
    )
    configured = dataclasses.replace(platform, settings=settings)
    provider = register_party(
        configured,
        "government",
        "provider",
        "国家税务总局东瓯市税务局",
        "https://tax.dongou.example.cn/dsp",
    )
    consumer = register_party(
        configured,
        "enterprise",
        "consumer",
        "东瓯商业银行股份有限公司",
        "https://bank.dongou.example.cn/dsp",
    )
    policy = policy or offer()
    product_id = list_compute_product(configured, provider.id, policy)
    parties = Parties(provider, consumer, product_id, policy)
    with open_side(
        configured, tmp_path, parties, data_root=str(root), compute_store=str(tmp_path / "store")
    ) as side:
        agreement = negotiate(side).agreement_id
        with side.platform.unit() as s:
            profiles.set_profile(
                s,
                Actor(participant_id=provider.id, role="provider"),
                product_id,
                msgspec.convert(profile_body(**profile), ProfileIn),
            )
        yield Space(side, parties, agreement, data)
