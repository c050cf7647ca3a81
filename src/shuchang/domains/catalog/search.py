"""The catalog's search index: filter columns and terms beside a full-text index per backend.

SQLite: an FTS5 table ``catalog_fts`` (rowid = catalog_entries.id; columns ``body`` with the
phrase terms and ``chars`` with single Han characters, see :mod:`.textindex`). PostgreSQL:
``search_vector`` and ``chars_vector`` tsvector columns on catalog_entries with GIN indexes.
Both are created by the migration and kept outside the ORM model.

Tags, regions and industries are many per entry (catalog_entry_terms), so a resource that
covers two counties is found by either; they are also packed into ``facet_values`` on the entry
(:func:`pack_facets`) so that facets are counted from the rows the search reads anyway. Facet
counts are exact up to ``WINDOW`` matching entries, and computed over the newest ``WINDOW``
beyond that (``facets_exact``). Price sorts list priced entries (products) only.
"""

from __future__ import annotations

import base64
import json
import math
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from operator import add, contains, itemgetter
from typing import Any, TypeVarTuple

from sqlalchemy import (
    Column,
    ColumnElement,
    MetaData,
    Select,
    Table,
    Text,
    bindparam,
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
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Session

from shuchang.db import table_of
from shuchang.domains.catalog.models import CatalogEntry, CatalogEntryTerm
from shuchang.domains.catalog.schemas import FacetValue, SearchHit, SearchPage
from shuchang.domains.catalog.textindex import (
    SEPARATOR,
    filter_term,
    filter_terms,
    fts5_query,
    query_phrases,
    tsqueries,
    word_runs,
)
from shuchang.errors import InvalidInput

WINDOW = 1_000
# PostgreSQL: entries in buckets of 2**BUCKET_SHIFT ids, each entry's vectors holding the term
# of its bucket (see _pg_window). Migration 0015 wrote the terms with 14: a change here needs a
# migration that rewrites them.
BUCKET_SHIFT = 14
# Bucket terms cost the GIN scan ~2 ms each (it walks the bucket's 16,384 postings), about as
# much as fetching and rechecking BUCKET_ROWS candidates (~14 µs each); 55 of them took 310 ms
# where reading every older match at once took 26 ms.
BUCKET_ROWS = 150
MAX_BUCKETS = 16
FACET_TOP = 20
_Row = TypeVarTuple("_Row")
COLUMN_FACETS = ("doc_type", "kind", "classification")
TERM_FACETS = ("industry", "region", "tag")
_LETTERS = {"industry": "i", "region": "r", "tag": "t"}
_FACET_OF = {letter: facet for facet, letter in _LETTERS.items()}
# The one classification checked on the entry row instead of in the text index: most of a
# catalog is 一般数据, so as an index term it removes few matches and costs a merge against the
# longest doclist there is (a selective search: 34 ms with it, 19 ms without, 1M entries).
BROAD_CLASSIFICATION = "general"
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


def pack_facets(values: dict[str, list[str]]) -> str:
    """Tags, regions and industries as "<letter><value>" tokens separated by spaces, ordered by
    value (none of them holds whitespace: see schemas.Tag, Region, Industry)."""
    pairs = {(value, _LETTERS[facet]) for facet, items in values.items() for value in items}
    return " ".join(letter + value for value, letter in sorted(pairs))


def unpack_facets(packed: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for token in packed.split():
        out.setdefault(_FACET_OF[token[0]], []).append(token[1:])
    return out


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
        "facet_values": pack_facets(_term_values(data)),
    }


def _term_values(data: EntryData) -> dict[str, list[str]]:
    return {"tag": data.tags, "region": data.regions, "industry": data.industries}


def _terms(entry_id: int, data: EntryData) -> list[dict[str, Any]]:
    return [
        {"entry_id": entry_id, "facet": facet, "value": value}
        for facet, items in _term_values(data).items()
        for value in dict.fromkeys(items)
    ]


def _body(data: EntryData) -> str:
    filters = filter_terms(data.classification, data.industries, data.regions)
    return " ".join([data.body, *filters])


def index(session: Session, entries: list[EntryData], *, fresh: bool = False) -> None:
    """Insert or replace the index entries of these documents (one batch, one transaction).

    ``fresh``: the documents were created in this transaction, so none has an entry yet.
    """
    if not entries:
        return
    stale = (
        []
        if fresh
        else list(
            session.scalars(
                select(CatalogEntry.id).where(CatalogEntry.doc_id.in_([e.doc_id for e in entries]))
            )
        )
    )
    if stale:
        session.execute(delete(CatalogEntryTerm).where(CatalogEntryTerm.entry_id.in_(stale)))
        if not _is_pg(session):
            session.execute(delete(_fts).where(_fts.c.rowid.in_(stale)))
        session.execute(delete(CatalogEntry).where(CatalogEntry.id.in_(stale)))
    if _is_pg(session):
        _insert_pg(session, entries)
        return
    entries_table = table_of(CatalogEntry)
    ids = session.scalars(
        insert(entries_table).returning(entries_table.c.id, sort_by_parameter_order=True),
        [_columns(e) for e in entries],
    ).all()
    terms = [t for i, e in zip(ids, entries, strict=True) for t in _terms(i, e)]
    if terms:
        session.execute(insert(table_of(CatalogEntryTerm)), terms)
    session.execute(
        insert(_fts),
        [
            {"rowid": i, "body": _body(e), "chars": e.chars}
            for i, e in zip(ids, entries, strict=True)
        ],
    )


_SIMPLE: ColumnElement[Any] = literal_column("'simple'::regconfig")


def _pg_entries() -> Any:
    """INSERT into catalog_entries with both tsvectors computed in the same statement (an
    UPDATE afterwards wrote every row twice); the vector columns are outside the model."""
    target = Table(
        "catalog_entries",
        MetaData(),
        *(c._copy() for c in table_of(CatalogEntry).c),
        Column("search_vector", TSVECTOR),
        Column("chars_vector", TSVECTOR),
    )
    return insert(target).values(
        search_vector=func.to_tsvector(_SIMPLE, bindparam("body", type_=Text)),
        chars_vector=func.to_tsvector(_SIMPLE, bindparam("chars", type_=Text)),
    )


_PG_ENTRIES = _pg_entries()


def bucket_term(bucket: int) -> str:
    """The index term of an id bucket (PostgreSQL: ``ǂb`` + ``id >> BUCKET_SHIFT``)."""
    return SEPARATOR + "b" + str(bucket)


_NEXT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('catalog_entries', 'id')) "
    "FROM generate_series(1, :n) ORDER BY 1"
)


