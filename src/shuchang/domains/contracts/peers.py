"""Who sent a signed Dataspace Protocol request: check its RFC 9421 signature, spend its nonce.

Shared by every DSP endpoint that takes connector-signed messages (negotiations, transfers).
Refusals are :class:`~shuchang.domains.contracts.httpsig.SignatureError` with the HTTP status
to answer (401, or 409 for a replay); each protocol says them in its own error message.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from litestar import Request
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains.contracts import httpsig
from shuchang.domains.contracts.models import SeenNonce
from shuchang.domains.contracts.negotiation import Sender
from shuchang.domains.participants import key_owner

# A replay is refused by its age once ``created`` is more than MAX_SKEW away, and a nonce was
# spent within MAX_SKEW of its ``created``: after twice that, its record protects nothing.
NONCE_KEEP = timedelta(seconds=2 * httpsig.MAX_SKEW)
PRUNE_EVERY = 60.0  # seconds between clean-ups per process
_last_prune = 0.0


def prune_nonces(session: Session, now: datetime) -> int:
    """Delete spent nonces too old to matter; how many went."""
    result = session.execute(delete(SeenNonce).where(SeenNonce.seen_at < now - NONCE_KEEP))
    return int(getattr(result, "rowcount", 0) or 0)


def _maybe_prune(session: Session, now: datetime) -> None:
    global _last_prune  # noqa: PLW0603 - one clock per process, nothing else to share
    if time.monotonic() - _last_prune >= PRUNE_EVERY:
        _last_prune = time.monotonic()
        prune_nonces(session, now)


def authenticate(session: Session, request: Request[Any, Any, Any], body: bytes) -> Sender:
    """The participant whose registered key signed ``request``; its nonce is spent in
    ``session``'s transaction, so a refusal later in that transaction spends nothing."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    signed = httpsig.parse(headers, body)
    owner = key_owner(session, signed.keyid)
    if owner is None:
        raise httpsig.SignatureError(
            "dsp.key_unknown", "The signing key is not registered here", "签名密钥未在本平台登记"
        )
    # RFC 9421 signs the path as sent, before percent-decoding.
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    httpsig.verify(signed, request.method, raw_path.decode("latin-1"), owner[1])
    now = utcnow()
    _maybe_prune(session, now)
    try:
        with session.begin_nested():
            session.add(SeenNonce(keyid=signed.keyid, nonce=signed.nonce, seen_at=now))
    except IntegrityError as exc:
        raise httpsig.SignatureError(
            "dsp.replayed", "This signed message was already received", "重复的报文（重放）", 409
        ) from exc
    return Sender(participant_id=owner[0], public_key=owner[1])
