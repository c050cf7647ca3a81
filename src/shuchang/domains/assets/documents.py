"""The certificate as files: the signed JSON, its evidence bundle and the PDF."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from shuchang.attestations import PublicKey, encode, load_issuer
from shuchang.domains.assets import certificate, pdf, views
from shuchang.domains.assets.schemas import CertificateOut, IssuerOut
from shuchang.domains.participants import Actor
from shuchang.errors import Conflict, NotFound
from shuchang.settings import Settings


def _certificate(session: Session, actor: Actor, registration_id: uuid.UUID) -> Any:
    r = views.load(session, actor, registration_id)
    c = views.certificate_of(session, r.id)
    if c is None:
        raise NotFound(
            "This registration has no certificate (not approved)",
            "该登记尚未批准，没有证书",
            code="asset.no_certificate",
        )
    return c


def signed(session: Session, actor: Actor, registration_id: uuid.UUID) -> bytes:
    """The signed certificate in its canonical bytes (``certificate.json``)."""
    return encode(_certificate(session, actor, registration_id).document)


def evidence_bundle(session: Session, actor: Actor, registration_id: uuid.UUID) -> bytes:
    c = _certificate(session, actor, registration_id)
    bundle = certificate.bundle(session, c.evidence_id)
    if bundle is None:
        raise Conflict(
            "The issuance is not in a signed checkpoint yet; try again in a few seconds",
            "签发记录尚未纳入已签名的检查点，请稍后再取",
            code="evidence.not_sequenced",
        )
    return encode(bundle)


def certificate_pdf(
    session: Session, actor: Actor, registration_id: uuid.UUID
) -> tuple[str, bytes]:
    """``(file name, PDF)``; without a receipt until a checkpoint covers the issuance."""
    c = _certificate(session, actor, registration_id)
    return f"{c.number}.pdf", pdf.render(c.document, certificate.bundle(session, c.evidence_id))


def status_of(session: Session, number: str) -> CertificateOut:
    """A certificate's status by its number: what a counterparty checks online."""
    return views.certificate_out(views.by_number(session, number))


def issuer_key(settings: Settings) -> IssuerOut:
    key = PublicKey.of(load_issuer(settings))
    return IssuerOut(keyid=key.keyid, public_key=key.public_key)
