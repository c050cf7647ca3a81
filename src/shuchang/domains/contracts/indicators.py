"""Agreements as supervision counts them (监管统计): one row per signed agreement, deduplicated
when both connectors of a negotiation run on this platform (each side stores its copy)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.domains.contracts.models import Agreement


@dataclass(frozen=True)
class AgreementFacts:
    id: uuid.UUID
    document_id: str
    product_id: uuid.UUID | None
    status: str
    price_model: str
    price_fen: int
    price_period: str | None
    valid_from: datetime
    valid_until: datetime
    created_at: datetime


def agreement_facts(session: Session) -> list[AgreementFacts]:
    """Every agreement once (by its document ``@id``), oldest first."""
    rows = session.execute(
        select(
            Agreement.id,
            Agreement.document["@id"].as_string(),
            Agreement.product_id,
            Agreement.status,
            Agreement.price_model,
            Agreement.price_fen,
            Agreement.document[("shuchang:price", "period")].as_string(),
            Agreement.valid_from,
            Agreement.valid_until,
            Agreement.created_at,
        ).order_by(Agreement.created_at, Agreement.id)
    )
    seen: set[str] = set()
    out = []
    for row in rows:
        facts = AgreementFacts(*row)
        key = facts.document_id or str(facts.id)
        if key not in seen:
            seen.add(key)
            out.append(facts)
    return out
