"""The payment rail (资金划付通道): how settlement money actually moves.

Settlement never moves money itself; it asks a :class:`PaymentRail` to, with an idempotency
key per transfer. The contract every rail keeps (and ``tests/settlement/test_rail.py`` checks
for each one in :data:`RAILS`):

* ``transfer(order)`` executes a transfer at most once per ``idempotency_key``: asking
  again returns the same transfer (same reference), never a second movement; the same key
  with another payer, payee or amount is refused (:class:`RailConflict`);
* the result says ``settled``, ``pending`` (the bank has not confirmed yet; ask
  ``status(reference)`` later) or ``failed`` (with the bank's reason);
* ``lookup(key)`` and ``transfers(prefix)`` tell what the rail holds, for reconciliation.

The plain default, :class:`RecordingRail` (``SHUCHANG_SETTLEMENT_RAIL=recording``), records
each transfer in its own table, in its own transaction — as a bank's book would be, outside
the settlement transaction — and settles it at once. A bank integration implements the same
five members against the bank's API and is added to :data:`RAILS`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains.settlement.models import RailRecord

Unit = Callable[..., AbstractContextManager[Session]]  # Platform.unit: (write=True) → session
CLEARING = "clearing"  # the clearing account's side of every transfer


class RailConflict(Exception):
    """An idempotency key reused for a different transfer."""


@dataclass(frozen=True)
class TransferOrder:
    idempotency_key: str
    payer: str  # "participant:<id>" or "clearing"
    payee: str
    amount_fen: int
    memo: str


@dataclass(frozen=True)
class RailTransfer:
    reference: str
    idempotency_key: str
    payer: str
    payee: str
    amount_fen: int
    status: str  # settled | pending | failed
    failure: str | None = None


class PaymentRail(Protocol):
    name: str

    def transfer(self, order: TransferOrder) -> RailTransfer: ...

    def status(self, reference: str) -> RailTransfer | None: ...

    def lookup(self, idempotency_key: str) -> RailTransfer | None: ...

    def transfers(self, key_prefix: str) -> list[RailTransfer]: ...


def _out(row: RailRecord) -> RailTransfer:
    return RailTransfer(
        row.reference, row.idempotency_key, row.payer, row.payee, row.amount_fen, row.status
    )


class RecordingRail:
    """Records every transfer as executed, in ``settlement_rail_records`` (the default)."""

    name = "recording"

    def __init__(self, unit: Unit) -> None:
        self._unit = unit

    def _existing(self, order: TransferOrder) -> RailTransfer | None:
        found = self.lookup(order.idempotency_key)
        if found is not None and (found.payer, found.payee, found.amount_fen) != (
            order.payer,
            order.payee,
            order.amount_fen,
        ):
            raise RailConflict(
                f"idempotency key {order.idempotency_key} was used for another transfer"
            )
        return found

    def transfer(self, order: TransferOrder) -> RailTransfer:
        if order.amount_fen <= 0:
            raise ValueError("a transfer moves a positive amount")
        found = self._existing(order)
        if found is not None:
            return found
        row = RailRecord(
            reference=f"REC{uuid.uuid4().hex[:24].upper()}",
            idempotency_key=order.idempotency_key,
            payer=order.payer,
            payee=order.payee,
            amount_fen=order.amount_fen,
            memo=order.memo[:200],
            status="settled",
            recorded_at=utcnow(),
        )
        try:
            with self._unit() as s:
                s.add(row)
        except IntegrityError:  # the same key, concurrently: that one won
            again = self._existing(order)
            assert again is not None
            return again
        return _out(row)

    def status(self, reference: str) -> RailTransfer | None:
        with self._unit(write=False) as s:
            row = s.get(RailRecord, reference)
            return None if row is None else _out(row)

    def lookup(self, idempotency_key: str) -> RailTransfer | None:
        with self._unit(write=False) as s:
            row = s.scalars(
                select(RailRecord).where(RailRecord.idempotency_key == idempotency_key)
            ).first()
            return None if row is None else _out(row)

    def transfers(self, key_prefix: str) -> list[RailTransfer]:
        with self._unit(write=False) as s:
            rows = s.scalars(
                select(RailRecord)
                .where(RailRecord.idempotency_key.startswith(key_prefix, autoescape=True))
                .order_by(RailRecord.idempotency_key)
            )
            return [_out(r) for r in rows]


RAILS: dict[str, Callable[[Unit], PaymentRail]] = {"recording": RecordingRail}


def rail_for(name: str, unit: Unit) -> PaymentRail:
    """The rail the settings name (``Settings.settlement_rail``)."""
    return RAILS[name](unit)
