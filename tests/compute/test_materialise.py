"""Materialisation: once per resource version, again when a file source is replaced; only
the declared columns reach the sandbox's file."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

sys.path.append(str(Path(__file__).resolve().parent))
from compute_flow import Space, open_space, write_parquet
from compute_support import tax_rows

from shuchang.domains.compute import load_profile, materialise
from shuchang.platform import Platform


@pytest.fixture
def space(platform: Platform, tmp_path: Path) -> Iterator[Space]:
    with open_space(platform, tmp_path) as opened:
        yield opened


def test_built_once_reused_and_rebuilt_when_the_file_changes(space: Space) -> None:
    settings = space.platform.settings
    with space.platform.unit(write=False) as s:
        loaded = load_profile(s, space.product_id)
    first = materialise(settings, loaded.source, loaded.catalogue)
    assert first.rows == 3000 and first.max_rows_per_person == 1 and len(first.digest) == 64
    again = materialise(settings, loaded.source, loaded.catalogue)
    assert again == first  # read from the record beside the file, not rebuilt
    columns = duckdb.connect(first.path, read_only=True).execute("DESCRIBE tax").fetchall()
    assert [c[0] for c in columns] == [
        "uscc", "industry_code", "district", "credit_grade", "year", "defaulted",
        "invoice_total_fen",
    ]  # fmt: skip  # the undeclared column "name" never reaches the sandbox
    source = Path(settings.data_root) / "tax" / "credit.parquet"
    write_parquet(source, tax_rows(1200, seed=9, per_person=3))
    os.utime(source, ns=(1, 1))
    rebuilt = materialise(settings, loaded.source, loaded.catalogue)
    assert rebuilt.path != first.path
    assert rebuilt.rows == 1200 and rebuilt.max_rows_per_person == 3
