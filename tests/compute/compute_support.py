"""Shared pieces of the compute tests: the S1 tax catalogue and small DuckDB files."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb

from shuchang.domains.compute import plan as p

INDUSTRIES = ("C13", "C18", "E47", "F51", "G54", "I65")
DISTRICTS = ("鹿城区", "龙湾区", "瓯海区", "洞头区")
GRADES = ("A", "B", "M", "C", "D")


def tax_catalogue(max_cells: int = 1000) -> p.Catalogue:
    return p.Catalogue(
        table="tax",
        person="uscc",
        dimensions={
            "industry_code": p.DimensionSpec("industry_code", "string", values=INDUSTRIES),
            "district": p.DimensionSpec("district", "string", values=DISTRICTS),
            "credit_grade": p.DimensionSpec("credit_grade", "string", values=GRADES),
            "year": p.DimensionSpec("year", "integer", low=2019, high=2025),
        },
        measures={
            "defaulted": p.MeasureSpec("defaulted", 0, 1, True),
            "invoice_total_fen": p.MeasureSpec("invoice_total_fen", 0, 10**9, True),
        },
        others=frozenset({"name"}),
        max_cells=max_cells,
    )


def tax_rows(n: int, seed: int = 7, per_person: int = 1) -> list[tuple[object, ...]]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        person = f"91330300MA{i // per_person:08d}"
        rows.append(
            (
                person,
                f"企业{i}",
                rnd.choice(INDUSTRIES),
                rnd.choice(DISTRICTS),
                rnd.choice(GRADES),
                rnd.randint(2019, 2025),
                rnd.random() < 0.05,
                rnd.randint(0, 5 * 10**8),
            )
        )
    return rows


def tax_database(path: Path, rows: list[tuple[object, ...]]) -> str:
    conn = duckdb.connect(str(path))
    conn.execute(
        "CREATE TABLE tax (uscc VARCHAR, name VARCHAR, industry_code VARCHAR, district VARCHAR,"
        " credit_grade VARCHAR, year BIGINT, defaulted BOOLEAN, invoice_total_fen BIGINT)"
    )
    conn.executemany("INSERT INTO tax VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.close()
    return str(path)
