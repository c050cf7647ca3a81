"""The evidence log (存证溯源): sequencer, stored Merkle tree, checkpoints, receipts, audit.

Leaf data (documented for verifiers in docs/evidence.*.md) is the RFC 8785 canonical JSON::

    {"v":1,"id":<outbox id>,"kind":"participant.registered","subject":"participant:<uuid>",
     "actor":"participant:<uuid>","payload_sha256":"<hex>","recorded_at":"2026-11-26T14:02:06.123456Z"}

The payload itself stays in the database (it may hold personal data); the leaf commits to its
SHA-256, so anyone given the payload can check it against a receipt.

Sequencing is exactly once: one transaction takes the queue rows (evidence_pending), appends
their leaves and the completed subtree hashes, and deletes the queue rows. A crash anywhere
rolls all of it back. On PostgreSQL a transaction-level advisory lock admits one sequencer at
a time across processes; on SQLite the write transaction (BEGIN IMMEDIATE) does the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, text, tuple_
from sqlalchemy.orm import Session

from shuchang.canonical import canonical_json
from shuchang.db import utcnow
from shuchang.domains.evidence.models import (
    LogCheckpoint,
    LogLeaf,
    LogNode,
    OutboxEntry,
    PendingEntry,
)
from shuchang.domains.evidence.tlog.checkpoint import Checkpoint
from shuchang.domains.evidence.tlog.merkle import (
    NodeID,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_at,
    root_plan,
)
from shuchang.domains.evidence.tlog.note import Signer, sign
from shuchang.domains.evidence.tlog.proof import TlogProof

ADVISORY_LOCK = 0x5348_4348_4C4F_4731  # "SHCHLOG1": the sequencer's PostgreSQL advisory lock
LEAF_VERSION = 1


class NotSequenced(LookupError):
    """The entry exists but is not in a published checkpoint yet."""


# The outbox columns a leaf is made of, in leaf_data's parameter order.
LEAF_COLUMNS = (
    OutboxEntry.id,
    OutboxEntry.kind,
    OutboxEntry.subject,
    OutboxEntry.actor,
    OutboxEntry.payload_digest,
    OutboxEntry.recorded_at,
)


def leaf_data(  # noqa: PLR0917 - called with a selected row unpacked, in column order
    outbox_id: int, kind: str, subject: str, actor: str, digest: str, at: datetime
) -> bytes:
    """The canonical leaf bytes of one outbox entry (see the module docstring)."""
    return canonical_json(
        {
            "v": LEAF_VERSION,
            "id": outbox_id,
            "kind": kind,
            "subject": subject,
            "actor": actor,
            "payload_sha256": digest,
            "recorded_at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
    )


class DbNodeStore:
    """Stored subtree hashes, read with one query per proof (merkle.NodeStore)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get_nodes(self, ids: Sequence[NodeID], /) -> list[bytes]:
        if not ids:
            return []
        rows = self._session.execute(
            select(LogNode.level, LogNode.idx, LogNode.hash).where(
                tuple_(LogNode.level, LogNode.idx).in_(list(ids))
            )
        )
        found = {(level, idx): digest for level, idx, digest in rows}
        try:
            return [found[node] for node in ids]
        except KeyError as exc:
            raise LookupError(f"log node {exc.args[0]} is not stored") from None


def tree_size(session: Session) -> int:
    last = session.scalar(select(func.max(LogLeaf.idx)))
    return 0 if last is None else last + 1


def _take_lock(session: Session, *, wait: bool = False) -> bool:
    """The log's writer lock for this transaction: try (background rounds) or wait (on demand)."""
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: this write transaction already holds the database lock
    if wait:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK})
        return True
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK}))


@dataclass(frozen=True)
class SequencedBatch:
    start: int
    count: int
    locked: bool = True  # False: another process holds the writer lock; nothing was done


