"""The public catalog as DCAT 3 JSON-LD (公开目录), and JSON-LD processing of what we publish.

The DCAT export needs no key and shows listed products only, without resource locations.
Where ``pyld`` is installed, both the DCAT export and the DSP catalog are expanded as JSON-LD
(the DSP context from the fixtures, nothing fetched) to prove no property is silently dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from dsp_support import (
    DSP,
    Client,
    bearer,
    catalog_request,
    connector,
    make_product,
    new_provider,
    open_client,
    urn_of,
)

import factories
from shuchang.platform import Platform

DCT, DCAT, ODRL = (
    "http://purl.org/dc/terms/",
    "http://www.w3.org/ns/dcat#",
    "http://www.w3.org/ns/odrl/2/",
)


@pytest.fixture
def client(platform: Platform) -> Iterator[Client]:
    with open_client(platform) as opened:
        yield opened


def export(client: Client) -> dict[str, Any]:
    response = client.get("/catalog/dcat")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/ld+json")
    body: dict[str, Any] = json.loads(response.text)
    return body


def test_anyone_gets_the_listed_products_and_nothing_else(
    client: Client, platform: Platform
) -> None:
    owner, reviewer = new_provider(platform, "东瓯电力有限公司"), factories.operator(platform)
    listed = make_product(platform, owner, reviewer)
    for status in ("draft", "submitted", "returned", "delisted"):
        make_product(platform, owner, reviewer, status=status)

    catalog = export(client)

    assert catalog["@type"] == "dcat:Catalog"
    assert [d["@id"] for d in catalog["dcat:dataset"]] == [f"urn:uuid:{listed}"]
    assert "secret_schema" not in json.dumps(catalog)  # resource locations never leave


def test_the_context_names_the_vocabularies(client: Client) -> None:
    context = export(client)["@context"]
    assert context["dcat"] == DCAT and context["dct"] == DCT and context["odrl"] == ODRL
    assert context["foaf"] == "http://xmlns.com/foaf/0.1/"
    assert context["xsd"] == "http://www.w3.org/2001/XMLSchema#"


def test_a_dataset_entry(client: Client, platform: Platform) -> None:
    owner, reviewer = new_provider(platform, "东瓯电力有限公司"), factories.operator(platform)
    service = connector(platform, owner, "https://connector.power.example.cn/dsp")
    product = make_product(platform, owner, reviewer, kind="api")

    catalog = export(client)

    (entry,) = catalog["dcat:dataset"]
    assert entry["@type"] == "dcat:Dataset"
    titles = {t["@language"]: t["@value"] for t in entry["dct:title"]}
    assert titles["en"] == "Enterprise electricity index" and titles["zh"].startswith(
        "企业用电指数"
    )
    assert {d["@language"] for d in entry["dct:description"]} == {"zh", "en"}
    assert sorted(entry["dcat:keyword"]) == ["信贷", "用电"]
    assert entry["dct:publisher"] == {
        "@id": urn_of(owner),
        "@type": "foaf:Agent",
        "foaf:name": [{"@value": "东瓯电力有限公司", "@language": "zh"}],
    }
    assert entry["dct:spatial"] == [{"@id": "urn:shuchang:region:330302"}]
    assert entry["dcat:theme"] == [{"@id": "urn:shuchang:industry:D44"}]
    for stamp in ("dct:issued", "dct:modified"):
        assert entry[stamp]["@type"] == "xsd:dateTime" and entry[stamp]["@value"].endswith("Z")
    (offer,) = entry["odrl:hasPolicy"]
    assert offer["@type"] == "odrl:Offer" and offer["@id"].startswith("urn:uuid:")
    assert offer["odrl:permission"][0]["odrl:action"] == {"@id": "odrl:use"}
    assert entry["dcat:distribution"] == [
        {
            "@type": "dcat:Distribution",
            "dct:format": "HttpData-PULL",
            "dcat:accessService": {"@id": service},
            "dcat:accessURL": {"@id": "https://connector.power.example.cn/dsp"},
        }
    ]
    assert [s["@id"] for s in catalog["dcat:service"]] == [service]
    assert product


def test_the_dcat_and_dsp_views_name_things_alike(client: Client, platform: Platform) -> None:
    owner, reviewer = new_provider(platform), factories.operator(platform)
    make_product(platform, owner, reviewer)
    consumer = factories.participant(platform)

    dcat_entry = export(client)["dcat:dataset"][0]
    dsp_catalog = client.post(
        "/dsp/catalog/request", json=catalog_request(), headers=bearer(consumer)
    ).json()
    dsp_entry = dsp_catalog["catalog"][0]["dataset"][0]

    assert dcat_entry["@id"] == dsp_entry["@id"]
    assert dcat_entry["odrl:hasPolicy"][0]["@id"] == dsp_entry["hasPolicy"][0]["@id"]
    assert export(client)["@id"] == dsp_catalog["@id"]


# ---- JSON-LD processing (optional: needs pyld) --------------------------------------------

CONTEXTS = {
    "https://w3id.org/dspace/2025/1/context.jsonld": DSP / "context" / "dspace.jsonld",
    "https://w3id.org/dspace/2025/1/odrl-profile.jsonld": DSP / "context" / "odrl.jsonld",
}


def expand(document: dict[str, Any]) -> list[dict[str, Any]]:
    """JSON-LD expansion with the DSP contexts from the fixtures; any other URL fails."""
    jsonld = pytest.importorskip("pyld.jsonld")

    def loader(url: str, _options: Any = None) -> dict[str, Any]:
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": json.loads(CONTEXTS[url].read_text(encoding="utf-8")),
        }

    expanded: list[dict[str, Any]] = jsonld.expand(document, {"documentLoader": loader})
    return expanded


def strings(value: Any, skip: tuple[str, ...] = ("@context", "@type", "@language")) -> set[str]:
    """Every string value in a JSON document except under ``skip`` keys."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {s for v in value for s in strings(v, skip)}
    if isinstance(value, dict):
        return {s for k, v in value.items() if k not in skip for s in strings(v, skip)}
    return set()


