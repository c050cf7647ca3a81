"""The evidence log over HTTP: entries, receipts, consistency proofs, on-demand checkpoints.

What a participant or auditor relies on: it can fetch the leaf and receipt of its own entries
(not other participants'), verify them offline with nothing but the published key, ask for
consistency between two tree sizes, and an operator can force a checkpoint out.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from evidence_support import assert_problem, grow, leaves, publish, queued, sequence_all
from litestar.testing import TestClient

import factories
from shuchang.domains.evidence.tlog.checkpoint import open_checkpoint
from shuchang.domains.evidence.tlog.merkle import ProofError, leaf_hash, verify_consistency
from shuchang.domains.evidence.tlog.note import parse_verifier_key
from shuchang.domains.evidence.tlog.offline import verify_receipt
from shuchang.platform import Platform

Client = TestClient  # type: ignore[type-arg]
ENTRIES = "/api/v1/evidence/entries"


def own_entry(client: Client, member: factories.Member) -> int:
    """The id of the member's registration evidence (subject ``participant:<id>``)."""
    response = client.get(
        "/api/v1/evidence/",
        params={"subject": f"participant:{member.id}"},
        headers=member.headers,
    )
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    kinds = {e["kind"]: e["id"] for e in entries}
    return int(kinds["participant.registered"])


def vkey(client: Client) -> str:
    response = client.get("/tlog/vkey")
    assert response.status_code == 200
    return response.text.strip()


# --- receipts ----------------------------------------------------------------------------


def test_receipt_verifies_offline_with_the_leaf_from_the_entry(
    platform: Platform, client: Client
) -> None:
    member = factories.participant(platform)
    entry_id = own_entry(client, member)
    grow(platform, 6)

    entry = client.get(f"{ENTRIES}/{entry_id}", headers=member.headers)
    assert entry.status_code == 200, entry.text
    found = entry.json()
    leaf = base64.b64decode(found["leaf_data"])
    assert base64.b64decode(found["leaf_hash"]) == leaf_hash(leaf)
    assert found["entry"]["id"] == entry_id
    receipt = client.get(f"{ENTRIES}/{entry_id}/receipt", headers=member.headers)
    assert receipt.status_code == 200, receipt.text
    assert receipt.headers["content-type"].startswith("text/plain")
    assert receipt.content.startswith(b"c2sp.org/tlog-proof@v1\nindex ")

    verifier = parse_verifier_key(vkey(client))
    checkpoint, index = verify_receipt(
        receipt.content, leaf, [verifier], platform.settings.log_origin
    )
    assert index == found["leaf_index"]
    assert checkpoint.size == len(leaves(platform))

    flipped = bytearray(leaf)
    flipped[10] ^= 0x01
    with pytest.raises(ProofError):
        verify_receipt(receipt.content, bytes(flipped), [verifier])


def test_receipt_of_an_old_entry_proves_it_against_the_latest_checkpoint(
    platform: Platform, client: Client
) -> None:
    member = factories.participant(platform)
    entry_id = own_entry(client, member)
    first = grow(platform, 2)
    latest = grow(platform, 300)

    receipt = client.get(f"{ENTRIES}/{entry_id}/receipt", headers=member.headers).content
    leaf = base64.b64decode(
        client.get(f"{ENTRIES}/{entry_id}", headers=member.headers).json()["leaf_data"]
    )
    checkpoint, _ = verify_receipt(receipt, leaf, [platform.log_signer.verifier()])
    assert checkpoint.size == latest.size > first.size


def test_receipt_is_refused_until_a_checkpoint_covers_the_entry(
    platform: Platform, client: Client
) -> None:
    member = factories.participant(platform)
    entry_id = own_entry(client, member)

    unsequenced = client.get(f"{ENTRIES}/{entry_id}", headers=member.headers).json()
    assert (unsequenced["leaf_index"], unsequenced["leaf_data"], unsequenced["leaf_hash"]) == (
        None,
        None,
        None,
    )
    response = client.get(f"{ENTRIES}/{entry_id}/receipt", headers=member.headers)
    assert_problem(response, 409, "evidence.not_sequenced")

    publish(platform)  # an empty checkpoint covers nothing
    sequence_all(platform)  # sequenced, but no checkpoint covers it yet
    assert client.get(f"{ENTRIES}/{entry_id}", headers=member.headers).json()["leaf_index"] >= 0
    response = client.get(f"{ENTRIES}/{entry_id}/receipt", headers=member.headers)
    assert_problem(response, 409, "evidence.not_sequenced")

    publish(platform)
    assert client.get(f"{ENTRIES}/{entry_id}/receipt", headers=member.headers).status_code == 200


