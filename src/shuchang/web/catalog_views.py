"""What the catalog pages show, gathered from the catalog's services in one read unit."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from shuchang.domains import evidence
from shuchang.domains.catalog import products, resources, search
from shuchang.domains.catalog.schemas import (
    ProductOut,
    ResourceOut,
    ReviewOut,
    SearchHit,
    SearchPage,
    VersionOut,
)
from shuchang.domains.evidence import EvidenceEntry
from shuchang.domains.participants import ParticipantOut, find, require
from shuchang.errors import NotFound, PermissionDenied
from shuchang.web.evidence_views import EvidenceLog, evidence_log
from shuchang.web.i18n import translate
from shuchang.web.offers import Line, describe
from shuchang.web.pages import Viewer

OVERSIGHT = ("operator", "regulator")
OWN_LIMIT = 200
"""At most this many of a provider's own resources or products on one page."""


def provider_names(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, ParticipantOut]:
    """The participants behind these ids (each looked up once)."""
    found = {}
    for pid in set(ids):
        participant = find(session, pid)
        if participant is not None:
            found[pid] = participant
    return found


def actor_names(session: Session, refs: Iterable[str]) -> dict[str, ParticipantOut]:
    """Evidence and review steps name actors ``participant:<id>``; the participants behind
    them, so pages can say who (``system`` and unknown ids stay as they are)."""
    ids: dict[str, uuid.UUID] = {}
    for ref in set(refs):
        kind, _, raw = ref.partition(":")
        if kind == "participant":
            try:
                ids[ref] = uuid.UUID(raw)
            except ValueError:
                continue
    found = provider_names(session, ids.values())
    return {ref: found[pid] for ref, pid in ids.items() if pid in found}


def not_owner(kind: str) -> PermissionDenied:
    """Refusal of a page only the provider of the resource or product may open."""
    return PermissionDenied(
        translate("en", f"{kind}.not_owner"),
        translate("zh-CN", f"{kind}.not_owner"),
        code=f"{kind}.not_owner",
    )


# --- search and listings --------------------------------------------------------------------


@dataclass(frozen=True)
class Results:
    page: SearchPage
    providers: dict[uuid.UUID, ParticipantOut]

    @property
    def total(self) -> int:
        return sum(f.count for f in self.page.facets.get("doc_type", []))


def run_search(session: Session, user: Viewer, query: search.Query) -> Results:
    page = search.run(session, query, user.actor.participant_id, user.role in OVERSIGHT)
    return Results(page, provider_names(session, (hit.provider_id for hit in page.items)))


def own_resources(
    session: Session, user: Viewer, cursor: str | None = None, limit: int = OWN_LIMIT
) -> SearchPage:
    """The provider's resources, newest first (core data included: the index shows a
    provider its own entries)."""
    require(user.actor, "provider")
    query = search.Query(
        doc_type="resource",
        provider_id=user.participant.id,
        sort="newest",
        cursor=cursor,
        limit=limit,
        facets=False,
    )
    return search.run(session, query, user.participant.id, oversight=False)


def own_products(session: Session, user: Viewer, reviewers: tuple[str, ...]) -> list[ProductOut]:
    """The provider's products in every status, most recently changed first."""
    return products.list_own(session, user.actor, OWN_LIMIT)


def own_resource_choices(session: Session, user: Viewer) -> list[SearchHit]:
    """The resources a provider may build a product from."""
    return own_resources(session, user).items


# --- resource detail ------------------------------------------------------------------------


def _visible(
    session: Session, user: Viewer, ids: list[uuid.UUID], reviewers: tuple[str, ...]
) -> list[ProductOut]:
    """The products the viewer may see. ``lineage_of_resource`` judges visibility with the
    default reviewers only, so each one is asked again with the configured reviewers."""
    shown = []
    for pid in ids:
        try:
            shown.append(products.get(session, user.actor, pid, reviewers))
        except NotFound:
            continue
    return shown


@dataclass(frozen=True)
class ResourceView:
    resource: ResourceOut
    provider: ParticipantOut | None
    versions: list[VersionOut]
    products: list[ProductOut]
    history: list[EvidenceEntry]
    actors: dict[str, ParticipantOut]
    log: EvidenceLog
    is_owner: bool


def resource_view(
    session: Session,
    user: Viewer,
    resource_id: uuid.UUID,
    version: int | None,
    reviewers: tuple[str, ...],
) -> ResourceView:
    """A version of a resource with its versions, lineage and evidence; the catalog decides
    who may see it (core data only its provider and oversight)."""
    shown = resources.get(session, user.actor, resource_id, version)
    lineage = products.lineage_of_resource(session, user.actor, resource_id)
    versions = resources.versions(session, user.actor, resource_id)
    history = evidence.history(session, f"resource:{resource_id}")
    refs = [v.created_by for v in versions] + [e.actor for e in history]
    return ResourceView(
        resource=shown,
        provider=find(session, shown.provider_id),
        versions=versions,
        products=_visible(session, user, lineage.products, reviewers),
        history=history,
        actors=actor_names(session, refs),
        log=evidence_log(session, user, history),
        is_owner=user.is_self(shown.provider_id),
    )


# --- product detail -------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductView:
    product: ProductOut
    provider: ParticipantOut | None
    offer: list[Line]
    offer_json: str
    reviews: list[ReviewOut]
    history: list[EvidenceEntry]
    actors: dict[str, ParticipantOut]
    log: EvidenceLog
    is_owner: bool
    is_operator: bool
    may_review: bool

    @property
    def editable(self) -> bool:
        return self.is_owner and self.product.status in products.EDITABLE

    @property
    def delistable(self) -> bool:
        return self.product.status == "listed" and (self.is_owner or self.is_operator)


def product_view(
    session: Session,
    user: Viewer,
    product_id: uuid.UUID,
    reviewers: tuple[str, ...],
    language: str,
) -> ProductView:
    """A product with its offer in words, review history and evidence."""
    shown = products.get(session, user.actor, product_id, reviewers)
    reviews = products.history(session, user.actor, product_id, reviewers)
    history = evidence.history(session, f"product:{product_id}")
    return ProductView(
        product=shown,
        provider=find(session, shown.provider_id),
        offer=describe(shown.policy, language),
        offer_json=json.dumps(shown.policy, ensure_ascii=False, indent=2),
        reviews=reviews,
        history=history,
        actors=actor_names(session, [r.actor for r in reviews] + [e.actor for e in history]),
        log=evidence_log(session, user, history),
        is_owner=user.is_self(shown.provider_id),
        is_operator=user.is_operator,
        may_review=user.role in reviewers,
    )
