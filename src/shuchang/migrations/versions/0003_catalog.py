"""catalog

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 14:23:46.598375
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuchang.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The full-text index, per backend (see shuchang.domains.catalog.search and .textindex).
FTS_SQLITE = (
    "CREATE VIRTUAL TABLE catalog_fts USING fts5("
    "body, chars, tokenize = 'unicode61 remove_diacritics 0')"
)
FTS_POSTGRESQL = [
    "ALTER TABLE catalog_entries ADD COLUMN search_vector tsvector",
    "ALTER TABLE catalog_entries ADD COLUMN chars_vector tsvector",
    "CREATE INDEX ix_catalog_entries_search ON catalog_entries USING gin (search_vector)",
    "CREATE INDEX ix_catalog_entries_search_chars ON catalog_entries USING gin (chars_vector)",
]


def _full_text() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(FTS_SQLITE)
    else:
        for statement in FTS_POSTGRESQL:
            op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "catalog_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("doc_type", sa.String(length=16), nullable=False),
        sa.Column("doc_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("classification", sa.String(length=16), nullable=False),
        sa.Column("industry", sa.String(length=8), nullable=False),
        sa.Column("region", sa.String(length=6), nullable=True),
        sa.Column("price_fen", sa.BigInteger(), nullable=True),
        sa.Column("price_model", sa.String(length=16), nullable=True),
        sa.Column("price_period", sa.String(length=8), nullable=True),
        sa.Column("updated_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_entries")),
        sa.UniqueConstraint("doc_id", name=op.f("uq_catalog_entries_doc_id")),
    )
    with op.batch_alter_table("catalog_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_catalog_entries_filter", ["doc_type", "visible", "classification"], unique=False
        )
        batch_op.create_index("ix_catalog_entries_industry", ["industry"], unique=False)
        batch_op.create_index("ix_catalog_entries_provider", ["provider_id"], unique=False)

    op.create_table(
        "catalog_entry_terms",
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("facet", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["catalog_entries.id"],
            name=op.f("fk_catalog_entry_terms_entry_id_catalog_entries"),
        ),
        sa.PrimaryKeyConstraint("entry_id", "facet", "value", name=op.f("pk_catalog_entry_terms")),
    )
    with op.batch_alter_table("catalog_entry_terms", schema=None) as batch_op:
        batch_op.create_index(
            "ix_catalog_entry_terms_facet_value", ["facet", "value"], unique=False
        )

    op.create_table(
        "catalog_products",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("price_model", sa.String(length=16), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("price_period", sa.String(length=8), nullable=True),
        sa.Column("transformation", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("review_reasons", sa.JSON(), nullable=False),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("listed_at", shuchang.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["participants.id"],
            name=op.f("fk_catalog_products_provider_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_products")),
    )
    with op.batch_alter_table("catalog_products", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_products_provider_id"), ["provider_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_catalog_products_status"), ["status"], unique=False)

    op.create_table(
        "catalog_resources",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["participants.id"],
            name=op.f("fk_catalog_resources_provider_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_resources")),
    )
    with op.batch_alter_table("catalog_resources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_resources_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "catalog_product_sources",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("resource_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["catalog_products.id"],
            name=op.f("fk_catalog_product_sources_product_id_catalog_products"),
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resources.id"],
            name=op.f("fk_catalog_product_sources_resource_id_catalog_resources"),
        ),
        sa.PrimaryKeyConstraint(
            "product_id", "resource_id", name=op.f("pk_catalog_product_sources")
        ),
    )
    with op.batch_alter_table("catalog_product_sources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_product_sources_resource_id"), ["resource_id"], unique=False
        )

    op.create_table(
        "catalog_resource_versions",
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("legal_basis", sa.String(length=500), nullable=True),
        sa.Column("update_frequency", sa.String(length=16), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("temporal_start", sa.Date(), nullable=True),
        sa.Column("temporal_end", sa.Date(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("industry", sa.String(length=8), nullable=False),
        sa.Column("classification", sa.String(length=16), nullable=False),
        sa.Column("personal_info", sa.Boolean(), nullable=False),
        sa.Column("sensitive_personal_info", sa.Boolean(), nullable=False),
        sa.Column("location", sa.JSON(), nullable=False),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resources.id"],
            name=op.f("fk_catalog_resource_versions_resource_id_catalog_resources"),
        ),
        sa.PrimaryKeyConstraint(
            "resource_id", "version", name=op.f("pk_catalog_resource_versions")
        ),
    )
    op.create_table(
        "catalog_review_steps",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["catalog_products.id"],
            name=op.f("fk_catalog_review_steps_product_id_catalog_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_review_steps")),
    )
    with op.batch_alter_table("catalog_review_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_review_steps_product_id"), ["product_id"], unique=False
        )
    _full_text()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE catalog_fts")
    with op.batch_alter_table("catalog_review_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_review_steps_product_id"))

    op.drop_table("catalog_review_steps")
    op.drop_table("catalog_resource_versions")
    with op.batch_alter_table("catalog_product_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_product_sources_resource_id"))

    op.drop_table("catalog_product_sources")
    with op.batch_alter_table("catalog_resources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_resources_provider_id"))

    op.drop_table("catalog_resources")
    with op.batch_alter_table("catalog_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_products_status"))
        batch_op.drop_index(batch_op.f("ix_catalog_products_provider_id"))

    op.drop_table("catalog_products")
    with op.batch_alter_table("catalog_entry_terms", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_entry_terms_facet_value")

    op.drop_table("catalog_entry_terms")
    with op.batch_alter_table("catalog_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_entries_provider")
        batch_op.drop_index("ix_catalog_entries_industry")
        batch_op.drop_index("ix_catalog_entries_filter")

    op.drop_table("catalog_entries")
