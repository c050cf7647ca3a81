"""What a push sends (推送单元): each file part, each page of a table part, and the manifest,
admitted like a pull request and read by the same readers as downloads.

A unit is admitted by :func:`shuchang.domains.dataplane.delivery.admit_part` — the transfer
STARTED in the job's epoch, the usage decision (action ``read``; validity, counts, purpose,
fields, consumer standing), the use counted and the usage record (``channel = "push"``,
method ``PUT``) inserted in one transaction — exactly as a download is; a unit the job
already paid for is admitted as a continuation (decided, not counted). Its bytes come from
:mod:`.files` (raw or projected to the allowed columns) or :mod:`.tables` (CSV, JSON Lines or
Parquet, keyset pages) through :class:`~.datasets.Datasets`: nothing is read twice over.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread
import msgspec

from shuchang.db import utcnow
from shuchang.domains.catalog import SourcePart
from shuchang.domains.dataplane import delivery, files, tables
from shuchang.domains.dataplane.datasets import Datasets, attachment
from shuchang.domains.dataplane.delivery import PartAdmission, PartRequest
from shuchang.domains.dataplane.streaming import Streamed
from shuchang.domains.transfers import PushTransfer, TokenClaims

MANIFEST = "manifest"


def claims_of(t: PushTransfer, job_id: int) -> TokenClaims:
    """The binding a pull token would carry (agreement, consumer, transfer, epoch), for the
    admission of a push: the push has no token, the provider's own job stands for it."""
    return TokenClaims(
        issuer=f"push-job:{job_id}",
        subject=str(t.consumer_id),
        audience=t.endpoint,
        agreement_id=t.agreement_id,
        consumer_id=t.consumer_id,
        transfer_id=t.id,
        provider_pid=t.provider_pid,
        epoch=t.epoch,
        issued_at=0,
        expires_at=0,
        token_id=f"push-job:{job_id}",
    )


@dataclass(frozen=True)
class Unit:
    """One PUT to the consumer's endpoint: a file part, a page of a table, or the manifest."""

    key: str  # "<resource id>", "<resource id>:<page>" or "manifest"
    part: SourcePart
    kind: str  # "file" | "table" | "manifest"
    name: str
    page: int = 1
    after: str | None = None  # tables: the cursor the page starts after


@dataclass
class Prepared:
    """An admitted unit: its record, the stream to send, the headers describing it."""

    admission: PartAdmission
    reply: Streamed
    headers: dict[str, str]
    facts: dict[str, Any] = field(default_factory=dict)  # what the manifest says of it
    next_after: str | None = None  # tables: the cursor of the following page
    digest: bool = True  # compute SHA-256/SM3 of what is sent (no published digest)


def table_name(part: SourcePart, fmt: str, page: int) -> str:
    name = str(part.location["table"]).rsplit(".", 1)[-1]
    return f"{name}.{fmt}" if page == 1 else f"{name}.p{page}.{fmt}"


def file_name(part: SourcePart) -> str:
    return Path(str(part.location.get("path", "part"))).name or "part"


class Units:
    """Admits and opens units for one pusher, over the gateway's (or its own) datasets."""

    def __init__(self, datasets: Datasets, *, page_rows: int = tables.MAX_LIMIT) -> None:
        self.datasets, self.page_rows = datasets, page_rows

    def request(self, unit: Unit, *, paid: bool, **kw: Any) -> PartRequest:
        return PartRequest(
            method="PUT",
            path=f"/data/{MANIFEST if unit.kind == MANIFEST else unit.part.resource_id}",
            part=unit.part,
            kind=unit.kind,
            fields=(),
            purpose=None,
            started_at=utcnow(),
            clock_start=time.monotonic(),
            counts=unit.kind != MANIFEST and not paid,
            channel="push",
            **kw,
        )

    def admit(self, claims: TokenClaims, req: PartRequest, opened: Any) -> PartAdmission:
        """Admission and the job's note of it (``opened(session, admission)``), one
        transaction: a paid unit is remembered exactly when its use is counted."""
        with self.datasets.platform.unit() as s:
            admission = delivery.admit_part(s, claims, self.datasets.offerings, req)
            opened(s, admission)
        return admission

    async def file(self, claims: TokenClaims, unit: Unit, paid: bool, opened: Any) -> Prepared:
        real, content, digests, columns = await anyio.to_thread.run_sync(
            self.datasets.file_facts, unit.part
        )
        fmt = str(unit.part.location.get("format", "other"))
        req = self.request(unit, paid=paid, columns=columns, fmt=fmt)
        admission = await anyio.to_thread.run_sync(self.admit, claims, req, opened)
        headers = dict([attachment(unit.name)])
        facts: dict[str, Any] = {"kind": "file", "format": fmt}
        if admission.keep is None:
            reply = files.raw_file(
                real,
                content.size,
                fmt,
                etag=digests.etag,
                repr_digest=digests.repr_digest(),
                span=None,
            )
            facts |= {
                "size": content.size,
                "sha256": digests.sha256,
                "sm3": digests.sm3,
                "digest_evidence_id": digests.evidence_id,
            }
            headers["x-shuchang-etag"] = digests.etag
        else:
            reply = Streamed(200, [("content-type", files.MEDIA[fmt])])
            reply = files.projected_file(real, fmt, admission.keep, reply)
            headers["x-shuchang-columns"] = ",".join(admission.keep)
            facts["columns"] = [str(c) for c in admission.keep]
        headers |= {k: v for k, v in reply.headers if k in ("content-type", "repr-digest")}
        return Prepared(admission, reply, headers, facts, digest=admission.keep is not None)

    async def table(
        self, claims: TokenClaims, unit: Unit, paid: bool, opened: Any, fmt: str
    ) -> Prepared:
        engine, table = await anyio.to_thread.run_sync(self.datasets.table_facts, unit.part)
        columns = tuple(str(c.name) for c in table.columns)
        req = self.request(unit, paid=paid, columns=columns, fmt=fmt)
        admission = await anyio.to_thread.run_sync(self.admit, claims, req, opened)
        query = tables.TableQuery(admission.keep or list(columns), self.page_rows, unit.after, fmt)
        stmt, cursor = await anyio.to_thread.run_sync(tables.plan, engine, table, query)
        reply = Streamed(200, [("content-type", tables.MEDIA[fmt])])

        def count(n: int) -> None:
            reply.progress.rows += n

        reply.chunks = files.in_thread(tables.export(engine, table, stmt, query, count))
        headers = dict([attachment(unit.name)])
        headers |= {
            "content-type": tables.MEDIA[fmt],
            "x-shuchang-columns": ",".join(query.columns),
        }
        facts = {
            "kind": "table",
            "format": fmt,
            "page": unit.page,
            "columns": [str(c) for c in query.columns],
        }
        return Prepared(admission, reply, headers, facts, next_after=cursor)

    async def manifest(
        self, claims: TokenClaims, unit: Unit, opened: Any, body: dict[str, Any]
    ) -> Prepared:
        admission = await anyio.to_thread.run_sync(
            self.admit, claims, self.request(unit, paid=True), opened
        )
        raw = msgspec.json.encode(body)
        reply = Streamed(200, [], _once(raw), len(raw))
        return Prepared(admission, reply, {"content-type": "application/json"}, digest=False)


async def _once(body: bytes) -> Any:
    yield body


def part_id(key: str) -> uuid.UUID | None:
    head = key.split(":", 1)[0]
    try:
        return uuid.UUID(head)
    except ValueError:
        return None
