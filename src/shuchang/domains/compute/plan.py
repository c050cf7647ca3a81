"""The accepted query as a small typed tree (查询计划), its canonical text, and the rewrite.

:mod:`.sqlcheck` turns a consumer's SQL into a :class:`Plan`; nothing of the consumer's text
survives: the canonical SQL (the cache key and what evidence records) and the SQL DuckDB runs
are both printed from the plan, with identifiers taken from the provider's profile and every
literal bound as a parameter.

The rewrite, for a plan over table ``t`` with person column ``p``, contribution bound ``c``,
grouping dimensions ``g…`` and measures ``m…`` clamped to ``[L, U]``::

    SELECT g…, count(*), count(DISTINCT p), sum(clamp(m))…
    FROM (SELECT p, g…, m…, row_number() OVER (PARTITION BY p ORDER BY hash(rowid)) AS rn
          FROM t WHERE <where> [AND p IN (SELECT v FROM restrict_to)])
    WHERE rn <= c GROUP BY g…

so each person contributes at most ``c`` rows, each value at most ``max(|L|, |U|)``, and the
distinct-person count per cell drives the k threshold. When the materialised data already
holds at most ``c`` rows per person (checked once per resource version) the window is
skipped, and with one row per person the distinct count is the row count: the bound holds
without them, and 10M rows aggregate in a fraction of the time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

Value = str | int
CompareOp = Literal["=", "<>", "<", "<=", ">", ">="]


@dataclass(frozen=True)
class DimensionSpec:
    """A dimension's public domain: enumerated ``values`` (in declared order) or a range."""

    name: str
    type: Literal["string", "integer", "date"]
    values: tuple[Value, ...] | None = None
    low: int | None = None
    high: int | None = None

    def domain(self) -> Iterator[Value]:
        if self.values is not None:
            yield from self.values
        else:
            assert self.low is not None and self.high is not None
            yield from range(self.low, self.high + 1)

    @property
    def size(self) -> int:
        if self.values is not None:
            return len(self.values)
        assert self.low is not None and self.high is not None
        return self.high - self.low + 1

    def contains(self, value: Value) -> bool:
        if self.values is not None:
            return value in self.values
        return (
            isinstance(value, int)
            and self.low is not None
            and self.high is not None
            and (self.low <= value <= self.high)
        )


@dataclass(frozen=True)
class MeasureSpec:
    name: str
    lower: float
    upper: float
    integer: bool

    @property
    def bound(self) -> float:
        """The most one row can move a sum: max(|L|, |U|)."""
        return max(abs(self.lower), abs(self.upper))


@dataclass(frozen=True)
class Catalogue:
    """What a query may name: the table, the person column, dimensions and measures, and
    the other columns of the resource (named only to say why they are refused)."""

    table: str
    person: str
    dimensions: dict[str, DimensionSpec]
    measures: dict[str, MeasureSpec]
    others: frozenset[str] = frozenset()
    max_cells: int = 1000


# --- predicates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Compare:
    column: str
    op: CompareOp
    value: Value


@dataclass(frozen=True)
class Member:
    column: str
    values: tuple[Value, ...]  # sorted, distinct
    negated: bool = False


@dataclass(frozen=True)
class Range:
    column: str
    low: Value
    high: Value
    negated: bool = False


@dataclass(frozen=True)
class Logic:
    op: Literal["AND", "OR"]
    items: tuple[Predicate, ...]


@dataclass(frozen=True)
class Negation:
    item: Predicate


Predicate = Compare | Member | Range | Logic | Negation


@dataclass(frozen=True)
class Statistic:
    kind: Literal["count", "sum", "avg"]
    measure: str | None
    alias: str


@dataclass(frozen=True)
class Plan:
    """One accepted query: the output columns in the order asked, grouping, filter."""

    table: str
    group_by: tuple[str, ...]
    output: tuple[str | Statistic, ...]  # a dimension name or a statistic, as selected
    where: Predicate | None = None

    @property
    def statistics(self) -> tuple[Statistic, ...]:
        return tuple(o for o in self.output if isinstance(o, Statistic))

    @property
    def measures(self) -> tuple[str, ...]:
        """Measures summed (for SUM or AVG), each once, in first-use order."""
        seen = dict.fromkeys(s.measure for s in self.statistics if s.measure)
        return tuple(m for m in seen if m is not None)

    @property
    def counts_rows(self) -> bool:
        return any(s.kind in ("count", "avg") for s in self.statistics)


# --- printing ------------------------------------------------------------------------------


