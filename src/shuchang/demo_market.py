"""The demo region's data market: compliance reviews passed for every listed product (by the
compliance assessment centre), and the power company's electricity-use index registered as a
data asset with a certificate, a valuation and a pledge to the city commercial bank."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains.assets import holdings
from shuchang.domains.assets import service as assets
from shuchang.domains.assets.schemas import AssetApplication, AssetDecision, PledgeIn, ValuationIn
from shuchang.domains.catalog import products
from shuchang.domains.catalog.schemas import ProductOut
from shuchang.domains.compliance import service as compliance
from shuchang.domains.compliance.schemas import AnswersIn, AssessorDecision, AssignIn
from shuchang.domains.participants import Actor
from shuchang.settings import Settings

ASSESSOR = "东瓯数据合规评估中心"
BANK = "东瓯商业银行股份有限公司"
HOLDER = "东瓯电力有限公司"


def answers_for(facts: Any) -> dict[str, Any]:
    """Truthful answers for a product whose sources declare ``facts``."""
    important = facts.classification != "general"
    answers: dict[str, Any] = {
        "source.origin": "self_collected",
        "source.proof": "本单位业务系统依法履职或经营中产生，数据来源台账编号 DY-2026-001",
        "pi.contains": facts.personal,
        "important.contains": important,
        "cross_border.transfer": False,
        "security.measures": ["encryption", "access_control", "audit_log", "masking"],
        "security.mlps_level": "level3" if important else "level2",
    }
    if facts.personal:
        answers["pi.basis"] = "separate_consent" if facts.sensitive else "legal_duty"
        answers["pi.deidentified"] = "deidentified"
    if facts.sensitive:
        answers["pi.impact_assessment"] = "个人信息保护影响评估报告 PIA-2026-007"
    if important:
        answers["important.risk_assessment"] = "数据安全风险评估报告 RA-2026-012"
        answers["important.officer"] = "数据安全负责人（信息中心主任）"
    return answers


def _pass_compliance(
    session: Session, provider: Actor, product: ProductOut, assessor: Actor, settings: Settings
) -> None:
    facts = compliance.facts(session, product)
    review = compliance.start(session, provider, product.id, AnswersIn(answers=answers_for(facts)))
    compliance.submit(session, provider, review.id)
    compliance.assign(session, assessor, review.id, AssignIn())
    compliance.decide(session, assessor, review.id, AssessorDecision(decision="pass"), settings)


def _register_asset(
    session: Session, members: dict[str, uuid.UUID], product: ProductOut, settings: Settings
) -> None:
    holder = Actor(participant_id=members[HOLDER], role="provider")
    valuer = Actor(participant_id=members[ASSESSOR], role="service_firm")
    operator = Actor(participant_id=members["东瓯市数据局"], role="operator")
    applied = assets.apply(
        session,
        holder,
        AssetApplication(
            product_id=product.id,
            rights=["holding", "processing", "operating"],
            description="由智能电表月度读数加工形成的企业用电指数数据元件，覆盖东瓯市工商业用户，"
            "按月更新，用于普惠金融授信与经营活跃度评估。",
            valid_years=3,
        ),
        settings,
    )
    assets.review(session, operator, applied.id, AssetDecision(decision="approve"), settings)
    today = (utcnow() + timedelta(hours=8)).date()
    holdings.value(
        session,
        valuer,
        applied.id,
        ValuationIn(
            method="income",
            amount_fen=480_000_000,
            valued_on=today,
            basis="收益法：按已签订阅合约的年收入 1.44 亿分、三年收益期、折现率 8% 测算。",
        ),
    )
    holdings.pledge(
        session,
        holder,
        applied.id,
        PledgeIn(
            pledgee_id=members[BANK],
            amount_fen=300_000_000,
            starts_on=today,
            ends_on=today + timedelta(days=365),
            reference="东商银数质字（2026）第 001 号",
        ),
    )


def pass_compliance(
    session: Session,
    members: dict[str, uuid.UUID],
    provider: Actor,
    product_id: uuid.UUID,
    settings: Settings,
) -> None:
    """A listed product's compliance review, passed by the demo's assessment centre."""
    assessor = Actor(participant_id=members[ASSESSOR], role="service_firm")
    product = next(p for p in products.list_own(session, provider) if p.id == product_id)
    _pass_compliance(session, provider, product, assessor, settings)


def seed_market(session: Session, members: dict[str, uuid.UUID], settings: Settings) -> None:
    assessor = Actor(participant_id=members[ASSESSOR], role="service_firm")
    for name, member_id in members.items():
        provider = Actor(participant_id=member_id, role="provider")
        for product in products.list_own(session, provider):  # none for non-providers
            if product.status != "listed":
                continue
            _pass_compliance(session, provider, product, assessor, settings)
            if name == HOLDER:
                _register_asset(session, members, product, settings)
