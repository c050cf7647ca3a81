"""Pull access tokens: what verifies, and each way a token is refused (no database here,
except for the state check the data plane adds per request)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import pytest

from shuchang.domains.transfers import (
    TokenClaims,
    TokenExpired,
    TokenForged,
    TokenMisdirected,
    TokenRejected,
    verify_token,
)
from shuchang.domains.transfers.tokens import issue
from shuchang.ports import Ed25519Signer, fingerprint

PROVIDER = Ed25519Signer()
KEYS = {fingerprint(PROVIDER.public_key()): PROVIDER.public_key()}
AGREEMENT, CONSUMER, TRANSFER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
AUDIENCE = "https://bureau.dongou.example.cn/data"


def token(signer: Ed25519Signer = PROVIDER, **overrides: Any) -> tuple[str, TokenClaims]:
    fields: dict[str, Any] = {
        "issuer": "urn:uscc:11330300T00000011X",
        "subject": "urn:uscc:91330300T00000029A",
        "audience": AUDIENCE,
        "agreement_id": AGREEMENT,
        "consumer_id": CONSUMER,
        "transfer_id": TRANSFER,
        "provider_pid": f"urn:uuid:{uuid.uuid4()}",
        "epoch": 1,
        "lifetime": 300,
    }
    fields.update(overrides)
    return issue(signer, **fields)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _reencode(jws: str, part: int, change: dict[str, Any]) -> str:
    parts = jws.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(parts[part] + "=" * (-len(parts[part]) % 4)))
    parts[part] = _b64(json.dumps({**decoded, **change}).encode())
    return ".".join(parts)


def test_a_token_verifies_and_binds_agreement_consumer_and_transfer() -> None:
    jws, issued = token()
    claims = verify_token(jws, KEYS, audience=AUDIENCE, consumer_id=CONSUMER, transfer_id=TRANSFER)
    assert claims == issued
    assert (claims.agreement_id, claims.consumer_id, claims.transfer_id) == (
        AGREEMENT,
        CONSUMER,
        TRANSFER,
    )
    assert claims.expires_at - claims.issued_at == 300
    header = json.loads(base64.urlsafe_b64decode(jws.split(".")[0] + "=="))
    assert header == {"alg": "EdDSA", "kid": fingerprint(PROVIDER.public_key()), "typ": "JWT"}


def test_each_token_is_unique() -> None:
    assert token()[1].token_id != token()[1].token_id


def test_an_expired_token_is_refused() -> None:
    jws, claims = token(lifetime=60, now=int(time.time()) - 61)
    with pytest.raises(TokenExpired) as refused:
        verify_token(jws, KEYS)
    assert (refused.value.http_status, refused.value.code) == (401, "transfer.token_expired")
    assert verify_token(jws, KEYS, now=claims.expires_at - 1) == claims
    with pytest.raises(TokenExpired):
        verify_token(jws, KEYS, now=claims.expires_at)


def test_a_token_from_the_future_is_refused() -> None:
    jws, _ = token(now=int(time.time()) + 3600)
    with pytest.raises(TokenRejected):
        verify_token(jws, KEYS)


def test_a_token_signed_by_another_key_is_refused() -> None:
    forger = Ed25519Signer()
    jws, _ = token(signer=forger)
    with pytest.raises(TokenForged) as unknown:
        verify_token(jws, KEYS)
    assert unknown.value.code == "transfer.token_forged"
    # The forger claims our key id: the signature still does not verify.
    forged = _reencode(jws, 0, {"kid": fingerprint(PROVIDER.public_key())})
    with pytest.raises(TokenForged):
        verify_token(forged, KEYS)


@pytest.mark.parametrize(
    "change",
    [
        {"consumer_id": str(uuid.uuid4())},
        {"transfer_id": str(uuid.uuid4())},
        {"exp": 9_999_999_999},
        {"epoch": 2},
    ],
)
def test_a_token_with_changed_claims_is_refused(change: dict[str, Any]) -> None:
    jws, _ = token()
    with pytest.raises(TokenForged):
        verify_token(_reencode(jws, 1, change), KEYS)


def test_unsigned_and_other_algorithm_tokens_are_refused() -> None:
    jws, _ = token()
    head, body, _sig = jws.split(".")
    none_alg = _reencode(f"{head}.{body}.", 0, {"alg": "none"})
    for case in (none_alg, _reencode(jws, 0, {"alg": "HS256"}), f"{head}.{body}."):
        with pytest.raises(TokenRejected):
            verify_token(case, KEYS)


@pytest.mark.parametrize(
    "bad",
    ["", "abc", "a.b", "a.b.c.d", "é.é.é", "!!.!!.!!", "x" * 5000, "e30.e30.AA"],
)
def test_malformed_tokens_are_refused(bad: str) -> None:
    with pytest.raises(TokenRejected) as refused:
        verify_token(bad, KEYS)
    assert refused.value.http_status == 401


def test_a_token_for_another_consumer_transfer_or_endpoint_is_refused() -> None:
    jws, _ = token()
    for expected in (
        {"consumer_id": uuid.uuid4()},
        {"transfer_id": uuid.uuid4()},
        {"audience": "https://elsewhere.example.cn/data"},
        {"subject": "urn:uscc:91330300T00000037B"},
    ):
        with pytest.raises(TokenMisdirected) as refused:
            verify_token(jws, KEYS, **expected)
        assert (refused.value.http_status, refused.value.code) == (
            403,
            "transfer.token_misdirected",
        )


def test_a_rotated_key_set_still_verifies_old_tokens() -> None:
    jws, claims = token()
    newer = Ed25519Signer()
    keys = {**KEYS, fingerprint(newer.public_key()): newer.public_key()}
    assert verify_token(jws, keys) == claims
