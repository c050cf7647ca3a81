"""Helpers the DSP catalog and DCAT tests share: the DSP 2025-1 schemas, an app with the DSP
routes, and listed (or not) products made through the real catalog services.

Plain functions, not fixtures, so each test reads top to bottom.
"""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
from jsonschema import Draft201909Validator
from litestar.testing import TestClient
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT201909

import factories
from shuchang.app import create_app
from shuchang.domains.catalog import dsp_api, products, resources
from shuchang.domains.catalog.schemas import ProductIn, ResourceIn, ReviewDecision
from shuchang.domains.participants import Actor
from shuchang.domains.participants.keys import add_connector
from shuchang.domains.participants.schemas import AddConnector
from shuchang.platform import Platform
from shuchang.ports import Ed25519Signer

# CI lays shared/ beside the repository clone.
DSP = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "fixtures"
    / "dsp"
    / "2025-1"
    / "artifacts"
    / "src"
    / "main"
    / "resources"
)
CATALOG = DSP / "catalog"
Client = TestClient  # type: ignore[type-arg]
_names = itertools.count(1)


# ---- schemas ---------------------------------------------------------------------------------


def _load_schema(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.parent.name == "transfer":
        # Known defect (shared/fixtures/README.md): three transfer schemas write
        # `transfer-schema.json#definitions/...` without the slash; jsonschema rejects that.
        text = text.replace("#definitions/", "#/definitions/")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def registry() -> Registry[Any]:
    """Every 2025-1 schema file under its ``$id``, so cross-file ``$ref``s resolve offline."""
    resources_ = [
        Resource.from_contents(_load_schema(p), default_specification=DRAFT201909)
        for p in sorted(DSP.glob("*/*-schema.json"))
    ]
    return Registry().with_resources((r.id(), r) for r in resources_ if r.id())


def validator(schema_file: str) -> Draft201909Validator:
    """A Draft 2019-09 validator for ``catalog/catalog-schema.json`` and the like."""
    schema = _load_schema(DSP / schema_file)
    Draft201909Validator.check_schema(schema)
    return Draft201909Validator(schema, registry=registry())


def assert_valid(instance: Any, schema_file: str) -> None:
    errors = sorted(validator(schema_file).iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def example(name: str) -> Any:
    return json.loads((CATALOG / "example" / name).read_text(encoding="utf-8"))


# ---- the app --------------------------------------------------------------------------------


@contextmanager
def open_client(platform: Platform) -> Iterator[Client]:
    """The real app; the DSP routes are added here until ``create_app`` wires them itself."""
    app = create_app(platform.settings, platform)
    if not any(route.path == "/dsp/catalog/request" for route in app.routes):
        for handler in dsp_api.ROUTES:
            app.register(handler)
    with TestClient(app) as client:
        yield client


def catalog_request(filters: list[Any] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
        "@type": "CatalogRequestMessage",
    }
    if filters is not None:
        message["filter"] = filters
    return message


# ---- data -----------------------------------------------------------------------------------


def as_actor(member: factories.Member, role: str) -> Actor:
    return Actor(participant_id=member.id, role=role)  # type: ignore[arg-type]


def new_provider(platform: Platform, name: str | None = None) -> factories.Member:
    return factories.participant(platform, roles=("provider",), name=name)


def connector(platform: Platform, member: factories.Member, url: str) -> str:
    """Register a connector for ``member``; its DataService ``@id``."""
    key = base64.b64encode(Ed25519Signer().public_key()).decode()
    with platform.unit() as s:
        out = add_connector(
            s,
            as_actor(member, "provider"),
            member.id,
            AddConnector(url=url, public_key=key, label="主连接器"),
        )
    return f"urn:uuid:{out.id}"


def resource_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": f"企业用电月度汇总{next(_names)}",
        "title_en": "Monthly electricity use by enterprise",
        "description": "按企业统计的月度用电量，来自电网营销系统，按月更新。",
        "fields": [
            {"name": "uscc", "type": "string", "role": "identifier"},
            {"name": "month", "type": "date", "role": "dimension"},
            {"name": "kwh", "type": "decimal", "role": "measure"},
        ],
        "source": "国网温州供电公司营销系统",
        "update_frequency": "monthly",
        "industry": "D44",
        "classification": "general",
        "regions": ["330302"],
        "tags": ["用电", "企业"],
        "location": {"type": "sql", "table": "secret_schema.power_usage"},
    }
    body.update(overrides)
    return body


OFFER = {
    "@type": "Offer",
    "permission": [
        {
            "action": "use",
            "constraint": [
                {
                    "leftOperand": "purpose",
                    "operator": "eq",
                    "rightOperand": "小微企业信贷风险评估",
                },
                {"leftOperand": "recipientRole", "operator": "eq", "rightOperand": "consumer"},
            ],
        }
    ],
}


def product_body(resource_id: uuid.UUID, kind: str = "dataset", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": kind,
        "title": f"企业用电指数{next(_names)}",
        "title_en": "Enterprise electricity index",
        "description": "以企业月度用电量计算的经营活跃度指数，可用于小微企业信贷风险评估。",
        "description_en": "Business activity index computed from monthly electricity use.",
        "resources": [str(resource_id)],
        "policy": OFFER,
        "price": {"model": "one_off", "amount_fen": 50000},
        "tags": ["用电", "信贷"],
    }
    if kind == "data_element":
        body["transformation"] = "按企业聚合到月，去除户号与地址，k≥10 的分组才输出。"
    body.update(overrides)
    return body


def make_product(
    platform: Platform,
    owner: factories.Member,
    reviewer: factories.Member,
    *,
    status: str = "listed",
    kind: str = "dataset",
    resource: dict[str, Any] | None = None,
    **overrides: Any,
) -> uuid.UUID:
    """A product of ``owner`` taken through the real lifecycle up to ``status``."""
    actor, operator = as_actor(owner, "provider"), as_actor(reviewer, "operator")
    with platform.unit() as s:
        registered = resources.register(
            s, actor, msgspec.convert(resource or resource_body(), ResourceIn)
        )
        data = msgspec.convert(product_body(registered.id, kind, **overrides), ProductIn)
        product = products.create(s, actor, data)
        if status == "draft":
            return product.id
        products.submit(s, actor, product.id)
        if status == "submitted":
            return product.id
        decision = (
            ReviewDecision("return", ["描述不够具体"])
            if status == "returned"
            else ReviewDecision("approve")
        )
        products.review(s, operator, product.id, decision, ("operator",))
        if status == "delisted":
            products.delist(s, actor, product.id, "数据源调整")
    return product.id


def relist(
    platform: Platform,
    owner: factories.Member,
    reviewer: factories.Member,
    product_id: uuid.UUID,
    policy: dict[str, Any],
) -> None:
    """Edit a delisted product's offer and take it through review again."""
    actor = as_actor(owner, "provider")
    with platform.unit() as s:
        (source,) = products.get(s, actor, product_id).sources
        data = msgspec.convert(product_body(source.resource_id, policy=policy), ProductIn)
        products.update(s, actor, product_id, data)
        products.submit(s, actor, product_id)
        approve = ReviewDecision("approve")
        products.review(s, as_actor(reviewer, "operator"), product_id, approve, ("operator",))


def delist(platform: Platform, owner: factories.Member, product_id: uuid.UUID) -> None:
    with platform.unit() as s:
        products.delist(s, as_actor(owner, "provider"), product_id, None)


def urn_of(member: factories.Member) -> str:
    """An organisation's participantId, as contract agreements name it (its USCC)."""
    return f"urn:uscc:{member.identifier}"


def bearer(member: factories.Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {member.api_key}"}


def datasets(catalog: dict[str, Any]) -> list[dict[str, Any]]:
    """Every dataset of a catalog, nested catalogs included."""
    found = list(catalog.get("dataset", []))
    for nested in catalog.get("catalog", []):
        found += datasets(nested)
    return found


def dataset_ids(catalog: dict[str, Any]) -> set[str]:
    return {d["@id"] for d in datasets(catalog)}
