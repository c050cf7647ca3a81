"""Bad input never corrupts state (issue: "each gets a specific problem response and leaves the
database unchanged. Test each class").

Every case snapshots the row count of every table (the evidence outbox included), sends one
bad request, and checks the problem and the counts. An invalid identifier and a forged
credential are different by design: they are registrations, stored as rejected with their
reasons so that the applicant sees why, and they receive no API key.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from participants_support import (
    PROBLEM_JSON,
    assert_problem,
    bearer,
    body,
    changed,
    for_each,
    steps_by_name,
    table_counts,
)

import factories
from shuchang.platform import Platform
from shuchang.ports import Ed25519Signer

Client = TestClient  # type: ignore[type-arg]
PARTICIPANTS = "/api/v1/participants"


@dataclass
class World:
    """Who is there before the bad request: an active consumer, the operator, an issuer."""

    member: factories.Member
    operator: factories.Member
    issuer: factories.Issuer
    revoked_key: str


@pytest.fixture
def world(client: Client, platform: Platform) -> World:
    member = factories.participant(platform)
    spare = client.post(
        f"{PARTICIPANTS}/{member.id}/api-keys",
        json={"role": "consumer"},
        headers=bearer(member.api_key),
    ).json()
    client.post(f"/api/v1/api-keys/{spare['key']['id']}/revoke", headers=bearer(member.api_key))
    return World(
        member=member,
        operator=factories.operator(platform),
        issuer=factories.trusted_issuer(platform),
        revoked_key=spare["secret"],
    )


Request = tuple[str, str, dict[str, Any]]


@dataclass(frozen=True)
class Case:
    build: Callable[[World], Request]
    status: int
    code: str
    field: str | None = None


def register(**changes: Any) -> Callable[[World], Request]:
    """A registration whose body is a valid one with ``changes`` (``None`` drops a field)."""

    def build(_: World) -> Request:
        data = body()
        for name, value in changes.items():
            if value is None:
                data.pop(name)
            else:
                data[name] = value
        return "POST", PARTICIPANTS, {"json": data}

    return build


def raw(content: bytes) -> Callable[[World], Request]:
    headers = {"content-type": "application/json"}
    return lambda _: ("POST", PARTICIPANTS, {"content": content, "headers": headers})


def as_member(method: str, path: str, **kwargs: Any) -> Callable[[World], Request]:
    def build(w: World) -> Request:
        return method, path.format(id=w.member.id), {"headers": bearer(w.member.api_key), **kwargs}

    return build


def as_operator(method: str, path: str, **kwargs: Any) -> Callable[[World], Request]:
    def build(w: World) -> Request:
        target = path.format(id=w.member.id, op=w.operator.id)
        return method, target, {"headers": bearer(w.operator.api_key), **kwargs}

    return build


def with_key(key: Callable[[World], str]) -> Callable[[World], Request]:
    return lambda w: ("GET", PARTICIPANTS, {"headers": {"Authorization": f"Bearer {key(w)}"}})


NAIVE_CURSOR = base64.urlsafe_b64encode(f"2026-01-01T00:00:00|{uuid.uuid4()}".encode()).decode()

CASES = {
    "malformed JSON": Case(raw(b'{"kind": "enterprise", '), 400, "request.malformed_json"),
    "not JSON at all": Case(raw(b"kind=enterprise"), 400, "request.malformed_json"),
    "body is an array": Case(raw(b"[]"), 422, "request.invalid_field"),
    "wrong type: roles a string": Case(
        register(roles="consumer"), 422, "request.invalid_field", "roles"
    ),
    "wrong type: name a number": Case(register(name=42), 422, "request.invalid_field", "name"),
    "wrong type: credential a list": Case(
        register(credential=[1]), 422, "request.invalid_field", "credential"
    ),
    "wrong value: unknown kind": Case(
        register(kind="company"), 422, "request.invalid_field", "kind"
    ),
    "wrong value: unknown role": Case(
        register(roles=["admin"]), 422, "request.invalid_field", "roles[0]"
    ),
    "wrong value: no roles": Case(register(roles=[]), 422, "request.invalid_field", "roles"),
    "wrong value: region": Case(register(region="0303"), 422, "request.invalid_field", "region"),
    "wrong value: e-mail": Case(
        register(contact_email="not-an-address"), 422, "request.invalid_field", "contact_email"
    ),
    "missing field: identifier": Case(
        register(identifier=None), 422, "request.invalid_field", "identifier"
    ),
    "missing field: roles": Case(register(roles=None), 422, "request.invalid_field", "roles"),
    "unknown field": Case(register(nickname="小王"), 422, "request.invalid_field", "nickname"),
    "over-long name": Case(register(name="名" * 201), 422, "request.invalid_field", "name"),
    "over-long identifier": Case(
        register(identifier="9" * 41), 422, "request.invalid_field", "identifier"
    ),
    "over-long status reason": Case(
        as_operator(
            "POST", PARTICIPANTS + "/{id}/status", json={"action": "suspend", "reason": "因" * 501}
        ),
        422,
        "request.invalid_field",
        "reason",
    ),
    "unknown status action": Case(
        as_operator("POST", PARTICIPANTS + "/{id}/status", json={"action": "delete"}),
        422,
        "request.invalid_field",
        "action",
    ),
    "over-long key label": Case(
        as_member(
            "POST", PARTICIPANTS + "/{id}/api-keys", json={"role": "consumer", "label": "k" * 101}
        ),
        422,
        "request.invalid_field",
        "label",
    ),
    "invalid public key": Case(
        as_member("POST", PARTICIPANTS + "/{id}/keys", json={"public_key": "bm90IGEga2V5"}),
        422,
        "key.invalid",
        "public_key",
    ),
    "unknown API key": Case(with_key(lambda _: "sck_00000000_" + "x" * 43), 401, "api_key.unknown"),
    "revoked API key": Case(with_key(lambda w: w.revoked_key), 401, "api_key.revoked"),
    "missing API key": Case(lambda _: ("GET", PARTICIPANTS, {}), 401, "api_key.missing"),
    "wrong role": Case(
        as_member("POST", PARTICIPANTS + "/{id}/status", json={"action": "suspend"}),
        403,
        "role.forbidden",
    ),
    "privileged role, anonymously": Case(
        register(kind="government", roles=["operator"]),
        403,
        "participant.role_not_allowed",
        "roles",
    ),
    "illegal transition": Case(
        as_operator("POST", PARTICIPANTS + "/{id}/status", json={"action": "reinstate"}),
        409,
        "participant.invalid_transition",
        "action",
    ),
    "unknown participant": Case(
        as_operator("POST", f"{PARTICIPANTS}/{uuid.uuid4()}/status", json={"action": "approve"}),
        404,
        "participant.not_found",
    ),
    "participant id not a UUID": Case(
        as_operator("GET", PARTICIPANTS + "/not-a-uuid"), 404, "route.not_found"
    ),
    "unreadable cursor": Case(
        as_operator("GET", PARTICIPANTS, params={"cursor": "%%%"}), 400, "cursor.invalid", "cursor"
    ),
    "limit out of range": Case(
        as_operator("GET", PARTICIPANTS, params={"limit": 0}), 422, "request.invalid_field", "limit"
    ),
    "forged cursor without time zone": Case(
        as_operator("GET", PARTICIPANTS, params={"cursor": NAIVE_CURSOR}),
        400,
        "cursor.invalid",
        "cursor",
    ),
    "NUL character in the name": Case(
        register(name="温州\u0000科技"), 422, "request.nul_character"
    ),
    "NUL character in a credential": Case(
        register(credential={"id": "\u0000"}), 422, "request.nul_character"
    ),
    "NUL character in a query": Case(
        as_operator("GET", PARTICIPANTS, params={"q": "a\u0000b"}), 422, "request.nul_character"
    ),
    "blank name": Case(register(name=" \u3000 "), 422, "participant.name_blank", "name"),
}


def test_each_class_of_bad_request_gets_a_specific_problem_and_changes_nothing(
    client: Client, platform: Platform, world: World
) -> None:
    # One world for all classes: a bad request changes nothing, so each case starts from
    # the same state (and a case that did write would show up in its own counts).
    def check(case: Case) -> None:
        method, path, kwargs = case.build(world)
        before = table_counts(platform.engine)

        response = client.request(method, path, **kwargs)

        assert_problem(response, case.status, case.code, case.field)
        assert response.json()["instance"] == path
        assert table_counts(platform.engine) == before

    for_each(CASES, check)


def test_invalid_identifier_is_a_rejected_registration_without_key(
    client: Client, platform: Platform
) -> None:
    before = table_counts(platform.engine)

    response = client.post(PARTICIPANTS, json=body(identifier="91330300MA2DW0010X"))

    assert response.status_code == 201
    registration = response.json()
    assert registration["participant"]["status"] == "rejected"
    assert steps_by_name(registration["verification"])["identifier"][0] == "fail"
    assert registration["api_key"] is None
    assert changed(before, table_counts(platform.engine)) == {
        "participants": 1,
        "participant_verification_steps": 3,
        "evidence_outbox": 1,
    }


def test_forged_credential_is_a_rejected_registration_without_key(
    client: Client, platform: Platform, world: World
) -> None:
    forger = factories.Issuer(world.issuer.id, Ed25519Signer())
    request = body()
    request["credential"] = forger.credential(request["identifier"], request["name"])
    before = table_counts(platform.engine)

    registration = client.post(PARTICIPANTS, json=request).json()

    assert registration["participant"]["status"] == "rejected"
    assert registration["participant"]["decision_reason"] == "credential.signature_invalid"
    assert registration["api_key"] is None
    assert changed(before, table_counts(platform.engine)) == {
        "participants": 1,
        "participant_verification_steps": 3,
        "evidence_outbox": 1,
    }


# --- property tests -------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
not_a_string = json_values.filter(lambda v: not isinstance(v, str))
not_a_list = json_values.filter(lambda v: not isinstance(v, list))
REQUIRED = ("kind", "name", "identifier", "roles")
FIELDS = {"kind", "name", "identifier", "roles", "name_en", "region", "contact_email", "credential"}


@st.composite
def spoiled_registrations(draw: st.DrawFn) -> dict[str, Any]:
    """A valid registration spoiled in one way its schema forbids."""
    data = body()
    how = draw(st.sampled_from(["unknown field", "wrong type", "missing field", "not an object"]))
    if how == "unknown field":
        name = draw(st.text(min_size=1, max_size=12).filter(lambda n: n not in FIELDS))
        data[name] = draw(json_values)
    elif how == "wrong type":
        field = draw(st.sampled_from(REQUIRED))
        data[field] = draw(not_a_list if field == "roles" else not_a_string)
    elif how == "missing field":
        for field in draw(st.sets(st.sampled_from(REQUIRED), min_size=1)):
            data.pop(field)
    else:
        return {"__root__": draw(not_a_string.filter(lambda v: not isinstance(v, dict)))}
    return data


@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=spoiled_registrations())
def test_spoiled_registrations_are_refused_and_write_nothing(
    client: Client, platform: Platform, data: dict[str, Any]
) -> None:
    payload = data.get("__root__", data)
    before = table_counts(platform.engine)

    response = client.post(PARTICIPANTS, json=payload)

    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.json()["message_zh"] and response.json()["message_en"]
    assert table_counts(platform.engine) == before


@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.text(min_size=1, max_size=200),
    identifier=st.text(min_size=1, max_size=40),
    kind=st.sampled_from(["enterprise", "government", "individual"]),
)
def test_any_well_typed_registration_is_answered_without_a_server_error(
    client: Client, name: str, identifier: str, kind: str
) -> None:
    # Text from the whole of Unicode (NUL, controls, astral planes), identifiers of any
    # length the schema admits: the answer is a decision or a problem, never a 500.
    response = client.post(PARTICIPANTS, json=body(kind=kind, name=name, identifier=identifier))

    assert response.status_code < 500, response.text
    if response.status_code == 201:
        assert response.json()["participant"]["status"] in ("rejected", "pending")


def test_nul_character_in_a_path_parameter(client: Client, platform: Platform) -> None:
    operator = factories.operator(platform)
    before = table_counts(platform.engine)

    response = client.post("/api/v1/trusted-issuers/a%00b/revoke", headers=bearer(operator.api_key))

    assert_problem(response, 422, "request.nul_character")
    assert table_counts(platform.engine) == before


def test_the_text_backslash_u0000_is_not_a_nul_character(client: Client) -> None:
    response = client.post(PARTICIPANTS, json=body(name="目录 C:\\u0000 科技有限公司"))
    assert response.status_code == 201, response.text
