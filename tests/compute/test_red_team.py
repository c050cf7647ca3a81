"""Red team (攻击测试): queries that try to learn one enterprise's value.

Each is refused with its stable reason — and refused queries create no job and spend no ε —
or is answered only within the DP guarantee and the budget: differencing pairs and trackers
are both charged, with noise at least sensitivity / ε per statistic; a one-row selection is
noised (and with a large k suppressed); averaging many answers ends in budget exhaustion.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import func, select

sys.path.append(str(Path(__file__).resolve().parent))
from compute_flow import Space, offer, open_space
from compute_support import tax_catalogue, tax_rows

from shuchang.domains.compute import jobs, sqlcheck, views
from shuchang.domains.compute.errors import BudgetExhausted, QueryRejected
from shuchang.domains.compute.execution import run_job
from shuchang.domains.compute.models import BudgetAccount, ComputeJob
from shuchang.domains.compute.sandbox import Sandbox
from shuchang.domains.compute.schemas import JobIn, JobOut
from shuchang.platform import Platform

TARGET = "91330300MA00000042"
LONG_OR = " OR ".join(["district = '鹿城区'"] * 800)
HUGE_IN = ", ".join(["2021"] * 1500)
TARGET_CELL = (
    "(district = '洞头区' AND year = 2019 AND credit_grade = 'D' AND industry_code = 'I65')"
)
NESTED = "SELECT COUNT(*) FROM tax WHERE " + "NOT (" * 40 + "year = 2021" + ")" * 40

REJECTED: list[tuple[str, str, str]] = [
    # single values through aggregates that are not sums
    ("max", "SELECT MAX(invoice_total_fen) FROM tax", "min_max"),
    (
        "min by group",
        "SELECT district, MIN(invoice_total_fen) FROM tax GROUP BY district",
        "min_max",
    ),
    ("arg_max", "SELECT arg_max(uscc, invoice_total_fen) FROM tax", "min_max"),
    ("median", "SELECT MEDIAN(invoice_total_fen) FROM tax", "percentile"),
    ("quantile", "SELECT quantile_cont(invoice_total_fen, 0.99) FROM tax", "percentile"),
    ("string_agg of ids", "SELECT string_agg(uscc, ',') FROM tax", "function"),
    ("list of values", "SELECT list(invoice_total_fen) FROM tax", "function"),
    ("first", "SELECT first(invoice_total_fen) FROM tax", "function"),
    # CASE and friends single out one row inside an aggregate
    (
        "case on id",
        "SELECT SUM(CASE WHEN uscc = '91330300MA00000042' THEN invoice_total_fen ELSE 0 END) "
        "FROM tax",
        "case",
    ),
    (
        "if on id",
        "SELECT SUM(IF(uscc = '91330300MA00000042', invoice_total_fen, 0)) FROM tax",
        "case",
    ),
    (
        "filter on id",
        "SELECT SUM(invoice_total_fen) FILTER (WHERE uscc = '91330300MA00000042') FROM tax",
        "filter",
    ),
    ("arithmetic in sum", "SELECT SUM(invoice_total_fen * 1000) FROM tax", "arithmetic"),
    ("arithmetic in avg", "SELECT AVG(defaulted + 0) FROM tax", "arithmetic"),
    ("distinct in count", "SELECT COUNT(DISTINCT uscc) FROM tax", "distinct"),
    (
        "select distinct",
        "SELECT DISTINCT district, COUNT(*) FROM tax GROUP BY district",
        "distinct",
    ),
    # the identifier and other non-dimensions
    (
        "where on id",
        "SELECT COUNT(*) FROM tax WHERE uscc = '91330300MA00000042'",
        "identifier_column",
    ),
    (
        "group by id",
        "SELECT uscc, SUM(invoice_total_fen) FROM tax GROUP BY uscc",
        "identifier_column",
    ),
    ("where on name", "SELECT COUNT(*) FROM tax WHERE name = '企业42'", "not_a_dimension"),
    (
        "where on a measure",
        "SELECT COUNT(*) FROM tax WHERE invoice_total_fen > 499999000",
        "not_a_dimension",
    ),
    ("rowid", "SELECT COUNT(*) FROM tax WHERE rowid = 42", "unknown_column"),
    ("pattern", "SELECT COUNT(*) FROM tax WHERE district LIKE '鹿%'", "pattern"),
    ("null test", "SELECT COUNT(*) FROM tax WHERE district IS NULL", "null_test"),
    ("coalesce", "SELECT SUM(coalesce(invoice_total_fen, 0)) FROM tax", "function"),
    ("cast in sum", "SELECT SUM(CAST(invoice_total_fen AS DOUBLE)) FROM tax", "cast"),
    ("cast in where", "SELECT COUNT(*) FROM tax WHERE year::VARCHAR = '2021'", "cast"),
    (
        "value outside the domain",
        "SELECT COUNT(*) FROM tax WHERE district = '不存在区'",
        "value_outside_domain",
    ),
    ("column against column", "SELECT COUNT(*) FROM tax WHERE year = year", "column_comparison"),
    ("tautology", "SELECT COUNT(*) FROM tax WHERE 1 = 1", "column_comparison"),
    # clauses that select rows or cells by their values
    (
        "having count 1",
        "SELECT district, COUNT(*) FROM tax GROUP BY district HAVING COUNT(*) = 1",
        "having",
    ),
    (
        "order by and limit",
        "SELECT district, SUM(invoice_total_fen) FROM tax GROUP BY district "
        "ORDER BY 2 DESC LIMIT 1",
        "limit",
    ),
    ("limit", "SELECT COUNT(*) FROM tax LIMIT 1", "limit"),
    ("sample", "SELECT COUNT(*) FROM tax USING SAMPLE 1 ROWS", "sample"),
    ("window", "SELECT SUM(invoice_total_fen) OVER (PARTITION BY district) FROM tax", "window"),
    (
        "subquery in where",
        "SELECT COUNT(*) FROM tax WHERE year IN "
        "(SELECT year FROM tax WHERE uscc = '91330300MA00000042')",
        "subquery",
    ),
    ("subquery in from", "SELECT COUNT(*) FROM (SELECT * FROM tax)", "subquery"),
    ("cte", "WITH t AS (SELECT * FROM tax) SELECT COUNT(*) FROM t", "cte"),
    ("union", "SELECT COUNT(*) FROM tax UNION ALL SELECT COUNT(*) FROM tax", "set_operation"),
    ("self join", "SELECT COUNT(*) FROM tax a JOIN tax b ON a.year = b.year", "join"),
    ("comma join", "SELECT COUNT(*) FROM tax, tax AS b", "join"),
    ("star", "SELECT * FROM tax", "star"),
    # files, databases, extensions, settings, more statements
    ("read_csv", "SELECT COUNT(*) FROM read_csv('/etc/passwd')", "table_function"),
    (
        "read_parquet",
        "SELECT COUNT(*) FROM read_parquet('/srv/data/tax.parquet')",
        "table_function",
    ),
    ("glob", "SELECT COUNT(*) FROM glob('/*')", "table_function"),
    ("file as table", "SELECT COUNT(*) FROM '/etc/passwd'", "unknown_table"),
    ("other schema", "SELECT COUNT(*) FROM information_schema.tables", "table_qualifier"),
    ("attach", "ATTACH '/tmp/other.duckdb' AS other", "not_select"),
    ("copy", "COPY tax TO '/tmp/leak.csv'", "not_select"),
    ("install", "INSTALL httpfs", "not_select"),
    ("load", "LOAD httpfs", "not_select"),
    ("pragma", "PRAGMA database_list", "not_select"),
    ("set", "SET enable_external_access = true", "not_select"),
    ("second statement", "SELECT COUNT(*) FROM tax; ATTACH '/tmp/x.db'", "multiple_statements"),
    (
        "comment then statement",
        "SELECT COUNT(*) FROM tax /* */; -- \n DROP TABLE tax",
        "multiple_statements",
    ),
    # quoting, unicode, size
    ("quoted table trick", 'SELECT COUNT(*) FROM "tax"".csv"', "unknown_table"),
    ("fullwidth table name", "SELECT COUNT(*) FROM ｔａｘ", "unknown_table"),
    (
        "fullwidth column",
        "SELECT ｄｉｓｔｒｉｃｔ, COUNT(*) FROM tax GROUP BY ｄｉｓｔｒｉｃｔ",
        "unknown_column",
    ),
    ("unbound parameter", "SELECT COUNT(*) FROM tax WHERE year = $1", "unbound_parameter"),
    ("huge IN list", "SELECT COUNT(*) FROM tax WHERE year IN (" + HUGE_IN + ")", "in_list"),  # noqa: S608
    ("very long query", "SELECT COUNT(*) FROM tax WHERE " + LONG_OR + " OR " + LONG_OR, "too_long"),  # noqa: S608
    ("deep nesting", NESTED, "too_deep"),
]
CAT = tax_catalogue()


def test_the_suite_is_large_enough() -> None:
    assert len(REJECTED) >= 30
    assert len({name for name, _, _ in REJECTED}) == len(REJECTED)


@pytest.mark.parametrize(("name", "sql", "reason"), REJECTED, ids=[r[0] for r in REJECTED])
def test_each_attack_is_refused_with_its_reason(name: str, sql: str, reason: str) -> None:
    with pytest.raises(QueryRejected) as info:
        sqlcheck.validate(sql, CAT)
    assert info.value.reason == reason, (name, info.value.message_en)
    assert info.value.message_zh and info.value.message_en


# --- through the service: refusals change nothing; allowed attacks stay within DP ------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(1)
    yield box
    box.close()


@pytest.fixture
def space(platform: Platform, tmp_path: Path) -> Iterator[Space]:
    rows = tax_rows(2000)
    rows[42] = (TARGET, "企业42", "I65", "洞头区", "D", 2019, True, 499_999_999)  # the target
    with open_space(platform, tmp_path, rows=rows, policy=offer(epsilon="4.0")) as opened:
        yield opened


def ask(space: Space, sandbox: Sandbox, sql: str, epsilon: float = 0.5) -> JobOut:
    data = msgspec.convert(
        {"agreement_id": str(space.agreement_id), "sql": sql, "epsilon": epsilon}, JobIn
    )
    with space.platform.unit() as s:
        job = jobs.submit(s, space.consumer, data)
        job_id, state = job.id, job.state
    if state == "queued":
        run_job(space.platform.unit, space.platform.settings, sandbox, job_id)
    with space.platform.unit(write=False) as s:
        return views.job_out(s.get(ComputeJob, job_id), space.consumer)  # type: ignore[arg-type]


def _counts(space: Space) -> tuple[int, int]:
    with space.platform.unit(write=False) as s:
        n_jobs = s.scalar(select(func.count()).select_from(ComputeJob)) or 0
        spent = s.scalar(select(func.coalesce(func.sum(BudgetAccount.spent_micro), 0))) or 0
    return int(n_jobs), int(spent)


def test_refused_attacks_create_no_job_and_spend_nothing(space: Space, sandbox: Sandbox) -> None:
    before = _counts(space)
    for name, sql, reason in REJECTED:
        if len(sql) > 20_000:
            continue  # the API refuses it before the validator (request size)
        with pytest.raises(QueryRejected) as info:
            ask(space, sandbox, sql)
        assert info.value.reason == reason, name
    assert _counts(space) == before


def _guaranteed(out: JobOut) -> None:
    """Every statistic's noise is at least its sensitivity over its ε (the DP calibration)."""
    assert out.state == "succeeded" and out.result is not None
    for s in out.result.statistics:
        assert s.scale >= s.sensitivity / s.epsilon - 1e-9, s
    assert sum(s.epsilon for s in out.result.statistics) == pytest.approx(out.epsilon)


