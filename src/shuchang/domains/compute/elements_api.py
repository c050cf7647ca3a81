"""Management API of data elements (数据元件): define, revise, run, list as a product."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody

from shuchang.domains.catalog import ProductOut
from shuchang.domains.compute import element_runs, elements
from shuchang.domains.compute.element_runner import ProcessRunner, Runner
from shuchang.domains.compute.element_schemas import (
    ElementIn,
    ElementListing,
    ElementOut,
    ElementRunOut,
)
from shuchang.http import actor_of, platform_of

Req = Request[Any, Any, Any]
RUNNER: Runner = ProcessRunner()  # the lead may swap in the compute engine's sandbox here


class ElementController(Controller):
    path = "/api/v1/compute/elements"
    tags = ["compute"]

    @post("/", sync_to_thread=True, status_code=201)
    def define(self, request: Req, data: JSONBody[ElementIn]) -> ElementOut:
        """Define a data element; it is checked by a dry run over the sources' schemas."""
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            actor = actor_of(s, request)
        return elements.define(platform.unit, platform.settings, actor, data, RUNNER)

    @get("/", sync_to_thread=True)
    def list_own(self, request: Req) -> list[ElementOut]:
        with platform_of(request).unit(write=False) as s:
            return elements.list_own(s, actor_of(s, request))

    @get("/{element_id:uuid}", sync_to_thread=True)
    def detail(self, request: Req, element_id: FromPath[uuid.UUID]) -> ElementOut:
        with platform_of(request).unit(write=False) as s:
            return elements.get(s, actor_of(s, request), element_id)

    @put("/{element_id:uuid}", sync_to_thread=True)
    def revise(
        self, request: Req, element_id: FromPath[uuid.UUID], data: JSONBody[ElementIn]
    ) -> ElementOut:
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            actor = actor_of(s, request)
        return elements.revise(
            platform.unit, platform.settings, actor, element_id, data, runner=RUNNER
        )

    @post("/{element_id:uuid}/runs", sync_to_thread=True, status_code=201)
    def run(self, request: Req, element_id: FromPath[uuid.UUID]) -> ElementRunOut:
        """Run the current revision now (synchronously; the run's time limit applies)."""
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            actor = actor_of(s, request)
        return element_runs.run(platform.unit, platform.settings, actor, element_id, RUNNER)

    @get("/{element_id:uuid}/runs", sync_to_thread=True)
    def runs(self, request: Req, element_id: FromPath[uuid.UUID]) -> list[ElementRunOut]:
        with platform_of(request).unit(write=False) as s:
            return element_runs.runs(s, actor_of(s, request), element_id)

    @post("/runs/{run_id:uuid}/listing", sync_to_thread=True, status_code=201)
    def list_run(
        self, request: Req, run_id: FromPath[uuid.UUID], data: JSONBody[ElementListing]
    ) -> ProductOut:
        """Offer a successful run as a data_element product (a draft, submitted if asked)."""
        with platform_of(request).unit() as s:
            return element_runs.list_run(s, actor_of(s, request), run_id, data)


ROUTES = [ElementController]
