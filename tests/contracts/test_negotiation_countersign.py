"""What the consumer's connector countersigns: only an agreement the provider signed, for the
target, the consumer and the rules it asked for (narrower is fine, broader or other is not).
Every refusal leaves the consumer's negotiation and database as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from contracts_support import (
    Parties,
    Side,
    agreement_message,
    detail,
    pids_message,
    provider_agreement,
    refused_in_state,
    start_negotiation,
)

from shuchang.domains.contracts import agreements
from shuchang.ports import Ed25519Signer


def _tampered(parties: Parties, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    agreement = provider_agreement(parties)
    change(agreement)
    return agreement


CHANGED_AGREEMENTS = {
    "other-purpose": lambda a: a["permission"][0]["constraint"][0].update(rightOperand="营销"),
    "purpose-dropped": lambda a: a["permission"][0]["constraint"].pop(0),
    "other-action": lambda a: a["permission"][0].update(action="distribute"),
    "other-target": lambda a: a.update(target="urn:uuid:00000000-0000-4000-8000-000000000000"),
    "other-assignee": lambda a: a.update(assignee="urn:uscc:91330300MA0000009X"),
}


def test_the_consumer_refuses_an_agreement_other_than_the_offer(consumer_side: Side) -> None:
    n = start_negotiation(consumer_side)
    path = f"/dsp/negotiations/{n['consumer_pid']}/agreement"
    for case, change in CHANGED_AGREEMENTS.items():  # each refusal leaves n as it was
        message = agreement_message(
            consumer_side.parties, n, _tampered(consumer_side.parties, change)
        )
        body = refused_in_state(
            consumer_side,
            "consumer",
            n["consumer_pid"],
            partial(consumer_side.send, path, message),
            status=400,
            code="dsp.agreement_mismatch",
        )
        assert body["consumerPid"] == n["consumer_pid"], case


@pytest.mark.parametrize(
    ("signer", "code"),
    [("impostor", "agreement.key_untrusted"), ("none", "dsp.signature_missing")],
)
def test_the_consumer_refuses_an_agreement_the_provider_did_not_sign(
    consumer_side: Side, signer: str, code: str
) -> None:
    n = start_negotiation(consumer_side)
    parties = consumer_side.parties
    message = agreement_message(
        parties,
        n,
        provider_agreement(parties),
        signer=Ed25519Signer() if signer == "impostor" else None,
    )
    if signer == "none":
        message["shuchang:signatures"] = []
    refused_in_state(
        consumer_side,
        "consumer",
        n["consumer_pid"],
        lambda: consumer_side.send(f"/dsp/negotiations/{n['consumer_pid']}/agreement", message),
        status=400,
        code=code,
    )


def test_the_consumer_refuses_an_agreement_with_an_extra_permission(consumer_side: Side) -> None:
    n = start_negotiation(consumer_side)
    agreement = _tampered(
        consumer_side.parties, lambda a: a["permission"].append({"action": "use"})
    )
    message = agreement_message(consumer_side.parties, n, agreement)
    refused_in_state(
        consumer_side,
        "consumer",
        n["consumer_pid"],
        lambda: consumer_side.send(f"/dsp/negotiations/{n['consumer_pid']}/agreement", message),
        status=400,
        code="dsp.agreement_mismatch",
    )


def test_the_consumer_accepts_an_agreement_that_only_narrows_the_offer(consumer_side: Side) -> None:
    n = start_negotiation(consumer_side)
    narrower = {"leftOperand": "spatial", "operator": "isPartOf", "rightOperand": "330000"}
    agreement = _tampered(
        consumer_side.parties, lambda a: a["permission"][0]["constraint"].append(narrower)
    )
    message = agreement_message(consumer_side.parties, n, agreement)
    answer = consumer_side.send(f"/dsp/negotiations/{n['consumer_pid']}/agreement", message)
    assert answer.status_code == 200, answer.text
    assert detail(consumer_side, n["id"])["state"] == "VERIFIED"


def test_the_consumer_refuses_an_agreement_naming_another_assigner(consumer_side: Side) -> None:
    n = start_negotiation(consumer_side)
    parties = consumer_side.parties
    agreement = _tampered(parties, lambda a: a.update(assigner="urn:uscc:11330300MB0000009Q"))
    signature = agreements.sign(
        agreement, "assigner", agreement["assigner"], parties.provider.signer
    )
    message = pids_message(
        "ContractAgreementMessage",
        n["provider_pid"],
        n["consumer_pid"],
        agreement=agreement,
        **{"shuchang:signatures": [signature]},
    )
    refused_in_state(
        consumer_side,
        "consumer",
        n["consumer_pid"],
        partial(consumer_side.send, f"/dsp/negotiations/{n['consumer_pid']}/agreement", message),
        status=400,
        code="dsp.agreement_mismatch",
    )
