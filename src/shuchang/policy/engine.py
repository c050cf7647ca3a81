"""Policy decision point (使用控制决策点): compiled ODRL 2.2 policies decide data requests.

``compile_policy`` validates a policy (``odrl.validate`` plus the checks below) and turns each
rule and constraint into small objects holding closures, so ``decide`` parses nothing:
right operands are parsed once (date-times, durations, counts, region prefixes, value sets).
``compiled`` keeps the last ``CACHE_SIZE`` compiled policies keyed by the SHA-256 of their
canonical JSON, so equal policies share one compiled object. A caller that decides many
requests on one agreement keeps the ``CompiledPolicy`` and skips even that hash.

Decision (``decide(policy, action, context)``), as in ODRL 2.2 and Eclipse EDC:

* **Actions.** ``use`` includes ``read``, ``aggregate``, ``compute``, ``derive`` and
  ``distribute`` (ODRL ``includedIn``; ``compute`` is Shuchang's 可用不可见 run). Nothing else
  includes anything: ``read`` does not grant ``distribute`` and ``derive`` does not grant
  ``read``. A permission for A covers a request for B when A is B or an ancestor of B. A
  prohibition for A applies to a request for B when either includes the other: prohibiting
  ``read`` also stops a request for all of ``use``. An unknown action is simply not permitted.
* **Rules.** Permitted iff no prohibition covering the action applies (prohibitions win) and
  some covering permission has all its constraints satisfied and, when the context asks for
  prepayment, its compensate duties paid. The first such permission in document order decides
  ``allowed_fields``, ``remaining_uses`` and ``duties``. Constraints of one rule are a
  conjunction; ``andSequence`` is ``and`` evaluated in order, stopping at the first failure.
* **Unknown facts.** A constraint on a fact the request does not give (no purpose, region,
  recipient attribute or agreement time) is *unknown*, and logic is three-valued (Kleene).
  A permission needs every constraint known and satisfied; a prohibition applies unless one
  of its constraints is known to fail. Missing facts never grant access nor lift a ban.
* **Duties.** A permission's ``duty`` entries and the policy's ``obligation`` are what the
  enforcement point must do after a permit; they come back in ``Decision.duties``. The PDP
  cannot see inform/delete/attribute/anonymize done, so it never denies on them, and does not
  evaluate their other constraints (carried as ``Duty.terms``). ``compensate`` is checked only
  when ``context.require_prepaid``: then ``amount_paid_fen`` must reach the sum of payAmount of
  the permission's and the policy's compensate duties; otherwise billing settles it later.

Left operands (right operands as ``odrl`` documents them):

* ``purpose`` / ``spatial`` / ``recipientKind|Status|Region|Role`` against ``context.purpose``,
  ``context.region`` and the recipient: ``eq``/``neq`` one value, ``isAnyOf``/``isNoneOf`` a list.
  ``isA`` (purpose): equal or narrower, written as a path (``信贷/小微`` isA ``信贷``).
  ``isPartOf`` (regions, GB/T 2260 codes): a code is part of itself, of its city (first 4
  digits + ``00``) and of its province (first 2 + ``0000``): 330302 isPartOf 330300 and
  330000. IRIs are only part of themselves. A list means part of any of them.
* ``dateTime``: ``now`` against the instant, all five comparisons.
* ``elapsedTime`` ``lt``/``lteq``: ``now`` against ``agreed_at`` + duration. Years and months
  are calendar units in ``agreed_at``'s own offset, clamped to the month end (31 Jan + P1M =
  28/29 Feb, as java.time and dateutil do); weeks, days, hours, minutes, seconds are exact
  (a day is 24 h; Asia/Shanghai has no DST). A deadline past year 9999 never expires.
* ``count`` ``lt``/``lteq``/``eq`` N: this request is use number ``uses + 1``. ``remaining_uses``
  is how many more the tightest count constraint allows after this one.
* ``epsilon`` ``lteq`` B (隐私预算): ``context.epsilon_spent`` (what differentially private
  computations already spent in the budget's current period) plus ``context.epsilon`` (what
  this one would spend) is at most B; either fact missing is unknown, so a request that does
  not state its ε is never permitted by a budgeted rule. ``epsilonPeriod`` qualifies the
  budget (``CompiledPolicy.privacy_budget`` tells the caller which period's spending to
  give) and always holds. Amounts are ``Decimal``, compared exactly.
* ``fields`` is set-valued: ``isAnyOf`` and ``isAllOf`` both list columns, ``isNoneOf`` excludes
  columns. In a permission every requested field must pass (requested ⊆ allowed) and an
  empty request means "what the agreement allows" (``allowed_fields``/``excluded_fields``
  tell the data plane what to project). In a prohibition one requested field suffices
  (requested ∩ listed ≠ ∅), and an empty request is unknown: it could touch anything.

Checks beyond ``odrl.validate`` (a policy Shuchang cannot read exactly does not compile):
``eq``/``neq`` take one value (a longer list is ``isAnyOf``); ``payAmount`` only as an atomic
constraint of a ``compensate`` duty, once; duty constraints atomic; prohibitions carry no
duties (ODRL's remedy is not supported); ``epsilon`` and ``epsilonPeriod`` only as atomic
constraints directly in a permission (not inside ``or``/``xone``, duties or prohibitions),
one ``epsilon`` per policy and ``epsilonPeriod`` only beside it. Operands outside the table
(the DSP examples' ``partner``) are refused by validation: an engine that skipped
constraints it cannot read would grant more than the provider agreed to. ``target``,
``assigner`` and ``assignee`` are the enforcement point's lookups (which agreement, for
whom), not inputs of a decision.

Explanations: ``Decision.rules`` traces each covering rule and every constraint with its path
(``permission[0].constraint[1].or[0]``) and a zh-CN and English reason; ``decision.explain()``
renders them. Traces are built on first access, from the same compiled objects and the
frozen context, so permitting decisions cost no string formatting.
"""

from __future__ import annotations

