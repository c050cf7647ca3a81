"""contracts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 14:35:35.940332
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuchang.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contract_seen_nonces",
        sa.Column("keyid", sa.String(length=16), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("seen_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("keyid", "nonce", name=op.f("pk_contract_seen_nonces")),
    )
    with op.batch_alter_table("contract_seen_nonces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_seen_nonces_seen_at"), ["seen_at"], unique=False
        )

    op.create_table(
        "contract_negotiations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("provider_pid", sa.String(length=100), nullable=True),
        sa.Column("consumer_pid", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("local_participant_id", sa.Uuid(), nullable=False),
        sa.Column("counterparty_id", sa.Uuid(), nullable=False),
        sa.Column("dataset_id", sa.String(length=100), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("offer", sa.JSON(), nullable=False),
        sa.Column("callback_address", sa.String(length=500), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["participants.id"],
            name=op.f("fk_contract_negotiations_counterparty_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["local_participant_id"],
            ["participants.id"],
            name=op.f("fk_contract_negotiations_local_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_negotiations")),
        sa.UniqueConstraint("role", "consumer_pid", name="uq_contract_negotiations_consumer_pid"),
        sa.UniqueConstraint("role", "provider_pid", name="uq_contract_negotiations_provider_pid"),
    )
    with op.batch_alter_table("contract_negotiations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_negotiations_counterparty_id"),
            ["counterparty_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_contract_negotiations_state"), ["state"], unique=False)

    op.create_table(
        "contract_agreements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("negotiation_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("consumer_id", sa.Uuid(), nullable=False),
        sa.Column("dataset_id", sa.String(length=100), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("signatures", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=True),
        sa.Column("valid_from", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("price_model", sa.String(length=16), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consumer_id"],
            ["participants.id"],
            name=op.f("fk_contract_agreements_consumer_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["negotiation_id"],
            ["contract_negotiations.id"],
            name=op.f("fk_contract_agreements_negotiation_id_contract_negotiations"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["participants.id"],
            name=op.f("fk_contract_agreements_provider_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_agreements")),
    )
    with op.batch_alter_table("contract_agreements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_agreements_consumer_id"), ["consumer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contract_agreements_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "contract_negotiation_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("negotiation_id", sa.Uuid(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("message_type", sa.String(length=64), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("body_digest", sa.String(length=64), nullable=False),
        sa.Column("at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["negotiation_id"],
            ["contract_negotiations.id"],
            name=op.f("fk_contract_negotiation_events_negotiation_id_contract_negotiations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_negotiation_events")),
    )
    with op.batch_alter_table("contract_negotiation_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_negotiation_events_negotiation_id"),
            ["negotiation_id"],
            unique=False,
        )

    op.create_table(
        "contract_usage",
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["contract_agreements.id"],
            name=op.f("fk_contract_usage_agreement_id_contract_agreements"),
        ),
        sa.PrimaryKeyConstraint("agreement_id", "action", name=op.f("pk_contract_usage")),
    )


def downgrade() -> None:
    op.drop_table("contract_usage")
    with op.batch_alter_table("contract_negotiation_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_negotiation_events_negotiation_id"))

    op.drop_table("contract_negotiation_events")
    with op.batch_alter_table("contract_agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_agreements_provider_id"))
        batch_op.drop_index(batch_op.f("ix_contract_agreements_consumer_id"))

    op.drop_table("contract_agreements")
    with op.batch_alter_table("contract_negotiations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_negotiations_state"))
        batch_op.drop_index(batch_op.f("ix_contract_negotiations_counterparty_id"))

    op.drop_table("contract_negotiations")
    with op.batch_alter_table("contract_seen_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_seen_nonces_seen_at"))

    op.drop_table("contract_seen_nonces")
