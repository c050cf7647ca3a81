"""Offline verification of a certificate PDF (证书离线核验) — no database, no network.

Checks, in order, each failing with a stable code:

1. the file is a PDF whose attachments are ``certificate.json`` and (once logged)
   ``evidence.json``, nothing else (``certificate.attachments``);
2. ``certificate.json`` is a ``ShuchangDataAssetCertificate`` in its canonical bytes whose
   Ed25519 signature verifies — under the pinned issuer key with ``--trust``
   (``document.*``); its registration number's check character agrees;
3. ``evidence.json`` is the issuance entry of exactly this certificate: its payload names the
   number and the SHA-256 of the signed body, its leaf commits to that payload, and its
   tlog-proof receipt proves the leaf against a checkpoint signed by a trusted log key
   (``evidence.*``);
4. the pages draw exactly the text the layout derives from the signed document and receipt,
   nothing more or less, all in the non-embedded CJK font, in dark ink, with nothing painted
   over text, no images, forms or annotations, and no text moved off the page
   (``certificate.visible_mismatch`` / ``certificate.page_tampered``);
5. the certificate is within its validity at the time of checking (``certificate.expired``).

Revocation after the receipt's checkpoint cannot be seen offline; the status is at
GET /api/v1/assets/certificates/{number}.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import ContentStream

from shuchang.attestations import DocumentInvalid, open_document
from shuchang.canonical import digest
from shuchang.domains import evidence
from shuchang.domains.assets import numbers
from shuchang.domains.assets.certificate import BUNDLE_TYPE, DOCUMENT_TYPE, ISSUED, issuance_payload
from shuchang.domains.assets.layout import flat
from shuchang.domains.assets.pdf import CERTIFICATE_FILE, EVIDENCE_FILE, FONT

PAINT = {b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*", b"sh"}
SHOW = {b"Tj", b"TJ", b"'", b'"'}
FORBIDDEN = {b"Do", b"BI", b"Tr", b"Tz", b"d0", b"d1"}
DARK = 0.6
MIN_SIZE = 6


@dataclass
class Verified:
    """What a verified certificate says, and a line per check that passed."""

    number: str
    holder: str
    valid_until: str
    checks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _fail(code: str, en: str, zh: str) -> DocumentInvalid:
    return DocumentInvalid(code, en, zh)


def _attachments(reader: PdfReader) -> tuple[bytes, bytes | None]:
    try:
        found = reader.attachments
    except (PdfReadError, KeyError, ValueError) as exc:
        raise _fail(
            "certificate.attachments", f"Cannot read attachments: {exc}", "无法读取附件"
        ) from exc
    names = set(found)
    if (
        CERTIFICATE_FILE not in names
        or names - {CERTIFICATE_FILE, EVIDENCE_FILE}
        or any(len(v) != 1 for v in found.values())
    ):
        raise _fail(
            "certificate.attachments",
            f"Expected the attachments {CERTIFICATE_FILE} and {EVIDENCE_FILE}, "
            f"found {sorted(names)}",
            "附件不是 certificate.json 与 evidence.json",
        )
    evidence_raw = found[EVIDENCE_FILE][0] if EVIDENCE_FILE in found else None
    return found[CERTIFICATE_FILE][0], evidence_raw


def check_bundle(
    bundle: Any, body: dict[str, Any], verifiers: list[evidence.Verifier] | None
) -> str:
    """The bundle is this certificate's issuance entry and its receipt verifies."""
    expected = issuance_payload(body)
    subject = f"asset:{body['asset']['id']}"
    if not isinstance(bundle, dict) or bundle.get("type") != BUNDLE_TYPE:
        raise _fail(
            "evidence.malformed", "evidence.json is not an evidence bundle", "存证回执格式错误"
        )
    if bundle.get("kind") != ISSUED or bundle.get("subject") != subject:
        raise _fail(
            "evidence.other_entry",
            "The receipt is of another entry",
            "存证回执不属于本证书的签发记录",
        )
    if bundle.get("payload") != expected:
        raise _fail(
            "evidence.other_certificate",
            "The logged issuance names another certificate (number or digest differ)",
            "存证记录的证书编号或摘要与本证书不一致",
        )
    try:
        leaf = base64.b64decode(str(bundle.get("leaf")), validate=True)
        facts = json.loads(leaf)
    except ValueError as exc:
        raise _fail(
            "evidence.malformed", "The leaf is not base64 JSON", "存证叶子格式错误"
        ) from exc
    if (
        not isinstance(facts, dict)
        or (facts.get("kind"), facts.get("subject")) != (ISSUED, subject)
        or (facts.get("payload_sha256") != digest(expected))
    ):
        raise _fail(
            "evidence.leaf_mismatch",
            "The leaf does not commit to this issuance",
            "存证叶子与签发记录不符",
        )
    if verifiers is None:
        return "receipt: not checked (no --vkey given)"
    try:
        checkpoint, index = evidence.verify_receipt(
            str(bundle["receipt"]).encode(), leaf, verifiers
        )
    except (ValueError, KeyError) as exc:
        raise _fail(
            "evidence.receipt_invalid", f"Receipt does not verify: {exc}", "存证回执验证失败"
        ) from exc
    return f"receipt: leaf {index} is in {checkpoint.origin} at tree size {checkpoint.size}: OK"


