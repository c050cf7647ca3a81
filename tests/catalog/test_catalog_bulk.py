"""Bulk import of resources (批量登记) from JSON or CSV, over the API and the CLI.

All-or-nothing by default: one bad row rejects the batch, every bad row is reported (row
number, field, code, zh/en message) and nothing at all is written. ``partial=true`` imports
the good rows and reports the bad ones. CSV: ``fields`` and ``location`` cells hold JSON,
``regions`` and ``tags`` are separated by ``;``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from catalog_factories import field, resource_body, tax_resource_body
from catalog_support import RESOURCES, Client, found, table_counts
from click.testing import CliRunner

from factories import Member
from shuchang.cli import cli
from shuchang.platform import Platform
from shuchang.settings import Settings

IMPORT = f"{RESOURCES}/import"
COLUMNS = [
    "title", "title_en", "description", "description_en", "fields", "source", "legal_basis",
    "update_frequency", "regions", "temporal_start", "temporal_end", "tags", "industry",
    "classification", "personal_info", "sensitive_personal_info", "location",
]  # fmt: skip


def as_csv(rows: list[dict[str, Any]]) -> bytes:
    """The rows as a spreadsheet would save them (UTF-8 with BOM)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        cells = {k: row.get(k) for k in COLUMNS}
        cells["fields"] = json.dumps(row["fields"], ensure_ascii=False)
        cells["location"] = json.dumps(row["location"], ensure_ascii=False)
        cells["regions"] = ";".join(row.get("regions", []))
        cells["tags"] = ";".join(row.get("tags", []))
        for flag in ("personal_info", "sensitive_personal_info"):
            cells[flag] = "true" if row.get(flag) else "false"
        writer.writerow({k: "" if v is None else v for k, v in cells.items()})
    return ("\ufeff" + out.getvalue()).encode()


def good_rows() -> list[dict[str, Any]]:
    return [
        resource_body(
            title="企业登记信息", tags=["企业登记", "市场主体"], regions=["330302", "330303"]
        ),
        tax_resource_body(title="纳税信用等级", legal_basis="《纳税信用管理办法》"),
        resource_body(
            title="道路交通事故记录",
            fields=[
                field("accident_no", role="identifier"),
                field("party_name", sensitivity="personal"),
            ],
            personal_info=True,
            legal_basis="《道路交通安全法》第七十三条",
            location={"type": "file", "path": "/data/jj/accidents.csv", "format": "csv"},
        ),
    ]  # fmt: skip


def bad_rows() -> list[dict[str, Any]]:
    """Four rows: 1 and 3 are good, 2 has a bad industry code, 4 a personal field unflagged."""
    rows = good_rows()
    return [
        rows[0],
        resource_body(title="行政处罚信息", industry="X99"),
        rows[1],
        resource_body(title="当事人名单", fields=[field("party_name", sensitivity="personal")]),
    ]


def shown(client: Client, member: Member, rid: str) -> dict[str, Any]:
    out: dict[str, Any] = client.get(f"{RESOURCES}/{rid}", headers=member.headers).json()
    return out


def comparable(resource: dict[str, Any]) -> dict[str, Any]:
    skip = {"id", "created_at"}
    return {k: v for k, v in resource.items() if k not in skip}


def test_a_json_import_registers_every_row(
    client: Client, provider: Member, consumer: Member
) -> None:
    rows = good_rows()

    response = client.post(IMPORT, content=json.dumps(rows), headers=provider.headers)

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["imported"], report["rejected"], report["errors"]) == (3, 0, [])
    for rid, row in zip(report["ids"], rows, strict=True):
        resource = shown(client, provider, rid)
        assert (resource["title"], resource["version"]) == (row["title"], 1)
        assert resource["fields"] == [{"description": "", **f} for f in row["fields"]]
        assert resource["location"]["type"] == row["location"]["type"]
    assert set(report["ids"]) <= found(client, consumer)


def test_a_csv_import_reads_json_cells_and_semicolon_lists(
    client: Client, provider: Member
) -> None:
    rows = good_rows()
    by_json = client.post(IMPORT, content=json.dumps(rows), headers=provider.headers).json()

    response = client.post(
        IMPORT, content=as_csv(rows), params={"format": "csv"}, headers=provider.headers
    )

    assert response.status_code == 200, response.text
    by_csv = response.json()
    assert by_csv["imported"] == 3
    for from_csv, from_json in zip(by_csv["ids"], by_json["ids"], strict=True):
        assert comparable(shown(client, provider, from_csv)) == comparable(
            shown(client, provider, from_json)
        )
    first = shown(client, provider, by_csv["ids"][0])
    assert (first["regions"], first["tags"]) == (["330302", "330303"], ["企业登记", "市场主体"])


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_one_bad_row_rejects_the_batch_and_every_bad_row_is_reported(
    client: Client, provider: Member, platform: Platform, fmt: str
) -> None:
    rows = bad_rows()
    body = json.dumps(rows).encode() if fmt == "json" else as_csv(rows)
    before = table_counts(platform.engine)

    response = client.post(IMPORT, content=body, params={"format": fmt}, headers=provider.headers)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "import.rows_invalid"
    assert [(e["row"], e["field"], e["code"]) for e in problem["errors"]] == [
        (2, "industry", "import.invalid_row"),
        (4, "personal_info", "resource.invalid"),
    ]
    assert all(e["message_zh"] and e["message_en"] for e in problem["errors"])
    assert "第 2 行" in problem["errors"][0]["message_zh"]
    assert table_counts(platform.engine) == before