def _insert_pg(session: Session, entries: list[EntryData]) -> None:
    # The ids first: each entry's vectors hold the term of its id's bucket.
    ids = list(session.scalars(_NEXT_IDS, {"n": len(entries)}))
    rows = [
        {
            **_columns(e),
            "id": i,
            "body": f"{_body(e)} {bucket_term(i >> BUCKET_SHIFT)}",
            "chars": f"{e.chars} {bucket_term(i >> BUCKET_SHIFT)}",
        }
        for i, e in zip(ids, entries, strict=True)
    ]
    session.execute(_PG_ENTRIES, rows)
    terms = [t for i, e in zip(ids, entries, strict=True) for t in _terms(i, e)]
    if not terms:
        return
    # COPY: a bulk load's terms (several per entry) in one stream instead of parameter sets.
    raw = session.connection().connection.driver_connection
    sql = "COPY catalog_entry_terms (entry_id, facet, value) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
        for t in terms:
            copy.write_row((t["entry_id"], t["facet"], t["value"]))


def set_visible(session: Session, doc_id: uuid.UUID, visible: bool) -> None:
    session.execute(
        update(CatalogEntry).where(CatalogEntry.doc_id == doc_id).values(visible=visible)
    )


def _text_match(
    session: Session,
    stmt: Select[*_Row],
    phrases: list[list[str]],
    filters: list[str],
    buckets: list[str] | None = None,
) -> Select[*_Row]:
    """``buckets``: PostgreSQL only, the id buckets (:func:`bucket_term`) to search in."""
    if _is_pg(session):
        body, chars = tsqueries(phrases, filters)
        if buckets:
            within = "(" + " | ".join(buckets) + ")"
            body, chars = (f"{q} & {within}" if q else None for q in (body, chars))
        if body:
            stmt = stmt.where(_vector.op("@@")(func.to_tsquery("simple", body)))
        if chars:
            stmt = stmt.where(_chars.op("@@")(func.to_tsquery("simple", chars)))
        return stmt
    return stmt.join(_fts, _fts.c.rowid == CatalogEntry.id).where(
        text("catalog_fts MATCH :fts").bindparams(fts=fts5_query(phrases, filters))
    )


