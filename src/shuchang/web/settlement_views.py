"""What the settlement pages show, gathered from the settlement domain's functions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from shuchang.domains.participants import ParticipantOut
from shuchang.domains.settlement import batches, orders, payouts, periods, reconciliation, views
from shuchang.domains.settlement.schemas import (
    BatchOut,
    BatchStatus,
    InvoiceOut,
    MonthValue,
    OrderOut,
    ReconciliationOut,
    RecordOut,
    StatementOut,
    TransferOut,
)
from shuchang.errors import NotFound
from shuchang.web.catalog_views import provider_names
from shuchang.web.pages import Viewer

OVERSIGHT = ("operator", "regulator")


@dataclass(frozen=True)
class Overview:
    months: list[MonthValue]
    statuses: list[BatchStatus]
    invoices: list[InvoiceOut]
    names: dict[uuid.UUID, ParticipantOut]
    suggested: str  # the month an operator would settle next

    def chart(self) -> dict[str, Any]:
        """The series of the monthly transaction-value chart (yuan; the axis is for people)."""
        return {
            "periods": [m.period for m in self.months],
            "gross": [m.gross_fen / 100 for m in self.months],
            "net": [m.net_fen / 100 for m in self.months],
            "calls": [m.calls for m in self.months],
        }


def _suggested(now: datetime, statuses: list[BatchStatus]) -> str:
    last_month = periods.period_of(now).previous()
    settled = {s.period for s in statuses}
    return str(last_month) if str(last_month) not in settled else str(last_month.next())


def overview(session: Session, user: Viewer, now: datetime) -> Overview:
    months, statuses = views.overview(session, user.actor) if user.role in OVERSIGHT else ([], [])
    found = batches.invoices(session, user.actor, limit=20)
    ids = [i.consumer_id for i in found] + [i.provider_id for i in found]
    return Overview(
        months, statuses, found, provider_names(session, ids), _suggested(now, statuses)
    )


@dataclass(frozen=True)
class OrderList:
    orders: list[OrderOut]
    invoices: list[InvoiceOut]
    names: dict[uuid.UUID, ParticipantOut]


def order_list(session: Session, user: Viewer) -> OrderList:
    found = orders.list_orders(session, user.actor)
    bills = batches.invoices(session, user.actor)
    ids = [o.provider_id for o in found] + [o.consumer_id for o in found]
    ids += [s.participant_id for i in bills for s in i.shares]
    return OrderList(found, bills, provider_names(session, ids))


@dataclass(frozen=True)
class BatchView:
    batch: BatchOut
    statements: list[StatementOut]
    transfers: list[TransferOut]
    report: ReconciliationOut | None
    names: dict[uuid.UUID, ParticipantOut]

    def transfers_of(self, participant_id: uuid.UUID) -> list[TransferOut]:
        return [t for t in self.transfers if t.participant_id == participant_id]


def batch_view(session: Session, user: Viewer, period: str) -> BatchView:
    """A batch for oversight; a participant sees its own statement and transfers."""
    found = batches.load_batch(session, period)
    statements = batches.statements(session, user.actor, period)
    if user.role not in OVERSIGHT and not statements:
        raise NotFound(
            "No statement of yours in this batch",
            "本批次中没有您的结算单",
            code="settlement.statement_not_found",
        )
    moves = payouts.list_transfers(session, found.id)
    if user.role not in OVERSIGHT:
        moves = [t for t in moves if t.participant_id == user.participant.id]
    try:
        report = (
            reconciliation.latest(session, user.actor, period) if user.role in OVERSIGHT else None
        )
    except NotFound:
        report = None
    names = provider_names(
        session,
        [s.participant_id for s in statements]
        + [x.counterparty_id for s in statements for x in s.lines],
    )
    return BatchView(batches.batch_out(found), statements, moves, report, names)


def record_list(session: Session, user: Viewer, period: str | None) -> list[RecordOut]:
    return views.list_records(session, user.actor, period=period)
