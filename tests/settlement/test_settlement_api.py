"""The settlement API and CLI as operators, parties and the regulator use them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from litestar.testing import TestClient
from settlement_support import PERIOD, Region, agreement, product, seal, usage

from shuchang.cli import cli

API = "/api/v1/settlement"
Client = TestClient  # type: ignore[type-arg]


def _month(r: Region) -> str:
    p = r.platform
    a = agreement(p, product(p, r.tax.id, {"model": "per_call", "amount_fen": 200}), r.tax, r.bank)
    usage(p, a, r.bank.id, 12)
    seal(p)
    return str(a)


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["message_zh"] and body["message_en"]
    return body


def _rules(r: Region) -> dict[str, Any]:
    return {
        "effective_from": PERIOD,
        "operator_id": str(r.bureau.id),
        "operator_fee_bp": 500,
        "authority_id": str(r.bureau.id),
        "authority_bp": 1000,
    }


def test_an_operator_settles_a_month_and_each_party_sees_its_own(
    client: Client, world: Region
) -> None:
    op, bank, tax = world.bureau.headers, world.bank.headers, world.tax.headers
    _month(world)
    _problem(client.post(f"{API}/rules", json=_rules(world), headers=tax), 403, "role.forbidden")
    assert client.post(f"{API}/rules", json=_rules(world), headers=op).json()["version"] == 1
    _problem(client.post(f"{API}/periods/{PERIOD}/run", headers=bank), 403, "role.forbidden")

    ran = client.post(f"{API}/periods/{PERIOD}/run", headers=op)
    assert ran.status_code == 200, ran.text
    assert ran.json()["batch"]["status"] == "settled" and ran.json()["batch"]["gross_fen"] == 2544
    _problem(
        client.post(f"{API}/periods/{PERIOD}/run", headers=op), 409, "settlement.period_settled"
    )
    _problem(
        client.post(f"{API}/periods/2025-13/run", headers=op), 422, "settlement.period_invalid"
    )

    assert [b["period"] for b in client.get(f"{API}/batches", headers=op).json()] == [PERIOD]
    own = client.get(f"{API}/batches/{PERIOD}/statements", headers=bank).json()
    assert [(s["participant_id"], s["owed_fen"]) for s in own] == [(str(world.bank.id), 2544)]
    every = client.get(f"{API}/batches/{PERIOD}/statements", headers=op).json()
    assert {s["participant_id"] for s in every} == {
        str(world.bank.id),
        str(world.tax.id),
        str(world.bureau.id),
    }
    sheet = client.get(
        f"{API}/batches/{PERIOD}/statements/{world.tax.id}", params={"format": "csv"}, headers=tax
    )
    assert sheet.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(sheet.text)))
    assert [(r["role"], r["amount_fen"]) for r in rows] == [
        ("provider", "2040"),
        ("total_owed", "0"),
        ("total_due", "2040"),
    ]
    _problem(
        client.get(f"{API}/batches/{PERIOD}/statements/{world.tax.id}", headers=bank),
        404,
        "settlement.statement_not_found",
    )

    transfers = client.get(f"{API}/batches/{PERIOD}/transfers", headers=bank).json()
    assert [(t["direction"], t["amount_fen"], t["status"]) for t in transfers] == [
        ("collect", 2544, "settled")
    ]
    report = client.post(f"{API}/batches/{PERIOD}/reconcile", headers=op).json()
    assert report["ok"] is True
    assert (
        client.get(f"{API}/batches/{PERIOD}/reconciliation", headers=world.bureau.headers).json()[
            "sha256"
        ]
        == report["sha256"]
    )

    vouchers = client.get(f"{API}/records", headers=bank).json()
    assert [v["kind"] for v in vouchers] == ["voucher"]
    assert (
        client.get(f"{API}/records/{vouchers[0]['id']}", headers=bank).json()["document"]["type"]
        == "ShuchangTransactionVoucher"
    )
    assert len(client.get(f"{API}/records", params={"period": PERIOD}, headers=op).json()) == 2

    mine = client.get(
        f"{API}/ledger/balances", params={"participant_id": str(world.bank.id)}, headers=bank
    ).json()
    assert [(b["account"].split(":")[0], b["balance_fen"]) for b in mine] == [("receivable", 0)]
    _problem(
        client.get(
            f"{API}/ledger/balances", params={"participant_id": str(world.tax.id)}, headers=bank
        ),
        403,
        "role.forbidden",
    )
    invoices = client.get(f"{API}/invoices", headers=bank).json()
    assert [(i["net_fen"], i["tax_fen"], i["gross_fen"]) for i in invoices] == [(2400, 144, 2544)]
    assert client.get(f"{API}/orders", headers=bank).json()[0]["price"]["model"] == "per_call"
    overview = client.get(f"{API}/overview", headers=op).json()
    assert (
        overview["months"][0]["gross_fen"] == 2544
        and overview["batches"][0]["reconciled_ok"] is True
    )
    assert client.get(f"{API}/key").json()["algorithm"] == "ed25519"


def test_an_entry_is_reversed_through_the_api_never_edited(client: Client, world: Region) -> None:
    _month(world)
    client.post(f"{API}/rules", json=_rules(world), headers=world.bureau.headers)
    client.post(
        f"{API}/periods/{PERIOD}/run", params={"pay": "false"}, headers=world.bureau.headers
    )
    entries = client.get(
        f"{API}/ledger/entries", params={"period": PERIOD}, headers=world.bureau.headers
    ).json()
    invoice = next(e for e in entries if e["kind"] == "invoice")
    reversed_ = client.post(
        f"{API}/ledger/entries/{invoice['id']}/reverse",
        json={"reason": "合约争议，暂缓收费"},
        headers=world.bureau.headers,
    )
    assert reversed_.status_code == 200, reversed_.text
    assert reversed_.json()["reverses_id"] == invoice["id"]
    _problem(
        client.post(
            f"{API}/ledger/entries/{invoice['id']}/reverse",
            json={"reason": "again"},
            headers=world.bureau.headers,
        ),
        409,
        "settlement.already_reversed",
    )
    _problem(
        client.post(
            f"{API}/ledger/entries/{invoice['id']}/reverse", json={}, headers=world.bureau.headers
        ),
        422,
        "request.invalid_field",
    )
    report = client.post(f"{API}/batches/{PERIOD}/reconcile", headers=world.bureau.headers).json()
    assert "statement_differs" in {f["code"] for f in report["findings"]}  # the books moved


def test_the_cli_runs_a_month_end_to_end(world: Region, tmp_path: Path) -> None:
    _month(world)
    settings = world.platform.settings
    env = {
        "SHUCHANG_DATABASE_URL": settings.database_url,
        "SHUCHANG_LOG_KEY_FILE": settings.log_key_file,
        "SHUCHANG_SETTLEMENT_KEY_FILE": settings.settlement_key_file,
    }
    runner = CliRunner(env=env)
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(_rules(world)))

    def ok(*args: str) -> str:
        result = runner.invoke(cli, ["settlement", *args])
        assert result.exit_code == 0, (result.output, result.exception)
        return result.stdout

    assert json.loads(ok("rules", "set", str(rules)))["version"] == 1
    assert json.loads(ok("run", PERIOD))["batch"]["status"] == "settled"
    again = runner.invoke(cli, ["settlement", "run", PERIOD])
    assert again.exit_code == 1 and json.loads(again.stderr)["code"] == "settlement.period_settled"
    assert json.loads(ok("batches"))[0]["invoices"] == 1
    assert "total_due" in ok(
        "statement", PERIOD, "--participant", str(world.tax.id), "--format", "csv"
    )
    assert json.loads(ok("reconcile", PERIOD))["ok"] is True
    assert len(json.loads(ok("transfers", PERIOD))) == 3
    assert len(ok("records", "--period", PERIOD).splitlines()) == 2
    balances = json.loads(ok("balances"))
    assert {b["account"]: b["balance_fen"] for b in balances}["vat"] == 144
    assert json.loads(ok("orders", "sync")) == {"created": [], "skipped": []}
