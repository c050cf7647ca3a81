"""Who sent a signed Dataspace Protocol request: check its RFC 9421 signature, spend its nonce.

Shared by every DSP endpoint that takes connector-signed messages (negotiations, transfers).
Refusals are :class:`~shuchang.domains.contracts.httpsig.SignatureError` with the HTTP status
to answer (401, or 409 for a replay); each protocol says them in its own error message.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains.contracts import httpsig
from shuchang.domains.contracts.models import SeenNonce
from shuchang.domains.contracts.negotiation import Sender
from shuchang.domains.participants import key_owner


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
    try:
        with session.begin_nested():
            session.add(SeenNonce(keyid=signed.keyid, nonce=signed.nonce, seen_at=utcnow()))
    except IntegrityError as exc:
        raise httpsig.SignatureError(
            "dsp.replayed", "This signed message was already received", "重复的报文（重放）", 409
        ) from exc
    return Sender(participant_id=owner[0], public_key=owner[1])
