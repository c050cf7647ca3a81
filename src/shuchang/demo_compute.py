"""The demo region's privacy computation (S1 普惠金融): the tax bureau's compute-only product
gets its data, a compute profile, and the city commercial bank an agreement able to run
"default rate by industry and district" (按行业和区县统计违约率).

* **Data**: 20,000 invented enterprises (deterministic: the same every seed) in the table
  ``tax.credit_monthly`` of the data root's ``warehouse.db`` — the location the demo
  resource names — created only when missing, so other demo data in that file is kept.
* **Profile**: person ``uscc``; dimensions industry, district and credit grade with their
  public domains; measures ``defaulted`` (0/1) and ``invoice_total_fen`` (clamped to
  ¥5,000,000); k = 10; one row per enterprise; templates for the default rate.
* **Agreement**: both parties hold registered Ed25519 keys and sign the agreement built from
  the listed offer exactly as the connector would after a DSP negotiation (which needs two
  running connectors); it is active for 12 months with a budget of ε 3 per month.
"""

from __future__ import annotations

import base64
import random
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from shuchang.datasources import DataSources
from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.catalog.models import Product
from shuchang.domains.compute import profiles
from shuchang.domains.compute.schemas import ProfileIn
from shuchang.domains.contracts import agreements
from shuchang.domains.contracts.models import Agreement, Negotiation
from shuchang.domains.participants import SYSTEM, Actor, keys, participant_urn
from shuchang.domains.participants import service as participants
from shuchang.domains.participants.identifiers import (
    org_code_check_character,
    uscc_check_character,
)
from shuchang.domains.participants.schemas import AddKey
from shuchang.ports import Ed25519Signer
from shuchang.settings import Settings

TAX_BUREAU, BANK = "国家税务总局东瓯市税务局", "东瓯商业银行股份有限公司"
PRODUCT_TITLE = "纳税信用隐私计算服务"
TABLE = "tax.credit_monthly"
ENTERPRISES = 20_000
INDUSTRIES = {  # GB/T 4754 class: relative default risk
    "C13": 1.1, "C18": 1.3, "C38": 0.8, "E47": 1.6, "F51": 1.0,
    "F52": 1.2, "G54": 1.1, "H62": 1.5, "I65": 0.6, "L72": 0.9,
}  # fmt: skip
DISTRICTS = ("鹿城区", "龙湾区", "瓯海区", "洞头区", "瑞安市", "乐清市", "永嘉县", "平阳县")
GRADES = {"A": 0.005, "B": 0.015, "M": 0.03, "C": 0.08, "D": 0.2}  # grade: base default rate
GRADE_SHARE = (("A", 0.3), ("B", 0.4), ("M", 0.15), ("C", 0.1), ("D", 0.05))
DEFAULT_RATE = (
    "SELECT industry_code, district, COUNT(*) AS enterprises, AVG(defaulted) AS default_rate "
    "FROM tax GROUP BY industry_code, district"
)


def _uscc(i: int) -> str:
    body = f"MA{i:06d}"
    first17 = "91330300" + body + org_code_check_character(body)
    return first17 + uscc_check_character(first17)


def demo_rows(n: int = ENTERPRISES, seed: int = 2026) -> list[tuple[Any, ...]]:
    """(uscc, credit_grade, industry_code, district, invoice_total_fen, defaulted) rows."""
    rnd = random.Random(seed)  # noqa: S311 - invented demo data, reproducible on purpose
    grades = [g for g, _ in GRADE_SHARE]
    weights = [w for _, w in GRADE_SHARE]
    rows = []
    for i in range(1, n + 1):
        grade = rnd.choices(grades, weights)[0]
        industry = rnd.choice(list(INDUSTRIES))
        district = rnd.choices(DISTRICTS, (30, 20, 20, 4, 10, 10, 3, 3))[0]
        risk = min(GRADES[grade] * INDUSTRIES[industry], 0.9)
        invoices = int(rnd.lognormvariate(13.5, 1.2)) * 100  # fen: median about ¥7,300
        rows.append((_uscc(i), grade, industry, district, invoices, int(rnd.random() < risk)))
    return rows


def seed_data(settings: Settings) -> int:
    """Create the demo table in the data root's warehouse.db if missing; rows written."""
    sources = DataSources.of(settings)
    sources.root.mkdir(parents=True, exist_ok=True)
    engine: Engine = sources.engine("default")
    name = '"' + TABLE + '"'
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    f"CREATE TABLE IF NOT EXISTS {name} (uscc TEXT PRIMARY KEY, "
                    "credit_grade TEXT, industry_code TEXT, district TEXT, "
                    "invoice_total_fen INTEGER, defaulted INTEGER)"
                )
            )
            if conn.execute(text(f"SELECT count(*) FROM {name}")).scalar():  # noqa: S608
                return 0
            rows = demo_rows()
            conn.execute(
                text(f"INSERT INTO {name} VALUES (:u, :g, :i, :d, :f, :x)"),  # noqa: S608
                [dict(zip("ugidfx", row, strict=True)) for row in rows],
            )
            return len(rows)
    finally:
        sources.dispose()


