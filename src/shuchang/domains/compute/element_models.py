"""Tables of data elements (数据元件): definitions and their runs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from shuchang.db import Base, UTCDateTime, new_id, utcnow


class ElementDefinition(Base):
    """A provider's transformation from its own resources into a de-identified dataset:
    SQL over the sources (as tables named by alias), de-identification steps, the declared
    quasi-identifiers and k. ``secret`` keys the keyed hashes and never leaves the provider."""

    __tablename__ = "compute_element_definitions"
    __table_args__ = (UniqueConstraint("provider_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    revision: Mapped[int] = mapped_column(Integer)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    sql: Mapped[str] = mapped_column(Text)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    quasi_identifiers: Mapped[list[str]] = mapped_column(JSON)
    k: Mapped[int] = mapped_column(Integer)
    on_violation: Mapped[str] = mapped_column(String(16))
    secret: Mapped[str] = mapped_column(String(64))
    output_resource_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ElementRun(Base):
    """One run of a definition revision: what went in, what came out, the k-anonymity report.

    A failed run keeps its error and no output (no file, no resource version)."""

    __tablename__ = "compute_element_runs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    definition_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("compute_element_definitions.id"), index=True
    )
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128))
    inputs: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    rows_in: Mapped[int | None] = mapped_column(Integer)
    rows_out: Mapped[int | None] = mapped_column(Integer)
    suppressed: Mapped[int | None] = mapped_column(Integer)
    k_report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    columns: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    output_path: Mapped[str | None] = mapped_column(String(500))
    sha256: Mapped[str | None] = mapped_column(String(64))
    sm3: Mapped[str | None] = mapped_column(String(64))
    resource_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    resource_version: Mapped[int | None] = mapped_column(Integer)
    product_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
