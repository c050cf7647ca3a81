"""Races that the database must settle: concurrent approvals get distinct, consecutive
numbers; concurrent pledges never exceed the value together; concurrent applications for one
product leave one live registration."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from assets_support import application, register_asset

import factories
from market_factories import actor_of, provider_product
from shuchang.domains.assets import holdings, service, views
from shuchang.domains.assets.schemas import AssetDecision, PledgeIn, ValuationIn
from shuchang.errors import ShuchangError
from shuchang.platform import Platform

TODAY = (datetime.now(UTC) + timedelta(hours=8)).date()


def _race(platform: Platform, steps: list[Callable[[Any], object]]) -> list[object]:
    """Run each step in its own transaction on its own thread, all released at once."""
    gate = threading.Barrier(len(steps))
    results: list[object] = [None] * len(steps)

    def run(i: int) -> None:
        gate.wait()
        try:
            with platform.unit() as s:
                results[i] = steps[i](s)
        except ShuchangError as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(steps))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_concurrent_approvals_get_distinct_consecutive_numbers(platform: Platform) -> None:
    operator = actor_of(factories.operator(platform), "operator")
    applied = []
    for _ in range(4):
        listed = provider_product(platform)
        with platform.unit() as s:
            applied.append(
                service.apply(s, listed.actor, application(listed.product_id), platform.settings).id
            )
    approve = AssetDecision(decision="approve")
    results = _race(
        platform,
        [
            lambda s, rid=rid: service.review(s, operator, rid, approve, platform.settings)
            for rid in applied
        ],
    )
    numbers = sorted(r.certificate.number for r in results)  # type: ignore[attr-defined]
    assert [n.split("-")[3] for n in numbers] == ["000001", "000002", "000003", "000004"]


def test_concurrent_pledges_never_exceed_the_value(platform: Platform) -> None:
    reg = register_asset(platform)
    firm = factories.participant(platform, roles=("service_firm",))
    bank = factories.participant(platform, roles=("consumer",))
    with platform.unit() as s:
        holdings.value(
            s,
            actor_of(firm, "service_firm"),
            reg.id,
            ValuationIn(
                method="cost", amount_fen=1000, basis="成本法：历史成本合计金额。", valued_on=TODAY
            ),
        )
    pledge = PledgeIn(
        pledgee_id=bank.id,
        amount_fen=600,
        starts_on=TODAY,
        ends_on=TODAY + timedelta(days=30),
        reference="质押合同",
    )
    results = _race(platform, [lambda s: holdings.pledge(s, reg.listed.actor, reg.id, pledge)] * 2)
    failures = [r for r in results if isinstance(r, ShuchangError)]
    assert len(failures) == 1 and failures[0].code == "asset.pledge_exceeds_value"
    with platform.unit(write=False) as s:
        assert views.pledged(s, reg.id) == 600


def test_concurrent_applications_leave_one_live_registration(platform: Platform) -> None:
    listed = provider_product(platform)
    results = _race(
        platform,
        [
            lambda s: service.apply(
                s, listed.actor, application(listed.product_id), platform.settings
            )
        ]
        * 3,
    )
    failures = [r for r in results if isinstance(r, ShuchangError)]
    assert len(failures) == 2 and {f.code for f in failures} == {"asset.duplicate"}
