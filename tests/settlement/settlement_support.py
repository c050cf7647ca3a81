"""Helpers of the settlement tests: a small region with products, signed agreements, metered
usage sealed into the evidence log, and sharing rules, built through the real services.

Agreements are built and signed exactly as the contracts domain builds them
(:func:`shuchang.domains.contracts.agreements.build`, both parties' Ed25519 signatures) and
stored with their negotiation, without running the DSP exchange itself (the contracts tests
do that); usage records are bulk-inserted in the gateway's shape and sealed by the real
sealer. Plain functions, not fixtures, so each test reads top to bottom.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import insert

import factories
from shuchang.db import table_of, utcnow
from shuchang.domains.catalog import products, resources
from shuchang.domains.catalog.schemas import ProductIn, ResourceIn, ReviewDecision
from shuchang.domains.contracts import agreements
from shuchang.domains.contracts.models import Agreement, Negotiation
from shuchang.domains.dataplane.models import UsageRecord
from shuchang.domains.dataplane.sealing import seal_all
from shuchang.domains.participants import SYSTEM, Actor
from shuchang.domains.settlement import batches, sharing
from shuchang.domains.settlement.schemas import RuleIn, RunOut
from shuchang.platform import Platform
from shuchang.ports import Ed25519Signer

PERIOD = "2025-03"
MARCH = datetime(2025, 3, 1, tzinfo=UTC) - timedelta(hours=8)  # 2025-03-01 00:00 China time
PURPOSE = "小微企业信贷风险评估"
OPERATOR = Actor(participant_id=None, role="system")


@dataclass
class Region:
    """The parties of the tests: the data bureau runs the space and authorizes public data."""

    platform: Platform
    bureau: factories.Member  # operator and authorizing body (市数据局)
    tax: factories.Member  # a public-data provider (government)
    power: factories.Member  # an enterprise provider
    bank: factories.Member  # a consumer
    insurer: factories.Member  # another consumer

    @property
    def operator(self) -> Actor:
        return Actor(participant_id=self.bureau.id, role="operator")


def region(platform: Platform) -> Region:
    bureau = factories.participant(
        platform, kind="government", roles=("operator",), name="东瓯市数据局"
    )
    tax = factories.participant(
        platform, kind="government", roles=("provider",), name="国家税务总局东瓯市税务局"
    )
    power = factories.participant(
        platform, kind="enterprise", roles=("provider", "consumer"), name="东瓯电力有限公司"
    )
    bank = factories.participant(platform, roles=("consumer",), name="东瓯商业银行股份有限公司")
    insurer = factories.participant(platform, roles=("consumer",), name="东瓯财产保险股份有限公司")
    return Region(platform, bureau, tax, power, bank, insurer)


def set_rules(r: Region, effective_from: str = PERIOD, **overrides: Any) -> None:
    body: dict[str, Any] = {
        "effective_from": effective_from,
        "operator_id": str(r.bureau.id),
        "operator_fee_bp": 500,
        "authority_id": str(r.bureau.id),
        "authority_bp": 1000,
        "upstream_bp": 2000,
        **overrides,
    }
    with r.platform.unit() as s:
        sharing.set_rule(s, r.operator, msgspec.convert(body, RuleIn))


def product(
    platform: Platform, provider_id: uuid.UUID, price: dict[str, Any], kind: str = "api"
) -> uuid.UUID:
    """A listed product of ``provider_id`` at ``price`` (catalog shape)."""
    actor = Actor(participant_id=provider_id, role="provider")
    resource = msgspec.convert(
        {
            "title": "纳税信用等级与发票汇总",
            "description": "企业纳税信用等级与月度增值税发票开具金额，按行业和区县可聚合。",
            "fields": [{"name": "uscc", "type": "string", "role": "identifier"}],
            "source": "金税系统",
            "update_frequency": "monthly",
            "industry": "S92",
            "classification": "general",
            "location": {"type": "http", "url": "https://tax.example.cn/api/credit"},
            "tags": ["税务"],
        },
        ResourceIn,
    )
    body = {
        "kind": kind,
        "title": f"测试数据产品 {price['model']} {uuid.uuid4().hex[:6]}",
        "description": "面向金融机构的企业纳税信用查询接口，经连接器按合约调用并计量。",
        "policy": {
            "@type": "Offer",
            "permission": [
                {
                    "action": "use",
                    "constraint": [
                        {"leftOperand": "purpose", "operator": "eq", "rightOperand": PURPOSE}
                    ],
                }
            ],
        },
        "price": price,
        "tags": ["税务"],
    }
    if kind == "data_element":
        body["transformation"] = "按行业中位数归一化并去除直接标识符，样本少于 10 家不输出。"
    with platform.unit() as s:
        rid = resources.register(s, actor, resource).id
        out = products.create(
            s, actor, msgspec.convert({**body, "resources": [str(rid)]}, ProductIn)
        )
        products.submit(s, actor, out.id)
        products.review(s, SYSTEM, out.id, ReviewDecision(decision="approve"), ("operator",))
    return out.id


def agreement(
    platform: Platform,
    product_id: uuid.UUID,
    provider: factories.Member,
    consumer: factories.Member,
    *,
    start: datetime = MARCH - timedelta(days=20),
    days: int = 365,
) -> uuid.UUID:
    """A concluded agreement for the listed product, signed by both parties."""
    with platform.unit(write=False) as s:
        listed = products.listed_offer(s, product_id)
    assert listed is not None
    terms = agreements.Terms(
        dataset_id=f"urn:uuid:{product_id}",
        provider_urn=f"urn:uscc:{provider.identifier}",
        consumer_urn=f"urn:uscc:{consumer.identifier}",
        price_model=listed.price.model,
        price_fen=listed.price.amount_fen,
        price_period=listed.price.period,
        days=days,
        price_unit=listed.price.unit,
        price_tiers=tuple((t.up_to, t.unit_fen) for t in listed.price.tiers),
    )
    document = agreements.build(listed.policy, terms, start)
    signatures = [
        agreements.sign(document, "assigner", terms.provider_urn, Ed25519Signer()),
        agreements.sign(document, "assignee", terms.consumer_urn, Ed25519Signer()),
    ]
    valid_from, valid_until = agreements.window(document)
    with platform.unit() as s:
        n = Negotiation(
            id=uuid.uuid4(),
            role="provider",
            provider_pid=f"urn:uuid:{uuid.uuid4()}",
            consumer_pid=f"urn:uuid:{uuid.uuid4()}",
            state="FINALIZED",
            local_participant_id=provider.id,
            counterparty_id=consumer.id,
            dataset_id=terms.dataset_id,
            product_id=product_id,
            offer=listed.policy,
            callback_address="https://bank.example.cn/dsp",
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        s.add(n)
        s.flush()
        row = Agreement(
            id=uuid.UUID(document["@id"].removeprefix("urn:uuid:")),
            negotiation_id=n.id,
            provider_id=provider.id,
            consumer_id=consumer.id,
            dataset_id=terms.dataset_id,
            product_id=product_id,
            document=document,
            signatures=signatures,
            purpose=PURPOSE,
            valid_from=valid_from.replace(tzinfo=UTC),
            valid_until=valid_until.replace(tzinfo=UTC),
            price_model=terms.price_model,
            price_fen=terms.price_fen,
            status="active",
            created_at=utcnow(),
        )
        s.add(row)
    return row.id


def usage(
    platform: Platform,
    agreement_id: uuid.UUID,
    consumer_id: uuid.UUID,
    count: int,
    *,
    at: datetime = MARCH + timedelta(days=3),
    rows: int = 0,
    status: int = 200,
    outcome: str = "delivered",
    permitted: bool = True,
) -> None:
    """``count`` usage records as the gateway writes them, one second apart from ``at``."""
    records = [
        {
            "agreement_id": agreement_id,
            "transfer_id": uuid.UUID(int=1),
            "consumer_id": consumer_id,
            "method": "GET",
            "path": "/data",
            "permitted": permitted,
            "outcome": outcome if permitted else "denied",
            "status": status if outcome != "unknown" else None,
            "bytes": 100,
            "rows": rows,
            "duration_ms": 5,
            "started_at": at + timedelta(seconds=i),
        }
        for i in range(count)
    ]
    if records:
        with platform.unit() as s:
            s.execute(insert(table_of(UsageRecord)), records)


def seal(platform: Platform) -> None:
    seal_all(platform.unit, limit=10_000, in_flight_seconds=0)


def run(r: Region, period: str = PERIOD, **kw: Any) -> RunOut:
    return batches.run(r.platform, r.operator, period, **kw)
