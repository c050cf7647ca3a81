"""Access tokens of pull transfers (数据访问令牌): compact JWS (RFC 7515) signed with EdDSA.

The provider's connector key signs them (the key it signs agreements and DSP requests with),
so anyone holding the provider's registered public key can check one offline. Format::

    BASE64URL({"alg":"EdDSA","kid":"<16 hex key fingerprint>","typ":"JWT"}) "."
    BASE64URL({"iss": "<provider URN>", "sub": "<consumer URN>", "aud": "<data-plane URL>",
               "agreement_id": "<uuid>", "consumer_id": "<uuid at the provider>",
               "transfer_id": "<provider-side transfer uuid>", "provider_pid": "urn:uuid:…",
               "epoch": <start count>, "iat": <s>, "exp": <s>, "jti": "<random>"}) "."
    BASE64URL(Ed25519 signature over the first two parts)

:func:`verify_token` is pure: signature, expiry and the bindings the caller asks about, no
database. :func:`check_started` is the one cheap query the data plane adds per request: the
transfer is STARTED and still in the epoch the token was issued for. Refusals::

    TokenRejected (Unauthenticated, 401)     transfer.token_invalid   malformed or not ours
    ├── TokenExpired                          transfer.token_expired   past ``exp``
    └── TokenForged                           transfer.token_forged    signature does not verify
    TokenMisdirected (PermissionDenied, 403)  transfer.token_misdirected  other consumer,
                                                                        transfer or audience
    TransferNotStarted (PermissionDenied, 403) transfer.not_started   suspended, ended, resumed
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from shuchang.domains.transfers.models import TransferProcess
from shuchang.errors import PermissionDenied, Unauthenticated
from shuchang.ports import Ed25519Signer, fingerprint

MAX_TOKEN = 4096
CLOCK_SKEW = 60  # seconds a token's iat may lie in the future (clocks of two machines)


class TokenRejected(Unauthenticated):
    default_code = "transfer.token_invalid"
    default_en = "The access token is malformed or not issued here"
    default_zh = "访问令牌格式错误或非本方签发"


class TokenExpired(TokenRejected):
    default_code = "transfer.token_expired"
    default_en = "The access token has expired; refresh it"
    default_zh = "访问令牌已过期，请刷新"


class TokenForged(TokenRejected):
    default_code = "transfer.token_forged"
    default_en = "The access token's signature does not verify"
    default_zh = "访问令牌签名验证失败"


class TokenMisdirected(PermissionDenied):
    default_code = "transfer.token_misdirected"
    default_en = "The access token was issued for another consumer, transfer or endpoint"
    default_zh = "访问令牌属于其他使用方、传输过程或端点"


class TransferNotStarted(PermissionDenied):
    default_code = "transfer.not_started"
    default_en = "The transfer is not started (suspended, completed or terminated)"
    default_zh = "传输过程未处于进行中（已暂停、完成或终止）"


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token binds."""

    issuer: str
    subject: str
    audience: str
    agreement_id: uuid.UUID
    consumer_id: uuid.UUID
    transfer_id: uuid.UUID
    provider_pid: str
    epoch: int
    issued_at: int
    expires_at: int
    token_id: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if (
        not text
        or len(text) % 4 == 1
        or not all(c.isascii() and (c.isalnum() or c in "-_") for c in text)
    ):
        raise TokenRejected()
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise TokenRejected() from exc


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def issue(
    signer: Ed25519Signer,
    *,
    issuer: str,
    subject: str,
    audience: str,
    agreement_id: uuid.UUID,
    consumer_id: uuid.UUID,
    transfer_id: uuid.UUID,
    provider_pid: str,
    epoch: int,
    lifetime: int,
    now: int | None = None,
) -> tuple[str, TokenClaims]:
    """A signed token and its claims (``jti`` is fresh, ``exp`` = now + lifetime)."""
    issued = int(time.time()) if now is None else now
    claims = TokenClaims(
        issuer=issuer,
        subject=subject,
        audience=audience,
        agreement_id=agreement_id,
        consumer_id=consumer_id,
        transfer_id=transfer_id,
        provider_pid=provider_pid,
        epoch=epoch,
        issued_at=issued,
        expires_at=issued + lifetime,
        token_id=secrets.token_urlsafe(16),
    )
    header = {"alg": "EdDSA", "kid": fingerprint(signer.public_key()), "typ": "JWT"}
    payload = {
        "iss": claims.issuer,
        "sub": claims.subject,
        "aud": claims.audience,
        "agreement_id": str(agreement_id),
        "consumer_id": str(consumer_id),
        "transfer_id": str(transfer_id),
        "provider_pid": provider_pid,
        "epoch": epoch,
        "iat": claims.issued_at,
        "exp": claims.expires_at,
        "jti": claims.token_id,
    }
    signing_input = f"{_b64(_json(header))}.{_b64(_json(payload))}"
    signature = signer.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{_b64(signature)}", claims