def quote(name: str) -> str:
    """A double-quoted identifier (names are ``[A-Za-z_][A-Za-z0-9_]*`` by the schema)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: Value) -> str:
    if isinstance(value, bool):  # a bool is an int in Python; never a domain value
        raise TypeError("boolean literals are not domain values")
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


@dataclass
class _Printer:
    """Prints predicates either with literals inline (canonical) or as ``?`` with params."""

    inline: bool
    params: list[Value] = field(default_factory=list)

    def value(self, v: Value) -> str:
        if self.inline:
            return literal(v)
        self.params.append(v)
        return "?"

    def pred(self, p: Predicate) -> str:
        if isinstance(p, Compare):
            return f"{quote(p.column)} {p.op} {self.value(p.value)}"
        if isinstance(p, Member):
            items = ", ".join(self.value(v) for v in p.values)
            return f"{quote(p.column)} {'NOT IN' if p.negated else 'IN'} ({items})"
        if isinstance(p, Range):
            word = "NOT BETWEEN" if p.negated else "BETWEEN"
            return f"{quote(p.column)} {word} {self.value(p.low)} AND {self.value(p.high)}"
        if isinstance(p, Negation):
            return f"NOT ({self.pred(p.item)})"
        return "(" + f" {p.op} ".join(self.pred(i) for i in p.items) + ")"


def _stat_sql(s: Statistic) -> str:
    inner = "*" if s.kind == "count" else quote(s.measure or "")
    return f"{s.kind.upper()}({inner}) AS {quote(s.alias)}"


def canonical_sql(plan: Plan) -> str:
    """The normalised query: one canonical text per accepted tree (the cache key)."""
    items = [quote(o) if isinstance(o, str) else _stat_sql(o) for o in plan.output]
    sql = f"SELECT {', '.join(items)} FROM {quote(plan.table)}"  # noqa: S608 - quoted names
    if plan.where is not None:
        sql += f" WHERE {_Printer(inline=True).pred(plan.where)}"
    if plan.group_by:
        sql += " GROUP BY " + ", ".join(quote(g) for g in plan.group_by)
    return sql


@dataclass(frozen=True)
class Rewritten:
    """The SQL the sandbox runs, its parameters, and the layout of its result columns."""

    sql: str
    params: tuple[Value, ...]
    group_by: tuple[str, ...]
    measures: tuple[str, ...]  # result columns after g…, n_rows, n_persons: one sum each


def rewrite(
    plan: Plan,
    catalogue: Catalogue,
    bound: int,
    *,
    enforce_bound: bool = True,
    distinct_persons: bool = True,
    restrict_column: str | None = None,
) -> Rewritten:
    """The bounded, clamped, person-counting SQL for ``plan`` (see the module docstring).

    ``enforce_bound=False`` and ``distinct_persons=False`` are for data known (checked at
    materialisation) to hold at most ``bound`` rows, resp. one row, per person: the window and
    the distinct count would change nothing. ``restrict_column`` semi-joins that column
    against the sandbox's ``__restrict_to`` table (PSI then aggregate)."""
    printer = _Printer(inline=False)
    person = quote(catalogue.person)
    groups = [quote(g) for g in plan.group_by]
    measures = plan.measures
    clamped = [_clamp(catalogue.measures[m], i) for i, m in enumerate(measures)]
    inner_cols = [f"{person} AS __p", *groups, *clamped]
    conditions = []
    if plan.where is not None:
        conditions.append(printer.pred(plan.where))
    if restrict_column is not None:
        semi_join = f"{quote(restrict_column)} IN (SELECT v FROM __restrict_to)"  # noqa: S608
        conditions.append(semi_join)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    if enforce_bound:
        inner_cols.append(f"row_number() OVER (PARTITION BY {person} ORDER BY hash(rowid)) AS __rn")
    source = quote(catalogue.table)
    inner = f"SELECT {', '.join(inner_cols)} FROM {source}{where}"  # noqa: S608 - quoted names
    outer_where = f" WHERE __rn <= {int(bound)}" if enforce_bound else ""
    aggregates = [
        "count(*) AS __rows",
        "count(DISTINCT __p) AS __persons" if distinct_persons else "count(*) AS __persons",
        *(f"sum(__m{i}) AS __s{i}" for i in range(len(measures))),
    ]
    group = f" GROUP BY {', '.join(groups)}" if groups else ""
    columns = ", ".join([*groups, *aggregates])
    sql = f"SELECT {columns} FROM ({inner}) AS __b{outer_where}{group}"  # noqa: S608
    return Rewritten(sql, tuple(printer.params), plan.group_by, measures)


def _clamp(m: MeasureSpec, i: int) -> str:
    """NULL counts as the in-range value nearest 0; then GREATEST/LEAST clamp to [L, U]."""
    kind = "BIGINT" if m.integer else "DOUBLE"
    low, high = (int(m.lower), int(m.upper)) if m.integer else (m.lower, m.upper)
    zero = min(max(0, low), high)
    value = f"coalesce(CAST({quote(m.name)} AS {kind}), CAST({zero!r} AS {kind}))"
    return f"greatest(least({value}, CAST({high!r} AS {kind})), CAST({low!r} AS {kind})) AS __m{i}"
