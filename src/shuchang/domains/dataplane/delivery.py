"""Admitting a download (下载准入): the same contract as API requests — one transaction checks
that the transfer is STARTED, decides the use (action ``read``), counts it and inserts the
usage record — plus what only downloads have: which columns may leave, and whether a range
request continues a copy already paid for.

**Copies.** A counted download of a file as it is (raw bytes) opens a *copy* of that content
(its ETag) for the transfer, worth the file's size. A later request of the same transfer for
the same part and content — a resume after a broken connection, or the other ranges of a
parallel download — continues the copy while the bytes it asks for fit in what is left
(``reserved`` + length ≤ size): it is decided as the paying use was (``continues``), metered
with its own record, and does **not** count a use. Bytes a request did not send are given
back when its record is closed, so a consumer whose connection broke can always fetch the rest
once; fetching more than a copy's worth counts a new use. Projected files and table pages
cannot be resumed by range: each request is a use.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains.catalog import SourcePart, product_sources
from shuchang.domains.contracts import UseDecision, UseRequest, decide_use, find_agreement
from shuchang.domains.dataplane import metering
from shuchang.domains.dataplane.delivery_models import DownloadCopy
from shuchang.domains.dataplane.errors import PartNotFound, PartRequired, Unprojectable
from shuchang.domains.participants import Actor
from shuchang.domains.transfers import TokenClaims, TokenMisdirected, check_started
from shuchang.errors import NotFound

SECONDS = 30.0
DATA_KINDS = ("dataset", "data_element")  # delivered as files and tables


@dataclass(frozen=True)
class Offering:
    """What an agreement's product is, for delivery."""

    kind: str
    parts: tuple[SourcePart, ...]
    purpose: str | None
    consumer_id: uuid.UUID

    def part(self, resource_id: uuid.UUID | None) -> SourcePart:
        if resource_id is None:
            if len(self.parts) != 1:
                raise PartRequired() if self.parts else PartNotFound()
            return self.parts[0]
        for p in self.parts:
            if p.resource_id == resource_id:
                return p
        raise PartNotFound()


class Offerings:
    """Agreement → its product's kind and pinned parts, re-read every ``SECONDS``."""

    def __init__(self, seconds: float = SECONDS) -> None:
        self.seconds = seconds
        self._cache: dict[uuid.UUID, tuple[Offering, float]] = {}
        self._lock = threading.Lock()

    def cached(self, agreement_id: uuid.UUID) -> Offering | None:
        with self._lock:
            hit = self._cache.get(agreement_id)
        return hit[0] if hit is not None and hit[1] > time.monotonic() else None

    def get(self, session: Session, agreement_id: uuid.UUID) -> Offering:
        hit = self.cached(agreement_id)
        if hit is not None:
            return hit
        agreement = find_agreement(session, agreement_id)
        if agreement is None:
            raise NotFound("Agreement not found", "合约不存在", code="agreement.not_found")
        try:
            product_id = uuid.UUID(agreement.dataset_id.removeprefix("urn:uuid:"))
        except ValueError:
            raise NotFound("Product not found", "产品不存在", code="catalog.not_found") from None
        sources = product_sources(session, product_id)
        if sources is None:
            raise NotFound("Product not found", "产品不存在", code="catalog.not_found")
        offering = Offering(sources.kind, sources.parts, agreement.purpose, agreement.consumer_id)
        with self._lock:
            if len(self._cache) > 10_000:  # noqa: PLR2004 - bound memory; entries refill
                self._cache.clear()
            self._cache[agreement_id] = (offering, time.monotonic() + self.seconds)
        return offering


@dataclass(frozen=True)
class CopyKey:
    """The raw bytes a file request asks for: content (ETag), its size, the span's length."""

    etag: str
    size: int
    length: int


@dataclass(frozen=True)
class PartRequest:
    method: str
    path: str
    part: SourcePart
    kind: str  # "file" | "table" | "manifest"
    fields: tuple[str, ...]
    purpose: str | None
    started_at: datetime
    clock_start: float
    counts: bool = True  # False: HEAD and the manifest (metered, no use counted)
    columns: tuple[str, ...] | None = None  # the file's or table's columns, when known
    fmt: str = "csv"
    copy: CopyKey | None = None
    byte_range: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class PartAdmission:
    decision: UseDecision
    record_id: int
    counted: bool
    keep: list[str] | None  # columns to send; None: the file as it is
    copy_id: int | None = None


