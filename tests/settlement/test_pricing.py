"""Pricing and money (计价与金额): rounding once, VAT, tiers, instalments, shares, bounds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuchang.domains.settlement import periods
from shuchang.domains.settlement.models import MAX_FEN, SharingRule
from shuchang.domains.settlement.money import AmountOutOfRange, bounded, round_half_up, split, vat
from shuchang.domains.settlement.pricing import (
    PriceInvalid,
    PriceTerms,
    Tier,
    graduated,
    instalment_starts,
    invoice_lines,
    terms_of,
    usage_line,
)
from shuchang.domains.settlement.sharing import Link, shares


def china(y: int, m: int, d: int, h: int = 0) -> datetime:
    return datetime(y, m, d, h, tzinfo=periods.CHINA).astimezone(UTC)


def test_round_half_up_and_vat_round_once_to_the_fen() -> None:
    assert [round_half_up(n, 10) for n in (14, 15, 16, 25)] == [1, 2, 2, 3]
    assert vat(24000, 600) == 1440
    assert vat(25, 600) == 2  # 1.5 fen → 2
    assert vat(8, 600) == 0  # 0.48 fen → 0
    with pytest.raises(ValueError, match="non-negative"):
        round_half_up(-1, 10)


def test_per_row_prices_round_once_per_line_not_per_record() -> None:
    terms = PriceTerms("per_row", 3)
    line = usage_line(terms, {"row": 1_234_567}, 600)
    assert line is not None
    assert (line.net_fen, line.tax_fen) == (3704, 222)  # 3703.701 → 3704; 222.24 → 222
    # per record, 1,234,567 single-row records would each round 0.003 fen to nothing.
    assert sum(round_half_up(3, 1000) for _ in range(1000)) == 0


def test_tiers_are_graduated_and_restart_each_period() -> None:
    tiers = (Tier(100, 20), Tier(1000, 10), Tier(None, 5))
    assert graduated(tiers, 0) == (0, [])
    assert graduated(tiers, 100)[0] == 2000
    assert graduated(tiers, 101)[0] == 2010
    assert graduated(tiers, 5000) == (
        2000 + 9000 + 20000,
        [[100, 20, 100], [1000, 10, 900], [None, 5, 4000]],
    )
    rows = PriceTerms("tiered", 20, unit="row", tiers=tiers)
    line = usage_line(rows, {"row": 150, "call": 9}, 0)
    assert line is not None and (line.unit, line.net_fen) == ("row", 3)  # 2500/1000 → 2.5 → 3


TIERS = st.lists(st.integers(1, 10_000), min_size=1, max_size=6, unique=True).flatmap(
    lambda bounds: st.tuples(
        st.just(sorted(bounds)),
        st.lists(st.integers(0, 10_000), min_size=len(bounds) + 1, max_size=len(bounds) + 1),
    )
)


@given(tiers=TIERS, a=st.integers(0, 10**7), b=st.integers(0, 10**7))
def test_tiered_totals_are_monotone_in_volume(
    tiers: tuple[list[int], list[int]], a: int, b: int
) -> None:
    bounds, prices = tiers
    ladder = (*(Tier(u, p) for u, p in zip(bounds, prices, strict=False)), Tier(None, prices[-1]))
    low, high = sorted((a, b))
    assert graduated(ladder, low)[0] <= graduated(ladder, high)[0]
    total, breakdown = graduated(ladder, high)
    assert sum(units for _, _, units in breakdown) == high  # every unit priced exactly once
    assert total == sum(units * price for _, price, units in breakdown)


def test_subscription_instalments_follow_the_agreement_and_clamp_month_ends() -> None:
    monthly = PriceTerms("subscription", 100, "month")
    start, until = china(2025, 1, 31, 10), china(2026, 1, 31, 10)
    starts = [
        instalment_starts(monthly, start, until, periods.Period(2025, m)) for m in range(1, 13)
    ]
    assert [len(s) for s in starts] == [1] * 12
    assert starts[1][0] == china(2025, 2, 28, 10)  # 31 January + 1 month
    assert starts[3][0] == china(2025, 4, 30, 10)
    assert instalment_starts(monthly, start, until, periods.Period(2026, 1)) == []  # ends 31 Jan
    quarterly = PriceTerms("subscription", 100, "quarter")
    billed = [
        m
        for m in range(1, 13)
        if instalment_starts(quarterly, start, until, periods.Period(2025, m))
    ]
    assert billed == [1, 4, 7, 10]
    once = PriceTerms("one_off", 500)
    assert instalment_starts(once, start, until, periods.Period(2025, 1)) == [start]
    assert instalment_starts(once, start, until, periods.Period(2025, 2)) == []


def test_period_boundaries_are_china_midnight() -> None:
    march = periods.parse("2025-03")
    assert march.start == datetime(2025, 2, 28, 16, tzinfo=UTC)
    assert march.end == datetime(2025, 3, 31, 16, tzinfo=UTC)
    assert periods.period_of(datetime(2025, 3, 31, 16, tzinfo=UTC)) == periods.Period(2025, 4)
    assert str(periods.Period(2025, 12).next()) == "2026-01"
    assert str(periods.Period(2025, 1).previous()) == "2024-12"


def _price(**kw: Any) -> dict[str, Any]:
    return {"shuchang:price": kw}


@pytest.mark.parametrize(
    "price",
    [
        {"model": "barter", "amountFen": "1"},
        {"model": "per_call", "amountFen": "-5"},
        {"model": "per_call", "amountFen": "1.5"},
        {"model": "per_call", "amountFen": str(MAX_FEN + 1)},
        {"model": "subscription", "amountFen": "100"},
        {"model": "per_call", "amountFen": "100", "period": "month"},
        {"model": "tiered", "amountFen": "20", "unit": "call", "tiers": []},
        {
            "model": "tiered",
            "amountFen": "20",
            "unit": "byte",
            "tiers": [{"upTo": None, "unitFen": "1"}],
        },
        {
            "model": "tiered",
            "amountFen": "20",
            "unit": "call",
            "tiers": [{"upTo": "10", "unitFen": "1"}],
        },
        {
            "model": "tiered",
            "amountFen": "20",
            "unit": "call",
            "tiers": [
                {"upTo": "10", "unitFen": "1"},
                {"upTo": "5", "unitFen": "1"},
                {"upTo": None, "unitFen": "1"},
            ],
        },
    ],
)
def test_unbillable_price_terms_are_refused(price: dict[str, Any]) -> None:
    with pytest.raises(PriceInvalid):
        terms_of(_price(**price))


def test_signed_price_terms_are_read_exactly() -> None:
    terms = terms_of(
        _price(
            model="tiered",
            amountFen="20",
            period=None,
            unit="call",
            tiers=[{"upTo": "100", "unitFen": "20"}, {"upTo": None, "unitFen": "5"}],
        )
    )
    assert terms == PriceTerms("tiered", 20, None, "call", (Tier(100, 20), Tier(None, 5)))
    assert PriceTerms.from_json(terms.to_json()) == terms


def test_overflowing_amounts_are_refused_not_stored() -> None:
    huge = PriceTerms("per_call", 10**12)
    with pytest.raises(AmountOutOfRange) as refused:
        invoice_lines(
            huge,
            (china(2025, 1, 1), china(2026, 1, 1)),
            periods.Period(2025, 3),
            {"call": 10**4},
            600,
        )
    assert refused.value.code == "settlement.amount_out_of_range"
    for bad in (-1, MAX_FEN + 1, True, 1.5):
        with pytest.raises(AmountOutOfRange):
            bounded(bad, "x")  # type: ignore[arg-type]


@given(
    total=st.integers(0, 10**12), weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=8)
)
def test_largest_remainder_shares_sum_to_the_amount_and_are_never_negative(
    total: int, weights: list[int]
) -> None:
    if not any(weights):
        weights = [*weights, 1]
    whole = sum(weights)
    parts = [(i, Fraction(total * w, whole)) for i, w in enumerate(weights)]
    out = split(total, parts)
    assert sum(out.values()) == total
    assert all(v >= 0 for v in out.values())
    assert all(abs(out[i] - exact) < 1 for i, exact in parts)  # each within a fen of exact


BP = st.integers(0, 10_000)


@given(
    net=st.integers(0, 10**13),
    fee=BP,
    authority=BP,
    upstream=BP,
    public=st.booleans(),
    depth=st.integers(1, 5),
)
def test_revenue_shares_sum_to_the_net_exactly(  # noqa: PLR0917 - hypothesis passes by name
    net: int, fee: int, authority: int, upstream: int, public: bool, depth: int
) -> None:
    scale = max(1, (fee + authority + upstream + 9_999) // 10_000)
    operator, body, provider = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    rule = SharingRule(
        version=1,
        operator_id=operator,
        operator_fee_bp=fee // scale,
        authority_id=body,
        authority_bp=authority // scale,
        upstream_bp=upstream // scale,
        upstream_depth=depth,
    )
    product, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    up1, up2 = uuid.uuid4(), uuid.uuid4()
    links = {
        product: [Link(first, up1, 2), Link(second, up2, 1)],
        first: [Link(second, up2, 1), Link(product, provider, 1)],
    }
    found = shares(
        net, provider_id=provider, product_id=product, public=public, rule=rule, links=links
    )
    assert sum(found.values()) == net
    assert all(v > 0 for v in found.values())
    if not public:
        assert (body, "authority") not in found


TERMS = st.one_of(
    st.builds(PriceTerms, st.just("per_call"), st.integers(0, 10**6)),
    st.builds(PriceTerms, st.just("per_row"), st.integers(0, 10**6)),
    st.builds(PriceTerms, st.just("one_off"), st.integers(0, 10**9)),
    st.builds(
        PriceTerms,
        st.just("subscription"),
        st.integers(0, 10**9),
        st.sampled_from(["month", "quarter", "year"]),
    ),
    TIERS.map(
        lambda t: PriceTerms(
            "tiered",
            t[1][0],
            unit="call",
            tiers=(*(Tier(u, p) for u, p in zip(t[0], t[1], strict=False)), Tier(None, t[1][-1])),
        )
    ),
)


@given(
    terms=TERMS,
    calls=st.integers(0, 10**7),
    rows=st.integers(0, 10**9),
    month=st.integers(1, 12),
    vat_bp=st.integers(0, 10_000),
)
def test_no_invoice_line_is_negative_and_vat_never_exceeds_its_net(
    terms: PriceTerms, calls: int, rows: int, month: int, vat_bp: int
) -> None:
    validity = (china(2025, 1, 15), china(2026, 1, 15))
    lines = invoice_lines(
        terms, validity, periods.Period(2025, month), {"call": calls, "row": rows}, vat_bp
    )
    for line in lines:
        assert 0 <= line.tax_fen <= line.net_fen or (line.net_fen == 0 and line.tax_fen == 0)
        assert line.net_fen >= 0 and line.quantity >= 0
