"""Registration (接入申请): kinds, identifiers, automatic verification and the decision rule.

What an applicant cares about: it can register as any kind of participant with the right
identifier, every verification step's result and reason is stored and shown to it, and the
operator's rule and approval setting decide where it ends up.
"""

from __future__ import annotations

import uuid

from litestar.testing import TestClient
from participants_support import (
    assert_problem,
    bearer,
    body,
    changed,
    for_each,
    steps_by_name,
    table_counts,
    unique_name,
)
from sqlalchemy import select

import factories
from shuchang.domains.participants.identifiers import (
    org_code_check_character,
    uscc_check_character,
)
from shuchang.domains.participants.models import Participant, VerificationStep
from shuchang.platform import Platform

Client = TestClient  # type: ignore[type-arg]
KINDS = ["enterprise", "public_institution", "government", "social_organisation", "individual"]


def uscc_with_prefix(prefix: str, body_: str) -> str:
    """A valid USCC whose registration authority + organisation type are ``prefix``."""
    first17 = prefix + "330300" + body_ + org_code_check_character(body_)
    return first17 + uscc_check_character(first17)


def test_each_kind_registers_with_its_identifier(make_client) -> None:
    client = make_client(review_rule="lenient")

    def check(kind: str) -> None:
        response = client.post("/api/v1/participants", json=body(kind=kind))

        assert response.status_code == 201, response.text
        registration = response.json()
        participant = registration["participant"]
        assert participant["kind"] == kind
        expected_kind = "resident_id" if kind == "individual" else "uscc"
        assert participant["identifier_kind"] == expected_kind
        assert participant["status"] == "active"
        assert steps_by_name(registration["verification"]) == {
            "identifier": ("pass", "identifier.valid"),
            "duplicate": ("pass", "duplicate.none"),
            "credential": ("skip", "credential.absent"),
        }
        assert registration["api_key"].startswith("sck_")

    for_each({kind: kind for kind in KINDS}, check)


# USCC positions 1-2 (authority + type) → declared kind → the kind they really imply.
MISMATCHES = {
    "enterprise code, declared government": ("91", "government", "enterprise"),
    "government code, declared enterprise": ("11", "enterprise", "government"),
    "public institution code, declared social org": (
        "12",
        "social_organisation",
        "public_institution",
    ),
    "social association code, declared public inst.": (
        "51",
        "public_institution",
        "social_organisation",
    ),
    "foundation (基金会) code, declared enterprise": ("53", "enterprise", "social_organisation"),
}


def test_uscc_authority_and_type_must_match_declared_kind(make_client) -> None:
    client = make_client(review_rule="lenient")

    def check(case: tuple[str, str, str]) -> None:
        prefix, declared, implied = case
        identifier = uscc_with_prefix(prefix, f"MA{prefix}KND1")
        response = client.post(
            "/api/v1/participants", json=body(kind=declared, identifier=identifier)
        )

        assert response.status_code == 201
        registration = response.json()
        assert registration["participant"]["status"] == "rejected"
        assert registration["participant"]["decision_reason"] == "identifier.kind_mismatch"
        step = next(s for s in registration["verification"] if s["step"] == "identifier")
        assert step["result"] == "fail"
        assert implied in step["message_en"] and declared in step["message_en"]
        assert registration["api_key"] is None

    for_each(MISMATCHES, check)
    # 31 = law firm (律师执业机构): the standard does not say which of our kinds it is.
    law_firm = body(kind="social_organisation", identifier=uscc_with_prefix("31", "MA31LAW1"))
    assert (
        client.post("/api/v1/participants", json=law_firm).json()["participant"]["status"]
        == "active"
    )


INVALID_IDENTIFIERS = {
    "a USCC declared as a person": ("individual", "91440300192317458F", "format.charset"),
    "an all-digit USCC as a person": (
        "individual",
        "914403001922038216",
        "resident_id.check_digit",
    ),
    "a resident ID as a company": ("enterprise", "11010519491231002X", "uscc.check_character"),
    "USCC one character off": ("enterprise", "91440300192317458G", "uscc.check_character"),
    "resident ID one digit off": ("individual", "110105194912310021", "resident_id.check_digit"),
    "15-digit first-generation ID": (
        "individual",
        "110105491231002",
        "resident_id.legacy_15_digit",
    ),
    "USCC too short": ("enterprise", "9144030019231745", "format.length"),
    "30 characters (the column must hold it)": ("enterprise", "9" * 30, "format.length"),
}


