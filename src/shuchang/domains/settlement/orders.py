"""Orders (订单): one per concluded agreement, made from it idempotently.

Orders are not created by the contracts domain (which must not depend on settlement) but
drawn from it: :func:`sync` makes an order for every concluded agreement that has none,
reading the price from the signed agreement itself. Every clearing run syncs first, and
operators may sync at any time (`shuchang settlement orders sync`); running it twice, or
twice at once, makes each order once. An agreement whose price cannot be billed is left
without an order and reported (reconciliation then flags its usage).
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shuchang.canonical import digest
from shuchang.db import table_of, utcnow
from shuchang.domains import evidence
from shuchang.domains.catalog import ProductOut, find_product
from shuchang.domains.contracts import AgreementOut, active_agreement_ids, find_agreement
from shuchang.domains.participants import Actor, find, require
from shuchang.domains.settlement.models import Order
from shuchang.domains.settlement.pricing import PriceInvalid, PriceTerms, terms_of
from shuchang.domains.settlement.schemas import OrderOut
from shuchang.errors import NotFound

OVERSIGHT = ("operator", "regulator", "system")
_orders = table_of(Order)


class Skipped(msgspec.Struct, frozen=True):
    agreement_id: uuid.UUID
    code: str
    message_zh: str
    message_en: str


class SyncOut(msgspec.Struct, frozen=True):
    created: list[OrderOut]
    skipped: list[Skipped]


def order_out(row: Order) -> OrderOut:
    return OrderOut(
        id=row.id,
        agreement_id=row.agreement_id,
        product_id=row.product_id,
        product_title=row.product_title,
        product_kind=row.product_kind,
        provider_id=row.provider_id,
        consumer_id=row.consumer_id,
        price=dict(row.terms),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        created_at=row.created_at,
    )


def _product_id(a: AgreementOut) -> uuid.UUID | None:
    try:
        return uuid.UUID(a.dataset_id.removeprefix("urn:uuid:"))
    except ValueError:
        return None


class _Lookups:
    """Products and providers read once per sync (many agreements share them)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.products: dict[uuid.UUID, ProductOut | None] = {}
        self.kinds: dict[uuid.UUID, str] = {}

    def product(self, product_id: uuid.UUID) -> ProductOut | None:
        if product_id not in self.products:
            self.products[product_id] = find_product(self.session, product_id)
        return self.products[product_id]

    def kind(self, participant_id: uuid.UUID) -> str:
        if participant_id not in self.kinds:
            member = find(self.session, participant_id)
            self.kinds[participant_id] = member.kind if member else "unknown"
        return self.kinds[participant_id]


def _row(lookups: _Lookups, a: AgreementOut, terms: PriceTerms) -> dict[str, Any]:
    product_id = _product_id(a)
    product = lookups.product(product_id) if product_id else None
    return {
        "id": uuid.uuid4(),
        "agreement_id": a.id,
        "product_id": product_id,
        "product_title": product.title if product else a.dataset_id,
        "product_kind": product.kind if product else "unknown",
        "provider_id": a.provider_id,
        "provider_kind": lookups.kind(a.provider_id),
        "consumer_id": a.consumer_id,
        "price_model": terms.model,
        "terms": terms.to_json(),
        "agreement_sha256": digest(a.document["agreement"]),
        "valid_from": a.valid_from,
        "valid_until": a.valid_until,
        "created_at": utcnow(),
    }


def _insert(session: Session, rows: list[dict[str, Any]]) -> set[uuid.UUID]:
    """Insert orders, skipping agreements another sync ordered meanwhile; ids inserted."""
    if not rows:
        return set()
    dialect = session.get_bind().dialect.name
    insert = (pg_insert if dialect == "postgresql" else sqlite_insert)(_orders)
    stmt = insert.on_conflict_do_nothing(index_elements=["agreement_id"]).returning(_orders.c.id)
    return {row[0] for row in session.execute(stmt, rows)}


def sync(session: Session, actor: Actor) -> SyncOut:
    """An order for every concluded agreement without one (operator or platform)."""
    require(actor, "operator")
    ordered = set(session.scalars(select(Order.agreement_id)))
    rows, skipped, lookups = [], [], _Lookups(session)
    for agreement_id in active_agreement_ids(session):
        if agreement_id in ordered:
            continue
        agreement = find_agreement(session, agreement_id)
        assert agreement is not None  # just listed
        try:
            terms = terms_of(agreement.document["agreement"])
        except PriceInvalid as exc:
            skipped.append(Skipped(agreement_id, exc.code, exc.message_zh, exc.message_en))
            continue
        rows.append(_row(lookups, agreement, terms))
    inserted = _insert(session, rows)
    made = [r for r in rows if r["id"] in inserted]
    evidence.record_many(
        session,
        actor.ref,
        [
            (
                "settlement.order_created",
                f"settlement-order:{r['id']}",
                {
                    "agreement": str(r["agreement_id"]),
                    "agreement_sha256": r["agreement_sha256"],
                    "price": r["terms"],
                },
            )
            for r in made
        ],
    )
    return SyncOut([order_out(Order(**r)) for r in made], skipped)


def list_orders(
    session: Session, actor: Actor, participant_id: uuid.UUID | None = None, limit: int = 500
) -> list[OrderOut]:
    """Orders where the caller (or, for oversight, ``participant_id``) is a party."""
    who = participant_id if actor.role in OVERSIGHT else actor.participant_id
    stmt = select(Order).order_by(Order.created_at.desc(), Order.id).limit(limit)
    if who is not None:
        stmt = stmt.where(or_(Order.provider_id == who, Order.consumer_id == who))
    elif actor.role not in OVERSIGHT:
        return []
    return [order_out(r) for r in session.scalars(stmt)]


def get_order(session: Session, actor: Actor, order_id: uuid.UUID) -> OrderOut:
    row = session.get(Order, order_id)
    if row is None or (
        actor.role not in OVERSIGHT
        and actor.participant_id not in (row.provider_id, row.consumer_id)
    ):
        raise NotFound("Order not found", "订单不存在", code="settlement.order_not_found")
    return order_out(row)