def test_a_partial_import_keeps_the_good_rows_and_reports_the_bad(
    client: Client, provider: Member, platform: Platform
) -> None:
    before = table_counts(platform.engine)

    response = client.post(
        IMPORT, content=json.dumps(bad_rows()), params={"partial": "true"}, headers=provider.headers
    )

    report = response.json()
    assert (response.status_code, report["imported"], report["rejected"]) == (200, 2, 2)
    assert [e["row"] for e in report["errors"]] == [2, 4]
    assert [shown(client, provider, rid)["title"] for rid in report["ids"]] == [
        "企业登记信息",
        "纳税信用等级",
    ]
    after = table_counts(platform.engine)
    grew = {name: after[name] - before[name] for name in after if after[name] != before[name]}
    assert grew == {
        "catalog_resources": 2,
        "catalog_resource_versions": 2,
        "catalog_entries": 2,
        # tags, regions and industries of each entry: (2 + 2 + 1) + (2 + 1 + 1)
        "catalog_entry_terms": 9,
        "evidence_outbox": 2,
        "evidence_pending": 2,
    }


def test_imported_rows_belong_to_the_importer_only(
    client: Client, provider: Member, other_provider: Member, platform: Platform
) -> None:
    rows = [resource_body(), resource_body(provider_id=str(other_provider.id))]
    before = table_counts(platform.engine)

    response = client.post(IMPORT, content=json.dumps(rows), headers=provider.headers)

    assert [(e["row"], e["code"]) for e in response.json()["errors"]] == [(2, "resource.not_owner")]
    assert table_counts(platform.engine) == before


# --- the CLI --------------------------------------------------------------------------------


def run(settings: Settings, *args: str) -> Any:
    env = {
        "SHUCHANG_DATABASE_URL": settings.database_url,
        "SHUCHANG_LOG_KEY_FILE": settings.log_key_file,
    }
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_the_cli_imports_a_json_file(
    settings: Settings, platform: Platform, provider: Member, tmp_path: Path
) -> None:
    source = tmp_path / "资源清单.json"
    source.write_text(json.dumps(good_rows(), ensure_ascii=False), encoding="utf-8")

    result = run(settings, "catalog", "import", str(source), "--provider", str(provider.id))

    assert result.exit_code == 0, result.output
    assert "imported 3, rejected 0" in result.stdout
    assert table_counts(platform.engine)["catalog_resources"] == 3


def test_the_cli_rejects_a_batch_with_bad_rows_and_writes_nothing(
    settings: Settings, platform: Platform, provider: Member, tmp_path: Path
) -> None:
    source = tmp_path / "resources.csv"
    source.write_bytes(as_csv(bad_rows()))
    before = table_counts(platform.engine)

    result = run(settings, "catalog", "import", str(source), "--provider", str(provider.id))

    assert result.exit_code == 1
    problem = json.loads(result.stderr)
    assert problem["code"] == "import.rows_invalid"
    assert [(e["row"], e["field"]) for e in problem["errors"]] == [
        (2, "industry"),
        (4, "personal_info"),
    ]
    assert table_counts(platform.engine) == before


def test_the_cli_imports_the_good_rows_with_partial_and_still_fails(
    settings: Settings, platform: Platform, provider: Member, tmp_path: Path
) -> None:
    source = tmp_path / "resources.json"
    source.write_text(json.dumps(bad_rows(), ensure_ascii=False), encoding="utf-8")

    result = run(
        settings, "catalog", "import", str(source), "--provider", str(provider.id), "--partial"
    )

    assert result.exit_code == 1
    assert "imported 2, rejected 2" in result.stdout
    assert "row 2: industry:" in result.stderr
    assert "row 4: personal_info:" in result.stderr
    assert table_counts(platform.engine)["catalog_resources"] == 2


def test_the_cli_refuses_an_unknown_provider(
    settings: Settings, platform: Platform, tmp_path: Path
) -> None:
    source = tmp_path / "resources.json"
    source.write_text(json.dumps(good_rows(), ensure_ascii=False), encoding="utf-8")
    before = table_counts(platform.engine)

    result = run(
        settings,
        "catalog", "import", str(source), "--provider", "00000000-0000-4000-8000-000000000000",
    )  # fmt: skip

    assert result.exit_code == 1
    assert json.loads(result.stderr)["code"] == "participant.not_found"
    assert table_counts(platform.engine) == before


def test_the_cli_refuses_to_import_for_a_participant_that_is_not_a_provider(
    settings: Settings, platform: Platform, consumer: Member, tmp_path: Path
) -> None:
    source = tmp_path / "resources.json"
    source.write_text(json.dumps(good_rows(), ensure_ascii=False), encoding="utf-8")

    result = run(settings, "catalog", "import", str(source), "--provider", str(consumer.id))

    assert result.exit_code == 1
    assert table_counts(platform.engine)["catalog_resources"] == 0
