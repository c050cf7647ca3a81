"""RFC 9421 message signatures and RFC 9530 Content-Digest as connectors use them.

No database, no app: these pin the signing subset (``@method @path content-digest``,
``created keyid nonce alg``, label ``sig1``) that every DSP request relies on. The signature
base is rebuilt here by hand from RFC 9421 §2.5, so a peer implementing the RFC from the text
(not from our code) verifies what we sign.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from shuchang.domains.contracts import httpsig
from shuchang.ports import Ed25519Signer, fingerprint

SIGNER = Ed25519Signer()
KEYID = fingerprint(SIGNER.public_key())
PATH = "/dsp/negotiations/urn:uuid:0f4a6c1e-5b7d-4c3a-9e21-7d0b8f6a2c11/termination"
BODY = '{"@type": "ContractNegotiationTerminationMessage", "reason": ["用途变更"]}'.encode()
Headers = dict[str, str]


def signed(body: bytes = BODY, method: str = "POST", path: str = PATH) -> Headers:
    """Headers as a receiver sees them (lower-case names)."""
    return {
        k.lower(): v for k, v in httpsig.sign_request(SIGNER, KEYID, method, path, body).items()
    }


def check(headers: Headers, body: bytes = BODY, method: str = "POST", path: str = PATH) -> None:
    request = httpsig.parse(headers, body)
    httpsig.verify(request, method, path, SIGNER.public_key())


def refused(code: str, action: Callable[[], object]) -> None:
    with pytest.raises(httpsig.SignatureError) as caught:
        action()
    assert caught.value.code == code
    assert caught.value.en and caught.value.zh  # both languages for the error answer


# ---- the happy path and the wire format -------------------------------------------------------


def test_a_signed_request_verifies_and_names_its_key_nonce_and_time() -> None:
    headers = signed()
    request = httpsig.parse(headers, BODY)
    httpsig.verify(request, "POST", PATH, SIGNER.public_key())
    assert request.keyid == KEYID
    assert abs(request.created - time.time()) < 5
    assert len(request.nonce) >= 16


def test_every_request_gets_a_fresh_nonce() -> None:
    nonces = {httpsig.parse(signed(), BODY).nonce for _ in range(50)}
    assert len(nonces) == 50


def test_content_digest_matches_the_rfc_9530_example() -> None:
    # RFC 9530 §2: the body {"hello": "world"} followed by a newline.
    body = b'{"hello": "world"}\n'
    assert httpsig.content_digest(body) == "sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:"
    assert httpsig.content_digest(b"") == "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"


def test_the_signature_covers_the_rfc_9421_signature_base_rebuilt_independently() -> None:
    headers = signed()
    params = re.fullmatch(r"sig1=(.*)", headers["signature-input"])
    signature = re.fullmatch(r"sig1=:(.*):", headers["signature"])
    assert params and signature
    assert params.group(1).startswith('("@method" "@path" "content-digest");created=')
    base = "\n".join(
        [
            '"@method": POST',
            f'"@path": {PATH}',
            f'"content-digest": {headers["content-digest"]}',
            f'"@signature-params": {params.group(1)}',
        ]
    ).encode()
    public = Ed25519PublicKey.from_public_bytes(SIGNER.public_key())
    public.verify(base64.b64decode(signature.group(1)), base)  # raises if it does not


def test_method_names_are_case_insensitive_as_http_methods_are_written() -> None:
    check(signed(method="post"), method="POST")


# ---- tampering ----------------------------------------------------------------------------------


def test_another_method_breaks_the_signature() -> None:
    refused("dsp.signature_invalid", lambda: check(signed(), method="PUT"))


def test_another_path_breaks_the_signature() -> None:
    other = PATH.replace("termination", "agreement/verification")
    refused("dsp.signature_invalid", lambda: check(signed(), path=other))


def test_an_altered_body_no_longer_matches_its_digest() -> None:
    refused("dsp.digest_mismatch", lambda: check(signed(), body=BODY.replace(b"\xe7", b"\xe6")))


def test_an_altered_body_with_a_recomputed_digest_breaks_the_signature() -> None:
    body = BODY + b" "
    headers = {**signed(), "content-digest": httpsig.content_digest(body)}
    refused("dsp.signature_invalid", lambda: check(headers, body=body))


@pytest.mark.parametrize(
    ("pattern", "replacement"),
    [
        (r"created=(\d+)", lambda m: f"created={int(m.group(1)) - 1}"),
        (r'nonce="([^"]+)"', lambda m: 'nonce="' + m.group(1)[::-1] + '"'),
        (r'keyid="([0-9a-f]+)"', lambda m: 'keyid="' + "0" * 16 + '"'),
    ],
    ids=["created", "nonce", "keyid"],
)
def test_changing_a_signature_parameter_breaks_the_signature(
    pattern: str, replacement: Callable[[re.Match[str]], str]
) -> None:
    headers = signed()
    headers["signature-input"] = re.sub(pattern, replacement, headers["signature-input"])
    assert headers["signature-input"] != signed()["signature-input"]
    refused("dsp.signature_invalid", lambda: check(headers))


def test_a_signature_by_another_key_does_not_verify() -> None:
    other = Ed25519Signer()
    headers = {
        k.lower(): v for k, v in httpsig.sign_request(other, KEYID, "POST", PATH, BODY).items()
    }
    refused("dsp.signature_invalid", lambda: check(headers))


# ---- freshness -----------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [-httpsig.MAX_SKEW - 1, httpsig.MAX_SKEW + 1])
def test_a_signature_more_than_five_minutes_off_is_stale(offset: int) -> None:
    request = httpsig.parse(signed(), BODY)
    refused(
        "dsp.signature_stale", lambda: httpsig.parse(signed(), BODY, now=request.created + offset)
    )


@pytest.mark.parametrize("offset", [-httpsig.MAX_SKEW, 0, httpsig.MAX_SKEW])
def test_a_signature_within_five_minutes_is_fresh(offset: int) -> None:
    headers = signed()
    created = httpsig.parse(headers, BODY).created
    httpsig.parse(headers, BODY, now=created + offset)


# ---- malformed headers -------------------------------------------------------------------------


def _without(name: str) -> Headers:
    headers = signed()
    del headers[name]
    return headers


def _with(name: str, old: str, new: str) -> Headers:
    headers = signed()
    headers[name] = headers[name].replace(old, new)
    return headers


MALFORMED: dict[str, tuple[Callable[[], Headers], str]] = {
    "no-headers": (dict, "dsp.unsigned"),
    "no-signature": (lambda: _without("signature"), "dsp.unsigned"),
    "no-signature-input": (lambda: _without("signature-input"), "dsp.unsigned"),
    "empty-signature": (lambda: {**signed(), "signature": ""}, "dsp.unsigned"),
    "no-content-digest": (lambda: _without("content-digest"), "dsp.digest_mismatch"),
    "other-digest-algorithm": (
        lambda: {**signed(), "content-digest": "sha-512=:AAAA:"},
        "dsp.digest_mismatch",
    ),
    "other-input-label": (lambda: _with("signature-input", "sig1=", "sig2="), "malformed"),
    "other-signature-label": (lambda: _with("signature", "sig1=", "sig2="), "malformed"),
    "components-reordered": (
        lambda: _with("signature-input", '"@method" "@path"', '"@path" "@method"'),
        "malformed",
    ),
    "other-component": (
        lambda: _with("signature-input", '"content-digest"', '"content-type"'),
        "malformed",
    ),
    "other-algorithm": (
        lambda: _with("signature-input", 'alg="ed25519"', 'alg="rsa-pss-sha512"'),
        "malformed",
    ),
    "upper-case-keyid": (
        lambda: _with("signature-input", f'keyid="{KEYID}"', 'keyid="ABCDEF0123456789"'),
        "malformed",
    ),
    "nonce-with-bad-character": (
        lambda: _with("signature-input", 'nonce="', 'nonce="!'),
        "malformed",
    ),
    "signature-not-base64": (lambda: {**signed(), "signature": "sig1=:not base64!:"}, "malformed"),
    "signature-too-short": (lambda: {**signed(), "signature": f"sig1=:{'A' * 40}:"}, "malformed"),
    "empty-component-list": (lambda: {**signed(), "signature-input": "sig1=()"}, "malformed"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_signature_headers_are_refused(case: str) -> None:
    build, code = MALFORMED[case]
    headers = build()
    refused("dsp.signature_malformed" if code == "malformed" else code, lambda: check(headers))


def test_a_truncated_signature_of_parseable_length_does_not_verify() -> None:
    headers = signed()
    raw = base64.b64decode(headers["signature"][6:-1])[:60]
    headers["signature"] = f"sig1=:{base64.b64encode(raw).decode()}:"
    refused("dsp.signature_invalid", lambda: check(headers))


# ---- any body ------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=2048))
def test_any_body_round_trips(body: bytes) -> None:
    check(signed(body), body)


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=512), other=st.binary(max_size=512))
def test_a_signature_over_one_body_never_covers_another(body: bytes, other: bytes) -> None:
    if body == other:
        return
    refused("dsp.digest_mismatch", lambda: check(signed(body), other))
