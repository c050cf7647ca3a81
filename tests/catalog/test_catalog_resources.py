"""Resource registration (资源登记): what a provider describes, versions, who sees what.

Core data (核心数据) is shown only to its provider and to oversight (operator, regulator);
a resource's location only to its provider, the operator and the regulator.
"""

from __future__ import annotations

from catalog_factories import (
    core_resource_body,
    medical_resource_body,
    resource_body,
    tax_resource_body,
)
from catalog_support import RESOURCES, Client, assert_problem, draft, register

from conftest import shared
from factories import Member

# One database per module and backend (see conftest.py): every test looks only at its own data.
client, provider, other_provider, consumer, operator, regulator = shared(
    "client", "provider", "other_provider", "consumer", "operator", "regulator"
)


def test_a_provider_registers_a_resource_with_everything_a_catalog_needs(
    client: Client, provider: Member
) -> None:
    body = tax_resource_body(
        regions=["330302", "330303"],
        temporal_start="2020-01-01",
        temporal_end="2025-06-30",
        personal_info=False,
        sensitive_personal_info=False,
        location={"type": "http", "url": "https://etax.example.cn/api/credit", "method": "GET"},
    )

    created = register(client, provider, body)

    assert created["version"] == created["latest_version"] == 1
    assert created["provider_id"] == str(provider.id)
    assert created["status"] == "active"
    for key in (
        "title",
        "title_en",
        "description",
        "description_en",
        "source",
        "legal_basis",
        "update_frequency",
        "regions",
        "temporal_start",
        "temporal_end",
        "industry",
        "classification",
        "personal_info",
        "sensitive_personal_info",
        "location",
    ):
        assert created[key] == body[key], key
    assert created["tags"] == sorted(body["tags"])
    assert created["fields"] == body["fields"]
    assert client.get(f"{RESOURCES}/{created['id']}", headers=provider.headers).json() == created


def test_english_title_and_description_are_optional(client: Client, provider: Member) -> None:
    created = register(client, provider, resource_body(title_en=None, description_en=None))

    assert created["title_en"] is None and created["description_en"] is None


def test_field_defaults_are_a_general_attribute(client: Client, provider: Member) -> None:
    created = register(client, provider, resource_body(fields=[{"name": "uscc", "type": "string"}]))

    assert created["fields"] == [
        {
            "name": "uscc",
            "type": "string",
            "description": "",
            "sensitivity": "general",
            "role": "attribute",
        }
    ]


def test_a_resource_lives_in_a_file_a_table_or_behind_an_http_api(
    client: Client, provider: Member
) -> None:
    locations = [
        {"type": "file", "path": "/data/mes/reels.parquet", "format": "parquet"},
        {"type": "sql", "table": "grid.monthly_usage", "connection": "grid-replica"},
        {"type": "http", "url": "https://ybj.example.cn/api/settlements", "method": "POST"},
    ]

    for location in locations:
        created = register(client, provider, resource_body(location=location))
        assert created["location"] == location


def test_personal_and_sensitive_personal_information_are_flagged(
    client: Client, provider: Member
) -> None:
    created = register(client, provider, medical_resource_body())

    assert created["personal_info"] and created["sensitive_personal_info"]
    assert created["fields"][0]["sensitivity"] == "sensitive_personal"


def test_only_providers_register_resources(client: Client, consumer: Member) -> None:
    response = client.post(f"{RESOURCES}/", json=resource_body(), headers=consumer.headers)

    assert_problem(response, 403, "role.forbidden")


# --- versions -----------------------------------------------------------------------------


def test_a_revision_is_a_new_version_and_the_old_one_stays_readable(
    client: Client, provider: Member, consumer: Member
) -> None:
    first = register(client, provider, resource_body(title="企业登记信息"))
    revised_body = resource_body(title="企业登记信息（含注销企业）", update_frequency="realtime")

    response = client.put(f"{RESOURCES}/{first['id']}", json=revised_body, headers=provider.headers)

    assert response.status_code == 200, response.text
    revised = response.json()
    assert (revised["id"], revised["version"], revised["latest_version"]) == (first["id"], 2, 2)
    current = client.get(f"{RESOURCES}/{first['id']}", headers=consumer.headers).json()
    assert (current["title"], current["update_frequency"]) == (
        "企业登记信息（含注销企业）",
        "realtime",
    )
    old = client.get(f"{RESOURCES}/{first['id']}?version=1", headers=consumer.headers).json()
    assert (old["version"], old["latest_version"], old["title"]) == (1, 2, "企业登记信息")
    assert old["update_frequency"] == "daily"
    listing = client.get(f"{RESOURCES}/{first['id']}/versions", headers=consumer.headers).json()
    assert [(v["version"], v["title"]) for v in listing] == [
        (1, "企业登记信息"),
        (2, "企业登记信息（含注销企业）"),
    ]
    assert {v["created_by"] for v in listing} == {f"participant:{provider.id}"}