import calendar
import operator
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import MAXYEAR, datetime, timedelta
from decimal import Decimal
from functools import reduce
from operator import attrgetter
from types import MappingProxyType
from typing import Any, Literal

from shuchang.canonical import digest
from shuchang.errors import ValidationFailed
from shuchang.policy.odrl import ACTIONS, PolicyFault, validate

CACHE_SIZE = 1024
ACTION_PARENT = MappingProxyType({a: "use" for a in sorted(ACTIONS - {"use"})})
Language = Literal["zh-CN", "en"]
RuleKind = Literal["permission", "prohibition"]
Outcome = bool | None  # True satisfied, False not satisfied, None unknown (a fact is missing)


def lineage(action: str) -> tuple[str, ...]:
    """``action`` and every action that includes it: ``lineage("read") == ("read", "use")``."""
    chain = [action]
    while chain[-1] in ACTION_PARENT:
        chain.append(ACTION_PARENT[chain[-1]])
    return tuple(chain)


def action_includes(broader: str, action: str) -> bool:
    """Whether a permission for ``broader`` covers a request for ``action``."""
    return broader in lineage(action)


# --- inputs and outputs ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who receives the data (接收方): participant kind, status, region code and role."""

    kind: str | None = None
    status: str | None = None
    region: str | None = None
    role: str | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """The facts of one request (请求上下文). ``None`` means the request does not say."""

    now: datetime
    purpose: str | None = None
    region: str | None = None  # where the use happens (使用地), a GB/T 2260 code or IRI
    recipient: Recipient = Recipient()
    fields: tuple[str, ...] = ()  # columns requested; () = whatever the agreement allows
    uses: int = 0  # earlier uses of this agreement and action; this request is uses + 1
    agreed_at: datetime | None = None
    amount_paid_fen: int | None = None
    require_prepaid: bool = False  # compensate duties must be paid before this use
    epsilon: Decimal | None = None  # privacy loss this computation would spend (ε)
    epsilon_spent: Decimal | None = None  # ε already spent in the budget's current period

    def __post_init__(self) -> None:
        for name in ("now", "agreed_at"):
            moment = getattr(self, name)
            if moment is not None and moment.utcoffset() is None:
                raise ValueError(f"Context.{name} must be timezone-aware")
        if self.uses < 0 or (self.amount_paid_fen or 0) < 0:
            raise ValueError("Context.uses and amount_paid_fen cannot be negative")
        if (self.epsilon or 0) < 0 or (self.epsilon_spent or 0) < 0:
            raise ValueError("Context.epsilon and epsilon_spent cannot be negative")
        if not isinstance(self.fields, tuple):
            raise TypeError("Context.fields must be a tuple of field names")


@dataclass(frozen=True, slots=True)
class Term:
    """An atomic constraint as written: ``Term("elapsedTime", "lteq", "P30D")``."""

    left_operand: str
    operator: str
    right_operand: str | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Duty:
    """Something the consumer must do (义务), e.g. compensate with ``pay_amount_fen``."""

    action: str
    path: str
    pay_amount_fen: int | None = None
    terms: tuple[Term, ...] = ()


