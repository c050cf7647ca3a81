"""The DSP 2025-1 catalog over HTTPS: what a participant's connector sees, and only that.

Every response body is validated against the spec's JSON schemas (Draft 2019-09).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from dsp_support import (
    OFFER,
    Client,
    assert_valid,
    bearer,
    catalog_request,
    connector,
    dataset_ids,
    datasets,
    delist,
    example,
    make_product,
    new_provider,
    open_client,
    relist,
    resource_body,
    urn_of,
)

import factories
from shuchang.domains.participants import SYSTEM, find, participant_urn, service
from shuchang.domains.participants.schemas import StatusChange
from shuchang.platform import Platform

CATALOG_SCHEMA = "catalog/catalog-schema.json"
DATASET_SCHEMA = "catalog/dataset-schema.json"


@pytest.fixture
def client(platform: Platform) -> Iterator[Client]:
    with open_client(platform) as opened:
        yield opened


def ask(client: Client, member: factories.Member, *, query: str = "", **message: object) -> dict:
    body = {**catalog_request(), **message}
    response = client.post(f"/dsp/catalog/request{query}", json=body, headers=bearer(member))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert_valid(response.json(), CATALOG_SCHEMA)
    return dict(response.json())


def test_a_consumer_sees_listed_products_and_nothing_else(
    client: Client, platform: Platform
) -> None:
    owner, reviewer = new_provider(platform), factories.operator(platform)
    listed = make_product(platform, owner, reviewer)
    hidden = [
        make_product(platform, owner, reviewer, status=status)
        for status in ("draft", "submitted", "returned", "delisted")
    ]
    consumer = factories.participant(platform)

    catalog = ask(client, consumer)

    assert dataset_ids(catalog) == {f"urn:uuid:{listed}"}
    assert not {f"urn:uuid:{h}" for h in hidden} & dataset_ids(catalog)


def test_the_spec_example_request_is_answered(client: Client, platform: Platform) -> None:
    consumer = factories.participant(platform)
    message = example("catalog-request-message.json")

    response = client.post("/dsp/catalog/request", json=message, headers=bearer(consumer))

    assert response.status_code == 200, response.text
    assert_valid(response.json(), CATALOG_SCHEMA)


def test_the_provider_itself_sees_only_its_listed_products_in_dsp(
    client: Client, platform: Platform
) -> None:
    """DSP carries offers: a provider's own drafts are not offers, even to the provider."""
    owner, reviewer = new_provider(platform), factories.operator(platform)
    listed = make_product(platform, owner, reviewer)
    make_product(platform, owner, reviewer, status="draft")

    assert dataset_ids(ask(client, owner)) == {f"urn:uuid:{listed}"}


def test_the_space_catalog_nests_one_catalog_per_provider(
    client: Client, platform: Platform
) -> None:
    reviewer = factories.operator(platform)
    power, bureau = (
        new_provider(platform, "东瓯电力有限公司"),
        new_provider(platform, "东瓯市统计局"),
    )
    power_service = connector(platform, power, "https://connector.power.example.cn/dsp")
    power_product = make_product(platform, power, reviewer)
    bureau_product = make_product(platform, bureau, reviewer, kind="compute_only")
    new_provider(platform, "尚无产品的提供方")  # nothing listed: no nested catalog

    catalog = ask(client, factories.participant(platform))

    assert catalog["@type"] == "Catalog"
    assert catalog["participantId"].startswith("urn:shuchang:space:")
    (hosted,) = catalog["service"]
    assert hosted["endpointURL"] == "http://testserver.local/dsp"
    by_participant = {c["participantId"]: c for c in catalog["catalog"]}
    assert set(by_participant) == {urn_of(power), urn_of(bureau)}

    power_catalog = by_participant[urn_of(power)]
    assert [s["@id"] for s in power_catalog["service"]] == [power_service]
    assert power_catalog["service"][0]["endpointURL"] == "https://connector.power.example.cn/dsp"
    (power_dataset,) = power_catalog["dataset"]
    assert power_dataset["@id"] == f"urn:uuid:{power_product}"
    assert power_dataset["distribution"] == [
        {"@type": "Distribution", "format": fmt, "accessService": power_service}
        for fmt in ("HttpData-PULL", "HttpData-PUSH")  # a dataset is pulled or pushed
    ]

    bureau_catalog = by_participant[urn_of(bureau)]
    assert bureau_catalog["service"] == [hosted]  # no connector of its own: the space's
    (bureau_dataset,) = bureau_catalog["dataset"]
    assert bureau_dataset["@id"] == f"urn:uuid:{bureau_product}"
    assert [d["format"] for d in bureau_dataset["distribution"]] == ["Shuchang-Compute"]


