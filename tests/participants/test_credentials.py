"""Signed credentials (资质凭证): each reason a credential is refused, and one that passes.

Each test registers through the API under the ``standard`` rule, where the credential is what
lets an applicant in at once; a refused credential rejects the registration with that reason,
shown in the ``credential`` step, and the applicant receives no key.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from participants_support import body, for_each, steps_by_name

import factories
from shuchang.domains.participants import keys
from shuchang.domains.participants.schemas import SYSTEM, RevokeCredential
from shuchang.platform import Platform
from shuchang.ports import Ed25519Signer

NOW = datetime.now(UTC).replace(microsecond=0)
Credential = dict[str, Any]


def register_with(client, credential: Credential, request: dict[str, Any]) -> dict[str, Any]:
    request["credential"] = credential
    response = client.post("/api/v1/participants", json=request)
    assert response.status_code == 201, response.text
    registration: dict[str, Any] = response.json()
    return registration


def assert_refused(registration: dict[str, Any], reason: str) -> None:
    assert registration["participant"]["status"] == "rejected"
    assert registration["participant"]["decision"] == "rejected"
    assert registration["participant"]["decision_reason"] == reason
    steps = steps_by_name(registration["verification"])
    assert steps["credential"] == ("fail", reason)
    # The other steps still ran, so the applicant sees every reason at once.
    assert steps["identifier"] == ("pass", "identifier.valid")
    assert steps["duplicate"] == ("pass", "duplicate.none")
    assert registration["api_key"] is None


def test_a_valid_credential_passes(client, platform: Platform) -> None:
    issuer = factories.trusted_issuer(platform)
    request = body()
    credential = issuer.credential(request["identifier"], request["name"])

    registration = register_with(client, credential, request)

    assert registration["participant"]["status"] == "active"
    assert steps_by_name(registration["verification"])["credential"] == (
        "pass",
        "credential.valid",
    )
    step = next(s for s in registration["verification"] if s["step"] == "credential")
    assert issuer.id in step["message_en"] and issuer.id in step["message_zh"]


def _drop(field: str) -> Callable[[Credential], None]:
    return lambda c: c.pop(field)


def _set(field: str, value: Any) -> Callable[[Credential], None]:
    return lambda c: c.__setitem__(field, value)


MALFORMED = {
    "no proof": _drop("proof"),
    "no valid_until": _drop("valid_until"),
    "subject without name": _set("subject", {"identifier": "x"}),
    "subject not an object": _set("subject", "91330300MA2TEST01"),
    "proof without signature": _set("proof", {"algorithm": "ed25519"}),
    "id not a string": _set("id", 42),
    "date without time and Z": _set("valid_from", "2026-01-01"),
    "offset instead of Z": _set("valid_until", "2030-01-01T00:00:00+08:00"),
    "not a time": _set("valid_until", "someday Z"),
}


def test_malformed_credential(client, platform: Platform) -> None:
    issuer = factories.trusted_issuer(platform)

    def check(spoil: Callable[[Credential], None]) -> None:
        request = body()
        credential = issuer.credential(request["identifier"], request["name"])
        spoil(credential)
        assert_refused(register_with(client, credential, request), "credential.malformed")

    for_each(MALFORMED, check)


def test_issuer_not_trusted(client, platform: Platform) -> None:
    stranger = factories.Issuer("some-other-licence-service", Ed25519Signer())
    request = body()
    credential = stranger.credential(request["identifier"], request["name"])

    registration = register_with(client, credential, request)

    assert_refused(registration, "credential.issuer_untrusted")


def test_issuer_no_longer_trusted(client, platform: Platform) -> None:
    issuer = factories.trusted_issuer(platform)
    request = body()
    credential = issuer.credential(request["identifier"], request["name"])
    with platform.unit() as s:
        keys.revoke_issuer(s, SYSTEM, issuer.id)

    assert_refused(register_with(client, credential, request), "credential.issuer_revoked")


TAMPERED = {
    "subject.name": lambda c: c["subject"].__setitem__("name", "改过的名称"),
    "subject.identifier": lambda c: c["subject"].__setitem__("identifier", factories.uscc()),
    "valid_until": lambda c: c.__setitem__("valid_until", "2099-01-01T00:00:00Z"),
    "type": lambda c: c.__setitem__("type", "OtherCredential"),
    "a field added": lambda c: c.__setitem__("note", "added after signing"),
}


def test_any_field_changed_after_signing(client, platform: Platform) -> None:
    issuer = factories.trusted_issuer(platform)

    def check(tamper: Callable[[Credential], None]) -> None:
        request = body()
        credential = issuer.credential(request["identifier"], request["name"])
        tamper(credential)
        # The registrant's own identifier and name follow the tampered credential, so only
        # the signature can tell.
        request["identifier"] = credential["subject"]["identifier"]
        request["name"] = credential["subject"]["name"]
        registration = register_with(client, credential, request)
        assert_refused(registration, "credential.signature_invalid")

    for_each(TAMPERED, check)


def test_signed_with_another_key_in_the_issuers_name(client, platform: Platform) -> None:
    issuer = factories.trusted_issuer(platform)
    forger = factories.Issuer(issuer.id, Ed25519Signer())
    request = body()

    credential = forger.credential(request["identifier"], request["name"])

    assert_refused(register_with(client, credential, request), "credential.signature_invalid")


UNUSABLE_SIGNATURES = {
    "not base64": lambda p: p.__setitem__("signature", "not base64!"),
    "empty": lambda p: p.__setitem__("signature", ""),
    "other algorithm": lambda p: p.__setitem__("algorithm", "sm2"),
    "all zero": lambda p: p.__setitem__("signature", base64.b64encode(b"\0" * 64).decode()),
}


def test_unusable_signature(client, platform: Platform) -> None:
    issuer = factories.trusted_issuer(platform)

    def check(spoil: Callable[[dict[str, Any]], None]) -> None:
        request = body()
        credential = issuer.credential(request["identifier"], request["name"])
        spoil(credential["proof"])
        assert_refused(register_with(client, credential, request), "credential.signature_invalid")

    for_each(UNUSABLE_SIGNATURES, check)


def test_credential_the_issuer_revoked(client, platform: Platform) -> None:
    issuer = factories.trusted_issuer(platform)
    request = body()
    credential = issuer.credential(request["identifier"], request["name"])
    with platform.unit() as s:
        keys.revoke_credential(
            s, SYSTEM, issuer.id, RevokeCredential(credential["id"], "licence cancelled")
        )

    assert_refused(register_with(client, credential, request), "credential.revoked")


def test_revoking_one_credential_leaves_the_issuers_others_valid(
    client, platform: Platform
) -> None:
    issuer = factories.trusted_issuer(platform)
    with platform.unit() as s:
        keys.revoke_credential(s, SYSTEM, issuer.id, RevokeCredential("urn:uuid:other", None))
    request = body()
    credential = issuer.credential(request["identifier"], request["name"])

    assert register_with(client, credential, request)["participant"]["status"] == "active"


def test_not_yet_valid(client, platform: Platform) -> None:
    issuer = factories.trusted_issuer(platform)
    request = body()
    credential = issuer.credential(
        request["identifier"],
        request["name"],
        valid_from=NOW + timedelta(days=2),
        valid_until=NOW + timedelta(days=400),
    )

    assert_refused(register_with(client, credential, request), "credential.not_yet_valid")


def test_expired(client, platform: Platform) -> None:
    issuer = factories.trusted_issuer(platform)
    request = body()
    credential = issuer.credential(
        request["identifier"],
        request["name"],
        valid_from=NOW - timedelta(days=400),
        valid_until=NOW - timedelta(days=1),
    )

    assert_refused(register_with(client, credential, request), "credential.expired")


def test_names_another_identifier(client, platform: Platform) -> None:
    issuer = factories.trusted_issuer(platform)
    request = body()
    credential = issuer.credential(factories.uscc(), request["name"])

    assert_refused(register_with(client, credential, request), "credential.identifier_mismatch")


def test_names_another_name(client, platform: Platform) -> None:
    issuer = factories.trusted_issuer(platform)
    request = body()
    credential = issuer.credential(request["identifier"], "另一家公司")

    assert_refused(register_with(client, credential, request), "credential.name_mismatch")


def test_credential_of_another_participant_cannot_be_reused(client, platform: Platform) -> None:
    issuer = factories.trusted_issuer(platform)
    owner = body()
    credential = issuer.credential(owner["identifier"], owner["name"])
    register_with(client, credential, owner)

    thief = body(name=owner["name"] + "分公司")

    registration = register_with(client, credential, thief)

    assert registration["participant"]["status"] == "rejected"
    assert registration["participant"]["decision_reason"] == "credential.identifier_mismatch"


def test_a_credential_with_a_number_field_is_refused_not_a_server_error(
    client, platform: Platform
) -> None:
    issuer = factories.trusted_issuer(platform)
    request = body()
    credential = issuer.credential(request["identifier"], request["name"])
    credential["score"] = 99.5

    request["credential"] = credential
    response = client.post("/api/v1/participants", json=request)

    assert response.status_code == 201, response.text
    assert response.json()["participant"]["decision_reason"] in (
        "credential.malformed",
        "credential.signature_invalid",
    )