@dataclass(frozen=True, slots=True)
class ConstraintTrace:
    """One constraint's outcome at ``path``; logical ones hold their operands' traces."""

    path: str
    operator: str
    satisfied: Outcome
    reason_zh: str
    reason_en: str
    left_operand: str | None = None
    right_operand: str | tuple[str, ...] | None = None
    children: tuple[ConstraintTrace, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleTrace:
    """One rule covering the action: its constraints' outcome and its effect on the decision."""

    path: str
    kind: RuleKind
    action: str
    satisfied: Outcome
    effect: Literal["permits", "denies", "none"]
    decisive: bool
    reason_zh: str
    reason_en: str
    constraints: tuple[ConstraintTrace, ...] = ()


class PolicyInvalid(ValidationFailed):
    """The policy does not compile; ``faults`` name every problem with its JSON path."""

    def __init__(self, faults: Sequence[PolicyFault]) -> None:
        self.faults = tuple(faults)
        first = self.faults[0]
        super().__init__(
            f"Invalid policy at {first.path or '(root)'}: {first.message_en}",
            f"策略无效（{first.path or '根'}）：{first.message_zh}",
            code="policy.invalid",
            field=f"policy.{first.path}" if first.path else "policy",
            extra={"faults": [_fault_body(f) for f in self.faults]},
        )


def _fault_body(fault: PolicyFault) -> dict[str, str]:
    return {"path": fault.path, "message_en": fault.message_en, "message_zh": fault.message_zh}


# --- words --------------------------------------------------------------------------------------

_LABELS: dict[str, tuple[str, str]] = {
    "purpose": ("用途", "purpose"),
    "dateTime": ("时间", "date-time"),
    "elapsedTime": ("时长", "elapsed time"),
    "count": ("次数", "use count"),
    "spatial": ("使用地", "region of use"),
    "recipientKind": ("接收方类型", "recipient kind"),
    "recipientStatus": ("接收方状态", "recipient status"),
    "recipientRegion": ("接收方地区", "recipient region"),
    "recipientRole": ("接收方角色", "recipient role"),
    "fields": ("字段", "fields"),
    "epsilon": ("隐私预算", "privacy budget"),
    "epsilonPeriod": ("预算周期", "budget period"),
}
_MISSING = {
    "elapsedTime": ("合约签订时间", "agreement time"),
    "fields": ("字段清单", "field list"),
    "epsilon": ("本次与本期已用的 ε", "the ε asked and spent"),
}
_NAMES_ZH = {
    "use": "使用",
    "read": "读取",
    "aggregate": "聚合",
    "compute": "计算",
    "derive": "衍生",
    "distribute": "分发",
    "compensate": "支付",
    "inform": "告知",
    "delete": "删除",
    "attribute": "署名",
    "anonymize": "匿名化",
    "permission": "许可",
    "prohibition": "禁止",
    "and": "且",
    "or": "或",
    "xone": "仅一",
    "andSequence": "依次且",
}
_EXPECT: dict[str, tuple[str, str]] = {  # operator -> what the agreement says, {v} its values
    "eq": ("{v}", "{v}"),
    "neq": ("不为{v}", "not {v}"),
    "isAnyOf": ("{v}之一", "one of {v}"),
    "isNoneOf": ("不为{v}中任一", "none of {v}"),
    "isA": ("{v}或其细分用途", "{v} or narrower"),
    "isPartOf": ("{v}及其下辖地区", "within {v}"),
}
_EXPECT_BY_OPERAND: dict[tuple[str, str], tuple[str, str]] = {
    ("dateTime", "eq"): ("恰为 {v}", "exactly {v}"),
    ("dateTime", "gt"): ("晚于 {v}", "after {v}"),
    ("dateTime", "gteq"): ("不早于 {v}", "at or after {v}"),
    ("dateTime", "lt"): ("早于 {v}", "before {v}"),
    ("dateTime", "lteq"): ("不晚于 {v}", "at or before {v}"),
    ("elapsedTime", "lt"): ("少于 {v}", "less than {v}"),
    ("elapsedTime", "lteq"): ("不超过 {v}", "at most {v}"),
    ("count", "lt"): ("少于 {v} 次", "fewer than {v} uses"),
    ("count", "lteq"): ("不超过 {v} 次", "at most {v} uses"),
    ("count", "eq"): ("恰为第 {v} 次", "exactly use number {v}"),
    ("fields", "isAnyOf"): ("仅限{v}", "only {v}"),
    ("fields", "isAllOf"): ("仅限{v}", "only {v}"),
    ("fields", "isNoneOf"): ("不含{v}", "none of {v}"),
    ("epsilon", "lteq"): ("每期累计 ε 不超过 {v}", "at most ε {v} per period"),
    ("epsilonPeriod", "eq"): ("预算周期为 {v}", "a budget period of {v}"),
}
_EXPECT_BANNED_FIELDS = {"isNoneOf": ("涉及{v}以外的字段", "touching a field other than {v}")}


def _zh(values: Iterable[str]) -> str:
    return "、".join(f"“{v}”" for v in values)


def _en(values: Iterable[str]) -> str:
    return ", ".join(f'"{v}"' for v in values)


def _expectation(left: str, op: str, values: tuple[str, ...], some: bool) -> tuple[str, str]:
    zh, en = _EXPECT_BY_OPERAND.get((left, op)) or _EXPECT[op]
    if left == "fields" and some:
        zh, en = _EXPECT_BANNED_FIELDS.get(op, ("涉及{v}中任一", "touching any of {v}"))
    if left in ("fields", "purpose", "spatial") or left.startswith("recipient"):
        return zh.format(v=_zh(values)), en.format(v=_en(values))
    return zh.format(v=values[0]), en.format(v=values[0])


def _actual(left: str, c: Context, values: tuple[str, ...]) -> tuple[str, str]:
    if left == "dateTime":
        return f"当前时间 {c.now.isoformat()}", f"now is {c.now.isoformat()}"
    if left == "elapsedTime" and c.agreed_at is not None:
        since, gone = c.agreed_at.isoformat(), c.now - c.agreed_at
        return f"自签订（{since}）已过 {gone}", f"{gone} since the agreement ({since})"
    if left == "count":
        return f"本次为第 {c.uses + 1} 次使用", f"this is use number {c.uses + 1}"
    if left == "epsilon":
        spent, asked = c.epsilon_spent, c.epsilon
        return f"本期已用 ε {spent}，本次 ε {asked}", f"ε {spent} spent this period, {asked} asked"
    if left == "epsilonPeriod":
        return f"预算按 {values[0]} 计", f"the budget renews every {values[0]}"
    if left == "fields" and not c.fields:
        return "请求未列出字段（按约定字段交付）", "no fields named (the agreed columns apply)"
    if left == "fields":
        outside = [f for f in c.fields if f not in values]
        extra = (
            (f"（约定外：{_zh(outside)}）", f" (not listed: {_en(outside)})")
            if outside
            else ("", "")
        )
        return f"请求字段 {_zh(c.fields)}{extra[0]}", f"requested fields {_en(c.fields)}{extra[1]}"
    label_zh, label_en = _LABELS[left]
    value = _GETTERS[left](c)
    return f"请求{label_zh}“{value}”", f'requested {label_en} "{value}"'


def _atomic_reason(atom: _Atomic, c: Context, outcome: Outcome) -> tuple[str, str]:
    label_zh, label_en = _LABELS[atom.left]
    if outcome is None:
        miss_zh, miss_en = _MISSING.get(atom.left, (label_zh, label_en))
        return f"{label_zh}无法判断：请求未提供{miss_zh}", f"{label_en} unknown: no {miss_en} given"
    actual_zh, actual_en = _actual(atom.left, c, atom.values)
    expect_zh, expect_en = _expectation(atom.left, atom.operator, atom.values, atom.some)
    verdict_zh, verdict_en = ("符合", "satisfied") if outcome else ("不符", "mismatch")
    return (
        f"{label_zh}{verdict_zh}：{actual_zh}，合约约定{expect_zh}",
        f"{label_en} {verdict_en}: {actual_en}; agreed {expect_en}",
    )


def _logical_reason(op: str, outcomes: list[Outcome], stopped: bool) -> tuple[str, str]:
    hits, name_zh = outcomes.count(True), _NAMES_ZH[op]
    result = _COMBINE[op](outcomes)
    if stopped:
        zh, en = f"第 {len(outcomes)} 项不满足，其后不再评估", "stopped at the first failure"
    elif result is None:
        zh, en = "部分条件无法判断", "some operands cannot be decided"
    elif op == "or":
        zh, en = (f"满足 {hits} 项", f"{hits} hold") if result else ("均不满足", "none holds")
    elif op == "xone":
        zh, en = (
            ("恰好满足一项", "exactly one holds")
            if result
            else (f"满足 {hits} 项，须恰好一项", f"{hits} hold, exactly one must")
        )
    else:
        failed = outcomes.count(False)
        zh, en = ("全部满足", "all hold") if result else (f"{failed} 项不满足", f"{failed} fail")
    return f"{name_zh}：{zh}", f"{op}: {en}"


# --- three-valued logic --------------------------------------------------------------------------

Test = Callable[[Context], Outcome]


def _conj(outcomes: Sequence[Outcome]) -> Outcome:
    return False if False in outcomes else None if None in outcomes else True


def _disj(outcomes: Sequence[Outcome]) -> Outcome:
    return True if True in outcomes else None if None in outcomes else False


def _exactly_one(outcomes: Sequence[Outcome]) -> Outcome:
    hits = sum(1 for o in outcomes if o is True)
    return False if hits > 1 else None if None in outcomes else hits == 1


_COMBINE: dict[str, Callable[[Sequence[Outcome]], Outcome]] = {
    "and": _conj,
    "andSequence": _conj,
    "or": _disj,
    "xone": _exactly_one,
}


def _always(_: Context) -> Outcome:
    return True


def _all(tests: tuple[Test, ...]) -> Test:
    if not tests:
        return _always
    if len(tests) == 1:
        return tests[0]

    def test(c: Context) -> Outcome:
        result: Outcome = True
        for t in tests:
            outcome = t(c)
            if outcome is False:
                return False
            if outcome is None:
                result = None
        return result

    return test


def _any(tests: tuple[Test, ...]) -> Test:
    def test(c: Context) -> Outcome:
        result: Outcome = False
        for t in tests:
            outcome = t(c)
            if outcome is True:
                return True
            if outcome is None:
                result = None
        return result

    return test


def _one(tests: tuple[Test, ...]) -> Test:
    return lambda c: _exactly_one([t(c) for t in tests])


# --- what a permitting rule grants (count left, columns) -----------------------------------------


@dataclass(frozen=True, slots=True)
class _Grant:
    """Uses left and columns: ``allowed`` (None: any) or else everything but ``excluded``."""

    remaining: int | None = None
    allowed: tuple[str, ...] | None = None
    excluded: tuple[str, ...] = ()


_UNBOUNDED = _Grant()


def _both(a: _Grant, b: _Grant) -> _Grant:
    """What two constraints that must both hold allow: the intersection."""
    remaining = a.remaining if b.remaining is None else b.remaining
    if a.remaining is not None and b.remaining is not None:
        remaining = min(a.remaining, b.remaining)
    if a.allowed is None and b.allowed is None:
        return _Grant(
            remaining, None, (*a.excluded, *(f for f in b.excluded if f not in a.excluded))
        )
    if a.allowed is None:
        a, b = b, a
    assert a.allowed is not None
    if (others := b.allowed) is not None:
        return _Grant(remaining, tuple(f for f in a.allowed if f in others))
    return _Grant(remaining, tuple(f for f in a.allowed if f not in b.excluded))


def _either(a: _Grant, b: _Grant) -> _Grant:
    """What either of two satisfied alternatives allows: the union."""
    remaining = None
    if a.remaining is not None and b.remaining is not None:
        remaining = max(a.remaining, b.remaining)
    if a.allowed is not None and b.allowed is not None:
        return _Grant(remaining, (*a.allowed, *(f for f in b.allowed if f not in a.allowed)))
    if a.allowed is None and b.allowed is None:
        return _Grant(remaining, None, tuple(f for f in a.excluded if f in b.excluded))
    if a.allowed is None:
        a, b = b, a
    assert a.allowed is not None
    return _Grant(remaining, None, tuple(f for f in b.excluded if f not in a.allowed))


# --- compiled constraints -------------------------------------------------------------------------

_GETTERS: dict[str, Callable[[Context], str | None]] = {
    "purpose": attrgetter("purpose"),
    "spatial": attrgetter("region"),
    "recipientKind": attrgetter("recipient.kind"),
    "recipientStatus": attrgetter("recipient.status"),
    "recipientRegion": attrgetter("recipient.region"),
    "recipientRole": attrgetter("recipient.role"),
}
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "gt": operator.gt,
    "gteq": operator.ge,
    "lt": operator.lt,
    "lteq": operator.le,
}
_REGION_CODE = re.compile(r"[1-8]\d{5}")
_DURATION = re.compile(
    r"P(?:(?P<Y>\d+)Y)?(?:(?P<M>\d+)M)?(?:(?P<W>\d+)W)?(?:(?P<D>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?"
)
GrantOf = Callable[[Context], _Grant]


