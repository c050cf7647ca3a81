"""The catalog in DCAT 3 terms (数据目录), shared by the DSP catalog, and the public DCAT export.

A listed product (已上架产品) is a ``dcat:Dataset`` with an ODRL offer; its provider is a
``foaf:Agent``; a connector is a ``dcat:DataService``. This module holds that model and its
descriptive properties (``describe``, compact IRIs valid under both the DSP 2025-1 context and
the export's inline context) — ``dsp`` builds the protocol's messages from them — and the
public export (公开目录), which carries its own inline context and spells the offer out in
``odrl:`` terms. Nothing here reads the database. Identifiers, all absolute IRIs and stable
across requests:

=====================  =====================================================================
thing                  ``@id``
=====================  =====================================================================
dataset                ``urn:uuid:<product id>``
offer                  ``urn:uuid:<uuid5(product id + SHA-256 of the policy)>`` — a new id
                       whenever the provider edits the policy, so a negotiation can tell a
                       stale offer from the current one
data service           ``urn:uuid:<connector id>``; the space's own DSP endpoint (托管连接器,
                       for providers without a connector) ``urn:uuid:<uuid5(space name)>``
participant            ``participant_urn`` (``participantId``, ``dct:publisher``): the same
                       on every deployment and in contract agreements (the ``assigner``) —
                       ``urn:uscc:<统一社会信用代码>`` for organisations,
                       ``urn:shuchang:person:<digest>`` for individuals; the space itself
                       ``urn:shuchang:space:<SHUCHANG_LOG_ORIGIN host>``
catalog                ``urn:uuid:<uuid5(provider id or space name)>``
region / industry      ``urn:shuchang:region:<GB/T 2260 code>`` (``dct:spatial``),
                       ``urn:shuchang:industry:<GB/T 4754-2017 code>`` (``dcat:theme``)
product kind           ``urn:shuchang:kind:<dataset|api|data_element|compute_only>``
                       (``dct:type``)
=====================  =====================================================================

Distribution formats: ``HttpData-PULL`` (dataset, data element and API products: the consumer
pulls through the connector with a short-lived token), ``HttpData-PUSH`` (dataset and data
element products: the provider's connector sends each part to an endpoint the consumer
registers; an API product is served per request and is not pushed) and ``Shuchang-Compute``
(compute-only products, 可用不可见: the consumer submits approved computations that run where
the data is; no copy is ever handed out, so such a product has no ``HttpData-*``
distribution).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]
FORMATS = {
    "dataset": ("HttpData-PULL", "HttpData-PUSH"),
    "api": ("HttpData-PULL",),
    "data_element": ("HttpData-PULL", "HttpData-PUSH"),
    "compute_only": ("Shuchang-Compute",),
}
# Fixed namespace of the uuid5 identifiers above (any change renames every offer and catalog).
NAMESPACE = uuid.UUID("81c56ae0-b710-4f6e-93e0-b39ac0fbb7c9")


def uuid5_id(name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, name)}"


@dataclass(frozen=True)
class DataService:
    """A DSP endpoint where datasets are negotiated and transferred (a connector, 连接器)."""

    id: str
    endpoint_url: str
    title: str | None = None


@dataclass(frozen=True)
class Space:
    """This deployment as a catalog broker over its providers' catalogs."""

    name: str
    endpoint_url: str  # the space's own DSP base URL, ``<root>/dsp``

    @property
    def participant_id(self) -> str:
        return f"urn:shuchang:space:{self.name}"

    @property
    def service(self) -> DataService:
        return DataService(
            uuid5_id(f"dataservice:{self.name}"), self.endpoint_url, "数场托管连接器"
        )

    @property
    def catalog_id(self) -> str:
        return uuid5_id(f"catalog:{self.name}")


@dataclass(frozen=True)
class Provider:
    id: uuid.UUID
    urn: str  # ``participant_urn``: the catalog's participantId, an agreement's assigner
    name: str
    name_en: str | None
    services: tuple[DataService, ...]


@dataclass(frozen=True)
class Listing:
    """A listed product with what its catalog entry shows: no resource locations, ever."""

    id: uuid.UUID
    provider_id: uuid.UUID
    publisher: str  # the provider's ``participant_urn``
    kind: str
    title: str
    title_en: str | None
    description: str
    description_en: str | None
    tags: tuple[str, ...]
    policy: JSON
    issued: datetime | None
    modified: datetime
    industries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()


def dataset_id(product_id: uuid.UUID) -> str:
    return f"urn:uuid:{product_id}"