def test_a_differencing_pair_is_charged_twice_and_noised(space: Space, sandbox: Sandbox) -> None:
    everyone = ask(space, sandbox, "SELECT SUM(invoice_total_fen) AS s FROM tax")
    without = ask(
        space,
        sandbox,
        "SELECT SUM(invoice_total_fen) AS s FROM tax WHERE NOT " + TARGET_CELL,  # noqa: S608
    )
    for out in (everyone, without):
        _guaranteed(out)
        assert out.epsilon_charged == 0.5
    sums = [s for s in everyone.result.statistics if s.kind == "sum"]  # type: ignore[union-attr]
    assert sums[0].sensitivity == 1_000_000_000  # one enterprise moves a sum by its clamp
    assert sums[0].scale >= 1_000_000_000 / sums[0].epsilon
    with space.platform.unit(write=False) as s:
        assert views.budget(s, space.consumer, space.agreement_id).period_spent == 1.0


def test_a_tracker_is_answered_only_with_noise_and_cost(space: Space, sandbox: Sandbox) -> None:
    padded = "SELECT COUNT(*) AS n FROM tax WHERE industry_code = 'I65' OR district = '洞头区'"
    pad = "SELECT COUNT(*) AS n FROM tax WHERE district = '洞头区'"
    for out in (ask(space, sandbox, padded, 0.3), ask(space, sandbox, pad, 0.3)):
        _guaranteed(out)
    assert _counts(space)[1] == 2 * 600_000  # lifetime + period accounts, 0.6 each


