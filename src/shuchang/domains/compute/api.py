"""Routes of the compute domain (隐私计算): profiles, jobs, budgets, dry-run validation."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from shuchang.domains.compute import jobs, profiles, service, views
from shuchang.domains.compute.schemas import BudgetOut, JobIn, JobOut, ProfileIn, ProfileOut
from shuchang.http import actor_of, platform_of

Req = Request[Any, Any, Any]
Wait = Annotated[float | None, QueryParameter(ge=0, le=60, description="Seconds to wait")]


class CheckIn(msgspec.Struct, forbid_unknown_fields=True):
    agreement_id: uuid.UUID
    sql: str | None = None
    template: str | None = None
    params: dict[str, str | int] = {}


class CheckOut(msgspec.Struct, frozen=True):
    normalised_sql: str
    columns: list[str]
    cells: int


class ProfileController(Controller):
    path = "/api/v1/compute/profiles"
    tags = ["compute"]

    @put("/{product_id:uuid}", sync_to_thread=True, summary="Set a product's compute profile")
    def put_profile(
        self, request: Req, product_id: FromPath[uuid.UUID], data: JSONBody[ProfileIn]
    ) -> ProfileOut:
        """Provider: the approved table, person column, dimensions with public domains,
        clamped measures, templates, k, contribution bound, mechanism and ε caps."""
        with platform_of(request).unit() as s:
            return profiles.set_profile(s, actor_of(s, request), product_id, data)

    @get("/{product_id:uuid}", sync_to_thread=True)
    def get_profile(self, request: Req, product_id: FromPath[uuid.UUID]) -> ProfileOut:
        with platform_of(request).unit(write=False) as s:
            return profiles.get_profile(s, actor_of(s, request), product_id)


class JobController(Controller):
    path = "/api/v1/compute/jobs"
    tags = ["compute"]

    @post("/", sync_to_thread=True, summary="Run an approved computation under an agreement")
    def submit(self, request: Req, data: JSONBody[JobIn], wait: Wait = None) -> Response[JobOut]:
        """200 with the answer when it finishes within ``wait`` seconds (default
        ``SHUCHANG_COMPUTE_WAIT_SECONDS``), else 202 with the running job to poll."""
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            actor = actor_of(s, request)
        seconds = platform.settings.compute_wait_seconds if wait is None else wait
        out = service.submit(platform, actor, data, wait=seconds)
        return Response(out, status_code=202 if out.state in ("queued", "running") else 200)

    @get("/", sync_to_thread=True)
    def list_(
        self,
        request: Req,
        product_id: Annotated[uuid.UUID | None, QueryParameter()] = None,
        agreement_id: Annotated[uuid.UUID | None, QueryParameter()] = None,
        in_state: Annotated[str | None, QueryParameter(name="state", max_length=16)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> list[JobOut]:
        """A consumer's jobs, a provider's job log, or all of them for oversight."""
        with platform_of(request).unit(write=False) as s:
            return views.list_jobs(
                s,
                actor_of(s, request),
                product_id=product_id,
                agreement_id=agreement_id,
                state=in_state,
                limit=limit,
            )

    @get("/{job_id:uuid}", sync_to_thread=True)
    def detail(self, request: Req, job_id: FromPath[uuid.UUID], wait: Wait = None) -> JobOut:
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            actor = actor_of(s, request)
        return service.show(platform, actor, job_id, wait=wait or 0)

    @post("/{job_id:uuid}/cancel", sync_to_thread=True, status_code=200)
    def cancel(self, request: Req, job_id: FromPath[uuid.UUID]) -> JobOut:
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            actor = actor_of(s, request)
        return service.cancel(platform, actor, job_id)

    @post("/check", sync_to_thread=True, status_code=200, summary="Validate without running")
    def check(self, request: Req, data: JSONBody[CheckIn]) -> CheckOut:
        """The normalised query and its output shape, or the rejection with its reason;
        nothing runs, nothing is spent."""
        with platform_of(request).unit(write=False) as s:
            actor = actor_of(s, request)
            job = JobIn(data.agreement_id, data.sql, data.template, data.params)
            return CheckOut(*jobs.dry_run(s, actor, job))


class BudgetController(Controller):
    path = "/api/v1/compute/agreements"
    tags = ["compute"]

    @get("/{agreement_id:uuid}/budget", sync_to_thread=True)
    def budget(self, request: Req, agreement_id: FromPath[uuid.UUID]) -> BudgetOut:
        """The ε left this period under the agreement and for the product's lifetime."""
        with platform_of(request).unit(write=False) as s:
            return views.budget(s, actor_of(s, request), agreement_id)


ROUTES = [ProfileController, JobController, BudgetController]
