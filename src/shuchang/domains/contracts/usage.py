"""Usage control (使用控制): decide each use of an agreement and count it, safely under load.

The decision itself is the policy engine's (:mod:`shuchang.policy.engine`); this module adds
what only the platform knows: the agreement must be active, the consumer must still be an
active participant (suspension takes effect on the next request), and how often the
agreement was used. Counting takes a row lock (``SELECT … FOR UPDATE`` on PostgreSQL, the
write lock on SQLite), so concurrent requests never both take the last permitted use.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuchang.db import table_of, utcnow
from shuchang.domains.contracts.models import Agreement, Usage
from shuchang.domains.contracts.schemas import UseDecision, UseRequest
from shuchang.domains.participants import Actor, standing
from shuchang.errors import NotFound
from shuchang.policy import CompiledPolicy, Context, Recipient, compiled, decide

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


_a, _u = table_of(Agreement), table_of(Usage)
# The agreement's parties and state and its counter in one pre-built statement: this runs on
# every data-plane request (benchmarks/contracts_decisions_http.py).
_FACTS = (
    select(_a.c.status, _a.c.provider_id, _a.c.consumer_id, _a.c.valid_from, _u.c.uses)
    .select_from(_a)
    .outerjoin(_u, (_u.c.agreement_id == _a.c.id) & (_u.c.action == COUNTED))
    .where(_a.c.id == bindparam("agreement_id"))
)
POLICY_CACHE_SIZE = 4096
_policies: OrderedDict[uuid.UUID, CompiledPolicy] = OrderedDict()
_policies_lock = threading.Lock()


def _policy(session: Session, agreement_id: uuid.UUID) -> CompiledPolicy:
    """The agreement's compiled policy. A signed agreement's document never changes, so it is
    cached by agreement id and read from the database once per process."""
    with _policies_lock:
        hit = _policies.get(agreement_id)
        if hit is not None:
            _policies.move_to_end(agreement_id)
            return hit
    document = session.scalar(select(Agreement.document).where(Agreement.id == agreement_id))
    policy = compiled(document)
    with _policies_lock:
        _policies[agreement_id] = policy
        while len(_policies) > POLICY_CACHE_SIZE:
            _policies.popitem(last=False)
    return policy


def _denied(agreement_id: uuid.UUID, request: UseRequest, zh: str, en: str) -> UseDecision:
    return UseDecision(
        agreement_id=agreement_id,
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
    facts = session.connection().execute(_FACTS, {"agreement_id": agreement_id}).first()
    parties = () if facts is None else (facts.provider_id, facts.consumer_id)
    if facts is None or (actor.participant_id not in parties and actor.role not in OVERSIGHT):
        raise NotFound("Agreement not found", "合约不存在", code="agreement.not_found")
    status, _, consumer_id, valid_from, uses = facts
    if status != "active":
        return _denied(
            agreement_id, request, f"合约状态为 {status}，不是生效中", f"The agreement is {status}"
        )
    consumer = standing(session, consumer_id)
    if consumer is None or consumer.status != "active":
        return _denied(
            agreement_id,
            request,
            "使用方已被暂停或注销",
            "The consumer is no longer an active participant",
        )
    # One counter per agreement: a count limit bounds all uses, whatever the action.
    usage = _usage_row(session, agreement_id, COUNTED) if request.consume else None
    uses = usage.uses if usage is not None else (uses or 0)
    context = Context(
        now=utcnow(),
        purpose=request.purpose,
        region=request.region,
        recipient=Recipient(
            kind=consumer.kind, status=consumer.status, region=consumer.region, role="consumer"
        ),
        fields=tuple(request.fields),
        uses=uses,
        agreed_at=valid_from,
        epsilon=request.epsilon,
        epsilon_spent=request.epsilon_spent,
    )
    decision = decide(_policy(session, agreement_id), request.action, context)
    if decision.permitted and usage is not None:
        usage.uses += 1
    return UseDecision(
        agreement_id=agreement_id,
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
