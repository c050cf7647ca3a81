"""Use cases for data products (产品上架): drafts, automatic checks, review, listing, lineage.

Lifecycle::

    draft ──submit──► submitted ──approve──► listed ──delist──► delisted
      ▲   (checks fail: returned)  └─return──► returned           │
      └────────────── edit ◄───────────────────┘ ◄─── edit ───────┘
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.catalog import rules, search
from shuchang.domains.catalog.models import (
    Product,
    ProductSource,
    Resource,
    ResourceVersion,
    ReviewStep,
)
from shuchang.domains.catalog.schemas import (
    Lineage,
    Price,
    ProductIn,
    ProductOut,
    Reason,
    ReviewDecision,
    ReviewOut,
    SourceOut,
)
from shuchang.domains.catalog.textindex import index_chars, index_text
from shuchang.domains.participants import Actor, require
from shuchang.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from shuchang.policy import PolicyInvalid, compile_policy, validate

EDITABLE = ("draft", "returned", "delisted")
GRADE = {"general": 0, "important": 1, "core": 2}


def _policy_or_fail(policy: dict[str, Any]) -> None:
    """The offer must be well formed and decidable: what the decision point will enforce."""
    faults = validate(policy, expected_type="Offer")
    if faults:
        first = faults[0]
        raise ValidationFailed(
            f"Malformed ODRL policy at {first.path}: {first.message_en}",
            f"ODRL 策略在 {first.path} 处有误：{first.message_zh}",
            code="product.policy_invalid",
            field=f"policy.{first.path}" if first.path else "policy",
            extra={"faults": [msgspec.to_builtins(f) for f in faults]},
        )
    try:
        compile_policy(policy)
    except PolicyInvalid as exc:
        raise ValidationFailed(
            exc.message_en,
            exc.message_zh,
            code="product.policy_invalid",
            field=exc.field,
            extra=exc.extra,
        ) from exc


def _sources(
    session: Session, provider_id: uuid.UUID, ids: list[uuid.UUID]
) -> list[tuple[Resource, ResourceVersion]]:
    if len(set(ids)) != len(ids):
        raise ValidationFailed(
            "A resource is listed twice",
            "来源资源重复",
            code="product.duplicate_source",
            field="resources",
        )
    out = []
    for position, rid in enumerate(ids):
        resource = session.get(Resource, rid)
        if resource is None:
            raise ValidationFailed(
                "Unknown resource",
                "来源资源不存在",
                code="product.unknown_resource",
                field=f"resources[{position}]",
            )
        if resource.provider_id != provider_id:
            raise PermissionDenied(
                "A product can only be made from the provider's own resources",
                "只能用本单位登记的数据资源制作产品",
                code="product.resource_not_owned",
                field=f"resources[{position}]",
            )
        version = session.get(ResourceVersion, (resource.id, resource.version))
        assert version is not None
        if version.classification == "core":
            raise ValidationFailed(
                "Core data (核心数据) is never made into a product",
                "核心数据不得制作为数据产品",
                code="product.core_data",
                field=f"resources[{position}]",
            )
        out.append((resource, version))
    return out


def _fill(p: Product, data: ProductIn) -> None:
    p.kind, p.title, p.title_en = data.kind, data.title, data.title_en
    p.description, p.description_en = data.description, data.description_en
    p.tags, p.policy = sorted(set(data.tags)), data.policy
    p.price_model, p.price_fen, p.price_period = (
        data.price.model,
        data.price.amount_fen,
        data.price.period,
    )
    tiers = [msgspec.to_builtins(t) for t in data.price.tiers]
    has_terms = data.price.unit is not None or bool(tiers)
    p.price_terms = {"unit": data.price.unit, "tiers": tiers} if has_terms else None
    p.transformation = data.transformation


def _pin_sources(
    session: Session, p: Product, sources: list[tuple[Resource, ResourceVersion]]
) -> None:
    for row in session.scalars(select(ProductSource).where(ProductSource.product_id == p.id)):
        session.delete(row)
    session.flush()
    session.add_all(
        ProductSource(product_id=p.id, resource_id=r.id, resource_version=v.version)
        for r, v in sources
    )


def create(session: Session, actor: Actor, data: ProductIn) -> ProductOut:
    """A new draft from the provider's own resources."""
    require(actor, "provider")
    assert actor.participant_id is not None
    _policy_or_fail(data.policy)
    sources = _sources(session, actor.participant_id, data.resources)
    now = utcnow()
    p = Product(
        id=uuid.uuid4(),
        provider_id=actor.participant_id,
        status="draft",
        review_reasons=[],
        created_at=now,
        updated_at=now,
    )
    _fill(p, data)
    session.add(p)
    session.flush()
    _pin_sources(session, p, sources)
    reindex(session, p)
    evidence.record(
        session, "product.drafted", f"product:{p.id}", actor.ref, {"kind": p.kind, "title": p.title}
    )
    return to_out(session, p)


