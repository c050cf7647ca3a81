"""Settling a period (结算一个周期) and reading batches, invoices and statements.

``run`` is what an operator calls (API, CLI, console): clear the month if it is not
cleared, then pay it. It is safe to call again after any interruption — clearing is one
transaction and paying resumes where it stopped — and refused once the month is settled.
"""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains.participants import Actor, find, require
from shuchang.domains.settlement import clearing, orders, payouts, periods
from shuchang.domains.settlement.models import Batch, Invoice, Order, Share, Statement
from shuchang.domains.settlement.rail import PaymentRail
from shuchang.domains.settlement.schemas import (
    BatchOut,
    InvoiceOut,
    RunOut,
    ShareOut,
    StatementLine,
    StatementOut,
)
from shuchang.errors import Conflict, NotFound
from shuchang.platform import Platform

OVERSIGHT = ("operator", "regulator", "system")


def batch_out(b: Batch) -> BatchOut:
    return BatchOut(
        id=b.id,
        period=b.period,
        status=b.status,
        rule_version=b.rule_version,
        vat_bp=b.vat_bp,
        invoices=b.invoices,
        records=b.records,
        calls=b.calls,
        rows=b.rows,
        net_fen=b.net_fen,
        tax_fen=b.tax_fen,
        gross_fen=b.gross_fen,
        cursor_id=b.cursor_id,
        cleared_by=b.cleared_by,
        cleared_at=b.cleared_at,
        settled_at=b.settled_at,
        evidence_id=b.evidence_id,
    )


def find_batch(session: Session, period: periods.Period) -> Batch | None:
    return session.scalars(select(Batch).where(Batch.period == str(period))).first()


def load_batch(session: Session, period_text: str) -> Batch:
    batch = find_batch(session, periods.parse(period_text))
    if batch is None:
        raise NotFound(
            f"{period_text} has not been cleared",
            f"{period_text} 尚未清分",
            code="settlement.batch_not_found",
        )
    return batch


def run(
    platform: Platform,
    actor: Actor,
    period_text: str,
    *,
    pay: bool = True,
    rail: PaymentRail | None = None,
) -> RunOut:
    """Clear (once) and pay (resuming) the month ``period_text`` (operator only)."""
    require(actor, "operator")
    period = periods.parse(period_text)
    if period.end > utcnow():
        opens = f"{period.end.astimezone(periods.CHINA):%Y-%m-%d %H:%M}"
        raise Conflict(
            f"{period} is not over yet; it can be settled from {opens} (UTC+8)",
            f"{period} 尚未结束，可自 {opens}（北京时间）起结算",
            code="settlement.period_open",
            field="period",
        )
    with platform.unit(write=False) as s:
        existing = find_batch(s, period)
        if existing is not None and existing.status == "settled":
            raise Conflict(
                f"{period} is already settled (batch {existing.id})",
                f"{period} 已结算（批次 {existing.id}），不能重复结算",
                code="settlement.period_settled",
                extra={"batch_id": str(existing.id)},
            )
    cleared_now = False
    if existing is None:
        _in_order(platform, period)
        with platform.unit() as s:
            orders.sync(s, actor)
        with platform.unit(write=False) as s:
            plan = clearing.prepare(s, platform.settings, period)
        try:
            with platform.unit() as s:
                clearing.commit(s, platform.settings, plan, actor)
            cleared_now = True
        except clearing.AlreadyCleared:
            pass  # a concurrent run cleared it; pay what it cleared
    with platform.unit(write=False) as s:
        batch_id = load_batch(s, str(period)).id
    transfers = payouts.pay(platform, actor, batch_id, rail) if pay else []
    with platform.unit(write=False) as s:
        return RunOut(batch_out(s.get_one(Batch, batch_id)), cleared_now, transfers)


def _in_order(platform: Platform, period: periods.Period) -> None:
    with platform.unit(write=False) as s:
        gap = clearing.earlier_open(s, period)
    if gap is not None:
        raise Conflict(
            f"{gap} is not settled yet; months are settled in order (settle {gap} first)",
            f"{gap} 尚未结算；结算须按月份顺序进行，请先结算 {gap}",
            code="settlement.earlier_period_open",
            field="period",
            extra={"unsettled": str(gap)},
        )


def pay(
    platform: Platform, actor: Actor, period_text: str, rail: PaymentRail | None = None
) -> RunOut:
    """Pay (or resume paying) a cleared month."""
    require(actor, "operator")
    with platform.unit(write=False) as s:
        batch_id = load_batch(s, period_text).id
    transfers = payouts.pay(platform, actor, batch_id, rail)
    with platform.unit(write=False) as s:
        return RunOut(batch_out(s.get_one(Batch, batch_id)), False, transfers)


def list_batches(session: Session, actor: Actor, limit: int = 120) -> list[BatchOut]:
    require(actor, "operator", "regulator")
    rows = session.scalars(select(Batch).order_by(Batch.period.desc()).limit(limit))
    return [batch_out(b) for b in rows]


def get_batch(session: Session, actor: Actor, period_text: str) -> BatchOut:
    require(actor, "operator", "regulator")
    return batch_out(load_batch(session, period_text))


