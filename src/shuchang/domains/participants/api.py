"""HTTP routes of the participants domain: parse → one service call → schema."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from shuchang.domains.participants import access, keys, service
from shuchang.domains.participants.identifiers import check_identifier
from shuchang.domains.participants.schemas import (
    AddConnector,
    AddIssuer,
    AddKey,
    ApiKeyOut,
    CheckIdentifiers,
    ConnectorOut,
    IdentifierResult,
    IssuedApiKey,
    IssuerOut,
    KeyOut,
    NewApiKey,
    ParticipantDetail,
    ParticipantOut,
    ParticipantPage,
    PresentCredential,
    RegisterParticipant,
    Registration,
    RevokeCredential,
    StatusChange,
)
from shuchang.http import actor_of, optional_actor, platform_of

Req = Request[Any, Any, Any]
Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Query = Annotated[str | None, QueryParameter(max_length=100)]


class ParticipantController(Controller):
    path = "/api/v1/participants"
    tags = ["participants"]

    @post("/", status_code=201, sync_to_thread=True, summary="Register (接入申请)")
    def register(self, request: Req, data: JSONBody[RegisterParticipant]) -> Registration:
        platform = platform_of(request)
        with platform.unit() as s:
            return service.register(s, optional_actor(s, request), data, platform.rules)

    @get("/", sync_to_thread=True, summary="Search participants")
    def search(  # noqa: PLR0917 - Litestar binds query parameters by name
        self,
        request: Req,
        q: Query = None,
        kind: Query = None,
        status: Query = None,
        role: Query = None,
        region: Query = None,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Limit = 50,
    ) -> ParticipantPage:
        with platform_of(request).unit(write=False) as s:
            return service.search(
                s, actor_of(s, request), q=q, kind=kind, status=status, role=role,
                region=region, cursor=cursor, limit=limit,
            )  # fmt: skip

    @get("/{participant_id:uuid}", summary="Look a participant up")
    async def lookup(self, request: Req, participant_id: FromPath[uuid.UUID]) -> ParticipantOut:
        return await platform_of(request).read(
            lambda s: service.get(s, actor_of(s, request), participant_id)
        )

    @get("/{participant_id:uuid}/verification", sync_to_thread=True)
    def verification(self, request: Req, participant_id: FromPath[uuid.UUID]) -> ParticipantDetail:
        """The participant with every verification step's result and reason."""
        with platform_of(request).unit(write=False) as s:
            return service.detail(s, actor_of(s, request, allow_inactive=True), participant_id)

    @post("/{participant_id:uuid}/status", sync_to_thread=True, status_code=200)
    def change_status(
        self, request: Req, participant_id: FromPath[uuid.UUID], data: JSONBody[StatusChange]
    ) -> ParticipantOut:
        """Operator: approve, reject, suspend, reinstate or revoke."""
        with platform_of(request).unit() as s:
            return service.change_status(s, actor_of(s, request), participant_id, data)

    @post("/{participant_id:uuid}/credential", sync_to_thread=True, status_code=200)
    def present_credential(
        self, request: Req, participant_id: FromPath[uuid.UUID], data: JSONBody[PresentCredential]
    ) -> ParticipantDetail:
        """Present a credential after registration; verification runs again."""
        platform = platform_of(request)
        with platform.unit() as s:
            actor = actor_of(s, request, allow_inactive=True)
            return service.reverify(s, actor, participant_id, platform.rules, data.credential)

    @post("/{participant_id:uuid}/reverify", sync_to_thread=True, status_code=200)
    def reverify(self, request: Req, participant_id: FromPath[uuid.UUID]) -> ParticipantDetail:
        """Operator: run verification again, e.g. after trusting a new issuer."""
        platform = platform_of(request)
        with platform.unit() as s:
            return service.reverify(s, actor_of(s, request), participant_id, platform.rules)

    @get("/{participant_id:uuid}/keys", sync_to_thread=True)
    def list_keys(self, request: Req, participant_id: FromPath[uuid.UUID]) -> list[KeyOut]:
        with platform_of(request).unit(write=False) as s:
            return keys.list_participant_keys(s, actor_of(s, request), participant_id)

    @post("/{participant_id:uuid}/keys", sync_to_thread=True, status_code=201)
    def add_key(
        self, request: Req, participant_id: FromPath[uuid.UUID], data: JSONBody[AddKey]
    ) -> KeyOut:
        with platform_of(request).unit() as s:
            return keys.add_key(s, actor_of(s, request), participant_id, data)

    @post("/{participant_id:uuid}/keys/{key_id:uuid}/rotate", sync_to_thread=True, status_code=201)
    def rotate_key(
        self,
        request: Req,
        participant_id: FromPath[uuid.UUID],
        key_id: FromPath[uuid.UUID],
        data: JSONBody[AddKey],
    ) -> KeyOut:
        with platform_of(request).unit() as s:
            return keys.rotate_key(s, actor_of(s, request), participant_id, key_id, data)

    @post("/{participant_id:uuid}/keys/{key_id:uuid}/revoke", sync_to_thread=True, status_code=200)
    def revoke_key(
        self, request: Req, participant_id: FromPath[uuid.UUID], key_id: FromPath[uuid.UUID]
    ) -> KeyOut:
        with platform_of(request).unit() as s:
            return keys.revoke_participant_key(s, actor_of(s, request), participant_id, key_id)

    @get("/{participant_id:uuid}/api-keys", sync_to_thread=True)
    def list_api_keys(self, request: Req, participant_id: FromPath[uuid.UUID]) -> list[ApiKeyOut]:
        with platform_of(request).unit(write=False) as s:
            access.require_self_or(actor_of(s, request), participant_id, "operator")
            return access.list_keys(s, participant_id)

    @post("/{participant_id:uuid}/api-keys", sync_to_thread=True, status_code=201)
    def issue_api_key(
        self, request: Req, participant_id: FromPath[uuid.UUID], data: JSONBody[NewApiKey]
    ) -> IssuedApiKey:
        """Issue an API key for one of the participant's roles; the secret is shown once."""
        with platform_of(request).unit() as s:
            actor = actor_of(s, request)
            access.require_self_or(actor, participant_id, "operator")
            return access.issue_key(
                s, actor, service.load(s, participant_id), data.role, data.label
            )

    @get("/{participant_id:uuid}/connectors", sync_to_thread=True)
    def list_connectors(
        self, request: Req, participant_id: FromPath[uuid.UUID]
    ) -> list[ConnectorOut]:
        with platform_of(request).unit(write=False) as s:
            actor_of(s, request)
            return keys.list_connectors(s, participant_id)

    @post("/{participant_id:uuid}/connectors", sync_to_thread=True, status_code=201)
    def add_connector(
        self, request: Req, participant_id: FromPath[uuid.UUID], data: JSONBody[AddConnector]
    ) -> ConnectorOut:
        with platform_of(request).unit() as s:
            return keys.add_connector(s, actor_of(s, request), participant_id, data)


