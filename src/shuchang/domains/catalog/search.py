"""The catalog's search index: filter columns and terms beside a full-text index per backend.

SQLite: an FTS5 table ``catalog_fts`` (rowid = catalog_entries.id; columns ``body`` with the
phrase terms and ``chars`` with single Han characters, see :mod:`.textindex`). PostgreSQL:
``search_vector`` and ``chars_vector`` tsvector columns on catalog_entries with GIN indexes.
Both are created by the migration and kept outside the ORM model.

Tags, regions and industries are many per entry (catalog_entry_terms), so a resource that
covers two counties is found by either. Facet counts are exact up to ``FACET_SAMPLE``
matching entries, and computed over the first ``FACET_SAMPLE`` beyond that
(``facets_exact``). Price sorts list priced entries (products) only.
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

from shuchang.domains.catalog.models import CatalogEntry, CatalogEntryTerm
from shuchang.domains.catalog.schemas import FacetValue, SearchHit, SearchPage
from shuchang.domains.catalog.textindex import fts5_query, query_phrases, tsqueries
from shuchang.errors import InvalidInput

FACET_SAMPLE = 10_000
FACET_TOP = 20
COLUMN_FACETS = ("doc_type", "kind", "classification")
TERM_FACETS = ("industry", "region", "tag")
_fts = table("catalog_fts", column("rowid"), column("body"), column("chars"), column("rank"))
_vector: ColumnElement[Any] = literal_column("catalog_entries.search_vector")
_chars: ColumnElement[Any] = literal_column("catalog_entries.chars_vector")


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
    industries: list[str]
    regions: list[str]
    price_fen: int | None
    price_model: str | None
    price_period: str | None
    tags: list[str]
    body: str  # textindex.index_text(...) of titles, descriptions, field names and tags
    chars: str  # textindex.index_chars(...) of the same
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
        "industry": data.industries[0] if data.industries else "",
        "region": data.regions[0] if data.regions else None,
        "price_fen": data.price_fen,
        "price_model": data.price_model,
        "price_period": data.price_period,
        "updated_at": data.updated_at,
    }


def _terms(entry_id: int, data: EntryData) -> list[dict[str, Any]]:
    values = {"tag": data.tags, "region": data.regions, "industry": data.industries}
    return [
        {"entry_id": entry_id, "facet": facet, "value": value}
        for facet, items in values.items()
        for value in dict.fromkeys(items)
    ]


def index(session: Session, entries: list[EntryData]) -> None:
    """Insert or replace the index entries of these documents (one batch, one transaction)."""
    if not entries:
        return
    stale = list(
        session.scalars(
            select(CatalogEntry.id).where(CatalogEntry.doc_id.in_([e.doc_id for e in entries]))
        )
    )
    if stale:
        session.execute(delete(CatalogEntryTerm).where(CatalogEntryTerm.entry_id.in_(stale)))
        if not _is_pg(session):
            session.execute(delete(_fts).where(_fts.c.rowid.in_(stale)))
        session.execute(delete(CatalogEntry).where(CatalogEntry.id.in_(stale)))
    ids = session.scalars(
        insert(CatalogEntry).returning(CatalogEntry.id, sort_by_parameter_order=True),
        [_columns(e) for e in entries],
    ).all()
    terms = [t for i, e in zip(ids, entries, strict=True) for t in _terms(i, e)]
    if terms:
        session.execute(insert(CatalogEntryTerm), terms)
    texts = [
        {"rowid": i, "body": e.body, "chars": e.chars} for i, e in zip(ids, entries, strict=True)
    ]
    if _is_pg(session):
        session.execute(
            text(
                "UPDATE catalog_entries SET search_vector = to_tsvector('simple', :body), "
                "chars_vector = to_tsvector('simple', :chars) WHERE id = :rowid"
            ),
            texts,
        )
    else:
        session.execute(insert(_fts), texts)


def set_visible(session: Session, doc_id: uuid.UUID, visible: bool) -> None:
    session.execute(
        update(CatalogEntry).where(CatalogEntry.doc_id == doc_id).values(visible=visible)
    )


def _text_filter(
    session: Session, stmt: Select[Any], phrases: list[list[str]]
) -> tuple[Select[Any], Any]:
    if _is_pg(session):
        body, chars = tsqueries(phrases)
        rank: Any = None
        if body:
            tsq = func.to_tsquery("simple", body)
            stmt, rank = stmt.where(_vector.op("@@")(tsq)), func.ts_rank(_vector, tsq).desc()
        if chars:
            cq = func.to_tsquery("simple", chars)
            stmt = stmt.where(_chars.op("@@")(cq))
            rank = rank if rank is not None else func.ts_rank(_chars, cq).desc()
        return stmt, rank
    stmt = stmt.join(_fts, _fts.c.rowid == CatalogEntry.id).where(
        text("catalog_fts MATCH :fts").bindparams(fts=fts5_query(phrases))
    )
    return stmt, _fts.c.rank.asc()


def _term(facet: str, value: str, prefix: bool = False) -> ColumnElement[bool]:
    match = (
        CatalogEntryTerm.value.startswith(value, autoescape=True)
        if prefix
        else CatalogEntryTerm.value == value
    )
    return CatalogEntry.id.in_(
        select(CatalogEntryTerm.entry_id).where(CatalogEntryTerm.facet == facet, match)
    )


def _filters(query: Query, viewer: uuid.UUID | None, oversight: bool) -> list[ColumnElement[bool]]:
    e = CatalogEntry
    conds: list[ColumnElement[bool]] = []
    if not oversight:
        mine = or_(e.visible.is_(True), e.provider_id == viewer) if viewer else e.visible.is_(True)
        conds.append(mine)
    simple = {
        e.doc_type: query.doc_type,
        e.kind: query.kind,
        e.classification: query.classification,
        e.provider_id: query.provider_id,
    }
    conds += [col == value for col, value in simple.items() if value is not None]
    if query.industry:
        conds.append(_term("industry", query.industry, prefix=True))
    if query.region:
        conds.append(_term("region", query.region, prefix=True))
    if query.price_min is not None:
        conds.append(e.price_fen >= query.price_min)
    if query.price_max is not None:
        conds.append(e.price_fen <= query.price_max)
    if query.sort in ("price_asc", "price_desc"):
        conds.append(e.price_fen.is_not(None))
    conds += [_term("tag", tag) for tag in query.tags]
    return conds


SORTS: dict[str, tuple[Any, str]] = {
    "newest": (CatalogEntry.updated_at, "desc"),
    "price_asc": (CatalogEntry.price_fen, "asc"),
    "price_desc": (CatalogEntry.price_fen, "desc"),
}


def _bad_cursor() -> InvalidInput:
    return InvalidInput("Malformed cursor", "分页游标无效", code="cursor.invalid", field="cursor")


def _encode_cursor(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _decode_cursor(cursor: str, sort: str) -> dict[str, Any]:
    """A cursor is only valid for the sort that made it, with values of that sort's type."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad_cursor() from exc
    if not isinstance(payload, dict) or payload.get("s") != sort:
        raise _bad_cursor()
    return payload


