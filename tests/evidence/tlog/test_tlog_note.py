"""Signed notes and key strings: round trips and every rejection path."""

from __future__ import annotations

import base64
import re

import pytest

from shuchang.domains.evidence.tlog.note import (
    Ed25519Signer,
    NoteError,
    NoteSignature,
    NoteVerificationError,
    cosign,
    generate_key,
    key_id,
    open_note,
    parse_note,
    parse_signer_key,
    parse_verifier_key,
    sign,
)

# golang.org/x/mod/sumdb/note test key (BSD-3-Clause), also in the shared fixtures.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
DASH = "\u2014"


@pytest.fixture(scope="module")
def peter() -> Ed25519Signer:
    signer = parse_signer_key(PETER_SKEY)
    assert isinstance(signer, Ed25519Signer)
    return signer


def test_generate_key_round_trip() -> None:
    skey, vkey = generate_key("example.com/log")
    assert re.fullmatch(r"PRIVATE\+KEY\+example\.com/log\+[0-9a-f]{8}\+\S{44}", skey)
    assert re.fullmatch(r"example\.com/log\+[0-9a-f]{8}\+\S{44}", vkey)
    signer, verifier = parse_signer_key(skey), parse_verifier_key(vkey)
    assert (signer.name, signer.key_id) == (verifier.name, verifier.key_id)
    opened = open_note(sign("hello\n", signer), [verifier])
    assert opened.text == "hello\n"
    assert [s.name for s in opened.verified] == ["example.com/log"]


def test_key_id_is_the_recommended_hash(peter: Ed25519Signer) -> None:
    public = peter.verifier().public_key
    assert key_id("PeterNeumann", b"\x01" + public) == 0xC74F20A3
    assert "AYEK" not in repr(peter)  # the seed never shows up in logs


def test_note_text_may_contain_blank_lines(peter: Ed25519Signer) -> None:
    text = "first\n\nthird\n"
    assert open_note(sign(text, peter), [peter.verifier()]).text == text


def test_unknown_signatures_are_ignored_but_reported(peter: Ed25519Signer) -> None:
    other = parse_signer_key(generate_key("witness.example")[0])
    message = sign("body\n", other, peter)
    opened = open_note(message, [peter.verifier()])
    assert [s.name for s in opened.verified] == ["PeterNeumann"]
    assert [s.name for s in opened.unverified] == ["witness.example"]


def test_cosign_appends_signatures(peter: Ed25519Signer) -> None:
    witness_skey, witness_vkey = generate_key("witness.example")
    message = cosign(sign("body\n", peter), parse_signer_key(witness_skey))
    opened = open_note(message, [peter.verifier(), parse_verifier_key(witness_vkey)])
    assert [s.name for s in opened.verified] == ["PeterNeumann", "witness.example"]


def test_no_known_signature_is_rejected(peter: Ed25519Signer) -> None:
    stranger = parse_verifier_key(generate_key("PeterNeumann")[1])  # same name, other key
    with pytest.raises(NoteVerificationError, match="not signed by any trusted key"):
        open_note(sign("body\n", peter), [stranger])
    with pytest.raises(NoteVerificationError):
        open_note(sign("body\n", peter), [])


def test_a_failing_known_signature_rejects_the_note(peter: Ed25519Signer) -> None:
    good = sign("body\n", peter)
    forged = NoteSignature(peter.name, peter.key_id, bytes(64)).line().encode()
    with pytest.raises(NoteVerificationError, match="does not verify"):
        open_note(good + forged, [peter.verifier()])


def test_ambiguous_trusted_keys_are_refused(peter: Ed25519Signer) -> None:
    with pytest.raises(NoteError, match="share the name and ID"):
        open_note(sign("x\n", peter), [peter.verifier(), peter.verifier()])


def _sig_line(name: str = "PeterNeumann", blob: bytes = bytes(68)) -> str:
    return f"{DASH} {name} {base64.b64encode(blob).decode()}\n"


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (b"text\n" + _sig_line().encode(), "no blank line"),
        (("text\n\n" + _sig_line()).encode()[:-1], "must end with a newline"),
        (b"text\n\n", "must end with a newline"),
        (("text\n\n" + _sig_line() + "garbage\n").encode(), "em dash"),
        ((b"text\n\n- PeterNeumann AAAAAAA=\n"), "em dash"),
        (f"text\n\n{DASH} PeterNeumann\n".encode(), "malformed signature line"),
        (f"text\n\n{DASH}  AAAAAAA=\n".encode(), "malformed signature line"),
        (f"text\n\n{DASH} a+b AAAAAAA=\n".encode(), "malformed signature line"),
        (f"text\n\n{DASH} name !!!!\n".encode(), "not valid base64"),
        (f"text\n\n{DASH} name AAAAAAB=\n".encode(), "not canonical base64"),
        (f"text\n\n{DASH} name AAAAAA==\n".encode(), "too short"),
        (("te\txt\n\n" + _sig_line()).encode(), "control character"),
        (("text\r\n\n" + _sig_line()).encode(), "control character"),
        (b"\xfftext\n\n" + _sig_line().encode(), "not valid UTF-8"),
        (("text\n\n" + _sig_line() * 101).encode(), "more than 100 signatures"),
    ],
)
def test_malformed_notes_are_rejected(message: bytes, reason: str) -> None:
    with pytest.raises(NoteError, match=reason):
        parse_note(message)


def test_hundred_signatures_are_accepted() -> None:
    assert len(parse_note(("text\n\n" + _sig_line() * 100).encode()).signatures) == 100


@pytest.mark.parametrize(
    ("text", "reason"),
    [("no newline", "end with a newline"), ("bell\a\n", "control character")],
)
def test_sign_refuses_bad_text(peter: Ed25519Signer, text: str, reason: str) -> None:
    with pytest.raises(NoteError, match=reason):
        sign(text, peter)


@pytest.mark.parametrize(
    ("vkey", "reason"),
    [
        ("PeterNeumann", "must look like"),
        (PETER_SKEY, "signer \\(private\\) key"),
        ("PeterNeumann+c74f20a3", "must look like"),
        ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "invalid key name"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "invalid key name"),
        ("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 hex digits"),
        ("PeterNeumann+c74f20ag+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 hex digits"),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", "base64"),
        ("PeterNeumann+c74f20a3+", "no key material"),
        ("PeterNeumann+c74f20a3+AhpjZGVm", "unsupported signature type 0x02"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy1w==", "32 bytes"),
    ],
)
def test_malformed_verifier_keys_are_rejected(vkey: str, reason: str) -> None:
    with pytest.raises(NoteError, match=reason):
        parse_verifier_key(vkey)


@pytest.mark.parametrize(
    ("skey", "reason"),
    [
        (PETER_VKEY, "must start with PRIVATE\\+KEY\\+"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "match"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXH", "32 bytes"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "0x02"),
    ],
)
def test_malformed_signer_keys_are_rejected(skey: str, reason: str) -> None:
    with pytest.raises(NoteError, match=reason):
        parse_signer_key(skey)


def test_generate_key_refuses_bad_names() -> None:
    for name in ("", "a b", "a+b", "tab\there"):
        with pytest.raises(NoteError, match="invalid key name"):
            generate_key(name)