class AccessController(Controller):
    path = "/api/v1"
    tags = ["access"]

    @get("/me", sync_to_thread=True, summary="Who am I (works while pending)")
    def me(self, request: Req) -> ParticipantDetail:
        with platform_of(request).unit(write=False) as s:
            actor = actor_of(s, request, allow_inactive=True)
            assert actor.participant_id is not None
            return service.detail(s, actor, actor.participant_id)

    @post("/api-keys/{key_id:uuid}/revoke", sync_to_thread=True, status_code=200)
    def revoke_api_key(self, request: Req, key_id: FromPath[uuid.UUID]) -> ApiKeyOut:
        with platform_of(request).unit() as s:
            return access.revoke_key(s, actor_of(s, request), key_id)

    @post("/identifiers/check", sync_to_thread=True, status_code=200, tags=["participants"])
    def check_identifiers(self, data: JSONBody[CheckIdentifiers]) -> list[IdentifierResult]:
        """Check USCC / resident-ID codes (public; same as `shuchang verify-id`)."""
        return [identifier_result(code) for code in data.codes]


class IssuerController(Controller):
    path = "/api/v1/trusted-issuers"
    tags = ["participants"]

    @get("/", sync_to_thread=True)
    def list_issuers(self, request: Req) -> list[IssuerOut]:
        with platform_of(request).unit(write=False) as s:
            actor_of(s, request)
            return keys.list_issuers(s)

    @post("/", sync_to_thread=True, status_code=201)
    def add_issuer(self, request: Req, data: JSONBody[AddIssuer]) -> IssuerOut:
        with platform_of(request).unit() as s:
            return keys.add_issuer(s, actor_of(s, request), data)

    @post("/{issuer_id:str}/revoke", sync_to_thread=True, status_code=200)
    def revoke_issuer(self, request: Req, issuer_id: FromPath[str]) -> IssuerOut:
        with platform_of(request).unit() as s:
            return keys.revoke_issuer(s, actor_of(s, request), issuer_id)

    @post("/{issuer_id:str}/revoked-credentials", sync_to_thread=True, status_code=204)
    def revoke_credential(
        self, request: Req, issuer_id: FromPath[str], data: JSONBody[RevokeCredential]
    ) -> None:
        with platform_of(request).unit() as s:
            keys.revoke_credential(s, actor_of(s, request), issuer_id, data)


def identifier_result(code: str) -> IdentifierResult:
    checked = check_identifier(code)
    return IdentifierResult(
        code=code, kind=checked.kind, valid=checked.valid, reason=checked.reason
    )


ROUTES = [ParticipantController, AccessController, IssuerController]
