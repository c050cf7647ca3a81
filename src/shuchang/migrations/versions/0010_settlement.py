"""settlement: orders, sharing rules, clearing batches, invoices, the double-entry ledger,
transfers and transaction records; tiered prices on products

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 21:22:51.118765
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuchang.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# History is append-only, as in the evidence log (0001, 0002): UPDATE and DELETE are refused.
APPEND_ONLY = (
    "settlement_orders",
    "settlement_rules",
    "settlement_batch_usage",
    "settlement_invoices",
    "settlement_shares",
    "settlement_statements",
    "settlement_entries",
    "settlement_lines",
    "settlement_records",
    "settlement_reconciliations",
)

# The ledger's balance rule, enforced by the database whatever code writes to it:
# * lines are written first and their entry last; inserting the entry checks that its lines
#   number two or more and sum to zero (debits = credits);
# * a line for an entry that already exists is refused (an entry never grows);
# * the lines' foreign key to their entry is checked at commit, so lines without an entry
#   never commit;
# * PostgreSQL also re-checks every entry touched at commit (a deferred constraint trigger),
#   which holds even against a concurrent transaction adding lines under the same entry id.
SQLITE_LEDGER = [
    """CREATE TRIGGER settlement_entries_balanced BEFORE INSERT ON settlement_entries
       WHEN (SELECT COUNT(*) FROM settlement_lines WHERE entry_id = NEW.id) < 2
         OR (SELECT COALESCE(SUM(amount_fen), 0) FROM settlement_lines
             WHERE entry_id = NEW.id) <> 0
       BEGIN SELECT RAISE(ABORT, 'settlement_entries: journal entry is not balanced'); END""",
    """CREATE TRIGGER settlement_lines_entry_open BEFORE INSERT ON settlement_lines
       WHEN EXISTS (SELECT 1 FROM settlement_entries WHERE id = NEW.entry_id)
       BEGIN SELECT RAISE(ABORT, 'settlement_lines: journal entry is already posted'); END""",
]
POSTGRESQL_LEDGER = [
    """CREATE FUNCTION settlement_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
       DECLARE n bigint; total numeric;
       BEGIN
         SELECT count(*), coalesce(sum(amount_fen), 0) INTO n, total
           FROM settlement_lines WHERE entry_id = NEW.id;
         IF n < 2 OR total <> 0 THEN
           RAISE EXCEPTION 'settlement_entries: journal entry % is not balanced', NEW.id;
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER settlement_entries_balanced BEFORE INSERT ON settlement_entries
       FOR EACH ROW EXECUTE FUNCTION settlement_entry_balanced()""",
    """CREATE FUNCTION settlement_line_open() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM settlement_entries WHERE id = NEW.entry_id) THEN
           RAISE EXCEPTION 'settlement_lines: journal entry % is already posted', NEW.entry_id;
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER settlement_lines_entry_open BEFORE INSERT ON settlement_lines
       FOR EACH ROW EXECUTE FUNCTION settlement_line_open()""",
    """CREATE FUNCTION settlement_lines_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
       DECLARE n bigint; total numeric;
       BEGIN
         SELECT count(*), coalesce(sum(amount_fen), 0) INTO n, total
           FROM settlement_lines WHERE entry_id = NEW.entry_id;
         IF n < 2 OR total <> 0
            OR NOT EXISTS (SELECT 1 FROM settlement_entries WHERE id = NEW.entry_id) THEN
           RAISE EXCEPTION 'settlement_lines: journal entry % is not balanced', NEW.entry_id;
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE CONSTRAINT TRIGGER settlement_lines_balanced AFTER INSERT ON settlement_lines
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION settlement_lines_balanced()""",
]


def _guards() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "sqlite":
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        else:  # evidence_append_only() comes from 0001
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION evidence_append_only()"
            )
    for statement in SQLITE_LEDGER if dialect == "sqlite" else POSTGRESQL_LEDGER:
        op.execute(statement)


def _drop_guards() -> None:
    """Tables take their triggers with them; PostgreSQL's functions are dropped here."""
    if op.get_bind().dialect.name == "postgresql":
        for table, trigger in (
            ("settlement_lines", "settlement_lines_balanced"),
            ("settlement_lines", "settlement_lines_entry_open"),
            ("settlement_entries", "settlement_entries_balanced"),
        ):
            op.execute(f"DROP TRIGGER {trigger} ON {table}")
        for function in (
            "settlement_lines_balanced",
            "settlement_line_open",
            "settlement_entry_balanced",
        ):
            op.execute(f"DROP FUNCTION {function}()")


