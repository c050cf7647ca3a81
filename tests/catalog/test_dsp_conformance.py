"""Conformance with the DSP 2025-1 artifacts: the schemas check what they should, the spec's
own examples pass them and our parsers, and the pure mapping functions emit valid messages.

No database here: these pin the validator setup that every HTTP test relies on.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from dsp_support import CATALOG, DSP, OFFER, assert_valid, example, validator
from jsonschema.exceptions import ValidationError

from shuchang.domains.catalog import dcat, dsp, dsp_api
from shuchang.errors import InvalidInput

EXAMPLES = {
    "catalog-error.json": "catalog/catalog-error-schema.json",
    "catalog-request-message.json": "catalog/catalog-request-message-schema.json",
    "catalog.json": "catalog/catalog-schema.json",
    "dataset-request-message.json": "catalog/dataset-request-message-schema.json",
    "dataset.json": "catalog/dataset-schema.json",
    "nested-catalog.json": "catalog/catalog-schema.json",
}
SPACE = dcat.Space(name="data.dongou.example.cn", endpoint_url="https://data.dongou.example.cn/dsp")
PUBLISHER = "urn:uscc:91330300MA2J0K1X2Y"


def listing(**overrides: Any) -> dcat.Listing:
    fields: dict[str, Any] = {
        "id": uuid.UUID("3dd1add8-4d2d-469e-9634-8394a8836a88"),
        "provider_id": uuid.UUID("4aa2dcc8-4d2d-469e-9634-8394a8834d77"),
        "publisher": PUBLISHER,
        "kind": "dataset",
        "title": "企业用电指数",
        "title_en": "Enterprise electricity index",
        "description": "以企业月度用电量计算的经营活跃度指数。",
        "description_en": None,
        "tags": ("用电",),
        "policy": copy.deepcopy(OFFER),
        "issued": datetime(2025, 3, 1, 8, 0, tzinfo=UTC),
        "modified": datetime(2025, 3, 2, 8, 0, tzinfo=UTC),
        "industries": ("D44",),
        "regions": ("330302",),
    }
    fields.update(overrides)
    return dcat.Listing(**fields)


def provider(*services: dcat.DataService) -> dcat.Provider:
    return dcat.Provider(
        uuid.UUID("4aa2dcc8-4d2d-469e-9634-8394a8834d77"),
        PUBLISHER,
        "东瓯电力有限公司",
        "Dongou Power Co.",
        services or (SPACE.service,),
    )


def test_the_catalog_folder_has_the_examples_we_check() -> None:
    assert sorted(p.name for p in (CATALOG / "example").glob("*.json")) == sorted(EXAMPLES)


@pytest.mark.parametrize(("name", "schema"), sorted(EXAMPLES.items()))
def test_every_catalog_example_passes_its_schema(name: str, schema: str) -> None:
    assert_valid(example(name), schema)


def test_the_protocol_version_example_passes_its_schema() -> None:
    versions = json.loads((DSP / "common/example/protocol-version.json").read_text("utf-8"))
    assert_valid(versions, "common/protocol-version-schema.json")


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda d: d["hasPolicy"][0].update(target="urn:uuid:x"), "a catalog offer has no target"),
        (lambda d: d.pop("hasPolicy"), "a dataset has an offer"),
        (lambda d: d["hasPolicy"][0].pop("@id"), "an offer has an @id"),
        (lambda d: d["distribution"][0].pop("accessService"), "a distribution has a service"),
        (lambda d: d.update({"@context": ["https://example.org/other.jsonld"]}), "DSP context"),
        (
            lambda d: d["hasPolicy"][0]["permission"][0]["constraint"][0].update(operator="like"),
            "operator",
        ),
    ],
)
def test_the_schemas_have_teeth_across_files(change: Any, why: str) -> None:
    """The offer rules live in negotiation/contract-schema.json: the registry must reach them."""
    broken = example("dataset.json")
    change(broken)
    with pytest.raises(ValidationError):
        validator("catalog/dataset-schema.json").validate(broken)


def test_our_parser_accepts_the_spec_request_messages() -> None:
    assert dsp_api.parse_catalog_request(example("catalog-request-message.json")) == []
    assert dsp_api.parse_dataset_request(example("dataset-request-message.json")) == (
        "urn:uuid:3afeadd8-ed2d-569e-d634-8394a8836d57"
    )


@pytest.mark.parametrize(
    "message",
    [
        [],
        "CatalogRequestMessage",
        {"@type": "CatalogRequestMessage"},
        {
            "@context": "https://w3id.org/dspace/2025/1/context.jsonld",
            "@type": "CatalogRequestMessage",
        },
        {
            "@context": ["https://w3id.org/dspace/2024/1/context.json"],
            "@type": "CatalogRequestMessage",
        },
        {
            "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
            "@type": "DatasetRequestMessage",
        },
        {
            "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
            "@type": "CatalogRequestMessage",
            "filter": {},
        },
    ],
)
def test_malformed_catalog_requests_are_refused(message: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        dsp_api.parse_catalog_request(message)
    assert caught.value.status == 400


def test_the_dataset_request_needs_a_dataset_id() -> None:
    message = example("dataset-request-message.json")
    del message["dataset"]
    with pytest.raises(InvalidInput):
        dsp_api.parse_dataset_request(message)


def test_filters_we_support_and_one_we_do_not() -> None:
    message = example("catalog-request-message.json")
    message["filter"] = [
        {"operandLeft": "kind", "operator": "=", "operandRight": "dataset"},
        {"operandLeft": "keyword", "operator": "in", "operandRight": ["用电", "信贷"]},
    ]
    kind, keyword = dsp_api.parse_catalog_request(message)
    assert kind.matches(listing()) and keyword.matches(listing())
    assert not kind.matches(listing(kind="api"))

    message["filter"] = [
        {"operandLeft": "participantId", "operator": "=", "operandRight": PUBLISHER}
    ]
    (publisher,) = dsp_api.parse_catalog_request(message)
    assert publisher.matches(listing())
    assert not publisher.matches(listing(publisher="urn:uscc:91330300MA2J0K1X3Z"))

    message["filter"] = [{"operandLeft": "price", "operator": "<", "operandRight": "100"}]
    with pytest.raises(InvalidInput) as caught:
        dsp_api.parse_catalog_request(message)
    assert caught.value.code == "dsp.filter_unsupported"


def test_a_dataset_is_valid_and_its_offer_carries_no_target() -> None:
    policy = {**OFFER, "@context": "http://www.w3.org/ns/odrl.jsonld", "target": "urn:uuid:x"}
    body = dsp.dataset(listing(policy=policy), [SPACE.service], root=True)

    assert_valid(body, "catalog/dataset-schema.json")
    (offer,) = body["hasPolicy"]
    assert "target" not in offer and "@context" not in offer
    assert offer["@type"] == "Offer" and offer["permission"] == OFFER["permission"]
    assert body["@id"] == "urn:uuid:3dd1add8-4d2d-469e-9634-8394a8836a88"
    pull, push = body["distribution"]  # a dataset is pulled, or pushed to the consumer
    assert (pull["format"], push["format"]) == ("HttpData-PULL", "HttpData-PUSH")
    assert (
        pull["accessService"]["endpointURL"]
        == SPACE.endpoint_url
        == push["accessService"]["endpointURL"]
    )


def test_offer_ids_are_stable_and_name_one_version_of_the_policy() -> None:
    first, again = dcat.offer(listing()), dcat.offer(listing())
    assert first["@id"] == again["@id"] and first["@id"].startswith("urn:uuid:")
    uuid.UUID(first["@id"].removeprefix("urn:uuid:"))
    edited = copy.deepcopy(OFFER)
    edited["permission"][0]["action"] = "read"
    assert dcat.offer(listing(policy=edited))["@id"] != first["@id"]
    other_product = listing(id=uuid.UUID("5bb2dcc8-4d2d-469e-9634-8394a8834d77"))
    assert dcat.offer(other_product)["@id"] != first["@id"]  # an offer is unique to its dataset


def test_compute_only_is_offered_for_computation_never_for_download() -> None:
    service = dcat.DataService(
        "urn:uuid:4aa2dcc8-4d2d-469e-9634-8394a8834d00", "https://c.example/dsp"
    )
    body = dsp.dataset(listing(kind="compute_only"), [service, SPACE.service])

    assert [d["format"] for d in body["distribution"]] == ["Shuchang-Compute", "Shuchang-Compute"]
    assert [d["accessService"] for d in body["distribution"]] == [service.id, SPACE.service.id]


def test_catalogs_nested_per_provider_and_for_one_provider_are_valid() -> None:
    connector = dcat.DataService(
        "urn:uuid:4aa2dcc8-4d2d-469e-9634-8394a8834d00", "https://c.example/dsp"
    )
    space = dsp.space_catalog(SPACE, [provider(connector)], [listing()])
    one = dsp.provider_catalog(provider(connector), [listing()], root=True)
    empty_space = dsp.space_catalog(SPACE, [], [])
    empty_provider = dsp.provider_catalog(provider(), [], root=True)

    for body in (space, one, empty_space, empty_provider):
        assert_valid(body, "catalog/catalog-schema.json")
    assert space["participantId"] == "urn:shuchang:space:data.dongou.example.cn"
    (nested,) = space["catalog"]
    assert nested["participantId"] == one["participantId"] == PUBLISHER
    assert nested["dataset"][0]["dct:publisher"] == {"@id": PUBLISHER}
    assert nested["dataset"][0]["distribution"][0]["accessService"] == connector.id
    assert "catalog" not in empty_space and "dataset" not in empty_provider  # minItems 1


def test_errors_and_version_metadata_are_valid() -> None:
    error = dsp.catalog_error("dsp.dataset_not_found", "No such dataset", "没有该数据集")
    assert_valid(error, "catalog/catalog-error-schema.json")
    assert error["reason"] == [
        {"@value": "没有该数据集", "@language": "zh"},
        {"@value": "No such dataset", "@language": "en"},
    ]
    versions = dsp.version_metadata(SPACE)
    assert_valid(versions, "common/protocol-version-schema.json")
    assert versions["protocolVersions"][0]["version"] == "2025-1"
    assert versions["protocolVersions"][0]["identifierType"] == "urn:uscc"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("urn:uuid:3dd1add8-4d2d-469e-9634-8394a8836a88", "3dd1add8-4d2d-469e-9634-8394a8836a88"),
        ("3dd1add8-4d2d-469e-9634-8394a8836a88", "3dd1add8-4d2d-469e-9634-8394a8836a88"),
        ("urn:uuid:3dd1add8", None),
        ("urn:uuid:{3dd1add8-4d2d-469e-9634-8394a8836a88}", None),
        ("3dd1add84d2d469e96348394a8836a88", None),
        ("", None),
    ],
)
def test_dataset_ids_parse_only_in_the_form_we_issue(text: str, expected: str | None) -> None:
    parsed = dsp.parse_dataset_id(text)
    assert (str(parsed) if parsed else None) == expected


def test_the_dcat_offer_spells_out_odrl_terms() -> None:
    spelled = dcat.odrl_terms(dcat.offer(listing()))

    assert spelled["@type"] == "odrl:Offer"
    rule = spelled["odrl:permission"][0]
    assert rule["odrl:action"] == {"@id": "odrl:use"}
    purpose, role = rule["odrl:constraint"]
    assert purpose["odrl:leftOperand"] == {"@id": "odrl:purpose"}
    assert purpose["odrl:operator"] == {"@id": "odrl:eq"}
    assert purpose["odrl:rightOperand"] == "小微企业信贷风险评估"
    assert role["odrl:leftOperand"] == {"@id": "shuchang:recipientRole"}  # Shuchang's own word
