"""Steps either side takes: suspend, complete, terminate — sent, or received from the peer."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shuchang.domains.contracts import Sender
from shuchang.domains.transfers import messages
from shuchang.domains.transfers.models import TransferProcess
from shuchang.domains.transfers.process import (
    VERB,
    Outbound,
    TransferProblem,
    allowed,
    from_counterparty,
    move,
    peer_url,
)

SUSPENSION, COMPLETION, TERMINATION = (
    "TransferSuspensionMessage",
    "TransferCompletionMessage",
    "TransferTerminationMessage",
)


def _send(t: TransferProcess, body: dict[str, Any]) -> Outbound | None:
    url = peer_url(t, VERB[body["@type"]])
    return Outbound(t.id, url, body) if url else None


def _pids(t: TransferProcess) -> tuple[str, str]:
    return str(t.provider_pid or ""), t.consumer_pid


def suspend(
    session: Session, t: TransferProcess, reason: str, code: str = "suspended"
) -> Outbound | None:
    """This side suspends a STARTED transfer (→ SUSPENDED); only it may resume it."""
    body = messages.with_reason(SUSPENSION, *_pids(t), code, [reason])
    move(session, t, SUSPENSION, "out", body)
    t.suspended_by = t.role
    return _send(t, body)


def complete(session: Session, t: TransferProcess) -> Outbound | None:
    """This side declares the transfer done (→ COMPLETED)."""
    body = messages.completion(*_pids(t))
    move(session, t, COMPLETION, "out", body)
    return _send(t, body)


def terminate(
    session: Session, t: TransferProcess, reason: str, code: str = "terminated"
) -> Outbound | None:
    """This side ends a transfer that is not final (→ TERMINATED). Before the consumer knows
    the provider's pid it cannot address the provider, and ends its side alone."""
    body = messages.with_reason(TERMINATION, *_pids(t), code, [reason])
    move(session, t, TERMINATION, "out", body)
    t.error = {"code": code, "reason": [reason]}
    return _send(t, body)


def received(session: Session, sender: Sender, msg: dict[str, Any], t: TransferProcess) -> None:
    """The peer suspended, completed or terminated the transfer."""
    from_counterparty(t, sender, msg)
    kind = msg["@type"]
    move(session, t, kind, "in", msg)
    if kind == SUSPENSION:
        t.suspended_by = "consumer" if t.role == "provider" else "provider"
    if kind in (SUSPENSION, TERMINATION) and (msg.get("code") or msg.get("reason")):
        t.error = {"code": msg.get("code"), "reason": msg.get("reason")}


def abandon(session: Session, t: TransferProcess, reason: str) -> None:
    """End our side when the peer could not be told of a start or request (delivery failed)."""
    try:
        allowed(t, TERMINATION)
    except TransferProblem:
        return
    body = messages.with_reason(TERMINATION, *_pids(t), "delivery_failed", [reason])
    move(session, t, TERMINATION, "out", body)
    t.error = {"code": "delivery_failed", "reason": [reason]}
