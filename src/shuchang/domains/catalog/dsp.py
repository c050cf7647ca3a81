"""The catalog as the Dataspace Protocol (DSP 2025-1) and DCAT 3 show it (数据目录对外发布).

A listed product (已上架产品) is a DSP ``Dataset``; drafts, products under review, returned and
delisted ones never appear. Identifiers, all absolute IRIs and stable across requests:

=====================  =====================================================================
thing                  ``@id``
=====================  =====================================================================
dataset                ``urn:uuid:<product id>``
offer                  ``urn:uuid:<uuid5(product id + SHA-256 of the policy)>`` — a new id
                       whenever the provider edits the policy, so a negotiation can tell a
                       stale offer from the current one
data service           ``urn:uuid:<connector id>``; the space's own DSP endpoint (托管连接器,
                       for providers without a connector) ``urn:uuid:<uuid5(space name)>``
participant            ``urn:shuchang:participant:<participant id>`` (``participantId``);
                       the space itself ``urn:shuchang:space:<SHUCHANG_LOG_ORIGIN host>``
catalog                ``urn:uuid:<uuid5(provider id or space name)>``
region / industry      ``urn:shuchang:region:<GB/T 2260 code>`` (``dct:spatial``),
                       ``urn:shuchang:industry:<GB/T 4754-2017 code>`` (``dcat:theme``)
product kind           ``urn:shuchang:kind:<dataset|api|data_element|compute_only>``
                       (``dct:type``)
=====================  =====================================================================

Distribution formats: ``HttpData-PULL`` (dataset, data element and API products: the consumer
pulls through the connector with a short-lived token) and ``Shuchang-Compute`` (compute-only
products, 可用不可见: the consumer submits approved computations that run where the data is;
no copy is ever handed out, so such a product has no ``HttpData-PULL`` distribution).

DSP messages use only the DSP 2025-1 context: descriptive properties are compact IRIs with
the prefixes it defines (``dct:``, ``dcat:``, ``xsd:``), never an extra context, because
connectors such as Eclipse EDC resolve only contexts they have cached. The public DCAT export
carries its own inline context instead and spells the offer out in ``odrl:`` terms.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from shuchang.domains.catalog.models import Product, ProductSource, ResourceVersion
from shuchang.domains.participants import Actor, find, list_connectors
from shuchang.errors import NotFound, Unauthenticated

DSP_CONTEXT = "https://w3id.org/dspace/2025/1/context.jsonld"
VERSION = "2025-1"
PATH = "/dsp"
FORMATS = {
    "dataset": ("HttpData-PULL",),
    "api": ("HttpData-PULL",),
    "data_element": ("HttpData-PULL",),
    "compute_only": ("Shuchang-Compute",),
}
# Fixed namespace of the uuid5 identifiers above (any change renames every offer and catalog).
NAMESPACE = uuid.UUID("81c56ae0-b710-4f6e-93e0-b39ac0fbb7c9")
PARTICIPANT = "urn:shuchang:participant:"
JSON = dict[str, Any]


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
        return DataService(_uuid5(f"dataservice:{self.name}"), self.endpoint_url, "数场托管连接器")

    @property
    def catalog_id(self) -> str:
        return _uuid5(f"catalog:{self.name}")


@dataclass(frozen=True)
class Provider:
    id: uuid.UUID
    name: str
    name_en: str | None
    services: tuple[DataService, ...]


@dataclass(frozen=True)
class Listing:
    """A listed product with what its catalog entry shows: no resource locations, ever."""

    id: uuid.UUID
    provider_id: uuid.UUID
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


def _uuid5(name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, name)}"


def participant_id(pid: uuid.UUID) -> str:
    return f"{PARTICIPANT}{pid}"


def dataset_id(product_id: uuid.UUID) -> str:
    return f"urn:uuid:{product_id}"


def _uuid_after(text: str, prefix: str) -> uuid.UUID | None:
    body = text[len(prefix) :] if text.startswith(prefix) else text
    try:
        return uuid.UUID(body) if len(body) == 36 else None  # noqa: PLR2004 - canonical form only
    except ValueError:
        return None


def parse_dataset_id(text: str) -> uuid.UUID | None:
    """The product id in a dataset ``@id`` (``urn:uuid:<id>`` or the bare id); None if not one."""
    return _uuid_after(text, "urn:uuid:")


def parse_participant_id(text: str) -> uuid.UUID | None:
    return _uuid_after(text, PARTICIPANT)


def offer_id(product_id: uuid.UUID, policy: JSON) -> str:
    body = json.dumps(policy, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return _uuid5(f"offer:{product_id}:{hashlib.sha256(body.encode()).hexdigest()}")


def offer(listing: Listing) -> JSON:
    """The product's ODRL offer as a catalog shows it: own ``@id``, no ``target`` (DSP 2025-1)."""
    body = {k: v for k, v in listing.policy.items() if k not in ("@context", "@id", "target")}
    rules = {k: v for k, v in body.items() if k != "@type"}
    return {"@id": offer_id(listing.id, body), "@type": "Offer", **rules}


