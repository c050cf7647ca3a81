"""The policy decision point: every operand and operator, logic, rules, duties, faults, cache."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from policy_support import CST, NOW, PURPOSE, agreement, atom, context, decide_one, outcome, rule

from shuchang import canonical
from shuchang.errors import ValidationFailed
from shuchang.policy import (
    ACTIONS,
    LEFT_OPERANDS,
    CompiledPolicy,
    Context,
    Duty,
    PolicyInvalid,
    Recipient,
    Term,
    action_includes,
    compile_policy,
    compiled,
    decide,
    engine,
    lineage,
)

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
DSP = FIXTURES / "dsp" / "2025-1" / "artifacts" / "src" / "main" / "resources"
T = NOW.isoformat()
SECOND = timedelta(seconds=1)
MIXED = timedelta(days=1, hours=2, minutes=30, seconds=15)
EU = "http://example.org/EU"

# (constraint, facts of the request, expected outcome: True / False / None = unknown)
OPERAND_CASES: list[tuple[dict[str, Any], dict[str, Any], bool | None]] = [
    (atom("purpose", "eq", PURPOSE), {}, True),
    (atom("purpose", "eq", PURPOSE), {"purpose": "营销"}, False),
    (atom("purpose", "eq", [PURPOSE]), {}, True),
    (atom("purpose", "eq", PURPOSE), {"purpose": None}, None),
    (atom("purpose", "neq", "营销"), {}, True),
    (atom("purpose", "neq", "营销"), {"purpose": "营销"}, False),
    (atom("purpose", "neq", "营销"), {"purpose": None}, None),
    (atom("purpose", "isAnyOf", ["营销", PURPOSE]), {}, True),
    (atom("purpose", "isAnyOf", ["营销", "征信"]), {}, False),
    (atom("purpose", "isNoneOf", ["营销", "征信"]), {}, True),
    (atom("purpose", "isNoneOf", ["营销", PURPOSE]), {}, False),
    (atom("purpose", "isA", "信贷"), {"purpose": "信贷"}, True),
    (atom("purpose", "isA", "信贷"), {"purpose": "信贷/小微企业"}, True),
    (atom("purpose", "isA", "信贷"), {"purpose": "信贷风险"}, False),
    (atom("purpose", "isA", ["营销", "信贷"]), {"purpose": "信贷/小微企业"}, True),
    (atom("dateTime", "gt", T), {"now": NOW}, False),
    (atom("dateTime", "gt", T), {"now": NOW + SECOND}, True),
    (atom("dateTime", "gteq", T), {"now": NOW}, True),
    (atom("dateTime", "gteq", T), {"now": NOW - SECOND}, False),
    (atom("dateTime", "lt", T), {"now": NOW}, False),
    (atom("dateTime", "lt", T), {"now": NOW - SECOND}, True),
    (atom("dateTime", "lteq", T), {"now": NOW}, True),
    (atom("dateTime", "lteq", T), {"now": NOW + SECOND}, False),
    (atom("dateTime", "eq", T), {"now": NOW.astimezone(UTC)}, True),
    (atom("dateTime", "eq", T), {"now": NOW + SECOND}, False),
    (atom("dateTime", "lteq", "2025-06-01T04:00Z"), {"now": NOW}, True),  # same instant
    (atom("elapsedTime", "lt", "P30D"), {"agreed_at": NOW - timedelta(days=30) + SECOND}, True),
    (atom("elapsedTime", "lt", "P30D"), {"agreed_at": NOW - timedelta(days=30)}, False),
    (atom("elapsedTime", "lteq", "P30D"), {"agreed_at": NOW - timedelta(days=30)}, True),
    (atom("elapsedTime", "lteq", "P30D"), {"agreed_at": NOW - timedelta(days=30) - SECOND}, False),
    (atom("elapsedTime", "lteq", "PT36H"), {"agreed_at": NOW - timedelta(hours=36)}, True),
    (atom("elapsedTime", "lteq", "P1W"), {"agreed_at": NOW - timedelta(days=7, seconds=1)}, False),
    (atom("elapsedTime", "lteq", "P1DT2H30M15S"), {"agreed_at": NOW - MIXED}, True),
    (atom("elapsedTime", "lteq", "P1DT2H30M15S"), {"agreed_at": NOW - MIXED - SECOND}, False),
    (atom("elapsedTime", "lt", "P30D"), {"agreed_at": None}, None),
    (atom("elapsedTime", "lteq", "P99999Y"), {}, True),
    (atom("elapsedTime", "lteq", "P99999999999999D"), {}, True),
    (atom("count", "lteq", "10"), {"uses": 9}, True),
    (atom("count", "lteq", "10"), {"uses": 10}, False),
    (atom("count", "lt", "10"), {"uses": 8}, True),
    (atom("count", "lt", "10"), {"uses": 9}, False),
    (atom("count", "eq", "3"), {"uses": 2}, True),
    (atom("count", "eq", "3"), {"uses": 1}, False),
    (atom("count", "eq", "3"), {"uses": 3}, False),
    (atom("count", "lteq", "0"), {"uses": 0}, False),
    (atom("spatial", "eq", "330302"), {}, True),
    (atom("spatial", "eq", "330303"), {}, False),
    (atom("spatial", "neq", "330303"), {}, True),
    (atom("spatial", "neq", "330302"), {}, False),
    (atom("spatial", "isAnyOf", ["330302", "330303"]), {}, True),
    (atom("spatial", "isAnyOf", ["330303", "330304"]), {}, False),
    (atom("spatial", "isNoneOf", ["330303", "330304"]), {}, True),
    (atom("spatial", "isNoneOf", ["330302"]), {}, False),
    (atom("spatial", "isPartOf", "330300"), {}, True),  # county in its city
    (atom("spatial", "isPartOf", "330000"), {}, True),  # county in its province
    (atom("spatial", "isPartOf", "330000"), {"region": "330300"}, True),  # city in province
    (atom("spatial", "isPartOf", "330302"), {}, True),  # a region is part of itself
    (atom("spatial", "isPartOf", "330300"), {"region": "330402"}, False),
    (atom("spatial", "isPartOf", "330300"), {"region": "330000"}, False),  # province not in city
    (atom("spatial", "isPartOf", "330302"), {"region": "330303"}, False),
    (atom("spatial", "isPartOf", ["110000", "330300"]), {"region": "110101"}, True),
    (atom("spatial", "isPartOf", "330300"), {"region": "3303ab"}, False),
    (atom("spatial", "isPartOf", EU), {"region": EU}, True),
    (atom("spatial", "isPartOf", EU), {"region": f"{EU}/DE"}, False),
    (atom("spatial", "eq", "330302"), {"region": None}, None),
    (atom("recipientKind", "eq", "enterprise"), {}, True),
    (atom("recipientKind", "eq", "government"), {}, False),
    (atom("recipientKind", "isNoneOf", ["individual"]), {}, True),
    (atom("recipientKind", "eq", "enterprise"), {"recipient": {"kind": None}}, None),
    (atom("recipientKind", "neq", "individual"), {}, True),
    (atom("recipientKind", "neq", "enterprise"), {}, False),
    (atom("recipientKind", "isAnyOf", ["enterprise", "public_institution"]), {}, True),
    (atom("recipientKind", "isAnyOf", ["government"]), {}, False),
    (atom("recipientKind", "isNoneOf", ["enterprise"]), {}, False),
    (atom("recipientStatus", "eq", "active"), {}, True),
    (atom("recipientStatus", "eq", "active"), {"recipient": {"status": "verified"}}, False),
    (atom("recipientStatus", "isNoneOf", ["suspended", "revoked"]), {}, True),
    (atom("recipientStatus", "isNoneOf", ["revoked"]), {"recipient": {"status": "revoked"}}, False),
    (atom("recipientStatus", "neq", "active"), {}, False),
    (atom("recipientStatus", "isAnyOf", ["active"]), {"recipient": {"status": None}}, None),
    (atom("recipientStatus", "isAnyOf", ["active", "verified"]), {}, True),
    (atom("recipientStatus", "isAnyOf", ["active"]), {"recipient": {"status": "suspended"}}, False),
    (atom("recipientStatus", "neq", "revoked"), {}, True),
    (atom("recipientRegion", "isPartOf", "330000"), {}, True),
    (atom("recipientRegion", "isPartOf", "340000"), {}, False),
    (atom("recipientRegion", "eq", "330302"), {"recipient": {"region": None}}, None),
    (atom("recipientRegion", "eq", "330302"), {}, True),
    (atom("recipientRegion", "neq", "330302"), {}, False),
    (atom("recipientRegion", "neq", "110101"), {}, True),
    (atom("recipientRegion", "isAnyOf", ["110101", "330302"]), {}, True),
    (atom("recipientRegion", "isAnyOf", ["110101"]), {}, False),
    (atom("recipientRegion", "isNoneOf", ["110101"]), {}, True),
    (atom("recipientRegion", "isNoneOf", ["330302"]), {}, False),
    (atom("recipientRole", "eq", "consumer"), {}, True),
    (atom("recipientRole", "neq", "consumer"), {}, False),
    (atom("recipientRole", "isAnyOf", ["consumer", "service_firm"]), {}, True),
    (atom("recipientRole", "isNoneOf", ["consumer"]), {}, False),
    (atom("fields", "isAnyOf", ["uscc", "name", "district"]), {"fields": ("uscc", "name")}, True),
    (atom("fields", "isAnyOf", ["uscc", "name"]), {"fields": ("uscc", "phone")}, False),
    (atom("fields", "isAnyOf", ["uscc", "name"]), {"fields": ()}, True),
    (atom("fields", "isAllOf", ["uscc", "name"]), {"fields": ("name",)}, True),
    (atom("fields", "isAllOf", ["uscc", "name"]), {"fields": ("name", "phone")}, False),
    (atom("fields", "isNoneOf", ["id_number"]), {"fields": ("uscc",)}, True),
    (atom("fields", "isNoneOf", ["id_number"]), {"fields": ("uscc", "id_number")}, False),
    (
        atom("epsilon", "lteq", "1"),
        {"epsilon": Decimal("0.5"), "epsilon_spent": Decimal(".5")},
        True,
    ),
    (
        atom("epsilon", "lteq", "1"),
        {"epsilon": Decimal("0.5"), "epsilon_spent": Decimal(".51")},
        False,
    ),
    (atom("epsilon", "lteq", "1"), {"epsilon": Decimal("0.5")}, None),
]


@pytest.mark.parametrize(("constraint", "facts", "expected"), OPERAND_CASES)
def test_each_operand_and_operator(
    constraint: dict[str, Any], facts: dict[str, Any], expected: bool | None
) -> None:
    assert outcome(constraint, **facts) is expected
    decision = decide_one(constraint, **facts)
    assert decision.permitted is (expected is True)
    assert decision.decided_by == ("permission[0]" if expected else None)


def test_every_operator_the_validator_admits_is_covered() -> None:
    covered = {(c["leftOperand"], c["operator"]) for c, _, _ in OPERAND_CASES}
    admitted = {(left, op) for left, ops in LEFT_OPERANDS.items() for op in ops}
    # payAmount only in a duty (below); epsilonPeriod only beside epsilon (test_privacy_budget)
    assert admitted - covered == {("payAmount", "eq"), ("epsilonPeriod", "eq")}


# --- calendar units of elapsedTime ------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "agreed", "last_moment"),
    [
        ("P1M", datetime(2025, 1, 31, tzinfo=CST), datetime(2025, 2, 28, tzinfo=CST)),
        ("P1M", datetime(2024, 1, 31, tzinfo=CST), datetime(2024, 2, 29, tzinfo=CST)),
        ("P1Y", datetime(2024, 2, 29, tzinfo=CST), datetime(2025, 2, 28, tzinfo=CST)),
        ("P1Y2M", datetime(2024, 11, 15, 9, tzinfo=CST), datetime(2026, 1, 15, 9, tzinfo=CST)),
        ("P1M1D", datetime(2025, 1, 31, tzinfo=CST), datetime(2025, 3, 1, tzinfo=CST)),
        ("P12M", datetime(2025, 3, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)),
    ],
)
def test_elapsed_time_adds_years_and_months_by_the_calendar(
    duration: str, agreed: datetime, last_moment: datetime
) -> None:
    constraint = atom("elapsedTime", "lteq", duration)
    assert outcome(constraint, agreed_at=agreed, now=last_moment) is True
    assert outcome(constraint, agreed_at=agreed, now=last_moment + SECOND) is False
    assert outcome(atom("elapsedTime", "lt", duration), agreed_at=agreed, now=last_moment) is False


def test_a_date_time_window_admits_exactly_its_edges() -> None:
    start, end = "2025-01-01T00:00:00+08:00", "2026-01-01T00:00:00+08:00"
    policy = agreement(rule("use", atom("dateTime", "gteq", start), atom("dateTime", "lt", end)))
    first = datetime.fromisoformat(start)
    last = datetime.fromisoformat(end)
    assert decide(policy, "read", context(now=first)).permitted
    assert not decide(policy, "read", context(now=first - SECOND)).permitted
    assert decide(policy, "read", context(now=last - SECOND)).permitted
    denied = decide(policy, "read", context(now=last))
    assert not denied.permitted
    assert [c.satisfied for c in denied.rules[0].constraints] == [True, False]


# --- counts -------------------------------------------------------------------------------------


def test_count_boundary_permits_use_limit_minus_one_and_denies_the_limit() -> None:
    policy = agreement(rule("use", atom("count", "lteq", "100")))
    last = decide(policy, "read", context(uses=99))
    assert last.permitted
    assert last.remaining_uses == 0
    assert decide(policy, "read", context(uses=0)).remaining_uses == 99
    over = decide(policy, "read", context(uses=100))
    assert not over.permitted
    assert "本次为第 101 次使用，合约约定不超过 100 次" in over.explain()


def test_remaining_uses_come_from_the_tightest_count() -> None:
    tight = agreement(rule("use", atom("count", "lteq", "100"), atom("count", "lt", "50")))
    assert decide(tight, "read", context(uses=10)).remaining_uses == 38
    nested = agreement(
        rule("use", {"and": [atom("count", "lteq", "20"), atom("count", "lteq", "30")]})
    )
    assert decide(nested, "read", context(uses=10)).remaining_uses == 9
    assert decide(agreement(rule("use")), "read", context()).remaining_uses is None


def test_alternatives_allow_the_widest_of_those_that_hold() -> None:
    either = {"or": [atom("count", "lteq", "5"), atom("count", "lteq", "8")]}
    assert decide(agreement(rule("use", either)), "read", context(uses=2)).remaining_uses == 5
    assert decide(agreement(rule("use", either)), "read", context(uses=6)).remaining_uses == 1
    open_branch = {"or": [atom("count", "lteq", "5"), atom("purpose", "eq", PURPOSE)]}
    assert (
        decide(agreement(rule("use", open_branch)), "read", context(uses=2)).remaining_uses is None
    )
    one = {"xone": [atom("count", "lteq", "5"), atom("purpose", "eq", "营销")]}
    assert decide(agreement(rule("use", one)), "read", context(uses=2)).remaining_uses == 2


# --- fields -------------------------------------------------------------------------------------


def test_allowed_fields_are_returned_for_the_data_plane() -> None:
    listed = atom("fields", "isAnyOf", ["uscc", "name", "district", "fine_fen"])
    policy = agreement(rule("read", listed, atom("fields", "isNoneOf", ["fine_fen"])))
    everything = decide(policy, "read", context(fields=()))
    assert everything.permitted
    assert everything.allowed_fields == ("uscc", "name", "district")
    assert everything.excluded_fields == ()
    assert decide(policy, "read", context(fields=("name",))).allowed_fields == (
        "uscc",
        "name",
        "district",
    )
    assert not decide(policy, "read", context(fields=("name", "fine_fen"))).permitted


def test_excluded_fields_alone_leave_the_rest_open() -> None:
    decision = decide(
        agreement(rule("read", atom("fields", "isNoneOf", ["id_number", "phone"]))),
        "read",
        context(),
    )
    assert decision.allowed_fields is None
    assert decision.excluded_fields == ("id_number", "phone")


def test_alternative_field_lists_allow_their_union() -> None:
    either = {"or": [atom("fields", "isAnyOf", ["a", "b"]), atom("fields", "isAnyOf", ["b", "c"])]}
    assert decide(agreement(rule("read", either)), "read", context()).allowed_fields == (
        "a",
        "b",
        "c",
    )
    mixed = {"or": [atom("fields", "isAnyOf", ["a", "b"]), atom("fields", "isNoneOf", ["b", "z"])]}
    decision = decide(agreement(rule("read", mixed)), "read", context())
    assert (decision.allowed_fields, decision.excluded_fields) == (None, ("z",))


@pytest.mark.parametrize(
    ("operator", "fields", "applies"),
    [
        ("isAnyOf", ("name", "id_number"), True),  # touches a listed field
        ("isAnyOf", ("name",), False),
        ("isAllOf", ("id_number",), True),
        ("isNoneOf", ("id_number", "name"), True),  # touches a field outside the list
        ("isNoneOf", ("id_number",), False),
        ("isAnyOf", (), None),  # the request names no columns: it may touch any
    ],
)
def test_a_prohibition_on_fields_applies_when_one_requested_field_matches(
    operator: str, fields: tuple[str, ...], applies: bool | None
) -> None:
    ban = atom("fields", operator, ["id_number"])
    assert outcome(ban, kind="prohibition", fields=fields) is applies
    assert decide_one(ban, kind="prohibition", fields=fields).permitted is (applies is False)


# --- logic ----------------------------------------------------------------------------------------

A, B = atom("purpose", "eq", PURPOSE), atom("recipientRole", "eq", "consumer")
NOT_A, NOT_B = atom("purpose", "eq", "营销"), atom("recipientRole", "eq", "regulator")
UNKNOWN = atom("spatial", "eq", "330302")  # with region=None


@pytest.mark.parametrize(
    ("op", "operands", "expected"),
    [
        ("and", [A, B], True),
        ("and", [A, NOT_B], False),
        ("and", [A, UNKNOWN], None),
        ("and", [NOT_A, UNKNOWN], False),
        ("or", [NOT_A, B], True),
        ("or", [NOT_A, NOT_B], False),
        ("or", [UNKNOWN, B], True),
        ("or", [UNKNOWN, NOT_B], None),
        ("xone", [A, NOT_B], True),
        ("xone", [A, B], False),
        ("xone", [NOT_A, NOT_B], False),
        ("xone", [A, UNKNOWN], None),
        ("xone", [A, B, UNKNOWN], False),
        ("andSequence", [A, B], True),
        ("andSequence", [NOT_A, B], False),
        ("andSequence", [UNKNOWN, NOT_B], False),
        ("andSequence", [A, UNKNOWN], None),
    ],
)
def test_logical_constraints_follow_three_valued_logic(
    op: str, operands: list[dict[str, Any]], expected: bool | None
) -> None:
    assert outcome({op: operands}, region=None) is expected


def test_nested_logical_constraints_trace_every_path() -> None:
    nested = {"or": [{"and": [NOT_A, atom("count", "lteq", "5")]}, {"xone": [B, NOT_B]}]}
    decision = decide(agreement(rule("use", A, nested)), "read", context())
    assert decision.permitted
    top = decision.rules[0].constraints[1]
    assert top.path == "permission[0].constraint[1]"
    assert [c.path for c in top.children] == [
        "permission[0].constraint[1].or[0]",
        "permission[0].constraint[1].or[1]",
    ]
    assert [c.satisfied for c in top.children[0].children] == [False, True]
    assert top.children[0].children[0].path == "permission[0].constraint[1].or[0].and[0]"
    assert top.reason_en == "or: 1 hold"


def test_and_sequence_stops_at_the_first_failure() -> None:
    decision = decide(
        agreement(rule("use", {"andSequence": [A, NOT_B, atom("count", "lteq", "5")]})),
        "read",
        context(),
    )
    sequence = decision.rules[0].constraints[0]
    assert not decision.permitted
    assert [c.satisfied for c in sequence.children] == [True, False]
    assert sequence.reason_zh == "依次且：第 2 项不满足，其后不再评估"


def test_a_missing_fact_neither_grants_nor_lifts_a_prohibition() -> None:
    permit = decide(agreement(rule("use", A)), "read", context(purpose=None))
    assert not permit.permitted
    assert permit.rules[0].satisfied is None
    assert "用途无法判断：请求未提供用途" in permit.explain()
    ban = agreement(rule("use"), prohibitions=[rule("use", atom("purpose", "eq", "营销"))])
    assert decide(ban, "read", context()).permitted
    unknown = decide(ban, "read", context(purpose=None))
    assert not unknown.permitted
    assert unknown.decided_by == "prohibition[0]"
    assert "cannot be ruled out" in unknown.explain("en")


# --- rules and actions -------------------------------------------------------------------------


def test_prohibitions_override_permissions() -> None:
    policy = agreement(
        rule("use", A), prohibitions=[rule("read", atom("spatial", "isPartOf", "330300"))]
    )
    denied = decide(policy, "read", context())
    assert not denied.permitted
    assert denied.decided_by == "prohibition[0]"
    assert [(r.path, r.effect, r.decisive) for r in denied.rules] == [
        ("prohibition[0]", "denies", True),
        ("permission[0]", "permits", False),
    ]
    assert decide(policy, "read", context(region="110101")).permitted
    assert decide(policy, "aggregate", context()).permitted  # the ban is on read only


def test_a_prohibition_stops_any_request_it_overlaps() -> None:
    policy = agreement(rule("use"), prohibitions=[rule("distribute")])
    assert not decide(policy, "distribute", context()).permitted
    assert not decide(policy, "use", context()).permitted  # all of use includes distributing
    assert decide(policy, "read", context()).permitted


@pytest.mark.parametrize("granted", sorted(ACTIONS))
@pytest.mark.parametrize("requested", [*sorted(ACTIONS), "transfer"])
def test_the_action_hierarchy(granted: str, requested: str) -> None:
    expected = granted in ("use", requested) and requested in ACTIONS
    assert decide(agreement(rule(granted)), requested, context()).permitted is expected
    assert action_includes(granted, requested) is expected


def test_read_does_not_imply_distribute() -> None:
    assert lineage("read") == ("read", "use")
    assert lineage("use") == ("use",)
    assert not decide(agreement(rule("read")), "distribute", context()).permitted
    assert not decide(agreement(rule("read")), "use", context()).permitted


def test_the_first_permission_that_holds_decides() -> None:
    policy = agreement(
        rule("use", NOT_A, atom("count", "lteq", "5")),
        rule("read", A, atom("count", "lteq", "1000")),
        rule("use", A, atom("count", "lteq", "9")),
    )
    decision = decide(policy, "read", context(uses=3))
    assert decision.decided_by == "permission[1]"
    assert decision.remaining_uses == 996
    assert [r.effect for r in decision.rules] == ["none", "permits", "permits"]


def test_an_unknown_action_is_not_permitted() -> None:
    decision = decide(agreement(rule("use")), "transfer", context())
    assert not decision.permitted
    assert decision.rules == ()
    assert "no permission covers transfer" in decision.explain("en")


# --- duties ---------------------------------------------------------------------------------------

PAY = {"action": "compensate", "constraint": [atom("payAmount", "eq", "50000")]}
INFORM = {"action": "inform", "constraint": [atom("elapsedTime", "lteq", "P7D")]}


def test_duties_of_the_permitting_rule_and_the_policy_are_reported() -> None:
    policy = agreement(rule("use", A, duty=[PAY]), obligations=[INFORM])
    decision = decide(policy, "read", context())
    assert decision.permitted
    assert decision.duties == (
        Duty("compensate", "permission[0].duty[0]", 50000),
        Duty("inform", "obligation[0]", None, (Term("elapsedTime", "lteq", "P7D"),)),
    )
    assert (
        "义务：支付（compensate，金额 50000 分）[permission[0].duty[0]]；"
        "告知（inform，elapsedTime lteq P7D）[obligation[0]]"
    ) in decision.explain()
    assert "duties: compensate (pay 50000 fen) [permission[0].duty[0]]; inform" in decision.explain(
        "en"
    )
    assert decide(policy, "read", context(purpose="营销")).duties == ()


def test_compensation_is_a_precondition_only_when_prepayment_is_required() -> None:
    policy = agreement(
        rule("use", duty=[PAY]),
        obligations=[{"action": "compensate", "constraint": [atom("payAmount", "eq", "100")]}],
    )
    assert decide(policy, "read", context(amount_paid_fen=None)).permitted
    short = decide(policy, "read", context(require_prepaid=True, amount_paid_fen=50099))
    assert not short.permitted
    assert short.rules[0].reason_zh == "须预付 50100 分，已付 50099 分"
    assert decide(policy, "read", context(require_prepaid=True, amount_paid_fen=50100)).permitted


# --- what does not compile -------------------------------------------------------------------


def _uses(*constraints: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return agreement(rule("use", *constraints, **extra))


def _duty(action: str, *constraints: dict[str, Any]) -> dict[str, Any]:
    return _uses(duty=[{"action": action, "constraint": list(constraints)}])


C0, D0 = "permission[0].constraint[0]", "permission[0].duty[0].constraint"
FIVE, SIX = atom("payAmount", "eq", "5"), atom("payAmount", "eq", "6")


@pytest.mark.parametrize(
    ("policy", "path"),
    [
        (_uses(atom("partner", "eq", "gold")), f"{C0}.leftOperand"),
        (_uses(atom("count", "gt", "5")), f"{C0}.operator"),
        (_uses(atom("dateTime", "lt", "2025-01-01")), f"{C0}.rightOperand"),
        (_uses(atom("purpose", "eq", ["a", "b"])), f"{C0}.rightOperand"),
        (_uses(atom("spatial", "neq", ["330302", "330303"])), f"{C0}.rightOperand"),
        (_uses({"or": [A, FIVE]}), f"{C0}.or[1].leftOperand"),
        (_duty("inform", FIVE), f"{D0}[0].leftOperand"),
        (_duty("compensate", FIVE, SIX), f"{D0}[1].leftOperand"),
        (_duty("delete", {"or": [A, B]}), f"{D0}[0]"),
        (agreement(rule("use"), prohibitions=[rule("read", duty=[INFORM])]), "prohibition[0].duty"),
        ({"@type": "Agreement", "permission": [{"action": "play"}]}, "permission[0].action"),
        ({"@type": "Agreement"}, "permission"),
        ([], ""),
        ({**_uses(), "profile": 1.5}, ""),
    ],
)
def test_invalid_policies_raise_with_the_path(policy: Any, path: str) -> None:
    with pytest.raises(PolicyInvalid) as raised:
        compile_policy(policy)
    assert path in [f.path for f in raised.value.faults]
    with pytest.raises(PolicyInvalid):
        compiled(policy)


def test_policy_invalid_renders_as_a_validation_problem() -> None:
    with pytest.raises(PolicyInvalid) as raised:
        compile_policy(
            agreement(
                rule("use", atom("purpose", "eq", ["a", "b"])), rule("derive", atom("x", "eq", "y"))
            )
        )
    error = raised.value
    assert isinstance(error, ValidationFailed)
    body = error.problem()
    assert (body["status"], body["code"]) == (422, "policy.invalid")
    assert body["field"] == "policy.permission[1].constraint[0].leftOperand"  # validation first
    assert [f["path"] for f in body["faults"]] == ["permission[1].constraint[0].leftOperand"]


# --- the DSP 2025-1 examples -------------------------------------------------------------------


def _dsp(name: str) -> dict[str, Any]:
    message = json.loads((DSP / "negotiation" / "example" / name).read_text())
    policy: dict[str, Any] = message.get("agreement") or message["offer"]
    return policy


@pytest.mark.parametrize(
    "name",
    [
        "contract-agreement-message.json",
        "contract-offer-message.json",
        "contract-request-message.json",
    ],
)
def test_dsp_examples_with_supported_operands_compile_and_decide(name: str) -> None:
    policy = compile_policy(_dsp(name))
    assert isinstance(policy, CompiledPolicy)
    assert decide(policy, "use", context(now=datetime(2023, 12, 31, 6, tzinfo=UTC))).permitted
    late = decide(policy, "read", context(now=datetime(2023, 12, 31, 6, 0, 1, tzinfo=UTC)))
    assert not late.permitted
    assert late.rules[0].constraints[0].path == "permission[0].constraint[0]"


@pytest.mark.parametrize(
    "name", ["contract-offer-message_initial.json", "contract-request-message_initial.json"]
)
def test_dsp_unconstrained_offers_permit_every_action(name: str) -> None:
    policy = compile_policy(_dsp(name))
    assert all(decide(policy, action, Context(now=NOW)).permitted for action in ACTIONS)


def test_the_full_dsp_agreement_is_refused_for_its_partner_operand() -> None:
    with pytest.raises(PolicyInvalid) as raised:
        compile_policy(_dsp("contract-agreement-message-full.json"))
    paths = [f.path for f in raised.value.faults]
    assert paths[0] == "permission[1].constraint[0].and[0].leftOperand"
    assert "permission[6].constraint[0].or[0].and[1].leftOperand" in paths
    assert not any(p.startswith("permission[0]") for p in paths)  # the dateTime rule is fine
    assert "unknown left operand 'partner'" in raised.value.faults[0].message_en


def test_dsp_catalog_offer_with_an_iri_region_compiles() -> None:
    catalog = json.loads((DSP / "catalog" / "example" / "catalog.json").read_text())
    policy = compile_policy(catalog["dataset"][0]["hasPolicy"][0])
    assert decide(policy, "use", context(region="http://example.org/EU")).permitted
    assert not decide(policy, "use", context(region="330302")).permitted


def test_dsp_dataset_offer_with_a_blank_node_region_is_refused() -> None:
    dataset = json.loads((DSP / "catalog" / "example" / "dataset.json").read_text())
    with pytest.raises(PolicyInvalid) as raised:
        compile_policy(dataset["hasPolicy"][0])  # spatial eq "_:EU" names no region
    assert [f.path for f in raised.value.faults] == ["permission[0].constraint[0].rightOperand"]


# --- the cache --------------------------------------------------------------------------------


def test_equal_policies_share_one_compiled_object() -> None:
    policy = agreement(rule("use", A, B))
    reordered = json.loads(json.dumps(policy, sort_keys=True))
    assert list(reordered) != list(policy)
    first = compiled(policy)
    assert compiled(reordered) is first
    assert decide(policy, "read", context()).policy is first
    assert compiled(agreement(rule("use", B, A))) is not first  # constraint order is content
    assert first.digest == canonical.digest(policy)
    assert (first.type, first.uid) == ("Agreement", "urn:uuid:agreement-1")


def test_the_cache_evicts_the_least_recently_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "CACHE_SIZE", 2)
    one, two, three = (agreement(rule("use", atom("count", "lteq", str(n)))) for n in (1, 2, 3))
    kept = compiled(one)
    compiled(two)
    assert compiled(one) is kept  # touched: two is now the oldest
    compiled(three)
    assert len(engine._cache) == 2
    assert compiled(one) is kept


def test_a_compiled_policy_does_not_follow_later_edits_of_the_dict() -> None:
    policy = agreement(rule("use", atom("fields", "isAnyOf", ["a", "b"])))
    held = compile_policy(policy)
    policy["permission"][0]["constraint"][0]["rightOperand"].append("c")
    assert decide(held, "read", context()).allowed_fields == ("a", "b")
    assert decide(policy, "read", context()).allowed_fields == ("a", "b", "c")


# --- explanations and inputs --------------------------------------------------------------------


def test_explanations_name_the_mismatch_in_both_languages() -> None:
    policy = agreement(rule("use", atom("purpose", "eq", PURPOSE), atom("count", "lteq", "10")))
    denied = decide(policy, "read", context(purpose="营销"))
    zh, en = denied.explain("zh-CN"), denied.explain("en")
    assert zh.splitlines()[0] == "决定：拒绝 读取（read）"
    assert "用途不符：请求用途“营销”，合约约定“小微企业信贷风险评估”" in zh
    assert "✗ permission[0].constraint[0]" in zh
    assert "✓ permission[0].constraint[1]" in zh
    assert 'purpose mismatch: requested purpose "营销"; agreed "小微企业信贷风险评估"' in en
    permitted = decide(policy, "read", context(uses=3))
    assert permitted.explain("en").splitlines()[:2] == [
        "Decision: permit read (decided by permission[0])",
        "remaining uses: 6",
    ]
    with pytest.raises(ValueError, match="zh-CN or en"):
        permitted.explain("fr")  # type: ignore[arg-type]


def test_context_refuses_naive_times_and_negative_counts() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Context(now=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        Context(now=NOW, agreed_at=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="negative"):
        Context(now=NOW, uses=-1)
    with pytest.raises(TypeError, match="tuple"):
        Context(now=NOW, fields=["a"])  # type: ignore[arg-type]
    assert Context(now=NOW).recipient == Recipient()


def test_the_package_exports_exactly_its_public_names() -> None:
    import shuchang.policy

    namespace: dict[str, object] = {}
    exec("from shuchang.policy import *", namespace)  # noqa: S102 - the point
    assert set(namespace) - {"__builtins__"} == set(shuchang.policy.__all__)
    assert {"compile_policy", "compiled", "decide", "validate", "PolicyFault"} <= set(namespace)
