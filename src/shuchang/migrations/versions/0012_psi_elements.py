"""compute: data-element definitions and runs, PSI sessions and their events

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:17:28.056203
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuchang.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "compute_element_definitions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("sql", sa.Text(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("quasi_identifiers", sa.JSON(), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("on_violation", sa.String(length=16), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("output_resource_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["participants.id"],
            name=op.f("fk_compute_element_definitions_provider_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_element_definitions")),
        sa.UniqueConstraint(
            "provider_id", "name", name=op.f("uq_compute_element_definitions_provider_id")
        ),
    )
    with op.batch_alter_table("compute_element_definitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compute_element_definitions_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "compute_psi_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("provider_pid", sa.String(length=100), nullable=True),
        sa.Column("consumer_pid", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("protocol", sa.String(length=16), nullable=False),
        sa.Column("normalization", sa.String(length=16), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("local_participant_id", sa.Uuid(), nullable=False),
        sa.Column("counterparty_id", sa.Uuid(), nullable=False),
        sa.Column("callback_address", sa.String(length=500), nullable=False),
        sa.Column("identifier_field", sa.String(length=63), nullable=True),
        sa.Column("local_size", sa.Integer(), nullable=True),
        sa.Column("peer_size", sa.Integer(), nullable=True),
        sa.Column("result_size", sa.Integer(), nullable=True),
        sa.Column("local_digest", sa.String(length=64), nullable=True),
        sa.Column("result_digest", sa.String(length=64), nullable=True),
        sa.Column("rejected", sa.Integer(), nullable=True),
        sa.Column("filter_name", sa.String(length=64), nullable=True),
        sa.Column("link_address", sa.String(length=100), nullable=True),
        sa.Column("pending", sa.LargeBinary(), nullable=True),
        sa.Column("members", sa.LargeBinary(), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("deadline", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["participants.id"],
            name=op.f("fk_compute_psi_sessions_counterparty_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["local_participant_id"],
            ["participants.id"],
            name=op.f("fk_compute_psi_sessions_local_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_psi_sessions")),
        sa.UniqueConstraint("filter_name", name=op.f("uq_compute_psi_sessions_filter_name")),
        sa.UniqueConstraint("role", "consumer_pid", name="uq_compute_psi_sessions_consumer_pid"),
        sa.UniqueConstraint("role", "provider_pid", name="uq_compute_psi_sessions_provider_pid"),
    )
    with op.batch_alter_table("compute_psi_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_compute_psi_sessions_agreement_created",
            ["agreement_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_compute_psi_sessions_counterparty_id"), ["counterparty_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_compute_psi_sessions_state"), ["state"], unique=False)

    op.create_table(
        "compute_element_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("definition_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("rows_in", sa.Integer(), nullable=True),
        sa.Column("rows_out", sa.Integer(), nullable=True),
        sa.Column("suppressed", sa.Integer(), nullable=True),
        sa.Column("k_report", sa.JSON(), nullable=True),
        sa.Column("columns", sa.JSON(), nullable=True),
        sa.Column("output_path", sa.String(length=500), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("sm3", sa.String(length=64), nullable=True),
        sa.Column("resource_id", sa.Uuid(), nullable=True),
        sa.Column("resource_version", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("started_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", shuchang.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["compute_element_definitions.id"],
            name=op.f("fk_compute_element_runs_definition_id_compute_element_definitions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_element_runs")),
    )
    with op.batch_alter_table("compute_element_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compute_element_runs_definition_id"), ["definition_id"], unique=False
        )

    op.create_table(
        "compute_psi_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("message_type", sa.String(length=64), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("body_digest", sa.String(length=64), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["compute_psi_sessions.id"],
            name=op.f("fk_compute_psi_events_session_id_compute_psi_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_psi_events")),
    )
    with op.batch_alter_table("compute_psi_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compute_psi_events_session_id"), ["session_id"], unique=False
        )

    # "PSI then aggregate": a compute job may name a filter-mode session's intersection
    with op.batch_alter_table("compute_jobs") as batch:
        batch.add_column(sa.Column("psi_filter", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("compute_jobs") as batch:
        batch.drop_column("psi_filter")
    with op.batch_alter_table("compute_psi_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compute_psi_events_session_id"))

    op.drop_table("compute_psi_events")
    with op.batch_alter_table("compute_element_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compute_element_runs_definition_id"))

    op.drop_table("compute_element_runs")
    with op.batch_alter_table("compute_psi_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compute_psi_sessions_state"))
        batch_op.drop_index(batch_op.f("ix_compute_psi_sessions_counterparty_id"))
        batch_op.drop_index("ix_compute_psi_sessions_agreement_created")

    op.drop_table("compute_psi_sessions")
    with op.batch_alter_table("compute_element_definitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compute_element_definitions_provider_id"))

    op.drop_table("compute_element_definitions")
