"""Compute profiles (计算配置): checked against the product's source fields and turned into
the :class:`Catalogue` the validator reads.

The resource's field roles (catalog ``Field.role``) decide what a profile may declare: the
person column must have role ``identifier``, dimensions role ``dimension`` and measures role
``measure`` with a numeric type (integer, decimal, boolean). Domains must fit the column type
(strings for string and date columns, integers for integer columns, given as values or as a
``min``..``max`` range); clamps need ``lower <= upper``; templates must bind and validate with
their parameters' first allowed values.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from sqlglot import exp

from shuchang.domains.compute import plan as p
from shuchang.domains.compute import sqlcheck
from shuchang.domains.compute.errors import ProfileInvalid, QueryRejected
from shuchang.domains.compute.reasons import reject
from shuchang.domains.compute.schemas import Dimension, Param, ProfileIn, Template

NUMERIC = ("integer", "decimal", "boolean")
MAX_RANGE = 100_000


def _fault(field: str, en: str, zh: str) -> ProfileInvalid:
    return ProfileInvalid(en, zh, field=field)


def _role(fields: dict[str, dict[str, Any]], name: str, role: str, at: str) -> dict[str, Any]:
    spec = fields.get(name)
    if spec is None:
        raise _fault(at, f"the resource has no field {name}", f"资源中没有字段 {name}")
    if spec.get("role", "attribute") != role:
        raise _fault(
            at,
            f"field {name} has role {spec.get('role', 'attribute')}, not {role}",
            f"字段 {name} 的角色是 {spec.get('role', 'attribute')}，不是 {role}",
        )
    return spec


def _dimension(d: Dimension, spec: dict[str, Any], at: str) -> p.DimensionSpec:
    kind: Literal["string", "integer", "date"] = (
        "integer" if spec["type"] == "integer" else "date" if spec["type"] == "date" else "string"
    )
    if spec["type"] not in ("string", "integer", "date"):
        raise _fault(at, f"a {spec['type']} column cannot be a dimension", "该类型不能作维度")
    if d.values is not None and (d.min is not None or d.max is not None):
        raise _fault(at, "give values or min..max, not both", "值域请给出枚举值或范围之一")
    if d.values is not None:
        if not d.values or len(set(d.values)) != len(d.values):
            raise _fault(f"{at}.values", "values must be distinct", "枚举值不能为空或重复")
        if any(isinstance(v, int) != (kind == "integer") for v in d.values):
            raise _fault(f"{at}.values", f"values must fit type {kind}", f"枚举值须为 {kind}")
        return p.DimensionSpec(d.name, kind, values=tuple(d.values))
    if kind != "integer" or d.min is None or d.max is None or not 0 <= d.max - d.min < MAX_RANGE:
        raise _fault(
            at,
            f"a public domain is required: values, or min..max (integer, < {MAX_RANGE})",
            f"须声明公开值域：枚举值，或整数范围 min..max（少于 {MAX_RANGE} 个）",
        )
    return p.DimensionSpec(d.name, "integer", low=d.min, high=d.max)


def catalogue(profile: ProfileIn, fields: list[dict[str, Any]]) -> p.Catalogue:
    """The validator's view of ``profile`` over a resource with ``fields``; ProfileInvalid
    names the first wrong field path."""
    by_name = {f["name"]: f for f in fields}
    _role(by_name, profile.person, "identifier", "person")
    dims: dict[str, p.DimensionSpec] = {}
    for i, d in enumerate(profile.dimensions):
        at = f"dimensions[{i}]"
        if d.name in dims:
            raise _fault(at, f"{d.name} is declared twice", f"{d.name} 重复声明")
        dims[d.name] = _dimension(d, _role(by_name, d.name, "dimension", at), at)
    measures: dict[str, p.MeasureSpec] = {}
    for i, m in enumerate(profile.measures):
        at = f"measures[{i}]"
        spec = _role(by_name, m.name, "measure", at)
        if spec["type"] not in NUMERIC or m.name in measures:
            raise _fault(at, "a measure is a numeric column, once", "度量须为数值列且不重复")
        if not m.lower <= m.upper or max(abs(m.lower), abs(m.upper)) > 1e15:  # noqa: PLR2004
            raise _fault(at, "clamp bounds need lower <= upper, |bound| <= 1e15", "截断范围不合法")
        integer = spec["type"] != "decimal" and m.lower.is_integer() and m.upper.is_integer()
        measures[m.name] = p.MeasureSpec(m.name, m.lower, m.upper, integer)
    if profile.epsilon_default > profile.epsilon_max:
        raise _fault(
            "epsilon_default", "epsilon_default exceeds epsilon_max", "默认 ε 超过单次上限"
        )
    declared = {profile.person, *dims, *measures}
    others = frozenset(f["name"] for f in fields if f["name"] not in declared)
    cat = p.Catalogue(profile.table, profile.person, dims, measures, others, profile.max_cells)
    for i, t in enumerate(profile.templates):
        _check_template(t, cat, f"templates[{i}]")
    if len({t.name for t in profile.templates}) != len(profile.templates):
        raise _fault("templates", "template names must be distinct", "模板名称不能重复")
    return cat


def _placeholders(sql: str) -> Iterator[str]:
    for node in sqlcheck.parse_one(sql).find_all(exp.Placeholder):
        yield str(node.this or "")


def _check_template(t: Template, cat: p.Catalogue, at: str) -> None:
    try:
        used = set(_placeholders(t.sql))
        declared = {param.name for param in t.params}
        if used != declared:
            raise reject("parameter", f"placeholders {sorted(used)} ≠ declared {sorted(declared)}")
        sample = {param.name: _sample(param, cat) for param in t.params}
        sqlcheck.bind(t.sql, sample, cat)
    except QueryRejected as exc:
        raise _fault(f"{at}.sql", exc.message_en, exc.message_zh) from exc


def _sample(param: Param, cat: p.Catalogue) -> p.Value:
    for value in allowed_values(param, cat):
        return value
    raise reject("parameter", f"{param.name} allows no value")


def allowed_values(param: Param, cat: p.Catalogue) -> Iterator[p.Value]:
    """The values a parameter takes: its list, its dimension's domain, or min..max."""
    if param.values is not None:
        yield from param.values
    elif param.dimension is not None and param.dimension in cat.dimensions:
        yield from cat.dimensions[param.dimension].domain()
    elif param.min is not None and param.max is not None:
        yield from range(param.min, param.max + 1)


def check_param(param: Param, value: object, cat: p.Catalogue) -> p.Value:
    """A consumer's parameter value, checked against its declared type and domain."""
    if param.type == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            raise reject("parameter", f"{param.name} must be an integer")
    elif not isinstance(value, str):
        raise reject("parameter", f"{param.name} must be a string")
    if param.values is not None and value not in param.values:
        raise reject("parameter", f"{param.name}: {value!r} is not an allowed value")
    dim = cat.dimensions.get(param.dimension or "")
    if dim is not None and not dim.contains(value):
        raise reject("value_outside_domain", f"{param.name}={value!r}")
    low, high = param.min, param.max
    if isinstance(value, int) and (
        (low is not None and value < low) or (high is not None and value > high)
    ):
        raise reject("parameter", f"{param.name}: {value} is outside {low}..{high}")
    return value
