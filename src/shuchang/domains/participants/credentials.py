"""Signed credentials that bind an identifier and a name to a validity period (资质凭证).

A credential is a JSON object, e.g. an electronic business-licence attestation::

    {"id": "urn:uuid:…", "type": "BusinessLicenceCredential", "issuer": "samr-elicence",
     "subject": {"identifier": "91330300…", "name": "温州某某科技有限公司"},
     "valid_from": "2026-01-01T00:00:00Z", "valid_until": "2027-01-01T00:00:00Z",
     "proof": {"algorithm": "ed25519", "signature": "<base64>"}}

The signature covers the RFC 8785 canonical JSON of the object without ``proof``. The shape
is deliberately small (not a full W3C VC with JSON-LD) so that an issuer can produce it with
any Ed25519 library; docs/operators.*.md give the recipe.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shuchang.canonical import canonical_json
from shuchang.ports import Signer, b64decode_strict, verify_signature

CREDENTIAL_FIELDS = ("id", "type", "issuer", "subject", "valid_from", "valid_until", "proof")


@dataclass(frozen=True)
class IssuerKey:
    """What the verifier needs to know about a trusted issuer."""

    id: str
    algorithm: str
    public_key: bytes
    active: bool


@dataclass(frozen=True)
class Outcome:
    """One step's result: ``pass``, ``fail``, ``review`` or ``skip``, with a stable reason."""

    result: str
    reason: str
    message_zh: str
    message_en: str


def _fail(reason: str, zh: str, en: str) -> Outcome:
    return Outcome("fail", reason, zh, en)


def signed_bytes(credential: dict[str, Any]) -> bytes:
    return canonical_json({k: v for k, v in credential.items() if k != "proof"})


def issue(
    signer: Signer,
    *,
    issuer_id: str,
    credential_id: str,
    identifier: str,
    name: str,
    valid_from: datetime,
    valid_until: datetime,
    credential_type: str = "BusinessLicenceCredential",
) -> dict[str, Any]:
    """Create and sign a credential (used by issuers, the demo and tests)."""
    body: dict[str, Any] = {
        "id": credential_id,
        "type": credential_type,
        "issuer": issuer_id,
        "subject": {"identifier": identifier, "name": name},
        "valid_from": valid_from.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "valid_until": valid_until.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    signature = signer.sign(signed_bytes(body))
    body["proof"] = {
        "algorithm": signer.algorithm,
        "signature": base64.b64encode(signature).decode(),
    }
    return body


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.endswith("Z"):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _shape_fault(credential: dict[str, Any]) -> str | None:
    """Name the first field that is missing or of the wrong type, if any."""
    for name in CREDENTIAL_FIELDS:
        if name not in credential:
            return name
    subject, proof = credential["subject"], credential["proof"]
    if not isinstance(subject, dict) or not {"identifier", "name"} <= subject.keys():
        return "subject"
    if not isinstance(proof, dict) or not isinstance(proof.get("signature"), str):
        return "proof"
    for name in ("id", "type", "issuer"):
        if not isinstance(credential[name], str):
            return name
    for name in ("valid_from", "valid_until"):
        if _parse_time(credential[name]) is None:
            return name
    return None


def _signature_ok(credential: dict[str, Any], issuer: IssuerKey) -> bool:
    proof = credential["proof"]
    if proof.get("algorithm", "ed25519") != issuer.algorithm:
        return False
    try:
        signature = b64decode_strict(proof["signature"])
        signed = signed_bytes(credential)
    except (ValueError, TypeError):  # bad base64, or content JCS cannot encode (floats)
        return False
    return verify_signature(issuer.algorithm, issuer.public_key, signed, signature)


def check(
    credential: dict[str, Any] | None,
    *,
    identifier: str,
    name: str,
    issuers: dict[str, IssuerKey],
    revoked: set[tuple[str, str]],
    now: datetime,
) -> Outcome:
    """Verify a presented credential against the trusted issuers; the first fault decides."""
    if credential is None:
        return Outcome("skip", "credential.absent", "未提交资质凭证", "No credential presented")
    fault = _shape_fault(credential)
    if fault is not None:
        return _fail(
            "credential.malformed",
            f"资质凭证格式错误：字段 {fault} 缺失或类型不对",
            f"Malformed credential: field {fault} is missing or of the wrong type",
        )
    issuer = issuers.get(credential["issuer"])
    if issuer is None:
        return _fail(
            "credential.issuer_untrusted",
            f"签发方 {credential['issuer']} 不在可信签发方名单中",
            f"Issuer {credential['issuer']} is not a trusted issuer",
        )
    if not issuer.active:
        return _fail(
            "credential.issuer_revoked",
            f"签发方 {issuer.id} 已被运营者撤销信任",
            f"The operator no longer trusts issuer {issuer.id}",
        )
    if not _signature_ok(credential, issuer):
        return _fail(
            "credential.signature_invalid",
            "资质凭证签名无效（内容被改动或非该签发方签发）",
            "Credential signature does not verify (altered or not signed by this issuer)",
        )
    if (issuer.id, credential["id"]) in revoked:
        return _fail(
            "credential.revoked", "资质凭证已被签发方吊销", "The issuer revoked this credential"
        )
    return _check_period_and_subject(credential, identifier=identifier, name=name, now=now)


def _check_period_and_subject(
    credential: dict[str, Any], *, identifier: str, name: str, now: datetime
) -> Outcome:
    valid_from = _parse_time(credential["valid_from"])
    valid_until = _parse_time(credential["valid_until"])
    assert valid_from is not None and valid_until is not None  # checked by _shape_fault
    if now < valid_from:
        return _fail(
            "credential.not_yet_valid",
            f"资质凭证自 {credential['valid_from']} 起才生效",
            f"Credential is not valid before {credential['valid_from']}",
        )
    if now >= valid_until:
        return _fail(
            "credential.expired",
            f"资质凭证已于 {credential['valid_until']} 过期",
            f"Credential expired at {credential['valid_until']}",
        )
    subject = credential["subject"]
    if subject["identifier"] != identifier:
        return _fail(
            "credential.identifier_mismatch",
            "资质凭证上的证件号码与申请不一致",
            "The credential names a different identifier",
        )
    if subject["name"] != name:
        return _fail(
            "credential.name_mismatch",
            "资质凭证上的名称与申请不一致",
            "The credential names a different name",
        )
    return Outcome(
        "pass",
        "credential.valid",
        f"资质凭证有效（签发方 {credential['issuer']}）",
        f"Credential valid (issuer {credential['issuer']})",
    )
