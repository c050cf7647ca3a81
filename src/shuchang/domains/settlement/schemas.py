"""Request and response shapes of the settlement domain (amounts are integer fen)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

BasisPoints = Annotated[int, msgspec.Meta(ge=0, le=10_000)]
PeriodText = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=150)]


class RuleIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new version of the revenue-sharing rules (收益分配规则), in force from a month.

    Each share is basis points of an invoice's net amount (100 bp = 1 %); the provider
    keeps what is left, so the three together may not pass 10,000.
    """

    effective_from: PeriodText
    operator_id: uuid.UUID
    operator_fee_bp: BasisPoints = 0
    authority_id: uuid.UUID | None = None
    authority_bp: BasisPoints = 0
    upstream_bp: BasisPoints = 0
    upstream_depth: Annotated[int, msgspec.Meta(ge=1, le=5)] = 2
    public_kinds: Annotated[
        list[Literal["government", "public_institution", "enterprise", "social_organisation"]],
        msgspec.Meta(max_length=4),
    ] = msgspec.field(default_factory=lambda: ["government", "public_institution"])
    public_providers: Annotated[list[uuid.UUID], msgspec.Meta(max_length=200)] = []
    note: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class RuleOut(msgspec.Struct, frozen=True):
    version: int
    effective_from: str
    operator_id: uuid.UUID
    operator_fee_bp: int
    authority_id: uuid.UUID | None
    authority_bp: int
    upstream_bp: int
    upstream_depth: int
    public_kinds: list[str]
    public_providers: list[uuid.UUID]
    note: str | None
    created_by: str
    created_at: datetime


class UpstreamIn(msgspec.Struct, forbid_unknown_fields=True):
    """The provider of ``product_id`` declares it derives from ``upstream_product_id``,
    obtained under its agreement ``agreement_id`` (数据来源声明)."""

    product_id: uuid.UUID
    upstream_product_id: uuid.UUID
    agreement_id: uuid.UUID
    weight: Annotated[int, msgspec.Meta(ge=1, le=100)] = 1


class UpstreamOut(msgspec.Struct, frozen=True):
    product_id: uuid.UUID
    upstream_product_id: uuid.UUID
    upstream_provider_id: uuid.UUID | None
    agreement_id: uuid.UUID
    weight: int
    declared_by: str
    declared_at: datetime
    withdrawn_at: datetime | None


class OrderOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    agreement_id: uuid.UUID
    product_id: uuid.UUID | None
    product_title: str
    product_kind: str
    provider_id: uuid.UUID
    consumer_id: uuid.UUID
    price: dict[str, Any]
    valid_from: datetime
    valid_until: datetime
    created_at: datetime


class ShareOut(msgspec.Struct, frozen=True):
    participant_id: uuid.UUID
    role: str  # provider | fee | authority | upstream
    amount_fen: int


class InvoiceOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    batch_id: uuid.UUID
    order_id: uuid.UUID
    period: str
    agreement_id: uuid.UUID
    consumer_id: uuid.UUID
    provider_id: uuid.UUID
    product_title: str
    lines: list[dict[str, Any]]
    net_fen: int
    tax_fen: int
    gross_fen: int
    vat_bp: int
    entry_id: uuid.UUID | None
    shares: list[ShareOut]
    created_at: datetime


class BatchOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    period: str
    status: str  # cleared | paying | settled
    rule_version: int
    vat_bp: int
    invoices: int
    records: int
    calls: int
    rows: int
    net_fen: int
    tax_fen: int
    gross_fen: int
    cursor_id: int
    cleared_by: str
    cleared_at: datetime
    settled_at: datetime | None
    evidence_id: int


class StatementLine(msgspec.Struct, frozen=True):
    invoice_id: uuid.UUID
    agreement_id: uuid.UUID
    product_title: str
    role: str  # consumer, or the share's role
    counterparty_id: uuid.UUID
    net_fen: int
    tax_fen: int
    gross_fen: int
    amount_fen: int  # owed (consumer: gross) or due (the share)


class StatementOut(msgspec.Struct, frozen=True):
    batch_id: uuid.UUID
    period: str
    participant_id: uuid.UUID
    participant_name: str
    invoices: int
    owed_fen: int
    provider_fen: int
    authority_fen: int
    upstream_fen: int
    fee_fen: int
    due_fen: int
    lines: list[StatementLine]


class TransferOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    batch_id: uuid.UUID
    participant_id: uuid.UUID
    direction: str  # collect | payout
    amount_fen: int
    parts: dict[str, int]
    attempt: int
    status: str  # pending | settled | failed
    rail: str
    rail_reference: str | None
    failure: str | None
    created_at: datetime
    completed_at: datetime | None


class RunOut(msgspec.Struct, frozen=True):
    batch: BatchOut
    cleared_now: bool
    transfers: list[TransferOut]


class LineOut(msgspec.Struct, frozen=True):
    account: str
    kind: str
    debit_fen: int
    credit_fen: int


class EntryOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    kind: str
    memo: str
    batch_id: uuid.UUID | None
    reverses_id: uuid.UUID | None
    posted_by: str
    posted_at: datetime
    lines: list[LineOut]


class BalanceOut(msgspec.Struct, frozen=True):
    account: str
    kind: str
    type: str  # asset | liability
    participant_id: uuid.UUID | None
    balance_fen: int  # in the account's normal direction


class Reversal(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class Finding(msgspec.Struct, frozen=True):
    """One thing reconciliation found (对账差异)."""

    code: str
    severity: str  # error | warning | info
    subject: str
    message_zh: str
    message_en: str
    expected: int | str | None = None
    actual: int | str | None = None


class ReconciliationOut(msgspec.Struct, frozen=True):
    id: int
    period: str
    batch_id: uuid.UUID | None
    ok: bool
    errors: int
    warnings: int
    findings: list[Finding]
    sha256: str
    evidence_id: int
    ran_by: str
    ran_at: datetime


class RecordOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    kind: str  # filing | voucher
    invoice_id: uuid.UUID
    batch_id: uuid.UUID
    agreement_id: uuid.UUID
    period: str
    sha256: str
    evidence_id: int
    created_at: datetime
    document: dict[str, Any]


class MonthValue(msgspec.Struct, frozen=True):
    """Transaction value of one settled month (the supervision dashboard's series)."""

    period: str
    invoices: int
    net_fen: int
    tax_fen: int
    gross_fen: int
    calls: int


class BatchStatus(msgspec.Struct, frozen=True):
    """Where a month's settlement stands, for the supervision dashboard."""

    period: str
    status: str
    gross_fen: int
    cleared_at: datetime
    settled_at: datetime | None
    reconciled_ok: bool | None  # None: never reconciled