def test_a_one_row_selection_is_noised_and_suppressed_below_k(
    platform: Platform, tmp_path: Path, sandbox: Sandbox
) -> None:
    rows = tax_rows(500)
    rows[42] = (TARGET, "企业42", "I65", "洞头区", "D", 2019, True, 499_999_999)
    with open_space(platform, tmp_path, rows=rows, k=60) as strict:
        one_row = "SELECT SUM(invoice_total_fen) AS s FROM tax WHERE " + TARGET_CELL  # noqa: S608
        out = ask(strict, sandbox, one_row, 1.0)
        _guaranteed(out)
        assert out.result is not None and out.result.suppressed == [True]
        assert out.result.rows == [[None]]


def test_comments_and_odd_spacing_are_dropped_not_trusted(space: Space, sandbox: Sandbox) -> None:
    out = ask(space, sandbox, "select /* ' ; attach */ count(*) -- tail\nFROM   tax  ")
    _guaranteed(out)
    assert out.normalised_sql == 'SELECT COUNT(*) AS "count" FROM "tax"'


def test_averaging_repeated_answers_ends_in_exhaustion(space: Space, sandbox: Sandbox) -> None:
    """The same query again is the same answer (no new information); varying ε to get fresh
    noise is charged each time until the budget refuses, releasing nothing more."""
    sql = "SELECT AVG(invoice_total_fen) AS a FROM tax WHERE year = 2019 AND district = '洞头区'"
    first = ask(space, sandbox, sql, 1.0)
    assert ask(space, sandbox, sql, 1.0).result.rows == first.result.rows  # type: ignore[union-attr]
    charged = [first.epsilon_charged]
    with pytest.raises(BudgetExhausted):
        for step in range(1, 20):
            charged.append(ask(space, sandbox, sql, 1.0 - step / 100).epsilon_charged)
    assert sum(charged) <= 4.0
    with space.platform.unit(write=False) as s:
        assert views.budget(s, space.consumer, space.agreement_id).period_spent == pytest.approx(
            sum(charged)
        )
