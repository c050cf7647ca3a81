"""Clearing (清分): one month's orders and metered usage become a settlement batch.

A run has three steps, so that neither a crash nor a second run can lose or double money:

1. **orders** (own transaction): :func:`.orders.sync` — idempotent;
2. **plan** (a read-only transaction, so metering writers are never blocked): the meters
   count the month's usage per agreement with one GROUP BY in the database; each order is
   priced, its invoice shared out, its journal entry, statement lines and signed records
   prepared in memory. The month must be over and every usage record of it sealed into
   the evidence log (`shuchang dataplane seal`): sealed records never change, so what the
   plan read stays true;
3. **commit** (one write transaction): batch, usage, ledger entries, invoices, shares,
   statements, records and their evidence — all or nothing. A period has one batch (a
   unique constraint): a concurrent or repeated run finds it and clears nothing.

Usage is tied to its batch by the period (records are cleared by ``started_at`` in the
month, and a month has one batch) and by the id range and counts kept per agreement, so a
record is never cleared twice; reconciliation recounts and reports any record that
appears in a settled month afterwards.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuchang.canonical import digest
from shuchang.db import table_of, utcnow
from shuchang.domains import evidence
from shuchang.domains.participants import Actor, find, participant_urn
from shuchang.domains.settlement import ledger, meters, periods, records, sharing
from shuchang.domains.settlement.models import (
    Batch,
    BatchUsage,
    Invoice,
    Order,
    Record,
    Share,
    SharingRule,
    Statement,
)
from shuchang.domains.settlement.money import bounded
from shuchang.domains.settlement.periods import Period
from shuchang.domains.settlement.pricing import Line, PriceTerms, invoice_lines
from shuchang.errors import Conflict
from shuchang.settings import Settings

STATEMENT_FIELDS = ("provider_fen", "authority_fen", "upstream_fen", "fee_fen")


class AlreadyCleared(Exception):
    """Another run committed this period's batch first."""


@dataclass
class Plan:
    """Everything one clearing writes, prepared before the write transaction."""

    period: Period
    rule: SharingRule
    vat_bp: int
    batch_id: uuid.UUID = field(default_factory=uuid.uuid4)
    usage: list[dict[str, Any]] = field(default_factory=list)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    shares: list[dict[str, Any]] = field(default_factory=list)
    postings: list[ledger.Posting] = field(default_factory=list)
    statements: dict[uuid.UUID, dict[str, int]] = field(default_factory=dict)
    bodies: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, value: int) -> None:
        self.totals[name] = self.totals.get(name, 0) + value