DISTRICT_PARAM = {"name": "district", "type": "string", "dimension": "district", "label": "区县"}


def profile() -> ProfileIn:
    body = {
        "table": "tax",
        "person": "uscc",
        "dimensions": [
            {"name": "industry_code", "values": list(INDUSTRIES), "label": "行业（GB/T 4754）"},
            {"name": "district", "values": list(DISTRICTS), "label": "区县"},
            {"name": "credit_grade", "values": list(GRADES), "label": "纳税信用等级"},
        ],
        "measures": [
            {"name": "defaulted", "lower": 0, "upper": 1, "label": "是否欠税（0/1）"},
            {
                "name": "invoice_total_fen",
                "lower": 0,
                "upper": 500_000_000,
                "label": "开票金额（分）",
            },
        ],
        "templates": [
            {"name": "default_rate", "title": "按行业和区县统计违约率", "sql": DEFAULT_RATE},
            {
                "name": "grade_default_rate",
                "title": "某区县各信用等级违约率",
                "sql": "SELECT credit_grade, COUNT(*) AS enterprises, "
                "AVG(defaulted) AS default_rate "
                "FROM tax WHERE district = :district GROUP BY credit_grade",
                "params": [DISTRICT_PARAM],
            },
        ],
        "k": 10,
        "contribution_bound": 1,
        "epsilon_default": 0.5,
        "epsilon_max": 1.0,
        "lifetime_epsilon": 200.0,
    }
    return msgspec.convert(body, ProfileIn)


@dataclass(frozen=True)
class Seeded:
    product_id: uuid.UUID
    agreement_id: uuid.UUID


def _signer(session: Session, participant_id: uuid.UUID) -> Ed25519Signer:
    signer = Ed25519Signer()
    public = base64.b64encode(signer.public_key()).decode()
    keys.add_key(session, SYSTEM, participant_id, AddKey(public_key=public))
    return signer


def sign_agreement(
    session: Session, product: Product, consumer_id: uuid.UUID, settings: Settings
) -> uuid.UUID:
    provider = participants.find(session, product.provider_id)
    consumer = participants.find(session, consumer_id)
    assert provider is not None and consumer is not None
    terms = agreements.Terms(
        dataset_id=f"urn:uuid:{product.id}",
        provider_urn=participant_urn(provider),
        consumer_urn=participant_urn(consumer),
        price_model=product.price_model,
        price_fen=product.price_fen,
        price_period=product.price_period,
        days=settings.agreement_days,
    )
    offer = {"@type": "Offer", **agreements.offer_body(product.policy)}
    document = agreements.build(offer, terms, utcnow())
    signatures = [
        agreements.sign(document, "assigner", terms.provider_urn, _signer(session, provider.id)),
        agreements.sign(document, "assignee", terms.consumer_urn, _signer(session, consumer.id)),
    ]
    pid = f"urn:uuid:{uuid.uuid4()}"
    negotiation = Negotiation(
        role="provider",
        provider_pid=pid,
        consumer_pid=f"urn:uuid:{uuid.uuid4()}",
        state="FINALIZED",
        local_participant_id=provider.id,
        counterparty_id=consumer.id,
        dataset_id=terms.dataset_id,
        product_id=product.id,
        offer=offer,
        callback_address="https://bank.dongou.example.cn/dsp",
    )
    session.add(negotiation)
    session.flush()
    start, end = agreements.window(document)
    row = Agreement(
        id=uuid.UUID(document["@id"].removeprefix("urn:uuid:")),
        negotiation_id=negotiation.id,
        provider_id=provider.id,
        consumer_id=consumer.id,
        dataset_id=terms.dataset_id,
        product_id=product.id,
        document=document,
        signatures=signatures,
        purpose=agreements.purpose(document),
        valid_from=start,
        valid_until=end,
        price_model=product.price_model,
        price_fen=product.price_fen,
        status="active",
        created_at=utcnow(),
    )
    session.add(row)
    negotiation.agreement_id = row.id
    session.flush()
    evidence.record(
        session,
        "agreement.concluded",
        f"agreement:{row.id}",
        f"participant:{provider.id}",
        {
            "target": row.dataset_id,
            "purpose": row.purpose,
            "demo": True,
            "signatures": [s["keyid"] for s in signatures],
        },
    )
    return row.id


def seed_compute(
    session: Session, settings: Settings, members: dict[str, uuid.UUID]
) -> Seeded | None:
    """Data, profile and the bank's agreement for the tax product (None: not in the demo)."""
    product = session.scalar(select(Product).where(Product.title == PRODUCT_TITLE))
    if product is None or product.status != "listed" or BANK not in members:
        return None
    seed_data(settings)
    owner = Actor(participant_id=product.provider_id, role="provider")
    profiles.set_profile(session, owner, product.id, profile())
    return Seeded(product.id, sign_agreement(session, product, members[BANK], settings))
