"""Serving dataset products through the gateway (数据集交付): ``/data/manifest``, a part at
``/data/<resource id>`` (or ``/data`` when there is one), files and SQL tables.

The gateway hands a request here once the token is verified and the rate limit taken, when
the agreement's product is a dataset or data element (:meth:`Datasets.handles`); API
products go on to the proxy, and compute-only products are refused (their rows never leave).
Each request is admitted by :func:`delivery.admit_part` in one transaction; what happens
after — the bytes sent, the rows, a client that went away — is written when its record is
closed (:meth:`Datasets.settle`, in the gateway's closing transaction).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio.to_thread
import msgspec
from sqlalchemy.orm import Session

from shuchang.datasources import DataSources
from shuchang.domains.catalog import SourcePart
from shuchang.domains.dataplane import delivery, files, tables
from shuchang.domains.dataplane.delivery import CopyKey, Offering, Offerings, PartRequest
from shuchang.domains.dataplane.digests import Content, DigestCache, Digests
from shuchang.domains.dataplane.errors import Denied, NotDeliverable, PartNotFound
from shuchang.domains.dataplane.streaming import Streamed
from shuchang.domains.transfers import TokenClaims
from shuchang.platform import Platform

NO_STORE = ("cache-control", "private, no-store")


@dataclass
class Ask:
    """One data request as the gateway parsed it."""

    method: str
    path: str
    suffix: str
    query: list[tuple[str, str]]
    fields: tuple[str, ...]
    headers: Mapping[str, str]
    purpose: str | None
    started_at: Any
    clock: float


@dataclass
class Settle:
    """What the closing transaction must do besides writing the record's outcome."""

    copy_id: int | None = None
    reserved: int = 0

    def __call__(self, session: Session, sent: int) -> None:
        if self.copy_id is not None:
            delivery.release(session, self.copy_id, self.reserved - sent)


@dataclass
class Served:
    reply: Streamed
    record_id: int
    settle: Settle


def _param(query: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in query if k == name), None)


def _part_id(suffix: str) -> tuple[str, uuid.UUID | None]:
    """``manifest``, or a part (None: the only one) from the path after ``/data``."""
    name = suffix.strip("/").split("?")[0]
    if name == "manifest":
        return "manifest", None
    if not name:
        return "part", None
    try:
        return "part", uuid.UUID(name)
    except ValueError:
        raise PartNotFound() from None


