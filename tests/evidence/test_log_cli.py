"""`shuchang tlog …` end to end: the operator sequences, hands out a receipt, a leaf file and
the verifier key, and anyone checks them offline with `shuchang tlog verify`.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import Result
from evidence_support import leaves, record_many, run_cli

from shuchang.domains.evidence.tlog.checkpoint import open_checkpoint
from shuchang.domains.evidence.tlog.note import parse_verifier_key
from shuchang.platform import Platform
from shuchang.settings import Settings


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def fails_cleanly(result: Result) -> Result:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # no crash
    assert "Traceback" not in result.output
    return result


def test_receipt_leaf_and_vkey_from_the_cli_verify_offline(
    platform: Platform, settings: Settings, tmp_path: Path
) -> None:
    ids = record_many(platform, 11)
    entry_id = ids[6]

    note = ok(run_cli(settings, "tlog", "sequence", "--batch", "4")).stdout
    vkey = ok(run_cli(settings, "tlog", "vkey")).stdout.strip()
    checkpoint, _ = open_checkpoint(note.encode(), [parse_verifier_key(vkey)], settings.log_origin)
    assert checkpoint.size == len(ids)

    receipt, leaf, key_file = tmp_path / "r", tmp_path / "l", tmp_path / "log.vkey"
    ok(run_cli(settings, "tlog", "receipt", str(entry_id), "-o", str(receipt)))
    assert (
        "leaf 6 written"
        in ok(run_cli(settings, "tlog", "leaf", str(entry_id), "-o", str(leaf))).stdout
    )
    key_file.write_text(vkey + "\n")
    assert leaf.read_bytes() == leaves(platform)[6][2]
    assert (
        ok(run_cli(settings, "tlog", "receipt", str(entry_id))).stdout_bytes == receipt.read_bytes()
    )

    for trusted in (vkey, str(key_file)):
        verified = ok(
            run_cli(
                settings, "tlog", "verify", "--vkey", trusted, "--receipt", str(receipt), str(leaf)
            )
        )
        assert f"OK: leaf 6 is in {settings.log_origin} at tree size 11" in verified.stdout
    ok(
        run_cli(
            settings,
            "tlog",
            "verify",
            "--vkey",
            vkey,
            "--origin",
            settings.log_origin,
            "--receipt",
            str(receipt),
            str(leaf),
        )
    )

    flipped = bytearray(leaf.read_bytes())
    flipped[len(flipped) // 2] ^= 0x01
    leaf.write_bytes(bytes(flipped))
    refused = fails_cleanly(
        run_cli(settings, "tlog", "verify", "--vkey", vkey, "--receipt", str(receipt), str(leaf))
    )
    assert "Error: not verified:" in refused.stderr
    assert "inclusion proof does not lead to the expected root hash" in refused.stderr


def test_receipt_and_leaf_of_unsequenced_or_unknown_entries_fail_cleanly(
    platform: Platform, settings: Settings, tmp_path: Path
) -> None:
    [entry_id] = record_many(platform, 1)

    pending = fails_cleanly(run_cli(settings, "tlog", "receipt", str(entry_id)))
    assert json.loads(pending.stderr)["code"] == "evidence.not_sequenced"
    unsequenced = fails_cleanly(
        run_cli(settings, "tlog", "leaf", str(entry_id), "-o", str(tmp_path / "l"))
    )
    assert "not sequenced yet" in unsequenced.stderr
    assert not (tmp_path / "l").exists()

    unknown = fails_cleanly(run_cli(settings, "tlog", "receipt", "999999"))
    assert json.loads(unknown.stderr)["code"] == "evidence.not_found"
    unknown = fails_cleanly(run_cli(settings, "tlog", "leaf", "999999", "-o", str(tmp_path / "l")))
    assert json.loads(unknown.stderr)["code"] == "evidence.not_found"


def test_status_and_export_checkpoint(platform: Platform, settings: Settings) -> None:
    record_many(platform, 3)
    before = json.loads(ok(run_cli(settings, "tlog", "status")).stdout)
    assert (before["size"], before["pending"], before["checkpoint"]) == (0, 3, None)
    assert (
        "no checkpoint published yet"
        in fails_cleanly(run_cli(settings, "tlog", "export-checkpoint")).stderr
    )

    ok(run_cli(settings, "tlog", "sequence"))
    after = json.loads(ok(run_cli(settings, "tlog", "status")).stdout)
    assert (after["size"], after["pending"], after["checkpoint_size"]) == (3, 0, 3)
    exported = json.loads(ok(run_cli(settings, "tlog", "export-checkpoint")).stdout)
    assert exported["origin"] == settings.log_origin
    assert exported["size"] == 3
    assert exported["verifier_key"] == after["verifier_key"]
    checkpoint, _ = open_checkpoint(
        exported["signed_note"].encode(), [parse_verifier_key(exported["verifier_key"])]
    )
    assert (checkpoint.size, checkpoint.root_hash.hex()) == (3, exported["root_sha256_hex"])