def _frontier(session: Session, size: int) -> list[tuple[int, int, bytes]]:
    """The perfect subtrees covering the current tree, left to right (largest first)."""
    ids = root_plan(size).ids
    hashes = DbNodeStore(session).get_nodes(ids)
    return [(level, idx, h) for (level, idx), h in zip(ids, hashes, strict=True)]


def sequence(session: Session, batch: int = 5000, *, wait: bool = False) -> SequencedBatch:
    """Append up to ``batch`` queued entries to the log, in outbox order."""
    if not _take_lock(session, wait=wait):
        return SequencedBatch(0, 0, locked=False)
    queued = session.execute(
        select(*LEAF_COLUMNS)
        .join(PendingEntry, PendingEntry.outbox_id == OutboxEntry.id)
        .order_by(PendingEntry.outbox_id)
        .limit(batch)
    ).all()
    size = tree_size(session)
    if not queued:
        return SequencedBatch(size, 0)
    stack = _frontier(session, size)
    now = utcnow()
    leaves: list[dict[str, object]] = []
    nodes: list[dict[str, object]] = []
    for offset, row in enumerate(queued):
        data = leaf_data(*row)
        index = size + offset
        leaves.append({"idx": index, "outbox_id": row[0], "data": data, "sequenced_at": now})
        stack.append((0, index, leaf_hash(data)))
        nodes.append({"level": 0, "idx": index, "hash": stack[-1][2]})
        # Two perfect subtrees of one height side by side complete their parent.
        while len(stack) > 1 and stack[-1][0] == stack[-2][0]:
            level, right_idx, right = stack.pop()
            _, _, left = stack.pop()
            stack.append((level + 1, right_idx // 2, node_hash(left, right)))
            nodes.append({"level": level + 1, "idx": right_idx // 2, "hash": stack[-1][2]})
    session.execute(insert(LogLeaf), leaves)
    session.execute(insert(LogNode), nodes)
    session.execute(delete(PendingEntry).where(PendingEntry.outbox_id.in_([r[0] for r in queued])))
    return SequencedBatch(size, len(queued))


def latest_checkpoint(session: Session) -> LogCheckpoint | None:
    return session.scalars(
        select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(1)
    ).first()


def publish_checkpoint(session: Session, signer: Signer, origin: str) -> LogCheckpoint:
    """Sign and store a checkpoint of the current tree (the latest one if it has not grown)."""
    _take_lock(session, wait=True)  # one publisher at a time, never two of one size
    size = tree_size(session)
    latest = latest_checkpoint(session)
    if latest is not None and latest.size == size:
        return latest
    root = root_at(DbNodeStore(session), size)
    note = sign(Checkpoint(origin, size, root).to_text(), signer)
    row = LogCheckpoint(size=size, root=root, note=note.decode(), published_at=utcnow())
    session.add(row)
    session.flush()
    return row


def checkpoint_at(session: Session, size: int) -> LogCheckpoint | None:
    return session.get(LogCheckpoint, size)


def leaf_of(session: Session, outbox_id: int) -> LogLeaf | None:
    return session.scalars(select(LogLeaf).where(LogLeaf.outbox_id == outbox_id)).first()


def receipt(session: Session, outbox_id: int) -> bytes:
    """The tlog-proof@v1 receipt of an entry against the latest checkpoint that covers it."""
    leaf = leaf_of(session, outbox_id)
    if leaf is None:
        raise NotSequenced(f"evidence entry {outbox_id} is not sequenced yet")
    checkpoint = latest_checkpoint(session)
    if checkpoint is None or checkpoint.size <= leaf.idx:
        raise NotSequenced(f"evidence entry {outbox_id} is not covered by a checkpoint yet")
    proof = inclusion_proof(DbNodeStore(session), leaf.idx, checkpoint.size)
    return TlogProof(leaf.idx, tuple(proof), checkpoint.note.encode()).to_bytes()


def consistency(session: Session, size1: int, size2: int) -> list[bytes]:
    """Consistency proof between two tree sizes (0 < size1 <= size2 <= current size)."""
    return consistency_proof(DbNodeStore(session), size1, size2)
