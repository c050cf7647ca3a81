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

A batch is read and hashed first (:func:`prepare`, no lock) and written after
(:func:`commit`, which marks exactly those records and only if they are still as hashed),
so the write lock every data request also needs is held only for the marking.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import BigInteger, any_, bindparam, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from shuchang.canonical import canonical_json_of_plain
from shuchang.db import table_of, utcnow
from shuchang.domains import evidence
from shuchang.domains.dataplane.metering import UNKNOWN
from shuchang.domains.dataplane.models import MeteringBatch, UsageRecord
from shuchang.domains.dataplane.schemas import BatchOut

KIND = "dataplane.metering_batch"
Unit = Callable[..., AbstractContextManager[Session]]  # Platform.unit(write=...)


_r = table_of(UsageRecord)
_LINE_COLUMNS = (
    _r.c.id,
    _r.c.agreement_id,
    _r.c.transfer_id,
    _r.c.consumer_id,
    _r.c.method,
    _r.c.path,
    _r.c.permitted,
    _r.c.outcome,
    _r.c.status,
    _r.c.bytes,
    _r.c.rows,
    _r.c.duration_ms,
    _r.c.started_at,
    _r.c.counted,
    _r.c.resource_id,
    _r.c.byte_range,
    _r.c.channel,
)
_SEALABLE = (
    select(*_LINE_COLUMNS)
    .where(_r.c.batch_id.is_(None))
    .order_by(_r.c.id)
    .limit(bindparam("limit"))
)
_MARK = (
    update(_r)
    .where(_r.c.id.in_(bindparam("ids", expanding=True)), _r.c.batch_id.is_(None))
    .values(batch_id=bindparam("batch"))
)
# PostgreSQL: the ids as one array parameter (10,000 expanded parameters cost more to send
# than the update); exact ids, not a range: a record committed into the range after the
# batch was read must not be marked without being in the digest.
_MARK_PG = (
    update(_r)
    .where(_r.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger))), _r.c.batch_id.is_(None))
    .values(batch_id=bindparam("batch"))
)


def record_line(r: Any) -> bytes:
    """The canonical JSON line of one usage record (what the batch digest covers); ``r`` is
    a record or a row of its columns. The delivery columns appear only when they say
    something (not counted, a source part, a byte range, a channel), so records written
    before downloads existed keep the lines their sealed digests were taken over."""
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
    if r.counted is False:
        fields["counted"] = False
    if r.resource_id is not None:
        fields["resource_id"] = str(r.resource_id)
    if r.byte_range is not None:
        fields["byte_range"] = r.byte_range
    if r.channel is not None:
        fields["channel"] = r.channel
    return canonical_json_of_plain(fields) + b"\n"


def batch_digest(records: Iterable[Any]) -> str:
    """SHA-256 (hex) over the records' canonical lines, in the order given (by id)."""
    h = hashlib.sha256()
    for r in records:
        h.update(record_line(r))
    return h.hexdigest()


@dataclass(frozen=True)
class Prepared:
    """A batch read and hashed, not yet written: its records' ids (``unknown`` ones apart)."""

    final: list[int]
    unknown: list[int]
    first_id: int
    last_id: int
    digest: str

    @property
    def count(self) -> int:
        return len(self.final) + len(self.unknown)


def prepare(session: Session, *, limit: int, in_flight_seconds: int) -> Prepared | None:
    """Read the oldest unsealed records (up to ``limit``) and hash them; None if none is
    ready. A permitted record still waiting for its outcome stops the batch (it would change
    after its digest was taken) unless it is older than ``in_flight_seconds``."""
    cutoff = utcnow() - timedelta(seconds=in_flight_seconds)
    taken: list[Any] = []
    for r in session.execute(_SEALABLE, {"limit": limit}):
        if r.outcome == UNKNOWN and r.started_at > cutoff:
            break  # still in flight: keep the batch a prefix of what is settled
        taken.append(r)
    if not taken:
        return None
    return Prepared(
        final=[r.id for r in taken if r.outcome != UNKNOWN],
        unknown=[r.id for r in taken if r.outcome == UNKNOWN],
        first_id=taken[0].id,
        last_id=taken[-1].id,
        digest=batch_digest(taken),
    )


def commit(session: Session, prepared: Prepared) -> BatchOut:
    """Write a prepared batch: its row, its evidence entry, and the records marked — only if
    every one is still unsealed and as hashed. A record with an outcome never changes again
    (outcomes are written once, to ``unknown`` records); an ``unknown`` one must still be
    ``unknown``. Otherwise nothing is written and SealConflict is raised (another sealer or
    a late outcome came first; the next round prepares again)."""
    batch = MeteringBatch(
        count=prepared.count,
        first_id=prepared.first_id,
        last_id=prepared.last_id,
        digest=prepared.digest,
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
    mark = _MARK_PG if session.get_bind().dialect.name == "postgresql" else _MARK
    marked = 0
    for ids, still in ((prepared.final, _r.c.outcome != UNKNOWN), (prepared.unknown, None)):
        if ids:
            stmt = mark.where(still if still is not None else _r.c.outcome == UNKNOWN)
            result = session.execute(stmt, {"ids": ids, "batch": batch.id})
            marked += int(getattr(result, "rowcount", len(ids)))
    if marked != prepared.count:
        raise SealConflict(prepared.count - marked)
    return _out(batch)


class SealConflict(RuntimeError):
    """Records of a prepared batch were sealed or closed meanwhile; nothing was written."""

    def __init__(self, missing: int) -> None:
        super().__init__(f"{missing} usage records changed since the batch was read; retried")


def seal(session: Session, *, limit: int, in_flight_seconds: int) -> BatchOut | None:
    """Seal the oldest unsealed records (up to ``limit``) as one batch in this transaction;
    None if none is ready."""
    prepared = prepare(session, limit=limit, in_flight_seconds=in_flight_seconds)
    return None if prepared is None else commit(session, prepared)


def _out(b: MeteringBatch) -> BatchOut:
    return BatchOut(b.id, b.count, b.first_id, b.last_id, b.digest, b.evidence_id, b.sealed_at)


def verify_batch(session: Session, batch_id: int) -> tuple[BatchOut, bool]:
    """The batch and whether its records still hash to its digest (and number its count)."""
    batch = session.get(MeteringBatch, batch_id)
    if batch is None:
        raise LookupError(batch_id)
    records = session.execute(
        select(*_LINE_COLUMNS).where(_r.c.batch_id == batch_id).order_by(_r.c.id)
    ).all()
    ok = len(records) == batch.count and batch_digest(records) == batch.digest
    return _out(batch), ok


def seal_all(unit: Unit, *, limit: int, in_flight_seconds: int) -> list[BatchOut]:
    """Seal batch after batch until nothing is ready. Each batch is read and hashed in a
    read-only transaction and written in a short one: on SQLite the write lock, which every
    data request's admission needs too, is held only to mark the records."""
    sealed: list[BatchOut] = []
    while True:
        with unit(write=False) as s:
            prepared = prepare(s, limit=limit, in_flight_seconds=in_flight_seconds)
        if prepared is None:
            return sealed
        with unit() as s:
            out = commit(s, prepared)
        sealed.append(out)
        if out.count < limit:
            return sealed
