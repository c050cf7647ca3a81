"""The same negotiation step arriving several times at once (a peer that retries with a fresh
signature, or two of its nodes sending): exactly one is taken, the others are refused as the
protocol says, and the negotiation's history holds each step once.

On SQLite every writer takes the database lock at BEGIN, so the copies run one after another.
On PostgreSQL (READ COMMITTED) they really overlap; that is where these tests have teeth.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from contracts_support import (
    Side,
    contract_request,
    evidence_kinds,
    request_contract,
    state,
    transitions,
    verification_body,
)
from sqlalchemy import func, select

from shuchang.domains.contracts.models import Agreement, Negotiation

COPIES = 8


def at_once(side: Side, path: str, bodies: list[dict[str, object]]) -> Counter[tuple[int, str]]:
    """POST every body (each signed on its own) to ``path`` at the same moment."""
    signed = [side.sign(path, body) for body in bodies]
    gate = threading.Barrier(len(signed))

    def send(i: int) -> tuple[int, str]:
        raw, headers = signed[i]
        gate.wait()
        answer = side.client.post(path, content=raw, headers=headers)
        body = answer.json() if answer.headers["content-type"].startswith("application/") else {}
        return answer.status_code, str(body.get("code", ""))

    with ThreadPoolExecutor(len(signed)) as pool:
        return Counter(pool.map(send, range(len(signed))))


def test_one_of_several_identical_requests_opens_a_negotiation(
    request: pytest.FixtureRequest, db_url: str, provider_side: Side
) -> None:
    body = contract_request(provider_side.parties)
    outcomes = at_once(provider_side, "/dsp/negotiations/request", [body] * COPIES)
    assert outcomes == {(201, ""): 1, (409, "dsp.duplicate_request"): COPIES - 1}
    with provider_side.platform.unit(write=False) as s:
        rows = s.scalar(
            select(func.count())
            .select_from(Negotiation)
            .where(Negotiation.consumer_pid == body["consumerPid"])
        )
    assert rows == 1


def test_one_of_several_identical_verifications_finalizes(
    request: pytest.FixtureRequest, db_url: str, provider_side: Side
) -> None:
    provider_pid, consumer_pid = request_contract(provider_side)
    agreement = provider_side.transport.last("ContractAgreementMessage").body["agreement"]
    body = verification_body(provider_side, provider_pid, consumer_pid, agreement)
    path = f"/dsp/negotiations/{provider_pid}/agreement/verification"
    outcomes = at_once(provider_side, path, [body] * COPIES)
    assert outcomes == {(200, ""): 1, (400, "dsp.invalid_transition"): COPIES - 1}
    n = state(provider_side.platform, "provider", provider_pid)
    assert [to for _, _, to in transitions(provider_side.platform, n.id)] == [
        "REQUESTED",
        "AGREED",
        "VERIFIED",
        "FINALIZED",
    ]
    assert evidence_kinds(provider_side.platform, f"agreement:{n.agreement_id}") == [
        "agreement.concluded"
    ]
    finalized = [s for s in provider_side.transport.sent if s.body.get("eventType") == "FINALIZED"]
    assert len(finalized) == 1
    with provider_side.platform.unit(write=False) as s:
        row = s.get(Agreement, n.agreement_id)
        assert row is not None
        assert [sig["role"] for sig in row.signatures] == ["assigner", "assignee"]