def test_invalid_identifier_is_stored_as_rejected_with_the_precise_reason(
    client: Client, platform: Platform
) -> None:
    def check(case: tuple[str, str, str]) -> None:
        kind, identifier, reason = case
        before = table_counts(platform.engine)
        response = client.post("/api/v1/participants", json=body(kind=kind, identifier=identifier))

        assert response.status_code == 201, response.text
        registration = response.json()
        assert registration["participant"]["status"] == "rejected"
        assert registration["participant"]["decision_reason"] == reason
        assert steps_by_name(registration["verification"])["identifier"] == ("fail", reason)
        assert registration["api_key"] is None
        # Stored so the applicant and the operator can see why, but no key was issued.
        assert changed(before, table_counts(platform.engine)) == {
            "participants": 1,
            "participant_verification_steps": 3,
            "evidence_outbox": 1,
        }

    for_each(INVALID_IDENTIFIERS, check)


def test_every_step_is_stored_and_shown_to_operator_and_applicant(
    client: Client, platform: Platform
) -> None:
    operator = factories.operator(platform)
    registration = client.post("/api/v1/participants", json=body()).json()
    pid = registration["participant"]["id"]

    with platform.unit(write=False) as s:
        stored = s.scalars(
            select(VerificationStep)
            .where(VerificationStep.participant_id == uuid.UUID(pid))
            .order_by(VerificationStep.id)
        ).all()
    assert [(r.step, r.result, r.reason) for r in stored] == [
        ("identifier", "pass", "identifier.valid"),
        ("duplicate", "pass", "duplicate.none"),
        ("credential", "skip", "credential.absent"),
    ]
    assert all(r.message_zh and r.message_en for r in stored)

    for headers in (bearer(operator.api_key), bearer(registration["api_key"])):
        shown = client.get(f"/api/v1/participants/{pid}/verification", headers=headers)
        assert shown.status_code == 200
        assert shown.json()["verification"] == registration["verification"]
    me = client.get("/api/v1/me", headers=bearer(registration["api_key"])).json()
    assert me["participant"]["decision_reason"] == "credential.absent"


def test_duplicate_identifier_is_rejected_and_the_first_stays(
    make_client, platform: Platform
) -> None:
    client = make_client(review_rule="lenient")
    first = client.post("/api/v1/participants", json=body()).json()
    identifier = first["participant"]["identifier"]

    second = client.post("/api/v1/participants", json=body(identifier=identifier)).json()

    assert second["participant"]["status"] == "rejected"
    assert second["participant"]["decision_reason"] == "duplicate.identifier"
    assert steps_by_name(second["verification"])["duplicate"] == ("fail", "duplicate.identifier")
    assert second["api_key"] is None
    with platform.unit(write=False) as s:
        kept = s.get(Participant, uuid.UUID(first["participant"]["id"]))
        assert kept is not None and kept.status == "active"


def test_identifier_is_compared_after_trimming_and_upper_casing(make_client) -> None:
    client = make_client(review_rule="lenient")
    code = uscc_with_prefix("91", "MA2CAPE1")
    assert any(c.isalpha() for c in code)
    client.post("/api/v1/participants", json=body(identifier=code))

    again = client.post("/api/v1/participants", json=body(identifier=f"  {code.lower()} "))

    assert again.json()["participant"]["identifier"] == code
    assert again.json()["participant"]["decision_reason"] == "duplicate.identifier"


def test_full_width_copy_of_a_registered_identifier_is_a_duplicate(make_client) -> None:
    client = make_client(review_rule="lenient")
    code = uscc_with_prefix("91", "MA2FULL1")
    client.post("/api/v1/participants", json=body(identifier=code))
    full_width = code.translate({cp - 0xFEE0: cp for cp in range(0xFF01, 0xFF5F)})

    again = client.post("/api/v1/participants", json=body(identifier=full_width)).json()

    assert again["participant"]["identifier"] == code
    assert again["participant"]["decision_reason"] == "duplicate.identifier"


def test_identifier_typed_in_groups_is_stored_normalised(make_client) -> None:
    client = make_client(review_rule="lenient")
    code = uscc_with_prefix("91", "MA2GRP01")
    client.post("/api/v1/participants", json=body(identifier=code))

    again = client.post(
        "/api/v1/participants", json=body(identifier=f"{code[:6]} {code[6:12]} {code[12:]}")
    )

    assert again.status_code == 201
    assert again.json()["participant"]["decision_reason"] == "duplicate.identifier"


