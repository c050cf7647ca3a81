"""Optional SM2-with-SM3 signatures (GB/T 32918, GM/T 0009) for signed notes.

For deployments that must cosign checkpoints with Chinese commercial
cryptography. Requires the optional ``gmssl`` package (``shuchang[sm]``), which
is imported only when an SM2 key is used. Ed25519 remains the log's signature
type; C2SP logs MUST carry an Ed25519 signature for the public witness network.

Signature type identifier: C2SP signed-note assigns no byte to SM2, and reserves
``0xff`` for unassigned types, to be followed by a longer identifier that is
unlikely to collide. We use ``0xff`` followed by the 16 ASCII bytes
``shuchang-sm2-sm3`` (:data:`SM2_TYPE`, 17 bytes in all). So::

    verifier key: <name>+<id>+base64(SM2_TYPE || 0x04 || X || Y)   (65-byte SEC1 point)
    signer key:   PRIVATE+KEY+<name>+<id>+base64(SM2_TYPE || d)      (32-byte scalar)
    key ID = SHA-256(name || 0x0A || SM2_TYPE || 0x04 || X || Y)[:4]
    signature = r || s, 32 bytes each, big-endian (not DER), over the note text,
                with the GM/T 0009 default signer ID "1234567812345678".

gmssl's own nonce generator uses :mod:`random`, which is not a CSPRNG and would
leak the private key; we always pass a nonce from :mod:`secrets`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ._codec import b64encode
from .note import NoteError, is_valid_key_name, key_id

__all__ = ["SM2_TYPE", "SM2Signer", "SM2Verifier", "generate_key"]

SM2_TYPE = b"\xff" + b"shuchang-sm2-sm3"

# Curve parameters of GB/T 32918.5 (sm2p256v1), needed to validate public keys.
_P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
_A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
_B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
_N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
_SCALAR_SIZE = 32
_POINT_SIZE = 1 + 2 * _SCALAR_SIZE
_UNCOMPRESSED = 0x04


def _gmssl() -> ModuleType:
    try:
        from gmssl import sm2  # type: ignore[import-untyped]
    except ImportError:
        raise NoteError(
            "SM2 keys need the optional 'gmssl' package (install shuchang[sm])"
        ) from None
    module: ModuleType = sm2
    return module


def _engine(private_hex: str, public_hex: str) -> Any:
    # gmssl's constructor strips a "04" prefix with str.lstrip, which also eats
    # leading '0'/'4' digits of X; set the key after construction instead.
    engine = _gmssl().CryptSM2(private_key=private_hex, public_key="")
    engine.public_key = public_hex
    return engine


def _check_point(point: bytes) -> None:
    if len(point) != _POINT_SIZE or point[0] != _UNCOMPRESSED:
        raise NoteError("SM2 public key must be a 65-byte uncompressed point")
    x = int.from_bytes(point[1 : 1 + _SCALAR_SIZE], "big")
    y = int.from_bytes(point[1 + _SCALAR_SIZE :], "big")
    if not (x < _P and y < _P and (y * y - x * x * x - _A * x - _B) % _P == 0):
        raise NoteError("SM2 public key is not a point on the curve")


@dataclass(frozen=True, slots=True)
class SM2Verifier:
    name: str
    key_id: int
    public_key: bytes  # 65-byte SEC1 uncompressed point

    @classmethod
    def from_public_key(cls, name: str, public_key: bytes) -> SM2Verifier:
        if not is_valid_key_name(name):
            raise NoteError(f"invalid key name {name!r}")
        _check_point(public_key)
        return cls(name, key_id(name, SM2_TYPE + public_key), public_key)

    @classmethod
    def from_key_material(cls, name: str, material: bytes) -> SM2Verifier:
        if not material.startswith(SM2_TYPE):
            raise NoteError("verifier key has an unsupported 0xff signature type")
        return cls.from_public_key(name, material[len(SM2_TYPE) :])

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.key_id:08x}+{b64encode(SM2_TYPE + self.public_key)}"

    def verify(self, message: bytes, signature: bytes, /) -> bool:
        if len(signature) != 2 * _SCALAR_SIZE:
            return False
        r = int.from_bytes(signature[:_SCALAR_SIZE], "big")
        s = int.from_bytes(signature[_SCALAR_SIZE:], "big")
        # gmssl does not range-check r and s; GB/T 32918.2 §7.1 requires it.
        if not (0 < r < _N and 0 < s < _N):
            return False
        engine = _engine("", self.public_key[1:].hex())
        return bool(engine.verify_with_sm3(signature.hex(), message))


@dataclass(frozen=True, slots=True)
class SM2Signer:
    name: str
    key_id: int
    private_key: bytes  # 32-byte scalar d
    public_key: bytes  # 65-byte SEC1 uncompressed point

    @classmethod
    def from_private_key(cls, name: str, private_key: bytes) -> SM2Signer:
        if len(private_key) != _SCALAR_SIZE or not 0 < int.from_bytes(private_key, "big") < _N - 1:
            raise NoteError("SM2 private key must be a 32-byte scalar in [1, n-2]")
        d = int.from_bytes(private_key, "big")
        # gmssl has no public key derivation API; _kg is its scalar multiplication.
        point_hex = _engine(private_key.hex(), "")._kg(d, _gmssl().default_ecc_table["g"])
        public = b"\x04" + bytes.fromhex(point_hex)
        verifier = SM2Verifier.from_public_key(name, public)
        return cls(name, verifier.key_id, private_key, public)

    @classmethod
    def from_key_material(cls, name: str, material: bytes) -> SM2Signer:
        if not material.startswith(SM2_TYPE):
            raise NoteError("signer key has an unsupported 0xff signature type")
        return cls.from_private_key(name, material[len(SM2_TYPE) :])

    @property
    def skey(self) -> str:
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{b64encode(SM2_TYPE + self.private_key)}"

    def verifier(self) -> SM2Verifier:
        return SM2Verifier(self.name, self.key_id, self.public_key)

    def sign(self, message: bytes, /) -> bytes:
        engine = _engine(self.private_key.hex(), self.public_key[1:].hex())
        while True:  # gmssl returns None for the (negligible) degenerate nonces
            nonce = f"{secrets.randbelow(_N - 1) + 1:064x}"
            signature = engine.sign_with_sm3(message, nonce)
            if signature is not None:
                return bytes.fromhex(signature)

    def __repr__(self) -> str:  # keep the private key out of logs and tracebacks
        return f"SM2Signer(name={self.name!r}, key_id={self.key_id:08x})"


def generate_key(name: str) -> tuple[str, str]:
    """A fresh SM2 key pair as ``(signer key, verifier key)`` strings."""
    d = secrets.randbelow(_N - 2) + 1
    signer = SM2Signer.from_private_key(name, d.to_bytes(_SCALAR_SIZE, "big"))
    return signer.skey, signer.verifier().vkey
