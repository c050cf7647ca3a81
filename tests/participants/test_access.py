"""API keys and roles (访问控制): shown once, stored hashed, scoped, and enforced per route."""

from __future__ import annotations

import hashlib
from typing import Any

from litestar.testing import TestClient
from participants_support import assert_problem, bearer, body, changed, for_each, table_counts
from sqlalchemy import select

import factories
from shuchang.domains.participants import access
from shuchang.domains.participants.models import ApiKey
from shuchang.domains.participants.schemas import SYSTEM
from shuchang.models import metadata
from shuchang.platform import Platform

Client = TestClient  # type: ignore[type-arg]


def all_stored_text(platform: Platform) -> str:
    """Every value of every column of every table, written out as text."""
    chunks: list[str] = []
    with platform.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                chunks.extend(str(v) for v in row)
    return "\n".join(chunks)


def issue(client: Client, member: factories.Member, role: str, **extra: Any) -> Any:
    return client.post(
        f"/api/v1/participants/{member.id}/api-keys",
        json={"role": role, **extra},
        headers=bearer(member.api_key),
    )


def test_registration_key_is_shown_once_and_stored_only_as_its_hash(
    make_client, platform: Platform
) -> None:
    client = make_client(review_rule="lenient")
    registration = client.post("/api/v1/participants", json=body()).json()
    secret = registration["api_key"]
    pid = registration["participant"]["id"]

    me = client.get("/api/v1/me", headers=bearer(secret))
    assert me.status_code == 200 and me.json()["participant"]["id"] == pid

    listed = client.get(f"/api/v1/participants/{pid}/api-keys", headers=bearer(secret))
    assert secret not in listed.text and "secret" not in listed.json()[0]
    stored = all_stored_text(platform)
    assert secret not in stored
    assert secret.rsplit("_", 1)[1] not in stored  # not even the random part
    assert hashlib.sha256(secret.encode()).hexdigest() in stored


def test_a_new_key_is_shown_once_and_stored_only_as_its_hash(
    client: Client, platform: Platform
) -> None:
    member = factories.participant(platform, roles=("provider", "consumer"))

    response = issue(client, member, "provider", label="ETL 任务")

    assert response.status_code == 201, response.text
    issued = response.json()
    secret = issued["secret"]
    assert secret.startswith(f"sck_{issued['key']['prefix']}_")
    assert issued["key"]["role"] == "provider" and issued["key"]["label"] == "ETL 任务"
    assert secret not in all_stored_text(platform)
    with platform.unit(write=False) as s:
        row = s.scalars(select(ApiKey).where(ApiKey.prefix == issued["key"]["prefix"])).one()
        assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert row.role == "provider"
    # The new key acts in its role: a provider key is not a consumer key.
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200


def test_a_key_only_for_a_role_the_participant_holds(client: Client, platform: Platform) -> None:
    member = factories.participant(platform, roles=("consumer",))
    before = table_counts(platform.engine)

    for role in ("provider", "operator", "regulator"):
        assert_problem(issue(client, member, role), 422, "api_key.role_not_held", field="role")
    assert table_counts(platform.engine) == before


def test_another_participant_cannot_issue_keys_for_me(client: Client, platform: Platform) -> None:
    member, other = factories.participant(platform), factories.participant(platform)
    before = table_counts(platform.engine)

    response = client.post(
        f"/api/v1/participants/{member.id}/api-keys",
        json={"role": "consumer"},
        headers=bearer(other.api_key),
    )

    assert_problem(response, 403, "role.forbidden")
    assert table_counts(platform.engine) == before


def test_the_operator_issues_a_key_scoped_to_the_participant(
    client: Client, platform: Platform
) -> None:
    member, operator = factories.participant(platform), factories.operator(platform)

    issued = client.post(
        f"/api/v1/participants/{member.id}/api-keys",
        json={"role": "consumer", "label": "补发"},
        headers=bearer(operator.api_key),
    )

    assert issued.status_code == 201, issued.text
    me = client.get("/api/v1/me", headers=bearer(issued.json()["secret"])).json()
    assert me["participant"]["id"] == str(member.id)  # the member's key, not the operator's
    refused = client.post(
        f"/api/v1/participants/{member.id}/api-keys",
        json={"role": "operator"},
        headers=bearer(operator.api_key),
    )
    assert_problem(refused, 422, "api_key.role_not_held", field="role")


