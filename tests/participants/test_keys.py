"""Signing keys (密钥) and connectors (连接器) a participant binds to itself."""

from __future__ import annotations

import base64
import hashlib
import uuid

from litestar.testing import TestClient
from participants_support import assert_problem, bearer, changed, for_each, table_counts

import factories
from shuchang.platform import Platform
from shuchang.ports import Ed25519Signer

Client = TestClient  # type: ignore[type-arg]


def new_public_key() -> tuple[str, bytes]:
    raw = Ed25519Signer().public_key()
    return base64.b64encode(raw).decode(), raw


def keys_url(member: factories.Member) -> str:
    return f"/api/v1/participants/{member.id}/keys"


def test_register_an_ed25519_key(client: Client, platform: Platform) -> None:
    member = factories.participant(platform)
    text, raw = new_public_key()

    response = client.post(
        keys_url(member), json={"public_key": text}, headers=bearer(member.api_key)
    )

    assert response.status_code == 201, response.text
    key = response.json()
    assert key["algorithm"] == "ed25519"
    assert key["status"] == "active"
    assert key["fingerprint"] == hashlib.sha256(raw).hexdigest()[:16]
    assert key["replaced_by"] is None and key["retired_at"] is None
    listed = client.get(keys_url(member), headers=bearer(member.api_key)).json()
    assert [k["id"] for k in listed] == [key["id"]]


def test_rotate_keeps_the_old_key_as_rotated(client: Client, platform: Platform) -> None:
    member = factories.participant(platform)
    headers = bearer(member.api_key)
    old = client.post(keys_url(member), json={"public_key": new_public_key()[0]}, headers=headers)
    old_id = old.json()["id"]
    replacement = new_public_key()[0]

    rotated = client.post(
        f"{keys_url(member)}/{old_id}/rotate", json={"public_key": replacement}, headers=headers
    )

    assert rotated.status_code == 201, rotated.text
    new = rotated.json()
    assert new["status"] == "active" and new["public_key"] == replacement
    by_id = {k["id"]: k for k in client.get(keys_url(member), headers=headers).json()}
    assert by_id[old_id]["status"] == "rotated"
    assert by_id[old_id]["replaced_by"] == new["id"]
    assert by_id[old_id]["retired_at"] is not None
    # A rotated key is history: it cannot be rotated or revoked again.
    again = client.post(
        f"{keys_url(member)}/{old_id}/rotate",
        json={"public_key": new_public_key()[0]},
        headers=headers,
    )
    assert_problem(again, 409, "key.not_active")


def test_revoke_a_key(client: Client, platform: Platform) -> None:
    member = factories.participant(platform)
    headers = bearer(member.api_key)
    key = client.post(
        keys_url(member), json={"public_key": new_public_key()[0]}, headers=headers
    ).json()

    revoked = client.post(f"{keys_url(member)}/{key['id']}/revoke", headers=headers)

    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["retired_at"] is not None
    assert_problem(
        client.post(f"{keys_url(member)}/{key['id']}/revoke", headers=headers),
        409,
        "key.not_active",
    )


def test_operator_may_revoke_a_participants_key(client: Client, platform: Platform) -> None:
    # e.g. when the participant reports it compromised by phone
    member, operator = factories.participant(platform), factories.operator(platform)
    key = client.post(
        keys_url(member), json={"public_key": new_public_key()[0]}, headers=bearer(member.api_key)
    ).json()

    revoked = client.post(
        f"{keys_url(member)}/{key['id']}/revoke", headers=bearer(operator.api_key)
    )

    assert revoked.json()["status"] == "revoked"


INVALID_KEYS = {
    "not base64": "not base64 at all!",
    "padding missing": base64.b64encode(b"\1" * 32).decode().rstrip("="),
    "31 bytes": base64.b64encode(b"\1" * 31).decode(),
    "33 bytes": base64.b64encode(b"\1" * 33).decode(),
    "an SM2-sized key": base64.b64encode(b"\4" * 65).decode(),
    "url-safe alphabet": base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode(),
}


def test_invalid_public_key(client: Client, platform: Platform) -> None:
    member = factories.participant(platform)

    def check(public_key: str) -> None:
        before = table_counts(platform.engine)
        response = client.post(
            keys_url(member), json={"public_key": public_key}, headers=bearer(member.api_key)
        )
        assert_problem(response, 422, "key.invalid", field="public_key")
        assert table_counts(platform.engine) == before

    for_each(INVALID_KEYS, check)


def test_a_key_registered_once_cannot_be_registered_again(
    client: Client, platform: Platform
) -> None:
    first, second = factories.participant(platform), factories.participant(platform)
    text, _ = new_public_key()
    client.post(keys_url(first), json={"public_key": text}, headers=bearer(first.api_key))
    before = table_counts(platform.engine)

    for member in (first, second):
        response = client.post(
            keys_url(member), json={"public_key": text}, headers=bearer(member.api_key)
        )
        assert_problem(response, 409, "key.duplicate", field="public_key")
    assert table_counts(platform.engine) == before


