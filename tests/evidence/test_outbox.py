"""The evidence outbox (存证): every state change writes one row in its own transaction, the
rows cannot be rewritten, and each carries the SHA-256 of its payload's RFC 8785 form.

The RFC 8785 (JCS) encoder below is written from the RFC, independently of
``shuchang.canonical``, so that the digest is checked against the standard and not against
the code that produced it.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import factories
from shuchang.domains.evidence import history, record
from shuchang.domains.evidence.models import OutboxEntry
from shuchang.domains.participants import access, keys, service
from shuchang.domains.participants.schemas import (
    SYSTEM,
    Actor,
    AddConnector,
    AddIssuer,
    AddKey,
    RegisterParticipant,
    RevokeCredential,
    StatusChange,
)
from shuchang.domains.participants.service import OnboardingRules
from shuchang.models import metadata
from shuchang.platform import Platform
from shuchang.ports import Ed25519Signer

Client = TestClient  # type: ignore[type-arg]

# --- RFC 8785, from the RFC ------------------------------------------------------------------

_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _jcs_string(value: str) -> str:
    # §3.2.2.2: ECMAScript JSON.stringify string form: the short escapes, other controls as
    # lower-case \u00xx, everything else (non-ASCII included) as is.
    out = []
    for char in value:
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def jcs(value: Any) -> str:
    """RFC 8785 for the JSON the platform records (no floats)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        assert abs(value) <= 2**53, "JCS numbers are IEEE-754 doubles"
        return str(value)
    if isinstance(value, str):
        return _jcs_string(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(jcs(v) for v in value) + "]"
    if isinstance(value, dict):
        # §3.2.3: members sorted by their names as arrays of UTF-16 code units.
        names = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(f"{_jcs_string(k)}:{jcs(value[k])}" for k in names) + "}"
    raise TypeError(type(value))


def jcs_sha256(value: Any) -> str:
    return hashlib.sha256(jcs(value).encode("utf-8")).hexdigest()


def test_the_reference_encoder_matches_the_rfc_example() -> None:
    # RFC 8785 §3.2.3 sorting example (its numbers replaced by strings: we record no floats).
    names = ["\u20ac", "\r", "\ufb33", "1", "\U0001f600", "\u0080", "\u00f6"]
    expected = ["\\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert jcs(dict.fromkeys(names, 0)) == "{" + ",".join(f'"{n}":0' for n in expected) + "}"


# --- helpers -----------------------------------------------------------------------------------


def outbox(platform: Platform, after: int = 0) -> list[OutboxEntry]:
    with platform.unit(write=False) as s:
        return list(
            s.scalars(select(OutboxEntry).where(OutboxEntry.id > after).order_by(OutboxEntry.id))
        )


def last_id(platform: Platform) -> int:
    with platform.unit(write=False) as s:
        return s.scalar(select(func.coalesce(func.max(OutboxEntry.id), 0))) or 0


def all_counts(platform: Platform) -> dict[str, int]:
    with platform.engine.connect() as conn:
        return {
            t.name: conn.scalar(select(func.count()).select_from(t)) or 0
            for t in metadata.sorted_tables
        }


def public_key() -> str:
    return base64.b64encode(Ed25519Signer().public_key()).decode()


# --- every state change records evidence --------------------------------------------------------


@dataclass
class Scene:
    """What exists before the change under test."""

    member: factories.Member
    pending: factories.Member
    issuer: factories.Issuer
    key_id: uuid.UUID
    api_key_id: uuid.UUID


def make_scene(platform: Platform) -> Scene:
    member = factories.participant(platform)
    pending = factories.participant(platform, rules=OnboardingRules("standard", "auto"))
    issuer = factories.trusted_issuer(platform, f"issuer-{uuid.uuid4().hex[:8]}")
    with platform.unit() as s:
        key = keys.add_key(s, SYSTEM, member.id, AddKey(public_key=public_key()))
        spare = access.issue_key(s, SYSTEM, service.load(s, member.id), "consumer", "spare")
    return Scene(member, pending, issuer, key.id, spare.key.id)


Change = Callable[[Session, Scene], object]


def holder(sc: Scene) -> Actor:
    return Actor(participant_id=sc.member.id, role="consumer")


def _register(s: Session, _: Scene) -> object:
    request = RegisterParticipant(
        kind="enterprise", name="存证测试有限公司", identifier=factories.uscc(), roles=["provider"]
    )
    return service.register(s, SYSTEM, request, OnboardingRules("lenient", "auto"))


def _reverify(s: Session, sc: Scene) -> object:
    credential = sc.issuer.credential(sc.pending.identifier, sc.pending.name)
    return service.reverify(s, SYSTEM, sc.pending.id, OnboardingRules(), credential)


CHANGES: dict[str, tuple[Change, list[str], Callable[[Scene], str]]] = {
    "registration": (_register, ["participant.registered", "api_key.issued"], lambda sc: ""),
    "status change": (
        lambda s, sc: service.change_status(s, SYSTEM, sc.member.id, StatusChange("suspend")),
        ["participant.status_changed"],
        lambda sc: f"participant:{sc.member.id}",
    ),
    "reverification": (
        _reverify,
        ["participant.reverified"],
        lambda sc: f"participant:{sc.pending.id}",
    ),
    "key added": (
        lambda s, sc: keys.add_key(s, SYSTEM, sc.member.id, AddKey(public_key=public_key())),
        ["key.added"],
        lambda sc: f"participant:{sc.member.id}",
    ),
    "key rotated": (
        lambda s, sc: keys.rotate_key(
            s, SYSTEM, sc.member.id, sc.key_id, AddKey(public_key=public_key())
        ),
        ["key.added", "key.rotated"],
        lambda sc: f"participant:{sc.member.id}",
    ),
    "key revoked": (
        lambda s, sc: keys.revoke_participant_key(s, SYSTEM, sc.member.id, sc.key_id),
        ["key.revoked"],
        lambda sc: f"participant:{sc.member.id}",
    ),
    "api key issued": (
        lambda s, sc: access.issue_key(s, SYSTEM, service.load(s, sc.member.id), "consumer", None),
        ["api_key.issued"],
        lambda sc: f"participant:{sc.member.id}",
    ),
    "api key revoked": (  # by its holder, so the actor is the participant
        lambda s, sc: access.revoke_key(s, holder(sc), sc.api_key_id),
        ["api_key.revoked"],
        lambda sc: f"participant:{sc.member.id}",
    ),
    "connector": (
        lambda s, sc: keys.add_connector(
            s,
            SYSTEM,
            sc.member.id,
            AddConnector(url="https://c.example.cn", public_key=public_key()),
        ),
        ["connector.registered"],
        lambda sc: f"participant:{sc.member.id}",
    ),
    "issuer trusted": (
        lambda s, sc: keys.add_issuer(
            s, SYSTEM, AddIssuer(id="another-issuer", name="另一签发方", public_key=public_key())
        ),
        ["issuer.trusted"],
        lambda sc: "issuer:another-issuer",
    ),
    "issuer revoked": (
        lambda s, sc: keys.revoke_issuer(s, SYSTEM, sc.issuer.id),
        ["issuer.revoked"],
        lambda sc: f"issuer:{sc.issuer.id}",
    ),
    "credential revoked": (
        lambda s, sc: keys.revoke_credential(
            s, SYSTEM, sc.issuer.id, RevokeCredential("urn:uuid:gone", "licence cancelled")
        ),
        ["credential.revoked"],
        lambda sc: f"issuer:{sc.issuer.id}",
    ),
}


def test_each_state_change_records_evidence(platform: Platform) -> None:
    failures = {}
    for name, (change, kinds, subject) in CHANGES.items():
        scene = make_scene(platform)  # a fresh one: changes must not see each other
        since = last_id(platform)

        with platform.unit() as s:
            change(s, scene)

        entries = outbox(platform, after=since)
        actor = holder(scene).ref if name == "api key revoked" else "system"
        try:
            assert [e.kind for e in entries] == kinds
            assert all(e.actor == actor for e in entries)
            if subject(scene):
                assert {e.subject for e in entries} == {subject(scene)}
            for entry in entries:
                assert entry.payload_digest == jcs_sha256(entry.payload)
        except AssertionError as exc:
            failures[name] = exc
    assert not failures, failures


def test_registration_through_the_api_names_subject_actor_and_outcome(
    client: Client, platform: Platform
) -> None:
    operator = factories.operator(platform)
    request = {
        "kind": "enterprise",
        "name": "瓯海存证科技有限公司",
        "identifier": factories.uscc(),
        "roles": ["provider"],
    }
    since = last_id(platform)

    registration = client.post(
        "/api/v1/participants",
        json=request,
        headers={"Authorization": f"Bearer {operator.api_key}"},
    ).json()

    pid = registration["participant"]["id"]
    registered = outbox(platform, after=since)[0]
    assert registered.kind == "participant.registered"
    assert registered.subject == f"participant:{pid}"
    assert registered.actor == f"participant:{operator.id}"
    assert registered.payload["identifier"] == request["identifier"]
    assert registered.payload["status"] == registration["participant"]["status"]
    assert registered.payload["steps"] == [
        [s["step"], s["result"], s["reason"]] for s in registration["verification"]
    ]
    assert registration["api_key"] not in str(registered.payload)


def test_anonymous_registration_is_recorded_as_anonymous(
    client: Client, platform: Platform
) -> None:
    since = last_id(platform)
    client.post(
        "/api/v1/participants",
        json={
            "kind": "individual",
            "name": "张三",
            "identifier": factories.resident_id(),
            "roles": ["consumer"],
        },
    )
    assert {e.actor for e in outbox(platform, after=since)} == {"anonymous"}


# --- same transaction -----------------------------------------------------------------------------


class Boom(Exception):
    pass


def test_a_failed_transaction_keeps_neither_the_change_nor_its_evidence(
    platform: Platform,
) -> None:
    before = all_counts(platform)

    with pytest.raises(Boom), platform.unit() as s:
        _register(s, None)  # type: ignore[arg-type]
        assert (
            s.scalar(select(func.count()).select_from(OutboxEntry)) == before["evidence_outbox"] + 2
        )  # visible inside the transaction …
        raise Boom

    assert all_counts(platform) == before  # … and gone with it


def test_evidence_recorded_then_failing_is_rolled_back(platform: Platform) -> None:
    before = all_counts(platform)

    with pytest.raises(Boom), platform.unit() as s:
        record(s, "test.changed", "object:1", "system", {"n": 1})
        raise Boom

    assert all_counts(platform) == before


def test_a_refused_change_writes_no_evidence(client: Client, platform: Platform) -> None:
    operator = factories.operator(platform)
    member = factories.participant(platform)
    before = all_counts(platform)

    refused = client.post(
        f"/api/v1/participants/{member.id}/status",
        json={"action": "approve"},  # active cannot be approved again
        headers={"Authorization": f"Bearer {operator.api_key}"},
    )

    assert refused.status_code == 409
    assert all_counts(platform) == before


# --- append-only ----------------------------------------------------------------------------------


REWRITES = [
    "UPDATE evidence_outbox SET actor = 'someone else'",
    "UPDATE evidence_outbox SET payload_digest = 'x' WHERE kind = 'test.changed'",
    "DELETE FROM evidence_outbox",
    "DELETE FROM evidence_outbox WHERE kind = 'test.changed'",
]


def test_the_database_refuses_to_rewrite_the_outbox(platform: Platform) -> None:
    with platform.unit() as s:
        entry_id = record(s, "test.changed", "object:1", "system", {"n": 1})
    original = outbox(platform)

    for statement in REWRITES:
        with pytest.raises(DBAPIError, match="append-only"), platform.engine.begin() as conn:
            conn.execute(text(statement))

    kept = outbox(platform)
    assert [(e.id, e.actor, e.payload_digest) for e in kept] == [
        (e.id, e.actor, e.payload_digest) for e in original
    ]
    assert kept[-1].id == entry_id


def test_the_orm_cannot_rewrite_the_outbox_either(platform: Platform) -> None:
    with platform.unit() as s:
        entry_id = record(s, "test.changed", "object:1", "system", {"n": 1})

    with pytest.raises(DBAPIError, match="append-only"), platform.unit() as s:
        s.execute(update(OutboxEntry).where(OutboxEntry.id == entry_id).values(actor="x"))
    with pytest.raises(DBAPIError, match="append-only"), platform.unit() as s:
        entry = s.get(OutboxEntry, entry_id)
        s.delete(entry)
        s.flush()

    assert [e.actor for e in outbox(platform)] == ["system"]


# --- the digest ---------------------------------------------------------------------------------


def test_digest_is_sha256_of_the_canonical_payload(platform: Platform) -> None:
    payload = {
        "名称": "东瓯市数据局",
        "b": [1, "二", None, True, {"z": 0, "a": -7}],
        "a": 'line\nbreak "quoted" \\ tab\t ctrl\u0001 € 😀',
        "A": 2**53 - 1,
    }
    with platform.unit() as s:
        record(s, "test.changed", "object:1", "system", payload)

    stored = outbox(platform)[-1]
    assert stored.payload == payload
    assert stored.payload_digest == jcs_sha256(payload)
    expected_text = (
        '{"A":9007199254740991,"a":"line\\nbreak \\"quoted\\" \\\\ tab\\t ctrl\\u0001 € 😀",'
        '"b":[1,"二",null,true,{"a":-7,"z":0}],"名称":"东瓯市数据局"}'
    )
    assert stored.payload_digest == hashlib.sha256(expected_text.encode()).hexdigest()


def test_member_names_are_sorted_by_utf16_code_units(platform: Platform) -> None:
    payload = {"\ufb33": 1, "\U0001f600": 2}  # RFC 8785's own example pair
    with platform.unit() as s:
        record(s, "test.changed", "object:1", "system", payload)
    assert outbox(platform)[-1].payload_digest == jcs_sha256(payload)


def test_numbers_rfc_8785_cannot_hold_exactly_are_refused_and_nothing_is_written(
    platform: Platform,
) -> None:
    # Floats (money is integer fen) and integers an IEEE-754 double cannot hold exactly.
    before = all_counts(platform)
    for payload in (
        {"amount": 1.5},
        {"nested": [0.1]},
        {"n": 2**53 + 1},
        {"n": -(2**53) - 1},
        {"deep": {"n": 2**64}},
    ):
        with pytest.raises((TypeError, ValueError)), platform.unit() as s:
            record(s, "test.changed", "object:1", "system", payload)
    assert all_counts(platform) == before


# Any names, astral planes included (their UTF-16 order differs from code-point order).
_names = st.text(st.characters(exclude_categories=["Cs"]), max_size=6)
_payloads = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_names, inner, max_size=4),
    max_leaves=12,
)


