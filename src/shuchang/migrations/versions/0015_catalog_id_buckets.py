"""catalog (PostgreSQL): each entry's search vectors hold the term of its id bucket

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 17:00:00

A search reads its window of newest matches bucket by bucket of ids, the bucket terms ANDed
into the text query inside the GIN index (shuchang.domains.catalog.search._pg_window). New
entries get the term when they are indexed; this writes it into the entries there are.
SQLite needs nothing: FTS5 walks its index in rowid order.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# search.bucket_term(id >> search.BUCKET_SHIFT), frozen here with the shift of this revision.
_ADD_BUCKETS = """
    UPDATE catalog_entries SET
        search_vector = coalesce(search_vector, ''::tsvector)
            || array_to_tsvector(ARRAY['ǂb' || (id >> 14)]),
        chars_vector = coalesce(chars_vector, ''::tsvector)
            || array_to_tsvector(ARRAY['ǂb' || (id >> 14)])"""
_DROP_BUCKETS = """
    UPDATE catalog_entries SET
        search_vector = ts_delete(search_vector, 'ǂb' || (id >> 14)),
        chars_vector = ts_delete(chars_vector, 'ǂb' || (id >> 14))"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The vectors inline (uncompressed up to a page): a search fetches and rechecks a thousand
    # candidates or more, and an out-of-line vector is a TOAST index probe and chunk reads for
    # each (7.2 µs against 3.5 µs a candidate, measured on 70,000 benchmark entries). The UPDATE
    # below writes every vector anew, so existing entries move inline too.
    op.execute("ALTER TABLE catalog_entries SET (toast_tuple_target = 8160)")
    op.execute(
        "ALTER TABLE catalog_entries ALTER COLUMN search_vector SET STORAGE MAIN, "
        "ALTER COLUMN chars_vector SET STORAGE MAIN"
    )
    op.execute(_ADD_BUCKETS)
    # The UPDATE leaves the GIN indexes about three times the size of a fresh build and slower
    # to scan (at 1M entries: 944 MB and 70 ms for a common phrase after it, 304 MB and 2.4 ms
    # rebuilt). The build's memory sets how compact it is: 540 MB with 512 MB, 307 MB with 1 GB
    # (held only while the index is built).
    op.execute("SET LOCAL maintenance_work_mem = '1GB'")
    op.execute("REINDEX INDEX ix_catalog_entries_search")
    op.execute("REINDEX INDEX ix_catalog_entries_search_chars")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_DROP_BUCKETS)
    op.execute("ALTER TABLE catalog_entries RESET (toast_tuple_target)")
    op.execute(
        "ALTER TABLE catalog_entries ALTER COLUMN search_vector SET STORAGE EXTENDED, "
        "ALTER COLUMN chars_vector SET STORAGE EXTENDED"
    )
