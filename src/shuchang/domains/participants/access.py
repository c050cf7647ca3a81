"""API keys and role checks (访问控制).

A key looks like ``sck_<prefix>_<secret>``; only SHA-256 of the whole string is stored (the
secret has 256 bits of entropy, so a slow password hash would add latency and no safety).
Each key is scoped to one participant and one of its roles; every route names the roles it
admits and :func:`require` enforces them.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import cast

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.participants.models import ApiKey, Participant
from shuchang.domains.participants.schemas import STATUS_ZH, Actor, ApiKeyOut, IssuedApiKey, Role
from shuchang.errors import NotFound, PermissionDenied, Unauthenticated, ValidationFailed

KEY_PREFIX = "sck_"
ROLE_NAMES_ZH = {
    "operator": "运营者",
    "provider": "提供方",
    "consumer": "使用方",
    "service_firm": "服务方",
    "regulator": "监管方",
}


_keys = ApiKey.__table__.c
_people = Participant.__table__.c
_AUTH = (
    select(_keys.id, _keys.role, _keys.revoked_at, _people.id, _people.status)
    .join_from(ApiKey.__table__, Participant.__table__, _people.id == _keys.participant_id)
    .where(_keys.key_hash == bindparam("key_hash"))
)


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _out(row: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=row.id,
        role=row.role,
        prefix=row.prefix,
        label=row.label,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def issue_key(
    session: Session, actor: Actor, participant: Participant, role: str, label: str | None
) -> IssuedApiKey:
    """Create a key for one of the participant's roles; the secret is returned only here."""
    if role not in participant.roles:
        raise ValidationFailed(
            f"Participant does not hold the role {role}",
            f"该参与方没有 {ROLE_NAMES_ZH.get(role, role)} 角色",
            code="api_key.role_not_held",
            field="role",
        )
    prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        participant_id=participant.id,
        role=role,
        prefix=prefix,
        key_hash=hash_key(secret),
        label=label,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    evidence.record(
        session,
        "api_key.issued",
        f"participant:{participant.id}",
        actor.ref,
        {"api_key_id": str(row.id), "role": role, "prefix": prefix},
    )
    return IssuedApiKey(key=_out(row), secret=secret)


def list_keys(session: Session, participant_id: uuid.UUID) -> list[ApiKeyOut]:
    rows = session.scalars(
        select(ApiKey).where(ApiKey.participant_id == participant_id).order_by(ApiKey.created_at)
    )
    return [_out(row) for row in rows]


def revoke_key(session: Session, actor: Actor, key_id: uuid.UUID) -> ApiKeyOut:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound("API key not found", "API 密钥不存在", code="api_key.not_found")
    if actor.role not in ("operator", "system") and actor.participant_id != row.participant_id:
        raise PermissionDenied(
            "Only the key's holder or the operator may revoke it",
            "只有密钥持有者或运营者可以吊销",
            code="api_key.not_owner",
        )
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        evidence.record(
            session,
            "api_key.revoked",
            f"participant:{row.participant_id}",
            actor.ref,
            {"api_key_id": str(row.id)},
        )
    return _out(row)


def authenticate(
    session: Session | Connection, secret: str | None, *, allow_inactive: bool = False
) -> Actor:
    """Resolve a presented key to an actor, or raise :class:`Unauthenticated`.

    Keys of participants that are not active (pending review, suspended, revoked) only work
    where ``allow_inactive`` is set: reading one's own status and presenting a credential.
    """
    if not secret or not secret.startswith(KEY_PREFIX):
        raise Unauthenticated(
            "Missing or malformed API key", "缺少 API 密钥或格式不正确", code="api_key.missing"
        )
    # A pre-built Core statement on the unit's connection: this runs on every request, and
    # the ORM layers cost more than the query (benchmarks/participants_load.py).
    connection = session.connection() if isinstance(session, Session) else session
    found = connection.execute(_AUTH, {"key_hash": hash_key(secret)}).first()
    if found is None:
        raise Unauthenticated("Unknown API key", "API 密钥无效", code="api_key.unknown")
    key_id, role, revoked_at, participant_id, status = found
    if revoked_at is not None:
        raise Unauthenticated("API key revoked", "API 密钥已吊销", code="api_key.revoked")
    if status != "active" and not (allow_inactive and status in ("pending", "verified")):
        raise PermissionDenied(
            f"Participant is {status}, not active",
            f"参与方状态为“{STATUS_ZH.get(status, status)}”，不是已启用",
            code="participant.not_active",
        )
    return Actor(participant_id=participant_id, role=cast(Role, role), api_key_id=key_id)


def require(actor: Actor, *roles: str) -> None:
    """Admit the actor only in one of ``roles`` (the platform's own ``system`` actor always)."""
    if actor.role not in roles and actor.role != "system":
        allowed = ", ".join(roles)
        raise PermissionDenied(
            f"This needs one of the roles: {allowed}",
            "此操作需要以下角色之一：" + "、".join(ROLE_NAMES_ZH.get(r, r) for r in roles),
            code="role.forbidden",
        )


def require_self_or(actor: Actor, participant_id: uuid.UUID, *roles: str) -> None:
    """Admit the participant itself, or an actor holding one of ``roles``."""
    if actor.participant_id != participant_id:
        require(actor, *roles)
