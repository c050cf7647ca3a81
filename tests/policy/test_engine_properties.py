"""Properties of the decision point over generated policies and requests (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from policy_support import PURPOSE, agreement, atom, rule

from shuchang.policy import ACTIONS, Context, Decision, Recipient, compile_policy, decide

PURPOSES = [PURPOSE, "营销", "信贷", "信贷/小微企业"]
REGIONS = ["330302", "330300", "330000", "110101", "http://example.org/EU"]
COLUMNS = ["uscc", "name", "district", "fine_fen", "id_number"]
KINDS, STATUSES = ["enterprise", "government", "individual"], ["active", "verified", "suspended"]
ROLES = ["consumer", "provider", "regulator"]
DURATIONS = ["P30D", "P1M", "PT36H", "P1Y2M", "P1W", "P1DT12H"]
START = datetime(2025, 1, 1, tzinfo=UTC)
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))])
ACTION_LIST = sorted(ACTIONS)

moments = st.builds(
    lambda seconds, zone: (START + timedelta(seconds=seconds)).astimezone(zone),
    st.integers(0, 400 * 86400),
    ZONES,
)


def _atomic_for(left: str, values: list[str], single: list[str], many: list[str]) -> Any:
    return st.one_of(
        st.builds(atom, st.just(left), st.sampled_from(single), st.sampled_from(values)),
        st.builds(
            atom,
            st.just(left),
            st.sampled_from(many),
            st.lists(st.sampled_from(values), min_size=1, max_size=3),
        ),
    )


SET_OPS, MANY_OPS = ["eq", "neq"], ["isAnyOf", "isNoneOf"]
ALL_LOGIC, COUNT_OPS = ["and", "or", "xone", "andSequence"], ["lt", "lteq", "eq"]


def atomics(count_ops: list[str]) -> Any:
    return st.one_of(
        _atomic_for("purpose", PURPOSES, [*SET_OPS, "isA"], [*MANY_OPS, "isA"]),
        _atomic_for("spatial", REGIONS, [*SET_OPS, "isPartOf"], [*MANY_OPS, "isPartOf"]),
        _atomic_for("recipientRegion", REGIONS, [*SET_OPS, "isPartOf"], MANY_OPS),
        _atomic_for("recipientKind", KINDS, SET_OPS, MANY_OPS),
        _atomic_for("recipientStatus", STATUSES, SET_OPS, MANY_OPS),
        _atomic_for("recipientRole", ROLES, SET_OPS, MANY_OPS),
        st.builds(
            atom,
            st.just("dateTime"),
            st.sampled_from(["eq", "gt", "gteq", "lt", "lteq"]),
            moments.map(datetime.isoformat),
        ),
        st.builds(
            atom,
            st.just("elapsedTime"),
            st.sampled_from(["lt", "lteq"]),
            st.sampled_from(DURATIONS),
        ),
        st.builds(atom, st.just("count"), st.sampled_from(count_ops), st.integers(0, 30).map(str)),
        st.builds(
            atom,
            st.just("fields"),
            st.sampled_from(["isAnyOf", "isAllOf", "isNoneOf"]),
            st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=4),
        ),
    )


def _logical(children: Any, operators: list[str]) -> Any:
    return st.builds(
        lambda op, items: {op: items},
        st.sampled_from(operators),
        st.lists(children, min_size=2, max_size=3),
    )


def rules(operators: list[str] = ALL_LOGIC, count_ops: list[str] = COUNT_OPS) -> Any:
    constraints = st.recursive(
        atomics(count_ops), lambda children: _logical(children, operators), max_leaves=6
    )
    return st.builds(
        lambda action, items: rule(action, *items),
        st.sampled_from(ACTION_LIST),
        st.lists(constraints, max_size=3),
    )


def policies(
    operators: list[str] = ALL_LOGIC, count_ops: list[str] = COUNT_OPS, bans: int = 2
) -> Any:
    return st.builds(
        lambda permissions, prohibitions: agreement(*permissions, prohibitions=prohibitions),
        st.lists(rules(operators, count_ops), min_size=1, max_size=3),
        st.lists(rules(operators, count_ops), max_size=bans),
    )


recipients = st.builds(
    Recipient,
    st.sampled_from([*KINDS, None]),
    st.sampled_from([*STATUSES, None]),
    st.sampled_from([*REGIONS, None]),
    st.sampled_from([*ROLES, None]),
)
contexts = st.builds(
    Context,
    now=moments,
    purpose=st.sampled_from([*PURPOSES, None]),
    region=st.sampled_from([*REGIONS, "3303ab", None]),
    recipient=recipients,
    fields=st.lists(st.sampled_from(COLUMNS), max_size=4).map(tuple),
    uses=st.integers(0, 40),
    agreed_at=st.one_of(st.none(), moments),
    amount_paid_fen=st.one_of(st.none(), st.integers(0, 10**6)),
    require_prepaid=st.booleans(),
)
actions = st.sampled_from([*ACTION_LIST, "transfer"])


def _agrees_with_its_trace(decision: Decision) -> bool:
    """The fast path's verdict equals the one the (independently combined) traces give."""
    banned = [r for r in decision.rules if r.kind == "prohibition" and r.effect == "denies"]
    permits = [r for r in decision.rules if r.kind == "permission" and r.effect == "permits"]
    expected_by = banned[0].path if banned else permits[0].path if permits else None
    decisive = [r.path for r in decision.rules if r.decisive]
    return (
        decision.permitted == (not banned and bool(permits))
        and decision.decided_by == expected_by
        and decisive == ([expected_by] if expected_by else [])
    )


