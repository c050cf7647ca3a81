"""Settlement killed half-way (SIGKILL, in its own process) and run again: no money is lost
and none is doubled — clearing commits all or nothing, and paying resumes with the rail's
idempotency keys, so each transfer moves money once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from settlement_support import PERIOD, Region, agreement, product, run, seal, set_rules, usage
from sqlalchemy import func, select

from shuchang.domains.settlement import ledger, reconciliation
from shuchang.domains.settlement.models import (
    Batch,
    Invoice,
    JournalEntry,
    RailRecord,
    Statement,
    Transfer,
)
from shuchang.domains.settlement.rail import RecordingRail

HERE = Path(__file__).resolve().parent


def _month(r: Region) -> None:
    set_rules(r)
    p = r.platform
    for provider, consumer, price, calls in (
        (r.tax, r.bank, 200, 40),
        (r.power, r.bank, 30, 100),
        (r.power, r.insurer, 50, 70),
    ):
        a = agreement(
            p,
            product(p, provider.id, {"model": "per_call", "amount_fen": price}),
            provider,
            consumer,
        )
        usage(p, a, consumer.id, calls)
    seal(p)


def _killed(r: Region, *args: str) -> None:
    s = r.platform.settings
    env = {
        **os.environ,
        "SHUCHANG_DATABASE_URL": s.database_url,
        "SHUCHANG_LOG_KEY_FILE": s.log_key_file,
        "SHUCHANG_SETTLEMENT_KEY_FILE": s.settlement_key_file,
        "SHUCHANG_SEQUENCER": "false",
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(HERE / "interrupted_run.py"), PERIOD, *args],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()


def _count(r: Region, model: type) -> int:
    with r.platform.unit(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_run_killed_while_clearing_leaves_nothing_and_the_rerun_clears_once(
    world: Region,
) -> None:
    _month(world)
    _killed(world, "clear")
    assert [_count(world, m) for m in (Batch, Invoice, JournalEntry, Statement)] == [0, 0, 0, 0]

    result = run(world)

    assert result.cleared_now and result.batch.status == "settled"
    assert _count(world, Invoice) == 3
    with world.platform.unit(write=False) as s:
        assert ledger.trial_balance(s) == 0
        assert ledger.balance(s, ("cash", None)) == result.batch.tax_fen


def test_a_run_killed_between_the_rail_and_the_ledger_resumes_without_paying_twice(
    world: Region,
) -> None:
    _month(world)
    _killed(world, "pay", "2")  # dies after the rail made its 2nd transfer, before recording it
    with world.platform.unit(write=False) as s:
        batch = s.scalars(select(Batch)).one()
        statuses = Counter(s.scalars(select(Transfer.status)))
        assert batch.status == "paying"
        assert statuses == {"settled": 1, "pending": len(list(s.scalars(select(Transfer.id)))) - 1}
    assert _count(world, RailRecord) == 2

    result = run(world)  # the rerun pays what is left

    assert not result.cleared_now and result.batch.status == "settled"
    with world.platform.unit(write=False) as s:
        transfers = list(s.scalars(select(Transfer)))
        rail_rows = list(s.scalars(select(RailRecord)))
        assert len(rail_rows) == len(transfers) == 5  # 2 collections, 3 payouts, each once
        assert Counter(r.idempotency_key for r in rail_rows) == Counter(
            t.idempotency_key for t in transfers
        )
        assert sum(r.amount_fen for r in rail_rows if r.payer == "clearing") == result.batch.net_fen
        assert (
            sum(r.amount_fen for r in rail_rows if r.payee == "clearing") == result.batch.gross_fen
        )
        assert ledger.trial_balance(s) == 0
        for t in transfers:
            assert t.status == "settled" and t.entry_id is not None
        for kind in ("receivable", "payable", "fee", "authority"):
            for statement in s.scalars(select(Statement)):
                assert ledger.balance(s, (kind, statement.participant_id)) == 0
        assert ledger.balance(s, ("cash", None)) == result.batch.tax_fen
    with world.platform.unit() as s:
        report = reconciliation.reconcile(
            s, world.operator, PERIOD, RecordingRail(world.platform.unit)
        )
    assert report.ok, report.findings
