"""Lineage both ways (数据血缘): a product's source resources at their pinned versions, and
the products made from a resource, as far as the viewer may see them."""

from __future__ import annotations

from catalog_factories import product_body, resource_body
from catalog_support import (
    PRODUCTS,
    RESOURCES,
    Client,
    draft,
    found,
    listed,
    register,
    submit,
)

from conftest import shared
from factories import Member

# One database per module and backend (see conftest.py): every test looks only at its own data.
client, provider, other_provider, consumer, operator, regulator = shared(
    "client", "provider", "other_provider", "consumer", "operator", "regulator"
)


def sources(client: Client, member: Member, product_id: str) -> list[tuple[str, int, str]]:
    response = client.get(f"{PRODUCTS}/{product_id}/lineage", headers=member.headers)
    assert response.status_code == 200, response.text
    lineage = response.json()
    assert lineage["id"] == product_id and lineage["products"] == []
    return [(s["resource_id"], s["resource_version"], s["title"]) for s in lineage["sources"]]


def products_of(client: Client, member: Member, resource_id: str) -> list[str]:
    response = client.get(f"{RESOURCES}/{resource_id}/lineage", headers=member.headers)
    assert response.status_code == 200, response.text
    lineage = response.json()
    assert lineage["id"] == resource_id and lineage["sources"] == []
    return list(lineage["products"])


def test_a_product_shows_its_sources_at_the_versions_it_was_made_from(
    client: Client, provider: Member, operator: Member, consumer: Member
) -> None:
    registrations = register(client, provider, resource_body(title="企业登记信息"))
    penalties = register(client, provider, resource_body(title="行政处罚信息"))
    product = listed(client, provider, operator, [registrations["id"], penalties["id"]])
    client.put(
        f"{RESOURCES}/{registrations['id']}",
        json=resource_body(title="企业登记信息（含注销）"),
        headers=provider.headers,
    )

    expected = sorted(
        [(registrations["id"], 1, "企业登记信息"), (penalties["id"], 1, "行政处罚信息")],
        key=lambda s: s[2],
    )
    assert sources(client, consumer, product["id"]) == expected


def test_editing_a_product_pins_the_current_versions(client: Client, provider: Member) -> None:
    resource = register(client, provider, resource_body(title="企业登记信息"))
    product = draft(client, provider, [resource["id"]])
    client.put(
        f"{RESOURCES}/{resource['id']}",
        json=resource_body(title="企业登记信息（第二版）"),
        headers=provider.headers,
    )
    assert sources(client, provider, product["id"]) == [(resource["id"], 1, "企业登记信息")]

    client.put(
        f"{PRODUCTS}/{product['id']}",
        json=product_body([resource["id"]]),
        headers=provider.headers,
    )

    assert sources(client, provider, product["id"]) == [
        (resource["id"], 2, "企业登记信息（第二版）")
    ]


def test_a_resource_shows_the_products_the_viewer_may_see(  # noqa: PLR0917 - pytest passes fixtures by name
    client: Client,
    provider: Member,
    other_provider: Member,
    consumer: Member,
    operator: Member,
    regulator: Member,
) -> None:
    resource = register(client, provider)
    on_sale = listed(client, provider, operator, [resource["id"]])["id"]
    in_draft = draft(client, provider, [resource["id"]])["id"]
    in_review = draft(client, provider, [resource["id"]])["id"]
    submit(client, provider, in_review)
    taken_down = listed(client, provider, operator, [resource["id"]])["id"]
    client.post(f"{PRODUCTS}/{taken_down}/delist", headers=operator.headers)
    unrelated = register(client, provider)
    listed(client, provider, operator, [unrelated["id"]])

    everything = sorted([on_sale, in_draft, in_review, taken_down])
    for member in (provider, operator, regulator):
        assert products_of(client, member, resource["id"]) == everything
    for member in (consumer, other_provider):
        assert products_of(client, member, resource["id"]) == [on_sale]


def test_a_resource_no_product_uses_has_an_empty_lineage(
    client: Client, provider: Member, consumer: Member
) -> None:
    resource = register(client, provider)

    assert products_of(client, consumer, resource["id"]) == []


# --- what a product inherits from its sources in the search ---------------------------------


def test_a_product_inherits_its_sources_classification_industry_and_region(
    client: Client, provider: Member, operator: Member, consumer: Member
) -> None:
    general = register(client, provider, resource_body(industry="L72", regions=["330302"]))
    important = register(
        client,
        provider,
        resource_body(classification="important", industry="L72", regions=["330302"]),
    )
    product = listed(client, provider, operator, [general["id"], important["id"]], tags=["继承"])

    page = client.get(
        "/api/v1/catalog/search", params={"tag": "继承"}, headers=consumer.headers
    ).json()

    [hit] = page["items"]
    assert hit["id"] == product["id"]
    assert (hit["classification"], hit["industry"], hit["region"]) == ("important", "L72", "330302")


def test_entries_are_found_under_every_industry_and_region_of_their_sources(
    client: Client, provider: Member, operator: Member, consumer: Member
) -> None:
    tag = {"tag": "多来源"}
    registrations = register(
        client, provider, resource_body(industry="L72", regions=["330302"], tags=["多来源"])
    )
    penalties = register(
        client,
        provider,
        resource_body(industry="S92", regions=["330302", "330303"], tags=["多来源"]),
    )
    product = listed(
        client, provider, operator, [registrations["id"], penalties["id"]], tags=["多来源"]
    )["id"]

    assert product in found(client, consumer, industry="L", **tag)
    assert product in found(client, consumer, industry="S", **tag)
    assert penalties["id"] in found(client, consumer, region="330303", **tag)
    assert product in found(client, consumer, region="330303", **tag)