def _decode(operand: Any) -> bytes:
    raw = getattr(operand, "original_bytes", None)
    return bytes(raw if raw is not None else operand)


def _font_ok(font: Any) -> bool:
    try:
        descendant = font["/DescendantFonts"][0].get_object()
        descriptor = descendant["/FontDescriptor"].get_object()
    except (KeyError, IndexError, TypeError):
        return False
    embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    return (
        font.get("/Subtype") == "/Type0"
        and font.get("/BaseFont") == f"/{FONT}"
        and font.get("/Encoding") == "/UniGB-UCS2-H"
        and not embedded
    )


def _tampered(what: str) -> DocumentInvalid:
    return _fail(
        "certificate.page_tampered", f"The page was altered: {what}", f"证书页面被改动：{what}"
    )


class _PageText:
    """The text one page draws, with the checks that keep it honest (see the module doc)."""

    def __init__(self, page: Any, reader: PdfReader) -> None:
        self.page, self.reader = page, reader
        resources = page.get("/Resources") or {}
        if "/XObject" in resources or page.get("/Annots"):
            raise _tampered("images, forms or annotations were added")
        fonts = resources.get("/Font") or {}
        self.fonts = {str(name): _font_ok(f.get_object()) for name, f in fonts.items()}
        box = page.mediabox
        self.box = (float(box.left), float(box.bottom), float(box.right), float(box.top))
        self.text: list[str] = []
        self.font_ok, self.size, self.fill, self.shown = False, 0.0, 0.0, False

    def read(self) -> str:
        contents = self.page.get_contents()
        if contents is None:
            return ""
        for operands, op in ContentStream(contents, self.reader).operations:
            self._step(operands, op)
        return "".join(self.text)

    def _step(self, operands: list[Any], op: bytes) -> None:
        if op in FORBIDDEN or (op in PAINT and self.shown):
            raise _tampered(f"operator {op.decode()} is not allowed here")
        if op == b"cm" and [float(x) for x in operands] != [1, 0, 0, 1, 0, 0]:
            raise _tampered("the page was transformed")
        if op == b"Tf":
            self.font_ok, self.size = self.fonts.get(str(operands[0]), False), float(operands[1])
        elif op in (b"rg", b"g", b"k"):
            values = [float(x) for x in operands]
            self.fill = max(values) if op != b"k" else 1 - max(values[3], 0)
        elif op in (b"Tm", b"Td", b"TD"):
            self._position(op, operands)
        elif op in SHOW:
            self._show(operands, op)

    def _position(self, op: bytes, operands: list[Any]) -> None:
        values = [float(x) for x in operands]
        if op == b"Tm" and values[:4] != [1, 0, 0, 1]:
            raise _tampered("text was scaled or rotated")
        x, y = values[-2], values[-1]
        left, bottom, right, top = self.box
        if op == b"Tm" and not (left <= x <= right and bottom <= y <= top):
            raise _tampered("text was moved off the page")

    def _show(self, operands: list[Any], op: bytes) -> None:
        if not self.font_ok:
            raise _tampered("text is set in a font other than the standard CJK font")
        if self.size < MIN_SIZE or self.fill > DARK:
            raise _tampered("text is too small or too light to be read")
        self.shown = True
        items = operands[0] if op == b"TJ" else operands[-1:]
        for item in items:
            if not isinstance(item, (int, float)) and not hasattr(item, "as_numeric"):
                self.text.append(_decode(item).decode("utf-16-be", errors="replace"))


