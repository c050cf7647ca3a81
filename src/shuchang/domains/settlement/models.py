"""Tables of the settlement domain (交易与清结算): orders, sharing rules, clearing batches,
invoices, shares, statements, the double-entry ledger, transfers and transaction records.

History is append-only: the migration's triggers refuse UPDATE and DELETE on every table
below except batches (status), transfers (status) and upstream declarations (withdrawal),
and make the database itself refuse a journal entry whose lines do not balance
(see :mod:`shuchang.domains.settlement.ledger`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from shuchang.db import Base, BigId, UTCDateTime, new_id, utcnow

MAX_FEN = 10**15
"""Largest amount any line may carry (10 trillion yuan): BIGINT holds 9.2 × 10**18, and the
canonical JSON of records holds integers only up to 2**53 ≈ 9.0 × 10**15."""


class Order(Base):
    """An order (订单): one per concluded agreement, with the price terms it was signed with."""

    __tablename__ = "settlement_orders"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contract_agreements.id"), unique=True
    )
    product_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    product_title: Mapped[str] = mapped_column(String(200))
    product_kind: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    provider_kind: Mapped[str] = mapped_column(String(32))
    consumer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    price_model: Mapped[str] = mapped_column(String(16))
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    agreement_sha256: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SharingRule(Base):
    """One version of the operator's revenue-sharing rules (收益分配规则), in force from
    ``effective_from`` (a month) until a later version takes over. Shares are basis points
    of each invoice's net amount; the provider keeps the rest."""

    __tablename__ = "settlement_rules"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    effective_from: Mapped[str] = mapped_column(String(7), index=True)
    operator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"))
    operator_fee_bp: Mapped[int] = mapped_column(Integer)
    authority_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("participants.id"))
    authority_bp: Mapped[int] = mapped_column(Integer)
    upstream_bp: Mapped[int] = mapped_column(Integer)
    upstream_depth: Mapped[int] = mapped_column(Integer)
    public_kinds: Mapped[list[str]] = mapped_column(JSON)
    public_providers: Mapped[list[str]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Upstream(Base):
    """A provider's declaration that its product is derived from another participant's
    product, obtained under ``agreement_id`` (数据血缘, cross-party): revenue flows back."""

    __tablename__ = "settlement_upstreams"

    product_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    upstream_product_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, index=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contract_agreements.id"))
    weight: Mapped[int] = mapped_column(Integer)
    declared_by: Mapped[str] = mapped_column(String(128))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Batch(Base):
    """A settlement batch (结算批次): one calendar month (Asia/Shanghai), cleared once."""

    __tablename__ = "settlement_batches"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    period: Mapped[str] = mapped_column(String(7), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    rule_version: Mapped[int] = mapped_column(Integer)
    vat_bp: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    invoices: Mapped[int] = mapped_column(Integer)
    records: Mapped[int] = mapped_column(BigInteger)
    calls: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[int] = mapped_column(BigInteger)
    net_fen: Mapped[int] = mapped_column(BigInteger)
    tax_fen: Mapped[int] = mapped_column(BigInteger)
    gross_fen: Mapped[int] = mapped_column(BigInteger)
    cursor_id: Mapped[int] = mapped_column(BigInteger)
    cleared_by: Mapped[str] = mapped_column(String(128))
    cleared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    evidence_id: Mapped[int] = mapped_column(BigInteger)


class BatchUsage(Base):
    """What one meter counted for one agreement in a batch's period (清分计量明细): the
    billable quantities, what was not billed and why, and the record ids it covered."""

    __tablename__ = "settlement_batch_usage"

    batch_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("settlement_batches.id"), primary_key=True
    )
    agreement_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    meter: Mapped[str] = mapped_column(String(16), primary_key=True)
    records: Mapped[int] = mapped_column(BigInteger)
    calls: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[int] = mapped_column(BigInteger)
    unknown: Mapped[int] = mapped_column(BigInteger)
    upstream_failed: Mapped[int] = mapped_column(BigInteger)
    error_status: Mapped[int] = mapped_column(BigInteger)
    denied: Mapped[int] = mapped_column(BigInteger)
    first_id: Mapped[int] = mapped_column(BigInteger)
    last_id: Mapped[int] = mapped_column(BigInteger)
    sealed_in: Mapped[list[list[int]]] = mapped_column(JSON)  # [metering batch, evidence id]


class Invoice(Base):
    """An invoice (账单): what one order's consumer owes for one period, net + VAT = gross."""

    __tablename__ = "settlement_invoices"
    __table_args__ = (UniqueConstraint("order_id", "period", name="uq_settlement_invoices_order"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("settlement_batches.id"), index=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("settlement_orders.id"))
    period: Mapped[str] = mapped_column(String(7))
    agreement_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    consumer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    net_fen: Mapped[int] = mapped_column(BigInteger)
    tax_fen: Mapped[int] = mapped_column(BigInteger)
    gross_fen: Mapped[int] = mapped_column(BigInteger)
    vat_bp: Mapped[int] = mapped_column(Integer)
    entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("settlement_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Share(Base):
    """One party's share of an invoice's net amount (分润): provider, operator fee,
    authorizing body, or an upstream source by lineage."""

    __tablename__ = "settlement_shares"

    invoice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("settlement_invoices.id"), primary_key=True
    )
    participant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("participants.id"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("settlement_batches.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class Statement(Base):
    """A participant's statement in a batch (结算单): what it owes and what it is due."""

    __tablename__ = "settlement_statements"

    batch_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("settlement_batches.id"), primary_key=True
    )
    participant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("participants.id"), primary_key=True
    )
    invoices: Mapped[int] = mapped_column(Integer)
    owed_fen: Mapped[int] = mapped_column(BigInteger)
    provider_fen: Mapped[int] = mapped_column(BigInteger)
    authority_fen: Mapped[int] = mapped_column(BigInteger)
    upstream_fen: Mapped[int] = mapped_column(BigInteger)
    fee_fen: Mapped[int] = mapped_column(BigInteger)
    due_fen: Mapped[int] = mapped_column(BigInteger)


class Account(Base):
    """A ledger account (账户) of the clearing house's books: a participant's receivable,
    payable, authorizing-body share or fee account, VAT payable, or the clearing cash."""

    __tablename__ = "settlement_accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    participant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("participants.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JournalEntry(Base):
    """A journal entry (记账凭证): two or more lines whose amounts sum to zero."""

    __tablename__ = "settlement_entries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    memo: Mapped[str] = mapped_column(String(200))
    batch_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("settlement_batches.id"), index=True
    )
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("settlement_entries.id"), unique=True
    )
    posted_by: Mapped[str] = mapped_column(String(128))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JournalLine(Base):
    """One line of an entry: ``amount_fen`` > 0 debits the account, < 0 credits it.

    Lines are written before their entry; the foreign key is checked at commit, so a line
    can never be left without an entry (see :mod:`shuchang.domains.settlement.ledger`).
    """

    __tablename__ = "settlement_lines"
    __table_args__ = (
        Index("ix_settlement_lines_account_amount", "account_id", "amount_fen"),
        CheckConstraint(
            f"amount_fen <> 0 AND amount_fen BETWEEN {-MAX_FEN} AND {MAX_FEN}", name="amount"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("settlement_entries.id", deferrable=True, initially="DEFERRED"), index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("settlement_accounts.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class Transfer(Base):
    """A money movement through the payment rail (资金划付): a collection from a consumer
    into the clearing account, or a payout from it to a participant."""

    __tablename__ = "settlement_transfers"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("settlement_batches.id"), index=True)
    participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"))
    direction: Mapped[str] = mapped_column(String(8))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    parts: Mapped[dict[str, int]] = mapped_column(JSON)
    attempt: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    rail: Mapped[str] = mapped_column(String(32))
    rail_reference: Mapped[str | None] = mapped_column(String(100))
    failure: Mapped[str | None] = mapped_column(String(500))
    entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("settlement_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RailRecord(Base):
    """The default payment rail's own book (what a bank would hold): one row per transfer
    it executed, keyed by the caller's idempotency key."""

    __tablename__ = "settlement_rail_records"

    reference: Mapped[str] = mapped_column(String(40), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    payer: Mapped[str] = mapped_column(String(80))
    payee: Mapped[str] = mapped_column(String(80))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    memo: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Record(Base):
    """A signed transaction document: the filing for the regulator (交易备案) or the voucher
    for the parties (交易凭证) of one invoice, each written to the evidence log."""

    __tablename__ = "settlement_records"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(8))
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("settlement_invoices.id"))
    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("settlement_batches.id"), index=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    period: Mapped[str] = mapped_column(String(7))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    evidence_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reconciliation(Base):
    """One reconciliation run (对账) of a period and what it found."""

    __tablename__ = "settlement_reconciliations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    batch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("settlement_batches.id"))
    ok: Mapped[bool] = mapped_column(Boolean)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    evidence_id: Mapped[int] = mapped_column(BigInteger)
    ran_by: Mapped[str] = mapped_column(String(128))
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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
"""Tables whose rows are never updated or deleted (the migration installs the triggers)."""