def _offset(cursor: dict[str, Any]) -> int:
    offset = cursor.get("o", 0)
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= FACET_SAMPLE:
        raise _bad_cursor()
    return offset


def _keyset_value(cursor: dict[str, Any], col: Any) -> tuple[Any, int]:
    value, last_id = cursor.get("v"), cursor.get("i")
    if not isinstance(last_id, int) or isinstance(last_id, bool):
        raise _bad_cursor()
    if col is CatalogEntry.updated_at:
        try:
            when = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            raise _bad_cursor()
        return when, last_id
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad_cursor()
    return value, last_id


def _page(stmt: Select[Any], query: Query, rank: Any) -> tuple[Select[Any], int]:
    """Order and position the statement; relevance pages by offset, other sorts by keyset."""
    cursor = _decode_cursor(query.cursor, query.sort) if query.cursor else {}
    if query.sort == "relevance" and rank is not None:
        offset = _offset(cursor)
        return stmt.order_by(rank, CatalogEntry.id).offset(offset), offset
    col, direction = SORTS.get(query.sort, SORTS["newest"])
    if cursor:
        value, last_id = _keyset_value(cursor, col)
        if direction == "desc":
            stmt = stmt.where((col < value) | ((col == value) & (CatalogEntry.id < last_id)))
        else:
            stmt = stmt.where((col > value) | ((col == value) & (CatalogEntry.id > last_id)))
    if direction == "desc":
        return stmt.order_by(col.desc(), CatalogEntry.id.desc()), 0
    return stmt.order_by(col.asc(), CatalogEntry.id.asc()), 0


