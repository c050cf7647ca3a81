"""The validator accepts exactly the allow-listed shape and rewrites from the tree."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parent))
from compute_support import tax_catalogue

from shuchang.domains.compute import plan as p
from shuchang.domains.compute import sqlcheck
from shuchang.domains.compute.errors import QueryRejected

CAT = tax_catalogue()


def rejected(sql: str) -> str:
    with pytest.raises(QueryRejected) as info:
        sqlcheck.validate(sql, CAT)
    assert info.value.message_zh and info.value.message_en
    assert info.value.code == f"compute.query.{info.value.reason}"
    return info.value.reason


def test_default_rate_by_industry_and_district_is_accepted() -> None:
    plan = sqlcheck.validate(
        "SELECT industry_code, district, COUNT(*) AS n, AVG(defaulted) AS default_rate "
        "FROM tax GROUP BY industry_code, district",
        CAT,
    )
    assert plan.group_by == ("industry_code", "district")
    assert [s.kind for s in plan.statistics] == ["count", "avg"]
    assert plan.measures == ("defaulted",)


def test_identifiers_resolve_like_duckdb_and_qualifiers_must_name_the_table() -> None:
    plan = sqlcheck.validate(
        'select T.INDUSTRY_CODE, sum("invoice_total_fen") from TAX as t '
        "where t.year >= 2021 group by industry_code",
        CAT,
    )
    assert plan.group_by == ("industry_code",)
    assert plan.where == p.Compare("year", ">=", 2021)
    assert rejected("SELECT count(*) FROM tax WHERE other.year = 2021") == "unknown_table"


def test_where_is_normalised_to_one_canonical_text() -> None:
    a = sqlcheck.validate(
        "SELECT count(*) FROM tax WHERE district IN ('龙湾区', '鹿城区', '龙湾区') AND 2020 < year",
        CAT,
    )
    b = sqlcheck.validate(
        "SELECT COUNT(*) FROM tax WHERE (district in ('鹿城区','龙湾区')) and year > 2020", CAT
    )
    assert p.canonical_sql(a) == p.canonical_sql(b)
    assert "'鹿城区', '龙湾区'" in p.canonical_sql(a)


def test_not_folds_into_membership_and_ranges() -> None:
    plan = sqlcheck.validate(
        "SELECT count(*) FROM tax "
        "WHERE NOT district IN ('鹿城区') OR NOT year BETWEEN 2019 AND 2020",
        CAT,
    )
    assert plan.where == p.Logic(
        "OR",
        (
            p.Member("district", ("鹿城区",), negated=True),
            p.Range("year", 2019, 2020, negated=True),
        ),
    )


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT count(*) FROM tax WHERE year = '2021'", "literal_type"),
        ("SELECT count(*) FROM tax WHERE district = 3", "literal_type"),
        ("SELECT count(*) FROM tax WHERE district > '鹿城区'", "operator"),
        ("SELECT count(*) FROM tax WHERE year = 1999", "value_outside_domain"),
        ("SELECT count(*) FROM tax WHERE year = district", "column_comparison"),
        ("SELECT district, count(*) FROM tax", "not_grouped"),
        ("SELECT district FROM tax GROUP BY district", "no_aggregate"),
        ("SELECT count(name) FROM tax", "count_argument"),
        ("SELECT sum(district) FROM tax", "not_a_measure"),
        ("SELECT count(*) FROM tax GROUP BY defaulted", "not_a_dimension"),
        ("SELECT count(*) FROM tax GROUP BY nosuch", "unknown_column"),
        ("SELECT count(*) AS a, sum(defaulted) AS A FROM tax", "alias"),
        ("SELECT count(*) AS __rows FROM tax", "alias"),
        ("SELECT count(*) FROM tax GROUP BY district, district", "group_by"),
        ("SELECT count(*) FROM main.tax", "table_qualifier"),
        ("SELECT count(*) FROM other", "unknown_table"),
        ("", "parse_error"),
        ("SELECT count(*) FROM tax WHERE", "parse_error"),
    ],
)
def test_each_shape_outside_the_allow_list_has_its_reason(sql: str, reason: str) -> None:
    assert rejected(sql) == reason


def test_too_many_cells_is_refused_before_running() -> None:
    small = tax_catalogue(max_cells=20)
    with pytest.raises(QueryRejected) as info:
        sqlcheck.validate("SELECT count(*) FROM tax GROUP BY industry_code, district", small)
    assert info.value.reason == "too_many_cells"


def test_templates_bind_literal_nodes_and_then_validate() -> None:
    sql = (
        "SELECT district, AVG(defaulted) FROM tax WHERE industry_code = :industry GROUP BY district"
    )
    plan = sqlcheck.bind(sql, {"industry": "C13"}, CAT)
    assert plan.where == p.Compare("industry_code", "=", "C13")
    with pytest.raises(QueryRejected) as info:
        sqlcheck.bind(sql, {"industry": "' OR 1=1 --"}, CAT)
    assert info.value.reason == "value_outside_domain"  # a value, never SQL text
    with pytest.raises(QueryRejected):
        sqlcheck.bind(sql, {}, CAT)
    assert rejected("SELECT count(*) FROM tax WHERE district = :d") == "unbound_parameter"


def test_rewrite_bounds_clamps_counts_persons_and_binds_every_literal() -> None:
    plan = sqlcheck.validate(
        "SELECT district, SUM(invoice_total_fen) FROM tax WHERE industry_code = 'C13' "
        "GROUP BY district",
        CAT,
    )
    out = p.rewrite(plan, CAT, 3)
    assert 'PARTITION BY "uscc"' in out.sql and "__rn <= 3" in out.sql
    assert "count(DISTINCT __p)" in out.sql
    assert "greatest(least(" in out.sql
    assert "'C13'" not in out.sql and out.params == ("C13",)
    lean = p.rewrite(plan, CAT, 1, enforce_bound=False, distinct_persons=False)
    assert "row_number" not in lean.sql and "DISTINCT" not in lean.sql
    semi = p.rewrite(plan, CAT, 1, restrict_column="uscc")
    assert '"uscc" IN (SELECT v FROM __restrict_to)' in semi.sql