def test_revoked_key_is_refused(client: Client, platform: Platform) -> None:
    member = factories.participant(platform)
    spare = issue(client, member, "consumer").json()

    revoked = client.post(
        f"/api/v1/api-keys/{spare['key']['id']}/revoke", headers=bearer(member.api_key)
    )

    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert_problem(
        client.get("/api/v1/me", headers=bearer(spare["secret"])), 401, "api_key.revoked"
    )
    # Revoking it again changes nothing and records nothing.
    before = table_counts(platform.engine)
    client.post(f"/api/v1/api-keys/{spare['key']['id']}/revoke", headers=bearer(member.api_key))
    assert table_counts(platform.engine) == before
    assert client.get("/api/v1/me", headers=bearer(member.api_key)).status_code == 200


def test_only_the_holder_or_the_operator_revokes_a_key(client: Client, platform: Platform) -> None:
    member, other = factories.participant(platform), factories.participant(platform)
    operator = factories.operator(platform)
    spare = issue(client, member, "consumer").json()
    url = f"/api/v1/api-keys/{spare['key']['id']}/revoke"

    assert_problem(client.post(url, headers=bearer(other.api_key)), 403, "api_key.not_owner")
    assert client.get("/api/v1/me", headers=bearer(spare["secret"])).status_code == 200

    assert client.post(url, headers=bearer(operator.api_key)).status_code == 200
    assert_problem(
        client.get("/api/v1/me", headers=bearer(spare["secret"])), 401, "api_key.revoked"
    )


NO_VALID_KEY = {
    "no header": ({}, "api_key.missing"),
    "empty bearer": ({"Authorization": "Bearer "}, "api_key.missing"),
    "basic auth": ({"Authorization": "Basic dXNlcjpwdw=="}, "api_key.missing"),
    "not a key": ({"Authorization": "Bearer hunter2"}, "api_key.missing"),
    "unknown": ({"Authorization": "Bearer sck_deadbeef_" + "A" * 43}, "api_key.unknown"),
    "unknown, as X-API-Key": ({"X-API-Key": "sck_00000000_nothing"}, "api_key.unknown"),
}


def test_requests_without_a_valid_key(client: Client) -> None:
    def check(case: tuple[dict[str, str], str]) -> None:
        headers, code = case
        assert_problem(client.get("/api/v1/participants", headers=headers), 401, code)

    for_each(NO_VALID_KEY, check)


def test_x_api_key_header_is_accepted(client: Client, platform: Platform) -> None:
    member = factories.participant(platform)
    response = client.get("/api/v1/me", headers={"X-API-Key": member.api_key or ""})
    assert response.status_code == 200


def test_consumer_cannot_change_a_participants_status(client: Client, platform: Platform) -> None:
    consumer = factories.participant(platform)
    target = factories.participant(platform)
    for actor in (consumer, factories.regulator(platform)):
        response = client.post(
            f"/api/v1/participants/{target.id}/status",
            json={"action": "suspend"},
            headers=bearer(actor.api_key),
        )
        problem = assert_problem(response, 403, "role.forbidden")
        assert "operator" in problem["message_en"] and "运营者" in problem["message_zh"]


def test_verification_history_is_for_the_participant_operator_and_regulator(
    client: Client, platform: Platform
) -> None:
    target = factories.participant(platform)
    url = f"/api/v1/participants/{target.id}/verification"
    consumer = factories.participant(platform)

    assert_problem(client.get(url, headers=bearer(consumer.api_key)), 403, "role.forbidden")
    for reader in (target, factories.operator(platform), factories.regulator(platform)):
        assert client.get(url, headers=bearer(reader.api_key)).status_code == 200


def test_a_key_acts_only_in_its_role(client: Client, platform: Platform) -> None:
    # A participant holding operator and consumer roles: its consumer key is no operator key.
    both = factories.participant(platform, kind="government", roles=("consumer", "operator"))
    consumer_key = bearer(both.api_key)  # the registration key is for the first role: consumer
    operator_key = bearer(issue(client, both, "operator").json()["secret"])
    target = factories.participant(platform)
    url = f"/api/v1/participants/{target.id}/status"

    assert_problem(
        client.post(url, json={"action": "suspend"}, headers=consumer_key), 403, "role.forbidden"
    )
    assert client.post(url, json={"action": "suspend"}, headers=operator_key).status_code == 200


