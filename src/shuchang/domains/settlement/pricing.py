"""Pricing (计价): the price an agreement was signed with, turned into invoice lines.

The terms come from the signed agreement's ``shuchang:price`` (the offer's price when the
provider agreed), never from the product as it is today. Price models:

==============  =================================================================  ==========
model           what is billed in a period                                         unit
==============  =================================================================  ==========
``free``        nothing (usage is still reported)                                  —
``one_off``     ``amountFen`` once, in the period the agreement starts             —
``subscription````amountFen`` per month / quarter / year, each instalment in the   —
                period it starts in, counted from the agreement's start; an
                instalment is billed in full if it starts before the agreement
                ends (no proration)
``per_call``    billable calls × ``amountFen``                                     call
``per_row``     billable rows × ``amountFen`` / 1,000, rounded half up once        row
``tiered``      graduated volume tiers over the period's calls or rows: each unit  call / row
                costs its tier's ``unitFen`` (rows: per 1,000, rounded once)
==============  =================================================================  ==========

Usage comes as quantities per unit (``{"call": n, "row": m}``) from the meters
(:mod:`.meters`); a new kind of metered use adds a unit and, where it is priced, a model
here. VAT is added per line (:func:`shuchang.domains.settlement.money.vat`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shuchang.domains.settlement.models import MAX_FEN
from shuchang.domains.settlement.money import bounded, round_half_up, vat
from shuchang.domains.settlement.periods import CHINA, Period, add_months
from shuchang.errors import ValidationFailed

MODELS = ("free", "one_off", "subscription", "per_call", "per_row", "tiered")
MONTHS = {"month": 1, "quarter": 3, "year": 12}
USAGE_UNIT = {"per_call": "call", "per_row": "row"}
PER_ROWS = 1000  # row prices are per 1,000 rows
MAX_TIERS = 20


class PriceInvalid(ValidationFailed):
    default_code = "settlement.price_invalid"
    default_zh = "合约中的价格条款无法计价"
    default_en = "The agreement's price terms cannot be billed"


@dataclass(frozen=True)
class Tier:
    up_to: int | None
    unit_fen: int


@dataclass(frozen=True)
class PriceTerms:
    model: str
    amount_fen: int
    period: str | None = None
    unit: str | None = None
    tiers: tuple[Tier, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "amount_fen": self.amount_fen,
            "period": self.period,
            "unit": self.unit,
            "tiers": [[t.up_to, t.unit_fen] for t in self.tiers],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PriceTerms:
        tiers = tuple(Tier(up_to, fen) for up_to, fen in data.get("tiers") or [])
        return cls(data["model"], data["amount_fen"], data.get("period"), data.get("unit"), tiers)


@dataclass(frozen=True)
class Line:
    """One invoice line: an instalment or a usage charge, with its VAT."""

    kind: str  # one_off | subscription | usage
    unit: str  # period | call | row
    quantity: int
    unit_fen: int | None  # None for tiered usage (see ``tiers``)
    net_fen: int
    tax_fen: int
    starts: str | None = None  # an instalment's start, Asia/Shanghai ISO date
    tiers: list[list[int | None]] = field(default_factory=list)  # [up_to, unit_fen, units]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "unit": self.unit,
            "quantity": self.quantity,
            "unit_fen": self.unit_fen,
            "net_fen": self.net_fen,
            "tax_fen": self.tax_fen,
            "starts": self.starts,
            "tiers": self.tiers,
        }


def _amount(raw: Any, what: str) -> int:
    try:
        value = int(str(raw))
    except ValueError:
        raise PriceInvalid(f"{what} is not a whole number of fen", f"{what}不是整数分") from None
    if not 0 <= value <= MAX_FEN:
        raise PriceInvalid(f"{what} is out of range", f"{what}超出范围")
    return value


def _tiers(raw: Any) -> tuple[Tier, ...]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_TIERS:
        raise PriceInvalid("A tiered price needs 1 to 20 tiers", "阶梯价须有 1 至 20 档")
    tiers = []
    for i, item in enumerate(raw):
        bound = item.get("upTo") if isinstance(item, dict) else "?"
        up_to = None if bound is None else _amount(bound, f"tier {i + 1} upTo")
        tiers.append(Tier(up_to, _amount(item.get("unitFen"), f"tier {i + 1} unitFen")))
    limits = [t.up_to for t in tiers[:-1] if t.up_to is not None and t.up_to > 0]
    if (
        tiers[-1].up_to is not None
        or len(limits) != len(tiers) - 1
        or limits != sorted(set(limits))
    ):
        raise PriceInvalid(
            "Tier limits must be above 0 and rise, and the last tier must be open",
            "阶梯上限须大于 0 且逐档递增，最后一档不设上限",
        )
    return tuple(tiers)


def terms_of(document: Mapping[str, Any]) -> PriceTerms:
    """The price terms of a signed agreement (its ``shuchang:price``)."""
    price = document.get("shuchang:price")
    if not isinstance(price, dict) or price.get("model") not in MODELS:
        raise PriceInvalid("The agreement names no known price model", "合约未写明可识别的计价方式")
    model, period = price["model"], price.get("period")
    amount = _amount(price.get("amountFen", "0"), "amountFen")
    if (model == "subscription") != (period in MONTHS):
        raise PriceInvalid(
            "A subscription, and only a subscription, has a period of month, quarter or year",
            "订阅价格须且只须写明周期（月、季度或年）",
        )
    if model != "tiered":
        return PriceTerms(model, amount, period if model == "subscription" else None)
    unit = price.get("unit")
    if unit not in ("call", "row"):
        raise PriceInvalid("A tiered price counts calls or rows", "阶梯价须按次或按行计量")
    return PriceTerms(model, amount, None, unit, _tiers(price.get("tiers")))


def instalment_starts(
    terms: PriceTerms, valid_from: datetime, valid_until: datetime, period: Period
) -> list[datetime]:
    """Starts of the one-off or subscription instalments billed in ``period``."""
    if terms.model == "one_off":
        return [valid_from] if period.contains(valid_from) else []
    if terms.model != "subscription" or terms.period is None:
        return []
    # Instalment k starts k × step months after the agreement, in local month
    # (start month + k × step): at most one of them falls in any calendar month.
    months = period.year * 12 + period.month - _month_index(valid_from)
    if months < 0 or months % MONTHS[terms.period]:
        return []
    start = add_months(valid_from, months)
    return [start] if start < valid_until and period.contains(start) else []


def _month_index(when: datetime) -> int:
    local = when.astimezone(CHINA)
    return local.year * 12 + local.month


def graduated(tiers: tuple[Tier, ...], units: int) -> tuple[int, list[list[int | None]]]:
    """Σ units in each tier × its unit price, and the breakdown ``[up_to, unit_fen, units]``."""
    total, below, breakdown = 0, 0, []
    for tier in tiers:
        if units <= below:
            break
        top = units if tier.up_to is None else min(units, tier.up_to)
        count = top - below
        total += count * tier.unit_fen
        breakdown.append([tier.up_to, tier.unit_fen, count])
        below = top
    return total, breakdown


def usage_line(terms: PriceTerms, quantities: Mapping[str, int], vat_bp: int) -> Line | None:
    """The usage charge of a period, or None for models that do not bill usage."""
    unit = USAGE_UNIT.get(terms.model) or (terms.unit if terms.model == "tiered" else None)
    if unit is None:
        return None
    quantity = quantities.get(unit, 0)
    if quantity < 0:
        raise ValueError("a metered quantity is never negative")
    per = PER_ROWS if unit == "row" else 1
    price: int | None = terms.amount_fen
    breakdown: list[list[int | None]] = []
    if terms.model == "tiered":
        raw, breakdown = graduated(terms.tiers, quantity)
        price = None
    else:
        raw = quantity * terms.amount_fen
    net = round_half_up(raw, per)
    bounded(net, f"usage charge of {quantity} {unit}s")
    return Line("usage", unit, quantity, price, net, vat(net, vat_bp), tiers=breakdown)


def invoice_lines(
    terms: PriceTerms,
    validity: tuple[datetime, datetime],
    period: Period,
    quantities: Mapping[str, int],
    vat_bp: int,
) -> list[Line]:
    """Every line an order's invoice carries for ``period`` (possibly none)."""
    lines = [
        Line(
            terms.model,
            "period",
            1,
            terms.amount_fen,
            terms.amount_fen,
            vat(terms.amount_fen, vat_bp),
            starts=start.astimezone(CHINA).date().isoformat(),
        )
        for start in instalment_starts(terms, *validity, period)
    ]
    usage = usage_line(terms, quantities, vat_bp)
    if usage is not None:
        lines.append(usage)
    return lines
