"""The privacy budget ledger (隐私预算台账): per (consumer, product, period) and per product.

Amounts are integers of micro-ε (1 ε = 1,000,000), so sums are exact on both backends.
A release locks the product's lifetime account first and then the consumer's period account
(always in that order, so two releases cannot deadlock), checks both limits, debits both and
stores the answer in the same transaction: two concurrent jobs can never both take the last
of a budget, and a job that would overspend releases nothing.

Periods are calendar periods in Asia/Shanghai (``epsilonPeriod`` of the agreement's policy):
``P1D`` → ``2026-12-06``, ``P1W`` → ``2026-W49``, ``P1M`` → ``2026-12``, ``P3M`` →
``2026-Q4``, ``P1Y`` → ``2026``; no period → ``term`` (the agreement's whole term).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains.compute.models import BudgetAccount

MICRO = 1_000_000
SHANGHAI = ZoneInfo("Asia/Shanghai")
PRODUCT = "product"


def micro(epsilon: float | Decimal | str) -> int:
    """ε as an integer count of micro-ε (rounded to the nearest)."""
    return int((Decimal(str(epsilon)) * MICRO).to_integral_value())


def epsilon_of(amount: int) -> float:
    return amount / MICRO


def evidence_safe(value: Any) -> Any:
    """``value`` with every float as its shortest decimal text: evidence payloads are
    canonical JSON (RFC 8785 as Shuchang uses it), which holds no floats."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {k: evidence_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [evidence_safe(v) for v in value]
    return value


def period_key(period: str | None, now: datetime) -> str:
    local = now.astimezone(SHANGHAI)
    if period == "P1D":
        return local.strftime("%Y-%m-%d")
    if period == "P1W":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "P1M":
        return local.strftime("%Y-%m")
    if period == "P3M":
        return f"{local.year}-Q{(local.month - 1) // 3 + 1}"
    if period == "P1Y":
        return str(local.year)
    return "term"


def consumer_account(consumer_id: uuid.UUID, period: str) -> str:
    return f"consumer:{consumer_id}:{period}"


def spent(session: Session, product_id: uuid.UUID, account: str) -> int:
    """What the account has spent (no lock: for displays and early refusals)."""
    value = session.scalar(
        select(BudgetAccount.spent_micro).where(
            BudgetAccount.product_id == product_id, BudgetAccount.account == account
        )
    )
    return int(value or 0)


def lock(session: Session, product_id: uuid.UUID, account: str) -> BudgetAccount:
    """The account's row, locked for this transaction (created at zero if missing)."""
    stmt = select(BudgetAccount).where(
        BudgetAccount.product_id == product_id, BudgetAccount.account == account
    )
    row = session.scalars(stmt.with_for_update()).first()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = BudgetAccount(product_id=product_id, account=account, spent_micro=0, releases=0)
            session.add(row)
    except IntegrityError:  # created a moment ago by a concurrent release: lock that one
        row = session.scalars(stmt.with_for_update()).one()
    return row


def debit(row: BudgetAccount, amount: int) -> None:
    row.spent_micro += amount
    row.releases += 1
    row.updated_at = utcnow()
