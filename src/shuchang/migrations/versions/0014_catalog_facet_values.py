"""catalog: each entry's tags, regions and industries packed beside it for facet counting

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 15:00:00

Search counts facets over the window of matches it has already read; reading the terms of a
thousand entries again from catalog_entry_terms cost more than the text match (a third of a
search). The terms table stays: tag, region and industry filters use it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The packing of shuchang.domains.catalog.search.pack_facets: "<letter><value>" separated by
# spaces, ordered by value (tags, region and industry codes hold no whitespace).
# (SQLite before 3.44 has no ORDER BY inside group_concat; it keeps the subquery's order.)
_BACKFILL = {
    "sqlite": """
        UPDATE catalog_entries SET facet_values = coalesce((
            SELECT group_concat(v, ' ') FROM (
                SELECT CASE t.facet WHEN 'industry' THEN 'i' WHEN 'region' THEN 'r' ELSE 't' END
                    || t.value AS v
                FROM catalog_entry_terms t WHERE t.entry_id = catalog_entries.id
                ORDER BY t.value, t.facet)), '')""",
    "postgresql": """
        UPDATE catalog_entries e SET facet_values = s.packed FROM (
            SELECT t.entry_id, string_agg(
                CASE t.facet WHEN 'industry' THEN 'i' WHEN 'region' THEN 'r' ELSE 't' END
                    || t.value, ' ' ORDER BY t.value COLLATE "C", t.facet) AS packed
            FROM catalog_entry_terms t GROUP BY t.entry_id) s
        WHERE s.entry_id = e.id""",
}


def upgrade() -> None:
    op.add_column(
        "catalog_entries",
        sa.Column("facet_values", sa.Text(), server_default="", nullable=False),
    )
    op.execute(_BACKFILL[op.get_bind().dialect.name])


def downgrade() -> None:
    # Not batch mode: rebuilding catalog_entries would break the terms' foreign key and the
    # FTS rowids; SQLite has dropped columns in place since 3.35.
    op.execute("ALTER TABLE catalog_entries DROP COLUMN facet_values")
