"""Catalog (资源目录 / 产品上架): resources, products, review, search, lineage.

Other domains import only these names.
"""

from shuchang.domains.catalog.endpoints import ApiEndpoint, api_endpoint
from shuchang.domains.catalog.products import listed_offer
from shuchang.domains.catalog.schemas import ProductOut

__all__ = ["ApiEndpoint", "ProductOut", "api_endpoint", "listed_offer"]
