"""Conformance of contract negotiation messages with the DSP 2025-1 artifacts.

The spec's own examples pass its schemas and our parser; every message our builders make, and
every message that actually leaves a side (captured by the recording transport) or answers a
request, passes the schema of its type. Shuchang's extensions (``shuchang:signatures``,
``shuchang:signature``) ride in the schemas' open content model.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from contracts_support import (
    NEGOTIATION,
    Side,
    agreement_message,
    catalog_offer,
    contract_request,
    negotiate,
    negotiation_example,
    pids_message,
    provider_agreement,
    request_contract,
    schema_errors,
    start_negotiation,
    state,
)
from two_connectors import OFFER

from shuchang.domains.contracts import agreements, messages
from shuchang.ports import Ed25519Signer

PPID, CPID = "urn:uuid:a343fcbf-99fc-4ce8-8e9b-148c97605aab", "urn:uuid:32541fe6-c580-409e"
EXAMPLES = {
    "contract-agreement-message-full.json": "contract-agreement-message",
    "contract-agreement-message.json": "contract-agreement-message",
    "contract-agreement-verification-message.json": "contract-agreement-verification-message",
    "contract-negotiation-error.json": "contract-negotiation-error",
    "contract-negotiation-event-message.json": "contract-negotiation-event-message",
    "contract-negotiation-termination-message.json": "contract-negotiation-termination-message",
    "contract-negotiation.json": "contract-negotiation",
    "contract-offer-message.json": "contract-offer-message",
    "contract-offer-message_initial.json": "contract-offer-message",
    "contract-request-message.json": "contract-request-message",
    "contract-request-message_initial.json": "contract-request-message",
}
SCHEMA_OF = {
    "ContractRequestMessage": "contract-request-message",
    "ContractOfferMessage": "contract-offer-message",
    "ContractAgreementMessage": "contract-agreement-message",
    "ContractAgreementVerificationMessage": "contract-agreement-verification-message",
    "ContractNegotiationEventMessage": "contract-negotiation-event-message",
    "ContractNegotiationTerminationMessage": "contract-negotiation-termination-message",
    "ContractNegotiation": "contract-negotiation",
    "ContractNegotiationError": "contract-negotiation-error",
}


def valid(message: dict[str, Any]) -> list[str]:
    return schema_errors(message, SCHEMA_OF[message["@type"]])


# ---- the spec's examples --------------------------------------------------------------------


def test_the_negotiation_folder_has_the_examples_we_check() -> None:
    assert sorted(p.name for p in (NEGOTIATION / "example").glob("*.json")) == sorted(EXAMPLES)


@pytest.mark.parametrize(("name", "schema"), sorted(EXAMPLES.items()))
def test_every_negotiation_example_passes_its_schema(name: str, schema: str) -> None:
    assert schema_errors(negotiation_example(name), schema) == []


@pytest.mark.parametrize(
    "name",
    [
        "contract-agreement-message-full.json",
        "contract-agreement-message.json",
        "contract-agreement-verification-message.json",
        "contract-negotiation-event-message.json",
        "contract-negotiation-termination-message.json",
        "contract-offer-message.json",
        "contract-request-message.json",
        "contract-request-message_initial.json",
    ],
)
def test_every_inbound_example_parses(name: str) -> None:
    example = negotiation_example(name)
    raw = (NEGOTIATION / "example" / name).read_bytes()
    assert messages.parse(raw, example["@type"]) == example


def test_the_initial_offer_example_parses() -> None:
    raw = (NEGOTIATION / "example" / "contract-offer-message_initial.json").read_bytes()
    messages.parse(raw, "ContractOfferMessage")


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("contract-request-message_initial.json", lambda m: m.pop("offer")),
        ("contract-request-message_initial.json", lambda m: m.update(consumerPid=7)),
        ("contract-request-message_initial.json", lambda m: m.update(offer=[])),
        ("contract-agreement-message.json", lambda m: m.pop("agreement")),
        ("contract-negotiation-event-message.json", lambda m: m.update(eventType="AGREED")),
        ("contract-negotiation-event-message.json", lambda m: m.update({"@context": []})),
        ("contract-negotiation-termination-message.json", lambda m: m.pop("providerPid")),
        ("contract-agreement-verification-message.json", lambda m: m.update({"@type": "X"})),
    ],
    ids=[
        "request-no-offer",
        "request-numeric-pid",
        "request-offer-not-object",
        "agreement-missing",
        "event-type-unknown",
        "context-without-dsp",
        "termination-no-provider-pid",
        "other-type",
    ],
)
def test_parse_refuses_what_the_schemas_refuse(name: str, change: Any) -> None:
    message = negotiation_example(name)
    kind = message["@type"]
    change(message)
    assert schema_errors(message, EXAMPLES[name]) != []
    with pytest.raises(messages.MessageInvalid) as caught:
        messages.parse(json.dumps(message).encode(), kind)
    assert caught.value.en and caught.value.zh


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b'"x"', b"\xff\xfe"])
def test_parse_refuses_what_is_not_a_json_object(raw: bytes) -> None:
    with pytest.raises(messages.MessageInvalid):
        messages.parse(raw, "ContractRequestMessage")


# ---- what our builders make ----------------------------------------------------------------


def _agreement() -> dict[str, Any]:
    return agreements.build(
        OFFER,
        agreements.Terms(
            "urn:uuid:3dd1add8-4d2d-469e-9634-8394a8836a88",
            "urn:uscc:11330300MB0000001X",
            "urn:uscc:91330300MA0000002Y",
            "one_off",
            100000,
            None,
            365,
        ),
        datetime.now(UTC),
    )


OFFER_WITH_TARGET = {**catalog_offer(), "target": "urn:uuid:3dd1add8-4d2d-469e-9634-8394a8836a88"}
SIGNATURE = {"role": "assignee", "participant": "urn:uscc:x", "keyid": "0" * 16}
BUILT = {
    "request-initial": lambda: messages.request(CPID, OFFER_WITH_TARGET, "https://bank.cn/dsp"),
    "request-counter": lambda: messages.request(CPID, OFFER_WITH_TARGET, "", provider_pid=PPID),
    "agreement": lambda: messages.agreement(PPID, CPID, _agreement(), [SIGNATURE]),
    "verification": lambda: messages.verification(PPID, CPID, SIGNATURE),
    "event-accepted": lambda: messages.event(PPID, CPID, "ACCEPTED"),
    "event-finalized": lambda: messages.event(PPID, CPID, "FINALIZED"),
    "termination": lambda: messages.termination(PPID, CPID, "terminated", ["用途变更"]),
    "error": lambda: messages.error(PPID, CPID, "dsp.invalid_transition", ["en", "中文"]),
    **{
        f"negotiation-{s.lower()}": (lambda s=s: messages.negotiation(PPID, CPID, s))
        for s in messages.STATES
    },
}


@pytest.mark.parametrize("name", BUILT)
def test_every_message_we_build_passes_its_schema(name: str) -> None:
    assert valid(BUILT[name]()) == []


def test_an_error_about_no_known_negotiation_passes_its_schema() -> None:
    assert valid(messages.error(None, CPID, "dsp.unsigned", ["The request is not signed"])) == []


# ---- what actually goes over the wire ---------------------------------------------------------


def test_what_the_provider_sends_and_answers_passes_the_schemas(provider_side: Side) -> None:
    body = {
        "@context": messages.CONTEXT,
        "@type": "ContractRequestMessage",
        "consumerPid": "urn:uuid:7e0b8c1d-2f3a-4b5c-8d9e-0a1b2c3d4e5f",
        "offer": {**catalog_offer(), "target": provider_side.parties.dataset_id},
        "callbackAddress": provider_side.peer.url,
    }
    assert valid(body) == []  # what a conforming consumer sends
    created = provider_side.send("/dsp/negotiations/request", body)
    assert created.status_code == 201
    assert valid(created.json()) == []
    agreement = provider_side.transport.last("ContractAgreementMessage").body
    assert valid(agreement) == []
    done = negotiate(provider_side)
    assert valid(provider_side.transport.last("ContractNegotiationEventMessage").body) == []
    seen = provider_side.send(f"/dsp/negotiations/{done.provider_pid}", b"", method="GET")
    assert seen.status_code == 200
    assert valid(seen.json()) == []
    assert seen.json()["state"] == "FINALIZED"


def test_the_termination_a_provider_sends_passes_its_schema(provider_side: Side) -> None:
    provider_pid, _ = request_contract(provider_side)
    n = state(provider_side.platform, "provider", provider_pid)
    ended = provider_side.client.post(
        f"/api/v1/contracts/negotiations/{n.id}/terminate",
        json={"reason": "数据源调整"},
        headers=provider_side.local.headers,
    )
    assert ended.status_code == 200, ended.text
    sent = provider_side.transport.last("ContractNegotiationTerminationMessage")
    assert sent.url.endswith(f"/negotiations/{n.consumer_pid}/termination")
    assert valid(sent.body) == []


def test_what_the_consumer_sends_passes_the_schemas(consumer_side: Side) -> None:
    n = start_negotiation(consumer_side)
    request = consumer_side.transport.last("ContractRequestMessage")
    assert request.url == f"{consumer_side.peer.url}/negotiations/request"
    assert valid(request.body) == []
    parties = consumer_side.parties
    message = agreement_message(parties, n, provider_agreement(parties))
    answered = consumer_side.send(f"/dsp/negotiations/{n['consumer_pid']}/agreement", message)
    assert answered.status_code == 200, answered.text
    verification = consumer_side.transport.last("ContractAgreementVerificationMessage")
    assert valid(verification.body) == []


def test_a_request_for_an_offer_without_id_is_refused_before_sending(consumer_side: Side) -> None:
    # The schema requires the offer's @id; the consumer's API refuses rather than send it.
    with pytest.raises(AssertionError, match=r"negotiation\.offer_invalid"):
        start_negotiation(consumer_side, offer=OFFER)


# ---- error answers --------------------------------------------------------------------------


def test_an_error_about_a_known_negotiation_passes_its_schema(provider_side: Side) -> None:
    done = negotiate(provider_side)
    again = pids_message(
        "ContractNegotiationTerminationMessage", done.provider_pid, done.consumer_pid
    )
    answer = provider_side.send(f"/dsp/negotiations/{done.provider_pid}/termination", again)
    assert answer.status_code == 400
    assert answer.json()["code"] == "dsp.invalid_transition"
    assert valid(answer.json()) == []


def test_an_error_before_a_negotiation_is_known_passes_its_schema(provider_side: Side) -> None:
    parties = provider_side.parties
    unknown = f"urn:uuid:{uuid.uuid4()}"
    refusals = {
        "unsigned": lambda: provider_side.client.post("/dsp/negotiations/request", content=b"{}"),
        "key-unknown": lambda: provider_side.send(
            "/dsp/negotiations/request", contract_request(parties), signer=Ed25519Signer()
        ),
        "offer-unknown": lambda: provider_side.send(
            "/dsp/negotiations/request",
            {**contract_request(parties), "offer": {**catalog_offer(), "target": unknown}},
        ),
        "negotiation-unknown": lambda: provider_side.send(
            f"/dsp/negotiations/{unknown}/termination",
            pids_message("ContractNegotiationTerminationMessage", unknown, unknown),
        ),
    }
    faults = {}
    for case, send in refusals.items():
        answer = send()
        assert answer.status_code in (401, 404), (case, answer.text)
        faults[case] = valid(answer.json())
    assert faults == {case: [] for case in refusals}