def _term(facet: str, value: str, prefix: bool = False) -> ColumnElement[bool]:
    """Correlated EXISTS on the terms' primary key (entry_id, facet, value).

    A prefix is a range, not LIKE: neither backend can use an index for LIKE here (SQLite's
    is case-insensitive, PostgreSQL's collation is not C); codes are digits and capitals.
    """
    t = CatalogEntryTerm
    conds = [t.entry_id == CatalogEntry.id, t.facet == facet]
    if prefix:
        conds += [t.value >= value, t.value < value[:-1] + chr(ord(value[-1]) + 1)]
    else:
        conds.append(t.value == value)
    return select(t.entry_id).where(*conds).exists()


def _filters(
    query: Query, viewer: uuid.UUID | None, oversight: bool, *, with_text: bool
) -> tuple[list[ColumnElement[bool]], list[str]]:
    """SQL conditions, and the filters that go into the text query as terms (with a query)."""
    e = CatalogEntry
    conds: list[ColumnElement[bool]] = []
    pushed: list[str] = []
    if not oversight:
        mine = or_(e.visible.is_(True), e.provider_id == viewer) if viewer else e.visible.is_(True)
        conds.append(mine)
    simple = {e.doc_type: query.doc_type, e.kind: query.kind, e.provider_id: query.provider_id}
    conds += [col == value for col, value in simple.items() if value is not None]
    coded = (("c", "classification", query.classification), ("i", "industry", query.industry))
    for letter, facet, value in (*coded, ("r", "region", query.region)):
        broad = (facet, value) == ("classification", BROAD_CLASSIFICATION)
        term = filter_term(letter, value) if with_text and value and not broad else None
        if term:
            pushed.append(term)
        elif value and facet == "classification":
            conds.append(e.classification == value)
        elif value:
            conds.append(_term(facet, value, prefix=True))
    if query.price_min is not None:
        conds.append(e.price_fen >= query.price_min)
    if query.price_max is not None:
        conds.append(e.price_fen <= query.price_max)
    if query.sort in ("price_asc", "price_desc"):
        conds.append(e.price_fen.is_not(None))
    conds += [_term("tag", tag) for tag in query.tags]
    return conds, pushed


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
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= WINDOW:
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


def _keyset(stmt: Select[Any], query: Query) -> Select[Any]:
    """Order by the sort's column and continue after the cursor's (value, id)."""
    cursor = _decode_cursor(query.cursor, query.sort) if query.cursor else {}
    col, direction = SORTS.get(query.sort, SORTS["newest"])
    if cursor:
        value, last_id = _keyset_value(cursor, col)
        if direction == "desc":
            stmt = stmt.where((col < value) | ((col == value) & (CatalogEntry.id < last_id)))
        else:
            stmt = stmt.where((col > value) | ((col == value) & (CatalogEntry.id > last_id)))
    if direction == "desc":
        return stmt.order_by(col.desc(), CatalogEntry.id.desc())
    return stmt.order_by(col.asc(), CatalogEntry.id.asc())


def _keyset_cursor(query: Query, rows: list[CatalogEntry]) -> str | None:
    if len(rows) <= query.limit:
        return None
    last = rows[query.limit - 1]
    col, _ = SORTS.get(query.sort, SORTS["newest"])
    value = getattr(last, col.key)
    shown = value.isoformat() if isinstance(value, datetime) else value
    return _encode_cursor({"s": query.sort, "v": shown, "i": last.id})


# What a search reads of each match in its window: for ranking and for the facet counts.
_WINDOW_COLUMNS = (
    CatalogEntry.id,
    CatalogEntry.title,
    CatalogEntry.doc_type,
    CatalogEntry.kind,
    CatalogEntry.classification,
    CatalogEntry.facet_values,
)
# ... and its columns by position (map over a thousand rows runs in C; attribute access not).
_TITLE, _COLUMN_FACET_VALUES, _PACKED = itemgetter(1), itemgetter(2, 3, 4), itemgetter(5)


