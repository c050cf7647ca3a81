"""Bad input at the provider's DSP endpoint: every refusal is a ContractNegotiationError with
its HTTP status and stable code, and leaves the database exactly as it was — not one row in
any table, and not even the nonce of the refused request is spent (a refused message can be
corrected and sent again only with a new signature anyway, but a refusal writes nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from contracts_support import (
    Parties,
    Side,
    catalog_offer,
    contract_request,
    negotiation_error,
    open_side,
    pids_message,
    register_party,
    request_contract,
    row_counts,
    state,
    verification_body,
)
from sqlalchemy import select
from two_connectors import OFFER, list_product

from shuchang.domains.catalog import products
from shuchang.domains.contracts import httpsig
from shuchang.domains.participants import SYSTEM, Actor
from shuchang.domains.participants import keys as participant_keys
from shuchang.domains.participants import service as participant_service
from shuchang.domains.participants.models import ParticipantKey
from shuchang.domains.participants.schemas import StatusChange
from shuchang.platform import Platform
from shuchang.ports import Ed25519Signer

REQUEST = "/dsp/negotiations/request"


def refused(
    side: Side, send: Callable[[], httpx.Response], status: int, code: str, case: str = ""
) -> None:
    """Send; expect a ContractNegotiationError ``code`` and not one row changed anywhere."""
    before = row_counts(side.platform.engine)
    negotiation_error(send(), status, code, case)
    assert row_counts(side.platform.engine) == before, case


def post(side: Side, raw: bytes, headers: dict[str, str], path: str = REQUEST) -> httpx.Response:
    return side.client.post(path, content=raw, headers=headers)


# ---- who signed it -----------------------------------------------------------------------------


def test_an_unsigned_request_is_refused(provider_side: Side) -> None:
    raw, _ = provider_side.sign(REQUEST, contract_request(provider_side.parties))
    refused(
        provider_side,
        lambda: post(provider_side, raw, {"Content-Type": "application/json"}),
        401,
        "dsp.unsigned",
    )


def test_a_request_signed_by_another_key_under_the_consumers_keyid_is_refused(
    provider_side: Side,
) -> None:
    body = contract_request(provider_side.parties)
    impostor, keyid = Ed25519Signer(), provider_side.peer.keyid
    refused(
        provider_side,
        lambda: provider_side.send(REQUEST, body, signer=impostor, keyid=keyid),
        401,
        "dsp.signature_invalid",
    )


def test_a_request_with_an_altered_body_is_refused(provider_side: Side) -> None:
    raw, headers = provider_side.sign(REQUEST, contract_request(provider_side.parties))
    altered = raw.replace(b"https://bank", b"https://evil")
    refused(
        provider_side, lambda: post(provider_side, altered, headers), 401, "dsp.digest_mismatch"
    )


def test_a_signature_over_another_path_is_refused(provider_side: Side) -> None:
    raw, headers = provider_side.sign(
        "/dsp/negotiations/other", contract_request(provider_side.parties)
    )
    refused(provider_side, lambda: post(provider_side, raw, headers), 401, "dsp.signature_invalid")


def test_a_signature_for_another_method_is_refused(provider_side: Side) -> None:
    body = contract_request(provider_side.parties)
    raw, headers = provider_side.sign(REQUEST, body, method="PUT")
    refused(provider_side, lambda: post(provider_side, raw, headers), 401, "dsp.signature_invalid")


def test_a_key_nobody_registered_is_refused(provider_side: Side) -> None:
    body = contract_request(provider_side.parties)
    stranger = Ed25519Signer()
    refused(
        provider_side,
        lambda: provider_side.send(REQUEST, body, signer=stranger),
        401,
        "dsp.key_unknown",
    )


def test_a_revoked_key_is_refused(platform: Platform, provider_side: Side) -> None:
    consumer = provider_side.peer
    with platform.unit() as s:
        key_id = s.scalars(
            select(ParticipantKey.id).where(ParticipantKey.participant_id == consumer.id)
        ).one()
        participant_keys.revoke_participant_key(s, SYSTEM, consumer.id, key_id)
    body = contract_request(provider_side.parties)
    refused(provider_side, lambda: provider_side.send(REQUEST, body), 401, "dsp.key_unknown")


def test_a_stale_signature_is_refused(provider_side: Side, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patched:
        patched.setattr(httpsig.time, "time", lambda: 1_700_000_000.0)
        raw, headers = provider_side.sign(REQUEST, contract_request(provider_side.parties))
    refused(provider_side, lambda: post(provider_side, raw, headers), 401, "dsp.signature_stale")


def test_malformed_signature_headers_are_refused(provider_side: Side) -> None:
    raw, headers = provider_side.sign(REQUEST, contract_request(provider_side.parties))
    headers["Signature-Input"] = headers["Signature-Input"].replace('alg="ed25519"', 'alg="hs2019"')
    refused(
        provider_side, lambda: post(provider_side, raw, headers), 401, "dsp.signature_malformed"
    )


def test_a_replayed_request_is_refused_and_changes_nothing(provider_side: Side) -> None:
    raw, headers = provider_side.sign(REQUEST, contract_request(provider_side.parties))
    first = post(provider_side, raw, headers)
    assert first.status_code == 201
    n = state(provider_side.platform, "provider", first.json()["providerPid"])
    refused(provider_side, lambda: post(provider_side, raw, headers), 409, "dsp.replayed")
    assert state(provider_side.platform, "provider", n.provider_pid or "").state == n.state
    assert len(provider_side.transport.sent) == 1


def test_a_replayed_verification_is_refused(provider_side: Side) -> None:
    provider_pid, consumer_pid = request_contract(provider_side)
    agreement = provider_side.transport.last("ContractAgreementMessage").body["agreement"]
    path = f"/dsp/negotiations/{provider_pid}/agreement/verification"
    body = verification_body(provider_side, provider_pid, consumer_pid, agreement)
    raw, headers = provider_side.sign(path, body)
    assert post(provider_side, raw, headers, path).status_code == 200
    refused(provider_side, lambda: post(provider_side, raw, headers, path), 409, "dsp.replayed")
    assert state(provider_side.platform, "provider", provider_pid).state == "FINALIZED"


def test_a_refused_message_does_not_spend_its_nonce(provider_side: Side) -> None:
    body = contract_request(provider_side.parties, callback="https://unregistered.example.cn/dsp")
    raw, headers = provider_side.sign(REQUEST, body)
    refused(
        provider_side, lambda: post(provider_side, raw, headers), 400, "dsp.callback_unregistered"
    )
    # Same nonce again: still judged on its content, not taken for a replay.
    refused(
        provider_side, lambda: post(provider_side, raw, headers), 400, "dsp.callback_unregistered"
    )


def test_a_percent_encoded_path_verifies_as_sent(provider_side: Side) -> None:
    provider_pid, consumer_pid = request_contract(provider_side)
    path = f"/dsp/negotiations/{provider_pid.replace(':', '%3A')}/termination"
    end = pids_message("ContractNegotiationTerminationMessage", provider_pid, consumer_pid)
    raw, headers = provider_side.sign(path, end)
    answer = post(provider_side, raw, headers, path)
    assert answer.status_code == 200, answer.text


# ---- what is asked for -------------------------------------------------------------------------


def test_a_callback_that_is_not_the_consumers_connector_is_refused(provider_side: Side) -> None:
    body = contract_request(provider_side.parties, callback=provider_side.local.url)
    refused(
        provider_side, lambda: provider_side.send(REQUEST, body), 400, "dsp.callback_unregistered"
    )


def test_a_request_without_a_callback_is_refused(provider_side: Side) -> None:
    body = contract_request(provider_side.parties)
    del body["callbackAddress"]
    refused(
        provider_side, lambda: provider_side.send(REQUEST, body), 400, "dsp.callback_unregistered"
    )


OFFER_CHANGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "other-purpose": lambda o: o["permission"][0]["constraint"][0].update(rightOperand="精准营销"),
    "purpose-dropped": lambda o: o["permission"][0].pop("constraint"),
    "broader-action": lambda o: o["permission"][0].update(action="distribute"),
    "extra-permission": lambda o: o["permission"].append({"action": "read"}),
    "prohibition-added": lambda o: o.update(prohibition=[{"action": "distribute"}]),
}


def test_an_offer_other_than_the_listed_one_is_refused(provider_side: Side) -> None:
    for case, change in OFFER_CHANGES.items():  # one app for all: the cases share no state
        offer = catalog_offer()
        change(offer)
        body = contract_request(provider_side.parties, offer=offer)
        send = partial(provider_side.send, REQUEST, body)
        refused(provider_side, send, 400, "dsp.offer_mismatch", case)


def test_the_listed_offer_matches_whatever_its_id_and_context(provider_side: Side) -> None:
    offer = {**catalog_offer(), "@context": "http://www.w3.org/ns/odrl.jsonld", "@id": "urn:x"}
    answer = provider_side.send(REQUEST, contract_request(provider_side.parties, offer=offer))
    assert answer.status_code == 201, answer.text


def _with_target(side: Side, target: str) -> dict[str, Any]:
    body = contract_request(side.parties)
    body["offer"]["target"] = target
    return body


def test_an_unknown_product_is_refused(provider_side: Side) -> None:
    for target in ["urn:uuid:00000000-0000-4000-8000-000000000000", "not-a-uuid", ""]:
        body = _with_target(provider_side, target)
        send = partial(provider_side.send, REQUEST, body)
        refused(provider_side, send, 404, "dsp.offer_unknown", target)


def test_a_delisted_product_is_refused(platform: Platform, provider_side: Side) -> None:
    with platform.unit() as s:
        owner = Actor(participant_id=provider_side.local.id, role="provider")
        products.delist(s, owner, provider_side.parties.product_id, "数据源调整")
    body = contract_request(provider_side.parties)
    refused(provider_side, lambda: provider_side.send(REQUEST, body), 404, "dsp.offer_unknown")


def test_another_providers_product_is_refused(platform: Platform, provider_side: Side) -> None:
    other = register_party(
        platform, "enterprise", "provider", "东瓯电力有限公司", "https://p.cn/dsp"
    )
    product_id = list_product(platform, other.id, OFFER)
    body = _with_target(provider_side, f"urn:uuid:{product_id}")
    refused(provider_side, lambda: provider_side.send(REQUEST, body), 404, "dsp.offer_unknown")


def test_a_second_request_with_the_same_consumer_pid_is_refused(provider_side: Side) -> None:
    _, consumer_pid = request_contract(provider_side)
    body = contract_request(provider_side.parties, consumer_pid=consumer_pid)
    refused(provider_side, lambda: provider_side.send(REQUEST, body), 409, "dsp.duplicate_request")


# ---- who asks -------------------------------------------------------------------------------


def test_a_suspended_consumer_is_refused(platform: Platform, provider_side: Side) -> None:
    with platform.unit() as s:
        participant_service.change_status(
            s, SYSTEM, provider_side.peer.id, StatusChange(action="suspend", reason="逾期未年检")
        )
    body = contract_request(provider_side.parties)
    refused(
        provider_side, lambda: provider_side.send(REQUEST, body), 403, "dsp.participant_not_allowed"
    )


def test_a_participant_without_the_consumer_role_is_refused(
    platform: Platform, provider_side: Side
) -> None:
    other = register_party(
        platform, "enterprise", "provider", "东瓯燃气有限公司", "https://g.cn/dsp"
    )
    body = contract_request(provider_side.parties, callback=other.url)
    refused(
        provider_side,
        lambda: provider_side.send(REQUEST, body, signer=other.signer),
        403,
        "dsp.participant_not_allowed",
    )


# ---- what it says -----------------------------------------------------------------------------


MALFORMED: dict[str, Callable[[dict[str, Any]], Any]] = {
    "not-json": lambda m: b"{not json",
    "array": lambda m: b"[]",
    "other-type": lambda m: {**m, "@type": "ContractOfferMessage"},
    "no-context": lambda m: {k: v for k, v in m.items() if k != "@context"},
    "other-context": lambda m: {**m, "@context": ["https://w3id.org/dspace/2024/1/context.json"]},
    "no-offer": lambda m: {k: v for k, v in m.items() if k != "offer"},
    "offer-not-object": lambda m: {**m, "offer": "use"},
    "numeric-consumer-pid": lambda m: {**m, "consumerPid": 42},
}


def test_a_malformed_request_is_refused(provider_side: Side) -> None:
    for case, malform in MALFORMED.items():
        body = malform(contract_request(provider_side.parties))
        send = partial(provider_side.send, REQUEST, body)
        refused(provider_side, send, 400, "dsp.message_invalid", case)


@pytest.mark.parametrize("where", ["termination-reason", "request-extension"])
def test_a_message_with_a_float_is_refused_as_invalid(provider_side: Side, where: str) -> None:
    if where == "request-extension":
        body = {**contract_request(provider_side.parties), "shuchang:weight": 0.5}
        path = REQUEST
    else:
        provider_pid, consumer_pid = request_contract(provider_side)
        body = pids_message(
            "ContractNegotiationTerminationMessage", provider_pid, consumer_pid, reason=[1.5]
        )
        path = f"/dsp/negotiations/{provider_pid}/termination"
    refused(provider_side, lambda: provider_side.send(path, body), 400, "dsp.message_invalid")


def test_a_request_to_a_provider_in_manual_mode_is_checked_the_same(
    platform: Platform, tmp_path: Path, parties: Parties
) -> None:
    with open_side(platform, tmp_path, parties, negotiation_approval="manual") as side:
        offer = catalog_offer()
        OFFER_CHANGES["other-purpose"](offer)
        body = contract_request(parties, offer=offer)
        refused(side, lambda: side.send(REQUEST, body), 400, "dsp.offer_mismatch")
