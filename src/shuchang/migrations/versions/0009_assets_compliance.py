"""assets, compliance, supervision: data-asset registrations, certificates, numbering,
valuations and pledges; compliance reviews and certificates; evidence-audit runs and daily
usage rollups; an index on metering records by start time

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 21:19:22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuchang.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "asset_number_counters",
        sa.Column("region", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("region", "year", name=op.f("pk_asset_number_counters")),
    )
    op.create_table(
        "supervision_audit_runs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ran_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("checkpoints", sa.Integer(), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_audit_runs")),
    )
    with op.batch_alter_table("supervision_audit_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supervision_audit_runs_ran_at"), ["ran_at"], unique=False
        )

    op.create_table(
        "asset_registrations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("holder_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("rights", sa.JSON(), nullable=False),
        sa.Column("valid_years", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("reviewer", sa.String(length=128), nullable=True),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", shuchang.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["holder_id"],
            ["participants.id"],
            name=op.f("fk_asset_registrations_holder_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["catalog_products.id"],
            name=op.f("fk_asset_registrations_product_id_catalog_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_registrations")),
    )
    with op.batch_alter_table("asset_registrations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_asset_registrations_holder_id"), ["holder_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_asset_registrations_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_asset_registrations_status"), ["status"], unique=False)
        batch_op.create_index(
            "uq_asset_registrations_live_product",
            ["product_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('applied', 'returned', 'registered')"),
            postgresql_where=sa.text("status IN ('applied', 'returned', 'registered')"),
        )

    op.create_table(
        "compliance_reviews",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("questionnaire", sa.String(length=16), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assessor_id", sa.Uuid(), nullable=True),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", shuchang.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", shuchang.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assessor_id"],
            ["participants.id"],
            name=op.f("fk_compliance_reviews_assessor_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["catalog_products.id"],
            name=op.f("fk_compliance_reviews_product_id_catalog_products"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["participants.id"],
            name=op.f("fk_compliance_reviews_provider_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_reviews")),
    )
    with op.batch_alter_table("compliance_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compliance_reviews_assessor_id"), ["assessor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_compliance_reviews_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_compliance_reviews_provider_id"), ["provider_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_compliance_reviews_status"), ["status"], unique=False)
        batch_op.create_index(
            "uq_compliance_reviews_open_product",
            ["product_id"],
            unique=True,
            sqlite_where=sa.text(
                "status IN ('draft', 'submitted', 'assigned', 'changes_requested')"
            ),
            postgresql_where=sa.text(
                "status IN ('draft', 'submitted', 'assigned', 'changes_requested')"
            ),
        )

    op.create_table(
        "asset_certificates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("registration_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("valid_from", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("evidence_id", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", shuchang.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["asset_registrations.id"],
            name=op.f("fk_asset_certificates_registration_id_asset_registrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_certificates")),
        sa.UniqueConstraint("number", name=op.f("uq_asset_certificates_number")),
        sa.UniqueConstraint("registration_id", name=op.f("uq_asset_certificates_registration_id")),
    )
    with op.batch_alter_table("asset_certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_asset_certificates_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_asset_certificates_valid_until"), ["valid_until"], unique=False
        )

    op.create_table(
        "asset_pledges",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("registration_id", sa.Uuid(), nullable=False),
        sa.Column("pledgee_id", sa.Uuid(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("registered_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("released_at", shuchang.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["pledgee_id"],
            ["participants.id"],
            name=op.f("fk_asset_pledges_pledgee_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["asset_registrations.id"],
            name=op.f("fk_asset_pledges_registration_id_asset_registrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_pledges")),
    )
    with op.batch_alter_table("asset_pledges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_asset_pledges_pledgee_id"), ["pledgee_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_asset_pledges_registration_id"), ["registration_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_asset_pledges_status"), ["status"], unique=False)

    op.create_table(
        "asset_valuations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("registration_id", sa.Uuid(), nullable=False),
        sa.Column("valuer_id", sa.Uuid(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("valued_on", sa.Date(), nullable=False),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["asset_registrations.id"],
            name=op.f("fk_asset_valuations_registration_id_asset_registrations"),
        ),
        sa.ForeignKeyConstraint(
            ["valuer_id"],
            ["participants.id"],
            name=op.f("fk_asset_valuations_valuer_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_valuations")),
    )
    with op.batch_alter_table("asset_valuations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_asset_valuations_registration_id"), ["registration_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_asset_valuations_valuer_id"), ["valuer_id"], unique=False
        )

    op.create_table(
        "compliance_certificates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("review_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("evidence_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["catalog_products.id"],
            name=op.f("fk_compliance_certificates_product_id_catalog_products"),
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["compliance_reviews.id"],
            name=op.f("fk_compliance_certificates_review_id_compliance_reviews"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_certificates")),
        sa.UniqueConstraint("number", name=op.f("uq_compliance_certificates_number")),
        sa.UniqueConstraint("review_id", name=op.f("uq_compliance_certificates_review_id")),
    )
    with op.batch_alter_table("compliance_certificates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compliance_certificates_product_id"), ["product_id"], unique=False
        )
    op.create_table(
        "supervision_usage_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("permitted", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "agreement_id", name=op.f("pk_supervision_usage_days")),
    )
    op.create_table(
        "supervision_rollups",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_supervision_rollups")),
    )
    # Supervision reads metering records by time over all agreements (dataplane's table).
    op.create_index(
        "ix_dataplane_usage_records_started_at", "dataplane_usage_records", ["started_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_dataplane_usage_records_started_at", "dataplane_usage_records")
    op.drop_table("supervision_rollups")
    op.drop_table("supervision_usage_days")
    with op.batch_alter_table("compliance_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compliance_certificates_product_id"))

    op.drop_table("compliance_certificates")
    with op.batch_alter_table("asset_valuations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_valuations_valuer_id"))
        batch_op.drop_index(batch_op.f("ix_asset_valuations_registration_id"))

    op.drop_table("asset_valuations")
    with op.batch_alter_table("asset_pledges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_pledges_status"))
        batch_op.drop_index(batch_op.f("ix_asset_pledges_registration_id"))
        batch_op.drop_index(batch_op.f("ix_asset_pledges_pledgee_id"))

    op.drop_table("asset_pledges")
    with op.batch_alter_table("asset_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_certificates_valid_until"))
        batch_op.drop_index(batch_op.f("ix_asset_certificates_status"))

    op.drop_table("asset_certificates")
    with op.batch_alter_table("compliance_reviews", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_compliance_reviews_open_product",
            sqlite_where=sa.text(
                "status IN ('draft', 'submitted', 'assigned', 'changes_requested')"
            ),
            postgresql_where=sa.text(
                "status IN ('draft', 'submitted', 'assigned', 'changes_requested')"
            ),
        )
        batch_op.drop_index(batch_op.f("ix_compliance_reviews_status"))
        batch_op.drop_index(batch_op.f("ix_compliance_reviews_provider_id"))
        batch_op.drop_index(batch_op.f("ix_compliance_reviews_product_id"))
        batch_op.drop_index(batch_op.f("ix_compliance_reviews_assessor_id"))

    op.drop_table("compliance_reviews")
    with op.batch_alter_table("asset_registrations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_asset_registrations_live_product",
            sqlite_where=sa.text("status IN ('applied', 'returned', 'registered')"),
            postgresql_where=sa.text("status IN ('applied', 'returned', 'registered')"),
        )
        batch_op.drop_index(batch_op.f("ix_asset_registrations_status"))
        batch_op.drop_index(batch_op.f("ix_asset_registrations_product_id"))
        batch_op.drop_index(batch_op.f("ix_asset_registrations_holder_id"))

    op.drop_table("asset_registrations")
    with op.batch_alter_table("supervision_audit_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervision_audit_runs_ran_at"))

    op.drop_table("supervision_audit_runs")
    op.drop_table("asset_number_counters")
