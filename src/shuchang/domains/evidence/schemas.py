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


class LoggedEntry(msgspec.Struct, frozen=True):
    """An evidence entry and where it sits in the log (``leaf_index`` None until sequenced)."""

    entry: EvidenceEntry
    leaf_index: int | None
    leaf_data: str | None  # base64 of the canonical leaf bytes
    leaf_hash: str | None  # base64 RFC 9162 leaf hash


class LogStatus(msgspec.Struct, frozen=True):
    origin: str
    verifier_key: str
    size: int
    pending: int
    checkpoint: str | None
    checkpoint_size: int | None
    published_at: datetime | None
    cosignatures: int


class ConsistencyOut(msgspec.Struct, frozen=True):
    size1: int
    size2: int
    proof: list[str]  # base64 hashes, RFC 9162 §2.1.4 order


class AuditFinding(msgspec.Struct, frozen=True):
    kind: str
    index: int | None
    detail: str


class AuditOut(msgspec.Struct, frozen=True):
    ok: bool
    size: int
    checkpoints: int
    findings: list[AuditFinding]
