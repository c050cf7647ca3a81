"""Strict text encodings shared by the note, checkpoint and receipt formats."""

from __future__ import annotations

import base64
import binascii
import re

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
MAX_UINT64 = 2**64 - 1


def b64encode(raw: bytes) -> str:
    """Standard base64 (RFC 4648 §4) with padding."""
    return base64.b64encode(raw).decode("ascii")


def b64decode_strict(text: str) -> bytes:
    """Standard padded base64, accepting only its one canonical spelling.

    Non-canonical spellings (stray bits in the last character) decode to the
    same bytes; accepting them would make signed and receipt text malleable.
    Raises ``ValueError`` with a short reason.
    """
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not valid base64") from None
    if b64encode(raw) != text:
        raise ValueError("not canonical base64")
    return raw


def parse_uint64(text: str) -> int:
    """ASCII decimal without leading zeroes, 0..2**64-1. Raises ``ValueError``."""
    # fullmatch on an explicit [0-9] class: int() alone would accept "+1", " 1",
    # "1_000" and non-ASCII digits.
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"{text!r} is not a decimal number without leading zeroes")
    value = int(text)
    if value > MAX_UINT64:
        raise ValueError(f"{text} does not fit in 64 bits")
    return value


def find_control_character(text: str) -> str | None:
    """The first ASCII control character other than newline, if any."""
    match = _CONTROL.search(text)
    return match.group() if match else None