def _next_cursor(
    query: Query, rows: list[CatalogEntry], offset: int, relevance: bool
) -> str | None:
    if len(rows) <= query.limit:
        return None
    if relevance:
        return _encode_cursor({"s": query.sort, "o": offset + query.limit})
    last = rows[query.limit - 1]
    col, _ = SORTS.get(query.sort, SORTS["newest"])
    value = getattr(last, col.key)
    shown = value.isoformat() if isinstance(value, datetime) else value
    return _encode_cursor({"s": query.sort, "v": shown, "i": last.id})


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
    count = func.count()
    for name in COLUMN_FACETS:
        col: Any = getattr(CatalogEntry, name)
        rows = session.execute(
            select(col, count)
            .where(CatalogEntry.id.in_(ids), col.is_not(None))
            .group_by(col)
            .order_by(count.desc(), col)
            .limit(FACET_TOP)
        )
        out[name] = [FacetValue(str(value), n) for value, n in rows]
    for name in TERM_FACETS:
        value_col = CatalogEntryTerm.value
        rows = session.execute(
            select(value_col, count)
            .where(CatalogEntryTerm.facet == name, CatalogEntryTerm.entry_id.in_(ids))
            .group_by(value_col)
            .order_by(count.desc(), value_col)
            .limit(FACET_TOP)
        )
        out[name] = [FacetValue(str(value), n) for value, n in rows]
    return out, exact


def _empty() -> SearchPage:
    return SearchPage(items=[], facets={}, facets_exact=True, next_cursor=None)


def run(session: Session, query: Query, viewer: uuid.UUID | None, oversight: bool) -> SearchPage:
    """Search the catalog as ``viewer`` (operators and regulators see everything)."""
    stmt: Select[Any] = select(CatalogEntry).where(*_filters(query, viewer, oversight))
    phrases = query_phrases(query.q or "")
    if query.q and query.q.strip() and not phrases:
        return _empty()  # only symbols: nothing can contain "no words"
    rank = None
    if phrases:
        stmt, rank = _text_filter(session, stmt, phrases)
    paged, offset = _page(stmt, query, rank)
    rows = list(session.scalars(paged.limit(query.limit + 1)))
    relevance = query.sort == "relevance" and rank is not None
    terms = _terms_of(session, [r.id for r in rows[: query.limit]])
    facets, exact = _facets(session, stmt) if query.facets else ({}, True)
    return SearchPage(
        items=[_hit(r, terms.get(r.id, {})) for r in rows[: query.limit]],
        facets=facets,
        facets_exact=exact,
        next_cursor=_next_cursor(query, rows, offset, relevance),
    )


def _terms_of(session: Session, ids: list[int]) -> dict[int, dict[str, list[str]]]:
    out: dict[int, dict[str, list[str]]] = {}
    if ids:
        rows = session.execute(
            select(CatalogEntryTerm.entry_id, CatalogEntryTerm.facet, CatalogEntryTerm.value)
            .where(CatalogEntryTerm.entry_id.in_(ids))
            .order_by(CatalogEntryTerm.value)
        )
        for entry_id, facet, value in rows:
            out.setdefault(entry_id, {}).setdefault(facet, []).append(value)
    return out


def _hit(row: CatalogEntry, terms: dict[str, list[str]]) -> SearchHit:
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
        price_model=row.price_model,
        price_period=row.price_period,
        tags=terms.get("tag", []),
        regions=terms.get("region", []),
        industries=terms.get("industry", []),
        updated_at=row.updated_at,
    )
