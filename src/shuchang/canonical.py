"""Canonical JSON (RFC 8785, JCS) for everything that is hashed or signed.

Shuchang payloads hold strings, integers, booleans, null, lists and objects, never floats
(money is integer fen). For that subset JCS is: object members sorted by the UTF-16 code
units of their names, no whitespace, strings as JSON escapes them without escaping non-ASCII,
integers in decimal. Floats, and integers beyond what an IEEE-754 double holds exactly
(|n| > 2**53, which JCS cannot represent), are refused rather than risk a second
serialisation disagreeing. Written by hand: Python's ``json`` sorts by code point.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

MAX_SAFE_INTEGER = 2**53
_string = json.JSONEncoder(ensure_ascii=False).encode


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-be")


def _encode(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_string(value))
    elif value is True or value is False or value is None:
        out.append({True: "true", False: "false", None: "null"}[value])
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"integer {value} is beyond 2**53; canonical JSON cannot hold it")
        out.append(str(value))
    elif isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("canonical JSON object keys must be strings")
        out.append("{")
        for i, key in enumerate(sorted(value, key=_utf16)):
            out.append("," if i else "")
            out.append(_string(key) + ":")
            _encode(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            out.append("," if i else "")
            _encode(item, out)
        out.append("]")
    elif isinstance(value, float):
        raise TypeError("floats are not allowed in canonical JSON; use integers (e.g. fen)")
    else:
        raise TypeError(f"{type(value).__name__} is not JSON")


def canonical_json(value: Any) -> bytes:
    """Encode ``value`` as RFC 8785 canonical JSON bytes."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode()


def digest(value: Any) -> str:
    """Hex SHA-256 of the canonical encoding."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def canonical_json_of_plain(value: Any) -> bytes:
    """RFC 8785 for values the caller built from a known, plain shape: object keys ASCII,
    values strings, integers with |n| ≤ 2**53, booleans, null, and lists or objects of them
    (no floats). For that shape sorted keys and no whitespace *is* JCS, so the C encoder
    writes it (a tenth of :func:`canonical_json`'s time, which matters where thousands of
    records are hashed at once); tests pin the two against each other. Use
    :func:`canonical_json` for anything received from outside."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def digest_of_plain(value: Any) -> str:
    """Hex SHA-256 of :func:`canonical_json_of_plain` (same digest, for plain shapes only)."""
    return hashlib.sha256(canonical_json_of_plain(value)).hexdigest()
