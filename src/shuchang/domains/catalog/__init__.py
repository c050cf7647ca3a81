"""Catalog (资源目录 / 产品上架): resources, products, review, search, lineage.

Other domains import only these names.
"""

from shuchang.domains.catalog.endpoints import ApiEndpoint, api_endpoint
from shuchang.domains.catalog.products import create as create_product
from shuchang.domains.catalog.products import listed_offer
from shuchang.domains.catalog.products import submit as submit_product
from shuchang.domains.catalog.resources import get as get_resource
from shuchang.domains.catalog.resources import register as register_resource
from shuchang.domains.catalog.resources import revise as revise_resource
from shuchang.domains.catalog.schemas import ProductIn, ProductOut, ResourceIn, ResourceOut

__all__ = [
    "ApiEndpoint",
    "ProductIn",
    "ProductOut",
    "ResourceIn",
    "ResourceOut",
    "api_endpoint",
    "create_product",
    "get_resource",
    "listed_offer",
    "register_resource",
    "revise_resource",
    "submit_product",
]