def test_rejected_or_revoked_identifier_can_register_again(make_client, platform: Platform) -> None:
    client = make_client(review_rule="lenient")
    code = uscc_with_prefix("91", "MA2AGN01")
    strict = make_client(review_rule="strict")
    assert (
        strict.post("/api/v1/participants", json=body(identifier=code)).json()["participant"][
            "status"
        ]
        == "rejected"
    )

    live = client.post("/api/v1/participants", json=body(identifier=code)).json()
    assert live["participant"]["status"] == "active"
    operator = factories.operator(platform)
    revoked = client.post(
        f"/api/v1/participants/{live['participant']['id']}/status",
        json={"action": "revoke"},
        headers=bearer(operator.api_key),
    )
    assert revoked.json()["status"] == "revoked"

    third = client.post("/api/v1/participants", json=body(identifier=code)).json()
    assert third["participant"]["status"] == "active"


def test_duplicate_name_needs_review(make_client) -> None:
    client = make_client(review_rule="lenient")
    name = unique_name("瓯江同名")
    client.post("/api/v1/participants", json=body(name=name))

    second = client.post("/api/v1/participants", json=body(name=f" {name} ")).json()

    assert second["participant"]["status"] == "pending"
    assert second["participant"]["decision"] == "needs_review"
    assert second["participant"]["decision_reason"] == "duplicate.name"
    assert steps_by_name(second["verification"])["duplicate"] == ("review", "duplicate.name")
    assert second["api_key"]  # a pending applicant gets a key to follow its review


# review_rule → what becomes of a registration that presents no credential
WITHOUT_CREDENTIAL = {
    "strict": ("rejected", "rejected", "credential.required", False),
    "standard": ("needs_review", "pending", "credential.absent", True),
    "lenient": ("verified", "active", "all_checks_passed", True),
}


def test_review_rule_decides_a_registration_without_credential(make_client) -> None:
    def check(rule: str) -> None:
        decision, status, reason, gets_key = WITHOUT_CREDENTIAL[rule]
        client = make_client(review_rule=rule, approval="auto")

        registration = client.post("/api/v1/participants", json=body()).json()

        assert registration["participant"]["decision"] == decision
        assert registration["participant"]["status"] == status
        assert registration["participant"]["decision_reason"] == reason
        assert bool(registration["api_key"]) is gets_key

    for_each({rule: rule for rule in WITHOUT_CREDENTIAL}, check)


def test_a_valid_credential_verifies_under_every_rule(make_client, platform: Platform) -> None:
    issuer = factories.trusted_issuer(platform)

    def check(rule: str) -> None:
        client = make_client(review_rule=rule, approval="auto")
        request = body()
        request["credential"] = issuer.credential(request["identifier"], request["name"])

        registration = client.post("/api/v1/participants", json=request).json()

        assert registration["participant"]["status"] == "active"
        assert registration["participant"]["decision_reason"] == "all_checks_passed"
        assert steps_by_name(registration["verification"])["credential"] == (
            "pass",
            "credential.valid",
        )

    for_each({rule: rule for rule in WITHOUT_CREDENTIAL}, check)


def test_manual_approval_keeps_verified_until_the_operator_approves(
    make_client, platform: Platform
) -> None:
    operator = factories.operator(platform)
    client = make_client(review_rule="lenient", approval="manual")
    registration = client.post("/api/v1/participants", json=body()).json()
    pid = registration["participant"]["id"]
    assert registration["participant"]["status"] == "verified"
    assert registration["participant"]["decision"] == "verified"
    # Waiting for approval: it can look at itself, not use the space yet.
    key = bearer(registration["api_key"])
    assert client.get("/api/v1/me", headers=key).status_code == 200
    assert_problem(client.get("/api/v1/participants", headers=key), 403, "participant.not_active")

    approved = client.post(
        f"/api/v1/participants/{pid}/status",
        json={"action": "approve"},
        headers=bearer(operator.api_key),
    )

    assert approved.json()["status"] == "active"
    assert client.get("/api/v1/participants", headers=key).status_code == 200


def test_auto_approval_activates_a_verified_registration_at_once(make_client) -> None:
    client = make_client(review_rule="lenient", approval="auto")
    registration = client.post("/api/v1/participants", json=body()).json()
    assert registration["participant"]["status"] == "active"
    key = bearer(registration["api_key"])
    assert client.get("/api/v1/participants", headers=key).status_code == 200


def test_a_blank_name_is_refused(client: Client, platform: Platform) -> None:
    def check(blank: str) -> None:
        before = table_counts(platform.engine)
        response = client.post("/api/v1/participants", json=body(name=blank))
        assert_problem(response, 422, "participant.name_blank", "name")
        assert table_counts(platform.engine) == before

    for_each({"spaces": "   ", "ideographic space": "\u3000", "tab and newline": "\t\n"}, check)
