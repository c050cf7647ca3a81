"""C2SP tlog-proof@v1 receipts (https://c2sp.org/tlog-proof).

Hand-written: no Python package implements the format. A receipt is::

    c2sp.org/tlog-proof@v1
    [extra <base64 opaque data>]
    index <decimal leaf index>
    <base64 inclusion proof hash, leaf sibling first>   (zero or more lines)
    <empty line>
    <signed checkpoint note, verbatim>

This follows the C2SP text and the Go reference (transparency-dev/merkle
``proof.NewTLogProof``). Where the spec is silent we are strict: hashes must be
canonical base64 of 32 bytes, there can be at most 64 of them (a tree of 2**64
leaves needs no more), the index has no leading zeroes and fits 64 bits, and
the checkpoint must be present. ``extra`` is not authenticated by anything and
must never be trusted; it is carried, not interpreted. Files SHOULD use the
``.tlog-proof`` extension.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ._codec import b64decode_strict, b64encode, parse_uint64
from .checkpoint import Checkpoint, open_checkpoint
from .merkle import HASH_SIZE, verify_inclusion
from .note import Verifier

__all__ = ["HEADER", "MAX_PROOF_HASHES", "ReceiptError", "TlogProof", "verify_tlog_proof"]

HEADER = "c2sp.org/tlog-proof@v1"
MAX_PROOF_HASHES = 64


class ReceiptError(ValueError):
    """A tlog-proof text is malformed."""


@dataclass(frozen=True, slots=True)
class TlogProof:
    index: int
    hashes: tuple[bytes, ...]
    checkpoint: bytes  # the signed checkpoint note, verbatim
    extra: bytes | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.index < 2**64:
            raise ReceiptError(f"leaf index {self.index} is outside 0..2**64-1")
        if len(self.hashes) > MAX_PROOF_HASHES:
            raise ReceiptError(f"inclusion proof has more than {MAX_PROOF_HASHES} hashes")
        if any(len(h) != HASH_SIZE for h in self.hashes):
            raise ReceiptError("every inclusion proof hash must be 32 bytes")
        if not self.checkpoint:
            raise ReceiptError("receipt has no checkpoint")

    def to_bytes(self) -> bytes:
        lines = [HEADER]
        if self.extra is not None:
            lines.append(f"extra {b64encode(self.extra)}")
        lines.append(f"index {self.index}")
        lines.extend(b64encode(h) for h in self.hashes)
        return ("\n".join(lines) + "\n\n").encode("ascii") + self.checkpoint

    @classmethod
    def from_bytes(cls, data: bytes) -> TlogProof:
        """Parse a receipt. The checkpoint is split off but not yet verified."""
        if not data.startswith(HEADER.encode() + b"\n"):
            raise ReceiptError(f"receipt does not start with {HEADER!r}")
        head, sep, checkpoint = data.partition(b"\n\n")
        if not sep:
            raise ReceiptError("receipt has no empty line before its checkpoint")
        try:
            lines = head.decode("ascii").split("\n")
        except UnicodeDecodeError:
            raise ReceiptError("receipt proof lines are not ASCII") from None
        pos, extra = 1, None
        if pos < len(lines) and lines[pos].startswith("extra "):
            extra = _decode(lines[pos].removeprefix("extra "), "extra data")
            pos += 1
        if pos == len(lines) or not lines[pos].startswith("index "):
            raise ReceiptError("receipt is missing its 'index' line")
        try:
            index = parse_uint64(lines[pos].removeprefix("index "))
        except ValueError as exc:
            raise ReceiptError(f"receipt index: {exc}") from None
        hashes = tuple(_decode(line, "inclusion proof hash") for line in lines[pos + 1 :])
        return cls(index, hashes, checkpoint, extra)


def _decode(text: str, what: str) -> bytes:
    try:
        return b64decode_strict(text)
    except ValueError as exc:
        raise ReceiptError(f"receipt {what} is {exc}") from None


def verify_tlog_proof(
    receipt: TlogProof | bytes,
    leaf_hash: bytes,
    verifiers: Iterable[Verifier],
    origin: str | None = None,
) -> Checkpoint:
    """Check that ``leaf_hash`` is in the log whose signed checkpoint the receipt carries.

    The checkpoint signature is checked first, so a forged tree head is reported
    as such rather than as a proof failure. Returns the verified checkpoint;
    raises ``ReceiptError``, ``NoteError``, ``CheckpointError`` or ``ProofError``.
    """
    if isinstance(receipt, bytes):
        receipt = TlogProof.from_bytes(receipt)
    checkpoint, _ = open_checkpoint(receipt.checkpoint, verifiers, origin)
    verify_inclusion(
        leaf_hash, receipt.index, checkpoint.size, receipt.hashes, checkpoint.root_hash
    )
    return checkpoint
