"""Automatic listing checks (上架自动审核), run before any person looks at a product.

Each check returns reasons with a stable code, so providers can fix what is wrong:

* ``listing.metadata``      — required metadata missing (description too thin, no tags …)
* ``listing.policy``        — the offer's ODRL policy is malformed
* ``listing.price``         — the price does not fit its model
* ``listing.transformation``— a data element must describe its transformation
* ``listing.core_data``     — core data (核心数据) is never listed
* ``listing.legal_basis``   — personal information needs a stated legal basis
* ``listing.compute_only``  — sensitive personal information only as compute-only (可用不可见)
* ``listing.source_retired``— a source resource is no longer active
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from shuchang.domains.catalog.schemas import Price, Reason
from shuchang.policy import validate

MIN_DESCRIPTION = 20


@dataclass(frozen=True)
class SourceFacts:
    """What the checks need to know about one source resource version."""

    title: str
    classification: str
    personal_info: bool
    sensitive_personal_info: bool
    legal_basis: str | None
    active: bool


def price_faults(price: Price) -> list[Reason]:
    if price.model == "free" and price.amount_fen != 0:
        return [Reason("listing.price", "免费产品的价格须为 0", "A free product costs 0")]
    if price.model != "free" and price.amount_fen <= 0:
        return [
            Reason(
                "listing.price",
                "收费产品须标明大于 0 的价格（分）",
                "A priced product needs an amount above 0 fen",
            )
        ]
    if (price.model == "subscription") != (price.period is not None):
        return [
            Reason(
                "listing.price",
                "订阅价格须且只须写明周期",
                "A subscription, and only a subscription, has a period",
            )
        ]
    return _tier_faults(price)


def _tier_faults(price: Price) -> list[Reason]:
    """A tiered price (阶梯价) counts calls or rows, its tiers rise and the last is open."""
    if price.model != "tiered":
        if price.tiers or price.unit is not None:
            return [
                Reason(
                    "listing.price",
                    "只有阶梯价才写明计量单位和阶梯",
                    "Only a tiered price has a unit and tiers",
                )
            ]
        return []
    bounds = [t.up_to for t in price.tiers]
    rising = all(a is not None and b is not None and a < b for a, b in pairwise(bounds[:-1]))
    if price.unit is None or not bounds or bounds[-1] is not None or None in bounds[:-1]:
        return [
            Reason(
                "listing.price",
                "阶梯价须写明计量单位（次或行），最后一档不设上限",
                "A tiered price names its unit (call or row) and its last tier is open-ended",
            )
        ]
    if not rising:
        return [Reason("listing.price", "阶梯上限须逐档递增", "Tier limits must rise")]
    if price.amount_fen != price.tiers[0].unit_fen:
        return [
            Reason(
                "listing.price",
                "阶梯价的标价须等于第一档单价",
                "A tiered price's amount is its first tier's unit price",
            )
        ]
    return []


def _source_faults(kind: str, sources: list[SourceFacts]) -> list[Reason]:
    reasons = []
    for s in sources:
        if not s.active:
            reasons.append(
                Reason(
                    "listing.source_retired",
                    f"来源资源《{s.title}》已停用",
                    f"Source {s.title} is retired",
                )
            )
        if s.classification == "core":
            reasons.append(
                Reason(
                    "listing.core_data",
                    f"《{s.title}》为核心数据，不得上架",
                    f"{s.title} is core data and is never listed",
                )
            )
        if s.personal_info and not s.legal_basis:
            reasons.append(
                Reason(
                    "listing.legal_basis",
                    f"《{s.title}》含个人信息，须写明处理的法律依据",
                    f"{s.title} holds personal information and states no legal basis",
                )
            )
        if s.sensitive_personal_info and kind != "compute_only":
            reasons.append(
                Reason(
                    "listing.compute_only",
                    f"《{s.title}》含敏感个人信息，只能以“可用不可见”的计算产品上架",
                    f"{s.title} holds sensitive personal information: compute-only products only",
                )
            )
    return reasons


def check(
    *,
    kind: str,
    description: str,
    tags: list[str],
    policy: object,
    price: Price,
    transformation: str | None,
    sources: list[SourceFacts],
) -> list[Reason]:
    """Every reason the product cannot be listed yet; empty means it may go to review."""
    reasons: list[Reason] = []
    if len(description.strip()) < MIN_DESCRIPTION:
        reasons.append(
            Reason(
                "listing.metadata",
                f"产品描述至少 {MIN_DESCRIPTION} 个字",
                f"The description needs {MIN_DESCRIPTION}+ characters",
            )
        )
    if not tags:
        reasons.append(
            Reason(
                "listing.metadata",
                "至少需要一个标签，便于检索",
                "At least one tag is needed for discovery",
            )
        )
    for fault in validate(policy, expected_type="Offer"):
        reasons.append(
            Reason(
                "listing.policy",
                f"策略 {fault.path}：{fault.message_zh}",
                f"policy {fault.path}: {fault.message_en}",
            )
        )
    reasons += price_faults(price)
    if kind == "data_element" and not transformation:
        reasons.append(
            Reason(
                "listing.transformation",
                "数据元件须说明加工与脱敏方法",
                "A data element must describe its transformation",
            )
        )
    reasons += _source_faults(kind, sources)
    return reasons
