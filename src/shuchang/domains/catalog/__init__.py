"""Catalog (资源目录 / 产品上架): resources, products, review, search, lineage.

Other domains import only these names.
"""

from shuchang.domains.catalog.endpoints import ApiEndpoint, api_endpoint
from shuchang.domains.catalog.indicators import product_counts, resource_counts
from shuchang.domains.catalog.products import get as get_product
from shuchang.domains.catalog.products import listed_offer
from shuchang.domains.catalog.resources import get as get_resource
from shuchang.domains.catalog.schemas import ProductOut, ResourceOut

__all__ = [
    "ApiEndpoint",
    "ProductOut",
    "ResourceOut",
    "api_endpoint",
    "get_product",
    "get_resource",
    "listed_offer",
    "product_counts",
    "resource_counts",
]
