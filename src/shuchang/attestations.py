"""Documents the platform signs as issuer (签发): asset and compliance certificates.

The platform's issuer key is one Ed25519 key, kept apart from the evidence log's checkpoint
key and from the connector's key: a certificate says "the operator of this data space
attests …", a checkpoint says "the log had this size", and a connector signs protocol
messages. The key is a file holding the base64 32-byte seed (`shuchang contracts keygen`
writes the same format), ``Settings.issuer_key_file``, or ``<database>.issuer.key`` created
on first use (mode 600), like the log key.

A signed document is JSON::

    {"type": "<document type>", "version": 1, "certificate": {...},
     "signature": {"algorithm": "ed25519", "keyid": "<16 hex>", "publicKey": "<base64>",
                   "value": "<base64 Ed25519 signature of the RFC 8785 canonical
                             {"type", "version", "certificate"}>"}}

The signature covers the type and version as well as the certificate, so neither can be
changed without breaking it; a version this build does not know is refused.

It is stored and shipped in its canonical encoding, so a file that parses to the same value
but differs in any byte is refused as well (:func:`open_document`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shuchang.canonical import canonical_json
from shuchang.ports import Ed25519Signer, fingerprint, verify_signature
from shuchang.settings import Settings

_cache: dict[Path, Ed25519Signer] = {}
_lock = threading.Lock()


class IssuerKeyError(Exception):
    """The configured issuer key is missing or unreadable."""


class DocumentInvalid(Exception):
    """A signed document failed a check; ``code`` is stable, messages are zh-CN and English."""

    def __init__(self, code: str, en: str, zh: str) -> None:
        super().__init__(en)
        self.code, self.en, self.zh = code, en, zh


def issuer_key_path(settings: Settings) -> Path:
    if settings.issuer_key_file:
        return Path(settings.issuer_key_file)
    return settings.beside_database("issuer.key", "shuchang.issuer.key")


def load_issuer(settings: Settings) -> Ed25519Signer:
    """The platform's issuer key, read once per process (created when the default is absent)."""
    path = issuer_key_path(settings)
    with _lock:
        found = _cache.get(path)
        if found is not None:
            return found
        if not path.exists():
            if settings.issuer_key_file:
                raise IssuerKeyError(f"SHUCHANG_ISSUER_KEY_FILE {path} does not exist")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(base64.b64encode(Ed25519Signer().seed()).decode() + "\n")
        try:
            seed = base64.b64decode(path.read_text().strip(), validate=True)
            signer = Ed25519Signer.from_seed(seed)
        except (ValueError, OSError) as exc:
            raise IssuerKeyError(f"{path} is not a base64 Ed25519 seed: {exc}") from exc
        _cache[path] = signer
        return signer


@dataclass(frozen=True)
class PublicKey:
    keyid: str
    public_key: str  # base64

    @classmethod
    def of(cls, signer: Ed25519Signer) -> PublicKey:
        public = signer.public_key()
        return cls(fingerprint(public), base64.b64encode(public).decode())


VERSION = 1


def _signed(doc_type: str, version: object, body: dict[str, Any]) -> bytes:
    return canonical_json({"type": doc_type, "version": version, "certificate": body})


def sign_document(doc_type: str, body: dict[str, Any], signer: Ed25519Signer) -> dict[str, Any]:
    """The signed document of ``body`` (canonical JSON signed with the issuer key)."""
    key = PublicKey.of(signer)
    return {
        "type": doc_type,
        "version": VERSION,
        "certificate": body,
        "signature": {
            "algorithm": "ed25519",
            "keyid": key.keyid,
            "publicKey": key.public_key,
            "value": base64.b64encode(signer.sign(_signed(doc_type, VERSION, body))).decode(),
        },
    }


def encode(document: dict[str, Any]) -> bytes:
    """The one byte form a signed document is shipped in (RFC 8785)."""
    return canonical_json(document)


def body_digest(body: dict[str, Any]) -> str:
    """Hex SHA-256 of the canonical certificate body (what evidence entries commit to)."""
    return hashlib.sha256(canonical_json(body)).hexdigest()


def _malformed(what: str) -> DocumentInvalid:
    return DocumentInvalid(
        "document.malformed", f"Not a signed document: {what}", "不是有效的签名文件"
    )


def open_document(raw: bytes, doc_type: str, trusted: bytes | None = None) -> dict[str, Any]:
    """Parse and check a signed document: type, canonical bytes, signature (and pinned key).

    Returns the certificate body; raises :class:`DocumentInvalid` at the first fault.
    """
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _malformed(f"not JSON ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("type") != doc_type:
        raise _malformed(f"not a {doc_type}")
    if doc.get("version") != VERSION:
        raise _malformed(f"version {doc.get('version')!r} is not {VERSION}")
    try:
        exact = canonical_json(doc) == raw
    except (TypeError, ValueError) as exc:
        raise _malformed(str(exc)) from exc
    if not exact:
        raise DocumentInvalid(
            "document.not_canonical",
            "The document's bytes are not its canonical form (RFC 8785): it was edited",
            "文件字节不是其规范形式（RFC 8785），已被改动",
        )
    body, sig = doc.get("certificate"), doc.get("signature")
    if not isinstance(body, dict) or not isinstance(sig, dict) or sig.get("algorithm") != "ed25519":
        raise _malformed("certificate or signature missing")
    try:
        public = base64.b64decode(str(sig.get("publicKey")), validate=True)
        value = base64.b64decode(str(sig.get("value")), validate=True)
    except ValueError as exc:
        raise _malformed("signature is not base64") from exc
    if trusted is not None and public != trusted:
        raise DocumentInvalid(
            "document.key_untrusted",
            f"Signed with key {fingerprint(public)}, not the trusted issuer key "
            f"{fingerprint(trusted)}",
            "签发密钥不是所信任的签发方密钥",
        )
    if sig.get("keyid") != fingerprint(public) or not verify_signature(
        "ed25519", public, _signed(doc_type, doc.get("version"), body), value
    ):
        raise DocumentInvalid(
            "document.signature_invalid",
            "The issuer's signature does not verify: the certificate was altered or forged",
            "签发方签名验证失败：证书内容被篡改或伪造",
        )
    return body
