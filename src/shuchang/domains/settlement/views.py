"""Reading transaction records and the figures supervision shows (监管看板)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shuchang.domains.participants import Actor, require
from shuchang.domains.settlement import periods, records
from shuchang.domains.settlement.models import Batch, Invoice, Reconciliation, Record
from shuchang.domains.settlement.schemas import BatchStatus, MonthValue, RecordOut
from shuchang.errors import NotFound

OVERSIGHT = ("operator", "regulator", "system")


def record_out(row: Record, document: dict[str, object] | None = None) -> RecordOut:
    return RecordOut(
        id=row.id,
        kind=row.kind,
        invoice_id=row.invoice_id,
        batch_id=row.batch_id,
        agreement_id=row.agreement_id,
        period=row.period,
        sha256=row.sha256,
        evidence_id=row.evidence_id,
        created_at=row.created_at,
        document=dict(document or row.document),
    )


def _visible(session: Session, actor: Actor, row: Record) -> bool:
    """Filings: oversight only. Vouchers: oversight and the invoice's parties."""
    if actor.role in OVERSIGHT:
        return True
    if row.kind != "voucher":
        return False
    invoice = session.get(Invoice, row.invoice_id)
    return invoice is not None and actor.participant_id in (
        invoice.consumer_id,
        invoice.provider_id,
    )


def list_records(
    session: Session,
    actor: Actor,
    *,
    period: str | None = None,
    agreement_id: uuid.UUID | None = None,
    kind: str | None = None,
    limit: int = 500,
) -> list[RecordOut]:
    stmt = (
        select(Record).order_by(Record.period.desc(), Record.agreement_id, Record.kind).limit(limit)
    )
    if actor.role not in OVERSIGHT:
        mine = select(Invoice.id).where(
            or_(
                Invoice.consumer_id == actor.participant_id,
                Invoice.provider_id == actor.participant_id,
            )
        )
        stmt = stmt.where(Record.kind == "voucher", Record.invoice_id.in_(mine))
    if period is not None:
        stmt = stmt.where(Record.period == str(periods.parse(period)))
    if agreement_id is not None:
        stmt = stmt.where(Record.agreement_id == agreement_id)
    if kind is not None:
        stmt = stmt.where(Record.kind == kind)
    return [record_out(r) for r in session.scalars(stmt)]


def get_record(session: Session, actor: Actor, record_id: uuid.UUID) -> RecordOut:
    """A record, with its log entry's leaf and receipt attached once they exist."""
    row = session.get(Record, record_id)
    if row is None or not _visible(session, actor, row):
        raise NotFound("Record not found", "交易凭证不存在", code="settlement.record_not_found")
    return record_out(row, records.attach_evidence(session, dict(row.document), row.evidence_id))


def monthly_value(session: Session, months: int = 12) -> list[MonthValue]:
    """Transaction value per settled month, oldest first (the last ``months`` months)."""
    rows = session.execute(
        select(
            Batch.period, Batch.invoices, Batch.net_fen, Batch.tax_fen, Batch.gross_fen, Batch.calls
        )
        .order_by(Batch.period.desc())
        .limit(months)
    ).all()
    return [MonthValue(*row) for row in reversed(rows)]


def batch_statuses(session: Session, months: int = 12) -> list[BatchStatus]:
    """Each recent month's batch status and whether its last reconciliation found errors."""
    last = (
        select(Reconciliation.period, func.max(Reconciliation.id).label("id"))
        .group_by(Reconciliation.period)
        .subquery()
    )
    rows = session.execute(
        select(Batch, Reconciliation.ok)
        .outerjoin(last, last.c.period == Batch.period)
        .outerjoin(Reconciliation, Reconciliation.id == last.c.id)
        .order_by(Batch.period.desc())
        .limit(months)
    ).all()
    return [
        BatchStatus(b.period, b.status, b.gross_fen, b.cleared_at, b.settled_at, ok)
        for b, ok in reversed(rows)
    ]


def overview(
    session: Session, actor: Actor, months: int = 12
) -> tuple[list[MonthValue], list[BatchStatus]]:
    require(actor, "operator", "regulator")
    return monthly_value(session, months), batch_statuses(session, months)