def kept_columns(req: PartRequest, decision: UseDecision) -> list[str] | None:
    """Columns that may leave (requested ∩ allowed − excluded ∩ declared ∩ present); None
    for a file that may leave as it is. Unprojectable when nothing may, or a file cannot be
    cut to them."""
    allowed = set(decision.allowed_fields) if decision.allowed_fields is not None else None
    excluded = set(decision.excluded_fields or ())
    declared = set(req.part.fields) or None

    def ok(name: str) -> bool:
        return (
            (not req.fields or name in req.fields)
            and (allowed is None or name in allowed)
            and name not in excluded
            and (declared is None or name in declared)
        )

    if req.columns is None:  # JSON Lines or another file whose columns are not known
        limited = bool(req.fields) or allowed is not None or bool(excluded)
        if not limited:
            return None
        if req.fmt != "jsonl":
            raise Unprojectable()
        keep = [n for n in (declared or allowed or set(req.fields)) if ok(n)]
    else:
        keep = [c for c in req.columns if ok(c)]
        if req.kind == "file" and keep == list(req.columns):
            return None
    if not keep:
        raise Unprojectable(
            "None of the columns asked for may be delivered under this agreement",
            "所请求的字段均不在合约允许交付的范围内",
        )
    return sorted(keep) if req.columns is None else keep


def _continuable(session: Session, claims: TokenClaims, req: PartRequest) -> DownloadCopy | None:
    if req.copy is None or not req.counts:
        return None
    c = DownloadCopy
    return session.scalars(
        select(c)
        .where(
            c.transfer_id == claims.transfer_id,
            c.resource_id == req.part.resource_id,
            c.etag == req.copy.etag,
            c.reserved + req.copy.length <= c.size,
        )
        .order_by(c.id.desc())
        .limit(1)
        .with_for_update()
    ).first()


def _decide(
    session: Session, claims: TokenClaims, req: PartRequest, purpose: str | None, *, consume: bool
) -> UseDecision:
    return decide_use(
        session,
        Actor(participant_id=claims.consumer_id, role="consumer"),
        claims.agreement_id,
        UseRequest(
            action="read",
            purpose=purpose,
            fields=list(req.fields),
            consume=consume,
            continues=not consume,
        ),
    )


def open_record(
    session: Session, claims: TokenClaims, req: PartRequest, *, permitted: bool, counted: bool
) -> int:
    """A download's usage record, in the decision's transaction."""
    took = None if permitted else int((time.monotonic() - req.clock_start) * 1000)
    opening = metering.Opening(
        agreement_id=claims.agreement_id,
        transfer_id=claims.transfer_id,
        consumer_id=claims.consumer_id,
        method=req.method,
        path=req.path,
        permitted=permitted,
        started_at=req.started_at,
        duration_ms=took,
        counted=counted,
        resource_id=req.part.resource_id,
        byte_range=req.byte_range,
        channel=req.channel,
    )
    return metering.open_records(session, [opening])[0]


def admit_part(
    session: Session, claims: TokenClaims, offerings: Offerings, req: PartRequest
) -> PartAdmission:
    """Check, decide, count and record one download in the caller's transaction. Raises
    (nothing recorded, nothing counted) when the transfer is not STARTED, the token is not the
    agreement's consumer's, or no column may leave; a denial is recorded and returned."""
    check_started(session, claims)
    offering = offerings.get(session, claims.agreement_id)
    if offering.consumer_id != claims.consumer_id:
        raise TokenMisdirected()
    purpose = req.purpose or offering.purpose
    candidate = _continuable(session, claims, req)
    decision = _decide(session, claims, req, purpose, consume=req.counts and candidate is None)
    keep = kept_columns(req, decision) if decision.permitted else None
    if decision.permitted and candidate is not None and keep is not None:
        candidate = None  # a projected answer cannot continue a copy of the raw file
        decision = _decide(session, claims, req, purpose, consume=True)
    counted = decision.permitted and req.counts and candidate is None
    record_id = open_record(session, claims, req, permitted=decision.permitted, counted=counted)
    copy_id = None
    if decision.permitted and req.copy is not None and req.counts and keep is None:
        copy_id = _reserve(
            session, claims, req=req, key=req.copy, candidate=candidate, record_id=record_id
        )
    return PartAdmission(decision, record_id, counted, keep, copy_id)


def _reserve(
    session: Session,
    claims: TokenClaims,
    *,
    req: PartRequest,
    key: CopyKey,
    candidate: DownloadCopy | None,
    record_id: int,
) -> int:
    if candidate is not None:
        candidate.reserved += key.length
        session.flush()
        return candidate.id
    copy = DownloadCopy(
        transfer_id=claims.transfer_id,
        resource_id=req.part.resource_id,
        etag=key.etag,
        size=key.size,
        reserved=key.length,
        record_id=record_id,
        created_at=utcnow(),
    )
    session.add(copy)
    session.flush()
    return copy.id


def release(session: Session, copy_id: int, unsent: int) -> None:
    """Give back to a copy the bytes a request reserved but did not send."""
    if unsent > 0:
        c = DownloadCopy
        session.execute(update(c).where(c.id == copy_id).values(reserved=c.reserved - unsent))
