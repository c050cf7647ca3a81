"""Use cases of the evidence domain: record a state change, read an object's history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from shuchang.canonical import digest, digest_of_plain
from shuchang.db import table_of, utcnow
from shuchang.domains.evidence.models import OutboxEntry, PendingEntry
from shuchang.domains.evidence.schemas import EvidenceEntry

MAX_FIELD = 128
MAX_KIND = 64


def record(session: Session, kind: str, subject: str, actor: str, payload: dict[str, Any]) -> int:
    """Append one evidence row in the caller's transaction and return its outbox id.

    ``kind`` names the change (``participant.registered``), ``subject`` the object
    (``participant:<id>``), ``actor`` who caused it (``participant:<id>``, ``system``,
    ``cli``). The payload is stored as is and its canonical SHA-256 digest beside it.
    """
    for name, value, limit in (
        ("kind", kind, MAX_KIND),
        ("subject", subject, MAX_FIELD),
        ("actor", actor, MAX_FIELD),
    ):
        if not value or len(value) > limit:
            raise ValueError(f"evidence {name} must be 1..{limit} characters")
    entry = OutboxEntry(
        kind=kind,
        subject=subject,
        actor=actor,
        payload=payload,
        payload_digest=digest(payload),
        recorded_at=utcnow(),
    )
    session.add(entry)
    session.flush()
    session.add(PendingEntry(outbox_id=entry.id))
    return entry.id


def record_many(
    session: Session,
    actor: str,
    entries: list[tuple[str, str, dict[str, Any]]],
    *,
    plain: bool = False,
) -> list[int]:
    """Append many ``(kind, subject, payload)`` rows by one actor in one round trip (bulk work).

    ``plain``: the caller built every payload from a plain shape (see
    :func:`shuchang.canonical.canonical_json_of_plain`), so the C encoder may digest them.
    """
    if not entries:
        return []
    now = utcnow()
    hashed = digest_of_plain if plain else digest
    rows = [
        {
            "kind": k,
            "subject": s,
            "actor": actor,
            "payload": p,
            "payload_digest": hashed(p),
            "recorded_at": now,
        }
        for k, s, p in entries
    ]
    outbox = table_of(OutboxEntry)
    ids = list(
        session.scalars(insert(outbox).returning(outbox.c.id, sort_by_parameter_order=True), rows)
    )
    session.execute(insert(table_of(PendingEntry)), [{"outbox_id": i} for i in ids])
    return ids


def history(session: Session, subject: str, limit: int = 200) -> list[EvidenceEntry]:
    """The evidence entries of one object, oldest first."""
    rows = session.scalars(
        select(OutboxEntry)
        .where(OutboxEntry.subject == subject)
        .order_by(OutboxEntry.id)
        .limit(limit)
    )
    return [entry_out(row) for row in rows]


def entry_out(row: OutboxEntry) -> EvidenceEntry:
    return EvidenceEntry(
        id=row.id,
        kind=row.kind,
        subject=row.subject,
        actor=row.actor,
        payload=row.payload,
        payload_digest=row.payload_digest,
        recorded_at=row.recorded_at,
    )
