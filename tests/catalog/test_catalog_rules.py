"""Automatic listing checks (上架自动审核): a product that breaks a rule is returned at once,
with every reason under its stable code, and never reaches a reviewer or the search."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from catalog_factories import (
    core_resource_body,
    field,
    medical_resource_body,
    offer,
    product_body,
    resource_body,
)
from catalog_support import PRODUCTS, Client, assert_problem, draft, found, register, submit
from sqlalchemy import update

from conftest import shared
from factories import Member
from shuchang.domains.catalog import rules
from shuchang.domains.catalog.models import Resource, ResourceVersion
from shuchang.domains.catalog.schemas import Price
from shuchang.platform import Platform

# One database per module and backend (see conftest.py): every test looks only at its own data.
client, platform, provider, consumer = shared("client", "platform", "provider", "consumer")

Setup = Callable[[Client, Member], tuple[list[str], dict[str, Any]]]


def plain(**product: Any) -> Setup:
    """A general-data source and a product with these changes."""
    return lambda client, provider: ([register(client, provider)["id"]], product)


def source(body: Callable[[], dict[str, Any]], **product: Any) -> Setup:
    return lambda client, provider: ([register(client, provider, body())["id"]], product)


CASES: dict[str, tuple[Setup, str]] = {
    "description too thin": (plain(description="企业登记数据。"), "listing.metadata"),
    "no tags": (plain(tags=[]), "listing.metadata"),
    "free but priced": (plain(price={"model": "free", "amount_fen": 100}), "listing.price"),
    "priced at 0": (plain(price={"model": "one_off", "amount_fen": 0}), "listing.price"),
    "subscription without period": (
        plain(price={"model": "subscription", "amount_fen": 1000}),
        "listing.price",
    ),
    "per call with a period": (
        plain(price={"model": "per_call", "amount_fen": 10, "period": "month"}),
        "listing.price",
    ),
    "data element without transformation": (plain(kind="data_element"), "listing.transformation"),
    "personal information without legal basis": (
        source(
            lambda: resource_body(
                title="道路交通事故记录",
                fields=[field("party_name", "string", "当事人姓名", sensitivity="personal")],
                personal_info=True,
                legal_basis=None,
            )
        ),
        "listing.legal_basis",
    ),
    "sensitive personal information as a dataset": (
        source(medical_resource_body),
        "listing.compute_only",
    ),
    "sensitive personal information as an API": (
        source(medical_resource_body, kind="api"),
        "listing.compute_only",
    ),
}


@pytest.mark.parametrize(("setup", "code"), CASES.values(), ids=CASES.keys())
def test_a_product_breaking_a_rule_is_returned_with_its_reason(
    client: Client, provider: Member, consumer: Member, setup: Setup, code: str
) -> None:
    resources, changes = setup(client, provider)
    product = draft(client, provider, resources, **changes)

    result = submit(client, provider, product["id"])

    assert result["status"] == "returned"
    assert [r["code"] for r in result["review_reasons"]] == [code]
    assert all(r["message_zh"] and r["message_en"] for r in result["review_reasons"])
    queue = client.get("/api/v1/catalog/review-queue", headers=provider.headers)
    assert queue.status_code == 403  # providers do not see the queue; the product is not in it
    assert product["id"] not in found(client, consumer, type="product")


def test_core_data_is_refused_already_as_a_draft(client: Client, provider: Member) -> None:
    core = register(client, provider, core_resource_body())

    response = client.post(
        f"{PRODUCTS}/", json=product_body([core["id"]]), headers=provider.headers
    )

    assert_problem(response, 422, "product.core_data", "resources[0]")


def mark_core(platform: Platform, resource_id: str) -> None:
    """Make the stored version core data behind the API's back (a draft over core data is
    refused at once, see above); the listing check reads the column and must still say so."""
    with platform.unit() as s:
        s.execute(
            update(ResourceVersion)
            .where(ResourceVersion.resource_id == uuid.UUID(resource_id))
            .values(classification="core")
        )


def test_a_product_over_core_data_is_returned_with_its_reason(
    client: Client, provider: Member, consumer: Member, platform: Platform
) -> None:
    resource = register(client, provider, core_resource_body(classification="general"))
    product = draft(client, provider, [resource["id"]])
    mark_core(platform, resource["id"])

    result = submit(client, provider, product["id"])

    assert result["status"] == "returned"
    assert [r["code"] for r in result["review_reasons"]] == ["listing.core_data"]
    assert all(r["message_zh"] and r["message_en"] for r in result["review_reasons"])
    queue = client.get("/api/v1/catalog/review-queue", headers=provider.headers)
    assert queue.status_code == 403  # providers do not see the queue; the product is not in it
    assert product["id"] not in found(client, consumer, type="product")


def test_sensitive_personal_information_is_listed_as_compute_only(
    client: Client, provider: Member
) -> None:
    resource = register(client, provider, medical_resource_body())
    product = draft(
        client,
        provider,
        [resource["id"]],
        kind="compute_only",
        title="人伤医疗费用核验",
        policy=offer("compute", "车险人伤理赔核验"),
        price={"model": "per_call", "amount_fen": 50},
    )

    assert submit(client, provider, product["id"])["status"] == "submitted"


def test_every_failing_check_is_reported_at_once(
    client: Client, provider: Member, platform: Platform
) -> None:
    core = register(
        client, provider, core_resource_body(title="重点车辆实时轨迹", classification="general")
    )
    medical = register(client, provider, medical_resource_body(legal_basis=None))
    product = draft(
        client,
        provider,
        [core["id"], medical["id"]],
        kind="data_element",
        description="太短",
        tags=[],
        price={"model": "free", "amount_fen": 1},
    )
    mark_core(platform, core["id"])  # core data is refused at draft; see mark_core

    result = submit(client, provider, product["id"])

    assert sorted(r["code"] for r in result["review_reasons"]) == sorted(
        [
            "listing.metadata",
            "listing.metadata",
            "listing.price",
            "listing.transformation",
            "listing.core_data",
            "listing.legal_basis",
            "listing.compute_only",
        ]
    )
    core_reason = next(r for r in result["review_reasons"] if r["code"] == "listing.core_data")
    assert "重点车辆实时轨迹" in core_reason["message_zh"]


def test_a_retired_source_stops_a_listing(
    client: Client, provider: Member, platform: Platform
) -> None:
    resource = register(client, provider)
    product = draft(client, provider, [resource["id"]])
    # Nothing in the API retires a resource yet; the column is what the check reads.
    with platform.unit() as s:
        s.execute(
            update(Resource)
            .where(Resource.id == uuid.UUID(resource["id"]))
            .values(status="retired")
        )

    result = submit(client, provider, product["id"])

    assert [r["code"] for r in result["review_reasons"]] == ["listing.source_retired"]


def test_a_returned_product_that_is_fixed_passes(client: Client, provider: Member) -> None:
    resource = register(client, provider)
    product = draft(client, provider, [resource["id"]], tags=[])
    assert submit(client, provider, product["id"])["status"] == "returned"

    client.put(
        f"{PRODUCTS}/{product['id']}",
        json={**product_fields(product), "tags": ["企业登记"]},
        headers=provider.headers,
    )

    fixed = submit(client, provider, product["id"])
    assert (fixed["status"], fixed["review_reasons"]) == ("submitted", [])


def product_fields(product: dict[str, Any]) -> dict[str, Any]:
    """The editable part of a product as returned by the API."""
    keys = ("kind", "title", "title_en", "description", "description_en", "policy", "tags")
    body = {k: product[k] for k in keys}
    body["price"] = {k: v for k, v in product["price"].items() if v is not None}
    body["resources"] = [s["resource_id"] for s in product["sources"]]
    return body


def test_a_malformed_stored_policy_is_a_listing_policy_reason() -> None:
    # The API refuses such policies on create and edit; the check guards what is stored.
    reasons = rules.check(
        kind="dataset",
        description="面向金融机构的企业登记数据集，按日更新。",
        tags=["企业登记"],
        policy={"@type": "Offer", "permission": [{"action": "sell"}]},
        price=Price(model="free"),
        transformation=None,
        sources=[],
    )

    assert [r.code for r in reasons] == ["listing.policy"]
    assert "permission[0].action" in reasons[0].message_en
