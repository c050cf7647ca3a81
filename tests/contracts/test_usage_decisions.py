"""Usage decisions (使用控制): ``POST /api/v1/contracts/agreements/{id}/decide``.

The agreements here come out of a real negotiation on the provider's side (signed request,
auto approval, countersignature). Decisions are explained in Chinese and English; a count
constraint is never overrun, however many data-plane requests arrive at the same moment.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from contracts_support import (
    Negotiated,
    Parties,
    Side,
    negotiate,
    open_side,
    pids_message,
    register_parties,
    request_contract,
    state,
)
from sqlalchemy import select, update
from two_connectors import PURPOSE

import factories
from shuchang.domains.contracts.models import Agreement, Usage
from shuchang.domains.participants import SYSTEM
from shuchang.domains.participants import service as participant_service
from shuchang.domains.participants.schemas import StatusChange
from shuchang.platform import Platform

LIMIT, THREADS = 5, 20
COUNTED_OFFER = {
    "@type": "Offer",
    "permission": [
        {
            "action": "use",
            "constraint": [
                {"leftOperand": "purpose", "operator": "eq", "rightOperand": PURPOSE},
                {"leftOperand": "count", "operator": "lteq", "rightOperand": str(LIMIT)},
            ],
        }
    ],
    "prohibition": [{"action": "distribute"}],
}


@pytest.fixture
def counted(platform: Platform, tmp_path: Path) -> Iterator[tuple[Side, Negotiated]]:
    """A finalized agreement of at most five uses for the offer's purpose."""
    parties = register_parties(platform, COUNTED_OFFER)
    with open_side(platform, tmp_path, parties) as side:
        yield side, negotiate(side)


def decide(
    side: Side, agreement_id: uuid.UUID, headers: dict[str, str] | None = None, **use: Any
) -> httpx.Response:
    return side.client.post(
        f"/api/v1/contracts/agreements/{agreement_id}/decide",
        json=use,
        headers=headers or side.local.headers,
    )


def decision(side: Side, agreement_id: uuid.UUID, **use: Any) -> dict[str, Any]:
    response = decide(side, agreement_id, **use)
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()
    return out


# ---- permitted and denied, explained ------------------------------------------------------------


def test_a_use_for_the_agreed_purpose_is_permitted_and_explained(
    counted: tuple[Side, Negotiated],
) -> None:
    side, done = counted
    out = decision(side, done.agreement_id, action="read", purpose=PURPOSE)
    assert out["permitted"] is True
    assert out["reason_zh"].startswith("决定：允许 读取（read），依据 permission[0]")
    assert out["reason_en"].startswith("Decision: permit read (decided by permission[0])")
    assert "permission[0].constraint[0]" in out["reason_zh"]
    assert PURPOSE in out["reason_zh"]
    assert out["duties"] == ["compensate"]  # the price, as the agreement fixed it
    assert (out["uses"], out["remaining_uses"]) == (0, LIMIT - 1)


def test_a_use_for_another_purpose_is_denied_and_explained(
    counted: tuple[Side, Negotiated],
) -> None:
    side, done = counted
    out = decision(side, done.agreement_id, action="read", purpose="精准营销")
    assert out["permitted"] is False
    assert out["reason_zh"].startswith("决定：拒绝 读取（read）")
    assert out["reason_en"].startswith("Decision: deny read")
    assert "精准营销" in out["reason_zh"] and "精准营销" in out["reason_en"]
    assert "✗ permission[0].constraint[0]" in out["reason_zh"]
    assert out["duties"] == []


def test_a_use_without_a_purpose_is_denied(counted: tuple[Side, Negotiated]) -> None:
    side, done = counted
    assert decision(side, done.agreement_id, action="read")["permitted"] is False


def test_a_prohibited_action_is_denied_even_for_the_agreed_purpose(
    counted: tuple[Side, Negotiated],
) -> None:
    side, done = counted
    out = decision(side, done.agreement_id, action="distribute", purpose=PURPOSE)
    assert out["permitted"] is False
    assert "prohibition[0]" in out["reason_en"]


def test_both_parties_may_ask(counted: tuple[Side, Negotiated]) -> None:
    side, done = counted
    asked_by_consumer = decide(
        side, done.agreement_id, side.peer.headers, action="read", purpose=PURPOSE
    )
    assert asked_by_consumer.status_code == 200
    assert asked_by_consumer.json()["permitted"] is True


def test_someone_who_is_not_a_party_is_told_there_is_no_such_agreement(
    platform: Platform, counted: tuple[Side, Negotiated]
) -> None:
    side, done = counted
    stranger = factories.participant(platform, roles=("consumer",), name="东瓯农村商业银行")
    answer = decide(side, done.agreement_id, stranger.headers, action="read", purpose=PURPOSE)
    assert (answer.status_code, answer.json()["code"]) == (404, "agreement.not_found")
    unknown = decide(side, uuid.uuid4(), action="read", purpose=PURPOSE)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "agreement.not_found")


@pytest.mark.parametrize(
    "use",
    [
        {"action": "sell", "purpose": PURPOSE},
        {"action": "read", "purpose": PURPOSE, "extra": 1},
        {"action": "read", "purpose": "x" * 201},
        {"purpose": PURPOSE},
    ],
    ids=["unknown-action", "unknown-field", "purpose-too-long", "no-action"],
)
def test_a_malformed_use_is_refused(counted: tuple[Side, Negotiated], use: dict[str, Any]) -> None:
    side, done = counted
    answer = decide(side, done.agreement_id, **use)
    assert answer.status_code in (400, 422)
    assert answer.headers["content-type"] == "application/problem+json"