def page_text(reader: PdfReader) -> str:
    return "".join(_PageText(page, reader).read() for page in reader.pages)


def _first_difference(shown: str, signed: str) -> DocumentInvalid:
    at = next((i for i, (a, b) in enumerate(zip(shown, signed, strict=False)) if a != b), None)
    at = min(len(shown), len(signed)) if at is None else at
    return _fail(
        "certificate.visible_mismatch",
        f"The page shows {shown[at : at + 24]!r} where the signed certificate says "
        f"{signed[at : at + 24]!r}",
        f"页面显示“{shown[at : at + 24]}”，签名证书为“{signed[at : at + 24]}”",
    )


def verify_pdf(
    data: bytes,
    verifiers: list[evidence.Verifier] | None,
    trusted: bytes | None = None,
    now: datetime | None = None,
) -> Verified:
    """Run every check on a certificate PDF; raises DocumentInvalid at the first fault."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        certificate_raw, evidence_raw = _attachments(reader)
    except (PdfReadError, ValueError, TypeError) as exc:
        raise _fail(
            "certificate.not_pdf", f"Not a readable PDF: {exc}", "不是可读取的 PDF 文件"
        ) from exc
    body = open_document(certificate_raw, DOCUMENT_TYPE, trusted)
    document = json.loads(certificate_raw)
    number = str(body.get("registrationNumber"))
    if not numbers.is_valid(number):
        raise _fail(
            "certificate.number_invalid",
            f"{number} is not a valid registration number",
            "登记编号校验位不正确",
        )
    result = Verified(number, str(body["holder"]["name"]), str(body["validUntil"]))
    key = "pinned key" if trusted else "unpinned key: pin it with --trust"
    result.checks.append(f"signature: issuer key {document['signature']['keyid']} ({key}): OK")
    bundle = None
    if evidence_raw is None:
        result.warnings.append("no evidence receipt embedded: the issuance was not yet logged")
    else:
        try:
            bundle = json.loads(evidence_raw)
        except ValueError as exc:
            raise _fail(
                "evidence.malformed", "evidence.json is not JSON", "存证回执不是 JSON"
            ) from exc
        result.checks.append(check_bundle(bundle, body, verifiers))
    shown, signed = page_text(reader), flat(document, bundle)
    if shown != signed:
        raise _first_difference(shown, signed)
    result.checks.append("visible text: matches the signed certificate: OK")
    _check_validity(body, now or datetime.now(UTC))
    result.checks.append(f"validity: {body['validFrom']} to {body['validUntil']}: OK")
    return result


def _check_validity(body: dict[str, Any], now: datetime) -> None:
    start = datetime.strptime(body["validFrom"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    end = datetime.strptime(body["validUntil"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    if now >= end:
        raise _fail(
            "certificate.expired",
            f"The certificate expired at {body['validUntil']}",
            "证书已过有效期",
        )
    if now < start:
        raise _fail("certificate.not_yet_valid", "The certificate is not valid yet", "证书尚未生效")
