"""What the provider's pusher (数据推送) needs from the transfers domain: the STARTED push
transfers this connector provides, and ending one when its data is delivered or cannot be.

The data plane's pusher (``shuchang.domains.dataplane.push``) sends the data; this module owns
the state machine: :func:`finish_push` completes (TransferCompletionMessage) or terminates
(TransferTerminationMessage, with a reason) the transfer in the caller's transaction, only
while it is still STARTED in the epoch the push belongs to, and returns the message to send
after the commit (:func:`shuchang.domains.transfers.service.deliver`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.domains.transfers import messages, steps
from shuchang.domains.transfers.models import TransferProcess
from shuchang.domains.transfers.process import Outbound, lock


@dataclass(frozen=True)
class PushTransfer:
    """A provider-side push transfer as the pusher sees it."""

    id: uuid.UUID
    epoch: int
    state: str
    agreement_id: uuid.UUID
    consumer_id: uuid.UUID
    provider_id: uuid.UUID
    provider_pid: str
    consumer_pid: str
    data_address: dict[str, Any]

    @property
    def endpoint(self) -> str:
        return messages.endpoint_of(self.data_address)

    @property
    def properties(self) -> dict[str, str]:
        return messages.properties_of(self.data_address)


def _of(t: TransferProcess) -> PushTransfer:
    return PushTransfer(
        id=t.id,
        epoch=t.epoch,
        state=t.state,
        agreement_id=t.agreement_id,
        consumer_id=t.counterparty_id,
        provider_id=t.local_participant_id,
        provider_pid=str(t.provider_pid),
        consumer_pid=t.consumer_pid,
        data_address=t.data_address or {},
    )


def _pushes() -> Any:
    return select(TransferProcess).where(
        TransferProcess.role == "provider", TransferProcess.transfer_type == messages.PUSH
    )


def started_pushes(session: Session, provider_id: uuid.UUID) -> list[PushTransfer]:
    """The STARTED push transfers ``provider_id`` (this connector's participant) provides."""
    stmt = _pushes().where(
        TransferProcess.state == "STARTED", TransferProcess.local_participant_id == provider_id
    )
    return [_of(t) for t in session.scalars(stmt)]


def push_transfer(session: Session, transfer_id: uuid.UUID) -> PushTransfer | None:
    """One provider-side push transfer, in whatever state."""
    t = session.scalars(_pushes().where(TransferProcess.id == transfer_id)).first()
    return _of(t) if t is not None else None


def finish_push(
    session: Session,
    transfer_id: uuid.UUID,
    epoch: int,
    *,
    reason: str | None = None,
    code: str = "push_failed",
) -> Outbound | None:
    """Complete the push transfer (``reason`` None) or terminate it with ``code`` and
    ``reason``, if it is still STARTED in ``epoch``; the message for the consumer, or None
    when the transfer moved on meanwhile (suspended, ended, resumed into a new epoch)."""
    t = lock(session, transfer_id)
    if t is None or t.role != "provider" or t.state != "STARTED" or t.epoch != epoch:
        return None
    if reason is None:
        return steps.complete(session, t)
    return steps.terminate(session, t, reason, code)