@settings(max_examples=300, deadline=None)
@given(policies(), actions, contexts)
def test_decide_never_raises_is_deterministic_and_matches_its_trace(
    policy: dict[str, Any], action: str, context: Context
) -> None:
    compiled = compile_policy(policy)
    first, second = decide(compiled, action, context), decide(policy, action, context)
    assert (
        first.permitted,
        first.decided_by,
        first.allowed_fields,
        first.excluded_fields,
        first.remaining_uses,
        first.duties,
    ) == (
        second.permitted,
        second.decided_by,
        second.allowed_fields,
        second.excluded_fields,
        second.remaining_uses,
        second.duties,
    )
    assert first.rules == second.rules
    assert _agrees_with_its_trace(first)
    assert first.explain("zh-CN") and first.explain("en")
    if not first.permitted:
        assert first.duties == () and first.remaining_uses is None
    elif first.allowed_fields is not None:
        assert set(context.fields) <= set(first.allowed_fields)
        assert first.excluded_fields == ()
    if first.remaining_uses is not None:
        assert first.remaining_uses >= 0


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ACTION_LIST), actions, contexts)
def test_a_permission_without_constraints_permits_exactly_its_action_subtree(
    granted: str, requested: str, context: Context
) -> None:
    subtree = {granted} | (ACTIONS if granted == "use" else set())
    decision = decide(agreement(rule(granted)), requested, replace(context, require_prepaid=False))
    assert decision.permitted is (requested in subtree)


@settings(max_examples=200, deadline=None)
@given(policies(), rules(), actions, contexts)
def test_adding_a_prohibition_never_permits_more(
    policy: dict[str, Any], ban: dict[str, Any], action: str, context: Context
) -> None:
    stricter = {**policy, "prohibition": [*policy.get("prohibition", []), ban]}
    if decide(stricter, action, context).permitted:
        assert decide(policy, action, context).permitted


@settings(max_examples=200, deadline=None)
@given(policies(["and", "or", "andSequence"], ["lt", "lteq"], bans=0), actions, contexts)
def test_remaining_uses_are_exactly_the_uses_left(
    policy: dict[str, Any], action: str, context: Context
) -> None:
    decision = decide(policy, action, context)
    if not decision.permitted or decision.remaining_uses is None:
        return
    left = decision.remaining_uses
    last = decide(policy, action, replace(context, uses=context.uses + left))
    assert last.permitted and last.decided_by == decision.decided_by
    assert last.remaining_uses == 0
    beyond = decide(policy, action, replace(context, uses=context.uses + left + 1))
    assert beyond.decided_by != decision.decided_by  # that permission's counts are used up
