"""dataplane: usage records of data requests and their sealed metering batches

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 17:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuchang.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dataplane_metering_batches",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_id", sa.BigInteger(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("evidence_id", sa.BigInteger(), nullable=False),
        sa.Column("sealed_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataplane_metering_batches")),
    )
    op.create_table(
        "dataplane_usage_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("transfer_id", sa.Uuid(), nullable=False),
        sa.Column("consumer_id", sa.Uuid(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("permitted", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("started_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["dataplane_metering_batches.id"],
            name=op.f("fk_dataplane_usage_records_batch_id_dataplane_metering_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataplane_usage_records")),
    )
    op.create_index(
        "ix_dataplane_usage_records_agreement_started",
        "dataplane_usage_records",
        ["agreement_id", "started_at"],
    )
    op.create_index(
        op.f("ix_dataplane_usage_records_batch_id"), "dataplane_usage_records", ["batch_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_dataplane_usage_records_batch_id"), "dataplane_usage_records")
    op.drop_index("ix_dataplane_usage_records_agreement_started", "dataplane_usage_records")
    op.drop_table("dataplane_usage_records")
    op.drop_table("dataplane_metering_batches")
