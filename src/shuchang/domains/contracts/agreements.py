"""Agreements (合约): built from the listed offer, signed by both parties, verifiable offline.

An agreement is a DSP 2025-1 ``Agreement`` (ODRL) that fixes, beyond the offer's rules:

* the parties — ``assigner`` (provider) and ``assignee`` (consumer) as stable participant URNs
  (``urn:uscc:<统一社会信用代码>`` for organisations);
* the period — a ``dateTime`` window ``[timestamp, timestamp + days)`` added to every
  permission;
* the price — a ``compensate`` duty with ``payAmount`` in fen, and ``shuchang:price`` with the
  price model (and, for a tiered price, its unit and tiers: settlement bills from this);
* the purpose — already in the offer ("一场景一授权": one listed offer, one purpose).

A signed agreement file is JSON::

    {"type": "ShuchangSignedAgreement", "version": 1, "agreement": {...},
     "signatures": [{"role": "assigner"|"assignee", "participant": "urn:uscc:…",
                     "keyid": "<16 hex>", "algorithm": "ed25519",
                     "publicKey": "<base64>", "signature": "<base64>"}]}

Each signature covers the RFC 8785 canonical JSON of ``agreement``. `shuchang contracts verify`
checks both signatures offline; ``--trust`` pins the public keys expected for each party.
"""

from __future__ import annotations

import base64
import copy
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shuchang.canonical import canonical_json
from shuchang.ports import Ed25519Signer, fingerprint, verify_signature

DOCUMENT_TYPE = "ShuchangSignedAgreement"
ROLES = ("assigner", "assignee")


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Terms:
    """What the provider fixes when it agrees (from the listed product)."""

    dataset_id: str
    provider_urn: str
    consumer_urn: str
    price_model: str
    price_fen: int
    price_period: str | None
    days: int
    price_unit: str | None = None  # a tiered price: what it counts (call or row)
    price_tiers: tuple[tuple[int | None, int], ...] = ()  # (up to, unit fen) per tier


def offer_body(offer: dict[str, Any]) -> dict[str, Any]:
    """The parts of an offer that must match the listing (no target, context or id)."""
    return {k: v for k, v in offer.items() if k in ("permission", "prohibition", "obligation")}


def build(offer: dict[str, Any], terms: Terms, now: datetime) -> dict[str, Any]:
    """The DSP Agreement for ``offer`` under ``terms``, starting ``now``."""
    start, end = now.replace(microsecond=0), now.replace(microsecond=0) + timedelta(days=terms.days)
    window = [
        {"leftOperand": "dateTime", "operator": "gteq", "rightOperand": _stamp(start)},
        {"leftOperand": "dateTime", "operator": "lt", "rightOperand": _stamp(end)},
    ]
    permissions = []
    for rule in copy.deepcopy(offer.get("permission", [])):
        rule["constraint"] = [*rule.get("constraint", []), *window]
        if terms.price_model != "free":
            pay = {
                "leftOperand": "payAmount",
                "operator": "eq",
                "rightOperand": str(terms.price_fen),
            }
            rule["duty"] = [*rule.get("duty", []), {"action": "compensate", "constraint": [pay]}]
        permissions.append(rule)
    agreement: dict[str, Any] = {
        "@id": f"urn:uuid:{uuid.uuid4()}",
        "@type": "Agreement",
        "target": terms.dataset_id,
        "assigner": terms.provider_urn,
        "assignee": terms.consumer_urn,
        "timestamp": _stamp(start),
        "permission": permissions,
        "shuchang:price": _price(terms),
    }
    for key in ("prohibition", "obligation"):
        if offer.get(key):
            agreement[key] = copy.deepcopy(offer[key])
    return agreement


def _price(terms: Terms) -> dict[str, Any]:
    """``shuchang:price``: amounts as decimal strings (as ODRL's payAmount), tiers if any."""
    price: dict[str, Any] = {
        "model": terms.price_model,
        "amountFen": str(terms.price_fen),
        "period": terms.price_period,
    }
    if terms.price_tiers:
        price["unit"] = terms.price_unit
        price["tiers"] = [
            {"upTo": None if up_to is None else str(up_to), "unitFen": str(fen)}
            for up_to, fen in terms.price_tiers
        ]
    return price


def window(agreement: dict[str, Any]) -> tuple[datetime, datetime]:
    start = datetime.fromisoformat(agreement["timestamp"])
    ends = [
        datetime.fromisoformat(c["rightOperand"])
        for rule in agreement.get("permission", [])
        for c in rule.get("constraint", [])
        if c.get("leftOperand") == "dateTime" and c.get("operator") == "lt"
    ]
    return start, min(ends) if ends else start


