"""Catalog (资源目录 / 产品上架): resources, products, review, search, lineage.

Other domains import only these names.
"""

from shuchang.domains.catalog.endpoints import ApiEndpoint, api_endpoint
from shuchang.domains.catalog.products import listed_offer
from shuchang.domains.catalog.schemas import ProductOut
from shuchang.domains.catalog.sources import ProductSources, SourceVersion, product_sources

__all__ = [
    "ApiEndpoint",
    "ProductOut",
    "ProductSources",
    "SourceVersion",
    "api_endpoint",
    "listed_offer",
    "product_sources",
]
