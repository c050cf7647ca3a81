"""SQL-table parts: CSV, JSON Lines and Parquet; allowed columns only; keyset pages."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from dataplane_support import fields_limit, policy, problem
from datasets_support import REELS, TABLE, open_dataset

from shuchang.domains.dataplane.metering import DELIVERED
from shuchang.platform import Platform

DECLARED = ["reel_code", "copper_batch", "produced_on", "resistance_mohm", "voltage_test_passed"]


def test_a_table_as_csv_has_only_declared_columns(platform: Platform, tmp_path: Path) -> None:
    with open_dataset(platform, tmp_path, [TABLE]) as plane:
        answer = plane.get("/data")
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        assert list(rows[0]) == DECLARED  # never id or secret_cost_fen: not declared
        assert len(rows) == len(REELS)
        assert rows[0]["reel_code"] == REELS[0]["reel_code"]
        assert rows[0]["produced_on"] == REELS[0]["produced_on"]
        assert "x-shuchang-next-after" not in answer.headers
        (record,) = plane.records()
        assert (record.outcome, record.rows, record.bytes) == (
            DELIVERED,
            len(REELS),
            len(answer.content),
        )


@pytest.mark.parametrize(
    ("how", "media"),
    [
        ({"params": {"format": "jsonl"}}, "application/jsonl"),
        (
            {"headers": {"Accept": "application/vnd.apache.parquet"}},
            "application/vnd.apache.parquet",
        ),
    ],
)
def test_formats_by_query_or_accept(
    platform: Platform, tmp_path: Path, how: dict[str, dict[str, str]], media: str
) -> None:
    with open_dataset(platform, tmp_path, [TABLE]) as plane:
        answer = plane.get("/data", **how)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == media
        if media == "application/jsonl":
            rows = [json.loads(line) for line in answer.text.splitlines()]
        else:
            import pyarrow.parquet as pq

            table = pq.read_table(io.BytesIO(answer.content))
            assert table.schema.field("resistance_mohm").type == "double"
            rows = table.to_pylist()
        assert len(rows) == len(REELS) and set(rows[0]) == set(DECLARED)
        assert rows[3]["voltage_test_passed"] is REELS[3]["voltage_test_passed"]


def test_agreement_fields_and_requested_fields_intersect(
    platform: Platform, tmp_path: Path
) -> None:
    offer = policy(fields_limit("reel_code", "voltage_test_passed", "secret_cost_fen"))
    with open_dataset(platform, tmp_path, [TABLE], offer) as plane:
        rows = plane.get("/data", params={"format": "jsonl"}).text.splitlines()
        assert set(json.loads(rows[0])) == {"reel_code", "voltage_test_passed"}
        one = plane.get("/data", params={"format": "jsonl", "fields": "reel_code"})
        assert set(json.loads(one.text.splitlines()[0])) == {"reel_code"}
        denied = plane.get("/data", params={"fields": "copper_batch"})
        problem(denied, 403, "dataplane.denied")


def test_keyset_pages_cover_the_table_once(platform: Platform, tmp_path: Path) -> None:
    with open_dataset(platform, tmp_path, [TABLE]) as plane:
        seen: list[str] = []
        after = None
        pages = 0
        while True:
            params = {"format": "jsonl", "limit": "150", **({"after": after} if after else {})}
            answer = plane.get("/data", params=params)
            assert answer.status_code == 200, answer.text
            seen += [json.loads(x)["reel_code"] for x in answer.text.splitlines()]
            pages += 1
            after = answer.headers.get("x-shuchang-next-after")
            if after is None:
                break
        assert seen == [r["reel_code"] for r in REELS] and pages == 3
        assert [r.rows for r in plane.records()] == [150, 150, 100]
        for bad in (
            {"limit": "0"},
            {"limit": "x"},
            {"after": "bm90IGEgY3Vyc29y"},
            {"format": "xml"},
        ):
            problem(plane.get("/data", params=bad), 400, "dataplane.bad_query")
        assert len(plane.records()) == 3  # refused before the decision: nothing counted


def test_a_missing_table_is_a_clear_error(platform: Platform, tmp_path: Path) -> None:
    location = {"type": "sql", "table": "mes.no_such_table"}
    with open_dataset(platform, tmp_path, [location]) as plane:
        problem(plane.get("/data"), 503, "dataplane.source_unavailable")
        assert plane.records() == []
