"""Request and response shapes of the compute domain (隐私计算).

A **compute profile** (计算配置) is what a provider approves for one compute-only product: the
table consumers name, the privacy unit (the person or enterprise column), dimensions with
public value domains, clamped measures, query templates, the k threshold, the per-person
contribution bound, the DP mechanism and the product's lifetime ε cap.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

Name = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
Label = Annotated[str, msgspec.Meta(max_length=200)]
DomainValue = Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | int
Epsilon = Annotated[float, msgspec.Meta(gt=0, le=100)]


class Dimension(msgspec.Struct, forbid_unknown_fields=True):
    """A column consumers may group and filter by, with a public value domain: an enumerated
    list of ``values``, or for integer columns a range ``min``..``max``."""

    name: Name
    values: Annotated[list[DomainValue], msgspec.Meta(max_length=10_000)] | None = None
    min: int | None = None
    max: int | None = None
    label: Label = ""


class Measure(msgspec.Struct, forbid_unknown_fields=True):
    """A numeric column consumers may SUM or AVG; every value is clamped to lower..upper."""

    name: Name
    lower: float
    upper: float
    label: Label = ""


class Param(msgspec.Struct, forbid_unknown_fields=True):
    """A typed template parameter (``:name`` in the template's SQL)."""

    name: Name
    type: Literal["string", "integer"]
    dimension: Name | None = None  # the value must be in this dimension's domain
    values: list[DomainValue] | None = None
    min: int | None = None
    max: int | None = None
    label: Label = ""


class Template(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    sql: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
    title: Label = ""
    params: Annotated[list[Param], msgspec.Meta(max_length=20)] = []


class ProfileIn(msgspec.Struct, forbid_unknown_fields=True):
    """A provider's compute profile for one compute-only product."""

    person: Name
    dimensions: Annotated[list[Dimension], msgspec.Meta(max_length=50)]
    measures: Annotated[list[Measure], msgspec.Meta(max_length=50)]
    table: Name = "data"
    resource_id: uuid.UUID | None = None  # which pinned source; default: the only one
    templates: Annotated[list[Template], msgspec.Meta(max_length=50)] = []
    adhoc_sql: bool = True
    k: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 10
    contribution_bound: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1
    sum_mechanism: Literal["laplace", "gaussian"] = "laplace"
    delta: Annotated[float, msgspec.Meta(gt=0, lt=1e-3)] = 1e-9
    epsilon_default: Epsilon = 0.5
    epsilon_max: Epsilon = 1.0
    lifetime_epsilon: Annotated[float, msgspec.Meta(gt=0, le=100_000)] = 100.0
    max_cells: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 1000
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 30.0
    memory_limit_mb: Annotated[int, msgspec.Meta(ge=64, le=65_536)] = 1024


class ProfileOut(msgspec.Struct, frozen=True):
    product_id: uuid.UUID
    provider_id: uuid.UUID
    revision: int
    profile: dict[str, Any]
    lifetime_spent: float
    updated_at: datetime


class JobIn(msgspec.Struct, forbid_unknown_fields=True):
    """A computation under an agreement: a template with parameters, or ad-hoc SQL."""

    agreement_id: uuid.UUID
    sql: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)] | None = None
    template: Name | None = None
    params: Annotated[dict[Name, str | int], msgspec.Meta(max_length=20)] = {}
    epsilon: Epsilon | None = None  # default: the profile's epsilon_default
    purpose: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    region: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    # "PSI then aggregate": only the rows of persons in this completed PSI filter of the same
    # agreement (``psi:<session id>``, kept at the provider) are counted
    psi_filter: Annotated[str, msgspec.Meta(pattern=r"^psi:[0-9a-f-]{36}$")] | None = None


class StatisticOut(msgspec.Struct, frozen=True):
    """How one released column was made private: mechanism, its ε (and δ), noise scale."""

    name: str
    kind: str
    mechanism: str
    epsilon: float
    delta: float
    scale: float
    sensitivity: float


class ResultOut(msgspec.Struct, frozen=True):
    """A released answer: one row per cell of the public domain; suppressed cells (noisy
    person count below k) carry nulls. ``epsilon`` is what the answer cost when first made."""

    columns: list[str]
    rows: list[list[Any]]
    suppressed: list[bool]
    statistics: list[StatisticOut]
    epsilon: float
    delta: float
    k: int
    contribution_bound: int
    cached: bool


class JobOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    agreement_id: uuid.UUID
    product_id: uuid.UUID
    consumer_id: uuid.UUID
    provider_id: uuid.UUID
    state: str
    template: str | None
    normalised_sql: str | None
    epsilon: float
    epsilon_charged: float
    error: dict[str, Any] | None
    result: ResultOut | None
    cached_from: uuid.UUID | None
    input_digest: str | None
    result_digest: str | None
    created_at: datetime
    finished_at: datetime | None


class BudgetOut(msgspec.Struct, frozen=True):
    """What is left for one consumer on one product in the current period, and for the
    product over its lifetime (None: the agreement sets no per-period budget)."""

    agreement_id: uuid.UUID
    product_id: uuid.UUID
    consumer_id: uuid.UUID
    period: str
    period_budget: float | None
    period_spent: float
    period_remaining: float | None
    lifetime_cap: float
    lifetime_spent: float
    lifetime_remaining: float
    epsilon_default: float
    epsilon_max: float
