"""Transaction records (交易备案) and vouchers (交易凭证): signed, logged, verifiable offline.

Every invoice of a cleared month yields two documents, signed by the platform's settlement
key and each written to the evidence log in the clearing transaction:

* the **filing** for the regulator — parties, product, agreement (id and SHA-256 of the signed
  agreement), price terms, invoice lines, net/VAT/gross, every party's share, the usage it
  bills and the sealed metering batches (with their evidence entries) that usage came from;
* the **voucher** for the parties — the same without other parties' shares, naming the
  filing by id and SHA-256, so a party can show its voucher matches what was filed.

A document is JSON::

    {"type": "ShuchangTransactionFiling" | "ShuchangTransactionVoucher", "version": 1,
     "body": {...},
     "signature": {"algorithm": "ed25519", "keyid": "<16 hex>", "publicKey": "<base64>",
                   "signature": "<base64>"},
     "evidence": {"entry": <id>, "leaf_index": <n>, "leaf": "<base64>", "receipt": "<tlog-proof>"}}

The signature covers the RFC 8785 canonical JSON of ``{"type", "version", "body"}``. The log
entry (kind ``settlement.filing`` / ``settlement.voucher``, subject
``settlement-record:<body.id>``) has the payload :func:`evidence_payload`, computed from the
document alone, so a verifier holding the document, the leaf and its receipt checks all
three offline (`shuchang settlement verify`). ``evidence`` is attached once the entry is in a
signed checkpoint and is not covered by the signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from shuchang.canonical import canonical_json, canonical_json_of_plain, digest
from shuchang.domains import evidence
from shuchang.ports import Ed25519Signer, fingerprint, verify_signature
from shuchang.settings import Settings

TYPES = {"filing": "ShuchangTransactionFiling", "voucher": "ShuchangTransactionVoucher"}
KIND_OF_TYPE = {t: k for k, t in TYPES.items()}
EVIDENCE_KIND = {"filing": "settlement.filing", "voucher": "settlement.voucher"}
VERSION = 1

_signers: dict[Path, Ed25519Signer] = {}
_signers_lock = threading.Lock()


class RecordInvalid(Exception):
    def __init__(self, code: str, en: str, zh: str) -> None:
        super().__init__(en)
        self.code, self.en, self.zh = code, en, zh


def key_path(settings: Settings) -> Path:
    if settings.settlement_key_file:
        return Path(settings.settlement_key_file)
    return settings.beside_database("settlement.key", "shuchang.settlement.key")


def load_signer(settings: Settings) -> Ed25519Signer:
    """The settlement signing key (base64 Ed25519 seed), created (mode 600) on first use of
    the default location; a configured file must exist."""
    path = key_path(settings)
    with _signers_lock:
        if path in _signers:
            return _signers[path]
        if not path.exists():
            if settings.settlement_key_file:
                raise FileNotFoundError(f"SHUCHANG_SETTLEMENT_KEY_FILE {path} does not exist")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(base64.b64encode(Ed25519Signer().seed()).decode() + "\n")
        seed = base64.b64decode(path.read_text().strip(), validate=True)
        signer = _signers[path] = Ed25519Signer.from_seed(seed)
        return signer


def public_key(settings: Settings) -> dict[str, str]:
    key = load_signer(settings).public_key()
    return {
        "algorithm": "ed25519",
        "keyid": fingerprint(key),
        "publicKey": base64.b64encode(key).decode(),
    }


def _signed_part(kind: str, body: dict[str, Any]) -> bytes:
    return canonical_json({"type": TYPES[kind], "version": VERSION, "body": body})


def sign(kind: str, body: dict[str, Any], signer: Ed25519Signer) -> dict[str, Any]:
    public = signer.public_key()
    signed = canonical_json_of_plain({"type": TYPES[kind], "version": VERSION, "body": body})
    return {
        "type": TYPES[kind],
        "version": VERSION,
        "body": body,
        "signature": {
            "algorithm": "ed25519",
            "keyid": fingerprint(public),
            "publicKey": base64.b64encode(public).decode(),
            "signature": base64.b64encode(signer.sign(signed)).decode(),
        },
    }


def document_sha256(doc: dict[str, Any], *, issued: bool = False) -> str:
    """SHA-256 of the document as signed (everything but the attached ``evidence``);
    ``issued``: a document this module just signed (plain values: the C encoder applies)."""
    signed = {k: v for k, v in doc.items() if k != "evidence"}
    if issued:
        return hashlib.sha256(canonical_json_of_plain(signed)).hexdigest()
    return digest(signed)


def evidence_payload(doc: dict[str, Any], sha256: str | None = None) -> dict[str, Any]:
    """The log entry's payload, derived from the document alone (``sha256``: its
    :func:`document_sha256`, when the caller has it)."""
    body = doc["body"]
    return {
        "document_sha256": sha256 or document_sha256(doc),
        "type": doc["type"],
        "period": body["period"],
        "agreement": body["agreement"]["id"],
        "gross_fen": body["amounts"]["gross_fen"],
    }


def subject_of(doc: dict[str, Any]) -> str:
    return f"settlement-record:{doc['body']['id']}"


def attach_evidence(session: Any, doc: dict[str, Any], entry_id: int) -> dict[str, Any]:
    """The document with its log entry's leaf and receipt, once they exist."""
    from shuchang.errors import Conflict

    logged = evidence.logged_entry(session, entry_id)
    if logged.leaf_data is None:
        return doc
    try:
        receipt = evidence.receipt(session, entry_id).decode()
    except Conflict:  # sequenced, not yet under a checkpoint
        return doc
    attached = {
        "entry": entry_id,
        "leaf_index": logged.leaf_index,
        "leaf": logged.leaf_data,
        "receipt": receipt,
    }
    return {**doc, "evidence": attached}


