"""Transaction value and settlement status (交易额 / 结算状态): the seam to settlement.

Until the settlement domain (orders, ledger, clearing) is part of this build, value is
computed from what the contracts and the data plane already hold, and labelled so:

* one-off (一次性) agreements count their price in the month they were concluded;
* subscriptions (订阅) count their price once per period the agreement runs (a 365-day
  agreement at a monthly price counts 12 periods), in the month concluded;
* per-call (按次) agreements count their price for every permitted data request, in the
  month of the request (Asia/Shanghai), from the metering records;
* free agreements count nothing.

This is *contracted and metered* value, not money settled: settlement status needs the
settlement domain's records, and :func:`settlement_status` says it is not available here.
The settlement domain replaces both functions' bodies with its read function at merge.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from shuchang.domains.contracts import agreement_facts
from shuchang.domains.supervision import rollup
from shuchang.domains.supervision.schemas import Table

PERIOD_DAYS = {"month": 30, "quarter": 91, "year": 365}
CHINA = timedelta(hours=8)


def _month(when: datetime) -> str:
    return f"{when + CHINA:%Y-%m}"


def monthly_value(session: Session, since: datetime) -> list[tuple[str, int, int, int]]:
    """``(YYYY-MM, contracted fen, metered fen, agreements concluded)`` from ``since`` on."""
    months: dict[str, list[int]] = {}
    prices: dict[uuid.UUID, tuple[str, int]] = {}
    for a in agreement_facts(session):
        prices[a.id] = (a.price_model, a.price_fen)
        if a.created_at < since:
            continue
        row = months.setdefault(_month(a.created_at), [0, 0, 0])
        row[2] += 1
        if a.price_model == "one_off":
            row[0] += a.price_fen
        elif a.price_model == "subscription":
            days = max((a.valid_until - a.valid_from).days, 1)
            period = PERIOD_DAYS.get(a.price_period or "year", 365)
            row[0] += a.price_fen * max(1, round(days / period))
    per_call = [a for a, (model, _) in prices.items() if model == "per_call"]
    for month, agreement_id, permitted in rollup.permitted_by_month(
        session, (since + CHINA).date(), per_call
    ):
        months.setdefault(month, [0, 0, 0])[1] += prices[agreement_id][1] * permitted
    return [(m, v[0], v[1], v[2]) for m, v in sorted(months.items())]


def value_table(session: Session, since: datetime) -> Table:
    rows = monthly_value(session, since)
    return Table(
        name="transaction_value",
        title_zh="交易额（按月，合约与计量口径）",
        title_en="Transaction value by month (contracted and metered)",
        columns=["month", "contracted_fen", "metered_fen", "agreements"],
        columns_zh=["月份", "合约金额（分）", "按次计量金额（分）", "新订合约数"],
        rows=[list(r) for r in rows],
        note_zh="由合约价格与计量记录计算，非清结算口径；清结算上线后以结算数据为准。",
        note_en="Computed from agreement prices and metering, not settled amounts.",
    )


def settlement_status(session: Session) -> Table:
    """Settlement status needs the settlement domain's records (not in this build)."""
    del session
    return Table(
        name="settlement_status",
        title_zh="结算状态",
        title_en="Settlement status",
        columns=["status", "orders", "amount_fen"],
        columns_zh=["结算状态", "订单数", "金额（分）"],
        rows=[],
        note_zh="清结算模块未随本版本安装，暂无结算记录。",
        note_en="The settlement domain is not part of this build; no settlement records.",
        available=False,
    )
