"""Sealing metering into the evidence log (计量存证): usage records → one digest per batch.

A batch is the oldest unsealed records, in id order, up to a limit. Its digest is SHA-256
over their canonical JSON lines (RFC 8785 each, ``\\n`` after each), recorded as one evidence
entry ``dataplane.metering_batch`` with the count, the first and last id and the digest, in
the same transaction that marks the records with the batch. Anyone can recompute the
digest from the records of the batch (:func:`verify_batch`, `shuchang dataplane verify`).

A permitted record still waiting for its outcome is not sealed (it would change after its
digest was taken) unless it is older than ``in_flight_seconds``: then the gateway that
opened it is gone, and it is sealed as ``unknown``. Ids on PostgreSQL commit out of order,
so a batch may leave a gap that a later batch fills: a batch is its records, not a range.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shuchang.canonical import canonical_json
from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.dataplane.metering import UNKNOWN
from shuchang.domains.dataplane.models import MeteringBatch, UsageRecord
from shuchang.domains.dataplane.schemas import BatchOut

KIND = "dataplane.metering_batch"
Unit = Callable[[], AbstractContextManager[Session]]


def record_line(r: UsageRecord) -> bytes:
    """The canonical JSON line of one usage record (what the batch digest covers)."""
    started = r.started_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields: dict[str, Any] = {
        "id": r.id,
        "agreement_id": str(r.agreement_id),
        "transfer_id": str(r.transfer_id),
        "consumer_id": str(r.consumer_id),
        "method": r.method,
        "path": r.path,
        "permitted": r.permitted,
        "outcome": r.outcome,
        "status": r.status,
        "bytes": r.bytes,
        "rows": r.rows,
        "duration_ms": r.duration_ms,
        "started_at": started,
    }
    return canonical_json(fields) + b"\n"


def batch_digest(records: Iterable[UsageRecord]) -> str:
    """SHA-256 (hex) over the records' canonical lines, in the order given (by id)."""
    h = hashlib.sha256()
    for r in records:
        h.update(record_line(r))
    return h.hexdigest()


def _sealable(session: Session, limit: int, in_flight_seconds: int) -> list[UsageRecord]:
    # FOR UPDATE (PostgreSQL): an outcome written concurrently waits for this seal and then
    # finds the record sealed; a second sealer waits and skips what this one took.
    rows = session.scalars(
        select(UsageRecord)
        .where(UsageRecord.batch_id.is_(None))
        .order_by(UsageRecord.id)
        .limit(limit)
        .with_for_update()
    ).all()
    cutoff = utcnow() - timedelta(seconds=in_flight_seconds)
    taken: list[UsageRecord] = []
    for r in rows:
        if r.outcome == UNKNOWN and r.started_at > cutoff:
            break  # still in flight: keep the batch a prefix of what is settled
        taken.append(r)
    return taken


def seal(session: Session, *, limit: int, in_flight_seconds: int) -> BatchOut | None:
    """Seal the oldest unsealed records (up to ``limit``) as one batch; None if none is ready."""
    records = _sealable(session, limit, in_flight_seconds)
    if not records:
        return None
    batch = MeteringBatch(
        count=len(records),
        first_id=records[0].id,
        last_id=records[-1].id,
        digest=batch_digest(records),
        evidence_id=0,
        sealed_at=utcnow(),
    )
    session.add(batch)
    session.flush()
    batch.evidence_id = evidence.record(
        session,
        KIND,
        f"dataplane-batch:{batch.id}",
        "system",
        {
            "batch": batch.id,
            "count": batch.count,
            "first_id": batch.first_id,
            "last_id": batch.last_id,
            "digest": batch.digest,
            "algorithm": "sha-256/jcs-lines",
        },
    )
    ids = [r.id for r in records]
    marked = session.execute(
        update(UsageRecord)
        .where(UsageRecord.id.in_(ids), UsageRecord.batch_id.is_(None))
        .values(batch_id=batch.id)
        .execution_options(synchronize_session=False)
    )
    if getattr(marked, "rowcount", len(ids)) != len(ids):  # another sealer took some: undo
        raise RuntimeError("usage records were sealed concurrently; sealing is retried")
    return _out(batch)


def _out(b: MeteringBatch) -> BatchOut:
    return BatchOut(b.id, b.count, b.first_id, b.last_id, b.digest, b.evidence_id, b.sealed_at)


def verify_batch(session: Session, batch_id: int) -> tuple[BatchOut, bool]:
    """The batch and whether its records still hash to its digest (and number its count)."""
    batch = session.get(MeteringBatch, batch_id)
    if batch is None:
        raise LookupError(batch_id)
    records = session.scalars(
        select(UsageRecord).where(UsageRecord.batch_id == batch_id).order_by(UsageRecord.id)
    ).all()
    ok = len(records) == batch.count and batch_digest(records) == batch.digest
    return _out(batch), ok


def seal_all(unit: Unit, *, limit: int, in_flight_seconds: int) -> list[BatchOut]:
    """Seal batch after batch (each its own transaction) until nothing is ready."""
    sealed: list[BatchOut] = []
    while True:
        with unit() as s:
            out = seal(s, limit=limit, in_flight_seconds=in_flight_seconds)
        if out is None:
            return sealed
        sealed.append(out)
        if out.count < limit:
            return sealed
