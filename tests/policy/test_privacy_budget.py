"""The epsilon / epsilonPeriod operands: structure, faults with paths, decisions, reasons."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from policy_support import agreement, atom, context, rule

from shuchang.policy import PolicyInvalid, compile_policy, decide, validate

EPS = atom("epsilon", "lteq", "1")
MONTHLY = atom("epsilonPeriod", "eq", "P1M")
COUNT = atom("count", "lteq", "5")


def budgeted(*extra: dict[str, Any], action: str = "compute") -> dict[str, Any]:
    return agreement(rule(action, atom("epsilon", "lteq", "1.5"), *extra))


def test_the_budget_and_its_period_are_read_from_the_policy() -> None:
    policy = compile_policy(budgeted(atom("epsilonPeriod", "eq", "P1M")))
    assert policy.privacy_budget is not None
    assert policy.privacy_budget.epsilon == Decimal("1.5")
    assert policy.privacy_budget.period == "P1M"
    assert policy.privacy_budget.path == "permission[0].constraint[0]"
    assert compile_policy(budgeted()).privacy_budget.period is None  # type: ignore[union-attr]
    assert compile_policy(agreement(rule("use"))).privacy_budget is None


@pytest.mark.parametrize(
    ("right", "ok"),
    [("1.0", True), ("0.25", True), ("3", True), ("0", False), ("-1", False), ("1e3", False),
     ("0.1234567", False), (1.0, False), ("abc", False)],
)  # fmt: skip
def test_epsilon_right_operands(right: Any, ok: bool) -> None:
    faults = validate(agreement(rule("compute", atom("epsilon", "lteq", right))))
    assert (not faults) is ok
    if not ok:
        assert faults[0].path == "permission[0].constraint[0].rightOperand"


def test_the_period_qualifies_and_always_holds() -> None:
    decision = decide(
        budgeted(MONTHLY), "compute", context(epsilon=Decimal(1), epsilon_spent=Decimal(0))
    )
    assert [c.satisfied for c in decision.rules[0].constraints] == [True, True]
    assert "renews every P1M" in decision.explain("en")


def test_period_values_and_operators() -> None:
    assert validate(budgeted(atom("epsilonPeriod", "eq", "P2D")))[0].path.endswith("rightOperand")
    bad = validate(agreement(rule("compute", atom("epsilon", "gteq", "1.0"))))
    assert bad[0].path == "permission[0].constraint[0].operator"


@pytest.mark.parametrize(
    ("policy", "path"),
    [
        (
            agreement(rule("compute", {"or": [atom("epsilon", "lteq", "1"), COUNT]})),
            "permission[0].constraint[0].or[0]",
        ),
        (
            agreement(rule("use"), prohibitions=[rule("compute", atom("epsilon", "lteq", "1"))]),
            "prohibition[0].constraint[0]",
        ),
        (
            agreement(rule("compute", EPS), rule("aggregate", atom("epsilon", "lteq", "2"))),
            "permission[1].constraint[0]",
        ),
        (agreement(rule("compute", MONTHLY)), "permission[0].constraint[0]"),
        (agreement(rule("compute", EPS), rule("use", MONTHLY)), "permission[1].constraint[0]"),
    ],
)  # fmt: skip
def test_misplaced_budgets_do_not_compile(policy: dict[str, Any], path: str) -> None:
    with pytest.raises(PolicyInvalid) as info:
        compile_policy(policy)
    assert path in [f.path for f in info.value.faults]


def test_a_budgeted_rule_permits_only_within_the_budget_and_explains() -> None:
    policy = budgeted(atom("epsilonPeriod", "eq", "P1M"))
    ok = decide(policy, "compute", context(epsilon=Decimal("0.5"), epsilon_spent=Decimal("1.0")))
    assert ok.permitted
    over = decide(policy, "compute", context(epsilon=Decimal("0.5"), epsilon_spent=Decimal("1.01")))
    assert not over.permitted
    assert "隐私预算不符" in over.explain("zh-CN") and "1.01" in over.explain("zh-CN")
    assert "privacy budget mismatch" in over.explain("en")
    unstated = decide(policy, "compute", context())
    assert not unstated.permitted and "privacy budget unknown" in unstated.explain("en")


def test_a_read_without_epsilon_is_not_granted_by_a_budgeted_use_rule() -> None:
    policy = budgeted(action="use")
    assert not decide(policy, "read", context()).permitted


def test_negative_spending_is_not_a_context() -> None:
    with pytest.raises(ValueError, match="epsilon"):
        context(epsilon=Decimal("-0.1"))
