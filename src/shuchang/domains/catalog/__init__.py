"""Catalog (资源目录 / 产品上架): resources, products, review, search, lineage.

Other domains import only these names.
"""

from shuchang.domains.catalog.endpoints import (
    ProductSources,
    SourcePart,
    product_sources,
)
from shuchang.domains.catalog.products import listed_offer
from shuchang.domains.catalog.schemas import ProductOut

__all__ = [
    "ProductOut",
    "ProductSources",
    "SourcePart",
    "listed_offer",
    "product_sources",
]
