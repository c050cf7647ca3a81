"""Money arithmetic (金额): integer fen, exact fractions, one rounding rule, bounds.

* Amounts are integers in fen (分). Nothing is ever a float.
* **Rounding** is half up (四舍五入) and happens once per invoice line, never per usage record:
  a per-row price of 3 fen per 1,000 rows on 1,234,567 rows is ``round(3703.701) = 3704`` fen.
* **VAT** (增值税) is ``round_half_up(net × rate)`` per invoice line, the rate in basis points
  (600 = 6 %, the rate for data and information-technology services).
* **Splitting** an amount among parties uses the largest-remainder method: each party gets the
  floor of its exact share, and the fen left over go one each to the largest fractional parts
  (ties to the earlier party in the given order), so the shares always sum to the amount.
* **Bounds**: every amount lies in ``0 … MAX_FEN`` (10**15 fen); beyond it the computation is
  refused rather than stored (BIGINT would hold it, canonical JSON above 2**53 would not).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from fractions import Fraction
from typing import TypeVar

from shuchang.domains.settlement.models import MAX_FEN
from shuchang.errors import ValidationFailed

BASIS = 10_000  # basis points in a whole
K = TypeVar("K", bound=Hashable)


class AmountOutOfRange(ValidationFailed):
    """An amount is negative or beyond :data:`MAX_FEN`."""

    default_code = "settlement.amount_out_of_range"
    default_zh = "金额超出允许范围（0 至 10¹⁵ 分）"
    default_en = "Amount out of range (0 to 10^15 fen)"


def bounded(value: int, what: str) -> int:
    """``value`` if it is a whole number of fen within bounds, else :class:`AmountOutOfRange`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_FEN:
        raise AmountOutOfRange(
            f"{what}: {value!r} is not an amount of 0 to {MAX_FEN} fen",
            f"{what}：{value!r} 不是 0 至 {MAX_FEN} 分之间的金额",
            extra={"what": what, "value": str(value)},
        )
    return value


def round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up (both non-negative, denominator > 0)."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("round_half_up takes a non-negative numerator and positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)


def vat(net_fen: int, rate_bp: int) -> int:
    """The VAT on ``net_fen`` at ``rate_bp`` basis points, rounded half up to the fen."""
    return round_half_up(net_fen * rate_bp, BASIS)


def split(total: int, parts: Sequence[tuple[K, Fraction]]) -> dict[K, int]:
    """Share ``total`` fen among ``parts`` (key, exact amount) by largest remainder.

    The exact amounts must be non-negative and sum to ``total``; keys that repeat are merged.
    The result sums to ``total`` exactly and no share is negative.
    """
    merged: dict[K, Fraction] = {}
    for key, amount in parts:
        if amount < 0:
            raise ValueError(f"negative share for {key!r}")
        merged[key] = merged.get(key, Fraction(0)) + amount
    if sum(merged.values(), Fraction(0)) != total:
        raise ValueError(f"shares sum to {sum(merged.values())}, not {total}")
    floors = {key: int(amount) for key, amount in merged.items()}  # int() floors: amount >= 0
    left = total - sum(floors.values())
    order = sorted(
        enumerate(merged), key=lambda item: (-(merged[item[1]] - floors[item[1]]), item[0])
    )
    for _, key in order[:left]:
        floors[key] += 1
    return floors
