"""Revenue sharing (收益分配): the operator's versioned rules, and each invoice's split.

An invoice's net amount N (VAT excluded) is shared, in exact fractions first:

* **operator fee** — ``operator_fee_bp`` of N to the operator (运营服务费);
* **authorizing body** — for public-data products (the provider is of a ``public_kinds``
  kind, government bodies and public institutions by default, or is listed in
  ``public_providers``, e.g. a utility), ``authority_bp`` of N to the authorizing body
  (公共数据授权运营, "管住一级、放活二级");
* **upstream sources by lineage** — for a product its provider declared as derived from
  other participants' products (each obtained under an agreement), ``upstream_bp`` of N
  flows to them, split by the declarations' weights. Recursively: an upstream product that
  itself has upstreams keeps ``1 - upstream_bp`` of what reaches it and passes ``upstream_bp``
  on, down to ``upstream_depth`` levels (a product is never visited twice on a path);
  what reaches the last level stays there;
* **provider** — the rest.

Then the fen are assigned by largest remainder (:func:`.money.split`), so the shares sum to
N exactly and none is negative. Rules change only by a new version in force from a month
on; a month already settled keeps the version it was settled with.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.catalog import find_product
from shuchang.domains.participants import Actor, find, require
from shuchang.domains.settlement import periods
from shuchang.domains.settlement.models import Batch, SharingRule, Upstream
from shuchang.domains.settlement.money import BASIS, split
from shuchang.domains.settlement.schemas import RuleIn, RuleOut
from shuchang.errors import Conflict, ValidationFailed

ShareKey = tuple[uuid.UUID, str]  # (participant, role)


@dataclass(frozen=True)
class Link:
    """An upstream product of a product, with its provider and weight."""

    product_id: uuid.UUID
    provider_id: uuid.UUID
    weight: int


Graph = Mapping[uuid.UUID, Sequence[Link]]


def rule_out(r: SharingRule) -> RuleOut:
    return RuleOut(
        version=r.version,
        effective_from=r.effective_from,
        operator_id=r.operator_id,
        operator_fee_bp=r.operator_fee_bp,
        authority_id=r.authority_id,
        authority_bp=r.authority_bp,
        upstream_bp=r.upstream_bp,
        upstream_depth=r.upstream_depth,
        public_kinds=list(r.public_kinds),
        public_providers=[uuid.UUID(p) for p in r.public_providers],
        note=r.note,
        created_by=r.created_by,
        created_at=r.created_at,
    )


def _active_participant(session: Session, participant_id: uuid.UUID, field: str) -> None:
    member = find(session, participant_id)
    if member is None or member.status != "active":
        raise ValidationFailed(
            "The participant is not an active member",
            "该参与方不存在或未启用",
            code="settlement.participant_invalid",
            field=field,
        )


def _check_rule(session: Session, data: RuleIn) -> None:
    total = data.operator_fee_bp + data.authority_bp + data.upstream_bp
    if total > BASIS:
        raise ValidationFailed(
            f"Fee, authority and upstream shares add up to {total} bp, more than 10,000",
            f"运营费、授权方和上游分成合计 {total} 个基点，超过 10,000",
            code="settlement.shares_exceed_whole",
            field="operator_fee_bp",
        )
    if data.authority_bp and data.authority_id is None:
        raise ValidationFailed(
            "An authority share needs the authorizing body",
            "设置授权方分成须指定授权方",
            code="settlement.authority_required",
            field="authority_id",
        )
    _active_participant(session, data.operator_id, "operator_id")
    if data.authority_id is not None:
        _active_participant(session, data.authority_id, "authority_id")


def set_rule(session: Session, actor: Actor, data: RuleIn) -> RuleOut:
    """A new rules version from ``effective_from`` on (operator only; settled months stay)."""
    require(actor, "operator")
    start = periods.parse(data.effective_from, "effective_from")
    _check_rule(session, data)
    settled = session.scalar(select(func.max(Batch.period)))
    if settled is not None and str(start) <= settled:
        first = periods.parse(settled).next()
        raise Conflict(
            f"{settled} is already settled; new rules can take effect from {first}",
            f"{settled} 已结算，新规则最早自 {first} 起生效",
            code="settlement.rules_frozen",
            field="effective_from",
        )
    version = (session.scalar(select(func.max(SharingRule.version))) or 0) + 1
    row = SharingRule(
        version=version,
        effective_from=str(start),
        operator_id=data.operator_id,
        operator_fee_bp=data.operator_fee_bp,
        authority_id=data.authority_id,
        authority_bp=data.authority_bp,
        upstream_bp=data.upstream_bp,
        upstream_depth=data.upstream_depth,
        public_kinds=sorted(set(data.public_kinds)),
        public_providers=sorted({str(p) for p in data.public_providers}),
        note=data.note,
        created_by=actor.ref,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    out = rule_out(row)
    payload = {k: v for k, v in _builtins(out).items() if k not in ("created_at", "created_by")}
    evidence.record(
        session, "settlement.rule_set", f"settlement-rule:{version}", actor.ref, payload
    )
    return out


def _builtins(out: RuleOut) -> dict[str, object]:
    import msgspec

    data: dict[str, object] = msgspec.to_builtins(out)
    return data


def rule_for(session: Session, period: periods.Period) -> SharingRule | None:
    """The version in force in ``period``: the newest that took effect by then."""
    return session.scalars(
        select(SharingRule)
        .where(SharingRule.effective_from <= str(period))
        .order_by(SharingRule.version.desc())
        .limit(1)
    ).first()


def list_rules(session: Session, actor: Actor) -> list[RuleOut]:
    require(actor, "operator", "regulator", "provider", "consumer")
    rows = session.scalars(select(SharingRule).order_by(SharingRule.version.desc()))
    return [rule_out(r) for r in rows]


def is_public(rule: SharingRule, provider_id: uuid.UUID, provider_kind: str) -> bool:
    return provider_kind in rule.public_kinds or str(provider_id) in rule.public_providers


def graph(session: Session) -> dict[uuid.UUID, list[Link]]:
    """Upstream links in force (not withdrawn), each with its upstream product's provider."""
    links: dict[uuid.UUID, list[Link]] = {}
    providers: dict[uuid.UUID, uuid.UUID | None] = {}
    rows = session.scalars(
        select(Upstream)
        .where(Upstream.withdrawn_at.is_(None))
        .order_by(Upstream.product_id, Upstream.upstream_product_id)
    )
    for row in rows:
        up = row.upstream_product_id
        if up not in providers:
            product = find_product(session, up)
            providers[up] = product.provider_id if product else None
        provider = providers[up]
        if provider is not None:
            links.setdefault(row.product_id, []).append(Link(up, provider, row.weight))
    return links


