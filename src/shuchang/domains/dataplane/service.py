"""Admitting data requests (准入): the token's transfer is STARTED, the agreement's product
is an API, the usage decision — and the usage record, in that decision's transaction.
Requests are admitted in batches (:func:`admit_many`; the gateway's group commit)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from shuchang.domains.contracts import UseDecision, UseRequest, decide_uses, find_agreement
from shuchang.domains.dataplane import metering
from shuchang.domains.dataplane.delivery import Offerings
from shuchang.domains.dataplane.errors import MethodNotAllowed, NotAnApi
from shuchang.domains.dataplane.schemas import UsageSummary
from shuchang.domains.participants import Actor
from shuchang.domains.transfers import (
    TokenClaims,
    TokenMisdirected,
    require_started,
    transfer_states,
)
from shuchang.errors import NotFound, ShuchangError


@dataclass(frozen=True)
class Target:
    """Where an agreement's API product is served from, and the purpose the agreement fixes."""

    url: str
    method: str
    purpose: str | None
    consumer_id: uuid.UUID


@dataclass(frozen=True)
class DataRequest:
    method: str
    path: str
    fields: tuple[str, ...]
    purpose: str | None
    started_at: datetime
    clock_start: float


@dataclass(frozen=True)
class Admission:
    decision: UseDecision
    record_id: int
    target: Target
    request: DataRequest


class Targets:
    """Agreement → backend address of its API product, from the delivery offerings' cache
    (one read per agreement per ``delivery.SECONDS``, shared with dataset delivery)."""

    def __init__(self, offerings: Offerings) -> None:
        self.offerings = offerings

    def get(self, session: Session, agreement_id: uuid.UUID) -> Target:
        offering = self.offerings.get(session, agreement_id)
        http = next((p.location for p in offering.parts if p.location.get("type") == "http"), None)
        if offering.kind != "api" or http is None:
            raise NotAnApi()
        method = str(http.get("method", "GET"))
        return Target(str(http["url"]), method, offering.purpose, offering.consumer_id)


def admit_many(
    session: Session, targets: Targets, requests: Sequence[tuple[TokenClaims, DataRequest]]
) -> list[Admission | ShuchangError]:
    """Check, decide, count and record a batch of requests in the caller's transaction, in
    order, as if one after another (group commit: one statement per step, one commit).

    A request that cannot be admitted (transfer not STARTED, product not an API, method
    does not fit) gets its error in its place and writes nothing; a denial is recorded and
    returned as an Admission, not raised. Agreements are decided in the order of their first
    request, each agreement's requests in arrival order."""
    known = transfer_states(session, (claims.transfer_id for claims, _ in requests))
    out: list[Admission | ShuchangError | None] = [None] * len(requests)
    waiting: dict[uuid.UUID, list[int]] = {}
    for i, (claims, request) in enumerate(requests):
        try:
            require_started(known, claims)
            target = targets.get(session, claims.agreement_id)
            if target.consumer_id != claims.consumer_id:
                raise TokenMisdirected()
            if request.method == "POST" and target.method != "POST":
                raise MethodNotAllowed()
        except ShuchangError as exc:
            out[i] = exc
            continue
        waiting.setdefault(claims.agreement_id, []).append(i)
    decided: list[tuple[int, UseDecision]] = []
    for agreement_id, positions in waiting.items():
        claims, target = requests[positions[0]][0], targets.get(session, agreement_id)
        try:
            decisions = decide_uses(
                session,
                Actor(participant_id=claims.consumer_id, role="consumer"),
                agreement_id,
                [_use(requests[i][1], target) for i in positions],
            )
        except ShuchangError as exc:  # raised before anything of this agreement was written
            for i in positions:
                out[i] = exc
            continue
        decided.extend(zip(positions, decisions, strict=True))
    ids = metering.open_records(
        session, [_opening(*requests[i], decision) for i, decision in decided]
    )
    for (i, decision), record_id in zip(decided, ids, strict=True):
        claims, request = requests[i]
        out[i] = Admission(decision, record_id, targets.get(session, claims.agreement_id), request)
    return [x for x in out if x is not None]


def admit(
    session: Session, claims: TokenClaims, targets: Targets, request: DataRequest
) -> Admission:
    """Check, decide, count and record one request in the caller's transaction. Raises
    (nothing recorded) when it cannot be admitted; a denial is recorded and returned."""
    (result,) = admit_many(session, targets, [(claims, request)])
    if isinstance(result, ShuchangError):
        raise result
    return result


def _use(request: DataRequest, target: Target) -> UseRequest:
    return UseRequest(
        action="read",
        purpose=request.purpose or target.purpose,
        fields=list(request.fields),
        consume=True,
    )


def _opening(claims: TokenClaims, request: DataRequest, decision: UseDecision) -> metering.Opening:
    return metering.Opening(
        agreement_id=claims.agreement_id,
        transfer_id=claims.transfer_id,
        consumer_id=claims.consumer_id,
        method=request.method,
        path=request.path,
        permitted=decision.permitted,
        started_at=request.started_at,
        duration_ms=None
        if decision.permitted
        else int((time.monotonic() - request.clock_start) * 1000),
    )


OVERSIGHT = ("operator", "regulator", "system")


def summary(
    session: Session,
    actor: Actor,
    agreement_id: uuid.UUID,
    since: datetime | None = None,
    until: datetime | None = None,
) -> UsageSummary:
    """An agreement's metered usage, for its parties and for oversight (else not found)."""
    agreement = find_agreement(session, agreement_id)
    parties = () if agreement is None else (agreement.provider_id, agreement.consumer_id)
    if agreement is None or (actor.participant_id not in parties and actor.role not in OVERSIGHT):
        raise NotFound("Agreement not found", "合约不存在", code="agreement.not_found")
    return metering.usage_summary(session, agreement_id, _utc(since), _utc(until))


def _utc(when: datetime | None) -> datetime | None:
    """Times without a zone are taken as UTC (the API documents it)."""
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when