def upgrade() -> None:
    op.create_table(
        "settlement_batches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("vat_bp", sa.Integer(), nullable=False),
        sa.Column("period_start", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("invoices", sa.Integer(), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("net_fen", sa.BigInteger(), nullable=False),
        sa.Column("tax_fen", sa.BigInteger(), nullable=False),
        sa.Column("gross_fen", sa.BigInteger(), nullable=False),
        sa.Column("cursor_id", sa.BigInteger(), nullable=False),
        sa.Column("cleared_by", sa.String(length=128), nullable=False),
        sa.Column("cleared_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", shuchang.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("evidence_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_batches")),
        sa.UniqueConstraint("period", name=op.f("uq_settlement_batches_period")),
    )
    op.create_table(
        "settlement_rail_records",
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("payer", sa.String(length=80), nullable=False),
        sa.Column("payee", sa.String(length=80), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("memo", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("reference", name=op.f("pk_settlement_rail_records")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_settlement_rail_records_idempotency_key")
        ),
    )
    op.create_table(
        "settlement_accounts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_settlement_accounts_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_accounts")),
        sa.UniqueConstraint("code", name=op.f("uq_settlement_accounts_code")),
    )
    op.create_table(
        "settlement_batch_usage",
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("meter", sa.String(length=16), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("unknown", sa.BigInteger(), nullable=False),
        sa.Column("upstream_failed", sa.BigInteger(), nullable=False),
        sa.Column("error_status", sa.BigInteger(), nullable=False),
        sa.Column("denied", sa.BigInteger(), nullable=False),
        sa.Column("first_id", sa.BigInteger(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("sealed_in", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["settlement_batches.id"],
            name=op.f("fk_settlement_batch_usage_batch_id_settlement_batches"),
        ),
        sa.PrimaryKeyConstraint(
            "batch_id", "agreement_id", "meter", name=op.f("pk_settlement_batch_usage")
        ),
    )
    op.create_table(
        "settlement_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("memo", sa.String(length=200), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=True),
        sa.Column("reverses_id", sa.Uuid(), nullable=True),
        sa.Column("posted_by", sa.String(length=128), nullable=False),
        sa.Column("posted_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["settlement_batches.id"],
            name=op.f("fk_settlement_entries_batch_id_settlement_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["settlement_entries.id"],
            name=op.f("fk_settlement_entries_reverses_id_settlement_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_entries")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_settlement_entries_reverses_id")),
    )
    with op.batch_alter_table("settlement_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_settlement_entries_batch_id"), ["batch_id"], unique=False
        )

    op.create_table(
        "settlement_reconciliations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("evidence_id", sa.BigInteger(), nullable=False),
        sa.Column("ran_by", sa.String(length=128), nullable=False),
        sa.Column("ran_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["settlement_batches.id"],
            name=op.f("fk_settlement_reconciliations_batch_id_settlement_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_reconciliations")),
    )
    with op.batch_alter_table("settlement_reconciliations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_settlement_reconciliations_period"), ["period"], unique=False
        )

    op.create_table(
        "settlement_rules",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("effective_from", sa.String(length=7), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        sa.Column("operator_fee_bp", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Uuid(), nullable=True),
        sa.Column("authority_bp", sa.Integer(), nullable=False),
        sa.Column("upstream_bp", sa.Integer(), nullable=False),
        sa.Column("upstream_depth", sa.Integer(), nullable=False),
        sa.Column("public_kinds", sa.JSON(), nullable=False),
        sa.Column("public_providers", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["participants.id"],
            name=op.f("fk_settlement_rules_authority_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["participants.id"],
            name=op.f("fk_settlement_rules_operator_id_participants"),
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_settlement_rules")),
    )
    with op.batch_alter_table("settlement_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_settlement_rules_effective_from"), ["effective_from"], unique=False
        )

    op.create_table(
        "settlement_statements",
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("invoices", sa.Integer(), nullable=False),
        sa.Column("owed_fen", sa.BigInteger(), nullable=False),
        sa.Column("provider_fen", sa.BigInteger(), nullable=False),
        sa.Column("authority_fen", sa.BigInteger(), nullable=False),
        sa.Column("upstream_fen", sa.BigInteger(), nullable=False),
        sa.Column("fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("due_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["settlement_batches.id"],
            name=op.f("fk_settlement_statements_batch_id_settlement_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_settlement_statements_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint(
            "batch_id", "participant_id", name=op.f("pk_settlement_statements")
        ),
    )
    op.create_table(
        "settlement_lines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "amount_fen <> 0 AND amount_fen BETWEEN -1000000000000000 AND 1000000000000000",
            name=op.f("ck_settlement_lines_amount"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["settlement_accounts.id"],
            name=op.f("fk_settlement_lines_account_id_settlement_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["settlement_entries.id"],
            name=op.f("fk_settlement_lines_entry_id_settlement_entries"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_lines")),
    )
    with op.batch_alter_table("settlement_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_settlement_lines_account_amount", ["account_id", "amount_fen"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_settlement_lines_entry_id"), ["entry_id"], unique=False
        )

    op.create_table(
        "settlement_transfers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rail", sa.String(length=32), nullable=False),
        sa.Column("rail_reference", sa.String(length=100), nullable=True),
        sa.Column("failure", sa.String(length=500), nullable=True),
        sa.Column("entry_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", shuchang.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["settlement_batches.id"],
            name=op.f("fk_settlement_transfers_batch_id_settlement_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["settlement_entries.id"],
            name=op.f("fk_settlement_transfers_entry_id_settlement_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_settlement_transfers_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_transfers")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_settlement_transfers_idempotency_key")
        ),
    )
    with op.batch_alter_table("settlement_transfers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_settlement_transfers_batch_id"), ["batch_id"], unique=False
        )

    op.create_table(
        "settlement_orders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("product_title", sa.String(length=200), nullable=False),
        sa.Column("product_kind", sa.String(length=16), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("provider_kind", sa.String(length=32), nullable=False),
        sa.Column("consumer_id", sa.Uuid(), nullable=False),
        sa.Column("price_model", sa.String(length=16), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("agreement_sha256", sa.String(length=64), nullable=False),
        sa.Column("valid_from", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["contract_agreements.id"],
            name=op.f("fk_settlement_orders_agreement_id_contract_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["consumer_id"],
            ["participants.id"],
            name=op.f("fk_settlement_orders_consumer_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["participants.id"],
            name=op.f("fk_settlement_orders_provider_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_orders")),
        sa.UniqueConstraint("agreement_id", name=op.f("uq_settlement_orders_agreement_id")),
    )
    with op.batch_alter_table("settlement_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_settlement_orders_consumer_id"), ["consumer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_settlement_orders_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "settlement_upstreams",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("upstream_product_id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("declared_by", sa.String(length=128), nullable=False),
        sa.Column("declared_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", shuchang.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["contract_agreements.id"],
            name=op.f("fk_settlement_upstreams_agreement_id_contract_agreements"),
        ),
        sa.PrimaryKeyConstraint(
            "product_id", "upstream_product_id", name=op.f("pk_settlement_upstreams")
        ),
    )
    with op.batch_alter_table("settlement_upstreams", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_settlement_upstreams_upstream_product_id"),
            ["upstream_product_id"],
            unique=False,
        )

    op.create_table(
        "settlement_invoices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("consumer_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("net_fen", sa.BigInteger(), nullable=False),
        sa.Column("tax_fen", sa.BigInteger(), nullable=False),
        sa.Column("gross_fen", sa.BigInteger(), nullable=False),
        sa.Column("vat_bp", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["settlement_batches.id"],
            name=op.f("fk_settlement_invoices_batch_id_settlement_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["consumer_id"],
            ["participants.id"],
            name=op.f("fk_settlement_invoices_consumer_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["settlement_entries.id"],
            name=op.f("fk_settlement_invoices_entry_id_settlement_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["settlement_orders.id"],
            name=op.f("fk_settlement_invoices_order_id_settlement_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["participants.id"],
            name=op.f("fk_settlement_invoices_provider_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_invoices")),
        sa.UniqueConstraint("order_id", "period", name="uq_settlement_invoices_order"),
    )
    with op.batch_alter_table("settlement_invoices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_settlement_invoices_agreement_id"), ["agreement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_settlement_invoices_batch_id"), ["batch_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_settlement_invoices_consumer_id"), ["consumer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_settlement_invoices_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "settlement_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("evidence_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", shuchang.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["settlement_batches.id"],
            name=op.f("fk_settlement_records_batch_id_settlement_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["settlement_invoices.id"],
            name=op.f("fk_settlement_records_invoice_id_settlement_invoices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_records")),
    )
    with op.batch_alter_table("settlement_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_settlement_records_agreement_id"), ["agreement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_settlement_records_batch_id"), ["batch_id"], unique=False
        )

    op.create_table(
        "settlement_shares",
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["settlement_batches.id"],
            name=op.f("fk_settlement_shares_batch_id_settlement_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["settlement_invoices.id"],
            name=op.f("fk_settlement_shares_invoice_id_settlement_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_settlement_shares_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint(
            "invoice_id", "participant_id", "role", name=op.f("pk_settlement_shares")
        ),
    )
    with op.batch_alter_table("settlement_shares", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_settlement_shares_batch_id"), ["batch_id"], unique=False
        )

    # A nullable column: SQLite adds it in place (no table rebuild under the FTS triggers).
    op.add_column("catalog_products", sa.Column("price_terms", sa.JSON(), nullable=True))
    _guards()


def downgrade() -> None:
    _drop_guards()
    op.drop_column("catalog_products", "price_terms")  # SQLite 3.35+ drops in place

    with op.batch_alter_table("settlement_shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_shares_batch_id"))

    op.drop_table("settlement_shares")
    with op.batch_alter_table("settlement_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_records_batch_id"))
        batch_op.drop_index(batch_op.f("ix_settlement_records_agreement_id"))

    op.drop_table("settlement_records")
    with op.batch_alter_table("settlement_invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_invoices_provider_id"))
        batch_op.drop_index(batch_op.f("ix_settlement_invoices_consumer_id"))
        batch_op.drop_index(batch_op.f("ix_settlement_invoices_batch_id"))
        batch_op.drop_index(batch_op.f("ix_settlement_invoices_agreement_id"))

    op.drop_table("settlement_invoices")
    with op.batch_alter_table("settlement_upstreams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_upstreams_upstream_product_id"))

    op.drop_table("settlement_upstreams")
    with op.batch_alter_table("settlement_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_orders_provider_id"))
        batch_op.drop_index(batch_op.f("ix_settlement_orders_consumer_id"))

    op.drop_table("settlement_orders")
    with op.batch_alter_table("settlement_transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_transfers_batch_id"))

    op.drop_table("settlement_transfers")
    with op.batch_alter_table("settlement_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_lines_entry_id"))
        batch_op.drop_index("ix_settlement_lines_account_amount")

    op.drop_table("settlement_lines")
    op.drop_table("settlement_statements")
    with op.batch_alter_table("settlement_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_rules_effective_from"))

    op.drop_table("settlement_rules")
    with op.batch_alter_table("settlement_reconciliations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_reconciliations_period"))

    op.drop_table("settlement_reconciliations")
    with op.batch_alter_table("settlement_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_entries_batch_id"))

    op.drop_table("settlement_entries")
    op.drop_table("settlement_batch_usage")
    op.drop_table("settlement_accounts")
    op.drop_table("settlement_rail_records")
    op.drop_table("settlement_batches")
