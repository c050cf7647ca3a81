"""A transfer's life on both sides, in process: the consumer starts a pull transfer under its
agreement, gets an endpoint and a token, suspends, resumes (a new token; the old one is dead),
completes; push transfers, provider-side suspension and termination, token refresh."""

from __future__ import annotations

import uuid

from contracts_support import evidence_kinds
from sqlalchemy.orm import Session
from transfers_support import (
    PULL,
    PUSH,
    Pair,
    act,
    detail,
    provider_view,
    row,
    schema_errors,
    start,
    steps,
    token_of,
)

from shuchang.domains.participants import active_keys
from shuchang.domains.transfers import (
    TokenClaims,
    TransferNotStarted,
    check_started,
    verify_token,
)
from shuchang.ports import fingerprint


def _claims(pair: Pair, view: dict[str, object]) -> TokenClaims:
    with pair.provider.platform.unit(write=False) as s:
        keys = {fingerprint(k): k for k in active_keys(s, pair.provider.local.id)}
    return verify_token(token_of(view), keys)


def _started(session: Session, claims: TokenClaims) -> bool:
    try:
        check_started(session, claims)
    except TransferNotStarted:
        return False
    return True


def test_a_pull_transfer_starts_suspends_resumes_and_completes(pair: Pair) -> None:
    mine = start(pair)
    assert mine["state"] == "STARTED", mine
    theirs = provider_view(pair, mine["consumer_pid"])
    assert theirs["state"] == "STARTED"
    assert mine["provider_pid"] == theirs["provider_pid"]
    assert theirs["data_address"] is None  # the provider keeps no token

    # The token: signed by the provider's connector key, bound to agreement, consumer, transfer.
    address = mine["data_address"]
    assert address["endpoint"] == "https://bureau.dongou.example.cn/data"
    assert schema_errors(address) == []
    claims = _claims(pair, mine)
    assert claims.agreement_id == pair.agreement_id
    assert claims.consumer_id == pair.provider.peer.id
    assert str(claims.transfer_id) == theirs["id"]
    assert claims.subject == pair.consumer.local.urn
    assert claims.expires_at - claims.issued_at == 300
    with pair.provider.platform.unit(write=False) as s:
        assert _started(s, claims)

    # Suspended by the consumer: the token stops working at once, on the provider too.
    answer = act(pair.consumer, mine["id"], "suspend", reason="核对数据口径")
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "SUSPENDED"
    assert provider_view(pair, mine["consumer_pid"])["state"] == "SUSPENDED"
    with pair.provider.platform.unit(write=False) as s:
        assert not _started(s, claims)

    # Resumed: the provider restarts with a new token; the old one stays dead.
    answer = act(pair.consumer, mine["id"], "resume")
    assert answer.status_code == 200, answer.text
    resumed = detail(pair.consumer, mine["id"])
    assert resumed["state"] == "STARTED"
    fresh = _claims(pair, resumed)
    assert (fresh.epoch, claims.epoch) == (2, 1)
    with pair.provider.platform.unit(write=False) as s:
        assert _started(s, fresh)
        assert not _started(s, claims)

    answer = act(pair.consumer, mine["id"], "complete")
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "COMPLETED"
    assert provider_view(pair, mine["consumer_pid"])["state"] == "COMPLETED"

    assert [(e["direction"], e["message_type"], e["to_state"]) for e in resumed["events"]] == [
        ("out", "TransferRequestMessage", "REQUESTED"),
        ("in", "TransferStartMessage", "STARTED"),
        ("out", "TransferSuspensionMessage", "SUSPENDED"),
        ("out", "TransferStartMessage", "SUSPENDED"),
        ("in", "TransferStartMessage", "STARTED"),
    ]
    assert steps(pair.provider.platform, theirs["id"]) == [
        ("in", "TransferRequestMessage", "REQUESTED"),
        ("out", "TransferStartMessage", "STARTED"),
        ("in", "TransferSuspensionMessage", "SUSPENDED"),
        ("out", "TransferStartMessage", "STARTED"),
        ("in", "TransferCompletionMessage", "COMPLETED"),
    ]
    assert evidence_kinds(pair.provider.platform, f"transfer:{theirs['id']}") == [
        "transfer.requested",
        "transfer.started",
        "transfer.suspended",
        "transfer.started",
        "transfer.completed",
    ]
    assert evidence_kinds(pair.consumer.platform, f"transfer:{mine['id']}") == [
        "transfer.requested",
        "transfer.started",
        "transfer.suspended",
        "transfer.resume_requested",
        "transfer.started",
        "transfer.completed",
    ]


