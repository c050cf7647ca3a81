"""Manual approval (人工审批): with ``negotiation_approval="manual"`` a matching request waits
in REQUESTED until the provider approves it through the management API; only the provider
approves, and only while the product is still listed.
"""

from __future__ import annotations

import uuid

from contracts_support import (
    Side,
    request_contract,
    row_counts,
    state,
    verification,
)

from shuchang.domains.catalog import products
from shuchang.domains.participants import Actor


def _provider_negotiation(side: Side, provider_pid: str) -> uuid.UUID:
    return state(side.platform, "provider", provider_pid).id


def test_in_manual_mode_a_request_waits_for_the_providers_approval(manual_side: Side) -> None:
    provider_pid, consumer_pid = request_contract(manual_side)
    negotiation_id = _provider_negotiation(manual_side, provider_pid)
    assert state(manual_side.platform, "provider", provider_pid).state == "REQUESTED"
    assert manual_side.transport.sent == []
    approved = manual_side.client.post(
        f"/api/v1/contracts/negotiations/{negotiation_id}/approve",
        headers=manual_side.local.headers,
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "AGREED"
    sent = manual_side.transport.last("ContractAgreementMessage")
    assert sent.url.endswith(f"/negotiations/{consumer_pid}/agreement")
    response = verification(manual_side, (provider_pid, consumer_pid), sent.body["agreement"])
    assert response.status_code == 200
    assert state(manual_side.platform, "provider", provider_pid).state == "FINALIZED"


def test_the_consumer_cannot_approve(manual_side: Side) -> None:
    provider_pid, _ = request_contract(manual_side)
    negotiation_id = _provider_negotiation(manual_side, provider_pid)
    before = row_counts(manual_side.platform.engine)
    answer = manual_side.client.post(
        f"/api/v1/contracts/negotiations/{negotiation_id}/approve",
        headers=manual_side.peer.headers,
    )
    assert (answer.status_code, answer.json()["code"]) == (403, "negotiation.not_provider")
    assert state(manual_side.platform, "provider", provider_pid).state == "REQUESTED"
    assert row_counts(manual_side.platform.engine) == before


def test_approving_twice_is_a_conflict(manual_side: Side) -> None:
    provider_pid, _ = request_contract(manual_side)
    url = f"/api/v1/contracts/negotiations/{_provider_negotiation(manual_side, provider_pid)}"
    assert manual_side.client.post(f"{url}/approve", headers=manual_side.local.headers).is_success
    again = manual_side.client.post(f"{url}/approve", headers=manual_side.local.headers)
    assert (again.status_code, again.json()["code"]) == (409, "dsp.invalid_transition")
    assert len(manual_side.transport.sent) == 1


def test_a_product_delisted_before_approval_cannot_be_agreed(manual_side: Side) -> None:
    provider_pid, _ = request_contract(manual_side)
    with manual_side.platform.unit() as s:
        owner = Actor(participant_id=manual_side.local.id, role="provider")
        products.delist(s, owner, manual_side.parties.product_id, "数据源调整")
    before = row_counts(manual_side.platform.engine)
    url = f"/api/v1/contracts/negotiations/{_provider_negotiation(manual_side, provider_pid)}"
    answer = manual_side.client.post(f"{url}/approve", headers=manual_side.local.headers)
    assert (answer.status_code, answer.json()["code"]) == (409, "dsp.no_longer_available")
    assert state(manual_side.platform, "provider", provider_pid).state == "REQUESTED"
    assert row_counts(manual_side.platform.engine) == before
    assert manual_side.transport.sent == []
