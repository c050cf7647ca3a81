"""Shapes of supervision (监管): indicator tables, the dashboard, audit runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

Cell = str | int | None


class Table(msgspec.Struct, frozen=True):
    """One indicator as a table: what the console charts, the API returns and CSV exports."""

    name: str
    title_zh: str
    title_en: str
    columns: list[str]
    columns_zh: list[str]
    rows: list[list[Cell]]
    note_zh: str = ""
    note_en: str = ""
    available: bool = True


class LogFacts(msgspec.Struct, frozen=True):
    size: int
    pending: int
    checkpoint_size: int | None
    checkpoint_at: datetime | None


class AuditOut(msgspec.Struct, frozen=True):
    id: int
    ran_at: datetime
    actor: str
    ok: bool
    size: int
    checkpoints: int
    findings: int
    detail: list[dict[str, Any]]
    duration_ms: int


class Dashboard(msgspec.Struct, frozen=True):
    """Every indicator at one moment (``at``), with headline figures for the cards."""

    at: datetime
    headline: dict[str, int]
    log: LogFacts
    last_audit: AuditOut | None
    tables: list[Table]
