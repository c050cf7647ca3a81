"""Optional SM2/SM3 note signatures (skipped without gmssl)."""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("gmssl")

from shuchang.domains.evidence.tlog import sm2
from shuchang.domains.evidence.tlog.note import (
    NoteError,
    NoteVerificationError,
    cosign,
    generate_key,
    open_note,
    parse_signer_key,
    parse_verifier_key,
    sign,
)


@pytest.fixture(scope="module")
def witness() -> sm2.SM2Signer:
    skey, _ = sm2.generate_key("witness.example/sm2")
    signer = parse_signer_key(skey)
    assert isinstance(signer, sm2.SM2Signer)
    return signer


def test_key_strings_round_trip(witness: sm2.SM2Signer) -> None:
    assert parse_signer_key(witness.skey) == witness
    verifier = witness.verifier()
    assert parse_verifier_key(verifier.vkey) == verifier
    raw = base64.b64decode(verifier.vkey.split("+", 2)[2])
    assert raw.startswith(b"\xffshuchang-sm2-sm3\x04")
    assert len(raw) == 17 + 65
    assert witness.skey.split("+")[2] == "witness.example/sm2"
    assert "PRIVATE" not in repr(witness) and witness.private_key.hex() not in repr(witness)


def test_sm2_cosignature_on_an_ed25519_note(witness: sm2.SM2Signer) -> None:
    log_skey, log_vkey = generate_key("example.com/log")
    message = cosign(sign("checkpoint body\n", parse_signer_key(log_skey)), witness)
    opened = open_note(message, [parse_verifier_key(log_vkey), witness.verifier()])
    assert [s.name for s in opened.verified] == ["example.com/log", "witness.example/sm2"]
    tampered = message.replace(b"body", b"bodY")
    with pytest.raises(NoteVerificationError):
        open_note(tampered, [witness.verifier()])


def test_signature_range_and_length_checks(witness: sm2.SM2Signer) -> None:
    verifier = witness.verifier()
    assert verifier.verify(b"m", witness.sign(b"m"))
    assert not verifier.verify(b"m", bytes(64))  # r = s = 0
    assert not verifier.verify(b"m", b"\xff" * 64)  # r, s >= n
    assert not verifier.verify(b"m", witness.sign(b"m")[:-1])


def test_bad_sm2_keys_are_rejected(witness: sm2.SM2Signer) -> None:
    point = bytearray(witness.public_key)
    point[-1] ^= 1
    with pytest.raises(NoteError, match="not a point on the curve"):
        sm2.SM2Verifier.from_public_key("w", bytes(point))
    with pytest.raises(NoteError, match="65-byte"):
        sm2.SM2Verifier.from_public_key("w", witness.public_key[1:])
    with pytest.raises(NoteError, match=r"\[1, n-2\]"):
        sm2.SM2Signer.from_private_key("w", bytes(32))
    with pytest.raises(NoteError, match="unsupported 0xff"):
        sm2.SM2Verifier.from_key_material("w", b"\xffother-scheme")
    with pytest.raises(NoteError, match="unsupported 0xff"):
        sm2.SM2Signer.from_key_material("w", b"\xffother-scheme")


def test_missing_gmssl_is_a_clean_error(
    witness: sm2.SM2Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "gmssl", None)
    with pytest.raises(NoteError, match="optional 'gmssl' package"):
        witness.sign(b"m")


def _der_integer(value: int) -> bytes:
    raw = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return b"\x02" + bytes([len(raw)]) + raw


def _spki_pem(point: bytes) -> str:
    ec_public_key = bytes.fromhex("06072a8648ce3d0201")
    sm2_curve = bytes.fromhex("06082a811ccf5501822d")  # 1.2.156.10197.1.301
    algorithm = b"\x30" + bytes([len(ec_public_key + sm2_curve)]) + ec_public_key + sm2_curve
    bits = b"\x03" + bytes([len(point) + 1]) + b"\x00" + point
    spki = b"\x30" + bytes([len(algorithm + bits)]) + algorithm + bits
    body = base64.b64encode(spki).decode()
    return f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n"


def _openssl_has_sm2() -> bool:
    if shutil.which("openssl") is None:
        return False
    listing = subprocess.run(
        ["openssl", "list", "-public-key-algorithms"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return "SM2" in listing.stdout


@pytest.mark.skipif(not _openssl_has_sm2(), reason="needs an openssl CLI with SM2")
def test_signatures_verify_with_openssl(witness: sm2.SM2Signer, tmp_path: Path) -> None:
    # Independent check of the GM/T 0009 details (Z value, default ID, SM3).
    message = b"checkpoint body\n"
    signature = witness.sign(message)
    r, s = (int.from_bytes(signature[i : i + 32], "big") for i in (0, 32))
    body = _der_integer(r) + _der_integer(s)
    (tmp_path / "sig").write_bytes(b"\x30" + bytes([len(body)]) + body)
    (tmp_path / "msg").write_bytes(message)
    (tmp_path / "pub.pem").write_text(_spki_pem(witness.public_key), encoding="ascii")
    options = "pkeyutl -verify -pubin -rawin -digest sm3 -pkeyopt distid:1234567812345678"
    files = ("-inkey", tmp_path / "pub.pem", "-in", tmp_path / "msg", "-sigfile", tmp_path / "sig")
    result = subprocess.run(  # noqa: S603
        ["openssl", *options.split(), *map(str, files)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Signature Verified Successfully" in result.stdout
