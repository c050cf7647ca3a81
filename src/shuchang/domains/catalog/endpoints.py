"""Where an API product's data is served from (接口地址): the HTTP location of its source.

The data plane asks this once per agreement (and caches it): a product's pinned resource
versions are immutable, so the answer only changes when the product is edited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.domains.catalog.models import Product, ProductSource, ResourceVersion


@dataclass(frozen=True)
class ApiEndpoint:
    """The provider's backend HTTP API behind an API product (never shown to consumers)."""

    product_id: uuid.UUID
    kind: str
    url: str | None
    method: str


def api_endpoint(session: Session, product_id: uuid.UUID) -> ApiEndpoint | None:
    """The product's kind and the first HTTP location among its pinned source versions
    (by resource id); ``url`` is None when no source is an HTTP API. None: no such product."""
    kind = session.scalar(select(Product.kind).where(Product.id == product_id))
    if kind is None:
        return None
    locations = session.scalars(
        select(ResourceVersion.location)
        .join(
            ProductSource,
            (ResourceVersion.resource_id == ProductSource.resource_id)
            & (ResourceVersion.version == ProductSource.resource_version),
        )
        .where(ProductSource.product_id == product_id)
        .order_by(ProductSource.resource_id)
    )
    for location in locations:
        if isinstance(location, dict) and location.get("type") == "http":
            return ApiEndpoint(
                product_id, kind, str(location["url"]), str(location.get("method", "GET"))
            )
    return ApiEndpoint(product_id, kind, None, "GET")
