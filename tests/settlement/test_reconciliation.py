"""Reconciliation (对账) finds every kind of mismatch between metering, invoices, the ledger
and the rail — each injected here behind the services' back — and nothing in clean books."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from settlement_support import (
    MARCH,
    PERIOD,
    Region,
    agreement,
    product,
    run,
    seal,
    set_rules,
    usage,
)
from sqlalchemy import delete, insert, select, text, update

from shuchang.db import table_of, utcnow
from shuchang.domains.settlement import ledger, reconciliation
from shuchang.domains.settlement.models import (
    Batch,
    Invoice,
    JournalEntry,
    JournalLine,
    RailRecord,
    Share,
    Transfer,
)
from shuchang.domains.settlement.rail import RecordingRail
from shuchang.domains.settlement.schemas import ReconciliationOut


def _settled(r: Region) -> uuid.UUID:
    set_rules(r)
    p = r.platform
    a = agreement(p, product(p, r.tax.id, {"model": "per_call", "amount_fen": 200}), r.tax, r.bank)
    b = agreement(
        p, product(p, r.power.id, {"model": "per_row", "amount_fen": 7}), r.power, r.insurer
    )
    usage(p, a, r.bank.id, 30)
    usage(p, a, r.bank.id, 2, outcome="unknown")
    usage(p, b, r.insurer.id, 5, rows=1000)
    seal(p)
    run(r)
    return a


def _reconcile(r: Region) -> ReconciliationOut:
    with r.platform.unit() as s:
        return reconciliation.reconcile(s, r.operator, PERIOD, RecordingRail(r.platform.unit))


def _batch(r: Region) -> Batch:
    with r.platform.unit(write=False) as s:
        return s.scalars(select(Batch)).one()


def _transfer(r: Region, direction: str) -> Transfer:
    with r.platform.unit(write=False) as s:
        return s.scalars(select(Transfer).where(Transfer.direction == direction).limit(1)).one()


def late_usage(r: Region, a: uuid.UUID) -> None:
    usage(r.platform, a, r.bank.id, 1, at=MARCH + timedelta(days=20))
    seal(r.platform)


def unsealed_usage(r: Region, a: uuid.UUID) -> None:
    usage(r.platform, a, r.bank.id, 1, at=MARCH + timedelta(days=21))


def usage_of_unknown_agreement(r: Region, _: uuid.UUID) -> None:
    usage(r.platform, uuid.uuid4(), r.bank.id, 4)
    seal(r.platform)


def _invoice_row(r: Region, a: uuid.UUID, **changes: object) -> None:
    with r.platform.unit() as s:
        inv = s.scalars(select(Invoice).where(Invoice.agreement_id == a)).one()
        row = {c.name: getattr(inv, c.key) for c in Invoice.__table__.columns}
        row.update(id=uuid.uuid4(), period="2025-02", created_at=utcnow(), **changes)
        s.execute(insert(table_of(Invoice)), [row])


def invoice_without_entry(r: Region, a: uuid.UUID) -> None:
    _invoice_row(r, a, entry_id=None)


def invoice_with_another_amount(r: Region, a: uuid.UUID) -> None:
    with r.platform.unit(write=False) as s:
        gross = s.scalars(select(Invoice.gross_fen).where(Invoice.agreement_id == a)).one()
    _invoice_row(r, a, gross_fen=gross + 1)


def share_too_many(r: Region, a: uuid.UUID) -> None:
    with r.platform.unit() as s:
        inv = s.scalars(select(Invoice).where(Invoice.agreement_id == a)).one()
        s.add(
            Share(
                invoice_id=inv.id,
                participant_id=r.power.id,
                role="upstream",
                batch_id=inv.batch_id,
                amount_fen=9,
            )
        )


def ledger_moved_behind_statements(r: Region, _: uuid.UUID) -> None:
    posting = ledger.Posting(
        "adjustment",
        "moved behind the statements' back",
        [(("payable", r.tax.id), 100), (("payable", r.power.id), -100)],
        _batch(r).id,
    )
    with r.platform.unit() as s:
        ledger.post(s, posting, "test")


def _change(r: Region, statement: object) -> None:
    with r.platform.unit() as s:
        s.execute(statement)  # type: ignore[call-overload]


def payout_deleted(r: Region, _: uuid.UUID) -> None:
    _change(r, delete(Transfer).where(Transfer.id == _transfer(r, "payout").id))


def transfer_amount_changed(r: Region, _: uuid.UUID) -> None:
    _change(
        r, update(Transfer).where(Transfer.id == _transfer(r, "payout").id).values(amount_fen=1)
    )


def transfer_unposted(r: Region, _: uuid.UUID) -> None:
    _change(
        r, update(Transfer).where(Transfer.id == _transfer(r, "collect").id).values(entry_id=None)
    )


def transfer_failed(r: Region, _: uuid.UUID) -> None:
    _change(
        r,
        update(Transfer)
        .where(Transfer.id == _transfer(r, "collect").id)
        .values(status="failed", failure="账户冻结"),
    )


def rail_lost_a_transfer(r: Region, _: uuid.UUID) -> None:
    key = _transfer(r, "payout").idempotency_key
    _change(r, delete(RailRecord).where(RailRecord.idempotency_key == key))


def rail_amount_changed(r: Region, _: uuid.UUID) -> None:
    key = _transfer(r, "collect").idempotency_key
    _change(r, update(RailRecord).where(RailRecord.idempotency_key == key).values(amount_fen=3))


def rail_extra_transfer(r: Region, _: uuid.UUID) -> None:
    with r.platform.unit() as s:
        s.add(
            RailRecord(
                reference="REC-UNKNOWN",
                idempotency_key=f"{_batch(r).id}:payout:{uuid.uuid4()}:1",
                payer="clearing",
                payee=f"participant:{uuid.uuid4()}",
                amount_fen=777,
                memo="not ours",
                status="settled",
                recorded_at=utcnow(),
            )
        )


def ledger_unbalanced(r: Region, _: uuid.UUID) -> None:
    """Only possible with the database's guards removed: reconciliation still sees it."""
    sqlite = r.platform.engine.dialect.name == "sqlite"
    drops = (
        ["DROP TRIGGER settlement_entries_balanced", "DROP TRIGGER settlement_lines_entry_open"]
        if sqlite
        else [
            "DROP TRIGGER settlement_entries_balanced ON settlement_entries",
            "DROP TRIGGER settlement_lines_balanced ON settlement_lines",
        ]
    )
    with r.platform.engine.begin() as conn:
        for sql in drops:
            conn.execute(text(sql))
    entry = uuid.uuid4()
    with r.platform.unit() as s:
        cash = ledger.account_ids(s, [("cash", None)])[("cash", None)]
        s.execute(
            insert(table_of(JournalLine)),
            [{"entry_id": entry, "account_id": cash, "amount_fen": 5}],
        )
        s.execute(
            insert(table_of(JournalEntry)),
            [
                {
                    "id": entry,
                    "kind": "adjustment",
                    "memo": "x",
                    "posted_by": "t",
                    "posted_at": utcnow(),
                }
            ],
        )


