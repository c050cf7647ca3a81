"""Hypothesis: random text never crashes the validator; whatever it accepts re-validates to
the same canonical query (the rewrite is built from the tree, and is stable)."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.append(str(Path(__file__).resolve().parent))
from compute_support import DISTRICTS, INDUSTRIES, tax_catalogue

from shuchang.domains.compute import plan as p
from shuchang.domains.compute import sqlcheck
from shuchang.domains.compute.errors import QueryRejected

CAT = tax_catalogue()
WORDS = [
    "SELECT", "FROM", "WHERE", "GROUP", "BY", "AND", "OR", "NOT", "IN", "BETWEEN", "COUNT(*)",
    "SUM(invoice_total_fen)", "AVG(defaulted)", "MAX(defaulted)", "tax", "district",
    "industry_code", "year", "uscc", "name", "=", "<>", "<", ">=", "(", ")", ",", ";", "--",
    "/*", "*/", "'鹿城区'", "'C13'", "2021", "-1", "UNION", "read_csv('/etc/passwd')",
    "CASE", "WHEN", "THEN", "END", "AS", "x", "*", "+", "::INT", "NULL", "IS", "LIMIT", "1",
]  # fmt: skip


def check(sql: str) -> None:
    try:
        plan = sqlcheck.validate(sql, CAT)
    except QueryRejected:
        return
    canonical = p.canonical_sql(plan)
    again = sqlcheck.validate(canonical, CAT)
    assert again == plan
    assert p.canonical_sql(again) == canonical
    p.rewrite(plan, CAT, 2)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_random_text_never_crashes(sql: str) -> None:
    check(sql)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=30))
def test_random_sql_words_never_crash(words: list[str]) -> None:
    check(" ".join(words))


predicates = st.recursive(
    st.one_of(
        st.sampled_from(INDUSTRIES).map(lambda v: f"industry_code = '{v}'"),
        st.lists(st.sampled_from(DISTRICTS), min_size=1, max_size=4).map(
            lambda vs: "district IN (" + ", ".join(f"'{v}'" for v in vs) + ")"
        ),
        st.integers(2019, 2025).map(lambda y: f"year >= {y}"),
        st.tuples(st.integers(2019, 2025), st.integers(2019, 2025)).map(
            lambda t: f"year BETWEEN {t[0]} AND {t[1]}"
        ),
    ),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda t: f"({t[0]} AND {t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]} OR {t[1]})"),
        inner.map(lambda x: f"NOT ({x})"),
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(
    predicates,
    st.lists(st.sampled_from(["industry_code", "district", "year"]), unique=True, max_size=2),
    st.lists(
        st.sampled_from(["COUNT(*)", "SUM(invoice_total_fen)", "AVG(defaulted)"]),
        min_size=1,
        max_size=3,
        unique=True,
    ),
)
def test_generated_valid_queries_are_accepted_and_stable(
    where: str, groups: list[str], stats: list[str]
) -> None:
    select = ", ".join([*groups, *stats])
    group = f" GROUP BY {', '.join(groups)}" if groups else ""
    sql = f"SELECT {select} FROM tax WHERE {where}{group}"  # noqa: S608 - generated test input
    plan = sqlcheck.validate(sql, CAT)
    assert p.canonical_sql(sqlcheck.validate(p.canonical_sql(plan), CAT)) == p.canonical_sql(plan)
