"""Transfer processes counted by side and state, for supervision (监管统计)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuchang.domains.transfers.models import TransferProcess


def transfer_counts(session: Session) -> list[tuple[str, str, int]]:
    """``(role of this connector's side, state, transfers)``."""
    rows = session.execute(
        select(TransferProcess.role, TransferProcess.state, func.count())
        .group_by(TransferProcess.role, TransferProcess.state)
        .order_by(TransferProcess.role, TransferProcess.state)
    )
    return [(role, state, int(n)) for role, state, n in rows]