class Datasets:
    """The dataset side of one gateway: its data sources, digests and reflected tables."""

    def __init__(self, platform: Platform, offerings: Offerings | None = None) -> None:
        self.platform = platform
        self.sources = DataSources.of(platform.settings)
        self.offerings = offerings or Offerings()  # the gateway shares its own
        self.digests = DigestCache()
        self.tables = tables.Reflected()

    # ---- dispatch ------------------------------------------------------------------------

    async def offering(self, claims: TokenClaims) -> Offering:
        hit = self.offerings.cached(claims.agreement_id)
        if hit is not None:
            return hit
        return await anyio.to_thread.run_sync(self._offering, claims.agreement_id)

    def _offering(self, agreement_id: uuid.UUID) -> Offering:
        with self.platform.unit(write=False) as s:
            return self.offerings.get(s, agreement_id)

    async def handles(self, claims: TokenClaims) -> bool:
        """True for datasets and data elements; NotDeliverable for compute-only products."""
        offering = await self.offering(claims)
        if offering.kind == "compute_only":
            raise NotDeliverable()
        return offering.kind in delivery.DATA_KINDS

    async def serve(self, claims: TokenClaims, ask: Ask) -> Served:
        offering = await self.offering(claims)
        what, part_id = _part_id(ask.suffix)
        if what == "manifest":
            return await self._manifest(claims, ask, offering)
        part = offering.part(part_id)
        kind = part.location.get("type")
        if kind == "file":
            return await self._file(claims, ask, part)
        if kind == "sql":
            return await self._table(claims, ask, part)
        raise PartNotFound("This part is an HTTP API, not a download", "该部分为接口服务，不能下载")

    def _admit(self, claims: TokenClaims, req: PartRequest) -> delivery.PartAdmission:
        with self.platform.unit() as s:
            return delivery.admit_part(s, claims, self.offerings, req)

    async def admit(self, claims: TokenClaims, req: PartRequest) -> delivery.PartAdmission:
        admission = await anyio.to_thread.run_sync(self._admit, claims, req)
        if not admission.decision.permitted:
            raise DeniedWithRecord(admission.record_id, admission.decision)
        return admission

    def _request(self, ask: Ask, part: SourcePart, kind: str, **kw: Any) -> PartRequest:
        return PartRequest(
            method=ask.method,
            path=ask.path,
            part=part,
            kind=kind,
            fields=ask.fields,
            purpose=ask.purpose,
            started_at=ask.started_at,
            clock_start=ask.clock,
            counts=ask.method != "HEAD",
            **kw,
        )

    # ---- files ---------------------------------------------------------------------------

    def file_facts(self, part: SourcePart) -> tuple[Path, Content, Digests, tuple[str, ...] | None]:
        location = part.location
        real = self.sources.file(str(location.get("path", "")))
        content = Content.of(str(location["path"]), os.stat(real))
        digests = self.digests.get(self.platform.unit, content, real)
        fmt = str(location.get("format", "other"))
        return real, content, digests, files.columns_of(real, fmt)

    async def _file(self, claims: TokenClaims, ask: Ask, part: SourcePart) -> Served:
        real, content, digests, columns = await anyio.to_thread.run_sync(self.file_facts, part)
        fmt = str(part.location.get("format", "other"))
        span = files.wanted_range(dict(ask.headers), content.size, digests.etag)
        length = span.length if span else content.size
        req = self._request(
            ask,
            part,
            "file",
            columns=columns,
            fmt=fmt,
            copy=CopyKey(digests.etag, content.size, length),
            byte_range=span.header(content.size).removeprefix("bytes ") if span else None,
        )
        admission = await self.admit(claims, req)
        settle = Settle(admission.copy_id, length if admission.copy_id is not None else 0)
        extra = [NO_STORE, attachment(real.name), *_remaining(admission.decision)]
        if admission.keep is None:
            reply = files.raw_file(
                real,
                content.size,
                fmt,
                etag=digests.etag,
                repr_digest=digests.repr_digest(),
                span=span,
            )
        else:
            reply = Streamed(200, [("content-type", files.MEDIA[fmt])])
            reply = files.projected_file(real, fmt, admission.keep, reply)
            extra.append(("x-shuchang-columns", ",".join(admission.keep)))
        reply.headers += extra
        return Served(reply, admission.record_id, settle)

    # ---- tables --------------------------------------------------------------------------

    def table_facts(self, part: SourcePart) -> tuple[Any, Any]:
        location = part.location
        connection = str(location.get("connection", "default"))
        engine = self.sources.engine(connection)
        return engine, self.tables.get(engine, connection, str(location["table"]))

    async def _table(self, claims: TokenClaims, ask: Ask, part: SourcePart) -> Served:
        fmt = tables.choose_format(_param(ask.query, "format"), ask.headers.get("accept"))
        limit = tables.parse_limit(_param(ask.query, "limit"))
        after = _param(ask.query, "after")
        engine, table = await anyio.to_thread.run_sync(self.table_facts, part)
        columns = tuple(c.name for c in table.columns)
        if after is not None:  # a bad cursor is refused before anything is counted
            tables.check_cursor(table, after)
        req = self._request(ask, part, "table", columns=columns, fmt=fmt)
        admission = await self.admit(claims, req)
        query = tables.TableQuery(admission.keep or list(columns), limit, after, fmt)
        stmt, cursor = await anyio.to_thread.run_sync(tables.plan, engine, table, query)
        reply = Streamed(200, [("content-type", tables.MEDIA[fmt])])

        def count(n: int) -> None:
            reply.progress.rows += n

        if ask.method != "HEAD":
            reply.chunks = files.in_thread(tables.export(engine, table, stmt, query, count))
        name = str(part.location["table"]).rsplit(".", 1)[-1]
        reply.headers += [
            NO_STORE,
            attachment(f"{name}.{fmt}"),
            ("x-shuchang-columns", ",".join(query.columns)),
            *_remaining(admission.decision),
        ]
        if cursor is not None:
            reply.headers.append(("x-shuchang-next-after", cursor))
        return Served(reply, admission.record_id, Settle())

    # ---- the manifest --------------------------------------------------------------------

    async def _manifest(self, claims: TokenClaims, ask: Ask, offering: Offering) -> Served:
        if not offering.parts:
            raise PartNotFound()
        req = PartRequest(
            method=ask.method,
            path=ask.path,
            part=offering.parts[0],
            kind="manifest",
            fields=(),
            purpose=ask.purpose,
            started_at=ask.started_at,
            clock_start=ask.clock,
            counts=False,
        )
        admission = await self.admit(claims, req)
        parts = [await anyio.to_thread.run_sync(self.describe, p) for p in offering.parts]
        body = msgspec.json.encode({"agreement_id": str(claims.agreement_id), "parts": parts})
        reply = Streamed(200, [("content-type", "application/json"), NO_STORE], length=len(body))
        reply.chunks = _once(body)
        return Served(reply, admission.record_id, Settle())

    def describe(self, part: SourcePart) -> dict[str, Any]:
        kind = part.location.get("type")
        entry: dict[str, Any] = {
            "resource_id": str(part.resource_id),
            "version": part.version,
            "title": part.title,
            "href": f"/data/{part.resource_id}",
        }
        if kind == "file":
            _, content, digests, _ = self.file_facts(part)
            entry.update(
                kind="file",
                format=part.location.get("format", "other"),
                name=Path(str(part.location["path"])).name,
                size=content.size,
                etag=digests.etag,
                sha256=digests.sha256,
                sm3=digests.sm3,
                digest_evidence_id=digests.evidence_id,
            )
        elif kind == "sql":
            entry.update(kind="table", formats=list(tables.FORMATS), fields=list(part.fields))
        else:
            entry.update(kind="api")
        return entry


class DeniedWithRecord(Denied):
    """The decision said no; its record is already written (complete)."""

    def __init__(self, record_id: int, decision: Any) -> None:
        super().__init__(decision.reason_en, decision.reason_zh)
        self.record_id = record_id


async def _once(body: bytes) -> Any:
    yield body


def attachment(name: str) -> tuple[str, str]:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "")
    return (
        "content-disposition",
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
    )


def _remaining(decision: Any) -> list[tuple[str, str]]:
    if decision.remaining_uses is None:
        return []
    return [("x-shuchang-remaining-uses", str(decision.remaining_uses))]
