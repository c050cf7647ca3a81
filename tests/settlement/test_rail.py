"""The payment rail contract (资金划付通道), which every rail in RAILS must keep."""

from __future__ import annotations

import threading
import uuid

import pytest

from shuchang.domains.settlement.rail import RAILS, RailConflict, TransferOrder, rail_for
from shuchang.platform import Platform
from shuchang.settings import SETTLEMENT_RAILS


def _order(key: str, amount: int = 1500, payee: str = "participant:p1") -> TransferOrder:
    return TransferOrder(key, "clearing", payee, amount, "payout 2025-03")


def test_the_settings_offer_exactly_the_rails_that_exist() -> None:
    assert set(SETTLEMENT_RAILS) == set(RAILS)


@pytest.mark.parametrize("name", sorted(RAILS))
def test_a_rail_moves_money_once_per_idempotency_key(platform: Platform, name: str) -> None:
    rail = rail_for(name, platform.unit)
    prefix = f"{uuid.uuid4()}:"
    first = rail.transfer(_order(prefix + "a"))
    again = rail.transfer(_order(prefix + "a"))
    assert first == again and first.status in ("settled", "pending", "failed")
    with pytest.raises(RailConflict):
        rail.transfer(_order(prefix + "a", amount=1501))
    with pytest.raises(RailConflict):
        rail.transfer(_order(prefix + "a", payee="participant:p2"))
    with pytest.raises(ValueError, match="positive"):
        rail.transfer(_order(prefix + "zero", amount=0))
    second = rail.transfer(_order(prefix + "b", amount=99))
    assert second.reference != first.reference
    assert rail.lookup(prefix + "a") == first
    assert rail.lookup(prefix + "missing") is None
    assert rail.status(first.reference) == first
    assert [t.idempotency_key for t in rail.transfers(prefix)] == [prefix + "a", prefix + "b"]
    assert rail.transfers("%") == []  # a prefix is matched literally


@pytest.mark.parametrize("name", sorted(RAILS))
def test_the_same_key_at_once_from_many_threads_moves_money_once(
    platform: Platform, name: str
) -> None:
    rail = rail_for(name, platform.unit)
    key = f"{uuid.uuid4()}:payout:x:1"
    results = []

    def one() -> None:
        results.append(rail.transfer(_order(key)))

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r.reference for r in results}) == 1
    assert len(rail.transfers(key)) == 1
