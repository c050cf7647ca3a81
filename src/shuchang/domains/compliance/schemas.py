"""Request and response shapes of compliance review (合规审核)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class AnswersIn(msgspec.Struct, forbid_unknown_fields=True):
    """The provider's answers, by question id (see questionnaire.QUESTIONS)."""

    answers: dict[str, bool | str | list[str]]


class Finding(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """What the assessor found (审核意见), optionally about one question."""

    text: Text
    severity: Literal["info", "minor", "major"] = "minor"
    question: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class AssignIn(msgspec.Struct, forbid_unknown_fields=True):
    """Assign an assessor; a service firm may leave it out to take the review itself."""

    assessor_id: uuid.UUID | None = None


class AssessorDecision(msgspec.Struct, forbid_unknown_fields=True):
    decision: Literal["pass", "fail", "request_changes"]
    findings: Annotated[list[Finding], msgspec.Meta(max_length=50)] = []


class CertificateOut(msgspec.Struct, frozen=True):
    number: str
    status: str
    issued_at: datetime
    valid_until: datetime
    digest: str
    evidence_id: int


class ReviewOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    product_id: uuid.UUID
    provider_id: uuid.UUID
    questionnaire: str
    answers: dict[str, Any]
    sources: list[dict[str, Any]]
    status: str
    assessor_id: uuid.UUID | None
    findings: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    certificate: CertificateOut | None


class ProductCompliance(msgspec.Struct, frozen=True):
    """What a product's page and the listing reviewer see (合规状态).

    ``status``: ``none`` (never reviewed), the open round's status, ``passed`` (a valid
    certificate of the product's current sources), ``stale`` (passed, but the sources changed
    or the certificate ended since) or ``failed``.
    """

    product_id: uuid.UUID
    status: str
    current: bool
    review: ReviewOut | None
