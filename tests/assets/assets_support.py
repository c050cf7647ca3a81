"""Helpers of the asset tests: a registered asset with its certificate, sequenced and
rendered; verifier keys; rebuilding a PDF with other attachments (for tamper tests)."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader, PdfWriter

import factories
from market_factories import Listed, actor_of, provider_product
from shuchang.attestations import PublicKey, load_issuer
from shuchang.domains.assets import certificate, pdf, service
from shuchang.domains.assets.models import AssetCertificate
from shuchang.domains.assets.schemas import AssetApplication, AssetDecision, RegistrationOut
from shuchang.domains.evidence import logview, parse_verifier_key
from shuchang.domains.evidence.tlog.note import Verifier
from shuchang.platform import Platform


@dataclass
class Registered:
    listed: Listed
    operator: factories.Member
    registration: RegistrationOut

    @property
    def id(self) -> uuid.UUID:
        return self.registration.id


def application(product_id: uuid.UUID, **overrides: Any) -> AssetApplication:
    values: dict[str, Any] = {
        "product_id": product_id,
        "rights": ["holding", "operating"],
        "description": "企业登记数据集作为数据资产登记，用于授权运营与融资。",
        "valid_years": 3,
    }
    values.update(overrides)
    return AssetApplication(**values)


def register_asset(platform: Platform, operator: factories.Member | None = None) -> Registered:
    """A listed product applied for and approved by the operator: a certificate is issued."""
    operator = operator or factories.operator(platform)
    listed = provider_product(platform)
    with platform.unit() as s:
        applied = service.apply(s, listed.actor, application(listed.product_id), platform.settings)
        done = service.review(
            s,
            actor_of(operator, "operator"),
            applied.id,
            AssetDecision(decision="approve"),
            platform.settings,
        )
    return Registered(listed, operator, done)


def sequence(platform: Platform) -> None:
    with platform.unit() as s:
        logview.sequence_and_publish(s, platform.log_signer)


def certificate_pdf(platform: Platform, registration_id: uuid.UUID) -> bytes:
    with platform.unit(write=False) as s:
        row = s.query(AssetCertificate).filter_by(registration_id=registration_id).one()
        return pdf.render(row.document, certificate.bundle(s, row.evidence_id))


def log_verifiers(platform: Platform) -> list[Verifier]:
    return [parse_verifier_key(platform.log_signer.verifier().vkey)]


def issuer_key(platform: Platform) -> bytes:
    import base64

    return base64.b64decode(PublicKey.of(load_issuer(platform.settings)).public_key)


def attachments(data: bytes) -> dict[str, bytes]:
    return {name: found[0] for name, found in PdfReader(io.BytesIO(data)).attachments.items()}


def with_attachments(data: bytes, files: dict[str, bytes]) -> bytes:
    """The same pages with ``files`` as the only attachments (what a forger would do)."""
    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    for name, body in files.items():
        writer.add_attachment(name, body)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
