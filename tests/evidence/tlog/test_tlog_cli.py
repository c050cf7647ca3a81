"""The ``tlog`` click group: keygen -> build -> verify, and clean failures."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from shuchang.domains.evidence.tlog.cli import tlog

ORIGIN = "example.com/evidence"


def _run(*args: str | Path) -> Result:
    return CliRunner().invoke(tlog, [str(a) for a in args])


def _assert_fails(result: Result, reason: str) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a crash
    assert "Traceback" not in result.output
    assert reason in result.stderr, result.stderr


@pytest.fixture
def log(tmp_path: Path) -> dict[str, Path]:
    key = tmp_path / "log.key"
    assert _run("keygen", "--name", ORIGIN, "--out", key).exit_code == 0
    leaves = []
    for i, text in enumerate(["alpha", "beta", "gamma", "delta", "epsilon"]):
        leaf = tmp_path / f"leaf{i}.json"
        leaf.write_text(f'{{"event": "{text}"}}', encoding="utf-8")
        leaves.append(leaf)
    result = _run("build", "--origin", ORIGIN, "--key", key, *leaves)
    assert result.exit_code == 0, result.output
    return {
        "key": key,
        "vkey": tmp_path / "log.key.pub",
        "leaf": leaves[2],
        "receipt": tmp_path / "leaf2.json.tlog-proof",
        "other_leaf": leaves[3],
    }


def test_keygen_writes_private_key_privately(tmp_path: Path) -> None:
    result = _run("keygen", "--name", ORIGIN, "--out", tmp_path / "k")
    assert result.exit_code == 0
    skey = (tmp_path / "k").read_text(encoding="utf-8")
    vkey = (tmp_path / "k.pub").read_text(encoding="utf-8")
    assert skey.startswith(f"PRIVATE+KEY+{ORIGIN}+")
    assert result.stdout == vkey
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o600
    _assert_fails(
        _run("keygen", "--name", ORIGIN, "--out", tmp_path / "k"), "refusing to overwrite"
    )


def test_keygen_to_stdout_and_bad_names() -> None:
    result = _run("keygen", "--name", ORIGIN)
    assert result.exit_code == 0
    skey, vkey = result.stdout.splitlines()
    assert skey.startswith("PRIVATE+KEY+") and vkey.startswith(ORIGIN + "+")
    _assert_fails(_run("keygen", "--name", "has space"), "invalid key name")


def test_build_prints_checkpoint_and_writes_receipts(log: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "receipts"
    result = _run("build", "--origin", ORIGIN, "--key", log["key"], "--out-dir", out, log["leaf"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[:2] == [ORIGIN, "1"]
    assert lines[4].startswith(f"\u2014 {ORIGIN} ")
    receipt = (out / "leaf2.json.tlog-proof").read_text(encoding="utf-8")
    assert receipt.startswith("c2sp.org/tlog-proof@v1\nindex 0\n\n")
    assert receipt.endswith(result.stdout)


def test_round_trip_verifies(log: dict[str, Path]) -> None:
    result = _run("verify", "--vkey", log["vkey"], "--receipt", log["receipt"], log["leaf"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"OK: leaf 2 is in {ORIGIN} at tree size 5\n"
    vkey_string = log["vkey"].read_text(encoding="utf-8").strip()
    args = ("--vkey", vkey_string, "--origin", ORIGIN, "--receipt", log["receipt"])
    result = _run("verify", *args, log["leaf"])
    assert result.exit_code == 0, result.output


def test_tampered_leaf_is_rejected(log: dict[str, Path]) -> None:
    log["leaf"].write_bytes(log["leaf"].read_bytes() + b" ")
    result = _run("verify", "--vkey", log["vkey"], "--receipt", log["receipt"], log["leaf"])
    _assert_fails(result, "inclusion proof does not lead to the expected root hash")


def test_receipt_for_another_leaf_is_rejected(log: dict[str, Path]) -> None:
    result = _run("verify", "--vkey", log["vkey"], "--receipt", log["receipt"], log["other_leaf"])
    _assert_fails(result, "not verified")


def test_tampered_receipt_hash_is_rejected(log: dict[str, Path]) -> None:
    lines = log["receipt"].read_text(encoding="utf-8").split("\n")
    raw = bytearray(base64.b64decode(lines[2]))
    raw[0] ^= 1
    lines[2] = base64.b64encode(bytes(raw)).decode()
    log["receipt"].write_text("\n".join(lines), encoding="utf-8")
    result = _run("verify", "--vkey", log["vkey"], "--receipt", log["receipt"], log["leaf"])
    _assert_fails(result, "does not lead to the expected root hash")


def test_tampered_checkpoint_is_rejected(log: dict[str, Path]) -> None:
    text = log["receipt"].read_text(encoding="utf-8")
    log["receipt"].write_text(text.replace(f"{ORIGIN}\n5\n", f"{ORIGIN}\n6\n"), encoding="utf-8")
    result = _run("verify", "--vkey", log["vkey"], "--receipt", log["receipt"], log["leaf"])
    _assert_fails(result, "does not verify")


def test_wrong_vkey_is_rejected(log: dict[str, Path], tmp_path: Path) -> None:
    other = tmp_path / "other.key"
    _run("keygen", "--name", ORIGIN, "--out", other)
    result = _run("verify", "--vkey", f"{other}.pub", "--receipt", log["receipt"], log["leaf"])
    _assert_fails(result, "not signed by any trusted key")


def test_wrong_origin_is_rejected(log: dict[str, Path]) -> None:
    result = _run(
        "verify", "--vkey", log["vkey"], "--origin", "x", "--receipt", log["receipt"], log["leaf"]
    )
    _assert_fails(result, "expected 'x'")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "does not start with"),
        (b"\x00\xff garbage", "does not start with"),
        (b"c2sp.org/tlog-proof@v1\nindex 2\n\nno signature here\n", "no blank line"),
        (b"c2sp.org/tlog-proof@v1\nindex 2\n\no\n5\nAAAA\n\n\xe2\x80\x94 k AAAAAAA=\n", "trusted"),
    ],
)
def test_malformed_receipts_are_rejected(log: dict[str, Path], content: bytes, reason: str) -> None:
    log["receipt"].write_bytes(content)
    result = _run("verify", "--vkey", log["vkey"], "--receipt", log["receipt"], log["leaf"])
    _assert_fails(result, reason)


def test_malformed_note_in_receipt_is_rejected(log: dict[str, Path]) -> None:
    text = log["receipt"].read_text(encoding="utf-8")
    log["receipt"].write_text(text.replace("\u2014 ", "-- "), encoding="utf-8")
    result = _run("verify", "--vkey", log["vkey"], "--receipt", log["receipt"], log["leaf"])
    _assert_fails(result, "em dash")


def test_malformed_keys_are_rejected(log: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text("PRIVATE+KEY+nope\n", encoding="utf-8")
    _assert_fails(_run("build", "--origin", ORIGIN, "--key", bad, log["leaf"]), "bad signer key")
    bad.write_bytes(b"\xff\xfe")
    _assert_fails(_run("build", "--origin", ORIGIN, "--key", bad, log["leaf"]), "not UTF-8")
    result = _run("verify", "--vkey", bad, "--receipt", log["receipt"], log["leaf"])
    _assert_fails(result, "not UTF-8")
    result = _run("verify", "--vkey", "not-a-key", "--receipt", log["receipt"], log["leaf"])
    _assert_fails(result, "bad verifier key 'not-a-key'")
    empty = tmp_path / "empty.pub"
    empty.write_text("\n", encoding="utf-8")
    result = _run("verify", "--vkey", empty, "--receipt", log["receipt"], log["leaf"])
    _assert_fails(result, "no verifier key")


def test_missing_files_are_reported(log: dict[str, Path], tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    result = _run("verify", "--vkey", log["vkey"], "--receipt", missing, log["leaf"])
    _assert_fails(result, "cannot read receipt")
    result = _run("verify", "--vkey", log["vkey"], "--receipt", log["receipt"], missing)
    _assert_fails(result, "cannot read leaf file")
    _assert_fails(_run("build", "--origin", ORIGIN, "--key", missing, log["leaf"]), "cannot read")


def test_build_refuses_colliding_receipts_and_bad_origins(
    log: dict[str, Path], tmp_path: Path
) -> None:
    twin = tmp_path / "sub" / log["leaf"].name
    twin.parent.mkdir()
    twin.write_bytes(b"x")
    args = ("build", "--origin", ORIGIN, "--key", log["key"], "--out-dir", tmp_path / "o")
    _assert_fails(_run(*args, log["leaf"], twin), "same receipt file")
    result = _run("build", "--origin", "bad\torigin", "--key", log["key"], log["leaf"])
    _assert_fails(result, "control character")


def test_build_warns_when_key_name_differs_from_origin(log: dict[str, Path]) -> None:
    result = _run("build", "--origin", "example.com/other", "--key", log["key"], log["leaf"])
    assert result.exit_code == 0
    assert "differs from origin" in result.stderr


def test_sm2_signed_log_round_trip(tmp_path: Path) -> None:
    pytest.importorskip("gmssl")
    key = tmp_path / "sm2.key"
    assert _run("keygen", "--name", ORIGIN, "--algorithm", "sm2", "--out", key).exit_code == 0
    leaf = tmp_path / "leaf"
    leaf.write_bytes(b"payload")
    assert _run("build", "--origin", ORIGIN, "--key", key, leaf).exit_code == 0
    result = _run("verify", "--vkey", f"{key}.pub", "--receipt", f"{leaf}.tlog-proof", leaf)
    assert result.exit_code == 0, result.output
