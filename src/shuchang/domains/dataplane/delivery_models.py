"""Tables of dataset delivery (数据集交付): file digests, paid copies, push jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from shuchang.db import Base, BigId, UTCDateTime, utcnow


class FileDigest(Base):
    """SHA-256 and SM3 of one content of a data file (文件摘要), keyed by its path in the data
    root, size and modification time (ns): a changed file gets a new row and a new evidence
    entry; ``evidence_id`` is the entry that recorded the digests when first computed."""

    __tablename__ = "dataplane_file_digests"
    __table_args__ = (
        UniqueConstraint("path", "size", "mtime_ns", name="uq_dataplane_file_digests_content"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    path: Mapped[str] = mapped_column(String(1000))
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    sm3: Mapped[str] = mapped_column(String(64))
    evidence_id: Mapped[int] = mapped_column(BigInteger)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DownloadCopy(Base):
    """One counted download of a file part (一次计数的下载): a use pays for ``size`` bytes of
    one content (``etag``); ranges of the same transfer inside what is left of it are
    continuations (resumes) that do not count again. ``reserved`` is the bytes promised to
    requests so far, released again for bytes a request did not send."""

    __tablename__ = "dataplane_download_copies"
    __table_args__ = (
        Index("ix_dataplane_download_copies_transfer", "transfer_id", "resource_id", "etag"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    transfer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    resource_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    etag: Mapped[str] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(BigInteger)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    record_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PushJob(Base):
    """Sending a push transfer's data to the consumer's endpoint (推送任务), once per start
    (``epoch``). ``state``: ``pending`` → ``running`` (leased by ``owner`` until
    ``lease_until``) → ``done`` | ``failed`` | ``stopped``; a lease that runs out (the pusher
    died) lets another pusher take the job over, closing the dead attempt's record first.

    ``progress`` is one entry per unit (a file part, or a page of a table part): the record
    that paid for it (``paid``; a retry does not count again), whether the consumer's endpoint
    accepted it (``done``; not sent again) and its size and digests. ``record_id`` is the usage
    record of the unit in flight and ``sent`` the bytes of it sent so far (written with every
    chunk, as the lease is renewed)."""

    __tablename__ = "dataplane_push_jobs"
    __table_args__ = (
        UniqueConstraint("transfer_id", "epoch", name="uq_dataplane_push_jobs_transfer_epoch"),
        Index("ix_dataplane_push_jobs_state_next", "state", "next_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    transfer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    epoch: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    owner: Mapped[str | None] = mapped_column(String(32))
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    record_id: Mapped[int | None] = mapped_column(BigInteger)
    sent: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
