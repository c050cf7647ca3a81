"""Request and response shapes of data elements (数据元件)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from shuchang.domains.compute.deidentify import Column, Step

Name = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_-]{1,63}$")]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=50, pattern=r"^[^\s,;]+$")]


class ElementSource(msgspec.Struct, forbid_unknown_fields=True):
    """A source resource of the provider's, seen by the SQL as a table named ``alias``."""

    alias: Column
    resource_id: uuid.UUID


class ElementIn(msgspec.Struct, forbid_unknown_fields=True):
    """A data element's definition: sources, one SELECT, de-identification, k-anonymity."""

    name: Name
    title: Text
    sources: Annotated[list[ElementSource], msgspec.Meta(min_length=1, max_length=10)]
    sql: Annotated[str, msgspec.Meta(min_length=1, max_length=3000)]
    quasi_identifiers: Annotated[list[Column], msgspec.Meta(min_length=1, max_length=20)]
    k: Annotated[int, msgspec.Meta(ge=2, le=10_000)]
    steps: Annotated[list[Step], msgspec.Meta(max_length=50)] = []
    on_violation: Literal["fail", "suppress"] = "fail"


class ElementRunOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    definition_id: uuid.UUID
    revision: int
    status: str
    actor: str
    inputs: list[dict[str, Any]]
    rows_in: int | None
    rows_out: int | None
    suppressed: int | None
    k_report: dict[str, Any] | None
    columns: list[dict[str, Any]] | None
    output_path: str | None
    sha256: str | None
    sm3: str | None
    resource_id: uuid.UUID | None
    resource_version: int | None
    product_id: uuid.UUID | None
    error: dict[str, Any] | None
    duration_ms: int | None
    started_at: datetime
    finished_at: datetime | None


class ElementOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    provider_id: uuid.UUID
    name: str
    title: str
    revision: int
    sources: list[dict[str, Any]]
    sql: str
    steps: list[dict[str, Any]]
    quasi_identifiers: list[str]
    k: int
    on_violation: str
    output_resource_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    last_run: ElementRunOut | None


class Price(msgspec.Struct, forbid_unknown_fields=True):
    model: Literal["free", "one_off", "subscription", "per_call"]
    amount_fen: Annotated[int, msgspec.Meta(ge=0, le=10**12)] = 0
    period: Literal["month", "quarter", "year"] | None = None


class ElementListing(msgspec.Struct, forbid_unknown_fields=True):
    """How a successful run is offered as a ``data_element`` product (a draft to submit)."""

    title: Text
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
    policy: dict[str, Any]
    price: Price
    tags: Annotated[list[Tag], msgspec.Meta(max_length=20)] = []
    title_en: Text | None = None
    description_en: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)] | None = None
    submit: bool = True
