"""Compute profiles as a use case: the provider sets one per compute-only product (each
change is a new revision, with evidence), and jobs read it with the pinned source."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import msgspec
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.catalog import PinnedSources, SourceVersion, pinned_sources
from shuchang.domains.compute import ledger
from shuchang.domains.compute import plan as p
from shuchang.domains.compute.errors import NoProfile, NotComputeOnly, ProfileInvalid
from shuchang.domains.compute.models import ComputeProfile
from shuchang.domains.compute.profile import catalogue
from shuchang.domains.compute.schemas import ProfileIn, ProfileOut
from shuchang.domains.participants import Actor
from shuchang.errors import NotFound, PermissionDenied

OVERSIGHT = ("operator", "regulator", "system")


@dataclass(frozen=True)
class Loaded:
    """A product's profile with everything a job needs: the validated catalogue and the
    pinned source version it reads."""

    product: PinnedSources
    row: ComputeProfile
    profile: ProfileIn
    catalogue: p.Catalogue
    source: SourceVersion


def _product(session: Session, product_id: uuid.UUID) -> PinnedSources:
    product = pinned_sources(session, product_id)
    if product is None:
        raise NotFound("Product not found", "产品不存在", code="product.not_found")
    if product.kind != "compute_only":
        raise NotComputeOnly(field="product_id")
    return product


def _source(product: PinnedSources, resource_id: uuid.UUID | None) -> SourceVersion:
    if resource_id is None and len(product.sources) == 1:
        return product.sources[0]
    for source in product.sources:
        if source.resource_id == resource_id:
            return source
    raise ProfileInvalid(
        "Name the source resource (resource_id) among the product's pinned sources",
        "请在产品的来源资源中指定 resource_id",
        field="resource_id",
    )


def set_profile(
    session: Session, actor: Actor, product_id: uuid.UUID, data: ProfileIn
) -> ProfileOut:
    """Validate ``data`` against the product's pinned source and store it as a new revision."""
    product = _product(session, product_id)
    if actor.role != "system" and actor.participant_id != product.provider_id:
        raise PermissionDenied(
            "Only the product's provider sets its compute profile",
            "只有产品的提供方可以设置计算配置",
            code="compute.not_provider",
        )
    source = _source(product, data.resource_id)
    catalogue(data, source.fields)  # raises ProfileInvalid with the field path
    body = msgspec.to_builtins(data)
    row = session.get(ComputeProfile, product_id, with_for_update=True)
    if row is None:
        row = ComputeProfile(product_id=product_id, provider_id=product.provider_id, revision=0)
        session.add(row)
    row.revision += 1
    row.resource_id, row.resource_version = source.resource_id, source.version
    row.profile, row.updated_at, row.updated_by = body, utcnow(), actor.ref
    session.flush()
    evidence.record(
        session,
        "compute.profile_set",
        f"product:{product_id}",
        actor.ref,
        {
            "revision": row.revision,
            "resource": f"{source.resource_id}@{source.version}",
            "profile": ledger.evidence_safe(body),
        },
    )
    return profile_out(session, row)


def profile_out(session: Session, row: ComputeProfile) -> ProfileOut:
    used = ledger.spent(session, row.product_id, ledger.PRODUCT)
    return ProfileOut(
        row.product_id,
        row.provider_id,
        row.revision,
        row.profile,
        ledger.epsilon_of(used),
        row.updated_at,
    )


def load(session: Session, product_id: uuid.UUID) -> Loaded:
    """The product's current profile and catalogue (NoProfile when none is set)."""
    product = _product(session, product_id)
    row = session.get(ComputeProfile, product_id)
    if row is None:
        raise NoProfile(field="product_id")
    profile = msgspec.convert(row.profile, ProfileIn)
    source = next(
        (
            s
            for s in product.sources
            if s.resource_id == row.resource_id and s.version == row.resource_version
        ),
        None,
    )
    if source is None:  # the product was re-pinned: the provider must review the profile
        raise NoProfile(
            "The product's sources changed since its compute profile was set",
            "产品的来源已变更，提供方须重新确认计算配置",
        )
    return Loaded(product, row, profile, catalogue(profile, source.fields), source)


def get_profile(session: Session, actor: Actor, product_id: uuid.UUID) -> ProfileOut:
    """Anyone who may see the product sees its profile: the domains and clamps are public
    by design (consumers write queries against them)."""
    del actor
    _product(session, product_id)
    row = session.get(ComputeProfile, product_id)
    if row is None:
        raise NoProfile(field="product_id")
    return profile_out(session, row)
