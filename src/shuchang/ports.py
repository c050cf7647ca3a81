"""Interfaces to things outside the platform's own code, each with a plain default.

Signatures: Ed25519 (via ``cryptography``) is always available; SM2 (国密, GB/T 32918) is
optional and comes from ``gmssl`` when installed (``pip install shuchang[sm]``). Every caller
goes through :func:`verify_signature` / :class:`Signer`, so adding an algorithm touches only
this module.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Literal, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

Algorithm = Literal["ed25519", "sm2"]
ALGORITHMS: tuple[Algorithm, ...] = ("ed25519", "sm2")
SM2_DEFAULT_ID = "1234567812345678"  # GB/T 35276 default user id


class UnsupportedAlgorithm(Exception):
    """The algorithm is unknown, or optional support for it is not installed."""


class Signer(Protocol):
    algorithm: Algorithm

    def public_key(self) -> bytes: ...

    def sign(self, data: bytes) -> bytes: ...


class Ed25519Signer:
    algorithm: Algorithm = "ed25519"

    def __init__(self, private_key: Ed25519PrivateKey | None = None) -> None:
        self._key = private_key or Ed25519PrivateKey.generate()

    @classmethod
    def from_seed(cls, seed: bytes) -> Ed25519Signer:
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def seed(self) -> bytes:
        from cryptography.hazmat.primitives import serialization as s

        return self._key.private_bytes(s.Encoding.Raw, s.PrivateFormat.Raw, s.NoEncryption())

    def public_key(self) -> bytes:
        from cryptography.hazmat.primitives import serialization as s

        return self._key.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)


def _gmssl_sm2() -> object:
    try:
        from gmssl import sm2  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise UnsupportedAlgorithm("SM2 needs the optional gmssl package: shuchang[sm]") from exc
    return sm2


def public_key_valid(algorithm: str, public_key: bytes) -> bool:
    """Whether ``public_key`` is a well-formed key of ``algorithm`` (raw encoding)."""
    if algorithm == "ed25519":
        if len(public_key) != 32:  # noqa: PLR2004 - Ed25519 public keys are 32 bytes
            return False
        try:
            Ed25519PublicKey.from_public_bytes(public_key)
        except ValueError:
            return False
        return True
    if algorithm == "sm2":
        # Uncompressed point 04||X||Y, 65 bytes.
        return len(public_key) == 65 and public_key[0] == 4  # noqa: PLR2004
    raise UnsupportedAlgorithm(algorithm)


def verify_signature(algorithm: str, public_key: bytes, data: bytes, signature: bytes) -> bool:
    """True only if ``signature`` over ``data`` verifies under ``public_key``."""
    if algorithm == "ed25519":
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
        except (InvalidSignature, ValueError):
            return False
        return True
    if algorithm == "sm2":
        sm2 = _gmssl_sm2()
        crypt = sm2.CryptSM2(private_key="", public_key=public_key[1:].hex())  # type: ignore[attr-defined]
        try:
            return bool(crypt.verify_with_sm3(signature.hex(), data))
        except (ValueError, TypeError):
            return False
    raise UnsupportedAlgorithm(algorithm)


def fingerprint(public_key: bytes) -> str:
    """Short stable identifier of a public key: first 16 hex of SHA-256."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def b64decode_strict(text: str) -> bytes:
    """Standard base64 with padding; raises ValueError on anything else."""
    return base64.b64decode(text.encode("ascii"), validate=True)
