"""Request and response shapes of the contracts management API."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec


class StartNegotiation(msgspec.Struct, forbid_unknown_fields=True):
    """Ask a provider (registered here, with a connector) for one of its listed offers."""

    provider_id: uuid.UUID
    dataset_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    offer: dict[str, Any]


class Termination(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class EventOut(msgspec.Struct, frozen=True):
    direction: str
    message_type: str
    from_state: str
    to_state: str
    at: datetime


class NegotiationOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    role: str
    state: str
    provider_pid: str | None
    consumer_pid: str
    counterparty_id: uuid.UUID
    dataset_id: str
    offer: dict[str, Any]
    agreement_id: uuid.UUID | None
    error: dict[str, Any] | None
    events: list[EventOut]
    created_at: datetime
    updated_at: datetime


class AgreementOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    status: str
    provider_id: uuid.UUID
    consumer_id: uuid.UUID
    dataset_id: str
    purpose: str | None
    valid_from: datetime
    valid_until: datetime
    price_model: str
    price_fen: int
    document: dict[str, Any]  # the signed agreement file (`shuchang contracts verify`)
    created_at: datetime


class UseRequest(msgspec.Struct, forbid_unknown_fields=True):
    """One intended use of an agreement, as the data plane (or the consumer) describes it."""

    action: Literal["use", "read", "distribute", "aggregate", "compute", "derive"]
    purpose: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    region: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    fields: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=63)]], msgspec.Meta(max_length=500)
    ] = []
    consume: bool = False  # count this use if permitted (the data plane sets it)
    # This request continues a use counted earlier (a resumed download, docs/dataplane §6):
    # decided as that use was (one use fewer), and not counted again.
    continues: bool = False
    # A differentially private computation states the ε it would spend and what its consumer
    # already spent in the budget's current period (policy operand ``epsilon``).
    epsilon: Decimal | None = None
    epsilon_spent: Decimal | None = None

    def __post_init__(self) -> None:
        if (self.epsilon or 0) < 0 or (self.epsilon_spent or 0) < 0:
            raise ValueError("epsilon and epsilon_spent cannot be negative")


class UseDecision(msgspec.Struct, frozen=True):
    agreement_id: uuid.UUID
    action: str
    permitted: bool
    reason_zh: str
    reason_en: str
    allowed_fields: list[str] | None
    excluded_fields: list[str] | None
    remaining_uses: int | None
    uses: int
    duties: list[str]
