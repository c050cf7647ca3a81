"""Canonical JSON (RFC 8785, JCS) for everything that is hashed or signed.

Shuchang payloads hold strings, integers, booleans, null, lists and objects with ASCII keys,
never floats (money is integer fen). For that subset JCS is exactly: keys sorted, no
whitespace, UTF-8 without escaping non-ASCII. Floats are refused rather than risk a second
serialisation disagreeing on number formatting.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def _refuse_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("floats are not allowed in canonical JSON; use integers (e.g. fen)")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("canonical JSON object keys must be strings")
            _refuse_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_floats(item)


def canonical_json(value: Any) -> bytes:
    """Encode ``value`` as RFC 8785 canonical JSON bytes."""
    _refuse_floats(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(value: Any) -> str:
    """Hex SHA-256 of the canonical encoding."""
    return hashlib.sha256(canonical_json(value)).hexdigest()
