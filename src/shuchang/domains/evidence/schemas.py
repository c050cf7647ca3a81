"""Shapes the evidence domain returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class EvidenceEntry(msgspec.Struct, frozen=True):
    id: int
    kind: str
    subject: str
    actor: str
    payload: dict[str, Any]
    payload_digest: str
    recorded_at: datetime
