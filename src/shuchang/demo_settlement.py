"""The demo region's trading history: S1 and S2 agreements, last month's metered use, and
last month settled — orders, invoices with VAT, shares for the public-data authorizing body,
payouts, reconciliation, filings and vouchers.

Agreements are stored as the negotiation would have left them: built from the listed offer
by :func:`shuchang.domains.contracts.agreements.build`, signed by both parties with keys
registered for them here, with their ``agreement.concluded`` evidence. Usage records are
written in the gateway's shape (a few requests whose gateway died, an upstream outage, a
provider error, denials) and sealed by the real sealer. Sizes are kept small so the demo
seeds in seconds.
"""

from __future__ import annotations

import base64
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from shuchang.canonical import digest
from shuchang.db import make_session_factory, table_of, utcnow
from shuchang.domains import evidence
from shuchang.domains.catalog import listed_offer
from shuchang.domains.catalog.models import Product
from shuchang.domains.contracts import agreements
from shuchang.domains.contracts.models import Agreement, Negotiation
from shuchang.domains.dataplane.models import UsageRecord
from shuchang.domains.dataplane.sealing import seal_all
from shuchang.domains.participants import SYSTEM, keys
from shuchang.domains.participants.models import Participant
from shuchang.domains.participants.schemas import AddKey
from shuchang.domains.settlement import batches, reconciliation, sharing
from shuchang.domains.settlement.periods import Period, period_of
from shuchang.domains.settlement.rail import rail_for
from shuchang.domains.settlement.schemas import RuleIn
from shuchang.platform import Platform
from shuchang.ports import Ed25519Signer
from shuchang.settings import Settings

BUREAU = "东瓯市数据局"
# (consumer, product title, agreement start in days from the settled month's first day,
#  billable calls last month, rows per call): S1 the bank, S2 the insurer.
DEALS: list[tuple[str, str, int, int, int]] = [
    ("东瓯商业银行股份有限公司", "企业登记与处罚信息数据集", 5, 0, 0),
    ("东瓯商业银行股份有限公司", "企业用电指数（数据元件）", -20, 0, 0),
    ("东瓯财产保险股份有限公司", "人伤医疗费用核验", -35, 6_000, 1),
]


Party = tuple[uuid.UUID, str, Ed25519Signer]
_parties: dict[tuple[int, str], Party] = {}


def _party(session: Session, name: str) -> Party:
    """A participant's id, URN and a signing key registered for it (once per seeding)."""
    cached = _parties.get((id(session), name))
    if cached is not None:
        return cached
    row = session.scalars(select(Participant).where(Participant.name == name)).one()
    signer = Ed25519Signer()
    public = base64.b64encode(signer.public_key()).decode()
    keys.add_key(session, SYSTEM, row.id, AddKey(public_key=public))
    party = _parties[(id(session), name)] = (row.id, f"urn:uscc:{row.identifier}", signer)
    return party


def _conclude(
    session: Session, consumer: str, title: str, start: datetime
) -> tuple[uuid.UUID, uuid.UUID]:
    product = session.scalars(select(Product).where(Product.title == title)).one()
    offer = listed_offer(session, product.id)
    assert offer is not None, title
    provider_row = session.get(Participant, product.provider_id)
    assert provider_row is not None
    provider = _party(session, provider_row.name)
    buyer = _party(session, consumer)
    terms = agreements.Terms(
        dataset_id=f"urn:uuid:{product.id}",
        provider_urn=provider[1],
        consumer_urn=buyer[1],
        price_model=offer.price.model,
        price_fen=offer.price.amount_fen,
        price_period=offer.price.period,
        days=365,
        price_unit=offer.price.unit,
        price_tiers=tuple((t.up_to, t.unit_fen) for t in offer.price.tiers),
    )
    document = agreements.build(offer.policy, terms, start)
    signatures = [
        agreements.sign(document, "assigner", provider[1], provider[2]),
        agreements.sign(document, "assignee", buyer[1], buyer[2]),
    ]
    valid_from, valid_until = agreements.window(document)
    n = Negotiation(
        id=uuid.uuid4(),
        role="provider",
        provider_pid=f"urn:uuid:{uuid.uuid4()}",
        consumer_pid=f"urn:uuid:{uuid.uuid4()}",
        state="FINALIZED",
        local_participant_id=provider[0],
        counterparty_id=buyer[0],
        dataset_id=terms.dataset_id,
        product_id=product.id,
        offer=offer.policy,
        callback_address="https://connector.example.cn/dsp",
        created_at=start,
        updated_at=start,
    )
    session.add(n)
    session.flush()
    row = Agreement(
        id=uuid.UUID(document["@id"].removeprefix("urn:uuid:")),
        negotiation_id=n.id,
        provider_id=provider[0],
        consumer_id=buyer[0],
        dataset_id=terms.dataset_id,
        product_id=product.id,
        document=document,
        signatures=signatures,
        purpose=agreements.purpose(document),
        valid_from=valid_from,
        valid_until=valid_until,
        price_model=terms.price_model,
        price_fen=terms.price_fen,
        status="active",
        created_at=start,
    )
    session.add(row)
    n.agreement_id = row.id
    session.flush()
    evidence.record(
        session,
        "agreement.concluded",
        f"agreement:{row.id}",
        f"participant:{provider[0]}",
        {
            "negotiation": str(n.id),
            "target": row.dataset_id,
            "purpose": row.purpose,
            "valid_from": row.valid_from.isoformat(),
            "valid_until": row.valid_until.isoformat(),
            "price_fen": row.price_fen,
            "agreement_sha256": digest(document),
            "signatures": [s["keyid"] for s in signatures],
        },
    )
    return row.id, buyer[0]


