"""HTTP routes of the catalog: resources, products, review, search, lineage, bulk import."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter, RawBody
from sqlalchemy.orm import Session

from shuchang.domains import compliance
from shuchang.domains.catalog import bulk, products, resources, search
from shuchang.domains.catalog.schemas import (
    ImportReport,
    Lineage,
    ProductIn,
    ProductOut,
    ResourceIn,
    ResourceOut,
    ReviewDecision,
    ReviewOut,
    SearchPage,
    VersionOut,
)
from shuchang.errors import InvalidInput
from shuchang.http import actor_of, platform_of

Req = Request[Any, Any, Any]
Filter = Annotated[str | None, QueryParameter(max_length=100)]
OVERSIGHT = ("operator", "regulator")


class ResourceController(Controller):
    path = "/api/v1/catalog/resources"
    tags = ["catalog"]

    @post("/", status_code=201, sync_to_thread=True, summary="Register a data resource (资源登记)")
    def register(self, request: Req, data: JSONBody[ResourceIn]) -> ResourceOut:
        with platform_of(request).unit() as s:
            return resources.register(s, actor_of(s, request), data)

    @get("/{resource_id:uuid}")
    async def lookup(
        self,
        request: Req,
        resource_id: FromPath[uuid.UUID],
        version: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> ResourceOut:
        return await platform_of(request).read_rows(
            lambda c: resources.get(c, actor_of(c, request), resource_id, version)
        )

    @put("/{resource_id:uuid}", sync_to_thread=True, summary="Register a new version")
    def revise(
        self, request: Req, resource_id: FromPath[uuid.UUID], data: JSONBody[ResourceIn]
    ) -> ResourceOut:
        with platform_of(request).unit() as s:
            return resources.revise(s, actor_of(s, request), resource_id, data)

    @get("/{resource_id:uuid}/versions", sync_to_thread=True)
    def versions(self, request: Req, resource_id: FromPath[uuid.UUID]) -> list[VersionOut]:
        with platform_of(request).unit(write=False) as s:
            return resources.versions(s, actor_of(s, request), resource_id)

    @get("/{resource_id:uuid}/lineage", sync_to_thread=True, summary="Products made from it")
    def lineage(self, request: Req, resource_id: FromPath[uuid.UUID]) -> Lineage:
        with platform_of(request).unit(write=False) as s:
            actor = actor_of(s, request)
            resources.get(s, actor, resource_id)
            reviewers = platform_of(request).settings.reviewers
            return products.lineage_of_resource(s, actor, resource_id, reviewers)

    @post(
        "/import", status_code=200, sync_to_thread=True, summary="Bulk import (JSON array or CSV)"
    )
    def bulk_import(
        self,
        request: Req,
        body: RawBody,
        partial: Annotated[bool, QueryParameter()] = False,
        format: Annotated[Literal["json", "csv"], QueryParameter()] = "json",
    ) -> ImportReport:
        """All-or-nothing unless ``partial=true``; every bad row is reported with its field."""
        rows = bulk.parse_csv(body) if format == "csv" else bulk.parse_json(body)
        with platform_of(request).unit() as s:
            return bulk.import_resources(s, actor_of(s, request), rows, partial=partial)


class ProductController(Controller):
    path = "/api/v1/catalog/products"
    tags = ["catalog"]

    @post("/", status_code=201, sync_to_thread=True, summary="Draft a product (产品上架)")
    def create(self, request: Req, data: JSONBody[ProductIn]) -> ProductOut:
        with platform_of(request).unit() as s:
            return products.create(s, actor_of(s, request), data)

    @get("/{product_id:uuid}")
    async def lookup(self, request: Req, product_id: FromPath[uuid.UUID]) -> ProductOut:
        platform = platform_of(request)
        return await platform.read(
            lambda s: products.get(s, actor_of(s, request), product_id, platform.settings.reviewers)
        )

    @put(
        "/{product_id:uuid}",
        sync_to_thread=True,
        summary="Edit a draft, returned or delisted product",
    )
    def update(
        self, request: Req, product_id: FromPath[uuid.UUID], data: JSONBody[ProductIn]
    ) -> ProductOut:
        with platform_of(request).unit() as s:
            return products.update(s, actor_of(s, request), product_id, data)

    @post("/{product_id:uuid}/submit", status_code=200, sync_to_thread=True)
    def submit(self, request: Req, product_id: FromPath[uuid.UUID]) -> ProductOut:
        """Run the automatic listing checks; passing products wait for a reviewer."""
        with platform_of(request).unit() as s:
            return products.submit(s, actor_of(s, request), product_id)

    @post("/{product_id:uuid}/review", status_code=200, sync_to_thread=True)
    def review(
        self, request: Req, product_id: FromPath[uuid.UUID], data: JSONBody[ReviewDecision]
    ) -> ProductOut:
        platform = platform_of(request)
        with platform.unit() as s:
            gate = (
                compliance.require_passed if platform.settings.listing_requires_compliance else None
            )
            return products.review(
                s, actor_of(s, request), product_id, data, platform.settings.reviewers, gate=gate
            )

    @post("/{product_id:uuid}/delist", status_code=200, sync_to_thread=True)
    def delist(
        self,
        request: Req,
        product_id: FromPath[uuid.UUID],
        reason: Annotated[str | None, QueryParameter(max_length=500)] = None,
    ) -> ProductOut:
        with platform_of(request).unit() as s:
            return products.delist(s, actor_of(s, request), product_id, reason)

    @get("/{product_id:uuid}/reviews", sync_to_thread=True)
    def reviews(self, request: Req, product_id: FromPath[uuid.UUID]) -> list[ReviewOut]:
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            return products.history(
                s, actor_of(s, request), product_id, platform.settings.reviewers
            )

    @get("/{product_id:uuid}/lineage", sync_to_thread=True, summary="Source resources")
    def lineage(self, request: Req, product_id: FromPath[uuid.UUID]) -> Lineage:
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            actor = actor_of(s, request)
            return products.lineage_of_product(s, actor, product_id, platform.settings.reviewers)


class CatalogController(Controller):
    path = "/api/v1/catalog"
    tags = ["catalog"]

    @get("/review-queue", sync_to_thread=True)
    def review_queue(self, request: Req) -> list[ProductOut]:
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            return products.review_queue(s, actor_of(s, request), platform.settings.reviewers)

    @get("/search", summary="Full-text search with filters and facets")
    async def search(  # noqa: PLR0917 - Litestar binds each query parameter by name
        self,
        request: Req,
        q: Annotated[str | None, QueryParameter(max_length=200)] = None,
        type: Annotated[Literal["resource", "product"] | None, QueryParameter()] = None,
        kind: Filter = None,
        classification: Filter = None,
        industry: Filter = None,
        region: Filter = None,
        provider: Annotated[uuid.UUID | None, QueryParameter()] = None,
        tag: Annotated[list[str] | None, QueryParameter(max_items=5)] = None,
        price_min: Annotated[int | None, QueryParameter(ge=0)] = None,
        price_max: Annotated[int | None, QueryParameter(ge=0)] = None,
        sort: Annotated[
            Literal["relevance", "newest", "price_asc", "price_desc"], QueryParameter()
        ] = "relevance",
        cursor: Annotated[str | None, QueryParameter(max_length=500)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        facets: Annotated[bool, QueryParameter()] = True,
    ) -> SearchPage:
        if price_min is not None and price_max is not None and price_min > price_max:
            raise InvalidInput(
                "price_min is above price_max",
                "最低价高于最高价",
                code="search.price_range",
                field="price_min",
            )
        query = search.Query(
            q=q,
            doc_type=type,
            kind=kind,
            classification=classification,
            industry=industry,
            region=region,
            provider_id=provider,
            tags=tag or [],
            price_min=price_min,
            price_max=price_max,
            sort=sort,
            cursor=cursor,
            limit=limit,
            facets=facets,
        )

        def run(s: Session) -> SearchPage:
            actor = actor_of(s, request)
            return search.run(s, query, actor.participant_id, actor.role in OVERSIGHT)

        return await platform_of(request).read(run)


ROUTES = [ResourceController, ProductController, CatalogController]
