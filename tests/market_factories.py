"""Factories the data-market tests share (assets, compliance, supervision): a provider's
listed product made from realistic resources of the demo region, through the real services.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec

import factories
from shuchang.domains.catalog import products, resources
from shuchang.domains.catalog.schemas import ProductIn, ResourceIn, ReviewDecision
from shuchang.domains.participants import SYSTEM, Actor
from shuchang.platform import Platform

_counter = itertools.count(1)


def _field(name: str, type_: str = "string", sensitivity: str = "general") -> dict[str, str]:
    return {"name": name, "type": type_, "description": name, "sensitivity": sensitivity}


def resource_body(**overrides: Any) -> dict[str, Any]:
    """General data of a market regulator: enterprise registrations."""
    n = next(_counter)
    body: dict[str, Any] = {
        "title": f"企业登记信息（第{n}批）",
        "description": "东瓯市市场主体登记信息：统一社会信用代码、名称、行业与区县，每日更新。",
        "fields": [_field("uscc"), _field("name"), _field("district")],
        "source": "市场主体登记系统",
        "update_frequency": "daily",
        "industry": "L72",
        "classification": "general",
        "location": {"type": "sql", "table": "samr.enterprise_registry"},
        "regions": ["330300"],
        "tags": ["企业登记"],
    }
    body.update(overrides)
    return body


def personal_body(**overrides: Any) -> dict[str, Any]:
    """Important data with sensitive personal information: settled medical expenses."""
    return resource_body(
        **{
            "title": f"意外伤害医疗费用结算（{next(_counter)}）",
            "description": "交通事故伤者的医保结算记录：身份证号、就诊机构与医疗费用。",
            "fields": [_field("resident_id", sensitivity="sensitive_personal"), _field("fee")],
            "industry": "Q84",
            "classification": "important",
            "personal_info": True,
            "sensitive_personal_info": True,
            "legal_basis": "《个人信息保护法》第十三条第一款第（二）项",
            **overrides,
        }
    )


def product_body(resource_ids: list[uuid.UUID], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "dataset",
        "title": f"企业登记数据集（{next(_counter)}）",
        "description": "面向金融机构的企业登记数据集，按日更新，经连接器按合约交付使用。",
        "resources": [str(r) for r in resource_ids],
        "policy": {
            "@type": "Offer",
            "permission": [
                {
                    "action": "use",
                    "constraint": [
                        {
                            "leftOperand": "purpose",
                            "operator": "eq",
                            "rightOperand": "小微企业信贷风险评估",
                        }
                    ],
                }
            ],
        },
        "price": {"model": "one_off", "amount_fen": 80000},
        "tags": ["企业登记"],
    }
    body.update(overrides)
    return body


@dataclass
class Listed:
    provider: factories.Member
    product_id: uuid.UUID
    resource_ids: list[uuid.UUID]

    @property
    def actor(self) -> Actor:
        return Actor(participant_id=self.provider.id, role="provider")


def provider_product(
    platform: Platform,
    *,
    provider: factories.Member | None = None,
    resource: dict[str, Any] | None = None,
    status: str = "listed",
    **product: Any,
) -> Listed:
    """A provider's product from one resource, walked to ``status`` (draft, submitted, listed)."""
    provider = provider or factories.participant(platform, roles=("provider",))
    actor = Actor(participant_id=provider.id, role="provider")
    with platform.unit() as s:
        rid = resources.register(
            s, actor, msgspec.convert(resource or resource_body(), ResourceIn)
        ).id
        body = product_body([rid], **product)
        pid = products.create(s, actor, msgspec.convert(body, ProductIn)).id
        if status in ("submitted", "listed"):
            assert products.submit(s, actor, pid).status == "submitted"
        if status == "listed":
            products.review(s, SYSTEM, pid, ReviewDecision(decision="approve"), ("operator",))
    return Listed(provider, pid, [rid])


def actor_of(member: factories.Member, role: str) -> Actor:
    return Actor(participant_id=member.id, role=role)  # type: ignore[arg-type]
