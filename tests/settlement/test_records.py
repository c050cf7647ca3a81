"""Transaction filings and vouchers (交易备案 / 交易凭证): signed, in the evidence log,
verified offline — and any changed byte makes verification fail."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from settlement_support import Region, agreement, product, run, seal, set_rules, usage

from shuchang.canonical import canonical_json, canonical_json_of_plain
from shuchang.cli import cli
from shuchang.domains.evidence import logview
from shuchang.domains.participants import Actor
from shuchang.domains.settlement import records, views
from shuchang.errors import NotFound


def _settled_with_records(r: Region) -> list[Any]:
    set_rules(r)
    p = r.platform
    a = agreement(p, product(p, r.tax.id, {"model": "per_call", "amount_fen": 200}), r.tax, r.bank)
    usage(p, a, r.bank.id, 25)
    seal(p)
    run(r)
    with p.unit() as s:
        logview.sequence_and_publish(s, p.log_signer)
    with p.unit(write=False) as s:
        listed = views.list_records(s, r.operator)
        return [views.get_record(s, r.operator, x.id) for x in listed]


def _vkey(r: Region) -> Any:
    from shuchang.domains import evidence

    return evidence.parse_verifier_key(r.platform.log_signer.verifier().vkey)


def test_filing_and_voucher_carry_the_transaction_and_verify_offline(world: Region) -> None:
    found = _settled_with_records(world)
    by_kind = {x.kind: x.document for x in found}
    filing, voucher = by_kind["filing"], by_kind["voucher"]
    assert filing["type"] == "ShuchangTransactionFiling"
    body = filing["body"]
    assert body["amounts"] == {"net_fen": 5000, "tax_fen": 300, "gross_fen": 5300, "vat_bp": 600}
    assert body["consumer"] == f"urn:uscc:{world.bank.identifier}"
    assert {s["role"] for s in body["shares"]} == {"provider", "fee", "authority"}
    assert body["usage"]["quantities"] == {"call": 25, "row": 0}
    assert body["evidence"]["metering"] and body["evidence"]["batch_cleared"] > 0
    assert "shares" not in voucher["body"]
    for doc in (filing, voucher):  # the fast encoder used to sign is RFC 8785 for these
        signed = {k: v for k, v in doc.items() if k != "evidence"}
        assert canonical_json_of_plain(signed) == canonical_json(signed)
    key = base64.b64decode(records.public_key(world.platform.settings)["publicKey"])
    for doc in (filing, voucher):
        lines = records.verify(doc, trusted=key, verifiers=[_vkey(world)])
        assert lines[0].endswith(
            "(key " + records.public_key(world.platform.settings)["keyid"] + ", pinned key)"
        )
        assert "evidence: leaf" in lines[1] and lines[1].endswith(": OK")


def _flip(doc: dict[str, Any], path: tuple[str | int, ...]) -> dict[str, Any]:
    """A copy of ``doc`` with one character changed at ``path``."""
    changed = json.loads(json.dumps(doc))
    node: Any = changed
    for key in path[:-1]:
        node = node[key]
    value = node[path[-1]]
    if isinstance(value, int):
        node[path[-1]] = value + 1
    else:
        text = str(value)
        node[path[-1]] = text[:-2] + ("A" if text[-2] != "A" else "B") + text[-1]
    return changed


TAMPER = [
    ("body", "amounts", "gross_fen"),
    ("body", "consumer"),
    ("body", "period"),
    ("body", "agreement", "sha256"),
    ("signature", "signature"),
    ("signature", "publicKey"),
    ("type",),
    ("evidence", "leaf"),
    ("evidence", "receipt"),
]


@pytest.mark.parametrize("path", TAMPER, ids=[".".join(map(str, p)) for p in TAMPER])
def test_a_changed_byte_anywhere_fails_verification(world: Region, path: tuple[str, ...]) -> None:
    doc = next(x.document for x in _settled_with_records(world) if x.kind == "voucher")
    with pytest.raises(records.RecordInvalid):
        records.verify(_flip(doc, path), verifiers=[_vkey(world)])


def test_every_byte_of_the_signed_part_matters(world: Region) -> None:
    doc = next(x.document for x in _settled_with_records(world) if x.kind == "filing")
    raw = json.dumps({k: v for k, v in doc.items() if k != "evidence"}, ensure_ascii=False)
    failures = 0
    positions = range(0, len(raw), max(1, len(raw) // 60))
    for i in positions:
        changed = raw[:i] + ("0" if raw[i] != "0" else "1") + raw[i + 1 :]
        try:
            records.verify(json.loads(changed))
        except (records.RecordInvalid, ValueError):
            failures += 1
    assert failures == len(positions)


def test_the_cli_verifies_a_downloaded_record(world: Region, tmp_path: Path) -> None:
    voucher = next(x for x in _settled_with_records(world) if x.kind == "voucher")
    env = {
        "SHUCHANG_DATABASE_URL": world.platform.settings.database_url,
        "SHUCHANG_LOG_KEY_FILE": world.platform.settings.log_key_file,
        "SHUCHANG_SETTLEMENT_KEY_FILE": world.platform.settings.settlement_key_file,
    }
    runner = CliRunner(env=env)
    path = tmp_path / "voucher.json"
    saved = runner.invoke(cli, ["settlement", "record", str(voucher.id), "-o", str(path)])
    assert saved.exit_code == 0, saved.output
    vkey = world.platform.log_signer.verifier().vkey
    trust = records.public_key(world.platform.settings)["publicKey"]
    ok = runner.invoke(cli, ["settlement", "verify", str(path), "--vkey", vkey, "--trust", trust])
    assert ok.exit_code == 0, ok.output
    assert "signature OK" in ok.stdout and "evidence: leaf" in ok.stdout
    doc = json.loads(path.read_text())
    doc["body"]["amounts"]["gross_fen"] += 1
    path.write_text(json.dumps(doc))
    bad = runner.invoke(cli, ["settlement", "verify", str(path), "--vkey", vkey])
    assert bad.exit_code == 1
    assert json.loads(bad.stderr)["code"] == "record.signature_invalid"


def test_filings_are_for_oversight_and_vouchers_for_the_parties(world: Region) -> None:
    found = _settled_with_records(world)
    filing = next(x for x in found if x.kind == "filing")
    voucher = next(x for x in found if x.kind == "voucher")
    bank = Actor(participant_id=world.bank.id, role="consumer")
    stranger = Actor(participant_id=world.insurer.id, role="consumer")
    with world.platform.unit(write=False) as s:
        assert [x.id for x in views.list_records(s, bank)] == [voucher.id]
        assert views.get_record(s, bank, voucher.id).sha256 == voucher.sha256
        with pytest.raises(NotFound):
            views.get_record(s, bank, filing.id)
        with pytest.raises(NotFound):
            views.get_record(s, stranger, voucher.id)
        assert views.list_records(s, stranger) == []
