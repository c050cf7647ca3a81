"""delivery: file digests, paid download copies, push jobs; download columns of usage records

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuchang.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "dataplane_file_digests",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("sm3", sa.String(length=64), nullable=False),
        sa.Column("evidence_id", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataplane_file_digests")),
        sa.UniqueConstraint("path", "size", "mtime_ns", name="uq_dataplane_file_digests_content"),
    )
    op.create_table(
        "dataplane_download_copies",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("transfer_id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("etag", sa.String(length=80), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataplane_download_copies")),
    )
    op.create_index(
        "ix_dataplane_download_copies_transfer",
        "dataplane_download_copies",
        ["transfer_id", "resource_id", "etag"],
    )
    op.create_table(
        "dataplane_push_jobs",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("transfer_id", sa.Uuid(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", shuchang.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.JSON(), nullable=True),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataplane_push_jobs")),
        sa.UniqueConstraint("transfer_id", "epoch", name="uq_dataplane_push_jobs_transfer_epoch"),
    )
    op.create_index(
        "ix_dataplane_push_jobs_state_next", "dataplane_push_jobs", ["state", "next_at"]
    )
    with op.batch_alter_table("dataplane_usage_records") as batch:
        batch.add_column(
            sa.Column("counted", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch.add_column(sa.Column("resource_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("byte_range", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("channel", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dataplane_usage_records") as batch:
        batch.drop_column("channel")
        batch.drop_column("byte_range")
        batch.drop_column("resource_id")
        batch.drop_column("counted")
    op.drop_index("ix_dataplane_push_jobs_state_next", "dataplane_push_jobs")
    op.drop_table("dataplane_push_jobs")
    op.drop_index("ix_dataplane_download_copies_transfer", "dataplane_download_copies")
    op.drop_table("dataplane_download_copies")
    op.drop_table("dataplane_file_digests")
