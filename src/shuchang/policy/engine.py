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
* ``fields`` is set-valued: ``isAnyOf`` and ``isAllOf`` both list columns, ``isNoneOf`` excludes
  columns. In a permission every requested field must pass (requested ⊆ allowed) and an
  empty request means "what the agreement allows" (``allowed_fields``/``excluded_fields``
  tell the data plane what to project). In a prohibition one requested field suffices
  (requested ∩ listed ≠ ∅), and an empty request is unknown: it could touch anything.

Checks beyond ``odrl.validate`` (a policy Shuchang cannot read exactly does not compile):
``eq``/``neq`` take one value (a longer list is ``isAnyOf``); ``payAmount`` only as an atomic
constraint of a ``compensate`` duty, once; duty constraints atomic; prohibitions carry no
duties (ODRL's remedy is not supported). Operands outside the table (the DSP examples'
``partner``) are refused by validation: an engine that skipped constraints it cannot read
would grant more than the provider agreed to. ``target``, ``assigner`` and ``assignee`` are
the enforcement point's lookups (which agreement, for whom), not inputs of a decision.

Explanations: ``Decision.rules`` traces each covering rule and every constraint with its path
(``permission[0].constraint[1].or[0]``) and a zh-CN and English reason; ``decision.explain()``
renders them. Traces are built on first access, from the same compiled objects and the
frozen context, so permitting decisions cost no string formatting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Literal

from shuchang.errors import ValidationFailed
from shuchang.policy.odrl import ACTIONS, PolicyFault

CACHE_SIZE = 1024
ACTION_PARENT = MappingProxyType({a: "use" for a in sorted(ACTIONS - {"use"})})
Language = Literal["zh-CN", "en"]
RuleKind = Literal["permission", "prohibition", "duty", "obligation"]
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

    def __post_init__(self) -> None:
        for name in ("now", "agreed_at"):
            moment = getattr(self, name)
            if moment is not None and moment.utcoffset() is None:
                raise ValueError(f"Context.{name} must be timezone-aware")
        if self.uses < 0 or (self.amount_paid_fen or 0) < 0:
            raise ValueError("Context.uses and amount_paid_fen cannot be negative")
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
