"""The query validator (查询校验): ad-hoc SQL or a bound template becomes a :class:`Plan`, or
is refused with a stable reason.

Accepted, and nothing else: one ``SELECT`` over the profile's one table; output items that
are grouped dimensions, ``COUNT(*)``, ``SUM(measure)`` or ``AVG(measure)`` (optionally
aliased); ``GROUP BY`` over declared dimensions; ``WHERE`` made of ``AND``/``OR``/``NOT``
over comparisons of one dimension with constants from its public domain (``=``, ``<>``,
``IN``, and for integer dimensions ``<``, ``<=``, ``>``, ``>=``, ``BETWEEN``). Every node of
the parsed tree is checked against an allow-list first, so anything sqlglot recognises that is
not listed (functions, casts, CASE, subqueries, joins, windows, set operations, file readers,
comments survive only as comments and are dropped) is refused before its meaning matters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from shuchang.domains.compute import plan as p
from shuchang.domains.compute.allowlist import check_nodes, fragment, refusal
from shuchang.domains.compute.errors import QueryRejected
from shuchang.domains.compute.predicates import predicate
from shuchang.domains.compute.reasons import reject

MAX_NODES = 3_000
MAX_NAME = 63
MAX_DEPTH = 16

MAX_SQL = 10_000

_SELECT_ARGS = {"expressions", "from_", "where", "group"}
_ARG_REASONS = {
    "joins": "join", "laterals": "join", "having": "having", "order": "order_by",
    "limit": "limit", "offset": "limit", "distinct": "distinct", "with_": "cte",
    "qualify": "window", "windows": "window", "sample": "sample",
}  # fmt: skip


def parse_one(sql: str) -> exp.Select:
    """Parse exactly one SELECT statement (DuckDB dialect) or refuse."""
    if len(sql) > MAX_SQL:
        raise reject("too_long", n=MAX_SQL)
    try:
        trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    except SqlglotError as exc:
        raise reject("parse_error", str(exc).splitlines()[0][:200]) from exc
    except RecursionError as exc:  # absurdly nested input
        raise reject("too_deep", n=MAX_DEPTH) from exc
    if len(trees) != 1:
        raise reject("multiple_statements" if trees else "parse_error", "empty")
    tree = trees[0]
    if isinstance(tree, exp.SetOperation):
        raise reject("set_operation")
    if not isinstance(tree, exp.Select):
        raise reject("not_select", type(tree).__name__.upper())
    return tree


# --- building the plan ----------------------------------------------------------------------


class _Names:
    """Resolves identifiers the way DuckDB does (case-insensitively) to declared columns."""

    def __init__(self, catalogue: p.Catalogue, aliases: set[str]) -> None:
        self.c = catalogue
        self.qualifiers = {catalogue.table.lower(), *aliases}
        self.dims = {n.lower(): n for n in catalogue.dimensions}
        self.measures = {n.lower(): n for n in catalogue.measures}
        self.others = {n.lower() for n in catalogue.others}

    def column(self, node: exp.Expression) -> str:
        """The name of a bare column reference, or refuse."""
        if not isinstance(node, exp.Column):
            raise (
                refusal(node)
                if not isinstance(node, exp.Literal)
                else reject("column_comparison", fragment=fragment(node))
            )
        if node.args.get("db") or node.args.get("catalog"):
            raise reject("table_qualifier", fragment=fragment(node))
        if node.table and node.table.lower() not in self.qualifiers:
            raise reject("unknown_table", self.c.table, fragment=fragment(node))
        if isinstance(node.this, exp.Star):
            raise reject("star")
        return node.name

    def dimension(self, node: exp.Expression) -> p.DimensionSpec:
        name = self.column(node)
        key = name.lower()
        if key in self.dims:
            return self.c.dimensions[self.dims[key]]
        raise self._not(name, "not_a_dimension")

    def measure(self, node: exp.Expression) -> str:
        name = self.column(node)
        if name.lower() in self.measures:
            return self.measures[name.lower()]
        raise self._not(name, "not_a_measure")

    def _not(self, name: str, reason: str) -> QueryRejected:
        key = name.lower()
        if key == self.c.person.lower():
            return reject("identifier_column", name)
        known = key in self.dims or key in self.measures or key in self.others
        return reject(reason, name) if known else reject("unknown_column", name)


def _table(select: exp.Select, catalogue: p.Catalogue) -> set[str]:
    source = select.args.get("from_")
    table = source.this if isinstance(source, exp.From) else None
    if not isinstance(table, exp.Table):
        raise reject("unknown_table", catalogue.table)
    extra = [k for k, v in table.args.items() if v and k not in ("this", "alias")]
    if extra:
        reason = "table_qualifier" if extra[0] in ("db", "catalog") else "unsupported"
        raise reject(reason, extra[0], fragment=fragment(table))
    if not isinstance(table.this, exp.Identifier) or table.name.lower() != catalogue.table.lower():
        raise reject("unknown_table", catalogue.table, fragment=fragment(table))
    alias = table.alias
    return {alias.lower()} if alias else set()


def _select_args(select: exp.Select) -> None:
    for key, value in select.args.items():
        if value and key not in _SELECT_ARGS:
            raise reject(_ARG_REASONS.get(key, "unsupported"), key)


def _statistic(node: exp.Expression, names: _Names, alias: str | None) -> p.Statistic:
    if isinstance(node, exp.Count):
        if not isinstance(node.this, exp.Star) or node.expressions:
            raise reject("count_argument", fragment=fragment(node))
        return p.Statistic("count", None, alias or "count")
    if isinstance(node, exp.Sum | exp.Avg):
        measure = names.measure(node.this)
        kind: Literal["sum", "avg"] = "sum" if isinstance(node, exp.Sum) else "avg"
        return p.Statistic(kind, measure, alias or f"{kind}_{measure}")
    if isinstance(node, exp.Column):
        raise reject("alias", str(alias), fragment=fragment(node))
    raise refusal(node)


def _output(select: exp.Select, names: _Names) -> list[str | p.Statistic]:
    out: list[str | p.Statistic] = []
    for item in select.expressions:
        if isinstance(item, exp.Alias):
            alias = item.alias
            if not alias or not _plain(alias):
                raise reject("alias", alias or "''")
            out.append(_statistic(item.this, names, alias))
        elif isinstance(item, exp.Column):
            out.append(names.dimension(item).name)
        elif isinstance(item, exp.Star):
            raise reject("star")
        else:
            out.append(_statistic(item, names, None))
    labels = [o if isinstance(o, str) else o.alias for o in out]
    if len({x.lower() for x in labels}) != len(labels):
        raise reject("alias", "(duplicate output name)")
    if not any(isinstance(o, p.Statistic) for o in out):
        raise reject("no_aggregate")
    return out


def _plain(name: str) -> bool:
    return (
        name.isascii()
        and name.isidentifier()
        and not name.startswith("__")
        and len(name) <= MAX_NAME
    )


def _group(select: exp.Select, names: _Names) -> tuple[str, ...]:
    group = select.args.get("group")
    if group is None:
        return ()
    extra = [k for k, v in group.args.items() if v and k != "expressions"]
    if extra:
        raise reject("group_by", extra[0].upper())
    dims = [names.dimension(e).name for e in group.expressions]
    if len(set(dims)) != len(dims):
        raise reject("group_by", "(a dimension twice)")
    return tuple(dims)


def to_plan(select: exp.Select, catalogue: p.Catalogue) -> p.Plan:
    """Check every node, then build the plan clause by clause (the tree, not the text)."""
    check_nodes(select)
    _select_args(select)
    names = _Names(catalogue, _table(select, catalogue))
    output = _output(select, names)
    group_by = _group(select, names)
    for o in output:
        if isinstance(o, str) and o not in group_by:
            raise reject("not_grouped", o)
    cells = 1
    for g in group_by:
        cells *= catalogue.dimensions[g].size
    if cells > catalogue.max_cells:
        raise reject("too_many_cells", str(cells), n=catalogue.max_cells)
    where = select.args.get("where")
    pred = predicate(where.this, names.dimension, 0) if isinstance(where, exp.Where) else None
    return p.Plan(catalogue.table, group_by, tuple(output), pred)


def validate(sql: str, catalogue: p.Catalogue) -> p.Plan:
    """Ad-hoc SQL → plan, or QueryRejected with the reason."""
    return to_plan(parse_one(sql), catalogue)


def bind(sql: str, params: Mapping[str, p.Value], catalogue: p.Catalogue) -> p.Plan:
    """A template with its (already type-checked) parameters → plan: each ``:name`` placeholder
    node is replaced by a literal node, then the tree is validated like ad-hoc SQL."""
    tree = parse_one(sql)
    missing: list[str] = []

    def substitute(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder):
            name = str(node.this or "")
            if name not in params:
                missing.append(name or "?")
                return node
            value = params[name]
            if isinstance(value, int):
                return (
                    exp.Literal.number(value)
                    if value >= 0
                    else exp.Neg(this=exp.Literal.number(-value))
                )
            return exp.Literal.string(value)
        return node

    bound = tree.transform(substitute)
    if missing:
        raise reject("parameter", f"{missing[0]} has no value")
    assert isinstance(bound, exp.Select)
    return to_plan(bound, catalogue)