def _text(zh: str, en: str | None) -> list[JSON]:
    values = [{"@value": zh, "@language": "zh"}]
    return values + ([{"@value": en, "@language": "en"}] if en else [])


def _when(at: datetime) -> JSON:
    value = at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {"@value": value, "@type": "xsd:dateTime"}


def describe(listing: Listing) -> JSON:
    """DCAT descriptive properties (compact IRIs valid under the DSP context and DCAT export)."""
    props: JSON = {
        "dct:title": _text(listing.title, listing.title_en),
        "dct:description": _text(listing.description, listing.description_en),
        "dct:type": {"@id": f"urn:shuchang:kind:{listing.kind}"},
        "dct:publisher": {"@id": participant_id(listing.provider_id)},
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


def service_node(service: DataService) -> JSON:
    node: JSON = {"@id": service.id, "@type": "DataService", "endpointURL": service.endpoint_url}
    if service.title:
        node["dct:title"] = service.title
    return node


def distributions(listing: Listing, services: Sequence[DataService], *, inline: bool) -> list[JSON]:
    """One per access method and connector; ``inline`` embeds the DataService (no catalog)."""
    return [
        {
            "@type": "Distribution",
            "format": fmt,
            "accessService": service_node(s) if inline else s.id,
        }
        for fmt in FORMATS[listing.kind]
        for s in services
    ]


def dataset(listing: Listing, services: Sequence[DataService], *, root: bool = False) -> JSON:
    """A DSP ``Dataset``; ``root`` adds ``@context`` and inlines services (dataset request)."""
    node: JSON = {
        "@id": dataset_id(listing.id),
        "@type": "Dataset",
        "hasPolicy": [offer(listing)],
        "distribution": distributions(listing, services, inline=root),
        **describe(listing),
    }
    return {"@context": [DSP_CONTEXT], **node} if root else node


def provider_catalog(provider: Provider, listings: Iterable[Listing], *, root: bool) -> JSON:
    """One provider's catalog: its connectors and its listed datasets (omitted when none)."""
    node: JSON = {
        "@id": _uuid5(f"catalog:{provider.id}"),
        "@type": "Catalog",
        "participantId": participant_id(provider.id),
        "dct:title": _text(provider.name, provider.name_en),
        "service": [service_node(s) for s in provider.services],
    }
    datasets = [dataset(item, provider.services) for item in listings]
    if datasets:  # the schema wants one or more when present; an empty catalog omits it
        node["dataset"] = datasets
    return {"@context": [DSP_CONTEXT], **node} if root else node


def space_catalog(space: Space, providers: Sequence[Provider], listings: Sequence[Listing]) -> JSON:
    """The whole space: one nested catalog per provider that has something to show."""
    node: JSON = {
        "@context": [DSP_CONTEXT],
        "@id": space.catalog_id,
        "@type": "Catalog",
        "participantId": space.participant_id,
        "dct:title": _text("数场数据空间目录", "Shuchang data space catalog"),
        "service": [service_node(space.service)],
    }
    nested = [
        provider_catalog(p, [i for i in listings if i.provider_id == p.id], root=False)
        for p in providers
    ]
    if nested:
        node["catalog"] = nested
    return node


def catalog_error(code: str, en: str, zh: str) -> JSON:
    """A DSP ``CatalogError`` with the reason in Chinese and English (language-tagged)."""
    return {
        "@context": [DSP_CONTEXT],
        "@type": "CatalogError",
        "code": code,
        "reason": _text(zh, en),
    }


def version_metadata(space: Space) -> JSON:
    """``/.well-known/dspace-version``: DSP 2025-1 over HTTPS at ``<root>/dsp``."""
    return {
        "protocolVersions": [
            {
                "version": VERSION,
                "path": PATH,
                "binding": "HTTPS",
                "identifierType": PARTICIPANT.rstrip(":"),
                "serviceId": space.service.id,
                "auth": {"protocol": "bearer", "version": "RFC6750", "profile": ["api-key"]},
            }
        ]
    }


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
            "@id": participant_id(provider.id),
            "@type": "foaf:Agent",
            "foaf:name": _text(provider.name, provider.name_en),
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
        "dct:title": _text("数场数据空间目录", "Shuchang data space catalog"),
        "dct:publisher": {"@id": space.participant_id},
        "dcat:service": [_dcat_service(s) for s in services.values()],
        "dcat:dataset": [_dcat_dataset(i, by_id[i.provider_id]) for i in listings],
    }


# ---- reading the catalog: filters, loading --------------------------------------------------


def _codes(scheme: str, codes: Iterable[str]) -> set[str]:
    """A code matches as itself or as its IRI (``C13`` or ``urn:shuchang:industry:C13``)."""
    return {form for c in codes for form in (c, f"urn:shuchang:{scheme}:{c}")}