INJECTIONS: list[tuple[Callable[[Region, uuid.UUID], None], str]] = [
    (late_usage, "usage_changed"),
    (unsealed_usage, "metering_unsealed"),
    (usage_of_unknown_agreement, "usage_without_order"),
    (invoice_without_entry, "invoice_not_posted"),
    (invoice_with_another_amount, "invoice_amount_differs"),
    (share_too_many, "shares_differ"),
    (ledger_moved_behind_statements, "statement_differs"),
    (payout_deleted, "payout_missing"),
    (transfer_amount_changed, "transfer_amount_differs"),
    (transfer_unposted, "transfer_not_posted"),
    (transfer_failed, "transfer_failed"),
    (rail_lost_a_transfer, "rail_missing"),
    (rail_amount_changed, "rail_differs"),
    (rail_extra_transfer, "rail_unknown_transfer"),
    (ledger_unbalanced, "ledger_unbalanced"),
]


def test_clean_books_reconcile_and_unbilled_uses_are_reported(world: Region) -> None:
    _settled(world)
    report = _reconcile(world)
    assert report.ok and report.errors == 0 and report.warnings == 0
    assert [f.code for f in report.findings] == ["usage_not_billed"]  # the 2 unknown outcomes
    with world.platform.unit(write=False) as s:
        assert reconciliation.latest(s, world.operator, PERIOD).sha256 == report.sha256


@pytest.mark.parametrize(("inject", "code"), INJECTIONS, ids=[c for _, c in INJECTIONS])
def test_each_injected_mismatch_is_found(
    world: Region, inject: Callable[[Region, uuid.UUID], None], code: str
) -> None:
    a = _settled(world)
    inject(world, a)
    report = _reconcile(world)
    assert code in {f.code for f in report.findings}, report.findings
    assert not report.ok and report.errors > 0