def assert_nothing_dropped(document: dict[str, Any], expanded: list[dict[str, Any]]) -> None:
    """JSON-LD drops keys its context does not define; every value must survive expansion."""
    context = document["@context"]
    prefixes: dict[str, str] = context if isinstance(context, dict) else {}

    def full(value: str) -> str:  # compact IRIs in values (``odrl:use``) expand too
        head, _, tail = value.partition(":")
        return prefixes[head] + tail if head in prefixes else value

    text = json.dumps(expanded, ensure_ascii=False)
    lost = sorted(s for s in strings(document) if full(s) not in text)
    assert not lost, f"dropped by JSON-LD expansion: {lost}"


def test_the_dcat_export_expands_as_json_ld(client: Client, platform: Platform) -> None:
    owner, reviewer = new_provider(platform, "东瓯电力有限公司"), factories.operator(platform)
    connector(platform, owner, "https://connector.power.example.cn/dsp")
    make_product(platform, owner, reviewer)
    make_product(platform, owner, reviewer, kind="compute_only")
    document = export(client)

    expanded = expand(document)

    assert_nothing_dropped(document, expanded)
    (catalog,) = expanded
    assert catalog["@type"] == [f"{DCAT}Catalog"]
    entry = catalog[f"{DCAT}dataset"][0]
    assert {"@value": "Enterprise electricity index", "@language": "en"} in entry[f"{DCT}title"]
    rule = entry[f"{ODRL}hasPolicy"][0][f"{ODRL}permission"][0]
    assert rule[f"{ODRL}action"] == [{"@id": f"{ODRL}use"}]
    assert entry[f"{DCT}issued"][0]["@type"] == "http://www.w3.org/2001/XMLSchema#dateTime"


def test_the_dsp_catalog_expands_with_the_dsp_context(client: Client, platform: Platform) -> None:
    owner, reviewer = new_provider(platform), factories.operator(platform)
    make_product(platform, owner, reviewer)
    consumer = factories.participant(platform)
    document = client.post(
        "/dsp/catalog/request", json=catalog_request(), headers=bearer(consumer)
    ).json()

    expanded = expand(document)

    assert_nothing_dropped(document, expanded)
    (root,) = expanded
    nested = root[f"{DCAT}catalog"][0]
    assert nested["https://w3id.org/dspace/2025/1/participantId"] == [{"@id": urn_of(owner)}]
    dataset = nested[f"{DCAT}dataset"][0]
    assert dataset["@type"] == [f"{DCAT}Dataset"]
    assert f"{ODRL}hasPolicy" in dataset and f"{DCAT}distribution" in dataset
    assert dataset[f"{DCT}spatial"] == [{"@id": "urn:shuchang:region:330302"}]


def test_a_dsp_dataset_and_a_catalog_error_expand_too(client: Client, platform: Platform) -> None:
    owner, reviewer = new_provider(platform), factories.operator(platform)
    connector(platform, owner, "https://connector.example.cn/dsp")
    product = make_product(platform, owner, reviewer)
    consumer = factories.participant(platform)
    dataset = client.get(f"/dsp/catalog/datasets/urn:uuid:{product}", headers=bearer(consumer))
    error = client.get(f"/dsp/catalog/datasets/urn:uuid:{owner.id}", headers=bearer(consumer))

    for document in (dataset.json(), error.json()):
        assert_nothing_dropped(document, expand(document))
    (service,) = expand(dataset.json())[0][f"{DCAT}distribution"][0][f"{DCAT}accessService"]
    assert service[f"{DCAT}endpointURL"] == [{"@value": "https://connector.example.cn/dsp"}]
    (reasons,) = [v for k, v in expand(error.json())[0].items() if k.endswith("/reason")]
    assert {r["@language"] for r in reasons} == {"zh", "en"}