def _unbounded(_: Context) -> _Grant:
    return _UNBOUNDED


class _Atomic:
    __slots__ = ("bounded", "grant", "left", "operator", "path", "some", "test", "values")

    def __init__(self, path: str, left: str, op: str, values: tuple[str, ...], some: bool) -> None:
        self.path, self.left, self.operator, self.values, self.some = path, left, op, values, some
        self.test, grant = _BUILDERS.get(left, _inert)(left, op, values, some)
        self.bounded: bool = grant is not None
        self.grant: GrantOf = grant or _unbounded

    def trace(self, c: Context) -> ConstraintTrace:
        outcome = self.test(c)
        zh, en = _atomic_reason(self, c, outcome)
        right = self.values[0] if len(self.values) == 1 else self.values
        return ConstraintTrace(self.path, self.operator, outcome, zh, en, self.left, right)


class _Logical:
    __slots__ = ("bounded", "children", "operator", "path", "test")

    def __init__(self, path: str, op: str, children: tuple[_Node, ...]) -> None:
        self.path, self.operator, self.children = path, op, children
        tests = tuple(child.test for child in children)
        self.test: Test = (
            _any(tests) if op == "or" else _one(tests) if op == "xone" else _all(tests)
        )
        self.bounded: bool = any(child.bounded for child in children)

    def grant(self, c: Context) -> _Grant:
        if self.operator in ("and", "andSequence"):
            return reduce(_both, (ch.grant(c) for ch in self.children if ch.bounded), _UNBOUNDED)
        held = [ch.grant(c) for ch in self.children if ch.test(c) is True]
        return reduce(_either, held)  # or: the widest alternative; xone: the one that holds

    def trace(self, c: Context) -> ConstraintTrace:
        children: list[ConstraintTrace] = []
        for child in self.children:
            children.append(child.trace(c))
            if self.operator == "andSequence" and children[-1].satisfied is False:
                break
        outcomes = [t.satisfied for t in children]
        stopped = len(children) < len(self.children)
        zh, en = _logical_reason(self.operator, outcomes, stopped)
        return ConstraintTrace(
            self.path,
            self.operator,
            _COMBINE[self.operator](outcomes),
            zh,
            en,
            children=tuple(children),
        )