def test_suspended_participants_key_is_refused(client: Client, platform: Platform) -> None:
    member, operator = factories.participant(platform), factories.operator(platform)
    client.post(
        f"/api/v1/participants/{member.id}/status",
        json={"action": "suspend"},
        headers=bearer(operator.api_key),
    )
    for path in ("/api/v1/participants", "/api/v1/me", f"/api/v1/participants/{member.id}"):
        assert_problem(
            client.get(path, headers=bearer(member.api_key)), 403, "participant.not_active"
        )


def test_pending_participant_sees_itself_but_not_the_space(client: Client) -> None:
    registration = client.post("/api/v1/participants", json=body()).json()
    assert registration["participant"]["status"] == "pending"
    key = bearer(registration["api_key"])

    me = client.get("/api/v1/me", headers=key)

    assert me.status_code == 200
    assert me.json()["participant"]["status"] == "pending"
    assert {s["reason"] for s in me.json()["verification"]} >= {"credential.absent"}
    assert_problem(client.get("/api/v1/participants", headers=key), 403, "participant.not_active")


def test_anonymous_registration_cannot_claim_operator_or_regulator(
    client: Client, platform: Platform
) -> None:
    def check(roles: list[str]) -> None:
        before = table_counts(platform.engine)
        response = client.post("/api/v1/participants", json=body(kind="government", roles=roles))
        assert_problem(response, 403, "participant.role_not_allowed", field="roles")
        assert table_counts(platform.engine) == before

    claims = [["operator"], ["regulator"], ["consumer", "operator"], ["provider", "regulator"]]
    for_each({"+".join(roles): roles for roles in claims}, check)


def test_a_consumer_cannot_register_an_operator_either(client: Client, platform: Platform) -> None:
    consumer = factories.participant(platform)
    response = client.post(
        "/api/v1/participants",
        json=body(kind="government", roles=["operator"]),
        headers=bearer(consumer.api_key),
    )
    assert_problem(response, 403, "participant.role_not_allowed")


def test_the_operator_registers_a_regulator(client: Client, platform: Platform) -> None:
    operator = factories.operator(platform)
    response = client.post(
        "/api/v1/participants",
        json=body(kind="government", roles=["regulator"]),
        headers=bearer(operator.api_key),
    )
    assert response.status_code == 201
    assert response.json()["participant"]["roles"] == ["regulator"]


def test_directory_shows_others_only_active_participants(make_client, platform: Platform) -> None:
    client = make_client(review_rule="standard")
    active = factories.participant(platform)
    pending = client.post("/api/v1/participants", json=body()).json()["participant"]
    consumer, operator = factories.participant(platform), factories.operator(platform)

    seen_by_consumer = client.get("/api/v1/participants", headers=bearer(consumer.api_key))
    seen_by_operator = client.get(
        "/api/v1/participants", params={"status": "pending"}, headers=bearer(operator.api_key)
    )

    consumer_ids = {p["id"] for p in seen_by_consumer.json()["items"]}
    assert str(active.id) in consumer_ids and pending["id"] not in consumer_ids
    assert [p["id"] for p in seen_by_operator.json()["items"]] == [pending["id"]]
    assert_problem(
        client.get(f"/api/v1/participants/{pending['id']}", headers=bearer(consumer.api_key)),
        403,
        "role.forbidden",
    )


def test_api_key_changes_are_recorded_as_evidence(client: Client, platform: Platform) -> None:
    member = factories.participant(platform)
    before = table_counts(platform.engine)
    spare = issue(client, member, "consumer").json()
    client.post(f"/api/v1/api-keys/{spare['key']['id']}/revoke", headers=bearer(member.api_key))
    assert changed(before, table_counts(platform.engine)) == {"api_keys": 1, "evidence_outbox": 2}


def test_the_platform_itself_can_revoke_an_api_key(platform: Platform) -> None:
    member = factories.participant(platform)
    with platform.unit() as s:
        key_id = s.scalars(select(ApiKey.id).where(ApiKey.participant_id == member.id)).one()
        revoked = access.revoke_key(s, SYSTEM, key_id)
    assert revoked.revoked_at is not None


def test_search_treats_percent_and_underscore_literally(client: Client, platform: Platform) -> None:
    operator = factories.operator(platform)
    factories.participant(platform, name="百分百科技有限公司")
    for q in ("%", "_"):
        found = client.get(
            "/api/v1/participants", params={"q": q}, headers=bearer(operator.api_key)
        )
        assert found.json()["items"] == [], q
