"""Revenue-sharing rules (收益分配规则) and lineage: versions, refusals, and revenue that
flows back to upstream sources (S3 公共数据授权运营)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from settlement_support import Region, agreement, product, run, seal, set_rules, usage
from sqlalchemy import select

import factories
from shuchang.domains.participants import Actor
from shuchang.domains.settlement import sharing, upstreams
from shuchang.domains.settlement.models import Invoice, Share
from shuchang.domains.settlement.periods import Period
from shuchang.domains.settlement.schemas import RuleIn, UpstreamIn
from shuchang.errors import Conflict, PermissionDenied, ShuchangError, ValidationFailed


def _rule(r: Region, **kw: Any) -> RuleIn:
    body = {"effective_from": "2025-01", "operator_id": str(r.bureau.id), **kw}
    return msgspec.convert(body, RuleIn)


def test_rules_are_versioned_by_the_month_they_take_effect(world: Region) -> None:
    with world.platform.unit() as s:
        first = sharing.set_rule(s, world.operator, _rule(world, operator_fee_bp=300))
        second = sharing.set_rule(
            s, world.operator, _rule(world, effective_from="2025-06", operator_fee_bp=400)
        )
    assert (first.version, second.version) == (1, 2)
    with world.platform.unit(write=False) as s:
        assert sharing.rule_for(s, Period(2024, 12)) is None
        assert sharing.rule_for(s, Period(2025, 5)).operator_fee_bp == 300  # type: ignore[union-attr]
        assert sharing.rule_for(s, Period(2025, 6)).operator_fee_bp == 400  # type: ignore[union-attr]
        assert [r.version for r in sharing.list_rules(s, world.operator)] == [2, 1]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        (
            {"operator_fee_bp": 6000, "authority_bp": 3000, "upstream_bp": 2000},
            "settlement.shares_exceed_whole",
        ),
        ({"authority_bp": 100}, "settlement.authority_required"),
        ({"effective_from": "1999-01"}, "settlement.period_invalid"),
    ],
)
def test_bad_rules_are_refused_with_a_clear_problem(
    world: Region, overrides: dict[str, Any], code: str
) -> None:
    with pytest.raises(ValidationFailed) as refused, world.platform.unit() as s:
        sharing.set_rule(s, world.operator, _rule(world, **overrides))
    assert refused.value.code == code
    with pytest.raises(PermissionDenied), world.platform.unit() as s:
        sharing.set_rule(s, Actor(participant_id=world.tax.id, role="provider"), _rule(world))


def test_a_settled_month_keeps_its_rules(world: Region) -> None:
    set_rules(world)
    a = agreement(
        world.platform,
        product(world.platform, world.tax.id, {"model": "per_call", "amount_fen": 10}),
        world.tax,
        world.bank,
    )
    usage(world.platform, a, world.bank.id, 3)
    seal(world.platform)
    run(world)
    with pytest.raises(Conflict) as frozen, world.platform.unit() as s:
        sharing.set_rule(s, world.operator, _rule(world, effective_from="2025-03"))
    assert frozen.value.code == "settlement.rules_frozen"
    with world.platform.unit() as s:
        assert (
            sharing.set_rule(s, world.operator, _rule(world, effective_from="2025-04")).version == 2
        )


def test_public_data_shares_go_to_the_authorizing_body_and_utilities_can_be_named(
    world: Region,
) -> None:
    set_rules(
        world,
        operator_fee_bp=0,
        authority_bp=1000,
        upstream_bp=0,
        public_providers=[str(world.power.id)],
    )
    p = world.platform
    from_power = agreement(
        p,
        product(p, world.power.id, {"model": "per_call", "amount_fen": 100}),
        world.power,
        world.bank,
    )
    insurer = factories.participant(p, roles=("provider",), name="东瓯某科技有限公司")
    from_firm = agreement(
        p, product(p, insurer.id, {"model": "per_call", "amount_fen": 100}), insurer, world.bank
    )
    for a in (from_power, from_firm):
        usage(p, a, world.bank.id, 10)
    seal(p)
    run(world)
    with p.unit(write=False) as s:
        roles = {
            a: {
                (x.role, x.amount_fen)
                for x in s.scalars(select(Share).join(Invoice).where(Invoice.agreement_id == a))
            }
            for a in (from_power, from_firm)
        }
    assert roles[from_power] == {("provider", 900), ("authority", 100)}  # a listed utility
    assert roles[from_firm] == {("provider", 1000)}  # an ordinary enterprise


def test_revenue_flows_back_by_lineage_two_levels(world: Region) -> None:
    """S3: the data group's first-level index is built on the power company's element; a
    fintech's second-level product is built on the index. The fintech's sales pay both."""
    p = world.platform
    group = factories.participant(p, roles=("provider", "consumer"), name="东瓯数据集团有限公司")
    fintech = factories.participant(
        p, roles=("provider", "consumer"), name="东瓯智联物流科技有限公司"
    )
    element = product(
        p,
        world.power.id,
        {"model": "subscription", "amount_fen": 1000, "period": "month"},
        kind="data_element",
    )
    index = product(
        p,
        group.id,
        {"model": "subscription", "amount_fen": 1000, "period": "month"},
        kind="data_element",
    )
    second = product(p, fintech.id, {"model": "per_call", "amount_fen": 1000})
    group_holds = agreement(p, element, world.power, group)
    fintech_holds = agreement(p, index, group, fintech)
    with p.unit() as s:
        upstreams.declare(
            s,
            Actor(participant_id=group.id, role="provider"),
            UpstreamIn(index, element, group_holds),
        )
        upstreams.declare(
            s,
            Actor(participant_id=fintech.id, role="provider"),
            UpstreamIn(second, index, fintech_holds),
        )
    sold = agreement(p, second, fintech, world.bank)
    usage(p, sold, world.bank.id, 10)  # 10,000 fen net
    seal(p)
    set_rules(world, operator_fee_bp=500, authority_bp=0, upstream_bp=2000, upstream_depth=2)
    run(world)
    with p.unit(write=False) as s:
        got = {
            (x.participant_id, x.role): x.amount_fen
            for x in s.scalars(select(Share).join(Invoice).where(Invoice.agreement_id == sold))
        }
    # 20 % of 10,000 flows to the index (group); the group passes 20 % of that to the element.
    assert got == {
        (fintech.id, "provider"): 7500,
        (world.bureau.id, "fee"): 500,
        (group.id, "upstream"): 1600,
        (world.power.id, "upstream"): 400,
    }


def test_upstream_declarations_are_checked_against_agreements_and_cycles(world: Region) -> None:
    p = world.platform
    group = factories.participant(p, roles=("provider", "consumer"), name="东瓯数据集团有限公司")
    a_product = product(p, world.power.id, {"model": "per_call", "amount_fen": 10})
    b_product = product(p, group.id, {"model": "per_call", "amount_fen": 10})
    holds = agreement(p, a_product, world.power, group)
    group_actor = Actor(participant_id=group.id, role="provider")
    power_actor = Actor(participant_id=world.power.id, role="provider")
    cases = [
        (power_actor, UpstreamIn(b_product, a_product, holds), "settlement.upstream_not_owner"),
        (group_actor, UpstreamIn(b_product, b_product, holds), "settlement.upstream_invalid"),
        (
            group_actor,
            UpstreamIn(b_product, a_product, agreement(p, a_product, world.power, world.bank)),
            "settlement.upstream_agreement_invalid",
        ),
    ]
    for actor, data, code in cases:
        with pytest.raises(ShuchangError) as refused, p.unit() as s:
            upstreams.declare(s, actor, data)
        assert refused.value.code == code
    with p.unit() as s:
        upstreams.declare(s, group_actor, UpstreamIn(b_product, a_product, holds))
    back = agreement(p, b_product, group, world.power)
    with pytest.raises(Conflict) as cycle, p.unit() as s:
        upstreams.declare(s, power_actor, UpstreamIn(a_product, b_product, back))
    assert cycle.value.code == "settlement.upstream_cycle"
    with p.unit() as s:
        withdrawn = upstreams.withdraw(s, group_actor, b_product, a_product)
    assert withdrawn.withdrawn_at is not None
    with p.unit(write=False) as s:
        assert sharing.graph(s) == {}
