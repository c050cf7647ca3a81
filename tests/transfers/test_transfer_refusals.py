"""Bad input at the DSP transfer endpoints: every refusal is a TransferError with its status
and stable code, and changes nothing — no row in any table, not even the nonce."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from contracts_support import register_party, request_contract
from sqlalchemy import update
from transfers_support import (
    CONTEXT,
    PULL,
    PUSH,
    Pair,
    message,
    provider_view,
    push_address,
    refused,
    request_body,
    schema_errors,
    start,
)

from shuchang.db import utcnow
from shuchang.domains.catalog import products
from shuchang.domains.contracts.models import Agreement
from shuchang.domains.participants import SYSTEM, Actor
from shuchang.domains.participants import service as participant_service
from shuchang.domains.participants.schemas import StatusChange
from shuchang.domains.transfers import messages
from shuchang.ports import Ed25519Signer

REQUEST = "/dsp/transfers/request"


def _send(pair: Pair, body: Any, path: str = REQUEST, **kw: Any) -> Callable[[], Any]:
    return partial(pair.provider.send, path, body, **kw)


# ---- who signed it ---------------------------------------------------------------------------


def test_an_unsigned_request_is_refused(pair: Pair) -> None:
    raw, _ = pair.provider.sign(REQUEST, request_body(pair.agreement_id))
    send = partial(
        pair.provider.client.post,
        REQUEST,
        content=raw,
        headers={"Content-Type": "application/json"},
    )
    refused(pair.provider, send, 401, "dsp.unsigned")


def test_a_request_signed_by_another_key_is_refused(pair: Pair) -> None:
    body = request_body(pair.agreement_id)
    impostor = _send(pair, body, signer=Ed25519Signer(), keyid=pair.provider.peer.keyid)
    refused(pair.provider, impostor, 401, "dsp.signature_invalid")
    refused(pair.provider, _send(pair, body, signer=Ed25519Signer()), 401, "dsp.key_unknown")


def test_a_replayed_request_is_refused(pair: Pair) -> None:
    raw, headers = pair.provider.sign(REQUEST, request_body(pair.agreement_id))
    first = pair.provider.client.post(REQUEST, content=raw, headers=headers)
    assert first.status_code == 201, first.text
    assert schema_errors(first.json()) == []
    again = partial(pair.provider.client.post, REQUEST, content=raw, headers=headers)
    refused(pair.provider, again, 409, "dsp.replayed")


# ---- the agreement ---------------------------------------------------------------------------


@pytest.mark.parametrize("agreement", ["00000000-0000-4000-8000-000000000000", "not-a-uuid"])
def test_a_request_without_an_agreement_is_refused(pair: Pair, agreement: str) -> None:
    body = {**request_body(pair.agreement_id), "agreementId": f"urn:uuid:{agreement}"}
    refused(pair.provider, _send(pair, body), 404, "dsp.agreement_unknown")


def test_another_consumers_agreement_is_refused(pair: Pair) -> None:
    platform = pair.provider.platform
    other = register_party(
        platform, "enterprise", "consumer", "东瓯农村商业银行", "https://rcb.example.cn/dsp"
    )
    body = request_body(pair.agreement_id, callback=other.url)
    send = _send(pair, body, signer=other.signer)
    refused(pair.provider, send, 403, "dsp.not_agreement_consumer")


def test_an_expired_agreement_is_refused(pair: Pair) -> None:
    with pair.provider.platform.unit() as s:
        s.execute(
            update(Agreement).where(Agreement.id == pair.agreement_id).values(valid_until=utcnow())
        )
    body = request_body(pair.agreement_id)
    refused(pair.provider, _send(pair, body), 403, "dsp.agreement_expired")


def test_an_agreement_not_yet_finalized_is_refused(pair: Pair) -> None:
    request_contract(pair.provider)  # agreed, but the consumer has not countersigned
    pending = pair.provider.transport.last("ContractAgreementMessage").body["agreement"]["@id"]
    body = {**request_body(pair.agreement_id), "agreementId": pending}
    refused(pair.provider, _send(pair, body), 409, "dsp.agreement_not_active")


def test_a_delisted_product_is_refused(pair: Pair) -> None:
    with pair.provider.platform.unit() as s:
        owner = Actor(participant_id=pair.provider.local.id, role="provider")
        products.delist(s, owner, pair.provider.parties.product_id, "数据源调整")
    refused(
        pair.provider, _send(pair, request_body(pair.agreement_id)), 409, "dsp.product_delisted"
    )


def test_a_suspended_consumer_is_refused(pair: Pair) -> None:
    with pair.provider.platform.unit() as s:
        participant_service.change_status(
            s, SYSTEM, pair.provider.peer.id, StatusChange(action="suspend", reason="逾期未年检")
        )
    body = request_body(pair.agreement_id)
    refused(pair.provider, _send(pair, body), 403, "dsp.participant_not_allowed")


def test_nothing_is_served_while_the_provider_is_suspended(pair: Pair) -> None:
    with pair.provider.platform.unit() as s:
        participant_service.change_status(
            s, SYSTEM, pair.provider.local.id, StatusChange(action="suspend", reason="整改")
        )
    body = request_body(pair.agreement_id)
    refused(pair.provider, _send(pair, body), 503, "dsp.connector_misconfigured")


# ---- what is asked for -------------------------------------------------------------------------


BAD_REQUESTS: dict[str, tuple[dict[str, Any], int, str]] = {
    "callback-elsewhere": (
        {"callbackAddress": "https://evil.example.cn/dsp"},
        400,
        "dsp.callback_unregistered",
    ),
    "other-format": ({"format": "AmazonS3-PUSH"}, 400, "dsp.format_unsupported"),
    "push-without-sink": ({"format": PUSH}, 400, "dsp.data_address_invalid"),
    "pull-with-sink": ({"dataAddress": push_address()}, 400, "dsp.data_address_invalid"),
    "push-to-ftp": (
        {"format": PUSH, "dataAddress": push_address("ftp://bank.example.cn/in")},
        400,
        "dsp.data_address_invalid",
    ),
    "push-with-credentials": (
        {"format": PUSH, "dataAddress": push_address("https://u:p@bank.example.cn/in")},
        400,
        "dsp.data_address_invalid",
    ),
    "push-relative": (
        {"format": PUSH, "dataAddress": push_address("/inbox")},
        400,
        "dsp.data_address_invalid",
    ),
    "push-bad-port": (
        {"format": PUSH, "dataAddress": push_address("https://bank.example.cn:99999/in")},
        400,
        "dsp.data_address_invalid",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_a_request_for_what_cannot_be_delivered_is_refused(pair: Pair, case: str) -> None:
    change, status, code = BAD_REQUESTS[case]
    body = {**request_body(pair.agreement_id), **change}
    refused(pair.provider, _send(pair, body), status, code, case)


MALFORMED: dict[str, Callable[[dict[str, Any]], Any]] = {
    "not-json": lambda m: b"{not json",
    "array": lambda m: b"[]",
    "other-type": lambda m: {**m, "@type": "ContractRequestMessage"},
    "no-context": lambda m: {k: v for k, v in m.items() if k != "@context"},
    "no-agreement": lambda m: {k: v for k, v in m.items() if k != "agreementId"},
    "no-format": lambda m: {k: v for k, v in m.items() if k != "format"},
    "numeric-consumer-pid": lambda m: {**m, "consumerPid": 42},
    "address-not-object": lambda m: {**m, "dataAddress": "https://x.cn"},
    "address-without-type": lambda m: {**m, "dataAddress": {"endpointType": "x"}},
    "property-not-string": lambda m: {
        **m,
        "dataAddress": {
            **push_address(),
            "endpointProperties": [{"@type": "EndpointProperty", "name": "a", "value": 1}],
        },
    },
    "float": lambda m: {**m, "shuchang:weight": 0.5},
}


def test_a_malformed_request_is_refused(pair: Pair) -> None:
    for case, malform in MALFORMED.items():
        body = malform(request_body(pair.agreement_id))
        refused(pair.provider, _send(pair, body), 400, "dsp.message_invalid", case)


def test_a_second_request_with_the_same_consumer_pid_is_refused(pair: Pair) -> None:
    body = request_body(pair.agreement_id)
    assert pair.provider.send(REQUEST, body).status_code == 201
    again = request_body(pair.agreement_id, consumer_pid=body["consumerPid"])
    refused(pair.provider, _send(pair, again), 409, "dsp.duplicate_request")


# ---- later messages -----------------------------------------------------------------------------


def _started(pair: Pair) -> tuple[str, str]:
    mine = start(pair)
    return str(mine["provider_pid"]), str(mine["consumer_pid"])


def test_an_unknown_process_is_refused(pair: Pair) -> None:
    pid = f"urn:uuid:{uuid.uuid4()}"
    body = message("TransferSuspensionMessage", pid, pid)
    refused(
        pair.provider,
        _send(pair, body, f"/dsp/transfers/{pid}/suspension"),
        404,
        "dsp.transfer_not_found",
    )
    get = _send(pair, b"", f"/dsp/transfers/{pid}", method="GET")
    refused(pair.provider, get, 404, "dsp.transfer_not_found")


def test_the_state_is_readable_by_the_parties_only(pair: Pair) -> None:
    provider_pid, consumer_pid = _started(pair)
    path = f"/dsp/transfers/{provider_pid}"
    answer = pair.provider.send(path, b"", method="GET")
    assert answer.status_code == 200, answer.text
    assert answer.json() == message("TransferProcess", provider_pid, consumer_pid, state="STARTED")
    assert schema_errors(answer.json()) == []
    other = register_party(
        pair.provider.platform, "enterprise", "consumer", "东瓯证券", "https://sec.example.cn/dsp"
    )
    get = _send(pair, b"", path, method="GET", signer=other.signer)
    refused(pair.provider, get, 404, "dsp.transfer_not_found")


def test_a_message_from_someone_else_is_refused(pair: Pair) -> None:
    provider_pid, consumer_pid = _started(pair)
    other = register_party(
        pair.provider.platform, "enterprise", "consumer", "东瓯信托", "https://trust.example.cn/dsp"
    )
    body = message("TransferSuspensionMessage", provider_pid, consumer_pid)
    path = f"/dsp/transfers/{provider_pid}/suspension"
    refused(pair.provider, _send(pair, body, path, signer=other.signer), 403, "dsp.not_a_party")


def test_mismatched_pids_are_refused(pair: Pair) -> None:
    provider_pid, _ = _started(pair)
    body = message("TransferSuspensionMessage", provider_pid, f"urn:uuid:{uuid.uuid4()}")
    path = f"/dsp/transfers/{provider_pid}/suspension"
    refused(pair.provider, _send(pair, body, path), 400, "dsp.pid_mismatch")


ILLEGAL = [
    ("STARTED", "start", "TransferStartMessage"),
    ("SUSPENDED", "completion", "TransferCompletionMessage"),
    ("SUSPENDED", "suspension", "TransferSuspensionMessage"),
    ("COMPLETED", "termination", "TransferTerminationMessage"),
    ("COMPLETED", "start", "TransferStartMessage"),
]


@pytest.mark.parametrize(("state", "verb", "kind"), ILLEGAL)
def test_an_illegal_transition_is_refused(pair: Pair, state: str, verb: str, kind: str) -> None:
    provider_pid, consumer_pid = _started(pair)
    path = f"/dsp/transfers/{provider_pid}"
    if state == "SUSPENDED":
        body = message("TransferSuspensionMessage", provider_pid, consumer_pid)
        assert pair.provider.send(f"{path}/suspension", body).status_code == 200
    if state == "COMPLETED":
        body = message("TransferCompletionMessage", provider_pid, consumer_pid)
        assert pair.provider.send(f"{path}/completion", body).status_code == 200
    body = message(kind, provider_pid, consumer_pid)
    answer = refused(
        pair.provider, _send(pair, body, f"{path}/{verb}"), 409, "dsp.invalid_transition"
    )
    assert (answer["providerPid"], answer["consumerPid"]) == (provider_pid, consumer_pid)


def test_a_message_to_an_unknown_endpoint_or_the_wrong_side_is_refused(pair: Pair) -> None:
    provider_pid, consumer_pid = _started(pair)
    body = message("TransferSuspensionMessage", provider_pid, consumer_pid)
    unknown = _send(pair, body, f"/dsp/transfers/{provider_pid}/pause")
    refused(pair.provider, unknown, 404, "dsp.unknown_endpoint")
    token = message("shuchang:TokenRequest", provider_pid, consumer_pid)
    wrong = partial(pair.consumer.send, f"/dsp/transfers/{consumer_pid}/token", token)
    refused(pair.consumer, wrong, 400, "dsp.wrong_side")


def test_a_message_of_the_wrong_kind_for_its_verb_is_refused(pair: Pair) -> None:
    provider_pid, consumer_pid = _started(pair)
    body = message("TransferCompletionMessage", provider_pid, consumer_pid)
    path = f"/dsp/transfers/{provider_pid}/suspension"
    refused(pair.provider, _send(pair, body, path), 400, "dsp.message_invalid")
    empty = message("TransferTerminationMessage", provider_pid, consumer_pid, reason=[])
    path = f"/dsp/transfers/{provider_pid}/termination"
    refused(pair.provider, _send(pair, empty, path), 400, "dsp.message_invalid")


# ---- the consumer's side -------------------------------------------------------------------------


def _suspended_by_consumer(pair: Pair) -> tuple[str, str]:
    mine = start(pair)
    answer = pair.consumer.client.post(
        f"/api/v1/transfers/{mine['id']}/suspend",
        json={"reason": "暂停"},
        headers=pair.consumer.local.headers,
    )
    assert answer.status_code == 200, answer.text
    return str(mine["provider_pid"]), str(mine["consumer_pid"])


def test_a_pull_start_without_a_token_is_refused_by_the_consumer(pair: Pair) -> None:
    provider_pid, consumer_pid = _suspended_by_consumer(pair)
    path = f"/dsp/transfers/{consumer_pid}/start"
    bare = message("TransferStartMessage", provider_pid, consumer_pid)
    refused(pair.consumer, partial(pair.consumer.send, path, bare), 400, "dsp.data_address_invalid")


def test_a_start_with_a_forged_token_is_refused_by_the_consumer(pair: Pair) -> None:
    provider_pid, consumer_pid = _suspended_by_consumer(pair)
    genuine = pair.relays[0].last("TransferStartMessage").body
    address = genuine["dataAddress"]
    token = next(p["value"] for p in address["endpointProperties"] if p["name"] == "authorization")
    head, body, sig = token.split(".")
    forged = f"{head}.{body}.{sig[:-4]}AAAA"
    props = [
        {**p, "value": forged} if p["name"] == "authorization" else p
        for p in address["endpointProperties"]
    ]
    start_message = message(
        "TransferStartMessage",
        provider_pid,
        consumer_pid,
        dataAddress={**address, "endpointProperties": props},
    )
    path = f"/dsp/transfers/{consumer_pid}/start"
    send = partial(pair.consumer.send, path, start_message)
    refused(pair.consumer, send, 400, "dsp.token_invalid")


def test_the_consumer_cannot_resume_what_the_provider_suspended(pair: Pair) -> None:
    provider_pid, consumer_pid = _started(pair)
    theirs = provider_view(pair, consumer_pid)
    pair.provider.client.post(
        f"/api/v1/transfers/{theirs['id']}/suspend",
        json={"reason": "合规复核"},
        headers=pair.provider.local.headers,
    )
    body = message("TransferStartMessage", provider_pid, consumer_pid)
    path = f"/dsp/transfers/{provider_pid}/start"
    refused(pair.provider, _send(pair, body, path), 409, "dsp.suspended_by_provider")


def test_a_refusal_is_a_valid_transfer_error_even_before_a_process_exists() -> None:
    error = messages.error(None, None, "dsp.agreement_unknown", ["No such agreement", "无"])
    assert error["@context"] == CONTEXT
    assert schema_errors(error) == []
    assert PULL in messages.FORMATS
