"""The catalog as the Dataspace Protocol (DSP 2025-1) shows it (数据目录对外发布), and the
reading behind it and behind the public DCAT export.

A listed product (已上架产品) is a DSP ``Dataset``; drafts, products under review, returned and
delisted ones never appear. The model, its identifiers (a participant is its
``participant_urn``, as in contract agreements) and the distribution formats are in ``dcat``.

DSP messages use only the DSP 2025-1 context: descriptive properties are compact IRIs with
the prefixes it defines (``dct:``, ``dcat:``, ``xsd:``), never an extra context, because
connectors such as Eclipse EDC resolve only contexts they have cached. The public DCAT export
carries its own inline context instead and spells the offer out in ``odrl:`` terms.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from shuchang.domains.catalog.dcat import (
    FORMATS,
    JSON,
    DataService,
    Listing,
    Provider,
    Space,
    dataset_id,
    dcat_catalog,
    describe,
    offer,
    texts,
    uuid5_id,
)
from shuchang.domains.catalog.models import Product, ProductSource, ResourceVersion
from shuchang.domains.participants import (
    Actor,
    ParticipantOut,
    find,
    find_by_urn,
    list_connectors,
    participant_urn,
)
from shuchang.errors import NotFound, Unauthenticated

DSP_CONTEXT = "https://w3id.org/dspace/2025/1/context.jsonld"
VERSION = "2025-1"
PATH = "/dsp"
# The forms of ``participant_urn``; the organisations' is the one the version metadata names.
PARTICIPANT_URNS = ("urn:uscc:", "urn:shuchang:person:")


def _local_id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if len(text) == 36 else None  # noqa: PLR2004 - canonical form only
    except ValueError:
        return None


def parse_dataset_id(text: str) -> uuid.UUID | None:
    """The product id in a dataset ``@id`` (``urn:uuid:<id>`` or the bare id); None if not one."""
    return _local_id(text.removeprefix("urn:uuid:"))


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
        "@id": uuid5_id(f"catalog:{provider.id}"),
        "@type": "Catalog",
        "participantId": provider.urn,
        "dct:title": texts(provider.name, provider.name_en),
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
        "dct:title": texts("数场数据空间目录", "Shuchang data space catalog"),
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
        "reason": texts(zh, en),
    }


def version_metadata(space: Space) -> JSON:
    """``/.well-known/dspace-version``: DSP 2025-1 over HTTPS at ``<root>/dsp``."""
    return {
        "protocolVersions": [
            {
                "version": VERSION,
                "path": PATH,
                "binding": "HTTPS",
                "identifierType": PARTICIPANT_URNS[0].rstrip(":"),
                "serviceId": space.service.id,
                "auth": {"protocol": "bearer", "version": "RFC6750", "profile": ["api-key"]},
            }
        ]
    }


# ---- reading the catalog: filters, loading --------------------------------------------------


def _codes(scheme: str, codes: Iterable[str]) -> set[str]:
    """A code matches as itself or as its IRI (``C13`` or ``urn:shuchang:industry:C13``)."""
    return {form for c in codes for form in (c, f"urn:shuchang:{scheme}:{c}")}


# What a filter criterion may test, and the values a listing has for it.
FILTERABLE: dict[str, Callable[[Listing], set[str]]] = {
    "id": lambda item: {dataset_id(item.id)},
    "participantId": lambda item: {item.publisher},
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
    provider_id: uuid.UUID | None = None, product_id: uuid.UUID | None = None
) -> list[ColumnElement[bool]]:
    conditions = [Product.status == "listed"]
    if provider_id is not None:
        conditions.append(Product.provider_id == provider_id)
    if product_id is not None:
        conditions.append(Product.id == product_id)
    return conditions


def _participants(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, ParticipantOut]:
    found = {pid: find(session, pid) for pid in set(ids)}
    return {pid: p for pid, p in sorted(found.items()) if p is not None}


def listings(
    session: Session,
    *,
    provider_id: uuid.UUID | None = None,
    product_id: uuid.UUID | None = None,
) -> list[Listing]:
    """Listed products, oldest listing first (two queries, and one per provider)."""
    where = _conditions(provider_id, product_id)
    products = session.scalars(
        select(Product).where(*where).order_by(Product.listed_at, Product.id)
    ).all()
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
    publishers = _participants(session, (p.provider_id for p in products))
    return [
        Listing(
            id=p.id,
            provider_id=p.provider_id,
            publisher=participant_urn(publishers[p.provider_id]),
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
        for p in products
        if p.provider_id in publishers
    ]


def providers(session: Session, ids: Iterable[uuid.UUID], hosted: DataService) -> list[Provider]:
    """The providers with their connectors; one without a connector is served by ``hosted``."""
    out = []
    for pid, found in _participants(session, ids).items():
        services = tuple(
            DataService(f"urn:uuid:{c.id}", c.url, c.label) for c in list_connectors(session, pid)
        )
        urn = participant_urn(found)
        out.append(Provider(pid, urn, found.name, found.name_en, services or (hosted,)))
    return out


def resolve_participant(session: Session, text: str) -> ParticipantOut | None:
    """The participant a ``participantId`` names, or (for convenience) its bare local id.

    ``find_by_urn`` knows live organisations only; a person's URN is a digest, and a provider
    need not be live to keep listings, so those are matched among the listed providers.
    """
    local = _local_id(text)
    if local is not None:
        return find(session, local)
    found = find_by_urn(session, text)
    if found is None and text.startswith(PARTICIPANT_URNS):
        listed = session.scalars(select(Product.provider_id).where(*_conditions()).distinct())
        candidates = _participants(session, listed).values()
        found = next((p for p in candidates if participant_urn(p) == text), None)
    return found


def _member(actor: Actor) -> None:
    if actor.participant_id is None:
        raise Unauthenticated()


def _provider_or_404(session: Session, text: str) -> uuid.UUID:
    found = resolve_participant(session, text)
    if found is None:
        raise NotFound(
            f"No participant {text} in this space",
            f"本数据空间没有参与方 {text}",
            code="dsp.provider_not_found",
        )
    return found.id


def catalog_for(
    session: Session,
    actor: Actor,
    space: Space,
    criteria: Sequence[Criterion] = (),
    provider: str | None = None,
) -> JSON:
    """The catalog a member may see: the space's (nested per provider) or one provider's,
    named by its ``participantId`` (``participant_urn``) or bare local id."""
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
