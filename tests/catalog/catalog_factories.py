"""One factory per catalog model: request bodies for resources and products.

Bodies are plain dicts (what a provider would POST), realistic for the demo region 东瓯市:
public data of government bureaux, a power company's meter readings, a maker's quality
records. Every call returns a fresh, valid body; keyword arguments replace top-level keys.
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any

REGION = "330300"  # 东瓯市 (a fictional prefecture-level city; the code is only well formed)
_counter = itertools.count(1)


def field(
    name: str,
    type_: str = "string",
    description: str = "",
    *,
    role: str = "attribute",
    sensitivity: str = "general",
) -> dict[str, str]:
    """One column of a resource's field schema."""
    return {
        "name": name,
        "type": type_,
        "description": description,
        "role": role,
        "sensitivity": sensitivity,
    }


def offer(
    action: str = "use", purpose: str = "小微企业信贷风险评估", **extra: Any
) -> dict[str, Any]:
    """A well-formed ODRL offer: one permission limited to one purpose (一场景一授权)."""
    policy: dict[str, Any] = {
        "@type": "Offer",
        "permission": [
            {
                "action": action,
                "constraint": [
                    {"leftOperand": "purpose", "operator": "eq", "rightOperand": purpose}
                ],
            }
        ],
    }
    policy.update(extra)
    return policy


def resource_body(**overrides: Any) -> dict[str, Any]:
    """A general-data resource: enterprise registrations held by the market regulator."""
    n = next(_counter)
    body: dict[str, Any] = {
        "title": f"企业登记信息（第{n}批）",
        "title_en": f"Enterprise registrations, batch {n}",
        "description": "东瓯市市场主体登记信息：统一社会信用代码、企业名称、所属行业与区县、"
        "注册资本与成立日期，每日更新。",
        "description_en": "Registered market entities of Dong'ou: credit code, name, industry, "
        "district, registered capital and founding date; updated daily.",
        "fields": [
            field("uscc", "string", "统一社会信用代码", role="identifier"),
            field("name", "string", "企业名称"),
            field("industry_code", "string", "国民经济行业分类代码", role="dimension"),
            field("district", "string", "所属区县", role="dimension"),
            field("registered_capital_fen", "integer", "注册资本（分）", role="measure"),
            field("established_on", "date", "成立日期"),
        ],
        "source": "市场主体登记系统",
        "legal_basis": "《企业信息公示暂行条例》第六条",
        "update_frequency": "daily",
        "regions": [REGION],
        "temporal_start": "2015-01-01",
        "temporal_end": "2025-12-31",
        "tags": ["企业登记", "市场主体"],
        "industry": "L72",
        "classification": "general",
        "location": {"type": "sql", "table": "samr.enterprise_registry"},
    }
    body.update(overrides)
    return body


def tax_resource_body(**overrides: Any) -> dict[str, Any]:
    """Important data (重要数据) of the tax bureau: credit grades and invoice totals."""
    return resource_body(
        **{
            "title": f"纳税信用等级与发票汇总（{next(_counter)}）",
            "title_en": "Tax credit grade and invoice totals",
            "description": "国家税务总局东瓯市税务局提供的企业纳税信用等级（A/B/M/C/D）"
            "与月度增值税发票开具金额，仅供隐私计算。",
            "description_en": "Enterprise tax credit grades and monthly VAT invoice totals.",
            "fields": [
                field("uscc", "string", "统一社会信用代码", role="identifier"),
                field("credit_grade", "string", "纳税信用等级", role="dimension"),
                field("invoice_total_fen", "integer", "月度开票金额（分）", role="measure"),
            ],
            "source": "金税系统",
            "update_frequency": "monthly",
            "tags": ["税务", "纳税信用"],
            "industry": "S92",
            "classification": "important",
            "location": {"type": "http", "url": "https://etax.example.cn/api/credit"},
            **overrides,
        }
    )


def medical_resource_body(**overrides: Any) -> dict[str, Any]:
    """Sensitive personal information (敏感个人信息): settled medical expenses."""
    return resource_body(
        **{
            "title": f"意外伤害医疗费用结算（{next(_counter)}）",
            "title_en": "Settled medical expenses of accident victims",
            "description": "交通事故伤者的医保结算记录：身份证号、就诊机构、结算日期与医疗费用。",
            "description_en": None,
            "fields": [
                field(
                    "resident_id",
                    "string",
                    "居民身份证号码",
                    role="identifier",
                    sensitivity="sensitive_personal",
                ),
                field("hospital", "string", "就诊机构", role="dimension"),
                field("amount_fen", "integer", "医疗费用（分）", role="measure"),
            ],
            "source": "医保结算系统",
            "legal_basis": "《个人信息保护法》第十三条第一款第（二）项，并经被保险人授权",
            "personal_info": True,
            "sensitive_personal_info": True,
            "tags": ["医保", "车险理赔"],
            "industry": "Q84",
            "classification": "important",
            "location": {
                "type": "file",
                "path": "/data/ybj/settlements.parquet",
                "format": "parquet",
            },
            **overrides,
        }
    )


def core_resource_body(**overrides: Any) -> dict[str, Any]:
    """Core data (核心数据): registered, never listed, never shown to consumers."""
    return resource_body(
        **{
            "title": f"重点车辆实时轨迹（{next(_counter)}）",
            "title_en": "Real-time tracks of key vehicles",
            "description": "危险品运输等重点车辆的实时定位轨迹，属核心数据，仅登记不开放。",
            "description_en": None,
            "fields": [
                field("plate", "string", "车牌号", role="identifier"),
                field("lat", "decimal", "纬度"),
                field("lng", "decimal", "经度"),
            ],
            "source": "重点车辆监管平台",
            "legal_basis": None,
            "update_frequency": "realtime",
            "tags": ["车辆轨迹"],
            "industry": "S92",
            "classification": "core",
            "location": {"type": "sql", "table": "police.vehicle_tracks"},
            **overrides,
        }
    )


def product_body(resources: list[uuid.UUID | str], **overrides: Any) -> dict[str, Any]:
    """A dataset product that passes every automatic listing check."""
    n = next(_counter)
    body: dict[str, Any] = {
        "kind": "dataset",
        "title": f"企业登记数据集（第{n}期）",
        "title_en": f"Enterprise registrations dataset, issue {n}",
        "description": "面向金融机构的企业登记数据集，按日更新，经连接器按合约交付，"
        "用于小微企业信贷风险评估。",
        "description_en": "Enterprise registrations for banks, delivered daily by connector.",
        "resources": [str(r) for r in resources],
        "policy": offer(),
        "price": {"model": "subscription", "amount_fen": 500000, "period": "year"},
        "tags": ["企业登记", "普惠金融"],
    }
    body.update(overrides)
    return body