def _flow(
    amount: Fraction,
    product_id: uuid.UUID,
    links: Graph,
    rule: SharingRule,
    path: frozenset[uuid.UUID],
) -> list[tuple[ShareKey, Fraction]]:
    """``amount`` shared among ``product_id``'s upstream products (some may pass it on)."""
    ups = [link for link in links.get(product_id, ()) if link.product_id not in path]
    whole = sum(link.weight for link in ups)
    out: list[tuple[ShareKey, Fraction]] = []
    for link in ups:
        part = amount * link.weight / whole
        onward = path | {link.product_id}
        further = [u for u in links.get(link.product_id, ()) if u.product_id not in onward]
        if further and len(onward) <= rule.upstream_depth:
            passed = part * rule.upstream_bp / BASIS
            out.append(((link.provider_id, "upstream"), part - passed))
            out += _flow(passed, link.product_id, links, rule, onward)
        else:
            out.append(((link.provider_id, "upstream"), part))
    return out


def shares(
    net_fen: int,
    *,
    provider_id: uuid.UUID,
    product_id: uuid.UUID | None,
    public: bool,
    rule: SharingRule,
    links: Graph,
) -> dict[ShareKey, int]:
    """Each party's share of ``net_fen`` in fen (zero shares left out); sums to ``net_fen``."""
    net = Fraction(net_fen)
    fee = net * rule.operator_fee_bp / BASIS
    authority = net * rule.authority_bp / BASIS if public and rule.authority_id else Fraction(0)
    upstream: list[tuple[ShareKey, Fraction]] = []
    if product_id is not None and rule.upstream_bp and links.get(product_id):
        upstream = _flow(
            net * rule.upstream_bp / BASIS, product_id, links, rule, frozenset({product_id})
        )
    provider = net - fee - authority - sum((a for _, a in upstream), Fraction(0))
    parts: list[tuple[ShareKey, Fraction]] = [((provider_id, "provider"), provider)]
    parts.append(((rule.operator_id, "fee"), fee))
    if rule.authority_id is not None:
        parts.append(((rule.authority_id, "authority"), authority))
    parts += upstream
    return {key: fen for key, fen in split(net_fen, parts).items() if fen}
