"""HTTP routes of the data-asset registry (数据资产登记): applications, review, certificates
(JSON, evidence bundle, PDF), valuations and pledges."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from shuchang.domains.assets import documents, holdings, lifecycle, service, views
from shuchang.domains.assets.schemas import (
    AssetApplication,
    AssetDecision,
    AssetDetail,
    AssetRevision,
    CertificateOut,
    EndCertificate,
    IssuerOut,
    PledgeIn,
    PledgeOut,
    PledgeRelease,
    RegistrationOut,
    ValuationIn,
    ValuationOut,
)
from shuchang.http import actor_of, platform_of

Req = Request[Any, Any, Any]


def _file(body: bytes, media_type: str, name: str) -> Response[bytes]:
    return Response(
        content=body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class AssetController(Controller):
    path = "/api/v1/assets"
    tags = ["assets"]

    @post("/", status_code=201, sync_to_thread=True, summary="Apply to register (登记申请)")
    def apply(self, request: Req, data: JSONBody[AssetApplication]) -> RegistrationOut:
        platform = platform_of(request)
        with platform.unit() as s:
            return service.apply(s, actor_of(s, request), data, platform.settings)

    @get("/", sync_to_thread=True, summary="Registrations the caller may see")
    def listing(
        self,
        request: Req,
        status: Annotated[str | None, QueryParameter(max_length=16)] = None,
        holder: Annotated[uuid.UUID | None, QueryParameter()] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 200,
    ) -> list[RegistrationOut]:
        with platform_of(request).unit(write=False) as s:
            actor = actor_of(s, request)
            return views.listing(s, actor, status=status, holder_id=holder, limit=limit)

    @get("/issuer", sync_to_thread=True, summary="The issuer key certificates are signed with")
    def issuer(self, request: Req) -> IssuerOut:
        return documents.issuer_key(platform_of(request).settings)

    @get("/certificates/{number:str}", sync_to_thread=True, summary="Certificate status by number")
    def by_number(self, request: Req, number: FromPath[str]) -> CertificateOut:
        with platform_of(request).unit(write=False) as s:
            actor_of(s, request)
            return documents.status_of(s, number)

    @get("/pledges", sync_to_thread=True, summary="Pledges in the caller's favour")
    def my_pledges(self, request: Req) -> list[PledgeOut]:
        with platform_of(request).unit(write=False) as s:
            return holdings.pledges_to(s, actor_of(s, request))

    @post("/pledges/{pledge_id:uuid}/release", status_code=200, sync_to_thread=True)
    def release(
        self, request: Req, pledge_id: FromPath[uuid.UUID], data: JSONBody[PledgeRelease]
    ) -> PledgeOut:
        """The pledgee (or the operator) releases a pledge (解除质押)."""
        with platform_of(request).unit() as s:
            return holdings.release(s, actor_of(s, request), pledge_id, data)

    @get("/{registration_id:uuid}", sync_to_thread=True)
    def detail(self, request: Req, registration_id: FromPath[uuid.UUID]) -> AssetDetail:
        with platform_of(request).unit(write=False) as s:
            return views.detail(s, actor_of(s, request), registration_id)

    @put("/{registration_id:uuid}", sync_to_thread=True, summary="Revise a returned application")
    def revise(
        self, request: Req, registration_id: FromPath[uuid.UUID], data: JSONBody[AssetRevision]
    ) -> RegistrationOut:
        platform = platform_of(request)
        with platform.unit() as s:
            return service.revise(s, actor_of(s, request), registration_id, data, platform.settings)

    @post("/{registration_id:uuid}/withdraw", status_code=200, sync_to_thread=True)
    def withdraw(self, request: Req, registration_id: FromPath[uuid.UUID]) -> RegistrationOut:
        with platform_of(request).unit() as s:
            return service.withdraw(s, actor_of(s, request), registration_id)

    @post("/{registration_id:uuid}/review", status_code=200, sync_to_thread=True)
    def review(
        self, request: Req, registration_id: FromPath[uuid.UUID], data: JSONBody[AssetDecision]
    ) -> RegistrationOut:
        """Approve (the certificate is issued) or return with reasons."""
        platform = platform_of(request)
        with platform.unit() as s:
            return service.review(s, actor_of(s, request), registration_id, data, platform.settings)

    @post("/{registration_id:uuid}/revoke", status_code=200, sync_to_thread=True)
    def revoke(
        self, request: Req, registration_id: FromPath[uuid.UUID], data: JSONBody[EndCertificate]
    ) -> RegistrationOut:
        with platform_of(request).unit() as s:
            return lifecycle.revoke(s, actor_of(s, request), registration_id, data.reason)

    @post("/{registration_id:uuid}/cancel", status_code=200, sync_to_thread=True)
    def cancel(
        self, request: Req, registration_id: FromPath[uuid.UUID], data: JSONBody[EndCertificate]
    ) -> RegistrationOut:
        with platform_of(request).unit() as s:
            return lifecycle.cancel(s, actor_of(s, request), registration_id, data.reason)

    @get("/{registration_id:uuid}/certificate.json", sync_to_thread=True)
    def certificate_json(
        self, request: Req, registration_id: FromPath[uuid.UUID]
    ) -> Response[bytes]:
        """The signed certificate, byte for byte as it is verified (RFC 8785)."""
        with platform_of(request).unit(write=False) as s:
            body = documents.signed(s, actor_of(s, request), registration_id)
        return _file(body, "application/json", "certificate.json")

    @get("/{registration_id:uuid}/evidence.json", sync_to_thread=True)
    def evidence_json(self, request: Req, registration_id: FromPath[uuid.UUID]) -> Response[bytes]:
        """The issuance's evidence bundle: payload, leaf and tlog-proof receipt."""
        with platform_of(request).unit(write=False) as s:
            body = documents.evidence_bundle(s, actor_of(s, request), registration_id)
        return _file(body, "application/json", "evidence.json")

    @get("/{registration_id:uuid}/certificate.pdf", sync_to_thread=True)
    def certificate_pdf(
        self, request: Req, registration_id: FromPath[uuid.UUID]
    ) -> Response[bytes]:
        with platform_of(request).unit(write=False) as s:
            name, body = documents.certificate_pdf(s, actor_of(s, request), registration_id)
        return _file(body, "application/pdf", name)

    @post("/{registration_id:uuid}/valuations", status_code=201, sync_to_thread=True)
    def value(
        self, request: Req, registration_id: FromPath[uuid.UUID], data: JSONBody[ValuationIn]
    ) -> ValuationOut:
        """A service firm records a valuation (价值评估)."""
        with platform_of(request).unit() as s:
            return holdings.value(s, actor_of(s, request), registration_id, data)

    @post("/{registration_id:uuid}/pledges", status_code=201, sync_to_thread=True)
    def pledge(
        self, request: Req, registration_id: FromPath[uuid.UUID], data: JSONBody[PledgeIn]
    ) -> PledgeOut:
        """The holder (or the operator) registers a pledge (质押登记)."""
        with platform_of(request).unit() as s:
            return holdings.pledge(s, actor_of(s, request), registration_id, data)


ROUTES = [AssetController]
