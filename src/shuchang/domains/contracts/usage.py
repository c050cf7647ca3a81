"""Usage control (使用控制): decide each use of an agreement and count it, safely under load.

The decision itself is the policy engine's (:mod:`shuchang.policy.engine`); this module adds
what only the platform knows: the agreement must be active, the consumer must still be an
active participant (suspension takes effect on the next request), and how often the
agreement was used. Counting takes a row lock (``SELECT … FOR UPDATE`` on PostgreSQL, the
write lock on SQLite), so concurrent requests never both take the last permitted use.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains.contracts.models import Agreement, Usage
from shuchang.domains.contracts.schemas import UseDecision, UseRequest
from shuchang.domains.participants import Actor, find
from shuchang.errors import NotFound
from shuchang.policy import Context, Recipient, compiled, decide

OVERSIGHT = ("operator", "regulator", "system")
COUNTED = "use"  # the counter's key: every action is a use


def _usage_row(session: Session, agreement_id: uuid.UUID, action: str) -> Usage:
    stmt = select(Usage).where(Usage.agreement_id == agreement_id, Usage.action == action)
    row = session.scalars(stmt.with_for_update()).first()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = Usage(agreement_id=agreement_id, action=action, uses=0)
            session.add(row)
    except IntegrityError:  # created a moment ago by a concurrent request: lock that one
        row = session.scalars(stmt.with_for_update()).one()
    return row


def _denied(agreement: Agreement, request: UseRequest, zh: str, en: str) -> UseDecision:
    return UseDecision(
        agreement_id=agreement.id,
        action=request.action,
        permitted=False,
        reason_zh=zh,
        reason_en=en,
        allowed_fields=None,
        excluded_fields=None,
        remaining_uses=None,
        uses=0,
        duties=[],
    )


def decide_use(
    session: Session, actor: Actor, agreement_id: uuid.UUID, request: UseRequest
) -> UseDecision:
    """Permit or deny one use; with ``request.consume`` a permitted use is counted."""
    agreement = session.get(Agreement, agreement_id)
    parties = () if agreement is None else (agreement.provider_id, agreement.consumer_id)
    if agreement is None or (actor.participant_id not in parties and actor.role not in OVERSIGHT):
        raise NotFound("Agreement not found", "合约不存在", code="agreement.not_found")
    if agreement.status != "active":
        return _denied(
            agreement,
            request,
            f"合约状态为 {agreement.status}，不是生效中",
            f"The agreement is {agreement.status}",
        )
    consumer = find(session, agreement.consumer_id)
    if consumer is None or consumer.status != "active":
        return _denied(
            agreement,
            request,
            "使用方已被暂停或注销",
            "The consumer is no longer an active participant",
        )
    # One counter per agreement: a count limit bounds all uses, whatever the action.
    usage = _usage_row(session, agreement.id, COUNTED) if request.consume else None
    uses = usage.uses if usage is not None else _uses(session, agreement.id, COUNTED)
    context = Context(
        now=utcnow(),
        purpose=request.purpose,
        region=request.region,
        recipient=Recipient(
            kind=consumer.kind, status=consumer.status, region=consumer.region, role="consumer"
        ),
        fields=tuple(request.fields),
        uses=uses,
        agreed_at=agreement.valid_from,
    )
    decision = decide(compiled(agreement.document), request.action, context)
    if decision.permitted and usage is not None:
        usage.uses += 1
    return UseDecision(
        agreement_id=agreement.id,
        action=request.action,
        permitted=decision.permitted,
        reason_zh=decision.explain("zh-CN"),
        reason_en=decision.explain("en"),
        allowed_fields=list(decision.allowed_fields)
        if decision.allowed_fields is not None
        else None,
        excluded_fields=list(decision.excluded_fields) if decision.excluded_fields else None,
        remaining_uses=decision.remaining_uses,
        uses=uses + (1 if decision.permitted and usage else 0),
        duties=[d.action for d in decision.duties],
    )


def _uses(session: Session, agreement_id: uuid.UUID, action: str) -> int:
    found = session.scalar(
        select(Usage.uses).where(Usage.agreement_id == agreement_id, Usage.action == action)
    )
    return found or 0