_Node = _Atomic | _Logical


def _region_prefix(code: str) -> str | None:
    """Codes inside ``code`` start with this (GB/T 2260): province 33, city 3303; else None."""
    if not _REGION_CODE.fullmatch(code):
        return None
    return code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else None


def _member(left: str, op: str, values: tuple[str, ...], some: bool) -> tuple[Test, None]:
    get, exact = _GETTERS[left], frozenset(values)
    prefixes: tuple[str, ...] = ()
    if op == "isA":
        prefixes = tuple(v + "/" for v in values)
    elif op == "isPartOf":
        prefixes = tuple(p for v in values if (p := _region_prefix(v)))
    codes = op == "isPartOf"

    def inside(c: Context) -> Outcome:
        x = get(c)
        if x is None:
            return None
        return x in exact or (
            x.startswith(prefixes) and (not codes or bool(_REGION_CODE.fullmatch(x)))
        )

    def member(c: Context) -> Outcome:
        x = get(c)
        return None if x is None else x in exact

    def outside(c: Context) -> Outcome:
        x = get(c)
        return None if x is None else x not in exact

    return (inside if prefixes else outside if op in ("neq", "isNoneOf") else member), None


def _date_time(left: str, op: str, values: tuple[str, ...], some: bool) -> tuple[Test, None]:
    bound, compare = datetime.fromisoformat(values[0]), _ORDER[op]
    return (lambda c: compare(c.now, bound)), None


def _parse_duration(text: str) -> tuple[int, timedelta | None]:
    """(calendar months, exact part); the exact part is None beyond what datetime can add."""
    match = _DURATION.fullmatch(text)
    if match is None:  # odrl.validate lets only durations through
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    n = {unit: int(value or 0) for unit, value in match.groupdict().items()}
    try:
        exact = timedelta(weeks=n["W"], days=n["D"], hours=n["h"], minutes=n["m"], seconds=n["s"])
    except OverflowError:
        return 0, None
    return n["Y"] * 12 + n["M"], exact


def _deadline(start: datetime, months: int, exact: timedelta) -> datetime | None:
    """``start`` plus the duration, months by the calendar; None past year 9999."""
    try:
        if months:
            year, month = divmod(start.month - 1 + months, 12)
            year += start.year
            last_day = calendar.monthrange(year, month + 1)[1] if year <= MAXYEAR else 0
            start = start.replace(year=year, month=month + 1, day=min(start.day, last_day))
        return start + exact
    except (OverflowError, ValueError):
        return None


def _elapsed(left: str, op: str, values: tuple[str, ...], some: bool) -> tuple[Test, None]:
    months, exact = _parse_duration(values[0])
    compare = _ORDER[op]

    def test(c: Context) -> Outcome:
        start = c.agreed_at
        if start is None:
            return None
        deadline = None if exact is None else _deadline(start, months, exact)
        return True if deadline is None else compare(c.now, deadline)

    return test, None


def _count(left: str, op: str, values: tuple[str, ...], some: bool) -> tuple[Test, GrantOf]:
    limit, compare = int(values[0]), _ORDER[op]
    last = limit - 1 if op == "lt" else limit  # the last use number this constraint allows
    return (lambda c: compare(c.uses + 1, limit)), (lambda c: _Grant(remaining=last - c.uses - 1))


def _fields(left: str, op: str, values: tuple[str, ...], some: bool) -> tuple[Test, GrantOf | None]:
    listed, columns = frozenset(values), tuple(dict.fromkeys(values))
    if some:  # a prohibition: one requested field suffices; an unnamed projection may touch any
        if op == "isNoneOf":
            return (lambda c: None if not c.fields else not listed.issuperset(c.fields)), None
        return (lambda c: None if not c.fields else not listed.isdisjoint(c.fields)), None
    if op == "isNoneOf":
        excluded = _Grant(excluded=columns)
        return (lambda c: listed.isdisjoint(c.fields)), (lambda c: excluded)
    allowed = _Grant(allowed=columns)
    return (lambda c: listed.issuperset(c.fields)), (lambda c: allowed)


def _epsilon(left: str, op: str, values: tuple[str, ...], some: bool) -> tuple[Test, None]:
    budget = Decimal(values[0])

    def test(c: Context) -> Outcome:
        if c.epsilon is None or c.epsilon_spent is None:
            return None
        return c.epsilon_spent + c.epsilon <= budget

    return test, None


def _inert(left: str, op: str, values: tuple[str, ...], some: bool) -> tuple[Test, None]:
    return _always, None  # payAmount outside a duty: refused at compile time, never evaluated


_BUILDERS: dict[str, Callable[[str, str, tuple[str, ...], bool], tuple[Test, GrantOf | None]]] = {
    **dict.fromkeys(_GETTERS, _member),
    "dateTime": _date_time,
    "elapsedTime": _elapsed,
    "count": _count,
    "fields": _fields,
    "epsilon": _epsilon,
    "epsilonPeriod": _inert,  # qualifies the epsilon budget; CompiledPolicy.privacy_budget
}


