"""The data-asset certificate (数据资产登记证书): its signed body, and the evidence bundle that
proves the issuance was logged.

Signed document (see :mod:`shuchang.attestations`), type ``ShuchangDataAssetCertificate``::

    {"registrationNumber": "DZ-330300-2026-000123-K",
     "asset": {"id", "title", "description", "product", "productKind",
               "sources": [{"resource", "version", "title"}]},
     "holder": {"name", "participant": "urn:uscc:…"},
     "contentDigest": {"algorithm": "sha-256", "value": "<hex>", "basis": "…/v1"},
     "rights": ["holding", "processing", "operating"],   # a non-empty subset, in this order
     "validFrom", "validUntil", "issuedAt": "YYYY-MM-DDTHH:MM:SSZ",
     "issuer": {"name", "participant"}, "reviewedBy": {"name", "participant"}}

The issuance is the evidence entry ``asset.certificate_issued`` on subject
``asset:<registration id>`` with payload ``{"number", "certificate_sha256"}`` (the SHA-256 of
the canonical body). The evidence bundle ships that payload, the entry's leaf bytes and its
``tlog-proof`` receipt, so a verifier needs nothing but the log's verifier key.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from shuchang.attestations import body_digest
from shuchang.domains import evidence
from shuchang.domains.assets.schemas import RIGHTS
from shuchang.domains.participants import ParticipantOut, participant_urn
from shuchang.errors import Conflict

DOCUMENT_TYPE = "ShuchangDataAssetCertificate"
BUNDLE_TYPE = "ShuchangEvidenceBundle"
ISSUED = "asset.certificate_issued"


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def party(p: ParticipantOut) -> dict[str, str]:
    return {"name": p.name, "participant": participant_urn(p)}


def body(  # noqa: PLR0917 - one certificate's facts, all required
    number: str,
    asset: dict[str, Any],
    holder: ParticipantOut,
    content: tuple[str, str],
    rights: list[str],
    period: tuple[datetime, datetime, datetime],
    issuer: ParticipantOut,
    reviewer: ParticipantOut,
) -> dict[str, Any]:
    valid_from, valid_until, issued_at = period
    value, basis = content
    return {
        "registrationNumber": number,
        "asset": asset,
        "holder": party(holder),
        "contentDigest": {"algorithm": "sha-256", "value": value, "basis": basis},
        "rights": [r for r in RIGHTS if r in rights],
        "validFrom": stamp(valid_from),
        "validUntil": stamp(valid_until),
        "issuedAt": stamp(issued_at),
        "issuer": party(issuer),
        "reviewedBy": party(reviewer),
    }


def issuance_payload(certificate: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": certificate["registrationNumber"],
        "certificate_sha256": body_digest(certificate),
    }


def bundle(session: Session, evidence_id: int) -> dict[str, Any] | None:
    """The issuance entry's payload, leaf and receipt, or None until a checkpoint covers it."""
    found = evidence.logged_entry(session, evidence_id)
    if found.leaf_data is None:
        return None
    try:
        receipt = evidence.receipt(session, evidence_id)
    except Conflict:
        return None
    return {
        "type": BUNDLE_TYPE,
        "version": 1,
        "kind": found.entry.kind,
        "subject": found.entry.subject,
        "payload": found.entry.payload,
        "leaf": found.leaf_data,
        "receipt": receipt.decode(),
    }


def leaf_bytes(bundle_doc: dict[str, Any]) -> bytes:
    return base64.b64decode(str(bundle_doc.get("leaf", "")), validate=True)
