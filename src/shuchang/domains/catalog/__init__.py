"""Catalog (资源目录 / 产品上架): resources, products, review, search, lineage.

Other domains import only these names.
"""

from shuchang.domains.catalog.endpoints import ApiEndpoint, api_endpoint
from shuchang.domains.catalog.products import find_product, listed_offer
from shuchang.domains.catalog.schemas import Price, ProductOut, Tier

__all__ = [
    "ApiEndpoint",
    "Price",
    "ProductOut",
    "Tier",
    "api_endpoint",
    "find_product",
    "listed_offer",
]
