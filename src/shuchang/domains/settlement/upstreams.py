"""Upstream sources (数据来源声明): cross-party lineage for revenue that flows back.

A product's own lineage in the catalog names the provider's resource versions. When a
provider builds a product from *another participant's* product — the S3 second-level
developer combining a first-level data element with its own data — it declares that here,
naming the agreement under which it obtained the upstream product. The declaration is
checked against that agreement (active, the declarer is its consumer, the upstream product
is its target), may not form a cycle, and takes effect for every month cleared while it
stands; withdrawing it stops that from the next clearing on. Both steps are evidence.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.catalog import find_product
from shuchang.domains.contracts import find_agreement
from shuchang.domains.participants import Actor, require
from shuchang.domains.settlement.models import Upstream
from shuchang.domains.settlement.schemas import UpstreamIn, UpstreamOut
from shuchang.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

MAX_UPSTREAMS = 20


def _out(session: Session, row: Upstream) -> UpstreamOut:
    upstream = find_product(session, row.upstream_product_id)
    return UpstreamOut(
        product_id=row.product_id,
        upstream_product_id=row.upstream_product_id,
        upstream_provider_id=upstream.provider_id if upstream else None,
        agreement_id=row.agreement_id,
        weight=row.weight,
        declared_by=row.declared_by,
        declared_at=row.declared_at,
        withdrawn_at=row.withdrawn_at,
    )


def _standing(session: Session) -> dict[uuid.UUID, list[uuid.UUID]]:
    edges: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in session.scalars(select(Upstream).where(Upstream.withdrawn_at.is_(None))):
        edges.setdefault(row.product_id, []).append(row.upstream_product_id)
    return edges


def _reaches(edges: dict[uuid.UUID, list[uuid.UUID]], start: uuid.UUID, goal: uuid.UUID) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(edges.get(node, []))
    return False


def _check_agreement(session: Session, actor: Actor, data: UpstreamIn) -> None:
    agreement = find_agreement(session, data.agreement_id)
    if (
        agreement is None
        or agreement.status != "active"
        or agreement.consumer_id != actor.participant_id
        or agreement.dataset_id != f"urn:uuid:{data.upstream_product_id}"
    ):
        raise ValidationFailed(
            "The agreement must be yours, in force, and for the upstream product",
            "所列合约须为本单位作为使用方、已生效且标的为该上游产品的合约",
            code="settlement.upstream_agreement_invalid",
            field="agreement_id",
        )


def declare(session: Session, actor: Actor, data: UpstreamIn) -> UpstreamOut:
    """The product's provider declares an upstream product it holds an agreement for."""
    require(actor, "provider")
    product = find_product(session, data.product_id)
    if product is None or product.provider_id != actor.participant_id:
        raise PermissionDenied(
            "Only the product's provider declares its upstream sources",
            "只有产品的提供方可以声明其上游来源",
            code="settlement.upstream_not_owner",
            field="product_id",
        )
    upstream = find_product(session, data.upstream_product_id)
    if upstream is None or upstream.provider_id == product.provider_id:
        raise ValidationFailed(
            "The upstream product must be another participant's",
            "上游产品须属于其他参与方",
            code="settlement.upstream_invalid",
            field="upstream_product_id",
        )
    _check_agreement(session, actor, data)
    edges = _standing(session)
    if _reaches(edges, data.upstream_product_id, data.product_id):
        raise Conflict(
            "The declaration would make the lineage circular",
            "该声明将使数据血缘形成回路",
            code="settlement.upstream_cycle",
        )
    if len(edges.get(data.product_id, [])) >= MAX_UPSTREAMS:
        raise Conflict(
            "A product has at most 20 upstream sources",
            "一个产品至多声明 20 个上游来源",
            code="settlement.upstream_too_many",
        )
    row = session.get(Upstream, (data.product_id, data.upstream_product_id))
    if row is not None and row.withdrawn_at is None:
        raise Conflict("Already declared", "已声明该上游来源", code="settlement.upstream_exists")
    if row is None:
        row = Upstream(product_id=data.product_id, upstream_product_id=data.upstream_product_id)
        session.add(row)
    row.agreement_id, row.weight, row.withdrawn_at = data.agreement_id, data.weight, None
    row.declared_by, row.declared_at = actor.ref, utcnow()
    session.flush()
    evidence.record(
        session,
        "settlement.upstream_declared",
        f"product:{data.product_id}",
        actor.ref,
        {
            "upstream_product": str(data.upstream_product_id),
            "agreement": str(data.agreement_id),
            "weight": data.weight,
        },
    )
    return _out(session, row)


def withdraw(
    session: Session, actor: Actor, product_id: uuid.UUID, upstream_product_id: uuid.UUID
) -> UpstreamOut:
    row = session.get(Upstream, (product_id, upstream_product_id))
    product = find_product(session, product_id)
    if row is None or row.withdrawn_at is not None or product is None:
        raise NotFound(
            "No such declaration", "没有该上游来源声明", code="settlement.upstream_not_found"
        )
    if product.provider_id != actor.participant_id:
        require(actor, "operator")
    row.withdrawn_at = utcnow()
    evidence.record(
        session,
        "settlement.upstream_withdrawn",
        f"product:{product_id}",
        actor.ref,
        {"upstream_product": str(upstream_product_id)},
    )
    return _out(session, row)


def list_upstreams(
    session: Session, actor: Actor, product_id: uuid.UUID | None = None
) -> list[UpstreamOut]:
    """Declarations (withdrawn ones too), all for oversight, else the caller's products'."""
    stmt = select(Upstream).order_by(Upstream.declared_at.desc())
    if product_id is not None:
        stmt = stmt.where(Upstream.product_id == product_id)
    rows = [_out(session, r) for r in session.scalars(stmt)]
    if actor.role in ("operator", "regulator", "system"):
        return rows
    mine = []
    for out in rows:
        product = find_product(session, out.product_id)
        if actor.participant_id in (out.upstream_provider_id, product and product.provider_id):
            mine.append(out)
    return mine
