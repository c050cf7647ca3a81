"""WHERE clauses (筛选条件): only dimensions compared with constants of their public domain."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Literal

from sqlglot import exp

from shuchang.domains.compute import plan as p
from shuchang.domains.compute.allowlist import refusal
from shuchang.domains.compute.reasons import reject

MAX_DEPTH = 16
MAX_IN = 1_000
Resolve = Callable[[exp.Expression], p.DimensionSpec]
_OPS: dict[type[exp.Expression], p.CompareOp] = {
    exp.EQ: "=", exp.NEQ: "<>", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<=",
}  # fmt: skip
_FLIP: dict[p.CompareOp, p.CompareOp] = {
    "=": "=", "<>": "<>", ">": "<", ">=": "<=", "<": ">", "<=": ">=",
}  # fmt: skip


def constant(node: exp.Expression, dim: p.DimensionSpec) -> p.Value:
    """A literal of ``dim``'s type inside its domain, or refuse."""
    value: p.Value
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and node.this.is_int:
        value = -int(node.this.this)
    elif isinstance(node, exp.Literal) and node.is_string:
        value = str(node.this)
    elif isinstance(node, exp.Literal) and node.is_int:
        value = int(node.this)
    elif isinstance(node, exp.Literal):
        raise reject("literal_type", str(node.this)[:50])
    else:
        raise reject("column_comparison", fragment=node.sql(dialect="duckdb")[:200])
    if (dim.type == "integer") != isinstance(value, int):
        raise reject("literal_type", repr(value)[:50])
    if not dim.contains(value):
        raise reject("value_outside_domain", repr(value)[:50])
    return value


def _ordered(dim: p.DimensionSpec, op: str) -> None:
    if dim.type != "integer":
        raise reject("operator", f"{op} applies to integer dimensions only ({dim.name})")


def predicate(node: exp.Expression, resolve: Resolve, depth: int) -> p.Predicate:
    """The plan predicate for ``node`` (a WHERE clause or part of one)."""
    if depth > MAX_DEPTH:
        raise reject("too_deep", n=MAX_DEPTH)
    if isinstance(node, exp.Paren):
        return predicate(node.this, resolve, depth + 1)
    if isinstance(node, exp.And | exp.Or):
        return _logic(node, resolve, depth)
    if isinstance(node, exp.Not):
        inner = predicate(node.this, resolve, depth + 1)
        if isinstance(inner, p.Member | p.Range):
            return dataclasses.replace(inner, negated=not inner.negated)
        return p.Negation(inner)
    if isinstance(node, exp.In):
        return _member(node, resolve)
    if isinstance(node, exp.Between):
        return _range(node, resolve)
    if type(node) in _OPS:
        return _compare(node, resolve)
    raise refusal(node)


def _logic(node: exp.And | exp.Or, resolve: Resolve, depth: int) -> p.Logic:
    op: Literal["AND", "OR"] = "AND" if isinstance(node, exp.And) else "OR"
    items: list[p.Predicate] = []
    for side in (node.this, node.expression):
        item = predicate(side, resolve, depth + 1)
        items.extend(item.items if isinstance(item, p.Logic) and item.op == op else [item])
    return p.Logic(op, tuple(items))


def _member(node: exp.In, resolve: Resolve) -> p.Member:
    extra = [k for k, v in node.args.items() if v and k not in ("this", "expressions")]
    if extra:
        raise reject("subquery" if extra[0] == "query" else "unsupported", extra[0])
    dim = resolve(node.this)
    if not node.expressions or len(node.expressions) > MAX_IN:
        raise reject("in_list", n=MAX_IN)
    values = {constant(e, dim) for e in node.expressions}
    return p.Member(dim.name, tuple(sorted(values, key=_order)))


def _order(v: p.Value) -> tuple[int, str, int]:
    return (0, "", v) if isinstance(v, int) else (1, v, 0)


def _range(node: exp.Between, resolve: Resolve) -> p.Range:
    if node.args.get("symmetric"):
        raise reject("unsupported", "SYMMETRIC")
    dim = resolve(node.this)
    _ordered(dim, "BETWEEN")
    return p.Range(dim.name, constant(node.args["low"], dim), constant(node.args["high"], dim))


def _compare(node: exp.Expression, resolve: Resolve) -> p.Compare:
    op = _OPS[type(node)]
    left, right = node.this, node.expression
    if isinstance(left, exp.Column) and isinstance(right, exp.Column):
        raise reject("column_comparison", fragment=node.sql(dialect="duckdb")[:200])
    if not isinstance(left, exp.Column):
        left, right, op = right, left, _FLIP[op]
    dim = resolve(left)
    if op not in ("=", "<>"):
        _ordered(dim, op)
    return p.Compare(dim.name, op, constant(right, dim))