def _shares(session: Session, invoice_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ShareOut]]:
    out: dict[uuid.UUID, list[ShareOut]] = {}
    if invoice_ids:
        rows = session.scalars(
            select(Share)
            .where(Share.invoice_id.in_(invoice_ids))
            .order_by(Share.role, Share.participant_id)
        )
        for r in rows:
            out.setdefault(r.invoice_id, []).append(
                ShareOut(r.participant_id, r.role, r.amount_fen)
            )
    return out


def invoices(
    session: Session,
    actor: Actor,
    *,
    period: str | None = None,
    order_id: uuid.UUID | None = None,
    participant_id: uuid.UUID | None = None,
    limit: int = 500,
) -> list[InvoiceOut]:
    """Invoices the caller is party to (oversight: all, or ``participant_id``'s)."""
    who = participant_id if actor.role in OVERSIGHT else actor.participant_id
    stmt = (
        select(Invoice, Order.product_title)
        .join(Order, Order.id == Invoice.order_id)
        .order_by(Invoice.period.desc(), Invoice.created_at, Invoice.id)
        .limit(limit)
    )
    if who is not None:
        shared = select(Share.invoice_id).where(Share.participant_id == who)
        stmt = stmt.where(
            or_(Invoice.consumer_id == who, Invoice.provider_id == who, Invoice.id.in_(shared))
        )
    elif actor.role not in OVERSIGHT:
        return []
    if period is not None:
        stmt = stmt.where(Invoice.period == str(periods.parse(period)))
    if order_id is not None:
        stmt = stmt.where(Invoice.order_id == order_id)
    rows = session.execute(stmt).all()
    shares = _shares(session, [inv.id for inv, _ in rows])
    return [_invoice_out(inv, title, shares.get(inv.id, [])) for inv, title in rows]


def _invoice_out(inv: Invoice, title: str, shares: list[ShareOut]) -> InvoiceOut:
    return InvoiceOut(
        id=inv.id,
        batch_id=inv.batch_id,
        order_id=inv.order_id,
        period=inv.period,
        agreement_id=inv.agreement_id,
        consumer_id=inv.consumer_id,
        provider_id=inv.provider_id,
        product_title=title,
        lines=list(inv.lines),
        net_fen=inv.net_fen,
        tax_fen=inv.tax_fen,
        gross_fen=inv.gross_fen,
        vat_bp=inv.vat_bp,
        entry_id=inv.entry_id,
        shares=shares,
        created_at=inv.created_at,
    )


def _statement_lines(
    session: Session, batch_id: uuid.UUID, participant_id: uuid.UUID
) -> list[StatementLine]:
    lines = []
    owed = session.execute(
        select(Invoice, Order.product_title)
        .join(Order, Order.id == Invoice.order_id)
        .where(Invoice.batch_id == batch_id, Invoice.consumer_id == participant_id)
        .order_by(Invoice.agreement_id)
    )
    for inv, title in owed:
        lines.append(
            StatementLine(
                inv.id,
                inv.agreement_id,
                title,
                "consumer",
                inv.provider_id,
                inv.net_fen,
                inv.tax_fen,
                inv.gross_fen,
                inv.gross_fen,
            )
        )
    due = session.execute(
        select(Share, Invoice, Order.product_title)
        .join(Invoice, Invoice.id == Share.invoice_id)
        .join(Order, Order.id == Invoice.order_id)
        .where(Share.batch_id == batch_id, Share.participant_id == participant_id)
        .order_by(Invoice.agreement_id, Share.role)
    )
    for share, inv, title in due:
        lines.append(
            StatementLine(
                inv.id,
                inv.agreement_id,
                title,
                share.role,
                inv.consumer_id,
                inv.net_fen,
                inv.tax_fen,
                inv.gross_fen,
                share.amount_fen,
            )
        )
    return lines


def statement_out(session: Session, batch: Batch, st: Statement) -> StatementOut:
    member = find(session, st.participant_id)
    return StatementOut(
        batch_id=batch.id,
        period=batch.period,
        participant_id=st.participant_id,
        participant_name=member.name if member else str(st.participant_id),
        invoices=st.invoices,
        owed_fen=st.owed_fen,
        provider_fen=st.provider_fen,
        authority_fen=st.authority_fen,
        upstream_fen=st.upstream_fen,
        fee_fen=st.fee_fen,
        due_fen=st.due_fen,
        lines=_statement_lines(session, batch.id, st.participant_id),
    )


def statements(
    session: Session, actor: Actor, period_text: str, participant_id: uuid.UUID | None = None
) -> list[StatementOut]:
    """A batch's statements (结算单): all for oversight, else the caller's own."""
    batch = load_batch(session, period_text)
    if actor.role not in OVERSIGHT:
        participant_id = actor.participant_id
    stmt = (
        select(Statement).where(Statement.batch_id == batch.id).order_by(Statement.participant_id)
    )
    if participant_id is not None:
        stmt = stmt.where(Statement.participant_id == participant_id)
    return [statement_out(session, batch, st) for st in session.scalars(stmt)]
