"""Request and response shapes of the transfers management API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class PushAddress(msgspec.Struct, forbid_unknown_fields=True):
    """Where the provider pushes data (推送接收端): an http(s) URL and properties such as an
    ``authorization`` header value the provider must send."""

    endpoint: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    properties: Annotated[
        dict[Annotated[str, msgspec.Meta(max_length=63)], Text], msgspec.Meta(max_length=20)
    ] = {}


class StartTransfer(msgspec.Struct, forbid_unknown_fields=True):
    """Start a transfer under a finalized agreement this connector's participant consumes."""

    agreement_id: uuid.UUID
    transfer_type: Literal["HttpData-PULL", "HttpData-PUSH"] = "HttpData-PULL"
    data_address: PushAddress | None = None


class Reason(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text


class TransferEventOut(msgspec.Struct, frozen=True):
    direction: str
    message_type: str
    from_state: str
    to_state: str
    at: datetime


class TransferOut(msgspec.Struct, frozen=True):
    """One side's transfer process. ``data_address`` holds, for the consumer of a pull
    transfer, the endpoint and access token (shown to the parties only)."""

    id: uuid.UUID
    role: str
    state: str
    provider_pid: str | None
    consumer_pid: str
    counterparty_id: uuid.UUID
    agreement_id: uuid.UUID
    transfer_type: str
    data_address: dict[str, Any] | None
    suspended_by: str | None
    error: dict[str, Any] | None
    events: list[TransferEventOut]
    created_at: datetime
    updated_at: datetime