def _window(
    session: Session, conds: list[Any], phrases: list[list[str]], filters: list[str]
) -> list[Any]:
    """:data:`_WINDOW_COLUMNS` of the ``WINDOW + 1`` most recently indexed matches, newest first.

    Relevance ranks this window, not every match: a common character matches 150,000 entries,
    and scoring each (bm25 costs ~15 µs a match in FTS5) is far more than a search may take.
    FTS5 yields matches in rowid order and stops at the limit; PostgreSQL: :func:`_pg_window`.
    """
    stmt = select(*_WINDOW_COLUMNS).where(*conds)
    if not phrases:
        return list(session.execute(stmt.order_by(CatalogEntry.id.desc()).limit(WINDOW + 1)))
    if _is_pg(session):
        return _pg_window(session, stmt, phrases, filters)
    # SQLite: ordered by the FTS rowid, FTS5 walks its index backwards and stops at the limit;
    # ordered by the entries' id (the same value), it would sort every match first.
    stmt = _text_match(session, stmt, phrases, filters)
    return list(session.execute(stmt.order_by(_fts.c.rowid.desc()).limit(WINDOW + 1)))


def _pg_window(
    session: Session, stmt: Select[*_Row], phrases: list[list[str]], filters: list[str]
) -> list[Any]:
    """The window on PostgreSQL, read bucket by bucket of ids, newest first.

    A GIN index yields its matches as a bitmap in no useful order, so ``ORDER BY id DESC
    LIMIT`` over it fetches and rechecks every candidate before it can sort: 172,000 heap rows
    for a common word and a broad filter (1.8 s at 1M entries). An id range beside it does not
    help: the planner misjudges how many entries a phrase matches and filters the range after
    the heap fetch. So each entry's vectors hold its bucket term (:func:`bucket_term`), and the
    newest buckets are ANDed into the text query itself, inside the index: the first read
    covers the newest two buckets, the next as many as the matches found so far suggest, and
    the last one every older entry. The result is exactly the unbucketed statement's.
    """
    top = session.scalar(select(func.max(CatalogEntry.id))) or 0
    rows: list[Any] = []
    high, count = top >> BUCKET_SHIFT, 2  # count 0: read every older entry at once
    while True:
        low = high - count + 1
        rest = count == 0 or low <= 0
        step = stmt.where(CatalogEntry.id < (high + 1) << BUCKET_SHIFT)
        if not rest:
            step = step.where(CatalogEntry.id >= low << BUCKET_SHIFT)
        buckets = [] if rest else [bucket_term(b) for b in range(low, high + 1)]
        step = _text_match(session, step, phrases, filters, buckets)
        rows += session.execute(step.order_by(CatalogEntry.id.desc()).limit(WINDOW + 1 - len(rows)))
        if rest or len(rows) > WINDOW:
            return rows
        count = _next_buckets(len(rows), top + 1 - (low << BUCKET_SHIFT), low << BUCKET_SHIFT)
        high = low - 1


def _next_buckets(found: int, covered: int, older: int) -> int:
    """How many buckets the next read takes: enough for the missing matches at the density
    seen so far, and a quarter; 0 (all the rest) when that many bucket terms would cost more
    than fetching every older candidate. Nothing found in the newest buckets: few matches in
    all, so the rest is cheap."""
    if not found:
        return 0
    density = found / covered
    count = max(1, math.ceil((WINDOW + 1 - found) / density * 1.25 / (1 << BUCKET_SHIFT)))
    return 0 if count > MAX_BUCKETS or count * BUCKET_ROWS > density * older else count


def _relevance(window: list[Any], q: str) -> list[int]:
    """Entries whose title holds more of the query's words first, then the most recent.

    A word is in a title when each of its runs of Han characters or letters and digits is (a
    substring test: this runs over the whole window on every search).
    """
    words = [runs for runs in (word_runs(w) for w in q.lower().split()) if runs]
    titles = [title.lower() for title in map(_TITLE, window)]
    hits = [0] * len(titles)
    for runs in words:
        found = map(all, zip(*(map(contains, titles, repeat(run)) for run in runs), strict=True))
        hits = list(map(add, hits, found))
    # The window is newest first and the sort is stable: among equals the newest stays first.
    order = sorted(range(len(titles)), key=hits.__getitem__, reverse=True)
    return [window[k][0] for k in order]


