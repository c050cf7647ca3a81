"""A certificate PDF verifies offline, and every kind of tampering is caught with its code:
the signed payload (any byte), the visible text, a swapped attachment, an untrusted key, a
receipt of another entry, a page painted over."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from assets_support import (
    attachments,
    certificate_pdf,
    issuer_key,
    log_verifiers,
    register_asset,
    sequence,
    with_attachments,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ByteStringObject, ContentStream, NameObject, NumberObject

from shuchang.attestations import DocumentInvalid
from shuchang.domains.assets import verify_pdf
from shuchang.platform import Platform


@pytest.fixture
def issued(platform: Platform) -> bytes:
    reg = register_asset(platform)
    sequence(platform)
    return certificate_pdf(platform, reg.id)


def _code(data: bytes, platform: Platform, **kwargs: object) -> str:
    with pytest.raises(DocumentInvalid) as caught:
        verify_pdf(data, log_verifiers(platform), issuer_key(platform), **kwargs)  # type: ignore[arg-type]
    assert caught.value.en and caught.value.zh
    return caught.value.code


def test_a_genuine_certificate_verifies(issued: bytes, platform: Platform) -> None:
    result = verify_pdf(issued, log_verifiers(platform), issuer_key(platform))
    assert result.number.startswith("DZ-330300-")
    assert any(c.startswith("receipt: leaf") for c in result.checks)
    assert not result.warnings


def test_before_sequencing_it_carries_no_receipt_and_says_so(platform: Platform) -> None:
    reg = register_asset(platform)
    data = certificate_pdf(platform, reg.id)
    assert set(attachments(data)) == {"certificate.json"}
    result = verify_pdf(data, log_verifiers(platform), issuer_key(platform))
    assert result.warnings == ["no evidence receipt embedded: the issuance was not yet logged"]


def test_an_untrusted_issuer_key_is_refused(issued: bytes, platform: Platform) -> None:
    with pytest.raises(DocumentInvalid) as caught:
        verify_pdf(issued, log_verifiers(platform), bytes(32))
    assert caught.value.code == "document.key_untrusted"


def test_a_receipt_from_another_log_key_is_refused(issued: bytes, platform: Platform) -> None:
    from shuchang.domains.evidence.tlog.note import generate_key, parse_verifier_key

    _, other = generate_key(platform.settings.log_origin)
    with pytest.raises(DocumentInvalid) as caught:
        verify_pdf(issued, [parse_verifier_key(other)], issuer_key(platform))
    assert caught.value.code == "evidence.receipt_invalid"


def test_swapping_in_another_certificate_is_detected(platform: Platform) -> None:
    first = register_asset(platform)
    second = register_asset(platform, first.operator)
    sequence(platform)
    one, two = certificate_pdf(platform, first.id), certificate_pdf(platform, second.id)
    # Both attachments of the second (genuine, logged) under the first's visible pages.
    assert (
        _code(with_attachments(one, attachments(two)), platform) == "certificate.visible_mismatch"
    )
    # The first's certificate with the second's receipt.
    mixed = {**attachments(one), "evidence.json": attachments(two)["evidence.json"]}
    assert _code(with_attachments(one, mixed), platform) == "evidence.other_entry"


def test_extra_or_missing_attachments_are_refused(issued: bytes, platform: Platform) -> None:
    files = attachments(issued)
    assert (
        _code(with_attachments(issued, {**files, "x.txt": b"x"}), platform)
        == "certificate.attachments"
    )
    assert _code(with_attachments(issued, {"evidence.json": files["evidence.json"]}), platform) == (
        "certificate.attachments"
    )


def _rewrite(data: bytes, change: Callable[[list[tuple[Any, bytes]]], None]) -> bytes:
    """The PDF with its first page's content-stream operations changed by ``change``."""
    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter(clone_from=reader)
    page = writer.pages[0]
    stream = ContentStream(page.get_contents(), reader)
    operations = list(stream.operations)
    change(operations)
    stream.operations = operations
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _edit_text(data: bytes, old: str, new: str) -> bytes:
    """Replace visible text drawn on the page (same font, same place), as a forger would."""

    def change(operations: list[tuple[Any, bytes]]) -> None:
        for i, (operands, op) in enumerate(operations):
            if op == b"Tj":
                raw = getattr(operands[0], "original_bytes", None) or bytes(operands[0])
                text = raw.decode("utf-16-be")
                if old in text:
                    forged = ByteStringObject(text.replace(old, new).encode("utf-16-be"))
                    operations[i] = ([forged], op)
                    return
        raise AssertionError(f"{old!r} is not drawn on the page")

    return _rewrite(data, change)


def test_changed_visible_text_is_detected(issued: bytes, platform: Platform) -> None:
    body = json.loads(attachments(issued)["certificate.json"])["certificate"]
    holder = body["holder"]["name"]
    forged = _edit_text(issued, holder[:4], "伪造单位")
    assert _code(forged, platform) == "certificate.visible_mismatch"
    digit = body["validUntil"][:4]
    later = _edit_text(issued, digit, str(int(digit) + 5))
    assert _code(later, platform) == "certificate.visible_mismatch"


def test_painting_over_text_or_adding_an_image_is_detected(
    issued: bytes, platform: Platform
) -> None:
    def cover(operations: list[tuple[Any, bytes]]) -> None:
        one, size = NumberObject(1), [NumberObject(n) for n in (150, 500, 300, 20)]
        operations += [([one, one, one], b"rg"), (size, b"re"), ([], b"f")]

    assert _code(_rewrite(issued, cover), platform) == "certificate.page_tampered"

    def image(operations: list[tuple[Any, bytes]]) -> None:
        operations.append(([NameObject("/Im1")], b"Do"))

    assert _code(_rewrite(issued, image), platform) == "certificate.page_tampered"


def test_an_expired_certificate_fails_at_the_time_of_checking(
    issued: bytes, platform: Platform
) -> None:
    later = datetime.now(UTC) + timedelta(days=365 * 4)
    assert _code(issued, platform, now=later) == "certificate.expired"


def test_garbage_is_not_a_certificate(platform: Platform) -> None:
    assert _code(b"%PDF-1.4 nonsense", platform) == "certificate.not_pdf"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_flipping_any_byte_of_the_signed_certificate_is_detected(
    issued: bytes, platform: Platform, data: st.DataObject
) -> None:
    files = attachments(issued)
    signed = bytearray(files["certificate.json"])
    at = data.draw(st.integers(0, len(signed) - 1), label="byte")
    flip = data.draw(st.integers(1, 255), label="xor")
    signed[at] ^= flip
    forged = with_attachments(issued, {**files, "certificate.json": bytes(signed)})
    assert _code(forged, platform) in {
        "document.malformed",
        "document.not_canonical",
        "document.signature_invalid",
        "document.key_untrusted",
    }
