"""evidence log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 14:14:40.004517
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuchang.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Leaves, nodes and checkpoints are history too: refused UPDATE/DELETE, like the outbox.
LOG_TABLES = ("tlog_leaves", "tlog_nodes", "tlog_checkpoints", "tlog_cosignatures")


def _append_only() -> None:
    dialect = op.get_bind().dialect.name
    for table in LOG_TABLES:
        if dialect == "sqlite":
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        else:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION evidence_append_only()"
            )


def upgrade() -> None:
    op.create_table(
        "tlog_checkpoints",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("published_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_tlog_checkpoints")),
    )
    op.create_table(
        "tlog_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_tlog_nodes")),
    )
    op.create_table(
        "evidence_pending",
        sa.Column(
            "outbox_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["evidence_outbox.id"],
            name=op.f("fk_evidence_pending_outbox_id_evidence_outbox"),
        ),
        sa.PrimaryKeyConstraint("outbox_id", name=op.f("pk_evidence_pending")),
    )
    op.create_table(
        "tlog_cosignatures",
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("witness", sa.String(length=200), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("received_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["size"],
            ["tlog_checkpoints.size"],
            name=op.f("fk_tlog_cosignatures_size_tlog_checkpoints"),
        ),
        sa.PrimaryKeyConstraint("size", "witness", name=op.f("pk_tlog_cosignatures")),
    )
    op.create_table(
        "tlog_leaves",
        sa.Column(
            "idx",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column(
            "outbox_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sequenced_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["evidence_outbox.id"],
            name=op.f("fk_tlog_leaves_outbox_id_evidence_outbox"),
        ),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_tlog_leaves")),
        sa.UniqueConstraint("outbox_id", name=op.f("uq_tlog_leaves_outbox_id")),
    )
    _append_only()


def downgrade() -> None:
    op.drop_table("tlog_leaves")
    op.drop_table("tlog_cosignatures")
    op.drop_table("evidence_pending")
    op.drop_table("tlog_nodes")
    op.drop_table("tlog_checkpoints")
