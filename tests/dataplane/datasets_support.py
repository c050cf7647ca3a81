"""Helpers of the dataset-delivery tests: data files and a warehouse table in a data root,
a dataset product over them, and the gateway in front of it (dataplane_support.open_plane)."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
from dataplane_support import Plane, open_plane, policy
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
)

from shuchang.domains.catalog import products, resources
from shuchang.domains.catalog.schemas import ProductIn, ResourceIn, ReviewDecision
from shuchang.domains.participants import SYSTEM, Actor
from shuchang.platform import Platform

REELS = [
    {
        "reel_code": f"DOXL-2026-{i:05d}",
        "copper_batch": f"CU-{i % 7:03d}",
        "produced_on": f"2026-10-{1 + i % 28:02d}",
        "resistance_mohm": round(0.17 + (i % 13) / 1000, 4),
        "voltage_test_passed": i % 17 != 0,
    }
    for i in range(1, 401)
]
REEL_FIELDS = ["reel_code", "copper_batch", "produced_on", "resistance_mohm", "voltage_test_passed"]


def write_data(root: Path) -> None:
    """reels.csv, reels.jsonl, reels.parquet, a binary blob and warehouse.db (table mes.reels
    in an attached-schema-free SQLite: the table is named ``reels``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (root / "mes").mkdir(parents=True, exist_ok=True)
    with (root / "mes" / "reels.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, REEL_FIELDS)
        writer.writeheader()
        writer.writerows(REELS)
    (root / "mes" / "reels.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in REELS), encoding="utf-8"
    )
    pq.write_table(pa.Table.from_pylist(REELS), root / "mes" / "reels.parquet", row_group_size=100)
    (root / "mes" / "scan.bin").write_bytes(bytes(range(256)) * 4096)  # 1 MiB
    engine = create_engine(f"sqlite:///{root / 'warehouse.db'}")
    meta = MetaData()
    table = Table(
        "reels",
        meta,
        Column("id", Integer, primary_key=True),
        Column("reel_code", String(32)),
        Column("copper_batch", String(16)),
        Column("produced_on", Date),
        Column("resistance_mohm", Float),
        Column("voltage_test_passed", Boolean),
        Column("secret_cost_fen", Integer),
    )
    meta.create_all(engine)
    from datetime import date

    with engine.begin() as conn:
        conn.execute(
            insert(table),
            [
                {
                    **r,
                    "id": i,
                    "produced_on": date.fromisoformat(str(r["produced_on"])),
                    "secret_cost_fen": 100_000 + i,
                }
                for i, r in enumerate(REELS, 1)
            ],
        )
    engine.dispose()


FIELDS = [
    {"name": "reel_code", "type": "string", "role": "identifier"},
    {"name": "copper_batch", "type": "string"},
    {"name": "produced_on", "type": "date"},
    {"name": "resistance_mohm", "type": "decimal"},
    {"name": "voltage_test_passed", "type": "boolean"},
]


def dataset_lister(
    locations: list[dict[str, Any]], kind: str = "dataset"
) -> Callable[[Platform, uuid.UUID, dict[str, Any]], uuid.UUID]:
    """A lister for open_plane: one resource per location, one product over them."""

    def lister(platform: Platform, provider_id: uuid.UUID, offer: dict[str, Any]) -> uuid.UUID:
        actor = Actor(participant_id=provider_id, role="provider")
        with platform.unit() as s:
            ids = []
            for n, location in enumerate(locations):
                body = {
                    "title": f"线缆生产与检测记录（{n + 1}）",
                    "description": "每盘线缆的产品标识、原材料批次、生产日期与出厂检测结果。",
                    "fields": FIELDS,
                    "source": "制造执行系统（MES）",
                    "update_frequency": "daily",
                    "industry": "C38",
                    "classification": "general",
                    "location": location,
                    "tags": ["质量追溯"],
                }
                ids.append(resources.register(s, actor, msgspec.convert(body, ResourceIn)).id)
            product = products.create(
                s,
                actor,
                msgspec.convert(
                    {
                        "kind": kind,
                        "title": "线缆质量追溯数据",
                        "description": "按产品标识查询每盘线缆的原材料批次与出厂检测结果。",
                        "resources": [str(i) for i in ids],
                        "policy": offer,
                        "price": {"model": "one_off", "amount_fen": 80000},
                        "tags": ["质量追溯"],
                    },
                    ProductIn,
                ),
            )
            products.submit(s, actor, product.id)
            products.review(
                s, SYSTEM, product.id, ReviewDecision(decision="approve"), ("operator",)
            )
        return product.id

    return lister


@contextmanager
def open_dataset(
    platform: Platform,
    tmp_path: Path,
    locations: list[dict[str, Any]],
    offer: dict[str, Any] | None = None,
    kind: str = "dataset",
    **settings: Any,
) -> Iterator[Plane]:
    root = tmp_path / "data-root"
    write_data(root)
    with open_plane(
        platform,
        tmp_path,
        offer or policy(),
        lister=dataset_lister(locations, kind),
        data_root=str(root),
        **settings,
    ) as plane:
        yield plane


def data_root(plane: Plane) -> Path:
    return Path(plane.platform.settings.data_root)


CSV = {"type": "file", "path": "/mes/reels.csv", "format": "csv"}
JSONL = {"type": "file", "path": "/mes/reels.jsonl", "format": "jsonl"}
PARQUET = {"type": "file", "path": "/mes/reels.parquet", "format": "parquet"}
BLOB = {"type": "file", "path": "/mes/scan.bin", "format": "other"}
TABLE = {"type": "sql", "table": "reels"}