class Parties:
    """Participant URNs for records, read once per participant."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._urns: dict[uuid.UUID, str] = {}

    def urn(self, participant_id: uuid.UUID) -> str:
        if participant_id not in self._urns:
            member = find(self._session, participant_id)
            urn = participant_urn(member) if member else f"urn:uuid:{participant_id}"
            self._urns[participant_id] = urn
        return self._urns[participant_id]


def _orders_in(session: Session, period: Period, used: set[uuid.UUID]) -> list[Order]:
    """Orders in force at some time in the period, and any with usage in it."""
    rows = session.scalars(select(Order).order_by(Order.agreement_id))
    return [
        o
        for o in rows
        if (o.valid_from < period.end and o.valid_until > period.start) or o.agreement_id in used
    ]


def _usage(session: Session, period: Period) -> dict[uuid.UUID, list[meters.Metered]]:
    found = meters.usage(session, period, agreements=select(Order.agreement_id))
    unsealed = sum(m.unsealed for ms in found.values() for m in ms)
    if unsealed:
        raise Conflict(
            f"{unsealed} usage records of {period} are not sealed into the evidence log yet; "
            "run `shuchang dataplane seal` (the gateway seals every few seconds)",
            f"{period} 尚有 {unsealed} 条计量记录未封存入存证日志，"
            "请先运行 `shuchang dataplane seal`",
            code="settlement.metering_unsealed",
            extra={"unsealed": unsealed},
        )
    return found


def _usage_rows(plan: Plan, metered: list[meters.Metered]) -> None:
    for m in metered:
        plan.usage.append(
            {
                "batch_id": plan.batch_id,
                "agreement_id": m.agreement_id,
                "meter": m.meter,
                "records": m.records,
                "calls": m.quantities.get("call", 0),
                "rows": m.quantities.get("row", 0),
                "unknown": m.unknown,
                "upstream_failed": m.upstream_failed,
                "error_status": m.error_status,
                "denied": m.denied,
                "first_id": m.first_id,
                "last_id": m.last_id,
                "sealed_in": [[b, e] for b, e in m.sealed_in.items()],
            }
        )
        plan.add("records", m.records)
        plan.totals["cursor_id"] = max(plan.totals.get("cursor_id", 0), m.last_id)


def _posting(
    plan: Plan, order: Order, amounts: tuple[int, int], split: dict[Any, int]
) -> ledger.Posting:
    net, tax = amounts
    lines: list[tuple[ledger.AccountKey, int]] = [(("receivable", order.consumer_id), net + tax)]
    lines.append((("vat", None), -tax))
    lines += [((ledger.ROLE_ACCOUNT[role], pid), -fen) for (pid, role), fen in split.items()]
    memo = f"{plan.period} 账单 invoice · {order.product_title}"
    return ledger.Posting("invoice", memo, ledger.merged(lines), plan.batch_id, id=uuid.uuid4())


def _statement(plan: Plan, participant_id: uuid.UUID) -> dict[str, int]:
    return plan.statements.setdefault(
        participant_id, {"invoices": 0, "owed_fen": 0, **dict.fromkeys(STATEMENT_FIELDS, 0)}
    )


def _book(
    plan: Plan, order: Order, invoice_id: uuid.UUID, gross: int, split: dict[Any, int]
) -> None:
    consumer = _statement(plan, order.consumer_id)
    consumer["invoices"] += 1
    consumer["owed_fen"] += gross
    for (pid, role), fen in split.items():
        _statement(plan, pid)[f"{role}_fen"] += fen
        plan.shares.append(
            {
                "invoice_id": invoice_id,
                "participant_id": pid,
                "role": role,
                "batch_id": plan.batch_id,
                "amount_fen": fen,
            }
        )


@dataclass(frozen=True)
class Facts:
    """What a record says about one invoice beyond its amounts."""

    parties: Parties
    links: sharing.Graph
    now: datetime


def _body(  # noqa: PLR0917 - one invoice's parts, passed along together
    kind: str,
    plan: Plan,
    order: Order,
    invoice: dict[str, Any],
    usage: list[meters.Metered],
    facts: Facts,
    split: dict[Any, int],
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "kind": kind,
        "period": str(plan.period),
        "issued_at": facts.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "batch": str(plan.batch_id),
        "invoice": str(invoice["id"]),
        "ledger_entry": str(invoice["entry_id"]) if invoice["entry_id"] else None,
        "rule_version": plan.rule.version,
        "agreement": {
            "id": str(order.agreement_id),
            "sha256": order.agreement_sha256,
            "valid_from": order.valid_from.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "valid_until": order.valid_until.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "product": {
            "id": str(order.product_id),
            "title": order.product_title,
            "kind": order.product_kind,
        },
        "provider": facts.parties.urn(order.provider_id),
        "consumer": facts.parties.urn(order.consumer_id),
        "price": dict(order.terms),
        "lines": invoice["lines"],
        "amounts": {
            "net_fen": invoice["net_fen"],
            "tax_fen": invoice["tax_fen"],
            "gross_fen": invoice["gross_fen"],
            "vat_bp": invoice["vat_bp"],
        },
        "usage": {
            "records": sum(m.records for m in usage),
            "quantities": meters.quantities(usage),
            "not_billed": {
                "unknown": sum(m.unknown for m in usage),
                "upstream_failed": sum(m.upstream_failed for m in usage),
                "error_status": sum(m.error_status for m in usage),
                "denied": sum(m.denied for m in usage),
            },
            "record_ids": [[m.meter, m.first_id, m.last_id] for m in usage],
        },
        "evidence": {
            "metering": [[b, e] for m in usage for b, e in m.sealed_in.items()],
        },
    }
    if kind == "filing":
        body["shares"] = [
            {"party": facts.parties.urn(pid), "role": role, "amount_fen": fen}
            for (pid, role), fen in split.items()
        ]
    return body


def _invoice(plan: Plan, order: Order, lines: list[Line]) -> dict[str, Any]:
    net = bounded(sum(line.net_fen for line in lines), "invoice net amount")
    tax = bounded(sum(line.tax_fen for line in lines), "invoice VAT")
    return {
        "id": uuid.uuid4(),
        "batch_id": plan.batch_id,
        "order_id": order.id,
        "period": str(plan.period),
        "agreement_id": order.agreement_id,
        "consumer_id": order.consumer_id,
        "provider_id": order.provider_id,
        "lines": [line.to_json() for line in lines],
        "net_fen": net,
        "tax_fen": tax,
        "gross_fen": bounded(net + tax, "invoice gross amount"),
        "vat_bp": plan.vat_bp,
        "entry_id": None,
        "created_at": utcnow(),
    }


def _clear_order(plan: Plan, order: Order, usage: list[meters.Metered], facts: Facts) -> None:
    quantities = meters.quantities(usage)
    terms = PriceTerms.from_json(order.terms)
    lines = invoice_lines(
        terms, (order.valid_from, order.valid_until), plan.period, quantities, plan.vat_bp
    )
    lines = [line for line in lines if line.kind != "usage" or line.quantity]
    if not lines and not any(quantities.values()):
        return  # nothing billed and nothing used: no invoice this month
    invoice = _invoice(plan, order, lines)
    net, tax, gross = invoice["net_fen"], invoice["tax_fen"], invoice["gross_fen"]
    public = sharing.is_public(plan.rule, order.provider_id, order.provider_kind)
    split = (
        sharing.shares(
            net,
            provider_id=order.provider_id,
            product_id=order.product_id,
            public=public,
            rule=plan.rule,
            links=facts.links,
        )
        if net
        else {}
    )
    if gross:
        posting = _posting(plan, order, (net, tax), split)
        plan.postings.append(posting)
        invoice["entry_id"] = posting.id
    plan.invoices.append(invoice)
    _book(plan, order, invoice["id"], gross, split)
    for kind in ("filing", "voucher"):
        plan.bodies.append((kind, _body(kind, plan, order, invoice, usage, facts, split)))
    for name, value in (("net_fen", net), ("tax_fen", tax), ("gross_fen", gross)):
        plan.add(name, value)
    plan.add("calls", quantities.get("call", 0))
    plan.add("rows", quantities.get("row", 0))


def earlier_open(session: Session, period: Period) -> Period | None:
    """The first month before ``period`` that has no batch, counted from the month the first
    sharing rules took effect: months are settled in order, so no instalment is skipped."""
    first = session.scalar(select(func.min(SharingRule.effective_from)))
    if first is None:
        return None
    settled = set(session.scalars(select(Batch.period)))
    month = periods.parse(first)
    while month < period:
        if str(month) not in settled:
            return month
        month = month.next()
    return None


def prepare(session: Session, settings: Settings, period: Period) -> Plan:
    """Read and price a period (no writes): what :func:`commit` will store."""
    rule = sharing.rule_for(session, period)
    if rule is None:
        raise Conflict(
            f"No revenue-sharing rules are in force in {period}; the operator sets them first",
            f"{period} 没有生效的收益分配规则，请运营者先设置",
            code="settlement.no_rules",
        )
    usage = _usage(session, period)
    plan = Plan(period, rule, settings.settlement_vat_bp)
    plan.totals = dict.fromkeys(
        ("records", "calls", "rows", "net_fen", "tax_fen", "gross_fen", "cursor_id"), 0
    )
    facts = Facts(Parties(session), sharing.graph(session), utcnow())
    for order in _orders_in(session, period, set(usage)):
        metered = usage.get(order.agreement_id, [])
        _usage_rows(plan, metered)
        _clear_order(plan, order, metered, facts)
    return plan


def _batch_payload(plan: Plan) -> dict[str, Any]:
    statements = [
        {"participant": str(pid), **plan.statements[pid]} for pid in sorted(plan.statements)
    ]
    return {
        "period": str(plan.period),
        "batch": str(plan.batch_id),
        "rule_version": plan.rule.version,
        "vat_bp": plan.vat_bp,
        "invoices": len(plan.invoices),
        **plan.totals,
        "statements_sha256": digest(statements),
    }


def _insert(session: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(table_of(model)), rows)


def _store_records(
    session: Session, settings: Settings, plan: Plan, batch_evidence: int, actor: Actor
) -> None:
    signer = records.load_signer(settings)
    docs = []
    for kind, body in plan.bodies:
        body["evidence"]["batch_cleared"] = batch_evidence
        doc = records.sign(kind, body, signer)
        docs.append((kind, doc, records.document_sha256(doc, issued=True)))
    ids = evidence.record_many(
        session,
        actor.ref,
        [
            (records.EVIDENCE_KIND[k], records.subject_of(d), records.evidence_payload(d, sha))
            for k, d, sha in docs
        ],
    )
    now = utcnow()
    _insert(
        session,
        Record,
        [
            {
                "id": uuid.UUID(d["body"]["id"]),
                "kind": k,
                "invoice_id": uuid.UUID(d["body"]["invoice"]),
                "batch_id": plan.batch_id,
                "agreement_id": uuid.UUID(d["body"]["agreement"]["id"]),
                "period": str(plan.period),
                "document": d,
                "sha256": sha,
                "evidence_id": entry,
                "created_at": now,
            }
            for (k, d, sha), entry in zip(docs, ids, strict=True)
        ],
    )


def commit(session: Session, settings: Settings, plan: Plan, actor: Actor) -> None:
    """Store a plan as the period's batch, or :class:`AlreadyCleared` if one exists."""
    if session.scalar(select(Batch.id).where(Batch.period == str(plan.period))) is not None:
        raise AlreadyCleared(str(plan.period))
    payload = _batch_payload(plan)
    evidence_id = evidence.record(
        session, "settlement.batch_cleared", f"settlement-batch:{plan.batch_id}", actor.ref, payload
    )
    batch = {
        "id": plan.batch_id,
        "period": str(plan.period),
        "status": "cleared",
        "rule_version": plan.rule.version,
        "vat_bp": plan.vat_bp,
        "period_start": plan.period.start,
        "period_end": plan.period.end,
        "invoices": len(plan.invoices),
        **plan.totals,
        "cleared_by": actor.ref,
        "cleared_at": utcnow(),
        "evidence_id": evidence_id,
    }
    try:
        with session.begin_nested():
            _insert(session, Batch, [batch])
    except IntegrityError as exc:  # PostgreSQL: another run committed it meanwhile
        raise AlreadyCleared(str(plan.period)) from exc
    _insert(session, BatchUsage, plan.usage)
    ledger.post_many(session, plan.postings, actor.ref)
    _insert(session, Invoice, plan.invoices)
    _insert(session, Share, plan.shares)
    _insert(
        session,
        Statement,
        [
            {
                "batch_id": plan.batch_id,
                "participant_id": pid,
                **values,
                "due_fen": sum(values[f] for f in STATEMENT_FIELDS),
            }
            for pid, values in plan.statements.items()
        ],
    )
    _store_records(session, settings, plan, evidence_id, actor)