def test_a_product_keeps_the_version_it_was_made_from(
    client: Client, provider: Member, operator: Member
) -> None:
    resource = register(client, provider, resource_body(title="企业登记信息"))
    product = draft(client, provider, [resource["id"]])
    client.put(
        f"{RESOURCES}/{resource['id']}",
        json=resource_body(title="企业登记信息（第二版）"),
        headers=provider.headers,
    )

    shown = client.get(f"/api/v1/catalog/products/{product['id']}", headers=provider.headers)
    lineage = client.get(
        f"/api/v1/catalog/products/{product['id']}/lineage", headers=operator.headers
    )

    pinned = {"resource_id": resource["id"], "resource_version": 1, "title": "企业登记信息"}
    assert [{k: s[k] for k in pinned} for s in shown.json()["sources"]] == [pinned]
    assert [{k: s[k] for k in pinned} for s in lineage.json()["sources"]] == [pinned]


def test_a_version_that_does_not_exist_is_not_found(client: Client, provider: Member) -> None:
    resource = register(client, provider)

    response = client.get(f"{RESOURCES}/{resource['id']}?version=2", headers=provider.headers)

    assert_problem(response, 404, "resource.version_not_found", "version")


def test_only_the_provider_revises_its_resource(
    client: Client, provider: Member, other_provider: Member
) -> None:
    resource = register(client, provider)

    response = client.put(
        f"{RESOURCES}/{resource['id']}", json=resource_body(), headers=other_provider.headers
    )

    assert_problem(response, 403, "resource.not_owner")
    assert (
        client.get(f"{RESOURCES}/{resource['id']}", headers=provider.headers).json()[
            "latest_version"
        ]
        == 1
    )


# --- who sees what -------------------------------------------------------------------------


def test_core_data_is_shown_only_to_its_provider_and_to_oversight(  # noqa: PLR0917 - pytest passes fixtures by name
    client: Client,
    provider: Member,
    other_provider: Member,
    consumer: Member,
    operator: Member,
    regulator: Member,
) -> None:
    core = register(client, provider, core_resource_body())
    url = f"{RESOURCES}/{core['id']}"

    for member in (provider, operator, regulator):
        assert client.get(url, headers=member.headers).status_code == 200
    for member in (consumer, other_provider):
        for path in ("", "?version=1", "/versions", "/lineage"):
            assert_problem(
                client.get(url + path, headers=member.headers), 404, "resource.not_found"
            )


def test_the_location_is_shown_only_to_the_provider_the_operator_and_the_regulator(  # noqa: PLR0917 - pytest passes fixtures by name
    client: Client,
    provider: Member,
    other_provider: Member,
    consumer: Member,
    operator: Member,
    regulator: Member,
) -> None:
    resource = register(client, provider, resource_body())
    url = f"{RESOURCES}/{resource['id']}"

    for member in (provider, operator, regulator):
        assert client.get(url, headers=member.headers).json()["location"] == resource["location"]
    for member in (consumer, other_provider):
        shown = client.get(url, headers=member.headers).json()
        assert shown["location"] is None
        assert shown["title"] == resource["title"]


def test_a_resource_reclassified_as_core_data_disappears_with_all_its_versions(
    client: Client, provider: Member, consumer: Member
) -> None:
    resource = register(client, provider, resource_body(title="危险品运输车辆登记"))
    client.put(
        f"{RESOURCES}/{resource['id']}",
        json=resource_body(title="危险品运输车辆登记", classification="core"),
        headers=provider.headers,
    )

    old = client.get(f"{RESOURCES}/{resource['id']}?version=1", headers=consumer.headers)

    assert_problem(old, 404, "resource.not_found")