# ---- counting -----------------------------------------------------------------------------------


def test_consumed_uses_are_counted_up_to_the_limit(counted: tuple[Side, Negotiated]) -> None:
    side, done = counted
    use = {"action": "read", "purpose": PURPOSE, "consume": True}
    outcomes = [decision(side, done.agreement_id, **use) for _ in range(LIMIT + 2)]
    assert [o["permitted"] for o in outcomes] == [True] * LIMIT + [False, False]
    assert [o["remaining_uses"] for o in outcomes[:LIMIT]] == [4, 3, 2, 1, 0]
    assert [o["uses"] for o in outcomes] == [1, 2, 3, 4, 5, 5, 5]
    assert "count" in outcomes[-1]["reason_en"] or "uses" in outcomes[-1]["reason_en"]


def test_one_count_bounds_every_action_of_the_agreement(counted: tuple[Side, Negotiated]) -> None:
    side, done = counted
    for action in ["read", "aggregate", "compute", "read", "derive"]:
        use = {"action": action, "purpose": PURPOSE, "consume": True}
        assert decision(side, done.agreement_id, **use)["permitted"], action
    sixth = decision(side, done.agreement_id, action="aggregate", purpose=PURPOSE, consume=True)
    assert sixth["permitted"] is False
    assert _uses(side.platform, done.agreement_id) == LIMIT


def test_asking_without_consume_counts_nothing(counted: tuple[Side, Negotiated]) -> None:
    side, done = counted
    for _ in range(LIMIT + 1):
        assert decision(side, done.agreement_id, action="read", purpose=PURPOSE)["permitted"]
    assert _uses(side.platform, done.agreement_id) == 0


def test_a_denied_use_is_not_counted(counted: tuple[Side, Negotiated]) -> None:
    side, done = counted
    out = decision(side, done.agreement_id, action="read", purpose="精准营销", consume=True)
    assert out["permitted"] is False
    assert _uses(side.platform, done.agreement_id) == 0


def test_concurrent_uses_never_exceed_the_count(counted: tuple[Side, Negotiated]) -> None:
    side, done = counted
    start = threading.Barrier(THREADS)

    def use(_: int) -> bool:
        start.wait()
        out = decision(side, done.agreement_id, action="read", purpose=PURPOSE, consume=True)
        return bool(out["permitted"])

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(use, range(THREADS)))
    assert outcomes.count(True) == LIMIT, outcomes
    assert _uses(side.platform, done.agreement_id) == LIMIT


def _uses(platform: Platform, agreement_id: uuid.UUID) -> int:
    with platform.unit(write=False) as s:
        return sum(s.scalars(select(Usage.uses).where(Usage.agreement_id == agreement_id)))


# ---- the agreement and the consumer must still be in force ---------------------------------------


def test_a_suspended_consumer_is_denied(
    platform: Platform, counted: tuple[Side, Negotiated]
) -> None:
    side, done = counted
    with platform.unit() as s:
        change = StatusChange(action="suspend", reason="监管要求暂停")
        participant_service.change_status(s, SYSTEM, side.peer.id, change)
    out = decision(side, done.agreement_id, action="read", purpose=PURPOSE, consume=True)
    assert out["permitted"] is False
    assert out["reason_zh"] == "使用方已被暂停或注销"
    assert out["reason_en"] == "The consumer is no longer an active participant"
    assert _uses(platform, done.agreement_id) == 0


def test_a_pending_agreement_is_denied(
    platform: Platform, tmp_path: Path, parties: Parties
) -> None:
    with open_side(platform, tmp_path, parties) as side:
        provider_pid, _ = request_contract(side)  # agreed and signed by the provider only
        n = state(platform, "provider", provider_pid)
        assert n.agreement_id is not None
        out = decision(side, n.agreement_id, action="read", purpose=PURPOSE)
    assert out["permitted"] is False
    assert out["reason_en"] == "The agreement is pending"
    assert out["reason_zh"] == "合约状态为 pending，不是生效中"


def test_a_terminated_agreement_is_denied(
    platform: Platform, tmp_path: Path, parties: Parties
) -> None:
    with open_side(platform, tmp_path, parties) as side:
        provider_pid, consumer_pid = request_contract(side)
        end = pids_message("ContractNegotiationTerminationMessage", provider_pid, consumer_pid)
        ended = side.send(f"/dsp/negotiations/{provider_pid}/termination", end)
        assert ended.status_code == 200
        n = state(platform, "provider", provider_pid)
        assert n.agreement_id is not None
        out = decision(side, n.agreement_id, action="read", purpose=PURPOSE)
    assert (out["permitted"], out["reason_en"]) == (False, "The agreement is terminated")


def test_an_agreement_past_its_window_is_denied(
    platform: Platform, counted: tuple[Side, Negotiated]
) -> None:
    side, done = counted
    with platform.unit() as s:
        row = s.get(Agreement, done.agreement_id)
        assert row is not None
        document = dict(row.document)
        rule = dict(document["permission"][0])
        rule["constraint"] = [
            {**c, "rightOperand": "2024-01-01T00:00:00Z"}
            if c.get("leftOperand") == "dateTime" and c.get("operator") == "lt"
            else c
            for c in rule["constraint"]
        ]
        document["permission"] = [rule]
        s.execute(update(Agreement).where(Agreement.id == row.id).values(document=document))
    out = decision(side, done.agreement_id, action="read", purpose=PURPOSE)
    assert out["permitted"] is False
    assert "2024-01-01" in out["reason_en"]
