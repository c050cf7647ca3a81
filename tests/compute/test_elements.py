# ruff: noqa: S608 - test queries over the tests' own scratch files
"""Data elements end to end in the service layer, on both databases: define (validated by a
dry run), run in the locked-down DuckDB, register the output as a resource version with
digests and evidence, list it as a ``data_element`` product with lineage; a failed run
leaves no file, no resource version and no product."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

import duckdb
import msgspec
import pytest
from elements_support import InProcessRunner, PowerCompany, definition, power_company
from sqlalchemy import func, select

from shuchang.domains.catalog.models import ProductSource, ResourceVersion
from shuchang.domains.compute import element_runs, elements
from shuchang.domains.compute.element_models import ElementRun
from shuchang.domains.compute.element_runner import ProcessRunner
from shuchang.domains.compute.element_runs import digests
from shuchang.domains.compute.element_schemas import ElementListing
from shuchang.domains.evidence.models import OutboxEntry
from shuchang.errors import Duplicate, PermissionDenied, ValidationFailed
from shuchang.platform import Platform

OFFER = {"@type": "Offer", "permission": [{"action": "use"}]}


@pytest.fixture
def company(platform: Platform) -> PowerCompany:
    return power_company(platform, Path(platform.settings.data_root))


def _files(platform: Platform) -> list[Path]:
    return sorted((Path(platform.settings.data_root) / "elements").rglob("*"))


def _count(platform: Platform, model: type) -> int:
    with platform.unit(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_run_writes_a_deidentified_parquet_with_digests_and_evidence(
    platform: Platform, company: PowerCompany
) -> None:
    runner = InProcessRunner()
    element = elements.define(
        platform.unit,
        platform.settings,
        company.actor,
        definition(company, on_violation="suppress"),
        runner,
    )
    run = element_runs.run(platform.unit, platform.settings, company.actor, element.id, runner)

    assert run.status == "succeeded" and run.rows_in == 180
    assert run.rows_out == run.rows_in - run.suppressed
    path = Path(platform.settings.data_root) / str(run.output_path).lstrip("/")
    assert (run.sha256, run.sm3) == digests(path)
    rows = duckdb.sql(f"SELECT uscc, month, district, kwh FROM read_parquet('{path}')").fetchall()
    assert len(rows) == run.rows_out
    assert all(len(uscc) == 64 and not uscc.startswith("9133") for uscc, *_ in rows)  # HMAC-SM3
    assert {month for _, month, *_ in rows} <= {"2025-01", "2025-02", "2025-03"}
    assert all(kwh.endswith("00") and "-" in kwh for *_, kwh in rows)  # bands of 500
    classes = duckdb.sql(
        f"SELECT min(n) FROM (SELECT count(*) n FROM read_parquet('{path}') GROUP BY district, kwh)"
    ).fetchall()[0]
    assert classes[0] >= 5  # k-anonymous after suppression
    assert run.k_report is not None and run.k_report["violating_rows"] == run.suppressed

    with platform.unit(write=False) as s:
        version = s.get(ResourceVersion, (run.resource_id, run.resource_version))
        assert version is not None
        assert version.location == {"type": "file", "path": run.output_path, "format": "parquet"}
        assert [f["name"] for f in version.fields] == ["uscc", "month", "district", "kwh"]
        assert version.classification == "important"  # the stricter source grade carries over
        entry = s.scalars(select(OutboxEntry).where(OutboxEntry.kind == "element.run")).one()
    assert entry.payload["output"]["sha256"] == run.sha256
    assert entry.payload["inputs"][0]["version"] == 1
    assert (
        entry.payload["inputs"][0]["sha256"]
        == digests(Path(platform.settings.data_root) / "power" / "meter_readings.parquet")[0]
    )
    assert "9133" not in str(entry.payload)  # no identifier reaches the evidence


def test_a_second_run_is_a_new_version_and_hashes_join_across_runs(
    platform: Platform, company: PowerCompany
) -> None:
    runner = InProcessRunner()
    element = elements.define(
        platform.unit,
        platform.settings,
        company.actor,
        definition(company, on_violation="suppress"),
        runner,
    )
    first = element_runs.run(platform.unit, platform.settings, company.actor, element.id, runner)
    second = element_runs.run(platform.unit, platform.settings, company.actor, element.id, runner)
    assert second.resource_id == first.resource_id
    assert (first.resource_version, second.resource_version) == (1, 2)
    assert first.sha256 == second.sha256  # same input, same salt, same Parquet bytes
    assert first.output_path != second.output_path


def test_a_k_anonymity_failure_leaves_nothing_half_written(
    platform: Platform, company: PowerCompany
) -> None:
    runner = InProcessRunner()
    element = elements.define(
        platform.unit, platform.settings, company.actor, definition(company, k=50), runner
    )
    versions, products = _count(platform, ResourceVersion), _count(platform, ProductSource)
    with pytest.raises(ValidationFailed) as caught:
        element_runs.run(platform.unit, platform.settings, company.actor, element.id, runner)
    problem = caught.value.problem()
    assert problem["code"] == "element.k_anonymity_violated"
    report = problem["k_report"]
    assert report["smallest_class"] < 50 and report["violating_rows"] > 0
    assert report["sample"] and all(
        set(c["values"]) == {"district", "kwh"} for c in report["sample"]
    )
    assert _files(platform) == [] or all(p.is_dir() for p in _files(platform))
    assert (_count(platform, ResourceVersion), _count(platform, ProductSource)) == (
        versions,
        products,
    )
    with platform.unit(write=False) as s:
        failed = s.get(ElementRun, uuid.UUID(problem["run"]))
        assert failed is not None and failed.status == "failed" and failed.resource_id is None


def test_a_run_killed_by_its_process_runner_leaves_nothing(
    platform: Platform, company: PowerCompany
) -> None:
    element = elements.define(
        platform.unit,
        platform.settings,
        company.actor,
        definition(company, on_violation="suppress"),
        InProcessRunner(),
    )
    # A cross join of the readings with themselves outruns a one-second limit.
    slow = dataclasses.replace(platform.settings, element_timeout_s=1)
    with platform.unit() as s:
        row = elements.owned(s, company.actor, element.id, lock=True)
        row.sql = (
            "SELECT a.uscc, a.district, a.kwh, count(*) AS n "
            "FROM meter a, meter b, meter c GROUP BY ALL"
        )
        row.steps, row.quasi_identifiers = [], ["district"]
    versions = _count(platform, ResourceVersion)
    with pytest.raises(ValidationFailed) as caught:
        element_runs.run(platform.unit, slow, company.actor, element.id, ProcessRunner())
    assert caught.value.code == "element.timeout"
    assert [p for p in _files(platform) if p.is_file()] == []
    assert _count(platform, ResourceVersion) == versions


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"sql": "DELETE FROM meter"}, "element.sql_not_select", "sql"),
        ({"sql": "SELECT 1 AS a; SELECT 2 AS b"}, "element.sql_not_select", "sql"),
        ({"sql": "SELEC uscc FROM meter"}, "element.sql_invalid", "sql"),
        ({"sql": "SELECT * FROM read_csv('/etc/passwd')"}, "element.sql_failed", "sql"),
        ({"sql": "SELECT nosuch FROM meter"}, "element.sql_failed", "sql"),
        ({"sql": "SELECT uscc, sum(kwh) FROM meter GROUP BY uscc"}, "element.column_name", "sql"),
        (
            {"steps": [{"op": "mask", "column": "phone"}]},
            "element.step_column_unknown",
            "steps[0].column",
        ),
        ({"quasi_identifiers": ["region"]}, "element.qi_unknown", "quasi_identifiers[0]"),
        ({"quasi_identifiers": ["kwh", "kwh"]}, "element.qi_duplicate", "quasi_identifiers"),
    ],
)
def test_bad_definitions_are_refused_with_the_field_and_store_nothing(
    platform: Platform, company: PowerCompany, change: dict[str, object], code: str, field: str
) -> None:
    from shuchang.domains.compute.element_models import ElementDefinition

    before = _count(platform, ElementDefinition)
    with pytest.raises(ValidationFailed) as caught:
        elements.define(
            platform.unit,
            platform.settings,
            company.actor,
            definition(company, **change),
            InProcessRunner(),
        )
    assert (caught.value.code, caught.value.field) == (code, field)
    assert caught.value.message_zh and caught.value.message_en
    assert _count(platform, ElementDefinition) == before


def test_sources_must_be_the_providers_own_and_readable(
    platform: Platform, company: PowerCompany
) -> None:
    other = power_company(platform, Path(platform.settings.data_root))
    with pytest.raises(PermissionDenied) as caught:
        elements.define(
            platform.unit,
            platform.settings,
            company.actor,
            definition(
                company, sources=[{"alias": "meter", "resource_id": str(other.resource_id)}]
            ),
            InProcessRunner(),
        )
    assert caught.value.code == "element.source_not_owned"
    (Path(platform.settings.data_root) / "power" / "meter_readings.parquet").unlink()
    with pytest.raises(Exception) as missing:
        elements.define(
            platform.unit, platform.settings, company.actor, definition(company), InProcessRunner()
        )
    assert getattr(missing.value, "code", None) == "datasource.file_missing"
    assert getattr(missing.value, "field", None) == "sources[0].resource_id"


def test_names_are_unique_per_provider(platform: Platform, company: PowerCompany) -> None:
    runner = InProcessRunner()
    elements.define(platform.unit, platform.settings, company.actor, definition(company), runner)
    with pytest.raises(Duplicate):
        elements.define(
            platform.unit, platform.settings, company.actor, definition(company), runner
        )


def test_a_run_is_listed_as_a_data_element_with_lineage_and_its_transformation(
    platform: Platform, company: PowerCompany
) -> None:
    runner = InProcessRunner()
    element = elements.define(
        platform.unit,
        platform.settings,
        company.actor,
        definition(company, on_violation="suppress"),
        runner,
    )
    run = element_runs.run(platform.unit, platform.settings, company.actor, element.id, runner)
    listing = msgspec.convert(
        {
            "title": "企业月度用电指数（数据元件）",
            "description": "按企业、按月汇总的用电量区间，企业标识经 HMAC-SM3 处理，满足 5-匿名。",
            "policy": OFFER,
            "price": {"model": "per_call", "amount_fen": 50},
            "tags": ["用电", "普惠金融"],
            "submit": False,
        },
        ElementListing,
    )
    with platform.unit() as s:
        product = element_runs.list_run(s, company.actor, run.id, listing)
    assert product.kind == "data_element" and product.status == "draft"
    pinned = {(src.resource_id, src.resource_version) for src in product.sources}
    assert pinned == {(run.resource_id, run.resource_version), (company.resource_id, 1)}
    text = str(product.transformation)
    assert run.sha256 in text and run.sm3 in text and "hash(uscc, algorithm=hmac-sm3)" in text
    assert "k=5" in text
    with platform.unit() as s, pytest.raises(Exception) as again:
        element_runs.list_run(s, company.actor, run.id, listing)
    assert getattr(again.value, "code", None) == "element.run_not_listable"
