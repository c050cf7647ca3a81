"""The demo region's S1 data element: real readings in the data root, a real run, a listed
product whose transformation names the output's digests (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select

from shuchang.demo import seed
from shuchang.demo_elements import READINGS
from shuchang.domains.catalog.models import Product
from shuchang.domains.compute.element_models import ElementRun
from shuchang.domains.compute.element_runs import digests
from shuchang.platform import Platform


def test_the_demo_runs_and_lists_the_power_index(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the demo's key files
    seed(platform.engine, platform.settings)
    root = Path(platform.settings.data_root)
    readings = duckdb.execute("SELECT count(*) FROM read_parquet(?)", [str(root / READINGS)])
    assert readings.fetchall() == [(21600,)]
    with platform.unit(write=False) as s:
        (run,) = s.scalars(select(ElementRun)).all()
        product = s.get(Product, run.product_id)
    assert run.status == "succeeded" and run.rows_in == 720
    assert (run.sha256, run.sm3) == digests(root / str(run.output_path).lstrip("/"))
    assert product is not None and product.status == "listed" and product.kind == "data_element"
    assert run.sha256 in str(product.transformation)