def test_every_access_service_is_a_service_of_its_catalog(
    client: Client, platform: Platform
) -> None:
    owner, reviewer = new_provider(platform), factories.operator(platform)
    connector(platform, owner, "https://a.example.cn/dsp")
    connector(platform, owner, "https://b.example.cn/dsp")
    for kind in ("dataset", "api", "data_element", "compute_only"):
        make_product(platform, owner, reviewer, kind=kind)

    (nested,) = ask(client, factories.participant(platform))["catalog"]

    services = {s["@id"] for s in nested["service"]}
    assert len(services) == 2
    methods = {"dataset": 2, "data_element": 2, "api": 1, "compute_only": 1}
    for item in nested["dataset"]:
        assert {d["accessService"] for d in item["distribution"]} == services
        kind = item["dct:type"]["@id"].rsplit(":", 1)[-1]
        assert len(item["distribution"]) == 2 * methods[kind]  # per connector and method
    formats = sorted(d["format"] for item in nested["dataset"] for d in item["distribution"])
    assert formats.count("HttpData-PUSH") == 4  # dataset and data element, two connectors
    assert formats.count("HttpData-PULL") == 6 and formats.count("Shuchang-Compute") == 2


def test_one_providers_catalog_by_query(client: Client, platform: Platform) -> None:
    reviewer = factories.operator(platform)
    mine, theirs = new_provider(platform), new_provider(platform)
    wanted = make_product(platform, mine, reviewer)
    make_product(platform, theirs, reviewer)
    consumer = factories.participant(platform)

    for form in (urn_of(mine), str(mine.id)):
        catalog = ask(client, consumer, query=f"?provider={quote(form)}")
        assert catalog["participantId"] == urn_of(mine)
        assert "catalog" not in catalog
        assert dataset_ids(catalog) == {f"urn:uuid:{wanted}"}


def test_participants_are_named_as_contract_agreements_name_them(
    client: Client, platform: Platform
) -> None:
    """participantId is ``participant_urn`` (an agreement's assigner), never a local id."""
    reviewer = factories.operator(platform)
    company = new_provider(platform)
    person = factories.participant(platform, kind="individual", roles=("provider",))
    make_product(platform, company, reviewer)
    make_product(platform, person, reviewer)
    with platform.unit() as s:
        signed = {participant_urn(p) for p in (find(s, company.id), find(s, person.id)) if p}
    consumer = factories.participant(platform)

    catalog = ask(client, consumer)

    assert {c["participantId"] for c in catalog["catalog"]} == signed
    assert urn_of(company) in signed
    (person_urn,) = signed - {urn_of(company)}
    assert person_urn.startswith("urn:shuchang:person:") and person.identifier not in person_urn
    assert str(person.id) not in json.dumps(catalog) and str(company.id) not in json.dumps(catalog)
    for urn in signed:
        one = ask(client, consumer, query=f"?provider={quote(urn)}")
        assert one["participantId"] == urn
        (item,) = datasets(one)
        assert item["dct:publisher"] == {"@id": urn}
        only = ask(
            client,
            consumer,
            filter=[{"operandLeft": "participantId", "operator": "=", "operandRight": urn}],
        )
        assert dataset_ids(only) == {item["@id"]}


def test_a_revoked_provider_with_listings_is_still_found_by_its_urn(
    client: Client, platform: Platform
) -> None:
    """find_by_urn knows live participants only; what the catalog shows must still resolve."""
    owner = new_provider(platform)
    product = make_product(platform, owner, factories.operator(platform))
    with platform.unit() as s:
        service.change_status(s, SYSTEM, owner.id, StatusChange(action="revoke"))
    consumer = factories.participant(platform)

    catalog = ask(client, consumer, query=f"?provider={quote(urn_of(owner))}")

    assert catalog["participantId"] == urn_of(owner)
    assert dataset_ids(catalog) == {f"urn:uuid:{product}"}


def test_a_provider_without_listings_has_an_empty_but_valid_catalog(
    client: Client, platform: Platform
) -> None:
    owner = new_provider(platform)
    make_product(platform, owner, factories.operator(platform), status="draft")

    catalog = ask(client, factories.participant(platform), query=f"?provider={owner.id}")

    assert "dataset" not in catalog and catalog["service"]


def test_an_empty_space_has_a_valid_catalog(client: Client, platform: Platform) -> None:
    catalog = ask(client, factories.participant(platform))
    assert "catalog" not in catalog and "dataset" not in catalog


