"""The management API of transfers: who may start and act, what a bad body gets, and what
happens when the other connector cannot be reached."""

from __future__ import annotations

import uuid

import httpx
import pytest
from contracts_support import evidence_kinds, row_counts
from sqlalchemy import update
from transfers_support import PULL, PUSH, Pair, act, detail, provider_view, start

from shuchang.db import utcnow
from shuchang.domains.contracts.models import Agreement


def _post(
    pair: Pair, body: dict[str, object], headers: dict[str, str] | None = None
) -> httpx.Response:
    return pair.consumer.client.post(
        "/api/v1/transfers", json=body, headers=headers or pair.consumer.local.headers
    )


BAD_BODIES: dict[str, tuple[dict[str, object], int, str, str | None]] = {
    "pull-with-sink": (
        {"transfer_type": PULL, "data_address": {"endpoint": "https://bank.example.cn/in"}},
        422,
        "transfer.data_address_invalid",
        "data_address",
    ),
    "push-without-sink": ({"transfer_type": PUSH}, 422, "transfer.data_address_invalid", None),
    "push-to-ftp": (
        {"transfer_type": PUSH, "data_address": {"endpoint": "ftp://bank.example.cn/in"}},
        422,
        "transfer.data_address_invalid",
        "data_address.endpoint",
    ),
    "other-type": ({"transfer_type": "AmazonS3-PUSH"}, 422, "request.invalid_field", None),
    "unknown-field": ({"priority": 1}, 422, "request.invalid_field", None),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_a_bad_start_is_a_problem_and_changes_nothing(pair: Pair, case: str) -> None:
    change, status, code, field = BAD_BODIES[case]
    before = row_counts(pair.consumer.platform.engine)
    answer = _post(pair, {"agreement_id": str(pair.agreement_id), **change})
    assert answer.status_code == status, answer.text
    problem = answer.json()
    assert problem["code"] == code and problem["message_zh"] and problem["message_en"]
    if field:
        assert problem["field"] == field
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert row_counts(pair.consumer.platform.engine) == before
    assert not pair.relays[1].transfer_messages()


def test_an_unknown_agreement_is_not_found(pair: Pair) -> None:
    answer = _post(pair, {"agreement_id": str(uuid.uuid4())})
    assert answer.status_code == 404
    assert answer.json()["code"] == "dsp.agreement_unknown"


def test_an_expired_agreement_is_refused_before_anything_is_sent(pair: Pair) -> None:
    with pair.consumer.platform.unit() as s:
        s.execute(
            update(Agreement).where(Agreement.id == pair.agreement_id).values(valid_until=utcnow())
        )
    before = row_counts(pair.consumer.platform.engine)
    answer = _post(pair, {"agreement_id": str(pair.agreement_id)})
    assert answer.status_code == 403
    assert answer.json()["code"] == "dsp.agreement_expired"
    assert row_counts(pair.consumer.platform.engine) == before
    assert not pair.relays[1].transfer_messages()


def test_only_the_connectors_consumer_starts(pair: Pair) -> None:
    as_provider = _post(pair, {"agreement_id": str(pair.agreement_id)}, pair.provider.local.headers)
    assert as_provider.status_code == 403
    mine = start(pair)
    theirs = provider_view(pair, mine["consumer_pid"])
    # The provider is a party to the consumer's row, but acts only on its own side.
    other_side = pair.consumer.client.post(
        f"/api/v1/transfers/{mine['id']}/suspend",
        json={"reason": "x"},
        headers=pair.consumer.peer.headers,
    )
    assert other_side.status_code == 403
    assert other_side.json()["code"] == "transfer.not_party"
    assert detail(pair.provider, theirs["id"])["state"] == "STARTED"


def test_an_unreachable_provider_ends_the_consumers_side(pair: Pair) -> None:
    pair.relays[1].fail = True
    mine = start(pair)
    assert mine["state"] == "TERMINATED"
    assert mine["error"]["code"] == "delivery_failed"
    assert evidence_kinds(pair.consumer.platform, f"transfer:{mine['id']}") == [
        "transfer.requested",
        "transfer.terminated",
    ]


def test_an_unreachable_consumer_ends_the_providers_side(pair: Pair) -> None:
    pair.relays[0].fail = True
    mine = start(pair)
    assert mine["state"] == "REQUESTED"  # the start never arrived
    theirs = provider_view(pair, mine["consumer_pid"])
    assert theirs["state"] == "TERMINATED"
    assert theirs["error"]["code"] == "delivery_failed"


def test_a_suspension_the_provider_never_heard_of_is_kept_as_an_error(pair: Pair) -> None:
    mine = start(pair)
    pair.relays[1].fail = True
    answer = act(pair.consumer, mine["id"], "suspend", reason="暂停")
    assert answer.status_code == 200, answer.text
    mine = detail(pair.consumer, mine["id"])
    assert mine["state"] == "SUSPENDED"
    assert mine["error"]["code"] == "delivery_failed"
    assert "transfer.delivery_failed" in evidence_kinds(
        pair.consumer.platform, f"transfer:{mine['id']}"
    )


def test_transfers_are_listed_by_state_and_agreement(pair: Pair) -> None:
    first, second = start(pair), start(pair)
    act(pair.consumer, first["id"], "complete")
    headers = pair.consumer.local.headers
    listed = pair.consumer.client.get(
        "/api/v1/transfers", params={"state": "STARTED"}, headers=headers
    ).json()
    assert [t["id"] for t in listed if t["role"] == "consumer"] == [second["id"]]
    other = pair.consumer.client.get(
        "/api/v1/transfers", params={"agreement_id": str(uuid.uuid4())}, headers=headers
    ).json()
    assert other == []
    anonymous = pair.consumer.client.get("/api/v1/transfers")
    assert anonymous.status_code == 401
