"""Reconciliation (对账): metering, orders and invoices, the ledger and the rail, compared.

Every disagreement is a finding with a stable code (``error`` unless said otherwise):

==========================  ==============================================================
``usage_without_order``     usage in the month for an agreement that has no order
``usage_changed``           an agreement's usage now differs from what the batch cleared
                            (a record appeared in, or changed after, a settled month)
``metering_unsealed``       usage records of the month not sealed into the evidence log
``usage_not_billed``        (info) uses not billed: outcome unknown, upstream failed, or the
                            provider answered with an error status
``invoice_not_posted``      an invoice with an amount has no journal entry
``invoice_amount_differs``  the entry's receivable or VAT line differs from the invoice
``shares_differ``           an invoice's shares do not sum to its net amount
``statement_differs``       a statement differs from the ledger's batch entries
``collection_missing``      a consumer owes and no settled collection exists (paying/settled)
``payout_missing``          a participant is due and no settled payout exists
``transfer_amount_differs`` a settled transfer's amount differs from its statement
``transfer_not_posted``     a settled transfer has no journal entry
``transfer_failed``         (warning) the rail refused a transfer (retried on the next run)
``rail_missing``            the rail holds no transfer for a settled one
``rail_differs``            the rail's transfer has another payer, payee, amount or status
``rail_unknown_transfer``   the rail holds a transfer of this batch that settlement did not make
``ledger_unbalanced``       an entry, or the whole ledger, does not sum to zero
==========================  ==============================================================
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuchang.canonical import digest
from shuchang.db import table_of, utcnow
from shuchang.domains import evidence
from shuchang.domains.participants import Actor, require
from shuchang.domains.settlement import ledger, meters, periods
from shuchang.domains.settlement.models import (
    Account,
    Batch,
    BatchUsage,
    Invoice,
    JournalEntry,
    JournalLine,
    Order,
    Reconciliation,
    Share,
    Statement,
    Transfer,
)
from shuchang.domains.settlement.payouts import key_prefix
from shuchang.domains.settlement.rail import CLEARING, PaymentRail
from shuchang.domains.settlement.schemas import Finding, ReconciliationOut
from shuchang.errors import NotFound

_lines, _accounts, _entries = table_of(JournalLine), table_of(Account), table_of(JournalEntry)
Found = Iterator[Finding]


def _f(  # noqa: PLR0917 - a finding's fields, in Finding's order
    code: str,
    subject: str,
    zh: str,
    en: str,
    expected: Any = None,
    actual: Any = None,
    severity: str = "error",
) -> Finding:
    return Finding(code, severity, subject, zh, en, expected, actual)


def _unordered(session: Session, period: periods.Period) -> Found:
    stray = meters.usage(session, period, excluding=select(Order.agreement_id))
    for agreement_id, metered in sorted(stray.items()):
        n = sum(m.records for m in metered)
        yield _f(
            "usage_without_order",
            f"agreement:{agreement_id}",
            f"合约 {agreement_id} 有 {n} 条计量记录但没有订单",
            f"Agreement {agreement_id} has {n} usage records but no order",
            0,
            n,
        )


def _metering(session: Session, period: periods.Period, batch: Batch | None) -> Found:
    now = meters.usage(session, period, agreements=select(Order.agreement_id))
    unsealed = sum(m.unsealed for ms in now.values() for m in ms)
    if unsealed:
        yield _f(
            "metering_unsealed",
            f"period:{period}",
            f"{unsealed} 条计量记录尚未封存",
            f"{unsealed} usage records are not sealed",
            0,
            unsealed,
            "warning",
        )
    for agreement_id, metered in sorted(now.items()):
        for m in metered:
            skipped = m.unknown + m.upstream_failed + m.error_status
            if skipped:
                yield _f(
                    "usage_not_billed",
                    f"agreement:{agreement_id}",
                    f"未计费：结果未知 {m.unknown}、上游失败 {m.upstream_failed}、"
                    f"上游错误 {m.error_status}",
                    f"Not billed: unknown {m.unknown}, upstream failed {m.upstream_failed}, "
                    f"error status {m.error_status}",
                    None,
                    skipped,
                    "info",
                )
    if batch is None:
        return
    cleared = {
        (u.agreement_id, u.meter): u
        for u in session.scalars(select(BatchUsage).where(BatchUsage.batch_id == batch.id))
    }
    for agreement_id, metered in sorted(now.items()):
        for m in metered:
            was = cleared.get((agreement_id, m.meter))
            then = (was.records, was.calls, was.rows) if was else (0, 0, 0)
            current = (m.records, m.quantities.get("call", 0), m.quantities.get("row", 0))
            if then != current:
                yield _f(
                    "usage_changed",
                    f"agreement:{agreement_id}",
                    f"合约 {agreement_id} 的计量（记录、次数、行数）清分时为 {then}，"
                    f"现为 {current}",
                    f"Agreement {agreement_id} usage (records, calls, rows) was {then} "
                    f"when cleared, now {current}",
                    str(then),
                    str(current),
                )


def _entry_sums(
    session: Session, batch_id: uuid.UUID, kinds: tuple[str, ...]
) -> dict[tuple[str, uuid.UUID | None], int]:
    rows = session.execute(
        select(_accounts.c.kind, _accounts.c.participant_id, func.sum(_lines.c.amount_fen))
        .join(_lines, _lines.c.account_id == _accounts.c.id)
        .join(_entries, _entries.c.id == _lines.c.entry_id)
        .where(_entries.c.batch_id == batch_id, _entries.c.kind.in_(kinds))
        .group_by(_accounts.c.kind, _accounts.c.participant_id)
    )
    return {(kind, pid): int(total) for kind, pid, total in rows}


def _invoices(session: Session, batch: Batch) -> Found:
    shares = dict(
        session.execute(
            select(Share.invoice_id, func.sum(Share.amount_fen))
            .where(Share.batch_id == batch.id)
            .group_by(Share.invoice_id)
        ).all()
    )
    posted = {
        (entry_id, kind): int(total)
        for entry_id, kind, total in session.execute(
            select(_lines.c.entry_id, _accounts.c.kind, func.sum(_lines.c.amount_fen))
            .join(_accounts, _accounts.c.id == _lines.c.account_id)
            .join(_entries, _entries.c.id == _lines.c.entry_id)
            .where(_entries.c.batch_id == batch.id, _entries.c.kind == "invoice")
            .group_by(_lines.c.entry_id, _accounts.c.kind)
        )
    }
    entries = set(session.scalars(select(JournalEntry.id).where(JournalEntry.batch_id == batch.id)))
    for inv in session.scalars(
        select(Invoice).where(Invoice.batch_id == batch.id).order_by(Invoice.id)
    ):
        subject = f"settlement-invoice:{inv.id}"
        if inv.gross_fen and (inv.entry_id is None or inv.entry_id not in entries):
            yield _f(
                "invoice_not_posted",
                subject,
                f"账单 {inv.id}（{inv.gross_fen} 分）未记账",
                f"Invoice {inv.id} ({inv.gross_fen} fen) has no journal entry",
                inv.gross_fen,
                0,
            )
            continue
        if inv.entry_id is not None:
            got = (
                posted.get((inv.entry_id, "receivable"), 0),
                -posted.get((inv.entry_id, "vat"), 0),
            )
            if got != (inv.gross_fen, inv.tax_fen):
                yield _f(
                    "invoice_amount_differs",
                    subject,
                    f"账单 {inv.id} 含税金额与税额为 {(inv.gross_fen, inv.tax_fen)}，分录为 {got}",
                    f"Invoice {inv.id} gross and tax are {(inv.gross_fen, inv.tax_fen)}, "
                    f"its entry {got}",
                    str((inv.gross_fen, inv.tax_fen)),
                    str(got),
                )
        if int(shares.get(inv.id, 0)) != inv.net_fen:
            yield _f(
                "shares_differ",
                subject,
                f"账单 {inv.id} 的分润合计 {shares.get(inv.id, 0)} 分，不含税金额 {inv.net_fen} 分",
                f"Invoice {inv.id} shares sum to {shares.get(inv.id, 0)}, its net is {inv.net_fen}",
                inv.net_fen,
                int(shares.get(inv.id, 0)),
            )


def _statements(session: Session, batch: Batch) -> Found:
    ledger_sums = _entry_sums(session, batch.id, ("invoice", "reversal", "adjustment"))
    expected: dict[tuple[str, uuid.UUID | None], int] = {("vat", None): -batch.tax_fen}
    for st in session.scalars(select(Statement).where(Statement.batch_id == batch.id)):
        pid = st.participant_id
        expected[("receivable", pid)] = st.owed_fen
        expected[("payable", pid)] = -(st.provider_fen + st.upstream_fen)
        expected[("authority", pid)] = -st.authority_fen
        expected[("fee", pid)] = -st.fee_fen
    for key in sorted(set(expected) | set(ledger_sums), key=str):
        want, got = expected.get(key, 0), ledger_sums.get(key, 0)
        if want != got:
            code = ledger.code_of(key)
            yield _f(
                "statement_differs",
                f"account:{code}",
                f"账户 {code} 按结算单应为 {want} 分，账簿为 {got} 分",
                f"Account {code} should be {want} fen by the statements, the ledger has {got}",
                want,
                got,
            )


def _latest_transfers(
    session: Session, batch_id: uuid.UUID
) -> dict[tuple[uuid.UUID, str], Transfer]:
    latest: dict[tuple[uuid.UUID, str], Transfer] = {}
    for t in session.scalars(
        select(Transfer).where(Transfer.batch_id == batch_id).order_by(Transfer.attempt)
    ):
        latest[(t.participant_id, t.direction)] = t
    return latest


def _transfers(session: Session, batch: Batch) -> Found:
    latest = _latest_transfers(session, batch.id)
    for st in session.scalars(
        select(Statement).where(Statement.batch_id == batch.id).order_by(Statement.participant_id)
    ):
        for direction, amount, code in (
            ("collect", st.owed_fen, "collection_missing"),
            ("payout", st.due_fen, "payout_missing"),
        ):
            t = latest.get((st.participant_id, direction))
            subject = f"participant:{st.participant_id}"
            if amount and (t is None or t.status != "settled"):
                yield _f(
                    code,
                    subject,
                    f"{st.participant_id} 应{'收' if direction == 'collect' else '付'} "
                    f"{amount} 分，尚无已完成的划付",
                    f"{st.participant_id}: {amount} fen to {direction} and no settled transfer",
                    amount,
                    0,
                )
            elif t is not None and t.amount_fen != amount:
                yield _f(
                    "transfer_amount_differs",
                    subject,
                    f"划付 {t.id} 为 {t.amount_fen} 分，结算单为 {amount} 分",
                    f"Transfer {t.id} is {t.amount_fen} fen, the statement {amount}",
                    amount,
                    t.amount_fen,
                )
            if t is not None and t.status == "failed":
                yield _f(
                    "transfer_failed",
                    f"settlement-transfer:{t.id}",
                    f"划付失败：{t.failure}",
                    f"Transfer failed: {t.failure}",
                    None,
                    t.failure,
                    "warning",
                )
            if t is not None and t.status == "settled" and t.entry_id is None:
                yield _f(
                    "transfer_not_posted",
                    f"settlement-transfer:{t.id}",
                    f"划付 {t.id} 已完成但未记账",
                    f"Transfer {t.id} is settled but not posted",
                    t.amount_fen,
                    0,
                )


def _rail(session: Session, batch: Batch, rail: PaymentRail) -> Found:
    ours = {
        t.idempotency_key: t
        for t in session.scalars(select(Transfer).where(Transfer.batch_id == batch.id))
    }
    for key, t in sorted(ours.items()):
        if t.status != "settled":
            continue
        got = rail.lookup(key)
        party = f"participant:{t.participant_id}"
        want = (party, CLEARING) if t.direction == "collect" else (CLEARING, party)
        if got is None:
            yield _f(
                "rail_missing",
                f"settlement-transfer:{t.id}",
                f"支付通道没有划付 {key}",
                f"The rail holds no transfer {key}",
                t.amount_fen,
                0,
            )
        elif (got.payer, got.payee, got.amount_fen, got.status) != (*want, t.amount_fen, "settled"):
            yield _f(
                "rail_differs",
                f"settlement-transfer:{t.id}",
                f"支付通道的划付 {got.reference} 与记录不符",
                f"The rail's transfer {got.reference} differs from ours",
                f"{want} {t.amount_fen} settled",
                f"{(got.payer, got.payee)} {got.amount_fen} {got.status}",
            )
    for got in rail.transfers(key_prefix(batch.id)):
        if got.idempotency_key not in ours:
            yield _f(
                "rail_unknown_transfer",
                f"rail:{got.reference}",
                f"支付通道有本批次未发起的划付 {got.reference}（{got.amount_fen} 分）",
                f"The rail holds transfer {got.reference} ({got.amount_fen} fen) "
                "this batch never made",
                0,
                got.amount_fen,
            )


def _ledger(session: Session) -> Found:
    total = ledger.trial_balance(session)
    if total:
        yield _f(
            "ledger_unbalanced",
            "ledger",
            f"全部分录合计 {total} 分，不为零",
            f"All lines sum to {total} fen, not zero",
            0,
            total,
        )
    rows = session.execute(
        select(_lines.c.entry_id, func.sum(_lines.c.amount_fen))
        .group_by(_lines.c.entry_id)
        .having(func.sum(_lines.c.amount_fen) != 0)
    )
    for entry_id, amount in rows:
        yield _f(
            "ledger_unbalanced",
            f"settlement-entry:{entry_id}",
            f"凭证 {entry_id} 借贷相差 {amount} 分",
            f"Entry {entry_id} is off by {amount} fen",
            0,
            int(amount),
        )


def findings(
    session: Session, period: periods.Period, rail: PaymentRail
) -> tuple[Batch | None, list[Finding]]:
    batch = session.scalars(select(Batch).where(Batch.period == str(period))).first()
    found = [*_unordered(session, period), *_metering(session, period, batch), *_ledger(session)]
    if batch is not None:
        found += [*_invoices(session, batch), *_statements(session, batch)]
        if batch.status != "cleared":
            found += [*_transfers(session, batch), *_rail(session, batch, rail)]
    return batch, found


def reconcile(
    session: Session, actor: Actor, period_text: str, rail: PaymentRail
) -> ReconciliationOut:
    """Compare everything for a month, store the report and log its digest (operator)."""
    require(actor, "operator")
    period = periods.parse(period_text)
    batch, found = findings(session, period, rail)
    report = [msgspec.to_builtins(f) for f in found]
    ok = not any(f.severity == "error" for f in found)
    sha = digest(report)
    entry = evidence.record(
        session,
        "settlement.reconciled",
        f"settlement-period:{period}",
        actor.ref,
        {"period": str(period), "ok": ok, "findings": len(found), "report_sha256": sha},
    )
    row = Reconciliation(
        period=str(period),
        batch_id=batch.id if batch else None,
        ok=ok,
        findings=report,
        sha256=sha,
        evidence_id=entry,
        ran_by=actor.ref,
        ran_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return reconciliation_out(row)


def reconciliation_out(row: Reconciliation) -> ReconciliationOut:
    found = [msgspec.convert(f, Finding) for f in row.findings]
    return ReconciliationOut(
        id=row.id,
        period=row.period,
        batch_id=row.batch_id,
        ok=row.ok,
        errors=sum(f.severity == "error" for f in found),
        warnings=sum(f.severity == "warning" for f in found),
        findings=found,
        sha256=row.sha256,
        evidence_id=row.evidence_id,
        ran_by=row.ran_by,
        ran_at=row.ran_at,
    )


def latest(session: Session, actor: Actor, period_text: str) -> ReconciliationOut:
    require(actor, "operator", "regulator")
    period = periods.parse(period_text)
    row = session.scalars(
        select(Reconciliation)
        .where(Reconciliation.period == str(period))
        .order_by(Reconciliation.id.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFound(
            f"{period} has not been reconciled",
            f"{period} 尚未对账",
            code="settlement.not_reconciled",
        )
    return reconciliation_out(row)
