"""Migrations 0006, 0014 and 0015: entries indexed before them are found and counted after.

A search with a query intersects classification, industry and region inside the full-text
index; an entry indexed without those terms would silently drop out of filtered searches.
Facets and the hits' tags, regions and industries come from the entry's packed
``facet_values`` (0014); an entry without them would show none. On PostgreSQL a search
reads the newest id buckets first with their bucket terms in the text query (0015); an entry
without its term would be missing from the window.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Engine, Uuid, bindparam, text

from shuchang.db import UTCDateTime, make_session_factory, session_scope
from shuchang.domains.catalog import search
from shuchang.migrations import downgrade, upgrade

BEFORE = "0005"


def _old_entry(engine: Engine, entry_id: int = 1) -> None:
    """One entry as the index wrote it at revision 0005: text terms only."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO catalog_entries (id, doc_type, doc_id, provider_id, visible, title,"
                " summary, classification, industry, region, updated_at) VALUES (:id, 'resource',"
                " :doc, :provider, true, '住房公积金缴存', '', 'general', 'S94', '330302', :now)"
            ).bindparams(
                bindparam("doc", type_=Uuid),
                bindparam("provider", type_=Uuid),
                bindparam("now", type_=UTCDateTime),
            ),
            {
                "id": entry_id,
                "doc": uuid.uuid4(),
                "provider": uuid.uuid4(),
                "now": datetime.now(UTC),
            },
        )
        conn.execute(
            text(
                "INSERT INTO catalog_entry_terms (entry_id, facet, value) VALUES"
                " (:id, 'industry', 'S94'), (:id, 'region', '330302'), (:id, 'tag', '公积金')"
            ),
            {"id": entry_id},
        )
        body = "住房 房公 公积 积金 金缴 缴存"
        conn.execute(
            text("INSERT INTO catalog_fts (rowid, body, chars) VALUES (:id, :body, '')")
            if sqlite
            else text(
                "UPDATE catalog_entries SET search_vector = to_tsvector('simple', :body),"
                " chars_vector = ''::tsvector WHERE id = :id"
            ),
            {"id": entry_id, "body": body},
        )


def _found(engine: Engine, **filters: str) -> bool:
    query = search.Query(q="公积金", facets=False, **filters)  # type: ignore[arg-type]
    with session_scope(make_session_factory(engine), write=False) as session:
        return len(search.run(session, query, None, oversight=True).items) == 1


def test_old_entries_get_filter_terms_and_lose_them_on_downgrade(scratch: Engine) -> None:
    upgrade(scratch, BEFORE)
    _old_entry(scratch)

    upgrade(scratch)

    assert _found(scratch, industry="S", region="3303", classification="general")
    assert _found(scratch, industry="S94", region="330302")
    assert not _found(scratch, industry="S95")
    assert not _found(scratch, region="330303")
    assert not _found(scratch, classification="important")

    downgrade(scratch, BEFORE)
    with scratch.connect() as conn:
        indexed = conn.scalar(
            text("SELECT body FROM catalog_fts WHERE rowid = 1")
            if scratch.dialect.name == "sqlite"
            else text("SELECT search_vector::text FROM catalog_entries WHERE id = 1")
        )
    assert "ǂ" not in indexed and "积金" in indexed


def test_old_entries_get_their_facet_values(scratch: Engine) -> None:
    upgrade(scratch, BEFORE)
    _old_entry(scratch)

    upgrade(scratch)

    query = search.Query(q="公积金")
    with session_scope(make_session_factory(scratch), write=False) as session:
        page = search.run(session, query, None, oversight=True)
    (hit,) = page.items
    assert (hit.tags, hit.regions, hit.industries) == (["公积金"], ["330302"], ["S94"])
    assert [(f.value, f.count) for f in page.facets["tag"]] == [("公积金", 1)]
    assert [(f.value, f.count) for f in page.facets["region"]] == [("330302", 1)]
    assert [(f.value, f.count) for f in page.facets["classification"]] == [("general", 1)]


def test_old_entries_get_their_id_bucket_and_lose_it_on_downgrade(scratch: Engine) -> None:
    entry_id = 5 << search.BUCKET_SHIFT  # the newest bucket is 5: the first read uses terms
    upgrade(scratch, BEFORE)
    _old_entry(scratch, entry_id)

    upgrade(scratch)

    assert _found(scratch)
    assert _found(scratch, industry="S94")
    if scratch.dialect.name == "postgresql":
        downgrade(scratch, "0014")
        with scratch.connect() as conn:
            indexed = conn.scalar(
                text("SELECT search_vector::text FROM catalog_entries WHERE id = :id"),
                {"id": entry_id},
            )
        assert "ǂb" not in indexed and "积金" in indexed
