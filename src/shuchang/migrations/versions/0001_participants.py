"""participants and evidence outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-26 14:09:12.593504
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuchang.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The outbox is append-only: history can be added to, never rewritten (DESIGN: evidence).
APPEND_ONLY_SQLITE = [
    """CREATE TRIGGER evidence_outbox_no_update BEFORE UPDATE ON evidence_outbox
       BEGIN SELECT RAISE(ABORT, 'evidence_outbox is append-only'); END""",
    """CREATE TRIGGER evidence_outbox_no_delete BEFORE DELETE ON evidence_outbox
       BEGIN SELECT RAISE(ABORT, 'evidence_outbox is append-only'); END""",
]
APPEND_ONLY_POSTGRESQL = [
    """CREATE FUNCTION evidence_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$""",
    """CREATE TRIGGER evidence_outbox_append_only BEFORE UPDATE OR DELETE ON evidence_outbox
       FOR EACH ROW EXECUTE FUNCTION evidence_append_only()""",
]


def _append_only() -> None:
    dialect = op.get_bind().dialect.name
    for statement in APPEND_ONLY_SQLITE if dialect == "sqlite" else APPEND_ONLY_POSTGRESQL:
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "evidence_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("payload_digest", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_outbox")),
    )
    with op.batch_alter_table("evidence_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_outbox_subject"), ["subject"], unique=False)

    op.create_table(
        "participants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("identifier", sa.String(length=40), nullable=False),
        sa.Column("identifier_kind", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=6), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("decision_reason", sa.String(length=64), nullable=True),
        sa.Column("credential", sa.JSON(), nullable=True),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participants")),
    )
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_participants_identifier"), ["identifier"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_participants_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_participants_status"), ["status"], unique=False)
        batch_op.create_index(
            "uq_participants_live_identifier",
            ["identifier"],
            unique=True,
            sqlite_where=sa.text("status IN ('pending', 'verified', 'active', 'suspended')"),
            postgresql_where=sa.text("status IN ('pending', 'verified', 'active', 'suspended')"),
        )

    op.create_table(
        "trusted_issuers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_issuers")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", shuchang.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_api_keys_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_keys_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "connectors",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("public_key", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_connectors_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connectors")),
    )
    with op.batch_alter_table("connectors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connectors_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "participant_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("replaced_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", shuchang.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_participant_keys_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participant_keys")),
    )
    with op.batch_alter_table("participant_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_participant_keys_fingerprint"), ["fingerprint"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_participant_keys_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "participant_verification_steps",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("message_zh", sa.Text(), nullable=False),
        sa.Column("message_en", sa.Text(), nullable=False),
        sa.Column("at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_participant_verification_steps_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participant_verification_steps")),
    )
    with op.batch_alter_table("participant_verification_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_participant_verification_steps_participant_id"),
            ["participant_id"],
            unique=False,
        )

    op.create_table(
        "revoked_credentials",
        sa.Column("issuer_id", sa.String(length=64), nullable=False),
        sa.Column("credential_id", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("revoked_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuer_id"],
            ["trusted_issuers.id"],
            name=op.f("fk_revoked_credentials_issuer_id_trusted_issuers"),
        ),
        sa.PrimaryKeyConstraint("issuer_id", "credential_id", name=op.f("pk_revoked_credentials")),
    )
    _append_only()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER evidence_outbox_append_only ON evidence_outbox")
        op.execute("DROP FUNCTION evidence_append_only()")
    op.drop_table("revoked_credentials")
    with op.batch_alter_table("participant_verification_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participant_verification_steps_participant_id"))

    op.drop_table("participant_verification_steps")
    with op.batch_alter_table("participant_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participant_keys_participant_id"))
        batch_op.drop_index(batch_op.f("ix_participant_keys_fingerprint"))

    op.drop_table("participant_keys")
    with op.batch_alter_table("connectors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connectors_participant_id"))

    op.drop_table("connectors")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_participant_id"))

    op.drop_table("api_keys")
    op.drop_table("trusted_issuers")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_participants_live_identifier",
            sqlite_where=sa.text("status IN ('pending', 'verified', 'active', 'suspended')"),
            postgresql_where=sa.text("status IN ('pending', 'verified', 'active', 'suspended')"),
        )
        batch_op.drop_index(batch_op.f("ix_participants_status"))
        batch_op.drop_index(batch_op.f("ix_participants_name"))
        batch_op.drop_index(batch_op.f("ix_participants_identifier"))

    op.drop_table("participants")
    with op.batch_alter_table("evidence_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_outbox_subject"))

    op.drop_table("evidence_outbox")
