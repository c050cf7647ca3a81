"""Demo data that really flows (演示数据): the tables and the file the demo region's resources
name, written into the data root so that a demo download returns real rows.

``warehouse.db`` (the ``default`` connection) holds one SQLite table per demo SQL location,
named as the location names it (``samr.enterprise_registry``: SQLite has no schemas, so the
dotted name is the table's name), and ``/data/mes/reels.parquet`` holds the cable reels.
Everything is invented, deterministic (one seed) and small (a few hundred rows a table).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    inspect,
)

from shuchang.datasources import DataSources
from shuchang.settings import Settings

SEED = 20261201
DISTRICTS = ["鹿城区", "龙湾区", "瓯海区", "洞头区", "瑞安市", "乐清市", "永嘉县", "平阳县"]
INDUSTRIES = ["C38", "C34", "F51", "G54", "I65", "L72", "M74", "E48"]
WORDS = ["瓯江", "东海", "鹿城", "华信", "恒达", "新锐", "永盛", "瑞丰", "海联", "雁荡"]
TRADES = ["电气", "机械", "贸易", "物流", "科技", "建设", "服饰", "食品"]
VIOLATIONS = ["虚假宣传", "无照经营", "产品质量不合格", "价格违法", "商标侵权"]
ROWS = 240


def _uscc(rng: random.Random, n: int) -> str:
    return f"91330300MA{n:06d}{rng.choice('ABCDEFGHJKLMNPQRTUWXY')}{rng.randint(0, 9)}"


def _companies(rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for n in range(1, ROWS + 1):
        out.append(
            {
                "uscc": _uscc(rng, n),
                "name": f"东瓯{rng.choice(WORDS)}{rng.choice(TRADES)}有限公司",
                "industry_code": rng.choice(INDUSTRIES),
                "district": rng.choice(DISTRICTS),
                "registered_capital_fen": rng.randint(10, 5000) * 1_000_000,
                "established_on": date(2005, 1, 1) + timedelta(days=rng.randint(0, 7000)),
            }
        )
    return out


def _tables(meta: MetaData) -> dict[str, Table]:
    def table(name: str, *columns: Column[Any]) -> Table:
        return Table(name, meta, Column("id", Integer, primary_key=True), *columns)

    return {
        "registry": table(
            "samr.enterprise_registry",
            Column("uscc", String(18)),
            Column("name", String(100)),
            Column("industry_code", String(8)),
            Column("district", String(20)),
            Column("registered_capital_fen", Integer),
            Column("established_on", Date),
        ),
        "penalties": table(
            "samr.penalties",
            Column("uscc", String(18)),
            Column("violation_type", String(40)),
            Column("fine_fen", Integer),
            Column("decided_on", Date),
        ),
        "grid": table(
            "grid.monthly_usage",
            Column("uscc", String(18)),
            Column("month", Date),
            Column("kwh", Float),
        ),
        "vitality": table(
            "dg.vitality_index",
            Column("uscc", String(18)),
            Column("month", Date),
            Column("vitality", Integer),
        ),
    }


def _rows(rng: random.Random, companies: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    months = [date(2026, m, 1) for m in range(1, 11)]
    return {
        "registry": companies,
        "penalties": [
            {
                "uscc": c["uscc"],
                "violation_type": rng.choice(VIOLATIONS),
                "fine_fen": rng.randint(5, 500) * 10_000,
                "decided_on": date(2025, 1, 1) + timedelta(days=rng.randint(0, 660)),
            }
            for c in rng.sample(companies, ROWS // 8)
        ],
        "grid": [
            {"uscc": c["uscc"], "month": m, "kwh": round(rng.uniform(800, 90000), 1)}
            for c in companies[:60]
            for m in months
        ],
        "vitality": [
            {"uscc": c["uscc"], "month": months[-1], "vitality": rng.randint(20, 98)}
            for c in companies
        ],
    }


def reels(rng: random.Random, n: int = ROWS) -> list[dict[str, Any]]:
    return [
        {
            "reel_code": f"DOXL-2026-{i:06d}",
            "copper_batch": f"CU2610-{rng.randint(1, 40):03d}",
            "produced_on": date(2026, 10, 1) + timedelta(days=rng.randint(0, 60)),
            "resistance_mohm": round(rng.uniform(0.168, 0.182), 4),
            "voltage_test_passed": rng.random() > 0.02,  # noqa: PLR2004
        }
        for i in range(1, n + 1)
    ]


def write_demo_data(settings: Settings) -> Path:
    """Write the demo tables and file into the data root unless they exist; the root. The
    tax bureau's table (compute-only, never delivered) comes from the compute demo
    (:mod:`shuchang.demo_compute`), whose profile names its public domains."""
    root = DataSources.of(settings).root
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)  # noqa: S311 - invented demo data, reproducible on purpose
    engine = create_engine(f"sqlite:///{root / 'warehouse.db'}")
    try:  # each table only if missing: other demo seeds own tables of their own here
        meta = MetaData()
        tables = _tables(meta)
        existing = set(inspect(engine).get_table_names())
        missing = {key: t for key, t in tables.items() if t.name not in existing}
        meta.create_all(engine, tables=list(missing.values()))
        rows = _rows(rng, _companies(rng))
        with engine.begin() as conn:
            for key, table in missing.items():
                conn.execute(insert(table), rows[key])
    finally:
        engine.dispose()
    from shuchang.demo_compute import seed_data

    seed_data(settings)
    parquet = root / "data" / "mes" / "reels.parquet"
    if not parquet.exists():
        import pyarrow as pa
        import pyarrow.parquet as pq

        parquet.parent.mkdir(parents=True, exist_ok=True)
        partial = parquet.with_suffix(".tmp")
        pq.write_table(pa.Table.from_pylist(reels(rng)), partial, row_group_size=100)
        partial.replace(parquet)
    return root