def _owned(session: Session, actor: Actor, product_id: uuid.UUID) -> Product:
    p = session.get(Product, product_id)
    if p is None:
        raise NotFound("Product not found", "数据产品不存在", code="product.not_found")
    if actor.participant_id != p.provider_id and actor.role != "system":
        raise PermissionDenied(
            "Only the product's provider may do this",
            "只有产品的提供方可以执行此操作",
            code="product.not_owner",
        )
    return p


def update(session: Session, actor: Actor, product_id: uuid.UUID, data: ProductIn) -> ProductOut:
    p = _owned(session, actor, product_id)
    _require_status(p, EDITABLE, "edit")
    _policy_or_fail(data.policy)
    sources = _sources(session, p.provider_id, data.resources)
    _fill(p, data)
    p.status, p.updated_at = "draft", utcnow()
    _pin_sources(session, p, sources)
    reindex(session, p)
    evidence.record(session, "product.edited", f"product:{p.id}", actor.ref, {"title": p.title})
    return to_out(session, p)


STATUS_ZH = {
    "draft": "草稿",
    "submitted": "待审核",
    "listed": "已上架",
    "returned": "已退回",
    "delisted": "已下架",
}
ACTION_ZH = {"edit": "编辑", "submit": "提交审核", "review": "审核", "delist": "下架"}


def _require_status(p: Product, allowed: tuple[str, ...], action: str) -> None:
    if p.status not in allowed:
        raise InvalidTransition(
            f"Cannot {action} a product that is {p.status}",
            f"产品当前状态为“{STATUS_ZH[p.status]}”，不能{ACTION_ZH[action]}",
            code="product.invalid_transition",
        )


def _step(
    session: Session, p: Product, actor: Actor, action: str, *, to: str, reasons: list[Reason]
) -> None:
    payload = [msgspec.to_builtins(r) for r in reasons]
    session.add(
        ReviewStep(
            product_id=p.id,
            action=action,
            from_status=p.status,
            to_status=to,
            actor=actor.ref,
            reasons=payload,
            at=utcnow(),
        )
    )
    evidence.record(
        session,
        f"product.{action}",
        f"product:{p.id}",
        actor.ref,
        {"from": p.status, "to": to, "reasons": [r.code for r in reasons]},
    )
    p.status, p.review_reasons, p.updated_at = to, payload, utcnow()
    reindex(session, p)


def _facts(session: Session, p: Product) -> list[rules.SourceFacts]:
    facts = []
    for source in session.scalars(select(ProductSource).where(ProductSource.product_id == p.id)):
        resource = session.get(Resource, source.resource_id)
        v = session.get(ResourceVersion, (source.resource_id, source.resource_version))
        assert resource is not None and v is not None
        current = session.get(ResourceVersion, (resource.id, resource.version))
        # A source reclassified since the draft counts at its stricter grade.
        grades = [v.classification, current.classification if current else v.classification]
        facts.append(
            rules.SourceFacts(
                v.title,
                max(grades, key=GRADE.__getitem__),
                v.personal_info,
                v.sensitive_personal_info,
                v.legal_basis,
                resource.status == "active",
            )
        )
    return facts


def submit(session: Session, actor: Actor, product_id: uuid.UUID) -> ProductOut:
    """Run the automatic checks; pass → waits for a reviewer, fail → returned with reasons."""
    p = _owned(session, actor, product_id)
    _require_status(p, EDITABLE, "submit")
    price = price_of(p)
    reasons = rules.check(
        kind=p.kind,
        description=p.description,
        tags=p.tags,
        policy=p.policy,
        price=price,
        transformation=p.transformation,
        sources=_facts(session, p),
    )
    outcome = "returned" if reasons else "submitted"
    _step(session, p, actor, "submitted", to=outcome, reasons=reasons)
    return to_out(session, p)


