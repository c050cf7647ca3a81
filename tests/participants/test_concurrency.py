"""Eight applicants register the same identifier at the same moment: exactly one gets in.

Two guards stop the others, and which one fires depends on the backend:

* the ``duplicate`` verification step sees a live participant with the identifier and the
  registration is stored as rejected (``duplicate.identifier``, HTTP 201 with the reason);
* the partial unique index ``uq_participants_live_identifier`` refuses a second live row
  inserted by a transaction that ran its duplicate step before the winner committed; the
  service turns the IntegrityError into ``Duplicate`` (HTTP 409 ``duplicate.identifier``)
  and the whole transaction, evidence included, is rolled back.

On SQLite every writer takes the database lock at BEGIN (``BEGIN IMMEDIATE``), so the
registrations run one after another and every loser takes the first path. On PostgreSQL
(READ COMMITTED) they really overlap: a loser takes the second path when its duplicate step
ran before the winner committed (its INSERT then waits on the index entry and fails when the
winner commits), otherwise the first. Either way there is one live participant.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

import factories
from shuchang.domains.evidence.models import OutboxEntry
from shuchang.domains.participants import service
from shuchang.domains.participants.models import Participant
from shuchang.domains.participants.schemas import ANONYMOUS, RegisterParticipant
from shuchang.domains.participants.service import OnboardingRules
from shuchang.errors import Duplicate
from shuchang.platform import Platform

THREADS = 8


def test_same_identifier_registered_concurrently_leaves_one_live_participant(
    platform: Platform, db_url: str
) -> None:
    identifier = factories.uscc()
    rules = OnboardingRules(review_rule="lenient", approval="auto")
    start = threading.Barrier(THREADS)

    def apply(n: int) -> tuple[str, str | None]:
        request = RegisterParticipant(
            kind="enterprise",
            name=f"并发测试{n}有限公司",
            identifier=identifier,
            roles=["consumer"],
        )
        start.wait()
        try:
            with platform.unit() as s:
                registration = service.register(s, ANONYMOUS, request, rules)
        except Duplicate as exc:
            assert exc.status == 409
            return "conflict", exc.code
        return registration.participant.status, registration.participant.decision_reason

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(apply, range(THREADS)))

    winners = [o for o in outcomes if o[0] == "active"]
    stored_rejected = [o for o in outcomes if o[0] == "rejected"]
    conflicts = [o for o in outcomes if o[0] == "conflict"]
    assert len(winners) == 1, outcomes
    assert len(stored_rejected) + len(conflicts) == THREADS - 1, outcomes
    assert {reason for _, reason in stored_rejected + conflicts} <= {"duplicate.identifier"}
    if db_url.startswith("sqlite"):
        assert conflicts == []  # serialised writers: the duplicate step always sees the winner

    with platform.unit(write=False) as s:
        rows = s.execute(
            select(Participant.status, func.count())
            .where(Participant.identifier == identifier)
            .group_by(Participant.status)
        ).all()
        registered_evidence = s.scalar(
            select(func.count())
            .select_from(OutboxEntry)
            .where(OutboxEntry.kind == "participant.registered")
        )
    assert dict(rows) == {
        "active": 1,
        **({"rejected": len(stored_rejected)} if stored_rejected else {}),
    }
    # A 409 rolled its evidence back with it; a stored rejection kept its own.
    assert registered_evidence == 1 + len(stored_rejected)
