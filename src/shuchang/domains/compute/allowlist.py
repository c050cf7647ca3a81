"""The allow-list over every node of a parsed query, and what a refused node means."""

from __future__ import annotations

from sqlglot import exp
from sqlglot.errors import SqlglotError

from shuchang.domains.compute.errors import QueryRejected
from shuchang.domains.compute.reasons import reject

MAX_NODES = 3_000

ALLOWED: tuple[type[exp.Expression], ...] = (
    exp.Select, exp.From, exp.Table, exp.TableAlias, exp.Identifier, exp.Column, exp.Where,
    exp.Group, exp.Count, exp.Star, exp.Sum, exp.Avg, exp.Alias, exp.EQ, exp.NEQ, exp.GT,
    exp.GTE, exp.LT, exp.LTE, exp.In, exp.Between, exp.And, exp.Or, exp.Not, exp.Paren,
    exp.Literal, exp.Neg,
)  # fmt: skip
# What a refused node means, checked in order (the first match names the reason).
CATEGORIES: tuple[tuple[tuple[type[exp.Expression], ...], str], ...] = (
    ((exp.With, exp.CTE), "cte"),
    ((exp.SetOperation,), "set_operation"),
    ((exp.Subquery, exp.Exists, exp.Select), "subquery"),
    ((exp.Join, exp.Lateral), "join"),
    ((exp.Window, exp.WindowSpec, exp.Qualify), "window"),
    ((exp.Min, exp.Max, exp.ArgMax, exp.ArgMin), "min_max"),
    ((exp.Quantile, exp.Median, exp.PercentileCont, exp.PercentileDisc, exp.ApproxQuantile),
     "percentile"),
    ((exp.Case, exp.If), "case"),
    ((exp.Cast, exp.TryCast), "cast"),
    ((exp.Distinct,), "distinct"),
    ((exp.Having,), "having"),
    ((exp.Order, exp.Ordered), "order_by"),
    ((exp.Limit, exp.Offset, exp.Fetch), "limit"),
    ((exp.TableSample,), "sample"),
    ((exp.Is, exp.Null), "null_test"),
    ((exp.Like, exp.ILike, exp.RegexpLike, exp.SimilarTo, exp.Glob), "pattern"),
    ((exp.Filter,), "filter"),
    ((exp.Placeholder, exp.Parameter), "unbound_parameter"),
    ((exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv, exp.Pow, exp.DPipe,
      exp.BitwiseAnd, exp.BitwiseOr, exp.BitwiseXor, exp.BitwiseLeftShift,
      exp.BitwiseRightShift, exp.BitwiseNot), "arithmetic"),
)  # fmt: skip


def check_nodes(tree: exp.Expression) -> None:
    """Refuse the first node that is not on the allow-list, naming what it is."""
    for count, node in enumerate(tree.walk()):
        if count > MAX_NODES:
            raise reject("too_complex", n=MAX_NODES)
        if node is not tree and isinstance(node, exp.Select):
            raise reject("subquery", fragment=node.sql())
        if isinstance(node, ALLOWED):
            continue
        assert isinstance(node, exp.Expression)
        raise refusal(node)


def refusal(node: exp.Expression) -> QueryRejected:
    for classes, reason in CATEGORIES:
        if isinstance(node, classes):
            return reject(reason, fragment=fragment(node))
    if isinstance(node, exp.Func):
        inside_from = node.find_ancestor(exp.From) is not None
        name = node.sql_name() if not isinstance(node, exp.Anonymous) else str(node.this)
        if inside_from:
            return reject("table_function", fragment=fragment(node))
        return reject("function", name.upper(), fragment=fragment(node))
    return reject("unsupported", type(node).__name__, fragment=fragment(node))


def fragment(node: exp.Expression) -> str:
    try:
        return node.sql(dialect="duckdb")[:200]
    except (SqlglotError, ValueError, TypeError):
        return type(node).__name__
