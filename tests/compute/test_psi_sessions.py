"""PSI sessions between the two connectors, in process, on both databases: the three modes
end to end with the real signed routes, what each side learns and records, and refusals."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from contracts_support import Parties, row_counts
from psi_support import (
    REGISTERED,
    Pair,
    budgeted_offer,
    open_pair,
    psi_parties,
    sessions,
    start,
    uscc,
)
from sqlalchemy import select

from shuchang.domains.compute import psi_messages as m
from shuchang.domains.compute import restriction
from shuchang.domains.evidence.models import OutboxEntry
from shuchang.domains.participants import SYSTEM, Actor
from shuchang.errors import NotFound
from shuchang.platform import Platform

# The bank's applicants: 40 registered enterprises and 20 that are not (plus messy spellings).
APPLICANTS = [uscc(n) for n in range(260, 300)] + [uscc(n) for n in range(1000, 1020)]
EXPECTED = sorted(uscc(n) for n in range(260, 300))


@pytest.fixture
def parties(platform: Platform) -> Parties:
    return psi_parties(platform)


@pytest.fixture
def pair(platform: Platform, tmp_path: Path, parties: Parties) -> Iterator[Pair]:
    with open_pair(platform, tmp_path, parties) as joined:
        yield joined


def _evidence(platform: Platform, kind_prefix: str = "psi.") -> list[OutboxEntry]:
    with platform.unit(write=False) as s:
        return list(
            s.scalars(
                select(OutboxEntry)
                .where(OutboxEntry.kind.startswith(kind_prefix))
                .order_by(OutboxEntry.id)
            )
        )


def test_cardinality_both_learn_the_size_and_no_member_is_revealed(pair: Pair) -> None:
    messy = [a.lower() if i % 3 == 0 else f" {a} " for i, a in enumerate(APPLICANTS)]
    answer = start(pair, [*messy, "not-a-uscc"])
    assert answer.status_code == 201, answer.text
    assert answer.json()["rejected"] == 1 and answer.json()["local_size"] == len(APPLICANTS)
    (mine,) = sessions(pair.consumer)
    (theirs,) = sessions(pair.provider)
    assert mine["state"] == theirs["state"] == "COMPLETED", (mine, theirs)
    assert mine["result_size"] == theirs["result_size"] == len(EXPECTED)
    assert (mine["peer_size"], theirs["peer_size"]) == (REGISTERED, len(APPLICANTS))
    assert not mine["members_available"] and theirs["filter_name"] is None
    members = pair.consumer.client.get(
        f"/api/v1/psi/sessions/{mine['id']}/members", headers=pair.consumer.local.headers
    )
    assert members.status_code == 404
    assert mine["bytes_sent"] > 0 and theirs["bytes_sent"] > 0
    to_consumer, to_provider = pair.relays
    assert to_provider.kinds() == [m.REQUEST, m.RESULT] and to_consumer.kinds() == [m.RESPONSE]
    # No identifier, in any spelling, reaches any evidence entry of either side.
    payloads = json.dumps([e.payload for e in _evidence(pair.provider.platform)])
    assert "MA0000" not in payloads.upper()
    kinds = [e.kind for e in _evidence(pair.provider.platform)]
    assert kinds.count("psi.completed") == 2 and "psi.preparing" in kinds


def test_intersection_mode_gives_the_consumer_the_members(pair: Pair) -> None:
    assert start(pair, APPLICANTS, mode="intersection").status_code == 201
    (mine,) = sessions(pair.consumer)
    assert mine["state"] == "COMPLETED" and mine["members_available"]
    members = pair.consumer.client.get(
        f"/api/v1/psi/sessions/{mine['id']}/members", headers=pair.consumer.local.headers
    )
    assert members.json() == EXPECTED
    (theirs,) = sessions(pair.provider)
    # The provider cannot read members (it has none) through the consumer's route either.
    denied = pair.provider.client.get(
        f"/api/v1/psi/sessions/{theirs['id']}/members", headers=pair.provider.local.headers
    )
    assert denied.status_code == 404


def test_filter_mode_keeps_the_intersection_at_the_provider_as_a_named_filter(pair: Pair) -> None:
    assert start(pair, APPLICANTS, mode="filter").status_code == 201
    (mine,) = sessions(pair.consumer)
    (theirs,) = sessions(pair.provider)
    assert mine["state"] == theirs["state"] == "COMPLETED"
    assert mine["result_size"] == len(EXPECTED) and not mine["members_available"]
    assert theirs["filter_name"] == f"psi:{theirs['id']}"
    to_consumer, to_provider = pair.relays
    assert to_provider.kinds() == [m.REQUEST, m.RESPONSE]
    assert to_consumer.kinds() == [m.CLIENT_REQUEST, m.RESULT]
    assert "MA0000" not in json.dumps(
        [s.body for s in to_consumer.sent if s.body["@type"] == m.RESULT]
    )
    provider = Actor(participant_id=pair.provider.local.id, role="provider")
    with pair.provider.platform.unit(write=False) as s:
        found = restriction(s, provider, theirs["filter_name"])
        assert (found.column, sorted(found.values)) == ("uscc", EXPECTED)
        assert found.agreement_id == pair.agreement_id
        with pytest.raises(NotFound):
            restriction(
                s,
                Actor(participant_id=pair.consumer.local.id, role="consumer"),
                theirs["filter_name"],
            )
        assert restriction(s, SYSTEM, theirs["filter_name"]).values == found.values


def test_psi_then_a_dp_aggregate_counts_only_the_intersection(
    platform: Platform, tmp_path: Path
) -> None:
    """Filter mode, then a compute job naming the filter: the provider's DP aggregate counts
    only the applicants the tax bureau also registers; the identifiers never leave it."""
    parties = psi_parties(platform, offer=budgeted_offer())
    with open_pair(platform, tmp_path, parties) as pair:
        assert start(pair, APPLICANTS, mode="filter").status_code == 201
        (theirs,) = sessions(pair.provider)
        profile = {
            "table": "registry",
            "person": "uscc",
            "dimensions": [{"name": "tax_grade", "values": list("ABCD")}],
            "measures": [],
            "k": 3,
            "epsilon_default": 5.0,
            "epsilon_max": 10.0,
        }
        provider, bank = pair.provider.local.headers, pair.consumer.local.headers
        put = pair.provider.client.put(
            f"/api/v1/compute/profiles/{parties.product_id}", json=profile, headers=provider
        )
        assert put.status_code == 200, put.text
        job = {
            "agreement_id": str(pair.agreement_id),
            "sql": "SELECT tax_grade, COUNT(*) AS n FROM registry GROUP BY tax_grade",
            "epsilon": 10.0,
        }
        whole = pair.provider.client.post(
            "/api/v1/compute/jobs?wait=60", json=job, headers=bank
        ).json()
        restricted = pair.provider.client.post(
            "/api/v1/compute/jobs?wait=60",
            json={**job, "psi_filter": theirs["filter_name"]},
            headers=bank,
        )
        assert restricted.status_code == 200, restricted.text
        answer = restricted.json()
        assert answer["cached_from"] is None  # the filter is part of what is asked
        counts = {r[0]: r[1] for r in answer["result"]["rows"]}
        expected = {g: sum(1 for n in range(260, 300) if "ABCD"[n % 4] == g) for g in "ABCD"}
        assert all(abs(counts[g] - expected[g]) <= 3 for g in "ABCD"), counts  # noise ~0.1
        everyone = {r[0]: r[1] for r in whole["result"]["rows"]}
        assert all(abs(everyone[g] - 75) <= 3 for g in "ABCD"), everyone
        stranger = pair.provider.client.post(
            "/api/v1/compute/jobs?wait=60",
            json={**job, "psi_filter": f"psi:{uuid.uuid4()}"},
            headers=bank,
        )
        assert stranger.status_code == 404 and stranger.json()["code"] == "psi.filter_not_found"
        assert stranger.json()["field"] == "psi_filter"


def test_refusals_change_nothing(pair: Pair, parties: Parties) -> None:
    body = {
        "@context": m.CONTEXT,
        "@type": m.REQUEST,
        "consumerPid": f"urn:uuid:{uuid.uuid4()}",
        "agreementId": f"urn:uuid:{pair.agreement_id}",
        "mode": "filter",
        "protocol": "ecdh",
        "normalization": "uscc",
        "setSize": 50,
        "callbackAddress": parties.consumer.url,
    }
    cases = [
        (
            "no agreement",
            {**body, "agreementId": f"urn:uuid:{uuid.uuid4()}"},
            404,
            "psi.agreement_unknown",
        ),
        ("too small", {**body, "setSize": 3}, 400, "psi.set_too_small"),
        ("bad mode", {**body, "mode": "everything"}, 400, "psi.message_invalid"),
        (
            "bad request",
            {**body, "mode": "cardinality", "request": "bm90IGEgcmVxdWVzdA=="},
            400,
            "psi.request_invalid",
        ),
    ]
    for case, message, status, code in cases:
        before = row_counts(pair.provider.platform.engine)
        answer = pair.provider.send("/dsp/psi/request", message)
        assert answer.status_code == status, (case, answer.text)
        assert (answer.json()["@type"], answer.json()["code"]) == (m.ERROR, code), case
        assert len(answer.json()["reason"]) == 2, case
        assert row_counts(pair.provider.platform.engine) == before, case
    # Wrong party: the provider's own key cannot start a session as the consumer.
    before = row_counts(pair.provider.platform.engine)
    answer = pair.provider.send("/dsp/psi/request", body, signer=parties.provider.signer)
    assert (answer.status_code, answer.json()["code"]) == (403, "psi.not_agreement_consumer")
    assert row_counts(pair.provider.platform.engine) == before


def test_a_replayed_message_is_refused(pair: Pair, parties: Parties) -> None:
    body = {
        "@context": m.CONTEXT,
        "@type": m.REQUEST,
        "consumerPid": f"urn:uuid:{uuid.uuid4()}",
        "agreementId": f"urn:uuid:{pair.agreement_id}",
        "mode": "filter",
        "protocol": "ecdh",
        "normalization": "uscc",
        "setSize": 50,
        "callbackAddress": parties.consumer.url,
    }
    raw, headers = pair.provider.sign("/dsp/psi/request", body)
    first = pair.provider.client.post("/dsp/psi/request", content=raw, headers=headers)
    assert first.status_code == 201, first.text
    before = row_counts(pair.provider.platform.engine)
    again = pair.provider.client.post("/dsp/psi/request", content=raw, headers=headers)
    assert (again.status_code, again.json()["code"]) == (409, "dsp.replayed")
    assert row_counts(pair.provider.platform.engine) == before
    # A spent step sent again with a fresh signature is refused by the state machine.
    (theirs,) = sessions(pair.provider)
    result = m.message(m.RESULT, theirs["provider_pid"], theirs["consumer_pid"], intersectionSize=1)
    late = pair.provider.send(f"/dsp/psi/{theirs['provider_pid']}/result", result)
    assert late.status_code in (400, 409) and late.json()["@type"] == m.ERROR


def test_sessions_per_day_and_the_consumers_own_minimum(
    platform: Platform, tmp_path: Path, parties: Parties
) -> None:
    with open_pair(platform, tmp_path, parties, psi_sessions_per_day=1) as pair:
        small = start(pair, APPLICANTS[:5])
        assert (small.status_code, small.json()["code"]) == (422, "psi.set_too_small")
        assert start(pair, APPLICANTS).status_code == 201
        assert (
            start(pair, APPLICANTS).status_code == 201
        )  # the consumer cannot know; the provider refuses
        states = sorted(s["state"] for s in sessions(pair.consumer))
        assert states == ["COMPLETED", "TERMINATED"]
        refused = next(s for s in sessions(pair.consumer) if s["state"] == "TERMINATED")
        assert refused["error"]["code"] == "psi.delivery_failed"
        assert "psi.too_many_sessions" in refused["error"]["reason"]


def test_a_product_that_is_not_compute_only_is_refused(platform: Platform, tmp_path: Path) -> None:
    parties = psi_parties(platform, kind="dataset")
    with open_pair(platform, tmp_path, parties) as pair:
        assert start(pair, APPLICANTS).status_code == 201
        (mine,) = sessions(pair.consumer)
        assert (
            mine["state"] == "TERMINATED" and "psi.product_not_compute" in mine["error"]["reason"]
        )
        assert sessions(pair.provider) == []
