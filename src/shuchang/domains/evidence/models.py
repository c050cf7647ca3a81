"""Tables of the evidence domain (存证溯源)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shuchang.db import Base, BigId, UTCDateTime, utcnow


class OutboxEntry(Base):
    """One state change, written in the same transaction as the change (append-only).

    The log sequencer turns these rows into Merkle-log leaves; a database trigger refuses
    UPDATE and DELETE so that not even a bug can rewrite history before it is sequenced.
    """

    __tablename__ = "evidence_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    payload_digest: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PendingEntry(Base):
    """An outbox row not yet in the log: the sequencer's queue (deleted as it sequences).

    A queue row per entry, rather than an "id > cursor" scan, because on PostgreSQL ids
    commit out of order: a cursor could pass an id whose transaction commits a moment later.
    """

    __tablename__ = "evidence_pending"

    outbox_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("evidence_outbox.id"), primary_key=True
    )


class LogLeaf(Base):
    """Leaf ``idx`` of the Merkle log: the canonical leaf data of one outbox entry."""

    __tablename__ = "tlog_leaves"

    idx: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    outbox_id: Mapped[int] = mapped_column(BigId, ForeignKey("evidence_outbox.id"), unique=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sequenced_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LogNode(Base):
    """Hash of the perfect subtree ``(level, idx)``; level 0 holds the leaf hashes.

    Stored once when the subtree completes and never changed, so proofs read these rows and
    never recompute the tree (RFC 9162 §2.1; the tlog-tiles "stored hashes" layout).
    """

    __tablename__ = "tlog_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogCheckpoint(Base):
    """A signed checkpoint (C2SP tlog-checkpoint in a signed note) of the log at ``size``."""

    __tablename__ = "tlog_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LogCosignature(Base):
    """A witness's cosignature line on one checkpoint (C2SP signed-note signature line)."""

    __tablename__ = "tlog_cosignatures"

    size: Mapped[int] = mapped_column(ForeignKey("tlog_checkpoints.size"), primary_key=True)
    witness: Mapped[str] = mapped_column(String(200), primary_key=True)
    line: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