def _fail(code: str, en: str, zh: str) -> RecordInvalid:
    return RecordInvalid(f"record.{code}", en, zh)


def _check_signature(doc: dict[str, Any], trusted: bytes | None) -> str:
    kind = KIND_OF_TYPE.get(doc.get("type"))  # type: ignore[arg-type]
    sig, body = doc.get("signature"), doc.get("body")
    if kind is None or doc.get("version") != VERSION or not isinstance(body, dict):
        raise _fail("malformed", "Not a Shuchang transaction record", "不是数场交易备案或凭证文件")
    if not isinstance(sig, dict) or sig.get("algorithm") != "ed25519":
        raise _fail("unsigned", "The document carries no Ed25519 signature", "文件缺少签名")
    try:
        key = base64.b64decode(str(sig["publicKey"]), validate=True)
        signature = base64.b64decode(str(sig["signature"]), validate=True)
        signed = _signed_part(kind, body)
    except (KeyError, ValueError, TypeError, binascii.Error) as exc:
        raise _fail(
            "malformed", f"Unreadable signature or body: {exc}", "签名或内容无法解析"
        ) from exc
    if set(sig) != {"algorithm", "keyid", "publicKey", "signature"} or sig["keyid"] != fingerprint(
        key
    ):
        raise _fail("malformed", "The signature entry is malformed", "签名条目格式错误")
    if trusted is not None and key != trusted:
        raise _fail(
            "key_untrusted",
            "Signed with another key than the one trusted",
            "签名密钥与受信密钥不符",
        )
    if not verify_signature("ed25519", key, signed, signature):
        raise _fail("signature_invalid", "The signature does not verify", "签名验证失败")
    pinned = "pinned key" if trusted is not None else "unpinned key"
    return f"{doc['type']} {body.get('id')}: signature OK (key {fingerprint(key)}, {pinned})"


def _check_leaf(doc: dict[str, Any], leaf: bytes) -> None:
    kind = KIND_OF_TYPE[doc["type"]]
    try:
        entry = json.loads(leaf)
        expected = hashlib.sha256(canonical_json(evidence_payload(doc))).hexdigest()
    except (ValueError, KeyError, TypeError) as exc:
        raise _fail(
            "leaf_mismatch", f"The leaf is not an evidence entry: {exc}", "叶子不是存证条目"
        ) from exc
    if (
        not isinstance(entry, dict)
        or entry.get("kind") != EVIDENCE_KIND[kind]
        or entry.get("subject") != subject_of(doc)
        or entry.get("payload_sha256") != expected
    ):
        raise _fail(
            "leaf_mismatch",
            "The log entry does not commit to this document",
            "存证条目与该文件不对应",
        )


def verify(
    doc: Any,
    *,
    trusted: bytes | None = None,
    verifiers: list[Any] | None = None,
    leaf: bytes | None = None,
    receipt: bytes | None = None,
) -> list[str]:
    """Check a filing or voucher offline: its signature, and — given the log's verifier keys
    — that the evidence log holds it (leaf and receipt attached or given). One line per
    check passed; :class:`RecordInvalid` at the first failure."""
    if not isinstance(doc, dict):
        raise _fail("malformed", "Not a JSON object", "不是 JSON 对象")
    lines = [_check_signature(doc, trusted)]
    found = doc.get("evidence")
    attached: dict[str, Any] = found if isinstance(found, dict) else {}
    try:
        leaf = leaf if leaf is not None else base64.b64decode(str(attached["leaf"]), validate=True)
        receipt = receipt if receipt is not None else str(attached["receipt"]).encode()
    except (KeyError, ValueError, binascii.Error):
        lines.append("evidence: no leaf and receipt attached or given (signature checked only)")
        return lines
    if not verifiers:
        raise _fail(
            "vkey_required",
            "Checking the receipt needs the log's verifier key (--vkey)",
            "核验收录证明须提供存证日志的验证公钥（--vkey）",
        )
    _check_leaf(doc, leaf)
    try:
        checkpoint, index = evidence.verify_receipt(receipt, leaf, verifiers)
    except ValueError as exc:
        raise _fail(
            "receipt_invalid", f"The receipt does not verify: {exc}", "收录证明验证失败"
        ) from exc
    lines.append(f"evidence: leaf {index} is in {checkpoint.origin} at size {checkpoint.size}: OK")
    return lines