def test_rotating_to_a_registered_key_changes_nothing(client: Client, platform: Platform) -> None:
    member = factories.participant(platform)
    headers = bearer(member.api_key)
    taken = new_public_key()[0]
    key = client.post(keys_url(member), json={"public_key": new_public_key()[0]}, headers=headers)
    client.post(keys_url(member), json={"public_key": taken}, headers=headers)
    before = table_counts(platform.engine)

    response = client.post(
        f"{keys_url(member)}/{key.json()['id']}/rotate", json={"public_key": taken}, headers=headers
    )

    assert_problem(response, 409, "key.duplicate")
    assert table_counts(platform.engine) == before
    statuses = {k["id"]: k["status"] for k in client.get(keys_url(member), headers=headers).json()}
    assert statuses[key.json()["id"]] == "active"


def test_only_the_participant_binds_keys_to_itself(client: Client, platform: Platform) -> None:
    member, other = factories.participant(platform), factories.participant(platform)
    operator = factories.operator(platform)
    for intruder in (other, operator):
        response = client.post(
            keys_url(member),
            json={"public_key": new_public_key()[0]},
            headers=bearer(intruder.api_key),
        )
        assert_problem(response, 403, "role.forbidden")


def test_key_of_another_participant_is_not_found_under_mine(
    client: Client, platform: Platform
) -> None:
    member, other = factories.participant(platform), factories.participant(platform)
    theirs = client.post(
        keys_url(other), json={"public_key": new_public_key()[0]}, headers=bearer(other.api_key)
    ).json()

    response = client.post(
        f"{keys_url(member)}/{theirs['id']}/revoke", headers=bearer(member.api_key)
    )

    assert_problem(response, 404, "key.not_found")
    missing = client.post(
        f"{keys_url(member)}/{uuid.uuid4()}/revoke", headers=bearer(member.api_key)
    )
    assert_problem(missing, 404, "key.not_found")


def test_key_changes_are_recorded_as_evidence(client: Client, platform: Platform) -> None:
    member = factories.participant(platform)
    headers = bearer(member.api_key)
    before = table_counts(platform.engine)
    key = client.post(keys_url(member), json={"public_key": new_public_key()[0]}, headers=headers)
    client.post(
        f"{keys_url(member)}/{key.json()['id']}/rotate",
        json={"public_key": new_public_key()[0]},
        headers=headers,
    )
    assert changed(before, table_counts(platform.engine)) == {
        "participant_keys": 2,
        "evidence_outbox": 3,  # added, added (the replacement), rotated
    }


# --- connectors ---------------------------------------------------------------------------


def test_register_and_list_connectors(client: Client, platform: Platform) -> None:
    member, other = factories.participant(platform), factories.participant(platform)
    url = f"/api/v1/participants/{member.id}/connectors"
    text, _ = new_public_key()

    response = client.post(
        url,
        json={"url": "https://connector.example.cn/dsp", "public_key": text, "label": "主连接器"},
        headers=bearer(member.api_key),
    )

    assert response.status_code == 201, response.text
    connector = response.json()
    assert connector["url"] == "https://connector.example.cn/dsp"
    assert connector["public_key"] == text
    # Any member of the space can find where a participant's connector listens.
    listed = client.get(url, headers=bearer(other.api_key)).json()
    assert [c["id"] for c in listed] == [connector["id"]]
    assert_problem(client.get(url), 401, "api_key.missing")


INVALID_CONNECTORS = {  # payload ("KEY": a fresh valid key), code, field
    "not http(s)": ({"url": "ftp://x.cn", "public_key": "KEY"}, "request.invalid_field", "url"),
    "space in URL": (
        {"url": "https://a b.cn", "public_key": "KEY"},
        "request.invalid_field",
        "url",
    ),
    "URL too long": (
        {"url": "https://x.cn/" + "a" * 500, "public_key": "KEY"},
        "request.invalid_field",
        "url",
    ),
    "bad key": ({"url": "https://x.cn", "public_key": "AAAA"}, "key.invalid", "public_key"),
    "no key": ({"url": "https://x.cn"}, "request.invalid_field", "public_key"),
}


def test_invalid_connector(client: Client, platform: Platform) -> None:
    member = factories.participant(platform)

    def check(case: tuple[dict[str, str], str, str]) -> None:
        payload, code, field = case
        if payload.get("public_key") == "KEY":
            payload = {**payload, "public_key": new_public_key()[0]}
        before = table_counts(platform.engine)
        response = client.post(
            f"/api/v1/participants/{member.id}/connectors",
            json=payload,
            headers=bearer(member.api_key),
        )
        assert_problem(response, 422, code, field=field)
        assert table_counts(platform.engine) == before

    for_each(INVALID_CONNECTORS, check)


def test_only_the_participant_registers_its_connectors(client: Client, platform: Platform) -> None:
    member, other = factories.participant(platform), factories.participant(platform)
    response = client.post(
        f"/api/v1/participants/{member.id}/connectors",
        json={"url": "https://evil.example.cn", "public_key": new_public_key()[0]},
        headers=bearer(other.api_key),
    )
    assert_problem(response, 403, "role.forbidden")