@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(payload=st.dictionaries(_names, _payloads, max_size=5))
def test_stored_digest_is_recomputable_from_the_stored_payload(
    platform: Platform, payload: dict[str, Any]
) -> None:
    with pytest.raises(Boom), platform.unit() as s:  # rolled back: the table only grows
        entry_id = record(s, "test.changed", "object:p", "system", payload)
        stored = s.get(OutboxEntry, entry_id)
        assert stored is not None
        s.expire(stored)
        assert stored.payload == payload
        assert stored.payload_digest == jcs_sha256(stored.payload)
        raise Boom


# --- reading it back ---------------------------------------------------------------------


def test_history_is_the_subjects_entries_oldest_first(platform: Platform) -> None:
    with platform.unit() as s:
        for n in range(3):
            record(s, "test.changed", "object:h", "system", {"n": n})
        record(s, "test.changed", "object:other", "system", {"n": 9})
    with platform.unit(write=False) as s:
        entries = history(s, "object:h")
    assert [e.payload["n"] for e in entries] == [0, 1, 2]


def test_a_participant_reads_its_own_evidence_not_anothers(
    client: Client, platform: Platform
) -> None:
    member, other = factories.participant(platform), factories.participant(platform)
    mine = client.get(
        "/api/v1/evidence",
        params={"subject": f"participant:{member.id}"},
        headers={"Authorization": f"Bearer {member.api_key}"},
    )
    assert mine.status_code == 200
    assert [e["kind"] for e in mine.json()] == ["participant.registered", "api_key.issued"]

    theirs = client.get(
        "/api/v1/evidence",
        params={"subject": f"participant:{other.id}"},
        headers={"Authorization": f"Bearer {member.api_key}"},
    )
    assert theirs.status_code == 403
    assert theirs.json()["code"] == "role.forbidden"
