"""Clearing a month (清分): every price model, shares, ledger, statements, and the refusals."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from settlement_support import (
    MARCH,
    Region,
    agreement,
    product,
    run,
    seal,
    set_rules,
    usage,
)
from sqlalchemy import func, select

from shuchang.domains.settlement import batches, ledger
from shuchang.domains.settlement.models import Batch, BatchUsage, Invoice, JournalEntry, Record
from shuchang.errors import Conflict, ShuchangError


def _invoice(r: Region, agreement_id: object) -> Invoice:
    with r.platform.unit(write=False) as s:
        return s.scalars(select(Invoice).where(Invoice.agreement_id == agreement_id)).one()


def test_a_month_of_per_call_usage_is_invoiced_shared_posted_and_paid(world: Region) -> None:
    set_rules(world)
    tax_api = product(world.platform, world.tax.id, {"model": "per_call", "amount_fen": 200})
    a = agreement(world.platform, tax_api, world.tax, world.bank)
    usage(world.platform, a, world.bank.id, 120)
    usage(world.platform, a, world.bank.id, 7, outcome="unknown")  # the gateway died: not billed
    usage(world.platform, a, world.bank.id, 3, outcome="upstream_unavailable", status=502)
    usage(world.platform, a, world.bank.id, 4, status=404)  # the provider answered an error
    usage(world.platform, a, world.bank.id, 5, permitted=False, status=403)
    usage(world.platform, a, world.bank.id, 9, at=MARCH - timedelta(seconds=30))  # February
    seal(world.platform)

    result = run(world)

    assert result.cleared_now and result.batch.status == "settled"
    invoice = _invoice(world, a)
    assert (invoice.net_fen, invoice.tax_fen, invoice.gross_fen) == (24000, 1440, 25440)
    assert result.batch.calls == 120 and result.batch.records == 139
    with world.platform.unit(write=False) as s:
        u = s.scalars(select(BatchUsage).where(BatchUsage.agreement_id == a)).one()
    # every record is exactly one of: billed, unknown, upstream failed, error, denied
    assert (u.calls, u.unknown, u.upstream_failed, u.error_status, u.denied) == (120, 7, 3, 4, 5)
    assert u.records == 139 and u.first_id < u.last_id and u.sealed_in
    with world.platform.unit(write=False) as s:
        shares = {
            (x.participant_id, x.role): x.amount_fen
            for x in batches._shares(s, [invoice.id])[invoice.id]
        }
        # Public data (a government provider): 5 % fee, 10 % to the authorizing body.
        assert shares == {
            (world.tax.id, "provider"): 20400,
            (world.bureau.id, "fee"): 1200,
            (world.bureau.id, "authority"): 2400,
        }
        assert ledger.trial_balance(s) == 0
        # Collected from the bank, paid out to everyone: only VAT stays in the clearing account.
        assert ledger.balance(s, ("cash", None)) == 1440
        assert ledger.balance(s, ("vat", None)) == 1440
        assert ledger.balance(s, ("receivable", world.bank.id)) == 0
        assert ledger.balance(s, ("payable", world.tax.id)) == 0
        records = s.scalars(select(Record.kind).where(Record.invoice_id == invoice.id)).all()
        assert sorted(records) == ["filing", "voucher"]
    kinds = {
        t.direction: t.amount_fen for t in result.transfers if t.participant_id == world.bank.id
    }
    assert kinds == {"collect": 25440}


def test_per_row_tiered_subscription_one_off_and_free_prices(world: Region) -> None:
    set_rules(world, operator_fee_bp=0, authority_bp=0, upstream_bp=0)
    p = world.platform
    rows = agreement(
        p,
        product(p, world.power.id, {"model": "per_row", "amount_fen": 3}),
        world.power,
        world.bank,
    )
    tiered = agreement(
        p,
        product(
            p,
            world.power.id,
            {
                "model": "tiered",
                "amount_fen": 20,
                "unit": "call",
                "tiers": [{"up_to": 100, "unit_fen": 20}, {"up_to": None, "unit_fen": 5}],
            },
        ),
        world.power,
        world.insurer,
    )
    monthly = agreement(
        p,
        product(
            p, world.power.id, {"model": "subscription", "amount_fen": 120000, "period": "month"}
        ),
        world.power,
        world.insurer,
        start=MARCH - timedelta(days=45),
    )
    yearly = agreement(
        p,
        product(
            p, world.power.id, {"model": "subscription", "amount_fen": 500000, "period": "year"}
        ),
        world.power,
        world.bank,
        start=MARCH - timedelta(days=40),  # began in January: its one instalment is not March's
    )
    once = agreement(
        p,
        product(p, world.power.id, {"model": "one_off", "amount_fen": 80000}),
        world.power,
        world.bank,
        start=MARCH + timedelta(days=2),
    )
    free = agreement(
        p, product(p, world.power.id, {"model": "free", "amount_fen": 0}), world.power, world.bank
    )
    usage(p, rows, world.bank.id, 3, rows=411_523)  # 1,234,569 rows × 3 fen / 1,000
    usage(p, tiered, world.insurer.id, 130)  # 100 × 20 + 30 × 5
    usage(p, free, world.bank.id, 6)
    seal(p)

    run(world)

    assert _invoice(world, rows).net_fen == 3704  # 3703.707 rounded half up, once
    assert _invoice(world, tiered).net_fen == 2150
    assert _invoice(world, monthly).net_fen == 120000
    assert _invoice(world, once).net_fen == 80000
    free_invoice = _invoice(world, free)
    assert (free_invoice.gross_fen, free_invoice.entry_id) == (0, None)  # usage reported
    with p.unit(write=False) as s:
        assert s.scalar(select(func.count()).where(Invoice.agreement_id == yearly)) == 0
    tiers = _invoice(world, tiered).lines[0]["tiers"]
    assert tiers == [[100, 20, 100], [None, 5, 30]]


def test_a_settled_month_is_refused_a_second_time(world: Region) -> None:
    set_rules(world)
    a = agreement(
        world.platform,
        product(world.platform, world.tax.id, {"model": "per_call", "amount_fen": 10}),
        world.tax,
        world.bank,
    )
    usage(world.platform, a, world.bank.id, 10)
    seal(world.platform)
    run(world)

    with pytest.raises(Conflict) as refused:
        run(world)
    assert refused.value.code == "settlement.period_settled"
    with world.platform.unit(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Batch)) == 1
        # the invoice, the bank's collection, payouts to the tax bureau and the data bureau
        assert s.scalar(select(func.count()).select_from(JournalEntry)) == 4


def test_two_runs_at_once_clear_the_month_once(world: Region) -> None:
    set_rules(world)
    a = agreement(
        world.platform,
        product(world.platform, world.tax.id, {"model": "per_call", "amount_fen": 10}),
        world.tax,
        world.bank,
    )
    usage(world.platform, a, world.bank.id, 50)
    seal(world.platform)
    outcomes: list[object] = []

    def one() -> None:
        try:
            outcomes.append(run(world).cleared_now)
        except ShuchangError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert outcomes.count(True) == 1, outcomes
    with world.platform.unit(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Invoice)) == 1
        assert ledger.trial_balance(s) == 0
        assert ledger.balance(s, ("receivable", world.bank.id)) == 0
        assert ledger.balance(s, ("cash", None)) == 30  # 6 % VAT of 500 fen, once


def test_unsealed_metering_an_open_month_and_missing_rules_are_refused(world: Region) -> None:
    a = agreement(
        world.platform,
        product(world.platform, world.tax.id, {"model": "per_call", "amount_fen": 10}),
        world.tax,
        world.bank,
    )
    usage(world.platform, a, world.bank.id, 5)
    seal(world.platform)
    with pytest.raises(Conflict) as no_rules:
        run(world)
    assert no_rules.value.code == "settlement.no_rules"

    set_rules(world)
    usage(world.platform, a, world.bank.id, 2, at=MARCH + timedelta(days=9))
    with pytest.raises(Conflict) as unsealed:
        run(world)
    assert (unsealed.value.code, unsealed.value.extra["unsealed"]) == (
        "settlement.metering_unsealed",
        2,
    )

    with pytest.raises(Conflict) as still_open:
        run(world, "2999-12")
    assert still_open.value.code == "settlement.period_open"
    with pytest.raises(ShuchangError) as malformed:
        run(world, "2025-13")
    assert malformed.value.code == "settlement.period_invalid"
    with world.platform.unit(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Batch)) == 0


def test_months_are_settled_in_order(world: Region) -> None:
    set_rules(world, effective_from="2025-02")
    a = agreement(
        world.platform,
        product(world.platform, world.tax.id, {"model": "per_call", "amount_fen": 10}),
        world.tax,
        world.bank,
    )
    usage(world.platform, a, world.bank.id, 4)
    seal(world.platform)
    with pytest.raises(Conflict) as skipped:
        run(world)
    assert (skipped.value.code, skipped.value.extra["unsettled"]) == (
        "settlement.earlier_period_open",
        "2025-02",
    )
    assert run(world, "2025-02").batch.invoices == 0  # February: nothing to bill, but settled
    assert run(world).batch.invoices == 1
