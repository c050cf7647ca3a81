# ruff: noqa: S608 - SQL is built from pattern-checked column names (quoted) and typed numbers
"""De-identification steps of data elements (去标识化), as DuckDB SQL over the element's rows.

Each step rewrites one column in place (``drop`` removes it); steps apply in order, each one a
layer over the previous rows, so ten steps over a million rows are still one query plan:

* ``generalize_date`` — a date to its month (``2024-03``), quarter (``2024-Q1``) or year;
* ``band``            — a number to its range ``[lo, lo + width)``, as a label ``30-40`` or
                        the lower bound (age → bands, amounts → ranges);
* ``prefix``          — keep the first *n* characters (region code ``330302`` → ``3303``),
                        optionally padded back to the original length (``330300``);
* ``mask``            — keep the first / last *n* characters, the rest become ``*``; the
                        length is kept; a value no longer than what would be kept is masked
                        whole, so no short value is ever shown entire;
* ``hash``            — HMAC-SM3 (default) or HMAC-SHA-256 under the element's secret salt,
                        hex: joinable across runs of one element, not reversible by others;
* ``drop``            — remove the column;
* ``suppress``        — values held by fewer than ``min_count`` rows become NULL (local
                        suppression of rare values).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Literal

import msgspec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

Column = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
HMAC_FUNCTIONS = {"hmac-sha256": "shuchang_hmac_sha256", "hmac-sm3": "shuchang_hmac_sm3"}


class GeneralizeDate(
    msgspec.Struct, tag_field="op", tag="generalize_date", forbid_unknown_fields=True
):
    column: Column
    to: Literal["month", "quarter", "year"] = "month"


class Band(msgspec.Struct, tag_field="op", tag="band", forbid_unknown_fields=True):
    column: Column
    width: Annotated[float, msgspec.Meta(gt=0, le=1e15)]
    origin: Annotated[float, msgspec.Meta(ge=-1e15, le=1e15)] = 0
    output: Literal["label", "lower"] = "label"


class Prefix(msgspec.Struct, tag_field="op", tag="prefix", forbid_unknown_fields=True):
    column: Column
    length: Annotated[int, msgspec.Meta(ge=1, le=64)]
    pad: Annotated[str, msgspec.Meta(min_length=1, max_length=1)] | None = None


class Mask(msgspec.Struct, tag_field="op", tag="mask", forbid_unknown_fields=True):
    column: Column
    keep_first: Annotated[int, msgspec.Meta(ge=0, le=64)] = 0
    keep_last: Annotated[int, msgspec.Meta(ge=0, le=64)] = 0
    char: Annotated[str, msgspec.Meta(min_length=1, max_length=1)] = "*"


class Hash(msgspec.Struct, tag_field="op", tag="hash", forbid_unknown_fields=True):
    column: Column
    algorithm: Literal["hmac-sm3", "hmac-sha256"] = "hmac-sm3"


class Drop(msgspec.Struct, tag_field="op", tag="drop", forbid_unknown_fields=True):
    column: Column


class Suppress(msgspec.Struct, tag_field="op", tag="suppress", forbid_unknown_fields=True):
    column: Column
    min_count: Annotated[int, msgspec.Meta(ge=2, le=1_000_000)]


Step = GeneralizeDate | Band | Prefix | Mask | Hash | Drop | Suppress


def quote(name: str) -> str:
    """A column name as a DuckDB identifier (names are validated by pattern already)."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _date(step: GeneralizeDate) -> str:
    d = f"CAST({quote(step.column)} AS DATE)"
    if step.to == "year":
        return f"strftime({d}, '%Y')"
    if step.to == "quarter":
        return f"strftime({d}, '%Y') || '-Q' || CAST(quarter({d}) AS VARCHAR)"
    return f"strftime({d}, '%Y-%m')"


def _band(step: Band) -> str:
    width, origin = _number(step.width), _number(step.origin)
    integral = float(step.width).is_integer() and float(step.origin).is_integer()
    kind = "BIGINT" if integral else "DOUBLE"
    x = f"CAST({quote(step.column)} AS DOUBLE)"
    lower = f"CAST({origin} + floor(({x} - {origin}) / {width}) * {width} AS {kind})"
    if step.output == "lower":
        return lower
    upper = f"CAST({origin} + (floor(({x} - {origin}) / {width}) + 1) * {width} AS {kind})"
    return f"CAST({lower} AS VARCHAR) || '-' || CAST({upper} AS VARCHAR)"


def _prefix(step: Prefix) -> str:
    v = f"CAST({quote(step.column)} AS VARCHAR)"
    kept = f"left({v}, {step.length})"
    return f"rpad({kept}, CAST(length({v}) AS INTEGER), {_literal(step.pad)})" if step.pad else kept


def _mask(step: Mask) -> str:
    v = f"CAST({quote(step.column)} AS VARCHAR)"
    first, last, char = step.keep_first, step.keep_last, _literal(step.char)
    return (
        f"CASE WHEN {v} IS NULL THEN NULL "
        f"WHEN length({v}) <= {first + last} THEN repeat({char}, length({v})) "
        f"ELSE left({v}, {first}) || repeat({char}, length({v}) - {first + last}) "
        f"|| right({v}, {last}) END"
    )


def expression(step: Step) -> str | None:
    """The SQL that replaces the step's column (None: the step drops it)."""
    match step:
        case GeneralizeDate():
            return _date(step)
        case Band():
            return _band(step)
        case Prefix():
            return _prefix(step)
        case Mask():
            return _mask(step)
        case Hash():
            return f"{HMAC_FUNCTIONS[step.algorithm]}(CAST({quote(step.column)} AS VARCHAR))"
        case Suppress():
            c = quote(step.column)
            rare = f"count(*) OVER (PARTITION BY {c}) < {step.min_count}"
            return f"CASE WHEN {rare} THEN NULL ELSE {c} END"
        case Drop():
            return None
    raise AssertionError(step)  # pragma: no cover - the union is closed


def layered(base: str, steps: list[Step]) -> str:
    """One SELECT applying ``steps`` in order over the relation ``base``."""
    query = f"SELECT * FROM {base}"
    for position, step in enumerate(steps):
        expr = expression(step)
        column = quote(step.column)
        if expr is None:
            query = f"SELECT * EXCLUDE ({column}) FROM ({query}) AS s{position}"
        else:
            query = f"SELECT * REPLACE ({expr} AS {column}) FROM ({query}) AS s{position}"
    return query


def hmac_sha256(key: bytes, value: str | None) -> str | None:
    if value is None:
        return None
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def hmac_sm3(key: bytes, value: str | None) -> str | None:
    if value is None:
        return None
    mac = crypto_hmac.HMAC(key, hashes.SM3())
    mac.update(value.encode())
    return mac.finalize().hex()


def describe(steps: list[Step]) -> list[str]:
    """One plain line per step, for the product's transformation text."""
    lines = []
    for step in steps:
        fields = msgspec.to_builtins(step)
        op = fields.pop("op")
        column = fields.pop("column")
        args = ", ".join(
            f"{k}={_number(v) if isinstance(v, float) else v}" for k, v in fields.items()
        )
        lines.append(f"{op}({column}{', ' + args if args else ''})")
    return lines