@lru_cache(maxsize=64)
def _public_key(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


def _claims(payload: Any) -> TokenClaims:
    try:
        return TokenClaims(
            issuer=_str(payload["iss"]),
            subject=_str(payload["sub"]),
            audience=_str(payload["aud"]),
            agreement_id=uuid.UUID(_str(payload["agreement_id"])),
            consumer_id=uuid.UUID(_str(payload["consumer_id"])),
            transfer_id=uuid.UUID(_str(payload["transfer_id"])),
            provider_pid=_str(payload["provider_pid"]),
            epoch=_int(payload["epoch"]),
            issued_at=_int(payload["iat"]),
            expires_at=_int(payload["exp"]),
            token_id=_str(payload["jti"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise TokenRejected() from exc


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(value)
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(value)
    return value


def verify_token(
    token: str,
    keys: Mapping[str, bytes],
    *,
    now: float | None = None,
    audience: str | None = None,
    consumer_id: uuid.UUID | None = None,
    subject: str | None = None,
    transfer_id: uuid.UUID | None = None,
) -> TokenClaims:
    """The claims of ``token`` if a key of ``keys`` (fingerprint → raw Ed25519 public key)
    signed it, it has not expired and it binds what the caller names; else a TokenRejected
    (or TokenMisdirected). No database access: the data plane calls it on every request."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN or token.count(".") != 2:  # noqa: PLR2004
        raise TokenRejected()
    head, body, sig = token.split(".")
    try:
        header = json.loads(_unb64(head))
        payload = json.loads(_unb64(body))
    except ValueError as exc:
        raise TokenRejected() from exc
    if not isinstance(header, dict) or header.get("alg") != "EdDSA" or header.get("crit"):
        raise TokenRejected()
    key = keys.get(str(header.get("kid")))
    if key is None:
        raise TokenForged("The access token is signed by an unknown key", "访问令牌的签名密钥未知")
    try:
        _public_key(key).verify(_unb64(sig), f"{head}.{body}".encode("ascii"))
    except (InvalidSignature, ValueError) as exc:
        raise TokenForged() from exc
    claims = _claims(payload)
    at = time.time() if now is None else now
    if at >= claims.expires_at:
        raise TokenExpired()
    if claims.issued_at > at + CLOCK_SKEW:
        raise TokenRejected("The access token is issued in the future", "访问令牌签发时间异常")
    expected = (
        (audience, claims.audience),
        (consumer_id, claims.consumer_id),
        (subject, claims.subject),
        (transfer_id, claims.transfer_id),
    )
    if any(want is not None and want != got for want, got in expected):
        raise TokenMisdirected()
    return claims


def check_started(session: Session, claims: TokenClaims) -> None:
    """Raise TransferNotStarted unless the token's transfer is STARTED in the token's epoch
    (one primary-key read; suspension and termination take effect on the next request)."""
    require_started(transfer_states(session, [claims.transfer_id]), claims)


_STATES = select(
    TransferProcess.id, TransferProcess.state, TransferProcess.epoch, TransferProcess.role
).where(TransferProcess.id.in_(bindparam("ids", expanding=True)))


def transfer_states(
    session: Session, transfer_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, int, str]]:
    """``(state, epoch, role)`` of each named transfer, in one statement (a batch of data
    requests asks once for all the transfers it uses)."""
    ids = list(dict.fromkeys(transfer_ids))
    rows = session.connection().execute(_STATES, {"ids": ids})
    return {row.id: (row.state, row.epoch, row.role) for row in rows}


def require_started(known: Mapping[uuid.UUID, tuple[str, int, str]], claims: TokenClaims) -> None:
    """Raise unless ``known`` (from :func:`transfer_states`) has the token's transfer STARTED in the
    token's epoch at its provider."""
    row = known.get(claims.transfer_id)
    if row is None or row[2] != "provider":
        raise TokenMisdirected()
    if row[0] != "STARTED" or row[1] != claims.epoch:
        raise TransferNotStarted()
