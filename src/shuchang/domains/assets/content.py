"""The content digest of a data asset (内容摘要): what exactly was registered.

A data product is made from pinned versions of registered resources (数据血缘). The digest is
SHA-256 over the RFC 8785 canonical JSON of::

    {"basis": "shuchang/catalog-sources/v1", "product": "<product id>", "kind": "<kind>",
     "transformation_sha256": "<hex of the UTF-8 transformation text>" | null,
     "sources": [{"resource": "<id>", "version": <n>, "record_sha256": "<hex>"}, ...]}

with sources sorted by resource id, and each ``record_sha256`` the canonical SHA-256 of that
resource version's registration record: title, description, fields (schema, sensitivity,
roles), source, legal basis, update frequency, industry, classification, personal-
information flags, regions, time range and location. A later version of any source, another
source set or another transformation gives another digest, so a certificate always names one
fixed description of the data. The basis is embedded, so anyone holding the records (the
provider, the operator, the regulator) can recompute it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from shuchang.canonical import digest
from shuchang.domains.catalog import ProductOut, ResourceOut, get_resource
from shuchang.domains.participants import SYSTEM

BASIS = "shuchang/catalog-sources/v1"


def record_of(r: ResourceOut) -> dict[str, Any]:
    """The registration record of one resource version, as the digest covers it."""
    return {
        "title": r.title,
        "description": r.description,
        "fields": r.fields,
        "source": r.source,
        "legal_basis": r.legal_basis,
        "update_frequency": r.update_frequency,
        "industry": r.industry,
        "classification": r.classification,
        "personal_info": r.personal_info,
        "sensitive_personal_info": r.sensitive_personal_info,
        "regions": r.regions,
        "temporal_start": r.temporal_start.isoformat() if r.temporal_start else None,
        "temporal_end": r.temporal_end.isoformat() if r.temporal_end else None,
        "location": r.location,
    }


def content_basis(session: Session, product: ProductOut) -> dict[str, Any]:
    """The document the content digest is taken of (see the module docstring)."""
    sources = []
    for source in sorted(product.sources, key=lambda s: str(s.resource_id)):
        version = get_resource(session, SYSTEM, source.resource_id, source.resource_version)
        sources.append(
            {
                "resource": str(source.resource_id),
                "version": source.resource_version,
                "title": version.title,
                "record_sha256": digest(record_of(version)),
            }
        )
    transformation = product.transformation
    return {
        "basis": BASIS,
        "product": str(product.id),
        "kind": product.kind,
        "transformation_sha256": (
            hashlib.sha256(transformation.encode()).hexdigest() if transformation else None
        ),
        "sources": sources,
    }


def content_digest(basis: dict[str, Any]) -> str:
    return digest(basis)
