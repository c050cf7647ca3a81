"""Transaction value and settlement status (交易额 / 结算状态) for the regulator.

Value has three views side by side, per month (Asia/Shanghai):

* **contracted** — from the agreements: one-off (一次性) agreements count their price in the
  month they were concluded; subscriptions (订阅) count their price once per period the
  agreement runs (a 365-day agreement at a monthly price counts 12 periods), in that month;
* **metered** — per-call (按次) agreements' price for every permitted data request, in the
  month of the request, from the metering records (live, before any settlement);
* **settled** — the gross amount (tax included) of the month's settlement batch, from the
  settlement domain (清结算口径); empty until the month is settled.

Settlement status is each recent month's batch: cleared or paid, its gross amount and whether
its last reconciliation found errors.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from shuchang.domains import settlement
from shuchang.domains.contracts import agreement_facts
from shuchang.domains.supervision import rollup
from shuchang.domains.supervision.schemas import Table

PERIOD_DAYS = {"month": 30, "quarter": 91, "year": 365}
MONTHS_SETTLED = 12
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
    settled = {m.period: m.gross_fen for m in settlement.monthly_value(session, MONTHS_SETTLED)}
    rows = monthly_value(session, since)
    months = sorted({r[0] for r in rows} | {p for p in settled if p >= _month(since)})
    by_month = {r[0]: r for r in rows}
    return Table(
        name="transaction_value",
        title_zh="交易额（按月）",
        title_en="Transaction value by month",
        columns=["month", "contracted_fen", "metered_fen", "settled_gross_fen", "agreements"],
        columns_zh=[
            "月份",
            "合约金额（分）",
            "按次计量金额（分）",
            "已结算含税金额（分）",
            "新订合约数",
        ],
        rows=[_value_row(m, by_month.get(m), settled.get(m, 0)) for m in months],
        note_zh="合约与计量金额由合约价格与计量记录实时计算；已结算金额取自该月的清结算批次。",
        note_en="Contracted and metered value are computed live from agreement prices and "
        "metering; settled value is the month's settlement batch.",
    )


def _value_row(
    month: str, live: tuple[str, int, int, int] | None, settled: int
) -> list[str | int | None]:
    contracted, metered, concluded = (live[1], live[2], live[3]) if live else (0, 0, 0)
    return [month, contracted, metered, settled, concluded]


def settlement_status(session: Session) -> Table:
    """Each recent month's settlement batch (清分结算批次) and its last reconciliation."""
    batches = settlement.batch_statuses(session, MONTHS_SETTLED)
    return Table(
        name="settlement_status",
        title_zh="结算状态",
        title_en="Settlement status",
        columns=["period", "status", "gross_fen", "reconciled"],
        columns_zh=["结算月份", "状态", "含税金额（分）", "对账"],
        rows=[
            [
                b.period,
                b.status,
                b.gross_fen,
                "" if b.reconciled_ok is None else ("ok" if b.reconciled_ok else "mismatch"),
            ]
            for b in batches
        ],
    )
