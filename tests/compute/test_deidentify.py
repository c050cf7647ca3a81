# ruff: noqa: S608 - queries over in-memory test tables
"""Properties of the de-identification steps and the k-anonymity check, run as the SQL the
runner executes (DuckDB in memory): generalisation is monotone and contains the value,
masking keeps lengths as specified, the k report agrees with a brute-force count."""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import date
from typing import Any

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from shuchang.domains.compute import deidentify, kanon

FAST = settings(max_examples=30, deadline=None)


def _apply(step: deidentify.Step, values: list[Any], sql_type: str) -> list[Any]:
    con = duckdb.connect()
    key = secrets.token_bytes(32)
    con.create_function(
        "shuchang_hmac_sha256", lambda v: deidentify.hmac_sha256(key, v), ["VARCHAR"], "VARCHAR"
    )
    con.create_function(
        "shuchang_hmac_sm3", lambda v: deidentify.hmac_sm3(key, v), ["VARCHAR"], "VARCHAR"
    )
    con.execute(f"CREATE TABLE t (i INTEGER, v {sql_type})")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    rows = con.execute(f"SELECT * FROM ({deidentify.layered('t', [step])}) ORDER BY i").fetchall()
    return [r[1] for r in rows]


dates = st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31))


@FAST
@given(st.lists(dates, min_size=2, max_size=30), st.sampled_from(["month", "quarter", "year"]))
def test_date_generalisation_is_monotone_and_contains_the_date(values: list[date], to: str) -> None:
    out = _apply(deidentify.GeneralizeDate(column="v", to=to), values, "DATE")  # type: ignore[arg-type]
    for d, g in zip(values, out, strict=True):
        assert g.startswith(f"{d.year:04d}")
        if to == "month":
            assert g == f"{d.year:04d}-{d.month:02d}"
        if to == "quarter":
            assert g == f"{d.year:04d}-Q{(d.month - 1) // 3 + 1}"
    pairs = sorted(zip(values, out, strict=True))
    assert [g for _, g in pairs] == sorted(g for _, g in pairs)  # d1 <= d2 => g(d1) <= g(d2)


@FAST
@given(
    st.lists(st.integers(-(10**6), 10**6), min_size=2, max_size=30),
    st.integers(1, 1000),
    st.integers(-100, 100),
)
def test_bands_are_monotone_and_contain_the_value(
    values: list[int], width: int, origin: int
) -> None:
    lower = _apply(
        deidentify.Band(column="v", width=width, origin=origin, output="lower"), values, "BIGINT"
    )
    labels = _apply(deidentify.Band(column="v", width=width, origin=origin), values, "BIGINT")
    for x, lo, label in zip(values, lower, labels, strict=True):
        assert lo <= x < lo + width and (lo - origin) % width == 0
        assert label == f"{lo}-{lo + width}"
    pairs = sorted(zip(values, lower, strict=True))
    assert [lo for _, lo in pairs] == sorted(lo for _, lo in pairs)


@FAST
@given(
    st.lists(st.text(min_size=0, max_size=20), min_size=1, max_size=20),
    st.integers(0, 6),
    st.integers(0, 6),
)
def test_masking_keeps_length_and_only_the_kept_characters(
    values: list[str], first: int, last: int
) -> None:
    values = [v.replace("\x00", "") for v in values]
    out = _apply(deidentify.Mask(column="v", keep_first=first, keep_last=last), values, "VARCHAR")
    for v, m in zip(values, out, strict=True):
        assert len(m) == len(v)
        if len(v) <= first + last:
            assert m == "*" * len(v)  # never shown whole
        else:
            assert m[:first] == v[:first] and m[len(v) - last :] == v[len(v) - last :]
            assert set(m[first : len(v) - last]) == {"*"}


@FAST
@given(
    st.lists(st.from_regex(r"[1-8]\d{5}", fullmatch=True), min_size=1, max_size=20),
    st.integers(1, 6),
)
def test_prefix_keeps_the_first_digits_and_pads_back(codes: list[str], n: int) -> None:
    out = _apply(deidentify.Prefix(column="v", length=n, pad="0"), codes, "VARCHAR")
    assert out == [c[:n] + "0" * (6 - n) for c in codes]


def test_keyed_hashes_are_stable_per_key_and_differ_between_keys() -> None:
    key, other = b"k" * 32, b"o" * 32
    assert deidentify.hmac_sm3(key, "91330300MA00000001") == deidentify.hmac_sm3(
        key, "91330300MA00000001"
    )
    assert deidentify.hmac_sm3(key, "a") != deidentify.hmac_sm3(other, "a")
    assert deidentify.hmac_sha256(key, "a") != deidentify.hmac_sm3(key, "a")
    # HMAC-SM3 is RFC 2104 over SM3 (64-byte blocks): computed here by the definition.
    assert deidentify.hmac_sm3(b"key", "fox") == _rfc2104_sm3(b"key", b"fox")
    assert _apply(deidentify.Hash(column="v"), [None], "VARCHAR") == [None]


@FAST
@given(
    st.lists(st.sampled_from(["a", "b", "c", "d", None]), min_size=1, max_size=40),
    st.integers(2, 5),
)
def test_suppression_nulls_exactly_the_rare_values(values: list[str | None], n: int) -> None:
    counts = Counter(values)
    out = _apply(deidentify.Suppress(column="v", min_count=n), values, "VARCHAR")
    assert out == [None if counts[v] < n else v for v in values]


def _rfc2104_sm3(key: bytes, message: bytes) -> str:
    from cryptography.hazmat.primitives import hashes

    def sm3(data: bytes) -> bytes:
        h = hashes.Hash(hashes.SM3())
        h.update(data)
        return h.finalize()

    padded = key.ljust(64, b"\0")
    inner = sm3(bytes(b ^ 0x36 for b in padded) + message)
    return sm3(bytes(b ^ 0x5C for b in padded) + inner).hex()


rows = st.lists(
    st.tuples(st.sampled_from(["3303", "3304", None]), st.integers(0, 3), st.booleans()),
    min_size=0,
    max_size=60,
)


@FAST
@given(rows, st.integers(2, 6))
def test_the_k_report_agrees_with_a_brute_force_count(data: list[tuple[Any, ...]], k: int) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (region VARCHAR, band INTEGER, flag BOOLEAN)")
    if data:
        con.executemany("INSERT INTO t VALUES (?, ?, ?)", data)
    qi = ["region", "band"]
    got = kanon.report(con, "t", qi, k)
    classes = Counter((r, b) for r, b, _ in data)
    small = {c: n for c, n in classes.items() if n < k}
    assert got.rows == len(data) and got.classes == len(classes)
    assert got.smallest_class == min(classes.values(), default=0)
    assert (got.violating_classes, got.violating_rows) == (len(small), sum(small.values()))
    assert len(got.sample) == min(len(small), kanon.SAMPLE)
    removed = kanon.suppress_violations(con, "t", qi, k)
    assert removed == sum(small.values())
    assert kanon.report(con, "t", qi, k).satisfied