def _by_ids(session: Session, ids: list[int]) -> list[CatalogEntry]:
    found = {e.id: e for e in session.scalars(select(CatalogEntry).where(CatalogEntry.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def _facets(window: list[Any]) -> dict[str, list[FacetValue]]:
    """Facet counts over the window's rows (:data:`_WINDOW_COLUMNS`), in Python: the rows are
    already read, and counting a thousand of them costs less than one more statement."""
    counts: dict[str, Counter[str]] = {name: Counter() for name in COLUMN_FACETS + TERM_FACETS}
    for values, n in Counter(map(_COLUMN_FACET_VALUES, window)).items():
        for name, value in zip(COLUMN_FACETS, values, strict=True):
            if value is not None:
                counts[name][value] += n
    for token, n in Counter(" ".join(map(_PACKED, window)).split()).items():
        counts[_FACET_OF[token[0]]][token[1:]] = n
    return {name: _top(c) for name, c in counts.items()}


def _top(counts: Counter[str]) -> list[FacetValue]:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [FacetValue(value, n) for value, n in ordered[:FACET_TOP]]


_CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")


def _empty() -> SearchPage:
    return SearchPage(items=[], facets={}, facets_exact=True, next_cursor=None)


def run(session: Session, query: Query, viewer: uuid.UUID | None, oversight: bool) -> SearchPage:
    """Search the catalog as ``viewer`` (operators and regulators see everything).

    The matching ids (at most ``WINDOW``) are read once; facets are counted over them and,
    for relevance, they are what is ranked. ``facets_exact`` is false when more matched.
    """
    phrases = query_phrases(query.q or "")
    if query.q and query.q.strip() and not phrases:
        return _empty()  # only symbols: nothing can contain "no words"
    if _is_pg(session):
        # psycopg prepares a statement run five times, and PostgreSQL may then plan it once for
        # any text query and id range; generic plans (forced, to measure them) took 190 ms to
        # 1.1 s where plans for the values took 22-42 ms. A search is planned for its values.
        session.execute(_CUSTOM_PLANS)
    conds, filters = _filters(query, viewer, oversight, with_text=bool(phrases))
    if phrases and query.sort == "relevance":
        return _ranked(session, query, conds, phrases, filters)
    stmt: Select[Any] = select(CatalogEntry).where(*conds)
    if phrases:
        stmt = _text_match(session, stmt, phrases, filters)
    rows = list(session.scalars(_keyset(stmt, query).limit(query.limit + 1)))
    facets, exact = {}, True
    if query.facets:
        sample = _window(session, conds, phrases, filters)
        facets, exact = _facets(sample[:WINDOW]), len(sample) <= WINDOW
    return _page(query, rows=rows, facets=facets, exact=exact, cursor=_keyset_cursor(query, rows))


def _ranked(
    session: Session,
    query: Query,
    conds: list[Any],
    phrases: list[list[str]],
    filters: list[str],
) -> SearchPage:
    offset = _offset(_decode_cursor(query.cursor, query.sort)) if query.cursor else 0
    window = _window(session, conds, phrases, filters)
    exact, window = len(window) <= WINDOW, window[:WINDOW]
    page_ids = _relevance(window, query.q or "")[offset : offset + query.limit + 1]
    more = len(page_ids) > query.limit
    cursor = _encode_cursor({"s": query.sort, "o": offset + query.limit}) if more else None
    facets = _facets(window) if query.facets else {}
    rows = _by_ids(session, page_ids[: query.limit])
    return _page(query, rows=rows, facets=facets, exact=exact or not query.facets, cursor=cursor)


def _page(
    query: Query,
    *,
    rows: list[CatalogEntry],
    facets: dict[str, list[FacetValue]],
    exact: bool,
    cursor: str | None,
) -> SearchPage:
    return SearchPage(
        items=[_hit(r, unpack_facets(r.facet_values)) for r in rows[: query.limit]],
        facets=facets,
        facets_exact=exact,
        next_cursor=cursor,
    )


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
