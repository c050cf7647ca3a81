"""Paying a cleared batch (资金结算): collections from consumers, then payouts to payees.

For each statement the batch plans one transfer: a **collection** of what a consumer owes
(its invoices' gross) into the clearing account, and a **payout** of what a participant is
due (provider, upstream, authorizing-body and fee shares) out of it. Each transfer is a row
with an idempotency key, then a call to the payment rail, then — in a new transaction — the
rail's answer and the journal entry it makes (collection: debit cash, credit receivable;
payout: debit payable/authority/fee, credit cash):

* a crash before the rail call leaves the transfer ``pending``; the next run calls the rail;
* a crash after it leaves it ``pending`` too; the next run calls the rail with the same key,
  which returns the transfer it already made (never a second movement), and records it;
* the entry is written only by the transaction that moves the row out of ``pending`` (the
  row is locked), so two runs at once record it once.

A failed transfer is retried by the next run as a new attempt (a new key). When every
transfer is settled the batch is ``settled``.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.participants import Actor
from shuchang.domains.settlement import ledger
from shuchang.domains.settlement.models import Batch, Statement, Transfer
from shuchang.domains.settlement.rail import (
    CLEARING,
    PaymentRail,
    RailTransfer,
    TransferOrder,
    rail_for,
)
from shuchang.domains.settlement.schemas import TransferOut
from shuchang.platform import Platform


def transfer_out(t: Transfer) -> TransferOut:
    return TransferOut(
        id=t.id,
        batch_id=t.batch_id,
        participant_id=t.participant_id,
        direction=t.direction,
        amount_fen=t.amount_fen,
        parts=dict(t.parts),
        attempt=t.attempt,
        status=t.status,
        rail=t.rail,
        rail_reference=t.rail_reference,
        failure=t.failure,
        created_at=t.created_at,
        completed_at=t.completed_at,
    )


def key_prefix(batch_id: uuid.UUID) -> str:
    return f"{batch_id}:"


def _parts(statement: Statement) -> dict[str, dict[str, int]]:
    payout = {
        "payable": statement.provider_fen + statement.upstream_fen,
        "authority": statement.authority_fen,
        "fee": statement.fee_fen,
    }
    return {
        "collect": {"receivable": statement.owed_fen},
        "payout": {k: v for k, v in payout.items() if v},
    }


def _new(
    batch: Batch,
    participant_id: uuid.UUID,
    direction: str,
    parts: dict[str, int],
    *,
    attempt: int,
    rail: str,
) -> Transfer:
    return Transfer(
        id=uuid.uuid4(),
        batch_id=batch.id,
        participant_id=participant_id,
        direction=direction,
        amount_fen=sum(parts.values()),
        parts=parts,
        attempt=attempt,
        idempotency_key=f"{batch.id}:{direction}:{participant_id}:{attempt}",
        status="pending",
        rail=rail,
        created_at=utcnow(),
    )


def plan_transfers(session: Session, batch: Batch, rail: str, actor: Actor) -> None:
    """Create the batch's transfers once; add a new attempt for each failed one."""
    existing = list(session.scalars(select(Transfer).where(Transfer.batch_id == batch.id)))
    if not existing:
        statements = session.scalars(
            select(Statement)
            .where(Statement.batch_id == batch.id)
            .order_by(Statement.participant_id)
        )
        for st in statements:
            for direction, parts in _parts(st).items():
                if sum(parts.values()) > 0:
                    session.add(
                        _new(batch, st.participant_id, direction, parts, attempt=1, rail=rail)
                    )
        batch.status = "paying"
        session.flush()
        planned = session.scalars(select(Transfer).where(Transfer.batch_id == batch.id)).all()
        evidence.record(
            session,
            "settlement.transfers_planned",
            f"settlement-batch:{batch.id}",
            actor.ref,
            {
                "transfers": len(planned),
                "collect_fen": sum(t.amount_fen for t in planned if t.direction == "collect"),
                "payout_fen": sum(t.amount_fen for t in planned if t.direction == "payout"),
            },
        )
        return
    latest: dict[tuple[uuid.UUID, str], Transfer] = {}
    for t in existing:
        key = (t.participant_id, t.direction)
        if key not in latest or latest[key].attempt < t.attempt:
            latest[key] = t
    for t in latest.values():
        if t.status == "failed":
            session.add(
                _new(
                    batch,
                    t.participant_id,
                    t.direction,
                    dict(t.parts),
                    attempt=t.attempt + 1,
                    rail=rail,
                )
            )


