"""Signing keys, connectors and trusted issuers of participants (密钥、连接器、可信签发方)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.participants import access
from shuchang.domains.participants.models import (
    Connector,
    ParticipantKey,
    RevokedCredential,
    TrustedIssuer,
)
from shuchang.domains.participants.schemas import (
    Actor,
    AddConnector,
    AddIssuer,
    AddKey,
    ConnectorOut,
    IssuerOut,
    KeyOut,
    RevokeCredential,
)
from shuchang.domains.participants.service import load
from shuchang.errors import Duplicate, InvalidTransition, NotFound, ValidationFailed
from shuchang.ports import UnsupportedAlgorithm, b64decode_strict, fingerprint, public_key_valid


def parse_public_key(algorithm: str, text: str, field: str = "public_key") -> bytes:
    """Decode a base64 raw public key and check it is a key of ``algorithm``."""
    try:
        raw = b64decode_strict(text)
        ok = public_key_valid(algorithm, raw)
    except (ValueError, UnsupportedAlgorithm):
        ok, raw = False, b""
    if not ok:
        raise ValidationFailed(
            f"Not a valid base64 {algorithm} public key",
            f"不是有效的 base64 编码 {algorithm} 公钥",
            code="key.invalid",
            field=field,
        )
    return raw


def _key_out(row: ParticipantKey) -> KeyOut:
    return KeyOut(
        id=row.id,
        algorithm=row.algorithm,
        public_key=row.public_key,
        fingerprint=row.fingerprint,
        status=row.status,
        replaced_by=row.replaced_by,
        created_at=row.created_at,
        retired_at=row.retired_at,
    )


def _new_key(
    session: Session, actor: Actor, participant_id: uuid.UUID, data: AddKey
) -> ParticipantKey:
    raw = parse_public_key(data.algorithm, data.public_key)
    # A key is registered once, ever: a rotated or revoked (possibly compromised) key must not
    # come back, for this participant or another.
    clash = session.scalar(
        select(ParticipantKey.id).where(ParticipantKey.fingerprint == fingerprint(raw))
    )
    if clash is not None:
        raise Duplicate(
            "This key is or was already registered",
            "该公钥已登记过（含已轮换或吊销的密钥）",
            code="key.duplicate",
            field="public_key",
        )
    row = ParticipantKey(
        participant_id=participant_id,
        algorithm=data.algorithm,
        public_key=data.public_key,
        fingerprint=fingerprint(raw),
        status="active",
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    evidence.record(
        session,
        "key.added",
        f"participant:{participant_id}",
        actor.ref,
        {"key_id": str(row.id), "algorithm": row.algorithm, "fingerprint": row.fingerprint},
    )
    return row


def add_key(session: Session, actor: Actor, participant_id: uuid.UUID, data: AddKey) -> KeyOut:
    access.require_self_or(actor, load(session, participant_id).id)
    return _key_out(_new_key(session, actor, participant_id, data))


def list_participant_keys(
    session: Session, actor: Actor, participant_id: uuid.UUID
) -> list[KeyOut]:
    load(session, participant_id)
    rows = session.scalars(
        select(ParticipantKey)
        .where(ParticipantKey.participant_id == participant_id)
        .order_by(ParticipantKey.created_at)
    )
    return [_key_out(r) for r in rows]


def _active_key(session: Session, participant_id: uuid.UUID, key_id: uuid.UUID) -> ParticipantKey:
    row = session.get(ParticipantKey, key_id)
    if row is None or row.participant_id != participant_id:
        raise NotFound("Key not found", "密钥不存在", code="key.not_found")
    if row.status != "active":
        raise InvalidTransition(
            f"Key is {row.status}", f"密钥状态为 {row.status}，不能再操作", code="key.not_active"
        )
    return row


def rotate_key(
    session: Session, actor: Actor, participant_id: uuid.UUID, key_id: uuid.UUID, data: AddKey
) -> KeyOut:
    """Replace an active key by a new one; the old one is kept as ``rotated`` for audits."""
    access.require_self_or(actor, participant_id)
    old = _active_key(session, participant_id, key_id)
    new = _new_key(session, actor, participant_id, data)
    old.status, old.replaced_by, old.retired_at = "rotated", new.id, utcnow()
    evidence.record(
        session,
        "key.rotated",
        f"participant:{participant_id}",
        actor.ref,
        {"key_id": str(old.id), "replaced_by": str(new.id)},
    )
    return _key_out(new)


def revoke_participant_key(
    session: Session, actor: Actor, participant_id: uuid.UUID, key_id: uuid.UUID
) -> KeyOut:
    """Withdraw a key (e.g. compromised); signatures made with it no longer count."""
    access.require_self_or(actor, participant_id, "operator")
    row = _active_key(session, participant_id, key_id)
    row.status, row.retired_at = "revoked", utcnow()
    evidence.record(
        session, "key.revoked", f"participant:{participant_id}", actor.ref, {"key_id": str(row.id)}
    )
    return _key_out(row)


def _connector_out(row: Connector) -> ConnectorOut:
    return ConnectorOut(
        id=row.id,
        url=row.url,
        public_key=row.public_key,
        label=row.label,
        created_at=row.created_at,
    )


def add_connector(
    session: Session, actor: Actor, participant_id: uuid.UUID, data: AddConnector
) -> ConnectorOut:
    access.require_self_or(actor, load(session, participant_id).id)
    parse_public_key("ed25519", data.public_key)
    row = Connector(
        participant_id=participant_id,
        url=data.url,
        public_key=data.public_key,
        label=data.label,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    evidence.record(
        session,
        "connector.registered",
        f"participant:{participant_id}",
        actor.ref,
        {"connector_id": str(row.id), "url": row.url},
    )
    return _connector_out(row)


def list_connectors(session: Session, participant_id: uuid.UUID) -> list[ConnectorOut]:
    load(session, participant_id)
    rows = session.scalars(
        select(Connector)
        .where(Connector.participant_id == participant_id)
        .order_by(Connector.created_at)
    )
    return [_connector_out(r) for r in rows]


def _issuer_out(row: TrustedIssuer) -> IssuerOut:
    return IssuerOut(
        id=row.id,
        name=row.name,
        algorithm=row.algorithm,
        public_key=row.public_key,
        status=row.status,
        created_at=row.created_at,
    )


def add_issuer(session: Session, actor: Actor, data: AddIssuer) -> IssuerOut:
    """Trust a credential issuer (operator only)."""
    access.require(actor, "operator", "system")
    parse_public_key(data.algorithm, data.public_key)
    if session.get(TrustedIssuer, data.id) is not None:
        raise Duplicate(
            "Issuer id already used", "签发方标识已存在", code="issuer.duplicate", field="id"
        )
    row = TrustedIssuer(
        id=data.id,
        name=data.name,
        algorithm=data.algorithm,
        public_key=data.public_key,
        status="active",
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    evidence.record(
        session,
        "issuer.trusted",
        f"issuer:{row.id}",
        actor.ref,
        {"name": row.name, "algorithm": row.algorithm},
    )
    return _issuer_out(row)


def _issuer(session: Session, issuer_id: str) -> TrustedIssuer:
    row = session.get(TrustedIssuer, issuer_id)
    if row is None:
        raise NotFound("Issuer not found", "签发方不存在", code="issuer.not_found")
    return row


def revoke_issuer(session: Session, actor: Actor, issuer_id: str) -> IssuerOut:
    """Stop trusting an issuer: its credentials fail from the next verification on."""
    access.require(actor, "operator", "system")
    row = _issuer(session, issuer_id)
    if row.status != "revoked":
        row.status = "revoked"
        evidence.record(session, "issuer.revoked", f"issuer:{row.id}", actor.ref, {})
    return _issuer_out(row)


def revoke_credential(
    session: Session, actor: Actor, issuer_id: str, data: RevokeCredential
) -> None:
    """Record that an issuer withdrew one credential (e.g. a cancelled business licence)."""
    access.require(actor, "operator", "system")
    _issuer(session, issuer_id)
    if session.get(RevokedCredential, (issuer_id, data.credential_id)) is None:
        session.add(
            RevokedCredential(
                issuer_id=issuer_id,
                credential_id=data.credential_id,
                reason=data.reason,
                revoked_at=utcnow(),
            )
        )
        evidence.record(
            session,
            "credential.revoked",
            f"issuer:{issuer_id}",
            actor.ref,
            {"credential_id": data.credential_id, "reason": data.reason},
        )


def list_issuers(session: Session) -> list[IssuerOut]:
    return [
        _issuer_out(r) for r in session.scalars(select(TrustedIssuer).order_by(TrustedIssuer.id))
    ]


def key_owner(session: Session, keyid: str) -> tuple[uuid.UUID, bytes] | None:
    """The participant holding the active key with this fingerprint, and the raw key."""
    row = session.scalars(
        select(ParticipantKey).where(
            ParticipantKey.fingerprint == keyid, ParticipantKey.status == "active"
        )
    ).first()
    if row is None:
        return None
    return row.participant_id, b64decode_strict(row.public_key)


def active_keys(session: Session, participant_id: uuid.UUID) -> list[bytes]:
    rows = session.scalars(
        select(ParticipantKey.public_key).where(
            ParticipantKey.participant_id == participant_id, ParticipantKey.status == "active"
        )
    )
    return [b64decode_strict(k) for k in rows]


def connector_urls(session: Session, participant_id: uuid.UUID) -> list[str]:
    rows = session.scalars(select(Connector.url).where(Connector.participant_id == participant_id))
    return [url.rstrip("/") for url in rows]
