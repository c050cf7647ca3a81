"""Request and response shapes of the participants domain. ORM objects never leave it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

Kind = Literal[
    "enterprise", "public_institution", "government", "social_organisation", "individual"
]
Role = Literal["operator", "provider", "consumer", "service_firm", "regulator"]
Status = Literal["pending", "verified", "active", "rejected", "suspended", "revoked"]
Decision = Literal["verified", "rejected", "needs_review"]
Action = Literal["approve", "reject", "suspend", "reinstate", "revoke"]
Algorithm = Literal["ed25519", "sm2"]

STATUS_ZH: dict[str, str] = {
    "pending": "待审核",
    "verified": "已核验待审批",
    "active": "已启用",
    "rejected": "已驳回",
    "suspended": "已暂停",
    "revoked": "已注销",
}

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=500)]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Region = Annotated[str, msgspec.Meta(pattern=r"^[1-8]\d{5}$")]
Email = Annotated[str, msgspec.Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Url = Annotated[str, msgspec.Meta(max_length=500, pattern=r"^https?://[^\s]+$")]
PublicKeyB64 = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
IssuerId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Roles = Annotated[list[Role], msgspec.Meta(min_length=1, max_length=5)]


class RegisterParticipant(msgspec.Struct, forbid_unknown_fields=True):
    """An application to join the data space (接入申请)."""

    kind: Kind
    name: Name
    identifier: Identifier
    roles: Roles
    name_en: Name | None = None
    region: Region | None = None
    contact_email: Email | None = None
    credential: dict[str, Any] | None = None


class StatusChange(msgspec.Struct, forbid_unknown_fields=True):
    action: Action
    reason: Text | None = None


class PresentCredential(msgspec.Struct, forbid_unknown_fields=True):
    credential: dict[str, Any]


class AddKey(msgspec.Struct, forbid_unknown_fields=True):
    public_key: PublicKeyB64
    algorithm: Algorithm = "ed25519"


class NewApiKey(msgspec.Struct, forbid_unknown_fields=True):
    role: Role
    label: Label | None = None


class AddConnector(msgspec.Struct, forbid_unknown_fields=True):
    url: Url
    public_key: PublicKeyB64
    label: Label | None = None


class AddIssuer(msgspec.Struct, forbid_unknown_fields=True):
    id: IssuerId
    name: Name
    public_key: PublicKeyB64
    algorithm: Algorithm = "ed25519"


class RevokeCredential(msgspec.Struct, forbid_unknown_fields=True):
    credential_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    reason: Text | None = None


class CheckIdentifiers(msgspec.Struct, forbid_unknown_fields=True):
    codes: Annotated[list[Identifier], msgspec.Meta(min_length=1, max_length=1000)]


class StepOut(msgspec.Struct, frozen=True):
    run: int
    step: str
    result: Literal["pass", "fail", "review", "skip"]
    reason: str
    message_zh: str
    message_en: str
    at: datetime


class ParticipantOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    kind: str
    name: str
    name_en: str | None
    identifier: str
    identifier_kind: str
    region: str | None
    roles: list[str]
    status: str
    decision: str
    decision_reason: str | None
    created_at: datetime
    updated_at: datetime


class ParticipantDetail(msgspec.Struct, frozen=True):
    participant: ParticipantOut
    verification: list[StepOut]


class Registration(msgspec.Struct, frozen=True):
    """What a registrant gets back: the decision, every step's reason, and a key shown once."""

    participant: ParticipantOut
    verification: list[StepOut]
    api_key: str | None


class ParticipantPage(msgspec.Struct, frozen=True):
    items: list[ParticipantOut]
    next_cursor: str | None


class KeyOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    algorithm: str
    public_key: str
    fingerprint: str
    status: str
    replaced_by: uuid.UUID | None
    created_at: datetime
    retired_at: datetime | None


class ApiKeyOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    role: str
    prefix: str
    label: str | None
    created_at: datetime
    revoked_at: datetime | None


class IssuedApiKey(msgspec.Struct, frozen=True):
    """A new API key. ``secret`` is shown this once and never stored."""

    key: ApiKeyOut
    secret: str


class ConnectorOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    url: str
    public_key: str
    label: str | None
    created_at: datetime


class IssuerOut(msgspec.Struct, frozen=True):
    id: str
    name: str
    algorithm: str
    public_key: str
    status: str
    created_at: datetime


class IdentifierResult(msgspec.Struct, frozen=True):
    code: str
    kind: Literal["uscc", "resident_id"] | None
    valid: bool
    reason: str | None


class Actor(msgspec.Struct, frozen=True):
    """Who is acting: the authenticated participant and the role its API key carries."""

    participant_id: uuid.UUID | None
    role: Role | Literal["system", "anonymous"]
    api_key_id: uuid.UUID | None = None

    @property
    def ref(self) -> str:
        """How evidence names the actor: ``participant:<id>``, ``system`` or ``anonymous``."""
        return self.role if self.participant_id is None else f"participant:{self.participant_id}"


SYSTEM = Actor(participant_id=None, role="system")
"""The platform itself: the CLI, the demo seed and background jobs act as this."""
ANONYMOUS = Actor(participant_id=None, role="anonymous")
"""A caller without a key: it may only use public routes such as registration."""
