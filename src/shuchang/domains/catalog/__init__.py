"""Catalog (资源目录 / 产品上架): resources, products, review, search, lineage.

Other domains import only these names.
"""

from shuchang.domains.catalog.endpoints import (
    ProductSources,
    SourcePart,
    product_sources,
)
from shuchang.domains.catalog.indicators import product_counts, resource_counts
from shuchang.domains.catalog.products import create as create_product
from shuchang.domains.catalog.products import find_product, listed_offer
from shuchang.domains.catalog.products import get as get_product
from shuchang.domains.catalog.products import submit as submit_product
from shuchang.domains.catalog.resources import get as get_resource
from shuchang.domains.catalog.resources import register as register_resource
from shuchang.domains.catalog.resources import revise as revise_resource
from shuchang.domains.catalog.schemas import (
    Price,
    ProductIn,
    ProductOut,
    ResourceIn,
    ResourceOut,
    Tier,
)
from shuchang.domains.catalog.sources import PinnedSources, SourceVersion, pinned_sources

__all__ = [
    "PinnedSources",
    "Price",
    "ProductIn",
    "ProductOut",
    "ProductSources",
    "ResourceIn",
    "ResourceOut",
    "SourcePart",
    "SourceVersion",
    "Tier",
    "create_product",
    "find_product",
    "get_product",
    "get_resource",
    "listed_offer",
    "pinned_sources",
    "product_counts",
    "product_sources",
    "register_resource",
    "resource_counts",
    "revise_resource",
    "submit_product",
]
