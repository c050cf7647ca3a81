"""C2SP signed notes (https://c2sp.org/signed-note) with Go sumdb/note key strings.

There is no Python implementation of signed notes worth depending on, so the
format is implemented here over ``cryptography``'s Ed25519. Keys use the string
encodings of ``golang.org/x/mod/sumdb/note`` so that keys and notes interoperate
with the Go ecosystem (tessera, sumdb, witnesses)::

    signer key:   PRIVATE+KEY+<name>+<key ID, 8 hex>+<base64(type || private key)>
    verifier key: <name>+<key ID, 8 hex>+<base64(type || public key)>
    key ID = SHA-256(name || 0x0A || type || public key)[:4], big-endian

Opening follows the Go reference (``note.Open``) where the spec leaves room:
at most 100 signatures; signatures from unknown keys are ignored; a signature
from a known key that fails to verify rejects the whole note; at least one
known signature must verify. Unlike Go, repeated lines from one known key are
each verified rather than skipped, which is never more permissive.

An optional SM2/SM3 signature type lives in :mod:`.sm2` and is only imported
when a key of that type is parsed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ._codec import b64decode_strict, b64encode, find_control_character

__all__ = [
    "ALG_ED25519",
    "MAX_SIGNATURES",
    "Ed25519Signer",
    "Ed25519Verifier",
    "Note",
    "NoteError",
    "NoteSignature",
    "NoteVerificationError",
    "OpenedNote",
    "Signer",
    "Verifier",
    "cosign",
    "format_note",
    "generate_key",
    "key_id",
    "open_note",
    "parse_note",
    "parse_signer_key",
    "parse_verifier_key",
    "sign",
]

ALG_ED25519 = b"\x01"
ED25519_KEY_SIZE = 32
ED25519_SIGNATURE_SIZE = 64
MAX_SIGNATURES = 100
_SIG_PREFIX = "\u2014 "  # em dash, space
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_KEY_ID_SIZE = 4
_KEY_ID_HEX = frozenset("0123456789abcdefABCDEF")


class NoteError(ValueError):
    """A note or key string is malformed."""


class NoteVerificationError(NoteError):
    """A well-formed note is not acceptable: a known signature failed, or none verified."""


def _b64decode(text: str, what: str) -> bytes:
    try:
        return b64decode_strict(text)
    except ValueError as exc:
        raise NoteError(f"{what} is {exc}") from None


def is_valid_key_name(name: str) -> bool:
    """Non-empty, no Unicode whitespace, no '+' (the key-string separator)."""
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def key_id(name: str, public_key: bytes) -> int:
    """Key ID for ``public_key`` (already prefixed with its type identifier)."""
    digest = hashlib.sha256(name.encode() + b"\n" + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _check_text(text: str, what: str) -> None:
    # The spec bans every ASCII control character but newline (a str is already
    # valid Unicode; parse_note checks the UTF-8 bytes).
    bad = find_control_character(text)
    if bad is not None:
        raise NoteError(f"{what} contains control character U+{ord(bad):04X}")


# --------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------


class Signer(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def key_id(self) -> int: ...
    def sign(self, message: bytes, /) -> bytes: ...


class Verifier(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def key_id(self) -> int: ...
    def verify(self, message: bytes, signature: bytes, /) -> bool: ...


@dataclass(frozen=True, slots=True)
class Ed25519Verifier:
    name: str
    key_id: int
    public_key: bytes  # 32 bytes, without the type identifier

    @classmethod
    def from_public_key(cls, name: str, public_key: bytes) -> Ed25519Verifier:
        if not is_valid_key_name(name):
            raise NoteError(f"invalid key name {name!r}")
        if len(public_key) != ED25519_KEY_SIZE:
            raise NoteError("Ed25519 public key must be 32 bytes")
        return cls(name, key_id(name, ALG_ED25519 + public_key), public_key)

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.key_id:08x}+{b64encode(ALG_ED25519 + self.public_key)}"

    def verify(self, message: bytes, signature: bytes, /) -> bool:
        if len(signature) != ED25519_SIGNATURE_SIZE:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, slots=True)
class Ed25519Signer:
    name: str
    key_id: int
    seed: bytes  # 32-byte RFC 8032 private key

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Ed25519Signer:
        verifier = Ed25519Verifier.from_public_key(name, _ed25519_public(seed))
        return cls(name, verifier.key_id, seed)

    @property
    def skey(self) -> str:
        material = b64encode(ALG_ED25519 + self.seed)
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_id:08x}+{material}"

    def verifier(self) -> Ed25519Verifier:
        return Ed25519Verifier(self.name, self.key_id, _ed25519_public(self.seed))

    def sign(self, message: bytes, /) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def __repr__(self) -> str:  # keep the seed out of logs and tracebacks
        return f"Ed25519Signer(name={self.name!r}, key_id={self.key_id:08x})"


def _ed25519_public(seed: bytes) -> bytes:
    if len(seed) != ED25519_KEY_SIZE:
        raise NoteError("Ed25519 private key must be 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def _split_key(text: str, what: str) -> tuple[str, int, bytes]:
    """Split ``name+hash+base64`` (base64 may itself contain '+')."""
    name, _, rest = text.partition("+")
    hex_id, sep, key64 = rest.partition("+")
    if not sep:
        raise NoteError(f"{what} must look like <name>+<8 hex digits>+<base64 key>")
    if not is_valid_key_name(name):
        raise NoteError(f"{what} has an invalid key name {name!r}")
    if len(hex_id) != 2 * _KEY_ID_SIZE or not _KEY_ID_HEX.issuperset(hex_id):
        raise NoteError(f"{what} key ID must be 8 hex digits")
    key = _b64decode(key64, f"{what} key material")
    if not key:
        raise NoteError(f"{what} has no key material")
    return name, int(hex_id, 16), key


def parse_verifier_key(vkey: str) -> Verifier:
    """Parse a verifier key string (``<name>+<id>+<base64>``)."""
    vkey = vkey.strip()
    if vkey.startswith(_PRIVATE_PREFIX):
        raise NoteError("this is a signer (private) key; use its verifier key")
    name, claimed_id, key = _split_key(vkey, "verifier key")
    verifier: Verifier
    if key[:1] == ALG_ED25519:
        verifier = Ed25519Verifier.from_public_key(name, key[1:])
    elif key[:1] == b"\xff":
        # Imported here, not at the top: .sm2 builds on this module.
        from .sm2 import SM2Verifier

        verifier = SM2Verifier.from_key_material(name, key)
    else:
        raise NoteError(f"verifier key has unsupported signature type 0x{key[0]:02x}")
    if verifier.key_id != claimed_id:
        raise NoteError("verifier key ID does not match its name and public key")
    return verifier


def parse_signer_key(skey: str) -> Signer:
    """Parse a signer key string (``PRIVATE+KEY+<name>+<id>+<base64>``)."""
    skey = skey.strip()
    if not skey.startswith(_PRIVATE_PREFIX):
        raise NoteError("signer key must start with PRIVATE+KEY+")
    name, claimed_id, key = _split_key(skey[len(_PRIVATE_PREFIX) :], "signer key")
    signer: Signer
    if key[:1] == ALG_ED25519:
        signer = Ed25519Signer.from_seed(name, key[1:])
    elif key[:1] == b"\xff":
        from .sm2 import SM2Signer

        signer = SM2Signer.from_key_material(name, key)
    else:
        raise NoteError(f"signer key has unsupported signature type 0x{key[0]:02x}")
    if signer.key_id != claimed_id:
        raise NoteError("signer key ID does not match its name and public key")
    return signer


def generate_key(name: str) -> tuple[str, str]:
    """A fresh Ed25519 key pair as ``(signer key, verifier key)`` strings."""
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    signer = Ed25519Signer.from_seed(name, seed)
    return signer.skey, signer.verifier().vkey


# --------------------------------------------------------------------------
# Notes
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoteSignature:
    name: str
    key_id: int
    signature: bytes  # algorithm output, without the 4-byte key ID

    def line(self) -> str:
        blob = self.key_id.to_bytes(_KEY_ID_SIZE, "big") + self.signature
        return f"{_SIG_PREFIX}{self.name} {b64encode(blob)}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """A parsed, *unverified* note. Never act on ``text`` before :func:`open_note`."""

    text: str
    signatures: tuple[NoteSignature, ...]


@dataclass(frozen=True, slots=True)
class OpenedNote:
    """A note whose ``verified`` signatures all checked out against trusted keys."""

    text: str
    verified: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]  # by keys the caller does not know


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(_SIG_PREFIX):
        raise NoteError("signature line must start with an em dash and a space")
    name, sep, blob64 = line[len(_SIG_PREFIX) :].partition(" ")
    if not sep or not is_valid_key_name(name):
        raise NoteError(f"malformed signature line {line!r}")
    blob = _b64decode(blob64, "signature")
    if len(blob) <= _KEY_ID_SIZE:
        raise NoteError("signature is too short to hold a key ID and a signature")
    return NoteSignature(name, int.from_bytes(blob[:_KEY_ID_SIZE], "big"), blob[_KEY_ID_SIZE:])


def parse_note(message: bytes) -> Note:
    """Split a signed note into text and signature lines, checking only the format."""
    try:
        decoded = message.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteError("note is not valid UTF-8") from exc
    _check_text(decoded, "note")
    # The text ends at the *last* blank line: the text may contain blank lines,
    # signature lines never can.
    split = decoded.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, sig_block = decoded[: split + 1], decoded[split + 2 :]
    if not sig_block.endswith("\n"):
        raise NoteError("note must end with a newline-terminated signature line")
    lines = sig_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has more than {MAX_SIGNATURES} signatures")
    return Note(text, tuple(_parse_signature_line(line) for line in lines))


def format_note(note: Note) -> bytes:
    """Serialise text and signatures; the inverse of :func:`parse_note`."""
    _check_note_text(note.text)
    if not note.signatures:
        raise NoteError("a note needs at least one signature")
    if len(note.signatures) > MAX_SIGNATURES:
        raise NoteError(f"note has more than {MAX_SIGNATURES} signatures")
    for s in note.signatures:
        if not is_valid_key_name(s.name):
            raise NoteError(f"invalid key name {s.name!r}")
    return (note.text + "\n" + "".join(s.line() for s in note.signatures)).encode()


def _check_note_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    _check_text(text, "note text")


def _signature(signer: Signer, text: bytes) -> NoteSignature:
    if not is_valid_key_name(signer.name):
        raise NoteError(f"invalid signer name {signer.name!r}")
    return NoteSignature(signer.name, signer.key_id, signer.sign(text))


def sign(text: str, *signers: Signer) -> bytes:
    """Sign ``text`` (which must end in a newline) with each signer."""
    _check_note_text(text)
    raw = text.encode()
    return format_note(Note(text, tuple(_signature(s, raw) for s in signers)))


def cosign(message: bytes, *signers: Signer) -> bytes:
    """Append signatures to an existing note (e.g. a witness cosigning a checkpoint).

    Existing signatures are kept as they are and not checked: callers that care
    must :func:`open_note` first.
    """
    note = parse_note(message)
    raw = note.text.encode()
    added = tuple(_signature(s, raw) for s in signers)
    return format_note(Note(note.text, note.signatures + added))


def _index_verifiers(verifiers: Iterable[Verifier]) -> dict[tuple[str, int], Verifier]:
    known: dict[tuple[str, int], Verifier] = {}
    for v in verifiers:
        key = (v.name, v.key_id)
        if key in known:
            raise NoteError(f"two trusted keys share the name and ID {v.name}+{v.key_id:08x}")
        known[key] = v
    return known


def open_note(message: bytes, verifiers: Iterable[Verifier]) -> OpenedNote:
    """Parse ``message`` and verify its signatures against the trusted ``verifiers``.

    Raises :class:`NoteError` if malformed, :class:`NoteVerificationError` if a
    signature by a trusted key fails or no trusted key signed it.
    """
    note = parse_note(message)
    known = _index_verifiers(verifiers)
    raw = note.text.encode()
    verified: dict[tuple[str, int], NoteSignature] = {}
    unverified: dict[NoteSignature, None] = {}  # ordered set
    for sig in note.signatures:
        key = (sig.name, sig.key_id)
        verifier = known.get(key)
        if verifier is None:
            unverified[sig] = None
            continue
        if not verifier.verify(raw, sig.signature):
            raise NoteVerificationError(
                f"signature by trusted key {sig.name}+{sig.key_id:08x} does not verify"
            )
        verified.setdefault(key, sig)
    if not verified:
        signers = ", ".join(f"{s.name}+{s.key_id:08x}" for s in note.signatures)
        raise NoteVerificationError(f"note is not signed by any trusted key (signed by {signers})")
    return OpenedNote(note.text, tuple(verified.values()), tuple(unverified))
