"""The demo region's data element (S1): the power company's monthly electricity-use index per
enterprise, derived from invented daily meter readings in its data root, run once in the
locked-down runner and listed with its real digests.

The readings are deterministic (the same on every machine) and written only if the file is
missing: ``<data root>/demo/power/meter_readings.parquet``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from shuchang.datasources import DataSources
from shuchang.db import make_session_factory, session_scope
from shuchang.demo_market import pass_compliance
from shuchang.domains.catalog import ResourceIn, register_resource
from shuchang.domains.catalog.products import review
from shuchang.domains.catalog.schemas import ReviewDecision
from shuchang.domains.compute import element_runs, elements
from shuchang.domains.compute.element_runner import ProcessRunner
from shuchang.domains.compute.element_schemas import ElementIn, ElementListing
from shuchang.domains.participants import SYSTEM, Actor
from shuchang.settings import Settings

POWER = "东瓯电力有限公司"
READINGS = "demo/power/meter_readings.parquet"
PURPOSE = "小微企业信贷风险评估"


def write_readings(root: Path) -> Path:
    """120 enterprises × 180 days of readings (seven districts), if not there yet."""
    import duckdb

    path = root / READINGS
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    duckdb.execute(
        """
        COPY (
          SELECT '91330300MA2E' || lpad(CAST(e AS VARCHAR), 5, '0') || 'X' AS uscc,
                 DATE '2025-07-01' + CAST(d AS INTEGER) AS read_at,
                 '3303' || lpad(CAST(e % 7 + 1 AS VARCHAR), 2, '0') AS district,
                 CAST((e * 131 + d * 17) % 900 + 100 AS DOUBLE) / 10 AS kwh
          FROM range(120) AS t(e), range(180) AS u(d)
        ) TO ? (FORMAT parquet)
        """,
        [str(partial)],
    )
    partial.rename(path)
    return path


RESOURCE = {
    "title": "工商业用户日用电计量读数",
    "title_en": "Daily meter readings of business customers",
    "description": "东瓯市工商业用户的智能电表日读数（千瓦时），关联统一社会信用代码，来自用电"
    "信息采集系统。",
    "fields": [
        {"name": "uscc", "type": "string", "role": "identifier", "description": "统一社会信用代码"},
        {"name": "read_at", "type": "date", "description": "读数日期"},
        {"name": "district", "type": "string", "role": "dimension", "description": "区县"},
        {"name": "kwh", "type": "decimal", "role": "measure", "description": "日用电量"},
    ],
    "source": "用电信息采集系统",
    "update_frequency": "daily",
    "industry": "D44",
    "classification": "important",
    "location": {"type": "file", "path": "/" + READINGS, "format": "parquet"},
    "regions": ["330300"],
    "tags": ["电力", "用电量"],
}


def _definition(resource_id: uuid.UUID) -> ElementIn:
    return msgspec.convert(
        {
            "name": "monthly-power-index",
            "title": "企业月度用电指数",
            "sources": [{"alias": "meter", "resource_id": str(resource_id)}],
            "sql": "SELECT uscc, date_trunc('month', read_at)::DATE AS month, district, "
            "round(sum(kwh)) AS kwh FROM meter GROUP BY ALL",
            "steps": [
                {"op": "hash", "column": "uscc"},
                {"op": "generalize_date", "column": "month", "to": "month"},
                {"op": "band", "column": "kwh", "width": 500},
            ],
            "quasi_identifiers": ["district", "kwh"],
            "k": 5,
            "on_violation": "suppress",
        },
        ElementIn,
    )


LISTING = {
    "title": "企业月度用电指数（数据元件·实时加工）",
    "description": "按企业、按月汇总的用电量区间：企业标识经 HMAC-SM3 处理，日期泛化到月，用电"
    "量分段，区县与用电段上满足 5-匿名。",
    "policy": {
        "@type": "Offer",
        "permission": [
            {
                "action": "use",
                "constraint": [
                    {"leftOperand": "purpose", "operator": "eq", "rightOperand": PURPOSE}
                ],
            }
        ],
    },
    "price": {"model": "per_call", "amount_fen": 80},
    "tags": ["电力", "普惠金融"],
}


def seed_elements(engine: Engine, settings: Settings, members: dict[str, uuid.UUID]) -> None:
    """Register the readings, define, run and list the element (first seeding only)."""
    factory = make_session_factory(engine)

    @contextmanager
    def unit() -> Iterator[Session]:
        with session_scope(factory) as session:
            yield session

    write_readings(DataSources.of(settings).root)
    actor = Actor(participant_id=members[POWER], role="provider")
    with unit() as s:
        resource = register_resource(s, actor, msgspec.convert(RESOURCE, ResourceIn))
    runner = ProcessRunner()
    element = elements.define(unit, settings, actor, _definition(resource.id), runner)
    run = element_runs.run(unit, settings, actor, element.id, runner)
    with unit() as s:
        product = element_runs.list_run(s, actor, run.id, msgspec.convert(LISTING, ElementListing))
        review(s, SYSTEM, product.id, ReviewDecision(decision="approve"), settings.reviewers)
        pass_compliance(s, members, actor, product.id, settings)  # as every listed demo product