def offer_id(product_id: uuid.UUID, policy: JSON) -> str:
    body = json.dumps(policy, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return uuid5_id(f"offer:{product_id}:{hashlib.sha256(body.encode()).hexdigest()}")


def offer(listing: Listing) -> JSON:
    """The product's ODRL offer as a catalog shows it: own ``@id``, no ``target`` (DSP 2025-1)."""
    body = {k: v for k, v in listing.policy.items() if k not in ("@context", "@id", "target")}
    rules = {k: v for k, v in body.items() if k != "@type"}
    return {"@id": offer_id(listing.id, body), "@type": "Offer", **rules}


def texts(zh: str, en: str | None) -> list[JSON]:
    """A Chinese text and its English version (if any) as language-tagged values."""
    values = [{"@value": zh, "@language": "zh"}]
    return values + ([{"@value": en, "@language": "en"}] if en else [])


def _when(at: datetime) -> JSON:
    value = at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {"@value": value, "@type": "xsd:dateTime"}


def describe(listing: Listing) -> JSON:
    """DCAT descriptive properties (compact IRIs valid under the DSP context and DCAT export)."""
    props: JSON = {
        "dct:title": texts(listing.title, listing.title_en),
        "dct:description": texts(listing.description, listing.description_en),
        "dct:type": {"@id": f"urn:shuchang:kind:{listing.kind}"},
        "dct:publisher": {"@id": listing.publisher},
        "dct:modified": _when(listing.modified),
    }
    if listing.issued is not None:
        props["dct:issued"] = _when(listing.issued)
    if listing.tags:
        props["dcat:keyword"] = list(listing.tags)
    if listing.industries:
        props["dcat:theme"] = [{"@id": f"urn:shuchang:industry:{c}"} for c in listing.industries]
    if listing.regions:
        props["dct:spatial"] = [{"@id": f"urn:shuchang:region:{c}"} for c in listing.regions]
    return props


# ---- the public DCAT 3 export ------------------------------------------------------------------

DCAT_CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "odrl": "http://www.w3.org/ns/odrl/2/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "shuchang": "urn:shuchang:vocab:",
}
# Policy words of Shuchang's own (see shuchang.policy); every other one is ODRL 2.2's.
SHUCHANG_WORDS = frozenset(
    {"compute", "recipientKind", "recipientStatus", "recipientRegion", "recipientRole", "fields"}
)
ODRL_KEYS = frozenset(
    {
        *("permission", "prohibition", "obligation", "duty", "constraint", "refinement"),
        *("rightOperand", "and", "or", "xone", "andSequence"),
    }
)
_VOCAB = ("action", "leftOperand", "operator")
_REFERENCES = ("target", "assigner", "assignee", "profile")


def _word(name: str) -> JSON:
    return {"@id": f"{'shuchang' if name in SHUCHANG_WORDS else 'odrl'}:{name}"}


def odrl_terms(node: Any) -> Any:
    """A DSP-shaped policy with every key and vocabulary value as an explicit ``odrl:`` IRI."""
    if isinstance(node, list):
        return [odrl_terms(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: JSON = {}
    for key, value in node.items():
        if key == "@type":
            out[key] = f"odrl:{value}"
        elif key.startswith("@") or ":" in key:
            out[key] = value
        elif key in _VOCAB and isinstance(value, str):
            out[f"odrl:{key}"] = _word(value)
        elif key in _REFERENCES and isinstance(value, str):
            out[f"odrl:{key}"] = {"@id": value}
        else:
            prefix = "odrl" if key in ODRL_KEYS else "shuchang"
            out[f"{prefix}:{key}"] = value if key == "rightOperand" else odrl_terms(value)
    return out


def _dcat_service(service: DataService) -> JSON:
    node: JSON = {
        "@id": service.id,
        "@type": "dcat:DataService",
        "dcat:endpointURL": {"@id": service.endpoint_url},
    }
    if service.title:
        node["dct:title"] = service.title
    return node


def _dcat_dataset(item: Listing, provider: Provider) -> JSON:
    return {
        "@id": dataset_id(item.id),
        "@type": "dcat:Dataset",
        **describe(item),
        "dct:publisher": {
            "@id": provider.urn,
            "@type": "foaf:Agent",
            "foaf:name": texts(provider.name, provider.name_en),
        },
        "odrl:hasPolicy": [odrl_terms(offer(item))],
        "dcat:distribution": [
            {
                "@type": "dcat:Distribution",
                "dct:format": fmt,
                "dcat:accessService": {"@id": s.id},
                "dcat:accessURL": {"@id": s.endpoint_url},
            }
            for fmt in FORMATS[item.kind]
            for s in provider.services
        ],
    }


def dcat_catalog(space: Space, providers: Sequence[Provider], listings: Sequence[Listing]) -> JSON:
    """The public catalog as DCAT 3 JSON-LD with an inline context (公开目录)."""
    by_id = {p.id: p for p in providers}
    services = {s.id: s for p in providers for s in p.services} or {space.service.id: space.service}
    return {
        "@context": DCAT_CONTEXT,
        "@id": space.catalog_id,
        "@type": "dcat:Catalog",
        "dct:title": texts("数场数据空间目录", "Shuchang data space catalog"),
        "dct:publisher": {"@id": space.participant_id},
        "dcat:service": [_dcat_service(s) for s in services.values()],
        "dcat:dataset": [_dcat_dataset(i, by_id[i.provider_id]) for i in listings],
    }
