"""Structural validation of ODRL 2.2 policies in the JSON-LD shape of DSP 2025-1.

The shape follows ``negotiation/contract-schema.json`` of DSP 2025-1 (Offer / Agreement,
permission / prohibition / obligation, rules with ``action``, ``constraint`` and ``duty``,
atomic constraints ``leftOperand`` / ``operator`` / ``rightOperand``, logical constraints
``and`` / ``or`` / ``xone`` / ``andSequence``). On top of the schema this checks the subset
Shuchang evaluates: known actions and left operands, the operators each operand admits, and
right operands of the right form (DSP allows only strings, objects and arrays as right
operands, so numbers are decimal strings). Every fault names its JSON path.

Left operands (documented for providers in docs/api.*.md):

=================  =======================================  ==============================
operand            meaning                                  right operand
=================  =======================================  ==============================
purpose            purpose of use (一场景一授权)             string or list of strings
dateTime           validity window                          ISO 8601 date-time with zone
elapsedTime        time since the agreement                 ISO 8601 duration (P30D)
count              number of uses                           decimal string ("1000")
spatial            region of use (行政区划代码)               6-digit code / IRI, or list
recipientKind      consumer's participant kind              kind or list
recipientStatus    consumer's verification status           status or list
recipientRegion    consumer's region code                   6-digit code or list
recipientRole      consumer's role                          role or list
fields             columns the consumer may receive         list of field names
payAmount          (in a compensate duty) price in fen      decimal string
epsilon            privacy budget (隐私预算) per period      positive decimal ("1.0", "0.25")
epsilonPeriod      when the epsilon budget renews           P1D, P1W, P1M, P3M or P1Y
=================  =======================================  ==============================

``epsilon`` ``lteq`` B: the ε that differentially private computations under the agreement
spend in one budget period, this one included, is at most B. ``epsilonPeriod`` ``eq`` names
the period (a calendar day, ISO week, month, quarter or year in Asia/Shanghai); without it
the budget covers the agreement's whole term. The engine adds what only it can check
(``engine`` docstring): both sit directly in one permission, once per policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

ACTIONS = frozenset({"use", "read", "distribute", "aggregate", "compute", "derive"})
DUTY_ACTIONS = frozenset({"compensate", "inform", "delete", "attribute", "anonymize"})
POLICY_TYPES = frozenset({"Offer", "Agreement", "Set"})
LOGICAL = ("and", "or", "xone", "andSequence")
MAX_DEPTH = 8
MAX_ITEMS = 100

_SET = frozenset({"eq", "neq", "isAnyOf", "isNoneOf"})
_ORDER = frozenset({"eq", "gt", "gteq", "lt", "lteq"})
LEFT_OPERANDS: dict[str, frozenset[str]] = {
    "purpose": _SET | {"isA"},
    "dateTime": _ORDER,
    "elapsedTime": frozenset({"lt", "lteq"}),
    "count": frozenset({"lt", "lteq", "eq"}),
    "spatial": _SET | {"isPartOf"},
    "recipientKind": _SET,
    "recipientStatus": _SET,
    "recipientRegion": _SET | {"isPartOf"},
    "recipientRole": _SET,
    "fields": frozenset({"isAllOf", "isAnyOf", "isNoneOf"}),
    "payAmount": frozenset({"eq"}),
    "epsilon": frozenset({"lteq"}),
    "epsilonPeriod": frozenset({"eq"}),
}
EPSILON_PERIODS = ("P1D", "P1W", "P1M", "P3M", "P1Y")
_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")
_DECIMAL = re.compile(r"^(0|[1-9]\d{0,17})$")
_EPSILON = re.compile(r"^(0|[1-9]\d{0,5})(\.\d{1,6})?$")
_REGION = re.compile(r"^[1-8]\d{5}$")
_IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$")


@dataclass(frozen=True)
class PolicyFault:
    """One thing wrong with a policy, at ``path`` (e.g. ``permission[0].constraint[1]``)."""

    path: str
    message_en: str
    message_zh: str


class _Faults(list[PolicyFault]):
    def add(self, path: str, en: str, zh: str) -> None:
        self.append(PolicyFault(path, en, zh))


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _strings(value: Any) -> list[str] | None:
    """A string or a non-empty list of strings, as a list; None if neither."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    return None


def _is_datetime(value: str) -> bool:
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _right_operand_fault(left: str, operator: str, right: Any) -> tuple[str, str] | None:
    """(en, zh) if ``right`` is not a right operand of ``left``, else None."""
    if operator in ("isAnyOf", "isNoneOf", "isAllOf") and not isinstance(right, list):
        return f"operator {operator} needs a list", f"运算符 {operator} 需要列表"
    if left in ("epsilon", "epsilonPeriod"):
        return _budget_fault(left, right)
    return _value_fault(left, right)


def _budget_fault(left: str, right: Any) -> tuple[str, str] | None:
    if left == "epsilonPeriod":
        if right in EPSILON_PERIODS:
            return None
        allowed = ", ".join(EPSILON_PERIODS)
        return f"must be one of {allowed}", f"须为以下之一：{allowed}"
    if isinstance(right, str) and _EPSILON.match(right) and float(right) > 0:
        return None
    return (
        "must be a positive decimal string such as 1.0 (at most 6 decimals)",
        "须为以字符串表示的正小数，如 1.0（至多 6 位小数）",
    )


