"""A product's pinned source versions with their fields and locations (数据来源), for the
domains that read provider data at the connector (compute, data elements)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.domains.catalog.models import Product, ProductSource, ResourceVersion


@dataclass(frozen=True)
class SourceVersion:
    """One immutable resource version a product is made from."""

    resource_id: uuid.UUID
    version: int
    title: str
    fields: list[dict[str, Any]]
    location: dict[str, Any]
    classification: str


@dataclass(frozen=True)
class PinnedSources:
    product_id: uuid.UUID
    provider_id: uuid.UUID
    kind: str
    status: str
    title: str
    sources: list[SourceVersion]


def pinned_sources(session: Session, product_id: uuid.UUID) -> PinnedSources | None:
    """The product's kind, owner, status and pinned sources (by resource id); None: unknown."""
    product = session.get(Product, product_id)
    if product is None:
        return None
    rows = session.scalars(
        select(ResourceVersion)
        .join(
            ProductSource,
            (ResourceVersion.resource_id == ProductSource.resource_id)
            & (ResourceVersion.version == ProductSource.resource_version),
        )
        .where(ProductSource.product_id == product_id)
        .order_by(ProductSource.resource_id)
    )
    sources = [
        SourceVersion(
            r.resource_id, r.version, r.title, list(r.fields), dict(r.location), r.classification
        )
        for r in rows
    ]
    return PinnedSources(
        product.id, product.provider_id, product.kind, product.status, product.title, sources
    )