def _compile_constraint(
    c: dict[str, Any], path: str, some: bool, faults: list[PolicyFault]
) -> _Node:
    for op in ("and", "or", "xone", "andSequence"):
        if op in c:
            return _Logical(
                path,
                op,
                tuple(
                    _compile_constraint(item, f"{path}.{op}[{i}]", some, faults)
                    for i, item in enumerate(c[op])
                ),
            )
    left, op, right = c["leftOperand"], c["operator"], c["rightOperand"]
    values = (right,) if isinstance(right, str) else tuple(right)
    if op in ("eq", "neq") and len(values) != 1:
        use = "isAnyOf" if op == "eq" else "isNoneOf"
        faults.append(
            PolicyFault(
                f"{path}.rightOperand",
                f"{op} compares with one value; use {use} for a list",
                f"运算符 {op} 只比较一个值；列表请用 {use}",
            )
        )
    if left == "payAmount":
        faults.append(_pay_amount_fault(f"{path}.leftOperand"))
    return _Atomic(path, left, op, values, some)


def _pay_amount_fault(path: str) -> PolicyFault:
    return PolicyFault(
        path,
        "payAmount belongs in a compensate duty, once",
        "payAmount 只能在 compensate 义务中出现一次",
    )


def _compile_duty(duty: dict[str, Any], path: str, faults: list[PolicyFault]) -> Duty:
    pay, terms = None, []
    for i, c in enumerate(duty.get("constraint", [])):
        at = f"{path}.constraint[{i}]"
        if "leftOperand" not in c:
            faults.append(
                PolicyFault(at, "duty constraints must be atomic", "义务的约束须为原子约束")
            )
        elif c["leftOperand"] != "payAmount":
            right = c["rightOperand"]
            terms.append(
                Term(
                    c["leftOperand"],
                    c["operator"],
                    right if isinstance(right, str) else tuple(right),
                )
            )
        elif duty["action"] != "compensate" or pay is not None:
            faults.append(_pay_amount_fault(f"{at}.leftOperand"))
        else:
            pay = int(c["rightOperand"])
    return Duty(duty["action"], path, pay, tuple(terms))


# --- compiled rules and policies -----------------------------------------------------------------


class _Rule:
    __slots__ = ("action", "bounded", "duties", "kind", "nodes", "path", "prepay_fen", "test")

    def __init__(
        self,
        path: str,
        kind: RuleKind,
        action: str,
        nodes: tuple[_Node, ...],
        duties: tuple[Duty, ...],
    ) -> None:
        self.path, self.kind, self.action = path, kind, action
        self.nodes, self.duties = nodes, duties
        self.test = _all(tuple(node.test for node in nodes))
        self.bounded = tuple(node for node in nodes if node.bounded)
        self.prepay_fen = sum(d.pay_amount_fen or 0 for d in duties if d.action == "compensate")

    def grant(self, c: Context) -> _Grant:
        return reduce(_both, (node.grant(c) for node in self.bounded), _UNBOUNDED)

    def paid(self, c: Context) -> bool:
        return (
            not (c.require_prepaid and self.prepay_fen)
            or (c.amount_paid_fen or 0) >= self.prepay_fen
        )


def _compile_rule(
    rule: dict[str, Any],
    path: str,
    kind: RuleKind,
    obligations: tuple[Duty, ...],
    faults: list[PolicyFault],
) -> _Rule:
    some = kind == "prohibition"
    nodes = tuple(
        _compile_constraint(c, f"{path}.constraint[{i}]", some, faults)
        for i, c in enumerate(rule.get("constraint", []))
    )
    duties = tuple(
        _compile_duty(d, f"{path}.duty[{i}]", faults) for i, d in enumerate(rule.get("duty", []))
    )
    if duties and kind == "prohibition":
        faults.append(
            PolicyFault(
                f"{path}.duty",
                "a prohibition carries no duties (remedies are not supported)",
                "禁止规则不能带义务（不支持补救）",
            )
        )
    if kind == "prohibition":
        return _Rule(path, kind, rule["action"], nodes, ())
    return _Rule(path, kind, rule["action"], nodes, duties + obligations)


_NO_RULES: tuple[tuple[_Rule, ...], tuple[_Rule, ...]] = ((), ())


@dataclass(frozen=True, slots=True)
class PrivacyBudget:
    """The policy's ε budget (隐私预算): at most ``epsilon`` per ``period`` (None: the
    agreement's whole term), stated at ``path``."""

    epsilon: Decimal
    period: str | None
    path: str


_BUDGET_OPERANDS = ("epsilon", "epsilonPeriod")
_TOP_LEVEL = re.compile(r"permission\[\d+\]\.constraint\[\d+\]")