# What a filter criterion may test, and the values a listing has for it.
FILTERABLE: dict[str, Callable[[Listing], set[str]]] = {
    "id": lambda item: {dataset_id(item.id)},
    "participantId": lambda item: {participant_id(item.provider_id)},
    "kind": lambda item: {item.kind},
    "keyword": lambda item: set(item.tags),
    "theme": lambda item: _codes("industry", item.industries),
    "spatial": lambda item: _codes("region", item.regions),
}


@dataclass(frozen=True)
class Criterion:
    """``{"operandLeft": <FILTERABLE key>, "operator": "=" | "in", "operandRight": ...}``."""

    left: str
    values: frozenset[str] = field(default_factory=frozenset)

    def matches(self, listing: Listing) -> bool:
        return bool(FILTERABLE[self.left](listing) & self.values)


def _conditions(
    provider_id: uuid.UUID | None, product_id: uuid.UUID | None
) -> list[ColumnElement[bool]]:
    conditions = [Product.status == "listed"]
    if provider_id is not None:
        conditions.append(Product.provider_id == provider_id)
    if product_id is not None:
        conditions.append(Product.id == product_id)
    return conditions


def listings(
    session: Session,
    *,
    provider_id: uuid.UUID | None = None,
    product_id: uuid.UUID | None = None,
) -> list[Listing]:
    """Listed products (two queries, whatever their number), oldest listing first."""
    where = _conditions(provider_id, product_id)
    products = session.scalars(
        select(Product).where(*where).order_by(Product.listed_at, Product.id)
    )
    industries: dict[uuid.UUID, dict[str, None]] = defaultdict(dict)
    regions: dict[uuid.UUID, dict[str, None]] = defaultdict(dict)
    sources = session.execute(
        select(ProductSource.product_id, ResourceVersion.industry, ResourceVersion.regions)
        .join(
            ResourceVersion,
            (ResourceVersion.resource_id == ProductSource.resource_id)
            & (ResourceVersion.version == ProductSource.resource_version),
        )
        .join(Product, Product.id == ProductSource.product_id)
        .where(*where)
        .order_by(ResourceVersion.title)
    )
    for pid, industry, codes in sources:
        industries[pid][industry] = None
        regions[pid].update(dict.fromkeys(codes))
    return [
        Listing(
            id=p.id,
            provider_id=p.provider_id,
            kind=p.kind,
            title=p.title,
            title_en=p.title_en,
            description=p.description,
            description_en=p.description_en,
            tags=tuple(p.tags),
            policy=p.policy,
            issued=p.listed_at,
            modified=p.updated_at,
            industries=tuple(industries[p.id]),
            regions=tuple(regions[p.id]),
        )
        for p in products.all()
    ]


def providers(session: Session, ids: Iterable[uuid.UUID], hosted: DataService) -> list[Provider]:
    """The providers with their connectors; one without a connector is served by ``hosted``."""
    out = []
    for pid in sorted(set(ids)):
        found = find(session, pid)
        if found is None:
            continue
        services = tuple(
            DataService(f"urn:uuid:{c.id}", c.url, c.label) for c in list_connectors(session, pid)
        )
        out.append(Provider(pid, found.name, found.name_en, services or (hosted,)))
    return out


def _member(actor: Actor) -> None:
    if actor.participant_id is None:
        raise Unauthenticated()


def _provider_or_404(session: Session, text: str) -> uuid.UUID:
    pid = parse_participant_id(text)
    if pid is None or find(session, pid) is None:
        raise NotFound(
            f"No participant {text} in this space",
            f"本数据空间没有参与方 {text}",
            code="dsp.provider_not_found",
        )
    return pid


def catalog_for(
    session: Session,
    actor: Actor,
    space: Space,
    criteria: Sequence[Criterion] = (),
    provider: str | None = None,
) -> JSON:
    """The catalog a member may see: the space's (nested per provider) or one provider's."""
    _member(actor)
    provider_id = None if provider is None else _provider_or_404(session, provider)
    items = [
        item
        for item in listings(session, provider_id=provider_id)
        if all(c.matches(item) for c in criteria)
    ]
    if provider_id is not None:
        (only,) = providers(session, [provider_id], space.service)
        return provider_catalog(only, items, root=True)
    shown = providers(session, {i.provider_id for i in items}, space.service)
    return space_catalog(space, shown, items)


def dataset_for(session: Session, actor: Actor, space: Space, requested: str) -> JSON:
    """One listed dataset by its ``@id``; anything else (draft, delisted, unknown) is 404."""
    _member(actor)
    product_id = parse_dataset_id(requested)
    found = [] if product_id is None else listings(session, product_id=product_id)
    if not found:
        raise NotFound(
            f"No dataset {requested} in this catalog",
            f"目录中没有数据集 {requested}",
            code="dsp.dataset_not_found",
        )
    (provider,) = providers(session, [found[0].provider_id], space.service)
    return dataset(found[0], provider.services, root=True)


def public_catalog(session: Session, space: Space) -> JSON:
    """Every listed product for anyone, as DCAT (no key needed; nothing unlisted, no locations)."""
    items = listings(session)
    shown = providers(session, {i.provider_id for i in items}, space.service)
    return dcat_catalog(space, shown, items)
