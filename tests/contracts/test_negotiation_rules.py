"""The negotiation state machine on both sides, in process, with signed DSP messages.

The provider side is the real app whose connector speaks for the provider; the consumer's
messages are signed here with the consumer's registered key, and what the provider sends
back is captured by the recording transport. The consumer side is the same app configured
for the consumer. Illegal steps are refused with a ContractNegotiationError and change
nothing: not the state, not one row of any table (the nonce included).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from contracts_support import (
    PROVIDER_PID,
    Parties,
    Side,
    agreement_message,
    contract_request,
    detail,
    evidence_kinds,
    negotiate,
    open_side,
    pids_message,
    provider_agreement,
    refused_in_state,
    register_party,
    request_contract,
    row_counts,
    start_negotiation,
    state,
    transitions,
    verification,
)
from two_connectors import PURPOSE

from shuchang.domains.contracts import agreements, httpsig
from shuchang.domains.contracts.models import Agreement
from shuchang.platform import Platform
from shuchang.ports import Ed25519Signer

PROVIDER_STEPS = [
    ("in", "ContractRequestMessage", "REQUESTED"),
    ("out", "ContractAgreementMessage", "AGREED"),
    ("in", "ContractAgreementVerificationMessage", "VERIFIED"),
    ("out", "FINALIZED", "FINALIZED"),
]
CONSUMER_STEPS = [
    ("out", "ContractRequestMessage", "REQUESTED"),
    ("in", "ContractAgreementMessage", "AGREED"),
    ("out", "ContractAgreementVerificationMessage", "VERIFIED"),
    ("in", "FINALIZED", "FINALIZED"),
]
NEGOTIATION_EVIDENCE = [
    "negotiation.requested",
    "negotiation.agreed",
    "negotiation.verified",
    "negotiation.finalized",
    "agreement.concluded",
]


# ---- the whole negotiation on each side ----------------------------------------------------------


def test_the_provider_side_goes_from_request_to_finalized(provider_side: Side) -> None:
    done = negotiate(provider_side)
    n = state(provider_side.platform, "provider", done.provider_pid)
    assert n.state == "FINALIZED"
    assert transitions(provider_side.platform, n.id) == PROVIDER_STEPS
    assert evidence_kinds(provider_side.platform, f"negotiation:{n.id}") == NEGOTIATION_EVIDENCE[:4]
    assert evidence_kinds(provider_side.platform, f"agreement:{done.agreement_id}") == [
        "agreement.concluded"
    ]
    sent = [(s.url.rsplit("/", 1)[-1], s.body["@type"]) for s in provider_side.transport.sent]
    assert sent == [
        ("agreement", "ContractAgreementMessage"),
        ("events", "ContractNegotiationEventMessage"),
    ]
    assert provider_side.transport.sent[0].url == (
        f"{provider_side.peer.url}/negotiations/{done.consumer_pid}/agreement"
    )
    assert {s.keyid for s in provider_side.transport.sent} == {provider_side.local.keyid}


def test_the_provider_keeps_the_agreement_both_parties_signed(provider_side: Side) -> None:
    done = negotiate(provider_side)
    with provider_side.platform.unit(write=False) as s:
        row = s.get(Agreement, done.agreement_id)
        assert row is not None
        doc = agreements.document(row.document, row.signatures)
        assert (row.status, row.purpose, row.price_fen) == ("active", PURPOSE, 100000)
    assert doc["agreement"] == done.agreement
    assert [s["role"] for s in doc["signatures"]] == ["assigner", "assignee"]
    pins = {
        provider_side.local.urn: provider_side.local.signer.public_key(),
        provider_side.peer.urn: provider_side.peer.signer.public_key(),
    }
    assert len(agreements.verify_document(doc, pins)) == 2


def test_the_consumer_side_goes_from_request_to_finalized(consumer_side: Side) -> None:
    n = start_negotiation(consumer_side)
    assert (n["state"], n["provider_pid"]) == ("REQUESTED", PROVIDER_PID)
    parties = consumer_side.parties
    agreement = provider_agreement(parties)
    sent = consumer_side.send(
        f"/dsp/negotiations/{n['consumer_pid']}/agreement", agreement_message(parties, n, agreement)
    )
    assert sent.status_code == 200, sent.text
    assert detail(consumer_side, n["id"])["state"] == "VERIFIED"
    countersigned = consumer_side.transport.last("ContractAgreementVerificationMessage")
    assert (
        countersigned.url
        == f"{parties.provider.url}/negotiations/{PROVIDER_PID}/agreement/verification"
    )
    event = pids_message(
        "ContractNegotiationEventMessage", PROVIDER_PID, n["consumer_pid"], eventType="FINALIZED"
    )
    finalized = consumer_side.send(f"/dsp/negotiations/{n['consumer_pid']}/events", event)
    assert finalized.status_code == 200, finalized.text
    out = detail(consumer_side, n["id"])
    assert out["state"] == "FINALIZED"
    assert [(e["direction"], e["message_type"], e["to_state"]) for e in out["events"]] == (
        CONSUMER_STEPS
    )
    assert (
        evidence_kinds(consumer_side.platform, f"negotiation:{n['id']}")
        == (NEGOTIATION_EVIDENCE[:4])
    )
    stored = consumer_side.client.get(
        f"/api/v1/contracts/agreements/{out['agreement_id']}", headers=consumer_side.local.headers
    ).json()
    assert stored["status"] == "active"
    assert stored["document"]["agreement"] == agreement
    assert len(agreements.verify_document(stored["document"])) == 2


def test_a_failed_delivery_ends_the_senders_side(
    platform: Platform, tmp_path: Path, parties: Parties
) -> None:
    with open_side(platform, tmp_path, parties) as side:
        side.transport.fail = True
        provider_pid, _ = request_contract(side)
        n = state(platform, "provider", provider_pid)
    assert n.state == "TERMINATED"
    assert n.error is not None
    assert n.error["code"] == "delivery_failed"
    with platform.unit(write=False) as s:
        row = s.get(Agreement, n.agreement_id)
        assert row is not None
        assert row.status == "terminated"


def test_the_consumer_may_end_a_negotiation_before_it_is_final(provider_side: Side) -> None:
    provider_pid, consumer_pid = request_contract(provider_side)
    end = pids_message(
        "ContractNegotiationTerminationMessage",
        provider_pid,
        consumer_pid,
        code="consumer.changed_mind",
        reason=["不再需要"],
    )
    answer = provider_side.send(f"/dsp/negotiations/{provider_pid}/termination", end)
    assert answer.status_code == 200, answer.text
    n = state(provider_side.platform, "provider", provider_pid)
    assert n.state == "TERMINATED"
    assert n.error == {"code": "consumer.changed_mind", "reason": ["不再需要"]}
    with provider_side.platform.unit(write=False) as s:
        row = s.get(Agreement, n.agreement_id)
        assert row is not None
        assert row.status == "terminated"  # the pending agreement never comes into force


# ---- illegal transitions ----------------------------------------------------------------------


def test_an_accepted_event_before_an_offer_is_an_invalid_transition(manual_side: Side) -> None:
    provider_pid, consumer_pid = request_contract(manual_side)
    event = pids_message(
        "ContractNegotiationEventMessage", provider_pid, consumer_pid, eventType="ACCEPTED"
    )
    body = refused_in_state(
        manual_side,
        "provider",
        provider_pid,
        lambda: manual_side.send(f"/dsp/negotiations/{provider_pid}/events", event),
        status=400,
        code="dsp.invalid_transition",
    )
    assert (body["providerPid"], body["consumerPid"]) == (provider_pid, consumer_pid)


def test_a_verification_before_the_agreement_is_an_invalid_transition(manual_side: Side) -> None:
    provider_pid, consumer_pid = request_contract(manual_side)
    agreement = provider_agreement(manual_side.parties)
    refused_in_state(
        manual_side,
        "provider",
        provider_pid,
        lambda: verification(manual_side, (provider_pid, consumer_pid), agreement),
        status=400,
        code="dsp.invalid_transition",
    )


def test_a_second_verification_after_finalized_is_an_invalid_transition(
    provider_side: Side,
) -> None:
    done = negotiate(provider_side)
    refused_in_state(
        provider_side,
        "provider",
        done.provider_pid,
        lambda: verification(provider_side, done, done.agreement),
        status=400,
        code="dsp.invalid_transition",
    )


def test_terminating_a_finalized_negotiation_is_an_invalid_transition(provider_side: Side) -> None:
    done = negotiate(provider_side)
    end = pids_message(
        "ContractNegotiationTerminationMessage", done.provider_pid, done.consumer_pid
    )
    refused_in_state(
        provider_side,
        "provider",
        done.provider_pid,
        lambda: provider_side.send(f"/dsp/negotiations/{done.provider_pid}/termination", end),
        status=400,
        code="dsp.invalid_transition",
    )


def test_a_finalized_event_to_a_requested_negotiation_is_an_invalid_transition(
    consumer_side: Side,
) -> None:
    n = start_negotiation(consumer_side)
    event = pids_message(
        "ContractNegotiationEventMessage", PROVIDER_PID, n["consumer_pid"], eventType="FINALIZED"
    )
    refused_in_state(
        consumer_side,
        "consumer",
        n["consumer_pid"],
        lambda: consumer_side.send(f"/dsp/negotiations/{n['consumer_pid']}/events", event),
        status=400,
        code="dsp.invalid_transition",
    )


def test_a_second_agreement_is_an_invalid_transition(consumer_side: Side) -> None:
    n = start_negotiation(consumer_side)
    parties, path = consumer_side.parties, f"/dsp/negotiations/{n['consumer_pid']}/agreement"
    first = consumer_side.send(path, agreement_message(parties, n, provider_agreement(parties)))
    assert first.status_code == 200
    second = agreement_message(parties, n, provider_agreement(parties))
    refused_in_state(
        consumer_side,
        "consumer",
        n["consumer_pid"],
        lambda: consumer_side.send(path, second),
        status=400,
        code="dsp.invalid_transition",
    )


def test_a_counter_request_is_refused(provider_side: Side) -> None:
    provider_pid, consumer_pid = request_contract(provider_side)
    counter = pids_message(
        "ContractRequestMessage",
        provider_pid,
        consumer_pid,
        offer={"@id": "urn:uuid:1", "@type": "Offer", "permission": [{"action": "use"}]},
    )
    refused_in_state(
        provider_side,
        "provider",
        provider_pid,
        lambda: provider_side.send(f"/dsp/negotiations/{provider_pid}/request", counter),
        status=400,
        code="dsp.counter_offer_unsupported",
    )


# ---- who may address which negotiation ---------------------------------------------------------


def test_an_agreement_sent_to_the_provider_side_is_the_wrong_side(provider_side: Side) -> None:
    provider_pid, consumer_pid = request_contract(provider_side)
    message = pids_message(
        "ContractAgreementMessage", provider_pid, consumer_pid, agreement={"@id": "urn:uuid:1"}
    )
    refused_in_state(
        provider_side,
        "provider",
        provider_pid,
        lambda: provider_side.send(f"/dsp/negotiations/{provider_pid}/agreement", message),
        status=400,
        code="dsp.wrong_side",
    )


def test_a_verification_sent_to_the_consumer_side_is_the_wrong_side(consumer_side: Side) -> None:
    n = start_negotiation(consumer_side)
    path = f"/dsp/negotiations/{n['consumer_pid']}/agreement/verification"
    message = pids_message("ContractAgreementVerificationMessage", PROVIDER_PID, n["consumer_pid"])
    refused_in_state(
        consumer_side,
        "consumer",
        n["consumer_pid"],
        lambda: consumer_side.send(path, message),
        status=400,
        code="dsp.wrong_side",
    )


def test_an_unknown_pid_is_not_found(provider_side: Side) -> None:
    pid = f"urn:uuid:{uuid.uuid4()}"
    verbs = {
        "termination": ("ContractNegotiationTerminationMessage", {}),
        "events": ("ContractNegotiationEventMessage", {"eventType": "ACCEPTED"}),
        "agreement/verification": ("ContractAgreementVerificationMessage", {}),
        "agreement": ("ContractAgreementMessage", {"agreement": {}}),
    }
    before = row_counts(provider_side.platform.engine)
    for verb, (kind, extra) in verbs.items():
        message = pids_message(kind, pid, pid, **extra)
        answer = provider_side.send(f"/dsp/negotiations/{pid}/{verb}", message)
        assert answer.status_code == 404, verb
        assert (answer.json()["@type"], answer.json()["code"]) == (
            "ContractNegotiationError",
            "dsp.negotiation_not_found",
        ), verb
    unknown = provider_side.send(f"/dsp/negotiations/{pid}", b"", method="GET")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "dsp.negotiation_not_found")
    assert row_counts(provider_side.platform.engine) == before


def test_an_unknown_endpoint_is_not_found(provider_side: Side) -> None:
    answer = provider_side.send("/dsp/negotiations/urn:uuid:1/offers/extra", b"{}")
    assert (answer.status_code, answer.json()["code"]) == (404, "dsp.unknown_endpoint")


def test_only_the_counterparty_reads_the_state(platform: Platform, provider_side: Side) -> None:
    provider_pid, _ = request_contract(provider_side)
    seen = provider_side.send(f"/dsp/negotiations/{provider_pid}", b"", method="GET")
    assert (seen.status_code, seen.json()["state"]) == (200, "AGREED")
    stranger = _stranger(platform)
    hidden = provider_side.send(
        f"/dsp/negotiations/{provider_pid}", b"", method="GET", signer=stranger
    )
    assert (hidden.status_code, hidden.json()["code"]) == (404, "dsp.negotiation_not_found")


def _stranger(platform: Platform) -> Ed25519Signer:
    """Another consumer with a registered key (but no part in the negotiation)."""
    return register_party(
        platform, "enterprise", "consumer", "东瓯农村商业银行", "https://x.cn/dsp"
    ).signer


def test_a_message_from_a_non_party_is_refused(platform: Platform, provider_side: Side) -> None:
    provider_pid, consumer_pid = request_contract(provider_side)
    stranger = _stranger(platform)
    end = pids_message("ContractNegotiationTerminationMessage", provider_pid, consumer_pid)
    refused_in_state(
        provider_side,
        "provider",
        provider_pid,
        lambda: provider_side.send(
            f"/dsp/negotiations/{provider_pid}/termination", end, signer=stranger
        ),
        status=403,
        code="dsp.not_a_party",
    )


def test_a_message_with_the_wrong_consumer_pid_is_refused(provider_side: Side) -> None:
    provider_pid, _ = request_contract(provider_side)
    end = pids_message("ContractNegotiationTerminationMessage", provider_pid, "urn:uuid:other")
    refused_in_state(
        provider_side,
        "provider",
        provider_pid,
        lambda: provider_side.send(f"/dsp/negotiations/{provider_pid}/termination", end),
        status=400,
        code="dsp.pid_mismatch",
    )


def test_without_a_connector_the_endpoints_answer_503(client: Any, parties: Parties) -> None:
    raw = json.dumps(contract_request(parties)).encode()
    headers = httpsig.sign_request(
        parties.consumer.signer, parties.consumer.keyid, "POST", "/dsp/negotiations/request", raw
    )
    answer = client.post("/dsp/negotiations/request", content=raw, headers=headers)
    assert (answer.status_code, answer.json()["code"]) == (503, "dsp.connector_off")