def test_every_transfer_message_sent_and_answered_passes_its_schema(pair: Pair) -> None:
    mine = start(pair)
    act(pair.consumer, mine["id"], "suspend", reason="暂停")
    act(pair.consumer, mine["id"], "resume")
    act(pair.consumer, mine["id"], "terminate", reason="不再需要")
    sent = [m for relay in pair.relays for m in relay.transfer_messages()]
    kinds = {m["@type"] for m in sent}
    assert kinds == {
        "TransferRequestMessage",
        "TransferStartMessage",
        "TransferSuspensionMessage",
        "TransferTerminationMessage",
    }
    for body in sent:
        assert schema_errors(body) == [], body
    answers = [a.json() for relay in pair.relays for a in relay.answers if a.content]
    for answer in answers:
        if answer:
            assert schema_errors(answer) == [], answer
    assert any(a.get("@type") == "TransferProcess" for a in answers)


def test_the_provider_suspends_and_only_the_provider_resumes(pair: Pair) -> None:
    mine = start(pair)
    theirs = provider_view(pair, mine["consumer_pid"])
    answer = act(pair.provider, theirs["id"], "suspend", reason="合规复核")
    assert answer.status_code == 200, answer.text
    assert detail(pair.consumer, mine["id"])["suspended_by"] == "provider"
    refused = act(pair.consumer, mine["id"], "resume")
    assert refused.status_code == 409
    assert refused.json()["code"] == "dsp.invalid_transition"
    assert detail(pair.consumer, mine["id"])["state"] == "SUSPENDED"
    answer = act(pair.provider, theirs["id"], "resume")
    assert answer.status_code == 200, answer.text
    assert detail(pair.consumer, mine["id"])["state"] == "STARTED"


def test_the_provider_terminates_and_nothing_moves_after(pair: Pair) -> None:
    mine = start(pair)
    theirs = provider_view(pair, mine["consumer_pid"])
    answer = act(pair.provider, theirs["id"], "terminate", reason="合约争议")
    assert answer.status_code == 200, answer.text
    mine = detail(pair.consumer, mine["id"])
    assert mine["state"] == "TERMINATED"
    assert mine["error"] == {"code": "terminated", "reason": ["合约争议"]}
    for action in ("suspend", "resume", "complete", "terminate"):
        again = act(pair.consumer, mine["id"], action, reason="再试")
        assert again.status_code == 409, (action, again.text)


def test_a_push_transfer_carries_the_consumers_sink(pair: Pair) -> None:
    sink = {
        "endpoint": "https://bank.dongou.example.cn/inbox",
        "properties": {"authorization": "k"},
    }
    mine = start(pair, PUSH, data_address=sink)
    assert mine["state"] == "STARTED"
    theirs = provider_view(pair, mine["consumer_pid"])
    assert theirs["transfer_type"] == PUSH
    assert theirs["data_address"]["endpoint"] == sink["endpoint"]
    start_message = pair.relays[0].last("TransferStartMessage").body
    assert "dataAddress" not in start_message
    request = pair.relays[1].last("TransferRequestMessage").body
    assert request["format"] == PUSH and schema_errors(request["dataAddress"]) == []


def test_a_refreshed_token_replaces_the_old_one(pair: Pair) -> None:
    mine = start(pair)
    first = _claims(pair, mine)
    answer = act(pair.consumer, mine["id"], "refresh")
    assert answer.status_code == 200, answer.text
    second = _claims(pair, answer.json())
    assert second.token_id != first.token_id
    assert (second.transfer_id, second.epoch) == (first.transfer_id, first.epoch)
    theirs = provider_view(pair, mine["consumer_pid"])
    assert "transfer.token_refreshed" in evidence_kinds(
        pair.provider.platform, f"transfer:{theirs['id']}"
    )
    assert row(pair.consumer.platform, mine["id"]).data_address == answer.json()["data_address"]


def test_a_suspended_transfer_gets_no_new_token(pair: Pair) -> None:
    mine = start(pair)
    act(pair.consumer, mine["id"], "suspend", reason="暂停")
    refused = act(pair.consumer, mine["id"], "refresh")
    assert refused.status_code == 409
    assert refused.json()["code"] == "dsp.refresh_not_allowed"


def test_the_token_is_shown_only_to_its_holder(pair: Pair) -> None:
    mine = start(pair)
    other_view = pair.consumer.client.get(
        f"/api/v1/transfers/{mine['id']}", headers=pair.consumer.peer.headers
    )
    assert other_view.status_code == 200  # the provider is a party to the consumer's row
    props = other_view.json()["data_address"]["endpointProperties"]
    assert {p["name"]: p["value"] for p in props}["authorization"] == "***"
    stranger = pair.consumer.client.get(
        f"/api/v1/transfers/{uuid.uuid4()}", headers=pair.consumer.local.headers
    )
    assert stranger.status_code == 404
    assert stranger.json()["code"] == "transfer.not_found"


def test_pull_is_the_default_type(pair: Pair) -> None:
    response = pair.consumer.client.post(
        "/api/v1/transfers",
        json={"agreement_id": str(pair.agreement_id)},
        headers=pair.consumer.local.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["transfer_type"] == PULL