def test_filters_narrow_the_catalog(client: Client, platform: Platform) -> None:
    reviewer, owner = factories.operator(platform), new_provider(platform)
    power = make_product(platform, owner, reviewer, tags=["用电"])
    compute = make_product(
        platform,
        owner,
        reviewer,
        kind="compute_only",
        tags=["信贷"],
        resource=resource_body(industry="J66", regions=["330303"]),
    )
    consumer = factories.participant(platform)

    def ids(*criteria: dict[str, object]) -> set[str]:
        return dataset_ids(ask(client, consumer, filter=list(criteria)))

    assert ids({"operandLeft": "kind", "operator": "=", "operandRight": "compute_only"}) == {
        f"urn:uuid:{compute}"
    }
    assert ids({"operandLeft": "keyword", "operator": "in", "operandRight": ["用电", "无"]}) == {
        f"urn:uuid:{power}"
    }
    assert ids({"operandLeft": "theme", "operator": "=", "operandRight": "J66"}) == {
        f"urn:uuid:{compute}"
    }
    assert ids(
        {"operandLeft": "spatial", "operator": "=", "operandRight": "urn:shuchang:region:330302"}
    ) == {f"urn:uuid:{power}"}
    assert (
        ids(
            {"operandLeft": "id", "operator": "=", "operandRight": f"urn:uuid:{power}"},
            {"operandLeft": "kind", "operator": "=", "operandRight": "compute_only"},
        )
        == set()
    )  # criteria all hold, or the dataset is left out


@pytest.mark.parametrize("form", ["urn", "bare", "encoded"])
def test_a_dataset_by_id(client: Client, platform: Platform, form: str) -> None:
    owner, reviewer = new_provider(platform), factories.operator(platform)
    service = connector(platform, owner, "https://connector.example.cn/dsp")
    product = make_product(platform, owner, reviewer)
    ref = {
        "urn": f"urn:uuid:{product}",
        "bare": str(product),
        "encoded": quote(f"urn:uuid:{product}", safe=""),
    }[form]

    response = client.get(
        f"/dsp/catalog/datasets/{ref}", headers=bearer(factories.participant(platform))
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert_valid(body, DATASET_SCHEMA)
    assert body["@id"] == f"urn:uuid:{product}"
    assert [d["format"] for d in body["distribution"]] == ["HttpData-PULL", "HttpData-PUSH"]
    for distribution in body["distribution"]:
        assert distribution["accessService"]["@id"] == service
        assert distribution["accessService"]["endpointURL"] == "https://connector.example.cn/dsp"


def test_the_dataset_in_the_catalog_and_by_id_agree(client: Client, platform: Platform) -> None:
    owner, reviewer = new_provider(platform), factories.operator(platform)
    product = make_product(platform, owner, reviewer)
    consumer = factories.participant(platform)

    (in_catalog,) = datasets(ask(client, consumer))
    alone = client.get(f"/dsp/catalog/datasets/urn:uuid:{product}", headers=bearer(consumer))

    body = alone.json()
    assert body["hasPolicy"] == in_catalog["hasPolicy"]
    for key in ("dct:title", "dct:description", "dcat:keyword", "dct:issued"):
        assert body[key] == in_catalog[key]


def test_descriptive_properties(client: Client, platform: Platform) -> None:
    owner, reviewer = new_provider(platform), factories.operator(platform)
    product = make_product(platform, owner, reviewer)

    response = client.get(
        f"/dsp/catalog/datasets/urn:uuid:{product}", headers=bearer(factories.participant(platform))
    )

    body = response.json()
    assert {"@language": "zh", "@value": body["dct:title"][0]["@value"]} == body["dct:title"][0]
    assert body["dct:title"][1] == {"@value": "Enterprise electricity index", "@language": "en"}
    assert sorted(body["dcat:keyword"]) == ["信贷", "用电"]
    assert body["dcat:theme"] == [{"@id": "urn:shuchang:industry:D44"}]
    assert body["dct:spatial"] == [{"@id": "urn:shuchang:region:330302"}]
    assert body["dct:publisher"] == {"@id": urn_of(owner)}
    assert body["dct:issued"]["@type"] == "xsd:dateTime"
    assert body["dct:issued"]["@value"].endswith("Z")
    assert "secret_schema" not in response.text  # the resource's location never leaves


def test_relisting_an_edited_policy_gives_a_new_offer_id(
    client: Client, platform: Platform
) -> None:
    owner, reviewer = new_provider(platform), factories.operator(platform)
    product = make_product(platform, owner, reviewer, status="delisted")
    consumer = factories.participant(platform)

    offers = []
    for policy in (OFFER, {**OFFER, "permission": [{"action": "read"}]}, OFFER):
        relist(platform, owner, reviewer, product, policy)
        (item,) = datasets(ask(client, consumer))
        offers.append(item["hasPolicy"][0]["@id"])
        delist(platform, owner, product)

    assert offers[0] != offers[1] and offers[0] == offers[2]


def test_version_metadata_is_public(client: Client) -> None:
    response = client.get("/.well-known/dspace-version")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert_valid(body, "common/protocol-version-schema.json")
    (version,) = body["protocolVersions"]
    assert (version["version"], version["path"], version["binding"]) == ("2025-1", "/dsp", "HTTPS")