def _order(t: Transfer) -> TransferOrder:
    party = f"participant:{t.participant_id}"
    payer, payee = (party, CLEARING) if t.direction == "collect" else (CLEARING, party)
    memo = f"{t.direction} {t.batch_id} attempt {t.attempt}"
    return TransferOrder(t.idempotency_key, payer, payee, t.amount_fen, memo)


def _posting(t: Transfer) -> ledger.Posting:
    if t.direction == "collect":
        lines = [(("cash", None), t.amount_fen), (("receivable", t.participant_id), -t.amount_fen)]
        memo = f"收款 collection {t.rail_reference}"
    else:
        lines = [((kind, t.participant_id), fen) for kind, fen in t.parts.items()]
        lines.append((("cash", None), -t.amount_fen))
        memo = f"付款 payout {t.rail_reference}"
    return ledger.Posting(t.direction, memo, lines, t.batch_id, id=uuid.uuid4())


def record_result(
    session: Session, transfer_id: uuid.UUID, result: RailTransfer, actor: Actor
) -> None:
    """Store the rail's answer; the transaction that settles the transfer posts its entry."""
    t = session.scalars(select(Transfer).where(Transfer.id == transfer_id).with_for_update()).one()
    if t.status != "pending":
        return  # another run recorded it
    t.rail_reference = result.reference
    if result.status == "pending":
        return
    t.status, t.failure, t.completed_at = result.status, result.failure, utcnow()
    if result.status == "settled":
        t.entry_id = ledger.post(session, _posting(t), actor.ref)
    evidence.record(
        session,
        f"settlement.transfer_{result.status}",
        f"settlement-transfer:{t.id}",
        actor.ref,
        {
            "batch": str(t.batch_id),
            "direction": t.direction,
            "participant": str(t.participant_id),
            "amount_fen": t.amount_fen,
            "rail": t.rail,
            "reference": result.reference,
            "failure": result.failure,
        },
    )


def _execute(platform: Platform, rail: PaymentRail, transfer_id: uuid.UUID, actor: Actor) -> None:
    with platform.unit(write=False) as s:
        t = s.get_one(Transfer, transfer_id)
        s.expunge(t)
    if t.status != "pending":
        return
    result = rail.status(t.rail_reference) if t.rail_reference else None
    if result is None:
        result = rail.transfer(_order(t))
    with platform.unit() as s:
        record_result(s, transfer_id, result, actor)


def _finish(session: Session, batch_id: uuid.UUID, actor: Actor) -> None:
    batch = session.scalars(select(Batch).where(Batch.id == batch_id).with_for_update()).one()
    statuses = set(session.scalars(select(Transfer.status).where(Transfer.batch_id == batch_id)))
    if batch.status == "settled" or statuses - {"settled"}:
        return
    batch.status, batch.settled_at = "settled", utcnow()
    evidence.record(
        session,
        "settlement.batch_settled",
        f"settlement-batch:{batch.id}",
        actor.ref,
        {"period": batch.period, "gross_fen": batch.gross_fen},
    )


def pay(
    platform: Platform, actor: Actor, batch_id: uuid.UUID, rail: PaymentRail | None = None
) -> list[TransferOut]:
    """Plan, execute and record the batch's transfers; safe to run again at any point."""
    rail = rail or rail_for(platform.settings.settlement_rail, platform.unit)
    with platform.unit() as s:
        batch = s.scalars(select(Batch).where(Batch.id == batch_id).with_for_update()).one()
        if batch.status != "settled":
            plan_transfers(s, batch, rail.name, actor)
    with platform.unit(write=False) as s:
        todo = list(
            s.scalars(
                select(Transfer.id)
                .where(Transfer.batch_id == batch_id, Transfer.status == "pending")
                .order_by(Transfer.direction, Transfer.participant_id)  # collect before payout
            )
        )
    for transfer_id in todo:
        _execute(platform, rail, transfer_id, actor)
    with platform.unit() as s:
        _finish(s, batch_id, actor)
    return transfers(platform, batch_id)


def transfers(platform: Platform, batch_id: uuid.UUID) -> list[TransferOut]:
    with platform.unit(write=False) as s:
        return list_transfers(s, batch_id)


def list_transfers(session: Session, batch_id: uuid.UUID) -> list[TransferOut]:
    rows = session.scalars(
        select(Transfer)
        .where(Transfer.batch_id == batch_id)
        .order_by(Transfer.direction, Transfer.participant_id, Transfer.attempt)
    )
    return [transfer_out(t) for t in rows]
