"""Catalog (资源目录 / 产品上架): resources, products, review, search, lineage.

Other domains import only these names.
"""

from shuchang.domains.catalog.endpoints import ApiEndpoint, api_endpoint
from shuchang.domains.catalog.products import listed_offer
from shuchang.domains.catalog.schemas import ProductOut
from shuchang.domains.catalog.sources import PinnedSources, SourceVersion, pinned_sources

__all__ = [
    "ApiEndpoint",
    "PinnedSources",
    "ProductOut",
    "SourceVersion",
    "api_endpoint",
    "listed_offer",
    "pinned_sources",
]
