"""The participant lifecycle: operator decisions, illegal steps, and presenting a credential.

pending ─approve─► active ◄─reinstate─ suspended          revoke: any live status ─►
verified ─approve─► active ─suspend─► suspended            revoked (final)
pending | verified ─reject─► rejected
"""

from __future__ import annotations

import uuid

import pytest
from litestar.testing import TestClient
from participants_support import (
    assert_problem,
    bearer,
    body,
    changed,
    for_each,
    steps_by_name,
    table_counts,
)

import factories
from factories import Member
from shuchang.domains.participants import service
from shuchang.domains.participants.schemas import SYSTEM, StatusChange
from shuchang.domains.participants.service import OnboardingRules
from shuchang.platform import Platform

Client = TestClient  # type: ignore[type-arg]

# The lifecycle as the issue states it, written out here rather than read from the code.
ALLOWED = {
    "approve": ({"pending", "verified"}, "active"),
    "reject": ({"pending", "verified"}, "rejected"),
    "suspend": ({"active"}, "suspended"),
    "reinstate": ({"suspended"}, "active"),
    "revoke": ({"pending", "verified", "active", "suspended"}, "revoked"),
}
STATUSES = ["pending", "verified", "active", "rejected", "suspended", "revoked"]


def in_status(platform: Platform, status: str) -> Member:
    """A participant brought to ``status`` the way a real one gets there."""
    rules = {
        "pending": OnboardingRules("standard", "auto"),
        "verified": OnboardingRules("lenient", "manual"),
        "rejected": OnboardingRules("strict", "auto"),
    }.get(status, OnboardingRules("lenient", "auto"))
    member = factories.participant(platform, rules=rules)
    follow_up = {"suspended": ["suspend"], "revoked": ["revoke"]}.get(status, [])
    for action in follow_up:
        with platform.unit() as s:
            service.change_status(s, SYSTEM, member.id, StatusChange(action=action))  # type: ignore[arg-type]
    member.status = status
    return member


def status_of(client: Client, operator: Member, member: Member) -> str:
    response = client.get(f"/api/v1/participants/{member.id}", headers=bearer(operator.api_key))
    status: str = response.json()["status"]
    return status


def test_operator_action_from_every_status(client: Client, platform: Platform) -> None:
    """All 5 actions × 6 statuses: the allowed ones move, the others are 409 and change
    nothing (not the status, not a row of any table, evidence included)."""
    operator = factories.operator(platform)

    def check(action: str) -> None:
        sources, target = ALLOWED[action]
        for status in STATUSES:
            member = in_status(platform, status)
            assert status_of(client, operator, member) == status
            before = table_counts(platform.engine)
            response = client.post(
                f"/api/v1/participants/{member.id}/status",
                json={"action": action, "reason": "测试"},
                headers=bearer(operator.api_key),
            )
            if status in sources:
                assert response.status_code == 200, (status, response.text)
                assert response.json()["status"] == target
                assert status_of(client, operator, member) == target
                assert changed(before, table_counts(platform.engine)) == {"evidence_outbox": 1}
            else:
                problem = assert_problem(
                    response, 409, "participant.invalid_transition", field="action"
                )
                assert status in problem["message_en"], status
                assert status_of(client, operator, member) == status
                assert table_counts(platform.engine) == before, status

    for_each({action: action for action in ALLOWED}, check)


def test_suspension_stops_the_key_and_reinstatement_restores_it(
    client: Client, platform: Platform
) -> None:
    operator = factories.operator(platform)
    member = factories.participant(platform)
    headers, op = bearer(member.api_key), bearer(operator.api_key)
    url = f"/api/v1/participants/{member.id}/status"
    assert client.get("/api/v1/participants", headers=headers).status_code == 200

    client.post(url, json={"action": "suspend"}, headers=op)
    assert_problem(
        client.get("/api/v1/participants", headers=headers), 403, "participant.not_active"
    )
    assert_problem(client.get("/api/v1/me", headers=headers), 403, "participant.not_active")

    client.post(url, json={"action": "reinstate"}, headers=op)
    assert client.get("/api/v1/participants", headers=headers).status_code == 200


def test_revoked_is_final(client: Client, platform: Platform) -> None:
    operator = factories.operator(platform)
    member = factories.participant(platform)
    url = f"/api/v1/participants/{member.id}/status"
    client.post(url, json={"action": "revoke"}, headers=bearer(operator.api_key))

    for action in ALLOWED:
        response = client.post(url, json={"action": action}, headers=bearer(operator.api_key))
        assert_problem(response, 409, "participant.invalid_transition")
    assert_problem(
        client.get("/api/v1/me", headers=bearer(member.api_key)), 403, "participant.not_active"
    )