def test_unknown_entry_is_404(platform: Platform, client: Client) -> None:
    member = factories.participant(platform)
    grow(platform, 1)
    assert_problem(
        client.get(f"{ENTRIES}/999999", headers=member.headers), 404, "evidence.not_found"
    )
    response = client.get(f"{ENTRIES}/999999/receipt", headers=member.headers)
    assert_problem(response, 404, "evidence.not_found")


def test_participants_read_their_own_entries_and_oversight_reads_any(
    platform: Platform, client: Client
) -> None:
    owner = factories.participant(platform)
    other = factories.participant(platform)
    regulator = factories.regulator(platform)
    operator = factories.operator(platform)
    entry_id = own_entry(client, owner)
    grow(platform, 1)

    for path in (f"{ENTRIES}/{entry_id}", f"{ENTRIES}/{entry_id}/receipt"):
        # Another participant learns nothing, not even that the entry exists.
        assert_problem(client.get(path, headers=other.headers), 404, "evidence.not_found")
        assert_problem(client.get(path), 401, "api_key.missing")
        for reader in (owner, regulator, operator):
            assert client.get(path, headers=reader.headers).status_code == 200, path


# --- consistency -------------------------------------------------------------------------


def test_consistency_endpoint_proves_one_checkpoint_extends_another(
    platform: Platform, client: Client
) -> None:
    old = grow(platform, 5)
    middle = grow(platform, 7)
    new = grow(platform, 30)

    for a, b in ((old, middle), (old, new), (middle, new), (new, new)):
        response = client.get(
            "/api/v1/evidence/consistency", params={"size1": a.size, "size2": b.size}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["size1"], body["size2"]) == (a.size, b.size)
        proof = [base64.b64decode(h) for h in body["proof"]]
        verify_consistency(a.size, b.size, proof, a.root, b.root)
        if a.size != b.size:
            with pytest.raises(ProofError):
                verify_consistency(a.size, b.size, proof, a.root, bytes(32))


OUT_OF_RANGE = [
    (0, 5, "request.invalid_field", "size1"),
    (-1, 5, "request.invalid_field", "size1"),
    (1, 0, "request.invalid_field", "size2"),
    (6, 5, "evidence.size_out_of_range", "size1"),
    (5, 43, "evidence.size_out_of_range", "size2"),
]


def test_consistency_sizes_out_of_range_are_422_naming_the_field(
    platform: Platform, client: Client
) -> None:
    grow(platform, 42)
    for size1, size2, code, field in OUT_OF_RANGE:
        response = client.get(
            "/api/v1/evidence/consistency", params={"size1": size1, "size2": size2}
        )
        assert assert_problem(response, 422, code)["field"] == field, (size1, size2)


# --- publishing on demand -----------------------------------------------------------------


def test_operator_publishes_a_checkpoint_on_demand(platform: Platform, client: Client) -> None:
    operator = factories.operator(platform)
    consumer = factories.participant(platform)

    refused = client.post("/api/v1/evidence/checkpoints", headers=consumer.headers)
    assert_problem(refused, 403, "role.forbidden")
    assert leaves(platform) == [] and queued(platform) > 0

    response = client.post("/api/v1/evidence/checkpoints", headers=operator.headers)
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("text/plain")
    checkpoint, _ = open_checkpoint(
        response.content, [parse_verifier_key(vkey(client))], platform.settings.log_origin
    )
    assert queued(platform) == 0
    assert checkpoint.size == len(leaves(platform)) > 0

    served = client.get("/tlog/checkpoint")
    assert served.content == response.content


def test_status_reports_size_queue_and_checkpoint(platform: Platform, client: Client) -> None:
    grow(platform, 3)
    factories.participant(platform)
    status = client.get("/api/v1/evidence/log")
    assert status.status_code == 200, status.text
    body = status.json()
    assert body["origin"] == platform.settings.log_origin
    assert body["verifier_key"] == vkey(client)
    assert body["size"] == 3 and body["checkpoint_size"] == 3
    assert body["pending"] == queued(platform) > 0
    assert body["cosignatures"] == 0
