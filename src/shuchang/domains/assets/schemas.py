"""Request and response shapes of the data-asset registry (数据资产登记)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

Right = Literal["holding", "processing", "operating"]
"""数据资源持有权 / 数据加工使用权 / 数据产品经营权 (the three rights of 数据二十条)."""
RIGHTS: tuple[Right, ...] = ("holding", "processing", "operating")
RIGHT_ZH = {
    "holding": "数据资源持有权",
    "processing": "数据加工使用权",
    "operating": "数据产品经营权",
}
Method = Literal["cost", "income", "market"]  # 成本法 / 收益法 / 市场法
METHOD_ZH = {"cost": "成本法", "income": "收益法", "market": "市场法"}

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Description = Annotated[str, msgspec.Meta(min_length=10, max_length=2000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Fen = Annotated[int, msgspec.Meta(gt=0, le=10**15)]
Rights = Annotated[list[Right], msgspec.Meta(min_length=1, max_length=3)]
Years = Annotated[int, msgspec.Meta(ge=1, le=10)]


class AssetApplication(msgspec.Struct, forbid_unknown_fields=True):
    """A holder applies to register one of its listed products as a data asset."""

    product_id: uuid.UUID
    rights: Rights
    description: Description
    title: Title | None = None
    valid_years: Years = 3


class AssetRevision(msgspec.Struct, forbid_unknown_fields=True):
    """A returned application, corrected and sent back for review."""

    rights: Rights
    description: Description
    title: Title | None = None
    valid_years: Years = 3


class AssetDecision(msgspec.Struct, forbid_unknown_fields=True):
    decision: Literal["approve", "return"]
    reasons: Annotated[list[Reason], msgspec.Meta(max_length=20)] = []


class EndCertificate(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class ValuationIn(msgspec.Struct, forbid_unknown_fields=True):
    """A service firm's valuation (价值评估) by one method, in fen."""

    method: Method
    amount_fen: Fen
    basis: Annotated[str, msgspec.Meta(min_length=10, max_length=5000)]
    valued_on: date


class PledgeIn(msgspec.Struct, forbid_unknown_fields=True):
    """A pledge (质押登记): to whom, for how much, for how long, under which contract."""

    pledgee_id: uuid.UUID
    amount_fen: Fen
    starts_on: date
    ends_on: date
    reference: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class PledgeRelease(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason | None = None


class CertificateOut(msgspec.Struct, frozen=True):
    number: str
    status: str  # issued / revoked / cancelled / expired (expired as soon as it is due)
    valid_from: datetime
    valid_until: datetime
    issued_at: datetime
    digest: str
    evidence_id: int
    ended_at: datetime | None
    end_reason: str | None


class RegistrationOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    product_id: uuid.UUID
    holder_id: uuid.UUID
    status: str
    title: str
    description: str
    rights: list[str]
    valid_years: int
    content_digest: str
    reasons: list[str]
    reviewer: str | None
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None
    certificate: CertificateOut | None


class ValuationOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    registration_id: uuid.UUID
    valuer_id: uuid.UUID
    method: str
    amount_fen: int
    basis: str
    valued_on: date
    created_at: datetime


class PledgeOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    registration_id: uuid.UUID
    pledgee_id: uuid.UUID
    amount_fen: int
    starts_on: date
    ends_on: date
    reference: str
    status: str
    registered_at: datetime
    released_at: datetime | None
    release_reason: str | None


class AssetDetail(msgspec.Struct, frozen=True):
    """A registration with its valuations and pledges, and what is still pledgeable."""

    registration: RegistrationOut
    valuations: list[ValuationOut]
    pledges: list[PledgeOut]
    value_fen: int | None  # the latest valuation's amount
    pledged_fen: int  # sum of pledges not released


class IssuerOut(msgspec.Struct, frozen=True):
    """The key certificates are signed with (pin it with ``--trust``)."""

    keyid: str
    public_key: str
    algorithm: str = "ed25519"
