"""compute: privacy-computing profiles, the privacy budget ledger and jobs

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 21:28:29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuchang.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "compute_budget_accounts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("account", sa.String(length=80), nullable=False),
        sa.Column("spent_micro", sa.BigInteger(), nullable=False),
        sa.Column("releases", sa.Integer(), nullable=False),
        sa.Column("updated_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["catalog_products.id"],
            name=op.f("fk_compute_budget_accounts_product_id_catalog_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_budget_accounts")),
    )
    with op.batch_alter_table("compute_budget_accounts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_compute_budget_accounts_key", ["product_id", "account"], unique=True
        )

    op.create_table(
        "compute_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("consumer_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("template", sa.String(length=63), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("submitted_sql", sa.Text(), nullable=True),
        sa.Column("normalised_sql", sa.Text(), nullable=False),
        sa.Column("cache_key", sa.String(length=64), nullable=False),
        sa.Column("profile_revision", sa.Integer(), nullable=False),
        sa.Column("epsilon_micro", sa.BigInteger(), nullable=False),
        sa.Column("charged_micro", sa.BigInteger(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("cached_from", sa.Uuid(), nullable=True),
        sa.Column("input_digest", sa.String(length=64), nullable=True),
        sa.Column("result_digest", sa.String(length=64), nullable=True),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", shuchang.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", shuchang.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["consumer_id"],
            ["participants.id"],
            name=op.f("fk_compute_jobs_consumer_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["catalog_products.id"],
            name=op.f("fk_compute_jobs_product_id_catalog_products"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["participants.id"],
            name=op.f("fk_compute_jobs_provider_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_jobs")),
    )
    with op.batch_alter_table("compute_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compute_jobs_agreement_id"), ["agreement_id"], unique=False
        )
        batch_op.create_index(
            "ix_compute_jobs_cache", ["product_id", "consumer_id", "cache_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_compute_jobs_consumer_id"), ["consumer_id"], unique=False
        )
        batch_op.create_index(
            "ix_compute_jobs_product_created", ["product_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_compute_jobs_state"), ["state"], unique=False)

    op.create_table(
        "compute_profiles",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("resource_version", sa.Integer(), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("updated_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["catalog_products.id"],
            name=op.f("fk_compute_profiles_product_id_catalog_products"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["participants.id"],
            name=op.f("fk_compute_profiles_provider_id_participants"),
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_compute_profiles")),
    )
    with op.batch_alter_table("compute_profiles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compute_profiles_provider_id"), ["provider_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("compute_profiles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compute_profiles_provider_id"))

    op.drop_table("compute_profiles")
    with op.batch_alter_table("compute_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compute_jobs_state"))
        batch_op.drop_index("ix_compute_jobs_product_created")
        batch_op.drop_index(batch_op.f("ix_compute_jobs_consumer_id"))
        batch_op.drop_index("ix_compute_jobs_cache")
        batch_op.drop_index(batch_op.f("ix_compute_jobs_agreement_id"))

    op.drop_table("compute_jobs")
    with op.batch_alter_table("compute_budget_accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_compute_budget_accounts_key")

    op.drop_table("compute_budget_accounts")
