"""Where a product's data is served from (数据位置): the locations of its pinned sources.

The data plane asks this once per agreement (and caches it): a product's pinned resource
versions are immutable, so the answer only changes when the product is edited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.domains.catalog.models import Product, ProductSource, ResourceVersion


@dataclass(frozen=True)
class SourcePart:
    """One pinned source of a product as the data plane delivers it (never shown as is to
    consumers: ``location`` is the provider's)."""

    resource_id: uuid.UUID
    version: int
    title: str
    location: dict[str, Any]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class ProductSources:
    product_id: uuid.UUID
    kind: str
    parts: tuple[SourcePart, ...]


def product_sources(session: Session, product_id: uuid.UUID) -> ProductSources | None:
    """The product's kind and its pinned source versions (by resource id), with each one's
    location and declared field names. None: no such product."""
    kind = session.scalar(select(Product.kind).where(Product.id == product_id))
    if kind is None:
        return None
    rows = session.execute(
        select(
            ResourceVersion.resource_id,
            ResourceVersion.version,
            ResourceVersion.title,
            ResourceVersion.location,
            ResourceVersion.fields,
        )
        .join(
            ProductSource,
            (ResourceVersion.resource_id == ProductSource.resource_id)
            & (ResourceVersion.version == ProductSource.resource_version),
        )
        .where(ProductSource.product_id == product_id)
        .order_by(ProductSource.resource_id)
    )
    parts = tuple(
        SourcePart(
            rid,
            version,
            title,
            dict(location or {}),
            tuple(str(f["name"]) for f in fields or () if isinstance(f, dict) and "name" in f),
        )
        for rid, version, title, location, fields in rows
    )
    return ProductSources(product_id, kind, parts)
