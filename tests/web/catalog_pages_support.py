"""Helpers of the catalog page tests: form bodies, row counts, the demo catalogue, links."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

import factories
from shuchang.demo_catalog import PRODUCTS, RESOURCES, seed_catalog
from shuchang.domains.catalog.models import Product, Resource, ResourceVersion
from shuchang.platform import Platform

Form = dict[str, str | list[str]]


def resource_form(**overrides: str | list[str]) -> Form:
    """The register form as a provider fills it in: two fields, a third row left blank."""
    fields: Form = {
        "title": "小微企业贷款与逾期记录",
        "title_en": "Small-business loans and arrears",
        "description": (
            "东瓯农商银行的小微企业贷款发放、还款与逾期记录，按月更新，用于信贷风险联合建模。"
        ),
        "fields-0-name": "uscc",
        "fields-0-type": "string",
        "fields-0-description": "统一社会信用代码",
        "fields-0-sensitivity": "general",
        "fields-0-role": "identifier",
        "fields-1-name": "overdue_days",
        "fields-1-type": "integer",
        "fields-1-description": "逾期天数",
        "fields-1-sensitivity": "general",
        "fields-1-role": "measure",
        "fields-2-name": "",
        "fields-2-type": "string",
        "fields-2-description": "",
        "fields-2-sensitivity": "general",
        "fields-2-role": "attribute",
        "source": "信贷管理系统",
        "update_frequency": "monthly",
        "industry": "J66",
        "classification": "general",
        "regions": "330300",
        "tags": "信贷，普惠金融",
        "location_type": "sql",
        "location_table": "bank.loans",
        "location_connection": "default",
    }
    fields.update(overrides)
    return fields


def product_form(resource_id: uuid.UUID | str, **overrides: str | list[str]) -> Form:
    """The build form with the offer made by the builder, saved and submitted at once."""
    fields: Form = {
        "resources": str(resource_id),
        "kind": "dataset",
        "title": "小微企业信贷风险数据集",
        "title_en": "Small-business credit risk dataset",
        "description": "面向金融机构的小微企业贷款与逾期数据集，按月更新，经连接器按合约交付。",
        "tags": "信贷 普惠金融",
        "price_model": "subscription",
        "price_amount": "5,000",
        "price_period": "year",
        "policy_action": "use",
        "policy_purpose": "小微企业信贷风险评估",
        "policy_max_uses": "10000",
        "policy_recipient_roles": "consumer",
        "policy_json": "",
        "then": "submit",
    }
    fields.update(overrides)
    return fields


def count(platform: Platform, model: type[Any]) -> int:
    with platform.unit(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def catalog_rows(platform: Platform) -> tuple[int, int, int]:
    return count(platform, Resource), count(platform, ResourceVersion), count(platform, Product)


def seed_demo(platform: Platform) -> None:
    """The demo region's catalogue (S1–S4): its providers, resources and products."""
    owners = {owner for owner, _ in RESOURCES.values()} | {p[0] for p in PRODUCTS}
    members = {
        owner: factories.participant(
            platform, kind="government", roles=("provider",), name=owner
        ).id
        for owner in sorted(owners)
    }
    with platform.unit() as s:
        seed_catalog(s, members, platform.settings.reviewers)


def link(page: httpx.Response, pattern: str) -> str:
    """The first href whose anchor matches ``pattern`` (unescaped, ready to GET)."""
    found = re.search(pattern, page.text, re.S)
    assert found, f"no link matching {pattern}"
    return html.unescape(found.group(1))


def results(page: httpx.Response) -> list[str]:
    """The titles of the search result cards, in order."""
    return [
        html.unescape(t)
        for t in re.findall(
            r'<article class="result card"[^>]*>.*?<h2><a [^>]*>([^<]*)</a>', page.text, re.S
        )
    ]


def offer_text(page: httpx.Response) -> list[str]:
    return [
        html.unescape(t)
        for t in re.findall(r'<dl class="offer">.*?<dd>([^<]*)</dd>', page.text, re.S)
    ]