def _budget_constraints(node: Any, path: str) -> Iterable[tuple[str, dict[str, Any]]]:
    """Every epsilon/epsilonPeriod constraint anywhere in ``node``, with its path."""
    if isinstance(node, dict):
        if node.get("leftOperand") in _BUDGET_OPERANDS:
            yield path, node
        for key, value in node.items():
            yield from _budget_constraints(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _budget_constraints(item, f"{path}[{i}]")


def _privacy_budget(policy: dict[str, Any], faults: list[PolicyFault]) -> PrivacyBudget | None:
    found = list(_budget_constraints(policy, ""))
    for path, _ in found:
        if not _TOP_LEVEL.fullmatch(path):
            faults.append(
                PolicyFault(
                    path,
                    "epsilon and epsilonPeriod belong directly in a permission's constraints",
                    "epsilon 与 epsilonPeriod 只能直接写在许可规则的约束中",
                )
            )
    budgets = [(p, c) for p, c in found if c["leftOperand"] == "epsilon"]
    periods = [(p, c) for p, c in found if c["leftOperand"] == "epsilonPeriod"]
    if len(budgets) > 1 or len(periods) > 1:
        path = (budgets[1:] or periods[1:])[0][0]
        faults.append(
            PolicyFault(path, "one privacy budget per policy", "每个策略只能有一个隐私预算")
        )
    if periods and (not budgets or periods[0][0].split(".")[0] != budgets[0][0].split(".")[0]):
        faults.append(
            PolicyFault(
                periods[0][0],
                "epsilonPeriod needs an epsilon budget in the same permission",
                "epsilonPeriod 须与同一许可规则中的 epsilon 预算一起使用",
            )
        )
    if not budgets:
        return None
    period = str(periods[0][1]["rightOperand"]) if periods else None
    return PrivacyBudget(Decimal(str(budgets[0][1]["rightOperand"])), period, budgets[0][0])


class CompiledPolicy:
    """A policy ready to decide (已编译策略): rules indexed by the action they cover.

    ``digest`` is the SHA-256 of the policy's canonical JSON (what the agreement signs),
    ``type`` its ``@type``, ``uid`` its ``@id`` and ``privacy_budget`` its ε budget (or None).
    """

    __slots__ = ("_by_action", "digest", "privacy_budget", "type", "uid")

    def __init__(
        self,
        digest: str,
        type_: str,
        uid: str | None,
        permissions: tuple[_Rule, ...],
        prohibitions: tuple[_Rule, ...],
        *,
        privacy_budget: PrivacyBudget | None = None,
    ) -> None:
        self.digest, self.type, self.uid = digest, type_, uid
        self.privacy_budget = privacy_budget
        self._by_action = {
            action: (
                tuple(r for r in permissions if action_includes(r.action, action)),
                tuple(
                    r
                    for r in prohibitions
                    if action_includes(r.action, action) or action_includes(action, r.action)
                ),
            )
            for action in ACTIONS
        }

    def _rules_for(self, action: str) -> tuple[tuple[_Rule, ...], tuple[_Rule, ...]]:
        """(permissions covering ``action``, prohibitions overlapping it), in document order."""
        return self._by_action.get(action, _NO_RULES)

    def __repr__(self) -> str:
        return f"<CompiledPolicy {self.type} {self.uid or ''} {self.digest[:12]}>"


def compile_policy(policy: Any) -> CompiledPolicy:
    """Validate and compile ``policy``; raise ``PolicyInvalid`` with every fault's path."""
    return _compile(policy, None)


def _compile(policy: Any, key: str | None) -> CompiledPolicy:
    # An offer inside a negotiation message names its target (DSP contract-schema); only a
    # catalog's offers must not, and that is the catalog's check, not a decision's.
    faults = validate(
        {k: v for k, v in policy.items() if k != "target"} if isinstance(policy, dict) else policy
    )
    if faults:
        raise PolicyInvalid(faults)
    obligations = tuple(
        _compile_duty(d, f"obligation[{i}]", faults)
        for i, d in enumerate(policy.get("obligation", []))
    )
    permissions, prohibitions = (
        tuple(
            _compile_rule(r, f"{kind}[{i}]", kind, obligations, faults)
            for i, r in enumerate(policy.get(kind, []))
        )
        for kind in ("permission", "prohibition")
    )
    budget = _privacy_budget(policy, faults)
    if key is None:
        try:
            key = digest(policy)
        except (TypeError, ValueError) as exc:
            faults.append(PolicyFault("", f"not canonical JSON: {exc}", f"不是规范 JSON：{exc}"))
    if faults or key is None:
        raise PolicyInvalid(faults)
    uid = policy.get("@id")
    return CompiledPolicy(
        key,
        policy["@type"],
        uid if isinstance(uid, str) else None,
        permissions,
        prohibitions,
        privacy_budget=budget,
    )


_cache: OrderedDict[str, CompiledPolicy] = OrderedDict()
_cache_lock = threading.Lock()


def compiled(policy: Any) -> CompiledPolicy:
    """The compiled form of ``policy`` from an LRU cache keyed by its canonical JSON digest."""
    try:
        key = digest(policy)
    except (TypeError, ValueError):
        return compile_policy(policy)  # raises PolicyInvalid naming what is wrong
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    fresh = _compile(policy, key)  # outside the lock: two threads may both compile; one wins
    with _cache_lock:
        winner = _cache.setdefault(key, fresh)
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return winner


# --- deciding ----------------------------------------------------------------------------------


def decide(policy: CompiledPolicy | dict[str, Any], action: str, context: Context) -> Decision:
    """Whether ``context`` may do ``action`` under ``policy`` (a dict is compiled via the cache)."""
    cp = policy if isinstance(policy, CompiledPolicy) else compiled(policy)
    permissions, prohibitions = cp._rules_for(action)
    for rule in prohibitions:
        if rule.test(context) is not False:
            return Decision(False, action, decided_by=rule.path, policy=cp, context=context)
    for rule in permissions:
        if rule.test(context) is True and rule.paid(context):
            g = rule.grant(context) if rule.bounded else _UNBOUNDED
            return Decision(
                True,
                action,
                g.allowed,
                g.excluded,
                g.remaining,
                rule.duties,
                rule.path,
                cp,
                context,
            )
    return Decision(False, action, policy=cp, context=context)


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to one request (决策结果), with what the data plane must apply.

    ``allowed_fields`` (None: no column limit) and ``excluded_fields`` are the projection the
    data plane applies; ``remaining_uses`` (None: no count limit) is how many more uses the
    tightest count constraint allows after this one; ``duties`` are the deciding permission's
    and the policy's obligations; ``decided_by`` is the path of the deciding rule (None when
    no permission held). ``rules`` and ``explain()`` give the reasons.
    """

    permitted: bool
    action: str
    allowed_fields: tuple[str, ...] | None = None
    excluded_fields: tuple[str, ...] = ()
    remaining_uses: int | None = None
    duties: tuple[Duty, ...] = ()
    decided_by: str | None = None
    policy: CompiledPolicy | None = field(default=None, repr=False)
    context: Context | None = field(default=None, repr=False)
    _rules: tuple[RuleTrace, ...] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def rules(self) -> tuple[RuleTrace, ...]:
        """Every rule covering the action, prohibitions first, with each constraint's outcome."""
        if self._rules is None:
            traces = () if self.policy is None or self.context is None else _trace(self)
            object.__setattr__(self, "_rules", traces)
        return self._rules  # type: ignore[return-value]

    def explain(self, language: Language = "zh-CN") -> str:
        """The decision and its reasons as text, in zh-CN or English."""
        if language not in ("zh-CN", "en"):
            raise ValueError(f"language must be zh-CN or en, not {language!r}")
        return _explain(self, language == "zh-CN")


