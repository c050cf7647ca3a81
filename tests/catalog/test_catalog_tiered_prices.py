"""Per-row and tiered prices (按行计费 / 阶梯计费) pass or fail the listing's price rule."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from shuchang.domains.catalog import rules
from shuchang.domains.catalog.schemas import Price


def _faults(**price: Any) -> list[str]:
    return [r.code for r in rules.price_faults(msgspec.convert(price, Price))]


TIERS = [
    {"up_to": 10_000, "unit_fen": 20},
    {"up_to": 100_000, "unit_fen": 12},
    {"up_to": None, "unit_fen": 8},
]


def test_well_formed_per_row_and_tiered_prices_pass() -> None:
    assert _faults(model="per_row", amount_fen=3) == []
    assert _faults(model="tiered", amount_fen=20, unit="call", tiers=TIERS) == []
    assert (
        _faults(model="tiered", amount_fen=5, unit="row", tiers=[{"up_to": None, "unit_fen": 5}])
        == []
    )


@pytest.mark.parametrize(
    "price",
    [
        {"model": "per_row", "amount_fen": 0},
        {"model": "tiered", "amount_fen": 20, "tiers": TIERS},  # no unit
        {"model": "tiered", "amount_fen": 20, "unit": "call", "tiers": []},
        {"model": "tiered", "amount_fen": 20, "unit": "call", "tiers": TIERS[:2]},  # last closed
        {
            "model": "tiered",
            "amount_fen": 20,
            "unit": "call",
            "tiers": [TIERS[1], TIERS[0], TIERS[2]],
        },
        {"model": "tiered", "amount_fen": 99, "unit": "call", "tiers": TIERS},  # not the first tier
        {"model": "per_call", "amount_fen": 20, "unit": "call"},
        {"model": "per_call", "amount_fen": 20, "tiers": TIERS},
    ],
)
def test_malformed_per_row_and_tiered_prices_are_returned(price: dict[str, Any]) -> None:
    assert _faults(**price) == ["listing.price"]


def test_a_tier_limit_must_be_positive() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(
            {
                "model": "tiered",
                "amount_fen": 1,
                "unit": "call",
                "tiers": [{"up_to": 0, "unit_fen": 1}],
            },
            Price,
        )