def _value_fault(left: str, right: Any) -> tuple[str, str] | None:
    values = _strings(right)
    if left == "dateTime":
        if not (isinstance(right, str) and _is_datetime(right)):
            return "must be an ISO 8601 date-time with a zone", "须为带时区的 ISO 8601 时间"
    elif left == "elapsedTime":
        if not (isinstance(right, str) and _DURATION.match(right)):
            return "must be an ISO 8601 duration such as P30D", "须为 ISO 8601 时长，如 P30D"
    elif left in ("count", "payAmount"):
        if not (isinstance(right, str) and _DECIMAL.match(right)):
            return "must be a non-negative integer as a string", "须为以字符串表示的非负整数"
    elif left in ("spatial", "recipientRegion"):
        # Region codes (GB/T 2260), or IRIs as other data spaces write regions (DSP examples).
        if values is None or not all(_REGION.match(v) or _IRI.match(v) for v in values):
            return "must be 6-digit region codes or IRIs", "须为 6 位行政区划代码或 IRI"
    elif left == "fields":
        if not isinstance(right, list) or values is None:
            return "must be a non-empty list of field names", "须为非空的字段名列表"
    elif values is None:
        return "must be a string or a list of strings", "须为字符串或字符串列表"
    return None


def _atomic(c: dict[str, Any], path: str, faults: _Faults) -> None:
    left, operator = c.get("leftOperand"), c.get("operator")
    if left not in LEFT_OPERANDS:
        faults.add(
            _join(path, "leftOperand"), f"unknown left operand {left!r}", f"未知的约束条件 {left!r}"
        )
        return
    if operator not in LEFT_OPERANDS[left]:
        allowed = ", ".join(sorted(LEFT_OPERANDS[left]))
        faults.add(
            _join(path, "operator"),
            f"operator {operator!r} does not apply to {left} (use {allowed})",
            f"约束条件 {left} 不支持运算符 {operator!r}（可用：{allowed}）",
        )
        return
    if "rightOperand" not in c:
        faults.add(_join(path, "rightOperand"), "rightOperand is missing", "缺少 rightOperand")
        return
    fault = _right_operand_fault(left, operator, c["rightOperand"])
    if fault:
        faults.add(_join(path, "rightOperand"), f"{left}: {fault[0]}", f"{left}：{fault[1]}")


def _constraint(c: Any, path: str, faults: _Faults, depth: int) -> None:
    if not isinstance(c, dict):
        faults.add(path, "a constraint must be an object", "约束须为对象")
        return
    logical = [k for k in LOGICAL if k in c]
    if len(logical) > 1 or (logical and "leftOperand" in c):
        faults.add(
            path,
            "a constraint is either atomic or one logical operator",
            "约束只能是原子约束或一个逻辑运算",
        )
        return
    if not logical:
        _atomic(c, path, faults)
        return
    if depth >= MAX_DEPTH:
        faults.add(
            path, f"constraints nest deeper than {MAX_DEPTH}", f"约束嵌套超过 {MAX_DEPTH} 层"
        )
        return
    _constraint_list(c[logical[0]], _join(path, logical[0]), faults, depth + 1, minimum=2)


def _constraint_list(items: Any, path: str, faults: _Faults, depth: int, minimum: int = 0) -> None:
    if not isinstance(items, list) or not minimum <= len(items) <= MAX_ITEMS:
        faults.add(
            path,
            f"must be a list of {minimum}..{MAX_ITEMS} constraints",
            f"须为 {minimum} 至 {MAX_ITEMS} 个约束的列表",
        )
        return
    for i, item in enumerate(items):
        _constraint(item, _join(path, i), faults, depth)


def _rule(rule: Any, path: str, faults: _Faults, actions: frozenset[str]) -> None:
    if not isinstance(rule, dict):
        faults.add(path, "a rule must be an object", "规则须为对象")
        return
    action = rule.get("action")
    if action not in actions:
        faults.add(
            _join(path, "action"),
            f"action must be one of {', '.join(sorted(actions))}",
            f"动作须为以下之一：{'、'.join(sorted(actions))}",
        )
    if "constraint" in rule:
        _constraint_list(rule["constraint"], _join(path, "constraint"), faults, depth=0)
    if "duty" in rule:
        _rules(rule["duty"], _join(path, "duty"), faults, DUTY_ACTIONS)


def _rules(items: Any, path: str, faults: _Faults, actions: frozenset[str]) -> None:
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        faults.add(
            path,
            f"must be a list of at most {MAX_ITEMS} rules",
            f"须为至多 {MAX_ITEMS} 条规则的列表",
        )
        return
    for i, rule in enumerate(items):
        _rule(rule, _join(path, i), faults, actions)


def validate(policy: Any, *, expected_type: str | None = None) -> list[PolicyFault]:
    """Every structural fault of ``policy``; an empty list means it is well formed."""
    faults = _Faults()
    if not isinstance(policy, dict):
        faults.add("", "a policy must be a JSON object", "策略须为 JSON 对象")
        return faults
    kind = policy.get("@type")
    if kind not in POLICY_TYPES or (expected_type and kind != expected_type):
        wanted = expected_type or " / ".join(sorted(POLICY_TYPES))
        faults.add("@type", f"@type must be {wanted}", f"@type 须为 {wanted}")
    if not any(policy.get(k) for k in ("permission", "prohibition")):
        faults.add(
            "permission",
            "a policy needs a permission or a prohibition",
            "策略至少要有一条许可或禁止",
        )
    if "target" in policy and kind == "Offer":
        faults.add("target", "an offer in a catalog carries no target", "目录中的要约不应带 target")
    for key, actions in (
        ("permission", ACTIONS),
        ("prohibition", ACTIONS),
        ("obligation", DUTY_ACTIONS),
    ):
        if key in policy:
            _rules(policy[key], key, faults, actions)
    return list(faults)