def review(
    session: Session,
    actor: Actor,
    product_id: uuid.UUID,
    decision: ReviewDecision,
    reviewers: tuple[str, ...],
    *,
    gate: Callable[[Session, uuid.UUID], None] | None = None,
) -> ProductOut:
    """A reviewer (the operator, or a service firm if configured) approves or returns.

    ``gate`` runs before an approval and raises to refuse it (the compliance requirement,
    ``Settings.listing_requires_compliance``, is passed in by the callers that read it)."""
    require(actor, *reviewers)
    p = session.get(Product, product_id)
    if p is None:
        raise NotFound("Product not found", "数据产品不存在", code="product.not_found")
    _require_status(p, ("submitted",), "review")
    if decision.decision == "return":
        if not decision.reasons:
            raise ValidationFailed(
                "Say why the product is returned",
                "退回须写明理由",
                code="product.reasons_required",
                field="reasons",
            )
        reasons = [Reason("review.returned", r, r) for r in decision.reasons]
        _step(session, p, actor, "returned", to="returned", reasons=reasons)
        return to_out(session, p)
    if gate is not None:
        gate(session, p.id)
    p.listed_at = utcnow()
    _step(session, p, actor, "listed", to="listed", reasons=[])
    return to_out(session, p)


def delist(session: Session, actor: Actor, product_id: uuid.UUID, reason: str | None) -> ProductOut:
    """The provider withdraws, or the operator takes down, a listed product."""
    p = session.get(Product, product_id)
    if p is None:
        raise NotFound("Product not found", "数据产品不存在", code="product.not_found")
    if actor.participant_id != p.provider_id:
        require(actor, "operator")
    _require_status(p, ("listed",), "delist")
    reasons = [Reason("delisted", reason, reason)] if reason else []
    _step(session, p, actor, "delisted", to="delisted", reasons=reasons)
    return to_out(session, p)


def get(
    session: Session,
    actor: Actor,
    product_id: uuid.UUID,
    reviewers: tuple[str, ...] = ("operator",),
) -> ProductOut:
    """Listed products are public to members; others only to provider, reviewers, regulator."""
    p = session.get(Product, product_id)
    if p is None or (
        p.status != "listed"
        and actor.participant_id != p.provider_id
        and actor.role not in (*reviewers, "regulator", "system")
    ):
        raise NotFound("Product not found", "数据产品不存在", code="product.not_found")
    return to_out(session, p)


def review_queue(session: Session, actor: Actor, reviewers: tuple[str, ...]) -> list[ProductOut]:
    require(actor, *reviewers, "regulator")
    rows = session.scalars(
        select(Product).where(Product.status == "submitted").order_by(Product.updated_at)
    )
    return [to_out(session, p) for p in rows]


def history(
    session: Session,
    actor: Actor,
    product_id: uuid.UUID,
    reviewers: tuple[str, ...] = ("operator",),
) -> list[ReviewOut]:
    get(session, actor, product_id, reviewers)
    rows = session.scalars(
        select(ReviewStep).where(ReviewStep.product_id == product_id).order_by(ReviewStep.id)
    )
    return [ReviewOut(r.action, r.from_status, r.to_status, r.actor, r.reasons, r.at) for r in rows]


def _source_outs(session: Session, product_id: uuid.UUID) -> list[SourceOut]:
    rows = session.execute(
        select(
            ProductSource.resource_id,
            ProductSource.resource_version,
            ResourceVersion.title,
            ResourceVersion.classification,
        )
        .join(
            ResourceVersion,
            (ResourceVersion.resource_id == ProductSource.resource_id)
            & (ResourceVersion.version == ProductSource.resource_version),
        )
        .where(ProductSource.product_id == product_id)
        .order_by(ResourceVersion.title)
    )
    return [SourceOut(*row) for row in rows]


def lineage_of_product(
    session: Session,
    actor: Actor,
    product_id: uuid.UUID,
    reviewers: tuple[str, ...] = ("operator",),
) -> Lineage:
    get(session, actor, product_id, reviewers)
    return Lineage(id=product_id, sources=_source_outs(session, product_id), products=[])