def purpose(agreement: dict[str, Any]) -> str | None:
    for rule in agreement.get("permission", []):
        for c in rule.get("constraint", []):
            if c.get("leftOperand") == "purpose" and isinstance(c.get("rightOperand"), str):
                return str(c["rightOperand"])
    return None


def sign(
    agreement: dict[str, Any], role: str, participant: str, signer: Ed25519Signer
) -> dict[str, str]:
    """One party's signature over the canonical agreement."""
    public = signer.public_key()
    return {
        "role": role,
        "participant": participant,
        "keyid": fingerprint(public),
        "algorithm": "ed25519",
        "publicKey": base64.b64encode(public).decode(),
        "signature": base64.b64encode(signer.sign(canonical_json(agreement))).decode(),
    }


class AgreementInvalid(Exception):
    def __init__(self, code: str, en: str, zh: str) -> None:
        super().__init__(en)
        self.code, self.en, self.zh = code, en, zh


def check_signature(
    agreement: dict[str, Any], sig: dict[str, Any], expected_key: bytes | None = None
) -> None:
    """Raise AgreementInvalid unless ``sig`` is its party's valid signature of ``agreement``."""
    role = sig.get("role")
    if role not in ROLES or sig.get("algorithm") != "ed25519":
        raise AgreementInvalid(
            "agreement.signature_malformed", "Malformed signature entry", "签名条目格式错误"
        )
    party = agreement.get(role)
    if sig.get("participant") != party:
        raise AgreementInvalid(
            "agreement.signer_mismatch",
            f"The {role} signature names {sig.get('participant')}, not {party}",
            f"{role} 签名方与合约当事方不一致",
        )
    try:
        public = base64.b64decode(str(sig["publicKey"]), validate=True)
        signature = base64.b64decode(str(sig["signature"]), validate=True)
    except (KeyError, ValueError) as exc:
        raise AgreementInvalid(
            "agreement.signature_malformed", "Signature is not base64", "签名不是合法的 base64"
        ) from exc
    if expected_key is not None and public != expected_key:
        raise AgreementInvalid(
            "agreement.key_untrusted",
            f"The {role} signed with an unexpected key",
            f"{role} 使用了非登记的密钥签名",
        )
    if not verify_signature("ed25519", public, canonical_json(agreement), signature):
        raise AgreementInvalid(
            "agreement.signature_invalid",
            f"The {role} signature does not verify",
            f"{role} 的签名验证失败",
        )


def document(agreement: dict[str, Any], signatures: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": DOCUMENT_TYPE, "version": 1, "agreement": agreement, "signatures": signatures}


def verify_document(doc: Any, trusted: dict[str, bytes] | None = None) -> list[str]:
    """Check a signed agreement file: both parties signed, every signature verifies.

    ``trusted`` maps a participant URN to the public key expected for it. Returns one line per
    verified signature; raises AgreementInvalid at the first fault.
    """
    if (
        not isinstance(doc, dict)
        or doc.get("type") != DOCUMENT_TYPE
        or not isinstance(doc.get("agreement"), dict)
    ):
        raise AgreementInvalid(
            "agreement.malformed", "Not a signed agreement document", "不是已签署的合约文件"
        )
    agreement, signatures = doc["agreement"], doc.get("signatures")
    if not isinstance(signatures, list) or {
        s.get("role") for s in signatures if isinstance(s, dict)
    } != set(ROLES):
        raise AgreementInvalid(
            "agreement.unsigned", "Both parties must have signed", "合约须由双方签署"
        )
    if not all(isinstance(s, dict) and isinstance(s.get("keyid"), str) for s in signatures):
        raise AgreementInvalid(
            "agreement.signature_malformed",
            "A signature entry is not an object",
            "签名条目格式错误",
        )
    lines = []
    for sig in signatures:
        expected = (trusted or {}).get(str(sig.get("participant")))
        try:
            check_signature(agreement, sig, expected)
        except (TypeError, ValueError) as exc:  # e.g. a float JCS cannot encode
            raise AgreementInvalid(
                "agreement.malformed", f"Cannot canonicalise: {exc}", "合约内容无法规范化"
            ) from exc
        pinned = "pinned key" if expected else "unpinned key"
        lines.append(
            f"{sig['role']} {sig['participant']} key {sig.get('keyid', '?')} ({pinned}): OK"
        )
    return lines
