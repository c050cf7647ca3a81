"""Request and response shapes of the catalog domain."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

Classification = Literal["general", "important", "core"]  # 一般数据 / 重要数据 / 核心数据
Frequency = Literal["realtime", "daily", "weekly", "monthly", "quarterly", "yearly", "once"]
ProductKind = Literal["dataset", "api", "data_element", "compute_only"]
PriceModel = Literal["free", "one_off", "subscription", "per_call", "per_row", "tiered"]
ProductStatus = Literal["draft", "submitted", "listed", "returned", "delisted"]

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Description = Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
FieldName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=50, pattern=r"^[^\s,;]+$")]
Region = Annotated[str, msgspec.Meta(pattern=r"^[1-8]\d{5}$")]
# GB/T 4754-2017 国民经济行业分类: a section letter, optionally with 2-4 digit class.
Industry = Annotated[str, msgspec.Meta(pattern=r"^[A-T](\d{2}(\d{1,2})?)?$")]
Fen = Annotated[int, msgspec.Meta(ge=0, le=10**12)]


class Field(msgspec.Struct, forbid_unknown_fields=True):
    """One column of a resource. ``role`` tells privacy computing how a column may be used."""

    name: FieldName
    type: Literal["string", "integer", "decimal", "boolean", "date", "datetime", "json"]
    description: Annotated[str, msgspec.Meta(max_length=500)] = ""
    sensitivity: Literal["general", "personal", "sensitive_personal"] = "general"
    role: Literal["attribute", "identifier", "dimension", "measure"] = "attribute"


class FileLocation(msgspec.Struct, tag_field="type", tag="file", forbid_unknown_fields=True):
    path: Short
    format: Literal["csv", "jsonl", "parquet", "other"] = "csv"


class SqlLocation(msgspec.Struct, tag_field="type", tag="sql", forbid_unknown_fields=True):
    table: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_.]{0,126}$")]
    connection: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] = "default"


class HttpLocation(msgspec.Struct, tag_field="type", tag="http", forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(max_length=500, pattern=r"^https?://\S+$")]
    method: Literal["GET", "POST"] = "GET"


Location = FileLocation | SqlLocation | HttpLocation


class ResourceIn(msgspec.Struct, forbid_unknown_fields=True):
    """What a provider registers about a data resource (资源登记)."""

    title: Title
    description: Description
    fields: Annotated[list[Field], msgspec.Meta(min_length=1, max_length=500)]
    source: Short
    update_frequency: Frequency
    industry: Industry
    classification: Classification
    location: Location
    title_en: Title | None = None
    description_en: Description | None = None
    legal_basis: Short | None = None
    regions: Annotated[list[Region], msgspec.Meta(max_length=50)] = []
    temporal_start: date | None = None
    temporal_end: date | None = None
    tags: Annotated[list[Tag], msgspec.Meta(max_length=20)] = []
    personal_info: bool = False
    sensitive_personal_info: bool = False
    provider_id: uuid.UUID | None = None  # only the platform itself registers on behalf


class ResourceOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    provider_id: uuid.UUID
    version: int
    latest_version: int
    status: str
    title: str
    title_en: str | None
    description: str
    description_en: str | None
    fields: list[dict[str, Any]]
    source: str
    legal_basis: str | None
    update_frequency: str
    regions: list[str]
    temporal_start: date | None
    temporal_end: date | None
    tags: list[str]
    industry: str
    classification: str
    personal_info: bool
    sensitive_personal_info: bool
    location: dict[str, Any] | None  # only the provider, operator and regulator see it
    created_at: datetime


class VersionOut(msgspec.Struct, frozen=True):
    version: int
    title: str
    created_at: datetime
    created_by: str


class Tier(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One volume tier of a ``tiered`` price (阶梯价): units above the previous tier's
    ``up_to`` and up to this one cost ``unit_fen`` each (fen per call, or per 1,000 rows);
    the last tier has no ``up_to``. Tiers restart every settlement period."""

    up_to: Annotated[int, msgspec.Meta(ge=1, le=10**15)] | None
    unit_fen: Fen


class Price(msgspec.Struct, forbid_unknown_fields=True):
    """``amount_fen`` is per call (``per_call``), per 1,000 rows (``per_row``), per period
    (``subscription``), once (``one_off``), or the first tier's unit price (``tiered``)."""

    model: PriceModel
    amount_fen: Fen = 0
    period: Literal["month", "quarter", "year"] | None = None
    unit: Literal["call", "row"] | None = None  # what a tiered price counts
    tiers: Annotated[list[Tier], msgspec.Meta(max_length=20)] = []


class ProductIn(msgspec.Struct, forbid_unknown_fields=True):
    """A product draft: what is offered, from which resources, under which policy and price."""

    kind: ProductKind
    title: Title
    description: Description
    resources: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=20)]
    policy: dict[str, Any]
    price: Price
    title_en: Title | None = None
    description_en: Description | None = None
    tags: Annotated[list[Tag], msgspec.Meta(max_length=20)] = []
    transformation: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)] | None = None


class SourceOut(msgspec.Struct, frozen=True):
    resource_id: uuid.UUID
    resource_version: int
    title: str
    classification: str


class ReviewOut(msgspec.Struct, frozen=True):
    action: str
    from_status: str
    to_status: str
    actor: str
    reasons: list[dict[str, Any]]
    at: datetime


class ProductOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    provider_id: uuid.UUID
    kind: str
    title: str
    title_en: str | None
    description: str
    description_en: str | None
    tags: list[str]
    policy: dict[str, Any]
    price: Price
    transformation: str | None
    status: str
    review_reasons: list[dict[str, Any]]
    sources: list[SourceOut]
    created_at: datetime
    updated_at: datetime
    listed_at: datetime | None


class ReviewDecision(msgspec.Struct, forbid_unknown_fields=True):
    decision: Literal["approve", "return"]
    reasons: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=500)]],
        msgspec.Meta(max_length=20),
    ] = []


class Reason(msgspec.Struct, frozen=True):
    """Why a check failed or a reviewer returned a product."""

    code: str
    message_zh: str
    message_en: str


class SearchHit(msgspec.Struct, frozen=True):
    doc_type: str
    id: uuid.UUID
    provider_id: uuid.UUID
    title: str
    summary: str
    kind: str | None
    classification: str
    industry: str
    region: str | None
    price_fen: int | None
    price_model: str | None
    price_period: str | None
    tags: list[str]
    regions: list[str]
    industries: list[str]
    updated_at: datetime


class FacetValue(msgspec.Struct, frozen=True):
    value: str
    count: int


class SearchPage(msgspec.Struct, frozen=True):
    items: list[SearchHit]
    facets: dict[str, list[FacetValue]]
    facets_exact: bool  # false: counted over the first matches only (see catalog.search)
    next_cursor: str | None


class ImportRowError(msgspec.Struct, frozen=True):
    row: int
    field: str | None
    code: str
    message_zh: str
    message_en: str


class ImportReport(msgspec.Struct, frozen=True):
    imported: int
    rejected: int
    errors: list[ImportRowError]
    ids: list[uuid.UUID]


class Lineage(msgspec.Struct, frozen=True):
    """Both directions: a product's source resources, or the products made from a resource."""

    id: uuid.UUID
    sources: list[SourceOut]
    products: list[uuid.UUID]
