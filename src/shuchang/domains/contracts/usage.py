"""Usage control (使用控制): decide each use of an agreement and count it, safely under load.

The decision itself is the policy engine's (:mod:`shuchang.policy.engine`); this module adds
what only the platform knows: the agreement must be active, the consumer must still be an
active participant (suspension takes effect on the next request), and how often the
agreement was used. Counting takes the counter's row lock (an upsert that waits for the row
on PostgreSQL, the write lock on SQLite), so concurrent requests never both take the last
permitted use.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shuchang.db import table_of, utcnow
from shuchang.domains.contracts.models import Agreement, Usage
from shuchang.domains.contracts.schemas import UseDecision, UseRequest
from shuchang.domains.participants import Actor, standing
from shuchang.errors import NotFound
from shuchang.policy import CompiledPolicy, Context, Decision, Recipient, compiled, decide

OVERSIGHT = ("operator", "regulator", "system")
COUNTED = "use"  # the counter's key: every action is a use


_a, _u = table_of(Agreement), table_of(Usage)
# The agreement's parties and state and its counter in one pre-built statement: this runs on
# every data-plane batch (benchmarks/dataplane_load.py).
_FACTS = (
    select(_a.c.status, _a.c.provider_id, _a.c.consumer_id, _a.c.valid_from, _u.c.uses)
    .select_from(_a)
    .outerjoin(_u, (_u.c.agreement_id == _a.c.id) & (_u.c.action == COUNTED))
    .where(_a.c.id == bindparam("agreement_id"))
)
_STORE = (
    update(_u)
    .where(_u.c.agreement_id == bindparam("counter_of"), _u.c.action == COUNTED)
    .values(uses=bindparam("counted"))
)


def _locked_uses(session: Session, agreement_id: uuid.UUID) -> int:
    """Lock the agreement's counter row (creating it at 0 on the first use) and read it as
    last committed, in one statement: an upsert that waits for any other transaction holding
    the row (``ON CONFLICT DO UPDATE`` on PostgreSQL; SQLite's write lock is already held)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    new = insert(_u).values(agreement_id=agreement_id, action=COUNTED, uses=0)
    stmt = new.on_conflict_do_update(
        index_elements=["agreement_id", "action"], set_={"uses": _u.c.uses}
    ).returning(_u.c.uses)
    return int(session.execute(stmt).scalar_one())


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
    return decide_uses(session, actor, agreement_id, [request])[0]


def decide_uses(
    session: Session, actor: Actor, agreement_id: uuid.UUID, requests: Sequence[UseRequest]
) -> list[UseDecision]:
    """Decide several uses of one agreement in order, as if one after another: the facts are
    read and the counter locked once, each permitted consuming use is counted before the next
    is decided (so a count limit holds exactly), and the counter is written once. The data
    plane admits a batch of concurrent requests this way in one transaction."""
    facts = session.connection().execute(_FACTS, {"agreement_id": agreement_id}).first()
    parties = () if facts is None else (facts.provider_id, facts.consumer_id)
    if facts is None or (actor.participant_id not in parties and actor.role not in OVERSIGHT):
        raise NotFound("Agreement not found", "合约不存在", code="agreement.not_found")
    status, _, consumer_id, valid_from, uses = facts
    if status != "active":
        zh, en = f"合约状态为 {status}，不是生效中", f"The agreement is {status}"
        return [_denied(agreement_id, r, zh, en) for r in requests]
    consumer = standing(session, consumer_id)
    if consumer is None or consumer.status != "active":
        zh, en = "使用方已被暂停或注销", "The consumer is no longer an active participant"
        return [_denied(agreement_id, r, zh, en) for r in requests]
    # One counter per agreement: a count limit bounds all uses, whatever the action.
    consume = any(r.consume for r in requests)
    uses = _locked_uses(session, agreement_id) if consume else (uses or 0)
    before = uses
    recipient = Recipient(
        kind=consumer.kind, status=consumer.status, region=consumer.region, role="consumer"
    )
    policy, now, out = _policy(session, agreement_id), utcnow(), []
    for request in requests:
        context = Context(
            now=now,
            purpose=request.purpose,
            region=request.region,
            recipient=recipient,
            fields=tuple(request.fields),
            # a continuation (a resumed download) is decided as the use it continues was
            uses=max(0, uses - 1) if request.continues and not request.consume else uses,
            agreed_at=valid_from,
            epsilon=request.epsilon,
            epsilon_spent=request.epsilon_spent,
        )
        decision = decide(policy, request.action, context)
        counted = decision.permitted and request.consume
        uses += 1 if counted else 0
        out.append(_decision(agreement_id, request, decision, uses))
    if uses != before:
        session.execute(_STORE, {"counter_of": agreement_id, "counted": uses})
    return out


def _decision(
    agreement_id: uuid.UUID, request: UseRequest, decision: Decision, uses: int
) -> UseDecision:
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
        uses=uses,
        duties=[d.action for d in decision.duties],
    )