def test_operator_cannot_suspend_or_revoke_itself(client: Client, platform: Platform) -> None:
    operator = factories.operator(platform)
    for action in ("suspend", "revoke"):
        response = client.post(
            f"/api/v1/participants/{operator.id}/status",
            json={"action": action},
            headers=bearer(operator.api_key),
        )
        assert_problem(response, 409, "participant.self_transition", field="action")
    assert status_of(client, operator, operator) == "active"


def test_status_change_of_unknown_participant(client: Client, platform: Platform) -> None:
    operator = factories.operator(platform)
    response = client.post(
        f"/api/v1/participants/{uuid.uuid4()}/status",
        json={"action": "approve"},
        headers=bearer(operator.api_key),
    )
    assert_problem(response, 404, "participant.not_found")


@pytest.mark.parametrize(("approval", "status"), [("auto", "active"), ("manual", "verified")])
def test_pending_participant_presents_a_credential(
    make_client, platform: Platform, approval: str, status: str
) -> None:
    issuer = factories.trusted_issuer(platform)
    client = make_client(review_rule="standard", approval=approval)
    registration = client.post("/api/v1/participants", json=body()).json()
    participant = registration["participant"]
    assert participant["status"] == "pending"
    credential = issuer.credential(participant["identifier"], participant["name"])

    response = client.post(
        f"/api/v1/participants/{participant['id']}/credential",
        json={"credential": credential},
        headers=bearer(registration["api_key"]),
    )

    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["participant"]["status"] == status
    assert detail["participant"]["decision_reason"] == "all_checks_passed"
    assert {s["run"] for s in detail["verification"]} == {1, 2}
    assert steps_by_name(detail["verification"])["credential"] == ("pass", "credential.valid")
    # The first run is kept: the history shows why it was pending.
    first_run = [s for s in detail["verification"] if s["run"] == 1]
    assert {s["reason"] for s in first_run} >= {"credential.absent"}


def test_presenting_a_forged_credential_rejects_the_pending_participant(
    client: Client, platform: Platform
) -> None:
    issuer = factories.trusted_issuer(platform)
    registration = client.post("/api/v1/participants", json=body()).json()
    participant = registration["participant"]
    credential = issuer.credential(participant["identifier"], participant["name"])
    credential["subject"]["name"] = "伪造"

    response = client.post(
        f"/api/v1/participants/{participant['id']}/credential",
        json={"credential": credential},
        headers=bearer(registration["api_key"]),
    )

    assert response.json()["participant"]["status"] == "rejected"
    assert response.json()["participant"]["decision_reason"] == "credential.signature_invalid"


def test_only_a_waiting_participant_can_present_a_credential(
    client: Client, platform: Platform
) -> None:
    issuer = factories.trusted_issuer(platform)
    member = factories.participant(platform)
    credential = issuer.credential(member.identifier, member.name)
    before = table_counts(platform.engine)

    response = client.post(
        f"/api/v1/participants/{member.id}/credential",
        json={"credential": credential},
        headers=bearer(member.api_key),
    )

    assert_problem(response, 409, "participant.invalid_transition")
    assert table_counts(platform.engine) == before


def test_nobody_else_presents_a_credential_for_a_participant(
    client: Client, platform: Platform
) -> None:
    issuer = factories.trusted_issuer(platform)
    registration = client.post("/api/v1/participants", json=body()).json()
    participant = registration["participant"]
    other = factories.participant(platform)
    credential = issuer.credential(participant["identifier"], participant["name"])

    response = client.post(
        f"/api/v1/participants/{participant['id']}/credential",
        json={"credential": credential},
        headers=bearer(other.api_key),
    )

    assert_problem(response, 403, "role.forbidden")


def test_operator_reverifies_once_a_name_clash_is_resolved(
    client: Client, platform: Platform
) -> None:
    # Same name as a live participant: the credential passes but the name needs review.
    operator = factories.operator(platform)
    issuer = factories.trusted_issuer(platform)
    namesake = factories.participant(platform)
    request = body(name=namesake.name)
    request["credential"] = issuer.credential(request["identifier"], request["name"])
    registration = client.post("/api/v1/participants", json=request).json()
    pid = registration["participant"]["id"]
    assert registration["participant"]["decision_reason"] == "duplicate.name"
    assert registration["participant"]["status"] == "pending"

    # Only the operator (or the participant) may ask for another run.
    other = factories.participant(platform)
    url = f"/api/v1/participants/{pid}/reverify"
    assert_problem(client.post(url, headers=bearer(other.api_key)), 403, "role.forbidden")

    client.post(
        f"/api/v1/participants/{namesake.id}/status",
        json={"action": "revoke", "reason": "merged"},
        headers=bearer(operator.api_key),
    )
    response = client.post(url, headers=bearer(operator.api_key))

    assert response.status_code == 200, response.text
    assert response.json()["participant"]["status"] == "active"
    assert steps_by_name(response.json()["verification"])["duplicate"] == (
        "pass",
        "duplicate.none",
    )