# --- reasons -----------------------------------------------------------------------------------

_PROHIBITION_REASONS: dict[Outcome, tuple[str, str]] = {
    True: ("禁止条件成立", "the prohibition's conditions hold"),
    None: (
        "无法排除禁止（请求缺少信息），按禁止处理",
        "cannot be ruled out (facts missing), so it applies",
    ),
    False: ("禁止不适用", "the prohibition does not apply"),
}
_PERMISSION_REASONS: dict[Outcome, tuple[str, str]] = {
    True: ("许可条件全部满足", "all conditions of the permission hold"),
    None: ("许可条件无法确认（请求缺少信息）", "conditions cannot be confirmed (facts missing)"),
    False: ("许可条件未满足", "the permission's conditions are not met"),
}


def _trace_rule(rule: _Rule, c: Context, decided_by: str | None) -> RuleTrace:
    constraints = tuple(node.trace(c) for node in rule.nodes)
    outcome = _conj([t.satisfied for t in constraints])
    effect: Literal["permits", "denies", "none"]
    if rule.kind == "prohibition":
        effect = "none" if outcome is False else "denies"
        zh, en = _PROHIBITION_REASONS[outcome]
    else:
        effect = "permits" if outcome is True and rule.paid(c) else "none"
        zh, en = _PERMISSION_REASONS[outcome]
        if outcome is True and effect == "none":
            have = c.amount_paid_fen or 0
            zh = f"须预付 {rule.prepay_fen} 分，已付 {have} 分"
            en = f"{rule.prepay_fen} fen must be prepaid, {have} paid"
    if not constraints and effect != "none":
        zh, en = "无条件" + _NAMES_ZH[rule.kind], f"unconditional {rule.kind}"
    decisive = rule.path == decided_by
    return RuleTrace(
        rule.path, rule.kind, rule.action, outcome, effect, decisive, zh, en, constraints
    )


def _trace(d: Decision) -> tuple[RuleTrace, ...]:
    assert d.policy is not None and d.context is not None
    permissions, prohibitions = d.policy._rules_for(d.action)
    return tuple(
        _trace_rule(rule, d.context, d.decided_by) for rule in (*prohibitions, *permissions)
    )


def _duty_text(duty: Duty, zh: bool) -> str:
    terms = [
        f"{t.left_operand} {t.operator} "
        + (t.right_operand if isinstance(t.right_operand, str) else _en(t.right_operand))
        for t in duty.terms
    ]
    if duty.pay_amount_fen is not None:
        terms.insert(
            0, f"金额 {duty.pay_amount_fen} 分" if zh else f"pay {duty.pay_amount_fen} fen"
        )
    if zh:
        return f"{_NAMES_ZH[duty.action]}（{'，'.join([duty.action, *terms])}）[{duty.path}]"
    details = f" ({'; '.join(terms)})" if terms else ""
    return f"{duty.action}{details} [{duty.path}]"


def _constraint_lines(trace: ConstraintTrace, zh: bool, depth: int) -> list[str]:
    mark = {True: "✓", False: "✗", None: "?"}[trace.satisfied]
    lines = [f"{'  ' * depth}{mark} {trace.path}  {trace.reason_zh if zh else trace.reason_en}"]
    for child in trace.children:
        lines.extend(_constraint_lines(child, zh, depth + 1))
    return lines


def _grant_lines(d: Decision, zh: bool) -> list[str]:
    """What a permit lets the data plane do, one line each."""
    quote = _zh if zh else _en
    facts = [
        (
            "剩余可用次数",
            "remaining uses",
            "" if d.remaining_uses is None else str(d.remaining_uses),
        ),
        ("可用字段", "allowed fields", "" if d.allowed_fields is None else quote(d.allowed_fields)),
        ("排除字段", "excluded fields", quote(d.excluded_fields)),
        ("义务", "duties", ("；" if zh else "; ").join(_duty_text(duty, zh) for duty in d.duties)),
    ]
    return [
        f"{name_zh}：{value}" if zh else f"{name_en}: {value}"
        for name_zh, name_en, value in facts
        if value
    ]


def _explain(d: Decision, zh: bool) -> str:
    action = f"{_NAMES_ZH.get(d.action, d.action)}（{d.action}）" if zh else d.action
    if zh:
        by = f"，依据 {d.decided_by}" if d.decided_by else ""
        lines = [f"决定：{'允许' if d.permitted else '拒绝'} {action}{by}"]
    else:
        by = f" (decided by {d.decided_by})" if d.decided_by else ""
        lines = [f"Decision: {'permit' if d.permitted else 'deny'} {action}{by}"]
    if d.permitted:
        lines += _grant_lines(d, zh)
    elif not any(rule.kind == "permission" for rule in d.rules):
        lines.append(f"没有覆盖{action}的许可" if zh else f"no permission covers {action}")
    elif not d.decided_by:
        lines.append("没有满足条件的许可" if zh else "no permission's conditions hold")
    for rule in d.rules:
        if zh:
            head = f"{_NAMES_ZH[rule.kind]}（{_NAMES_ZH[rule.action]}）：{rule.reason_zh}"
        else:
            head = f"{rule.kind} ({rule.action}): {rule.reason_en}"
        lines.append(f"{'→' if rule.decisive else ' '} {rule.path}  {head}")
        for constraint in rule.constraints:
            lines.extend(_constraint_lines(constraint, zh, 2))
    return "\n".join(lines)
