"""catalog: filter values as full-text terms

Search with a query now intersects classification, industry and region filters inside the
full-text index (``textindex.filter_terms``: ``ǂc``/``ǂi``/``ǂr`` + code, every prefix of a
code). New entries get the terms when indexed; this adds them to entries indexed before.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 17:30:00
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from alembic import op

from shuchang.domains.catalog.textindex import filter_terms

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000
_FILTER_TERM = re.compile(r"\s*ǂ[cir][0-9a-z]+")


def _batches(conn: sa.Connection) -> Iterator[list[dict[str, object]]]:
    """Per batch of entries: {id, extra} with the filter terms each entry needs."""
    last = 0
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, classification FROM catalog_entries WHERE id > :last "
                "ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": BATCH},
        ).all()
        if not rows:
            return
        ids = [r.id for r in rows]
        codes: dict[int, dict[str, list[str]]] = {i: {"industry": [], "region": []} for i in ids}
        for entry_id, facet, value in conn.execute(
            sa.text(
                "SELECT entry_id, facet, value FROM catalog_entry_terms "
                "WHERE entry_id >= :lo AND entry_id <= :hi AND facet IN ('industry', 'region')"
            ),
            {"lo": ids[0], "hi": ids[-1]},
        ):
            codes[entry_id][facet].append(value)
        yield [
            {
                "id": r.id,
                "extra": " ".join(
                    filter_terms(r.classification, codes[r.id]["industry"], codes[r.id]["region"])
                ),
            }
            for r in rows
        ]
        last = ids[-1]


def upgrade() -> None:
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    statement = sa.text(
        "UPDATE catalog_fts SET body = body || ' ' || :extra WHERE rowid = :id"
        if sqlite
        else "UPDATE catalog_entries SET search_vector = "
        "coalesce(search_vector, ''::tsvector) || to_tsvector('simple', :extra) WHERE id = :id"
    )
    for batch in _batches(conn):
        conn.execute(statement, batch)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        op.execute(
            "UPDATE catalog_entries SET search_vector = ts_filter_terms.kept FROM ("
            " SELECT id, ts_delete(search_vector, ARRAY(SELECT lexeme FROM unnest(search_vector)"
            "  WHERE lexeme ~ '^ǂ[cir][0-9a-z]+$')) AS kept FROM catalog_entries"
            ") AS ts_filter_terms WHERE catalog_entries.id = ts_filter_terms.id"
        )
        return
    rows = conn.execute(sa.text("SELECT rowid, body FROM catalog_fts")).all()
    if rows:
        conn.execute(
            sa.text("UPDATE catalog_fts SET body = :body WHERE rowid = :id"),
            [{"id": r.rowid, "body": _FILTER_TERM.sub("", r.body)} for r in rows],
        )
