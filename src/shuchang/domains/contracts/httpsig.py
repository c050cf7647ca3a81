"""HTTP Message Signatures (RFC 9421) with Ed25519, and Content-Digest (RFC 9530).

Connectors sign every Dataspace Protocol request so the receiver knows which participant's
connector sent it, that the body was not changed, and that it is not a replay. The subset
implemented here (by hand: no maintained Python library covers RFC 9421 with Ed25519):

* covered components ``("@method" "@path" "content-digest")``;
* parameters ``created`` (seconds), ``nonce`` (random, once per request), ``keyid`` (the
  signer's key fingerprint as registered with the receiving platform) and ``alg="ed25519"``;
* label ``sig1``; ``Content-Digest: sha-256=:<base64>:`` over the body (empty body too).

The receiver checks the digest, the signature, that ``created`` is within ``MAX_SKEW``
seconds, and (in the service layer) that (keyid, nonce) was never seen before.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from dataclasses import dataclass

from shuchang.ports import Ed25519Signer, verify_signature

LABEL = "sig1"
COMPONENTS = ("@method", "@path", "content-digest")
MAX_SKEW = 300
_INPUT = re.compile(
    r'^sig1=\("@method" "@path" "content-digest"\);created=(\d{1,12});'
    r'keyid="([0-9a-f]{16})";nonce="([A-Za-z0-9_-]{16,64})";alg="ed25519"$'
)
_SIGNATURE = re.compile(r"^sig1=:([A-Za-z0-9+/=]{80,100}):$")


class SignatureError(Exception):
    """The request is unsigned, malformed, stale or signed by someone else."""

    def __init__(self, code: str, en: str, zh: str, status: int = 401) -> None:
        super().__init__(en)
        self.code, self.en, self.zh, self.status = code, en, zh, status


def content_digest(body: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def _params(created: int, keyid: str, nonce: str) -> str:
    covered = " ".join(f'"{c}"' for c in COMPONENTS)
    return f'({covered});created={created};keyid="{keyid}";nonce="{nonce}";alg="ed25519"'


def _base(method: str, path: str, digest: str, params: str) -> bytes:
    return (
        f'"@method": {method.upper()}\n"@path": {path}\n"content-digest": {digest}\n'
        f'"@signature-params": {params}'
    ).encode()


def sign_request(
    signer: Ed25519Signer, keyid: str, method: str, path: str, body: bytes
) -> dict[str, str]:
    """The headers that sign this request."""
    digest = content_digest(body)
    params = _params(int(time.time()), keyid, secrets.token_urlsafe(18))
    signature = signer.sign(_base(method, path, digest, params))
    return {
        "Content-Digest": digest,
        "Signature-Input": f"{LABEL}={params}",
        "Signature": f"{LABEL}=:{base64.b64encode(signature).decode()}:",
    }


@dataclass(frozen=True)
class SignedRequest:
    keyid: str
    nonce: str
    created: int
    signature_input: str
    signature: bytes
    digest: str


def parse(headers: dict[str, str], body: bytes, now: float | None = None) -> SignedRequest:
    """Check the headers' shape, the body digest and freshness; not yet the signature."""
    raw_input, raw_sig = headers.get("signature-input"), headers.get("signature")
    if not raw_input or not raw_sig:
        raise SignatureError("dsp.unsigned", "The request is not signed", "请求未签名")
    found, sig = _INPUT.match(raw_input.strip()), _SIGNATURE.match(raw_sig.strip())
    if not found or not sig:
        raise SignatureError(
            "dsp.signature_malformed", "Malformed signature headers", "签名头格式错误"
        )
    digest = content_digest(body)
    if headers.get("content-digest", "").strip() != digest:
        raise SignatureError(
            "dsp.digest_mismatch", "Content-Digest does not match the body", "报文摘要与内容不符"
        )
    created = int(found.group(1))
    if abs((now if now is not None else time.time()) - created) > MAX_SKEW:
        raise SignatureError(
            "dsp.signature_stale",
            "The signature is too old or from the future",
            "签名已过期或时间异常",
        )
    return SignedRequest(
        keyid=found.group(2),
        nonce=found.group(3),
        created=created,
        signature_input=raw_input.strip().removeprefix(f"{LABEL}="),
        signature=base64.b64decode(sig.group(1)),
        digest=digest,
    )


def verify(request: SignedRequest, method: str, path: str, public_key: bytes) -> None:
    base = _base(method, path, request.digest, request.signature_input)
    if not verify_signature("ed25519", public_key, base, request.signature):
        raise SignatureError(
            "dsp.signature_invalid", "The signature does not verify", "签名验证失败"
        )
