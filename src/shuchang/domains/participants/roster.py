"""Read-only views of the participant roster for other domains: counts for supervision,
and the members holding a role (the operator who issues certificates)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuchang.domains.participants.models import Participant
from shuchang.domains.participants.schemas import ParticipantOut
from shuchang.domains.participants.service import to_out


def count_by_kind_status(session: Session) -> list[tuple[str, str, int]]:
    """``(kind, status, participants)`` for every pair that occurs (one GROUP BY)."""
    rows = session.execute(
        select(Participant.kind, Participant.status, func.count())
        .group_by(Participant.kind, Participant.status)
        .order_by(Participant.kind, Participant.status)
    )
    return [(kind, status, int(n)) for kind, status, n in rows]


def count_by_role(session: Session) -> dict[str, int]:
    """Active participants holding each role (a member with two roles counts in both)."""
    counts: dict[str, int] = {}
    for (roles,) in session.execute(
        select(Participant.roles).where(Participant.status == "active")
    ):
        for role in roles:
            counts[role] = counts.get(role, 0) + 1
    return counts


def with_role(session: Session, role: str, limit: int = 200) -> list[ParticipantOut]:
    """Active participants holding ``role``, oldest first (JSON roles: filtered here, the
    roster of one region is small)."""
    rows = session.scalars(
        select(Participant).where(Participant.status == "active").order_by(Participant.created_at)
    )
    return [to_out(p) for p in rows if role in p.roles][:limit]
