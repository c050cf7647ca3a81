"""The catalog's search index: filter columns in catalog_entries, full text per backend.

SQLite: an FTS5 table ``catalog_fts`` (rowid = catalog_entries.id, unicode61 tokenizer) holds
the terms of :mod:`.textindex`. PostgreSQL: a ``search_vector`` tsvector column on
catalog_entries with a GIN index. Both are created by the migration and kept outside the ORM
model, so the rest of the code never sees the difference.

Facet counts are exact up to ``FACET_SAMPLE`` matching entries and computed over the first
``FACET_SAMPLE`` (newest) beyond that; the page says which (``facets_exact``).
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    column,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    table,
    text,
    update,
)
from sqlalchemy.orm import Session

from shuchang.domains.catalog.models import CatalogEntry, CatalogEntryTag
from shuchang.domains.catalog.schemas import FacetValue, SearchHit, SearchPage
from shuchang.domains.catalog.textindex import fts5_query, query_phrases, tsquery
from shuchang.errors import InvalidInput

FACET_SAMPLE = 10_000
FACET_TOP = 20
FACETS = ("doc_type", "kind", "classification", "industry", "region", "tag")
_fts = table("catalog_fts", column("rowid"), column("body"), column("rank"))
_vector: ColumnElement[Any] = literal_column("catalog_entries.search_vector")


@dataclass
class EntryData:
    """What the index holds about one resource or product."""

    doc_type: str
    doc_id: uuid.UUID
    provider_id: uuid.UUID
    visible: bool
    title: str
    summary: str
    kind: str | None
    classification: str
    industry: str
    region: str | None
    price_fen: int | None
    tags: list[str]
    body: str  # textindex.index_text(...) of titles, descriptions, field names and tags
    updated_at: datetime


@dataclass
class Query:
    q: str | None = None
    doc_type: str | None = None
    kind: str | None = None
    classification: str | None = None
    industry: str | None = None
    region: str | None = None
    provider_id: uuid.UUID | None = None
    tags: list[str] = field(default_factory=list)
    price_min: int | None = None
    price_max: int | None = None
    sort: str = "relevance"
    cursor: str | None = None
    limit: int = 20
    facets: bool = True


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _columns(data: EntryData) -> dict[str, Any]:
    return {
        "doc_type": data.doc_type,
        "doc_id": data.doc_id,
        "provider_id": data.provider_id,
        "visible": data.visible,
        "title": data.title,
        "summary": data.summary[:300],
        "kind": data.kind,
        "classification": data.classification,
        "industry": data.industry,
        "region": data.region,
        "price_fen": data.price_fen,
        "updated_at": data.updated_at,
    }


def index(session: Session, entries: list[EntryData]) -> None:
    """Insert or replace the index entries of these documents (one batch, one transaction)."""
    if not entries:
        return
    existing = dict(
        session.execute(
            select(CatalogEntry.doc_id, CatalogEntry.id).where(
                CatalogEntry.doc_id.in_([e.doc_id for e in entries])
            )
        ).all()
    )
    stale = list(existing.values())
    if stale:
        session.execute(delete(CatalogEntryTag).where(CatalogEntryTag.entry_id.in_(stale)))
        if not _is_pg(session):
            session.execute(delete(_fts).where(_fts.c.rowid.in_(stale)))
        session.execute(delete(CatalogEntry).where(CatalogEntry.id.in_(stale)))
    ids = session.scalars(
        insert(CatalogEntry).returning(CatalogEntry.id, sort_by_parameter_order=True),
        [_columns(e) for e in entries],
    ).all()
    tags = [
        {"entry_id": i, "tag": t} for i, e in zip(ids, entries, strict=True) for t in set(e.tags)
    ]
    if tags:
        session.execute(insert(CatalogEntryTag), tags)
    bodies = [{"rowid": i, "body": e.body} for i, e in zip(ids, entries, strict=True)]
    if _is_pg(session):
        session.execute(
            text(
                "UPDATE catalog_entries SET search_vector = to_tsvector('simple', :body) "
                "WHERE id = :rowid"
            ),
            bodies,
        )
    else:
        session.execute(insert(_fts), bodies)


def set_visible(session: Session, doc_id: uuid.UUID, visible: bool) -> None:
    session.execute(
        update(CatalogEntry).where(CatalogEntry.doc_id == doc_id).values(visible=visible)
    )


def _text_filter(
    session: Session, stmt: Select[Any], phrases: list[list[str]]
) -> tuple[Select[Any], Any]:
    if _is_pg(session):
        tsq = func.to_tsquery("simple", tsquery(phrases))
        return stmt.where(_vector.op("@@")(tsq)), func.ts_rank(_vector, tsq).desc()
    stmt = stmt.join(_fts, _fts.c.rowid == CatalogEntry.id).where(
        text("catalog_fts MATCH :fts").bindparams(fts=fts5_query(phrases))
    )
    return stmt, _fts.c.rank.asc()


def _filters(query: Query, viewer: uuid.UUID | None, oversight: bool) -> list[ColumnElement[bool]]:
    e = CatalogEntry
    conds: list[ColumnElement[bool]] = []
    if not oversight:
        conds.append(
            or_(e.visible.is_(True), e.provider_id == viewer) if viewer else e.visible.is_(True)
        )
    simple = {
        e.doc_type: query.doc_type,
        e.kind: query.kind,
        e.classification: query.classification,
        e.provider_id: query.provider_id,
    }
    conds += [col == value for col, value in simple.items() if value is not None]
    if query.industry:
        conds.append(e.industry.startswith(query.industry))
    if query.region:
        conds.append(e.region.startswith(query.region))
    if query.price_min is not None:
        conds.append(e.price_fen >= query.price_min)
    if query.price_max is not None:
        conds.append(e.price_fen <= query.price_max)
    for tag in query.tags:
        conds.append(e.id.in_(select(CatalogEntryTag.entry_id).where(CatalogEntryTag.tag == tag)))
    return conds


SORTS: dict[str, tuple[Any, str]] = {
    "newest": (CatalogEntry.updated_at, "desc"),
    "price_asc": (CatalogEntry.price_fen, "asc"),
    "price_desc": (CatalogEntry.price_fen, "desc"),
}


def _encode_cursor(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "Malformed cursor", "分页游标无效", code="cursor.invalid", field="cursor"
        ) from exc
    if not isinstance(payload, dict):
        raise InvalidInput(
            "Malformed cursor", "分页游标无效", code="cursor.invalid", field="cursor"
        )
    return payload


def _page(stmt: Select[Any], query: Query, rank: Any) -> tuple[Select[Any], int]:
    """Order and position the statement; relevance pages by offset, other sorts by keyset."""
    cursor = _decode_cursor(query.cursor) if query.cursor else {}
    if query.sort == "relevance" and rank is not None:
        offset = int(cursor.get("o", 0))
        if not 0 <= offset <= FACET_SAMPLE:
            raise InvalidInput(
                "Cursor out of range", "分页游标超出范围", code="cursor.invalid", field="cursor"
            )
        return stmt.order_by(rank, CatalogEntry.id).offset(offset), offset
    col, direction = SORTS.get(query.sort, SORTS["newest"])
    if cursor:
        try:
            last_value, last_id = cursor["v"], int(cursor["i"])
            if col is CatalogEntry.updated_at:
                last_value = datetime.fromisoformat(last_value)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(
                "Malformed cursor", "分页游标无效", code="cursor.invalid", field="cursor"
            ) from exc
        after = (
            (col < last_value) | ((col == last_value) & (CatalogEntry.id < last_id))
            if direction == "desc"
            else ((col > last_value) | ((col == last_value) & (CatalogEntry.id > last_id)))
        )
        stmt = stmt.where(after)
    if direction == "desc":
        return stmt.order_by(col.desc(), CatalogEntry.id.desc()), 0
    return stmt.order_by(col.asc(), CatalogEntry.id.asc()), 0


def _next_cursor(
    query: Query, rows: list[CatalogEntry], offset: int, relevance: bool
) -> str | None:
    if len(rows) <= query.limit:
        return None
    if relevance:
        return _encode_cursor({"o": offset + query.limit})
    last = rows[query.limit - 1]
    col, _ = SORTS.get(query.sort, SORTS["newest"])
    value = getattr(last, col.key)
    return _encode_cursor(
        {"v": value.isoformat() if isinstance(value, datetime) else value, "i": last.id}
    )


def _facets(session: Session, matching: Select[Any]) -> tuple[dict[str, list[FacetValue]], bool]:
    sample = (
        matching.with_only_columns(CatalogEntry.id)
        .order_by(None)
        .limit(FACET_SAMPLE + 1)
        .subquery()
    )
    exact = (session.scalar(select(func.count()).select_from(sample)) or 0) <= FACET_SAMPLE
    ids = select(sample.c.id).limit(FACET_SAMPLE)
    out: dict[str, list[FacetValue]] = {}
    for name in FACETS:
        if name == "tag":
            col: Any = CatalogEntryTag.tag
            base = select(col, func.count()).where(CatalogEntryTag.entry_id.in_(ids))
        else:
            col = getattr(CatalogEntry, name)
            base = select(col, func.count()).where(CatalogEntry.id.in_(ids), col.is_not(None))
        rows = session.execute(
            base.group_by(col).order_by(func.count().desc(), col).limit(FACET_TOP)
        )
        out[name] = [FacetValue(str(value), count) for value, count in rows]
    return out, exact


def run(session: Session, query: Query, viewer: uuid.UUID | None, oversight: bool) -> SearchPage:
    """Search the catalog as ``viewer`` (operators and regulators see everything)."""
    stmt: Select[Any] = select(CatalogEntry).where(*_filters(query, viewer, oversight))
    phrases = query_phrases(query.q or "")
    rank = None
    if phrases:
        stmt, rank = _text_filter(session, stmt, phrases)
    paged, offset = _page(stmt, query, rank)
    rows = list(session.scalars(paged.limit(query.limit + 1)))
    relevance = query.sort == "relevance" and rank is not None
    tags_of = _tags(session, [r.id for r in rows[: query.limit]])
    facets, exact = _facets(session, stmt) if query.facets else ({}, True)
    return SearchPage(
        items=[_hit(r, tags_of.get(r.id, [])) for r in rows[: query.limit]],
        facets=facets,
        facets_exact=exact,
        next_cursor=_next_cursor(query, rows, offset, relevance),
    )


def _tags(session: Session, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if ids:
        for entry_id, tag in session.execute(
            select(CatalogEntryTag.entry_id, CatalogEntryTag.tag).where(
                CatalogEntryTag.entry_id.in_(ids)
            )
        ):
            out.setdefault(entry_id, []).append(tag)
    return out


def _hit(row: CatalogEntry, tags: list[str]) -> SearchHit:
    return SearchHit(
        doc_type=row.doc_type,
        id=row.doc_id,
        provider_id=row.provider_id,
        title=row.title,
        summary=row.summary,
        kind=row.kind,
        classification=row.classification,
        industry=row.industry,
        region=row.region,
        price_fen=row.price_fen,
        tags=sorted(tags),
        updated_at=row.updated_at,
    )
