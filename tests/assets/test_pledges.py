"""Valuations and pledges (价值评估 / 质押): who records them, the value ceiling, the period,
release, and that a pledged asset cannot be cancelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from assets_support import Registered, register_asset

import factories
from market_factories import actor_of
from shuchang.domains.assets import holdings, lifecycle, views
from shuchang.domains.assets.schemas import PledgeIn, PledgeRelease, ValuationIn
from shuchang.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from shuchang.platform import Platform

TODAY = (datetime.now(UTC) + timedelta(hours=8)).date()  # Asia/Shanghai


def _valued(platform: Platform, amount: int = 1_000_000) -> tuple[Registered, factories.Member]:
    reg = register_asset(platform)
    firm = factories.participant(platform, roles=("service_firm",), name="东瓯资产评估事务所")
    with platform.unit() as s:
        holdings.value(
            s,
            actor_of(firm, "service_firm"),
            reg.id,
            ValuationIn(
                method="income",
                amount_fen=amount,
                basis="收益法：未来三年授权收入折现，折现率 8%。",
                valued_on=TODAY,
            ),
        )
    return reg, firm


def _pledge(amount: int, pledgee: factories.Member, **overrides: object) -> PledgeIn:
    values: dict[str, object] = {
        "pledgee_id": pledgee.id,
        "amount_fen": amount,
        "starts_on": TODAY,
        "ends_on": TODAY + timedelta(days=365),
        "reference": "东商银质字2026第018号",
    }
    values.update(overrides)
    return PledgeIn(**values)  # type: ignore[arg-type]


def test_only_a_service_firm_values_and_never_in_the_future(platform: Platform) -> None:
    reg = register_asset(platform)
    basis = "成本法：采集、清洗与存储的历史成本合计。"
    with pytest.raises(PermissionDenied), platform.unit() as s:
        holdings.value(
            s,
            reg.listed.actor,
            reg.id,
            ValuationIn(method="cost", amount_fen=1, basis=basis, valued_on=TODAY),
        )
    firm = factories.participant(platform, roles=("service_firm",))
    with pytest.raises(ValidationFailed) as caught, platform.unit() as s:
        holdings.value(
            s,
            actor_of(firm, "service_firm"),
            reg.id,
            ValuationIn(
                method="cost", amount_fen=1, basis=basis, valued_on=TODAY + timedelta(days=2)
            ),
        )
    assert caught.value.code == "asset.valuation_future"


def test_pledges_never_exceed_the_latest_value(platform: Platform) -> None:
    reg, _ = _valued(platform, amount=1_000_000)
    bank = factories.participant(platform, roles=("consumer",), name="东瓯商业银行")
    with platform.unit() as s:
        holdings.pledge(s, reg.listed.actor, reg.id, _pledge(600_000, bank))
    with pytest.raises(Conflict) as caught, platform.unit() as s:
        holdings.pledge(s, reg.listed.actor, reg.id, _pledge(400_001, bank))
    assert caught.value.code == "asset.pledge_exceeds_value"
    assert caught.value.extra == {"value_fen": 1_000_000, "pledged_fen": 600_000}
    with platform.unit() as s:
        holdings.pledge(s, reg.listed.actor, reg.id, _pledge(400_000, bank))
        detail = views.detail(s, reg.listed.actor, reg.id)
    assert detail.pledged_fen == 1_000_000 and detail.value_fen == 1_000_000


def test_no_pledge_without_a_valuation(platform: Platform) -> None:
    reg = register_asset(platform)
    bank = factories.participant(platform, roles=("consumer",))
    with pytest.raises(Conflict) as caught, platform.unit() as s:
        holdings.pledge(s, reg.listed.actor, reg.id, _pledge(1, bank))
    assert caught.value.code == "asset.not_valued"


def test_the_pledge_period_lies_inside_the_certificate(platform: Platform) -> None:
    reg, _ = _valued(platform)
    bank = factories.participant(platform, roles=("consumer",))
    too_long = _pledge(1, bank, ends_on=TODAY + timedelta(days=365 * 4))
    backwards = _pledge(1, bank, ends_on=TODAY - timedelta(days=1))
    for bad in (too_long, backwards):
        with pytest.raises(ValidationFailed) as caught, platform.unit() as s:
            holdings.pledge(s, reg.listed.actor, reg.id, bad)
        assert caught.value.code == "asset.pledge_period"


def test_only_the_holder_or_operator_pledges_to_someone_else(platform: Platform) -> None:
    reg, _ = _valued(platform)
    bank = factories.participant(platform, roles=("consumer",))
    with pytest.raises(PermissionDenied), platform.unit() as s:
        holdings.pledge(s, actor_of(bank, "consumer"), reg.id, _pledge(1, bank))
    holder = factories.Member(reg.listed.provider.id, "", "", "active", None)
    with pytest.raises(ValidationFailed) as caught, platform.unit() as s:
        holdings.pledge(s, reg.listed.actor, reg.id, _pledge(1, holder))
    assert caught.value.code == "asset.pledge_to_self"
    ghost = factories.Member(reg.id, "", "", "active", None)
    with pytest.raises(NotFound), platform.unit() as s:
        holdings.pledge(s, reg.listed.actor, reg.id, _pledge(1, ghost))
    with platform.unit() as s:
        done = holdings.pledge(s, actor_of(reg.operator, "operator"), reg.id, _pledge(1, bank))
    assert done.status == "registered"


def test_a_pledged_asset_cannot_be_cancelled_until_released(platform: Platform) -> None:
    reg, _ = _valued(platform)
    bank = factories.participant(platform, roles=("consumer",))
    with platform.unit() as s:
        pledge = holdings.pledge(s, reg.listed.actor, reg.id, _pledge(500_000, bank))
    with pytest.raises(Conflict) as caught, platform.unit() as s:
        lifecycle.cancel(s, reg.listed.actor, reg.id, "处置")
    assert caught.value.code == "asset.pledged"
    with pytest.raises(PermissionDenied), platform.unit() as s:
        holdings.release(s, reg.listed.actor, pledge.id, PledgeRelease())
    with platform.unit() as s:
        released = holdings.release(
            s, actor_of(bank, "consumer"), pledge.id, PledgeRelease(reason="贷款结清")
        )
    assert released.status == "released"
    with pytest.raises(InvalidTransition), platform.unit() as s:
        holdings.release(s, actor_of(bank, "consumer"), pledge.id, PledgeRelease())
    with platform.unit() as s:
        assert lifecycle.cancel(s, reg.listed.actor, reg.id, "处置").status == "cancelled"


def test_a_revoked_asset_can_be_neither_valued_nor_pledged(platform: Platform) -> None:
    reg, firm = _valued(platform)
    bank = factories.participant(platform, roles=("consumer",))
    with platform.unit() as s:
        lifecycle.revoke(s, actor_of(reg.operator, "operator"), reg.id, "登记信息不实")
    with pytest.raises(InvalidTransition) as caught, platform.unit() as s:
        holdings.pledge(s, reg.listed.actor, reg.id, _pledge(1, bank))
    assert caught.value.code == "asset.not_in_force"
    with pytest.raises(InvalidTransition), platform.unit() as s:
        holdings.value(
            s,
            actor_of(firm, "service_firm"),
            reg.id,
            ValuationIn(
                method="market", amount_fen=5, basis="市场法：可比交易三例的均价。", valued_on=TODAY
            ),
        )
