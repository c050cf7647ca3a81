"""HTTP routes of compliance review (合规审核): the questionnaire, rounds, the assessor's
queue and decisions, a product's compliance status and its certificate."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from shuchang.attestations import encode
from shuchang.domains.compliance import questionnaire, service, views
from shuchang.domains.compliance.schemas import (
    AnswersIn,
    AssessorDecision,
    AssignIn,
    ProductCompliance,
    ReviewOut,
)
from shuchang.http import actor_of, platform_of

Req = Request[Any, Any, Any]


class ComplianceController(Controller):
    path = "/api/v1/compliance"
    tags = ["compliance"]

    @get("/questionnaire", sync_to_thread=False, summary="The self-assessment questionnaire")
    def questions(self) -> dict[str, Any]:
        return {
            "version": questionnaire.VERSION,
            "questions": [
                {"id": q.id, "type": q.kind, "zh": q.zh, "en": q.en, "options": list(q.options)}
                for q in questionnaire.QUESTIONS
            ],
        }

    @get("/products/{product_id:uuid}", sync_to_thread=True, summary="A product's compliance")
    def product(self, request: Req, product_id: FromPath[uuid.UUID]) -> ProductCompliance:
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            return views.product_status(s, actor_of(s, request), product_id)

    @post("/products/{product_id:uuid}/reviews", status_code=201, sync_to_thread=True)
    def start(
        self, request: Req, product_id: FromPath[uuid.UUID], data: JSONBody[AnswersIn]
    ) -> ReviewOut:
        """The provider opens a round with its (possibly partial) answers."""
        with platform_of(request).unit() as s:
            return service.start(s, actor_of(s, request), product_id, data)

    @get("/reviews", sync_to_thread=True, summary="The assessors' queue, or the provider's own")
    def reviews(
        self,
        request: Req,
        status: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> list[ReviewOut]:
        with platform_of(request).unit(write=False) as s:
            actor = actor_of(s, request)
            if actor.role == "provider":
                return views.of_provider(s, actor)
            return views.queue(s, actor, status)

    @get("/reviews/{review_id:uuid}", sync_to_thread=True)
    def review(self, request: Req, review_id: FromPath[uuid.UUID]) -> ReviewOut:
        with platform_of(request).unit(write=False) as s:
            return views.review_out(s, views.load(s, actor_of(s, request), review_id))

    @put("/reviews/{review_id:uuid}", sync_to_thread=True, summary="Replace the answers")
    def save(
        self, request: Req, review_id: FromPath[uuid.UUID], data: JSONBody[AnswersIn]
    ) -> ReviewOut:
        with platform_of(request).unit() as s:
            return service.save(s, actor_of(s, request), review_id, data)

    @post("/reviews/{review_id:uuid}/submit", status_code=200, sync_to_thread=True)
    def submit(self, request: Req, review_id: FromPath[uuid.UUID]) -> ReviewOut:
        """Answers are checked against the product's classification, then await an assessor."""
        with platform_of(request).unit() as s:
            return service.submit(s, actor_of(s, request), review_id)

    @post("/reviews/{review_id:uuid}/assign", status_code=200, sync_to_thread=True)
    def assign(
        self, request: Req, review_id: FromPath[uuid.UUID], data: JSONBody[AssignIn]
    ) -> ReviewOut:
        with platform_of(request).unit() as s:
            return service.assign(s, actor_of(s, request), review_id, data)

    @post("/reviews/{review_id:uuid}/decision", status_code=200, sync_to_thread=True)
    def decide(
        self, request: Req, review_id: FromPath[uuid.UUID], data: JSONBody[AssessorDecision]
    ) -> ReviewOut:
        """The assigned service firm passes (a certificate is issued), fails or sends back."""
        platform = platform_of(request)
        with platform.unit() as s:
            return service.decide(s, actor_of(s, request), review_id, data, platform.settings)

    @get("/reviews/{review_id:uuid}/certificate.json", sync_to_thread=True)
    def certificate(self, request: Req, review_id: FromPath[uuid.UUID]) -> Response[bytes]:
        """The signed compliance certificate (verify with `shuchang compliance verify`)."""
        with platform_of(request).unit(write=False) as s:
            document = views.certificate_document(s, actor_of(s, request), review_id)
        return Response(
            content=encode(document),
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="compliance-certificate.json"'},
        )


ROUTES = [ComplianceController]
