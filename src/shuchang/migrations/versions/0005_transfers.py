"""transfers: DSP transfer processes and their events

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 16:58:23.360549
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuchang.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transfer_processes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("provider_pid", sa.String(length=100), nullable=True),
        sa.Column("consumer_pid", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("local_participant_id", sa.Uuid(), nullable=False),
        sa.Column("counterparty_id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("transfer_type", sa.String(length=16), nullable=False),
        sa.Column("callback_address", sa.String(length=500), nullable=False),
        sa.Column("data_address", sa.JSON(), nullable=True),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("suspended_by", sa.String(length=8), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["contract_agreements.id"],
            name=op.f("fk_transfer_processes_agreement_id_contract_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["participants.id"],
            name=op.f("fk_transfer_processes_counterparty_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["local_participant_id"],
            ["participants.id"],
            name=op.f("fk_transfer_processes_local_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_processes")),
        sa.UniqueConstraint("role", "consumer_pid", name="uq_transfer_processes_consumer_pid"),
        sa.UniqueConstraint("role", "provider_pid", name="uq_transfer_processes_provider_pid"),
    )
    with op.batch_alter_table("transfer_processes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transfer_processes_agreement_id"), ["agreement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_transfer_processes_counterparty_id"), ["counterparty_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_transfer_processes_state"), ["state"], unique=False)

    op.create_table(
        "transfer_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("transfer_id", sa.Uuid(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("message_type", sa.String(length=64), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("body_digest", sa.String(length=64), nullable=False),
        sa.Column("at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["transfer_processes.id"],
            name=op.f("fk_transfer_events_transfer_id_transfer_processes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_events")),
    )
    with op.batch_alter_table("transfer_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transfer_events_transfer_id"), ["transfer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("transfer_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfer_events_transfer_id"))

    op.drop_table("transfer_events")
    with op.batch_alter_table("transfer_processes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfer_processes_state"))
        batch_op.drop_index(batch_op.f("ix_transfer_processes_counterparty_id"))
        batch_op.drop_index(batch_op.f("ix_transfer_processes_agreement_id"))

    op.drop_table("transfer_processes")