def lineage_of_resource(
    session: Session,
    actor: Actor,
    resource_id: uuid.UUID,
    reviewers: tuple[str, ...] = ("operator",),
) -> Lineage:
    """The products made from a resource that the actor may see (the other direction)."""
    ids = session.scalars(
        select(ProductSource.product_id).where(ProductSource.resource_id == resource_id)
    )
    visible = []
    for pid in ids:
        try:
            get(session, actor, pid, reviewers)
        except NotFound:
            continue
        visible.append(pid)
    return Lineage(id=resource_id, sources=[], products=sorted(visible))


def _purposes(policy: dict[str, Any]) -> list[str]:
    """The purpose values an offer names (一场景一授权), from every rule's constraints."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("leftOperand") == "purpose":
                value = node.get("rightOperand")
                found.extend(
                    [value]
                    if isinstance(value, str)
                    else [v for v in value or [] if isinstance(v, str)]
                )
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(policy)
    return found


def reindex(session: Session, p: Product) -> None:
    """Keep the search index current: every product is indexed, visible only when listed."""
    session.flush()
    search.index(session, [entry_for(session, p)])


def entry_for(session: Session, p: Product) -> search.EntryData:
    sources = (
        session.execute(
            select(ResourceVersion)
            .join(
                ProductSource,
                (ResourceVersion.resource_id == ProductSource.resource_id)
                & (ResourceVersion.version == ProductSource.resource_version),
            )
            .where(ProductSource.product_id == p.id)
            .order_by(ResourceVersion.resource_id)
        )
        .scalars()
        .all()
    )
    grade = max((v.classification for v in sources), key=GRADE.__getitem__, default="general")
    fields = " ".join(f["name"] for v in sources for f in v.fields)
    purposes = " ".join(_purposes(p.policy))  # the scenario (用途) is what consumers search for
    texts = (
        p.title,
        p.title_en,
        " ".join(p.tags),
        purposes,
        fields,
        p.description,
        p.description_en,
    )
    return search.EntryData(
        doc_type="product",
        doc_id=p.id,
        provider_id=p.provider_id,
        visible=p.status == "listed",
        title=p.title,
        summary=p.description[:300],
        kind=p.kind,
        classification=grade,
        industries=sorted({v.industry for v in sources}),
        regions=sorted({r for v in sources for r in v.regions}),
        price_fen=p.price_fen,
        price_model=p.price_model,
        price_period=p.price_period,
        tags=list(p.tags),
        body=index_text(*texts),
        chars=index_chars(*texts),
        updated_at=p.updated_at,
    )


def price_of(p: Product) -> Price:
    """The stored price, with a tiered price's unit and tiers (``price_terms``)."""
    terms = p.price_terms or {}
    return msgspec.convert(
        {
            "model": p.price_model,
            "amount_fen": p.price_fen,
            "period": p.price_period,
            "unit": terms.get("unit"),
            "tiers": terms.get("tiers", []),
        },
        Price,
    )


def find_product(session: Session, product_id: uuid.UUID) -> ProductOut | None:
    """A product in any status, as other domains need it (settlement bills products that
    were delisted after an agreement); callers apply their own access rules."""
    p = session.get(Product, product_id)
    return None if p is None else to_out(session, p)


def to_out(session: Session, p: Product) -> ProductOut:
    return ProductOut(
        id=p.id,
        provider_id=p.provider_id,
        kind=p.kind,
        title=p.title,
        title_en=p.title_en,
        description=p.description,
        description_en=p.description_en,
        tags=list(p.tags),
        policy=p.policy,
        price=price_of(p),
        transformation=p.transformation,
        status=p.status,
        review_reasons=list(p.review_reasons),
        sources=_source_outs(session, p.id),
        created_at=p.created_at,
        updated_at=p.updated_at,
        listed_at=p.listed_at,
    )


def listed_offer(session: Session, product_id: uuid.UUID) -> ProductOut | None:
    """A product as contracts need it: only while listed (None otherwise)."""
    p = session.get(Product, product_id)
    if p is None or p.status != "listed":
        return None
    return to_out(session, p)


def list_own(session: Session, actor: Actor, limit: int = 200) -> list[ProductOut]:
    """The acting provider's products in every status, most recently changed first."""
    require(actor, "provider")
    rows = session.scalars(
        select(Product)
        .where(Product.provider_id == actor.participant_id)
        .order_by(Product.updated_at.desc(), Product.id)
        .limit(limit)
    )
    return [to_out(session, p) for p in rows]
