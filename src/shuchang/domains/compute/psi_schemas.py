"""Request and response shapes of PSI sessions (management API, CLI, console)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

Mode = Literal["cardinality", "intersection", "filter"]
NormalizationName = Literal["uscc", "resident_id", "mobile", "email", "text"]


class PsiStart(msgspec.Struct, forbid_unknown_fields=True):
    """The consumer starts a session: its identifiers as a list or as CSV text."""

    agreement_id: uuid.UUID
    mode: Mode = "cardinality"
    protocol: Literal["ecdh", "rr22"] = "ecdh"
    normalization: NormalizationName = "uscc"
    identifiers: Annotated[list[str], msgspec.Meta(max_length=2_000_000)] = []
    csv: str | None = None
    column: Annotated[str, msgspec.Meta(min_length=1, max_length=63)] | None = None
    identifier_field: (
        Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")] | None
    ) = None


class PsiEventOut(msgspec.Struct, frozen=True):
    direction: str
    message_type: str
    from_state: str
    to_state: str
    body_digest: str
    bytes: int
    at: datetime


class PsiSessionOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    role: str
    state: str
    mode: str
    protocol: str
    normalization: str
    agreement_id: uuid.UUID
    counterparty_id: uuid.UUID
    provider_pid: str | None
    consumer_pid: str
    identifier_field: str | None
    local_size: int | None
    peer_size: int | None
    result_size: int | None
    local_digest: str | None
    result_digest: str | None
    rejected: int | None
    filter_name: str | None
    members_available: bool
    error: dict[str, Any] | None
    bytes_sent: int
    bytes_received: int
    deadline: datetime
    created_at: datetime
    updated_at: datetime
    events: list[PsiEventOut]
