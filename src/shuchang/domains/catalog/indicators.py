"""Counts of the catalogue for supervision (监管统计): resources and products by
classification (分类分级), industry section (GB/T 4754 门类), kind and status."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuchang.domains.catalog.models import CatalogEntry, Product, Resource, ResourceVersion


def resource_counts(session: Session) -> list[tuple[str, str, str, int]]:
    """``(status, classification, industry section, resources)`` over current versions."""
    section = func.substr(ResourceVersion.industry, 1, 1)
    rows = session.execute(
        select(Resource.status, ResourceVersion.classification, section, func.count())
        .join(
            ResourceVersion,
            (ResourceVersion.resource_id == Resource.id)
            & (ResourceVersion.version == Resource.version),
        )
        .group_by(Resource.status, ResourceVersion.classification, section)
        .order_by(Resource.status, ResourceVersion.classification, section)
    )
    return [(s, c, i, int(n)) for s, c, i, n in rows]


def product_counts(session: Session) -> list[tuple[str, str, str, str, int]]:
    """``(status, kind, classification, industry section, products)``; a product's
    classification is its strictest source's and its industry its first source's."""
    section = func.substr(CatalogEntry.industry, 1, 1)
    rows = session.execute(
        select(Product.status, Product.kind, CatalogEntry.classification, section, func.count())
        .join(CatalogEntry, CatalogEntry.doc_id == Product.id)
        .group_by(Product.status, Product.kind, CatalogEntry.classification, section)
        .order_by(Product.status, Product.kind, CatalogEntry.classification, section)
    )
    return [(s, k, c, i, int(n)) for s, k, c, i, n in rows]
