"""C2SP tlog-checkpoint note bodies (https://c2sp.org/tlog-checkpoint).

Hand-written: the format is three lines, and no Python package implements it.
A checkpoint body is::

    <origin>\\n<tree size, decimal>\\n<base64 root hash>\\n[<extension line>\\n]...

Parsing is strict, so that a given tree head has exactly one accepted spelling:
no leading zeroes, sizes within 64 bits, canonical base64 of exactly 32 bytes,
no empty lines, and newline termination.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ._codec import b64decode_strict, b64encode, find_control_character, parse_uint64
from .merkle import HASH_SIZE
from .note import OpenedNote, Verifier, open_note

__all__ = ["Checkpoint", "CheckpointError", "open_checkpoint", "parse_checkpoint"]

_MANDATORY_LINES = 3  # origin, size, root hash


class CheckpointError(ValueError):
    """A checkpoint body is malformed, or not the one the caller expected."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Validate on construction so that every Checkpoint formats to a body
        # that parse_checkpoint accepts.
        labelled = [("origin", self.origin), *(("extension line", e) for e in self.extensions)]
        for what, line in labelled:
            if not line:
                raise CheckpointError(f"checkpoint {what} must not be empty")
            if "\n" in line or find_control_character(line) is not None:
                raise CheckpointError(f"checkpoint {what} contains a control character")
        if not 0 <= self.size < 2**64:
            raise CheckpointError(f"checkpoint size {self.size} is outside 0..2**64-1")
        if len(self.root_hash) != HASH_SIZE:
            raise CheckpointError(f"checkpoint root hash is {len(self.root_hash)} bytes, not 32")

    def to_text(self) -> str:
        """The note text to sign."""
        lines = [self.origin, str(self.size), b64encode(self.root_hash), *self.extensions]
        return "\n".join(lines) + "\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse (but do not authenticate) a checkpoint note text."""
    if not text.endswith("\n"):
        raise CheckpointError("checkpoint must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < _MANDATORY_LINES:
        raise CheckpointError("checkpoint needs an origin, a size and a root hash line")
    origin, size_line, root_line, *extensions = lines
    try:
        size = parse_uint64(size_line)
    except ValueError as exc:
        raise CheckpointError(f"checkpoint size: {exc}") from None
    try:
        root = b64decode_strict(root_line)
    except ValueError as exc:
        raise CheckpointError(f"checkpoint root hash is {exc}") from None
    return Checkpoint(origin, size, root, tuple(extensions))


def open_checkpoint(
    message: bytes, verifiers: Iterable[Verifier], origin: str | None = None
) -> tuple[Checkpoint, OpenedNote]:
    """Verify a signed checkpoint note and parse its body.

    ``origin``, if given, must match the checkpoint's origin line: a checkpoint
    from a different log signed by the same key proves nothing about this log.
    """
    note = open_note(message, verifiers)
    checkpoint = parse_checkpoint(note.text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint is for log {checkpoint.origin!r}, expected {origin!r}")
    return checkpoint, note