def _uses(
    agreement_id: uuid.UUID,
    consumer_id: uuid.UUID,
    calls: int,
    rows: int,
    *,
    month: Period,
    rng: random.Random,
) -> list[dict[str, Any]]:
    """``calls`` billable requests spread over ``month``, and about 3 % that are not billed."""
    span = (month.end - month.start).total_seconds() - 60
    extra = max(1, calls // 30) if calls else 0
    kinds = ["ok"] * calls + ["unknown", "upstream_timeout", "error", "denied"] * extra
    out: list[dict[str, Any]] = []
    for kind in kinds:
        permitted = kind != "denied"
        outcome = {"ok": "delivered", "error": "delivered", "denied": "denied"}.get(kind, kind)
        status = {"ok": 200, "error": 404, "denied": 403, "upstream_timeout": 504}.get(kind)
        out.append(
            {
                "agreement_id": agreement_id,
                "transfer_id": uuid.uuid5(uuid.NAMESPACE_URL, str(agreement_id)),
                "consumer_id": consumer_id,
                "method": "POST" if rows else "GET",
                "path": "/data",
                "permitted": permitted,
                "outcome": outcome,
                "status": status,
                "bytes": 240 if kind == "ok" else 0,
                "rows": rows if kind == "ok" else 0,
                "duration_ms": rng.randrange(3, 40),
                "started_at": month.start + timedelta(seconds=rng.random() * span),
            }
        )
    out.sort(key=lambda r: r["started_at"])
    return out


def _rules(session: Session, bureau: uuid.UUID, since: Period) -> None:
    sharing.set_rule(
        session,
        SYSTEM,
        RuleIn(
            effective_from=str(since),
            operator_id=bureau,
            operator_fee_bp=500,
            authority_id=bureau,
            authority_bp=1000,
            upstream_bp=2000,
            note="演示：运营服务费 5%，公共数据授权收益 10%，上游来源 20%",
        ),
    )


def seed_settlement(engine: Engine, settings: Settings) -> None:
    """Conclude the demo deals two months back, meter last month and settle it."""
    platform = Platform(settings=settings, engine=engine, sessions=make_session_factory(engine))
    month = period_of(utcnow()).previous()
    rng = random.Random(3303)  # noqa: S311 - demo traffic, not secrets
    records: list[dict[str, Any]] = []
    with platform.unit() as s:
        bureau = s.scalars(select(Participant.id).where(Participant.name == BUREAU)).one()
        _rules(s, bureau, month)
        for consumer, title, offset, calls, rows in DEALS:
            agreement_id, consumer_id = _conclude(
                s, consumer, title, month.start + timedelta(days=offset)
            )
            records += _uses(agreement_id, consumer_id, calls, rows, month=month, rng=rng)
        s.execute(insert(table_of(UsageRecord)), records)
    seal_all(platform.unit, limit=settings.dataplane_seal_records, in_flight_seconds=0)
    batches.run(platform, SYSTEM, str(month))
    rail = rail_for(settings.settlement_rail, platform.unit)
    with platform.unit() as s:
        reconciliation.reconcile(s, SYSTEM, str(month), rail)
