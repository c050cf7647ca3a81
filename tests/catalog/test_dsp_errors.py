"""Bad DSP catalog requests: each is answered with a DSP ``CatalogError`` (valid against the
2025-1 schema, reasons in Chinese and English) and the HTTP status that fits, never with an
RFC 9457 problem and never with data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from dsp_support import (
    Client,
    assert_valid,
    bearer,
    catalog_request,
    make_product,
    new_provider,
    open_client,
)

import factories
from shuchang.domains.participants import SYSTEM, service
from shuchang.domains.participants.schemas import StatusChange
from shuchang.platform import Platform

ERROR_SCHEMA = "catalog/catalog-error-schema.json"


@pytest.fixture
def client(platform: Platform) -> Iterator[Client]:
    with open_client(platform) as opened:
        yield opened


@pytest.fixture
def consumer(platform: Platform) -> factories.Member:
    return factories.participant(platform)


def assert_catalog_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert_valid(body, ERROR_SCHEMA)
    assert body["@type"] == "CatalogError"
    assert body["code"] == code
    assert [r["@language"] for r in body["reason"]] == ["zh", "en"]
    assert all(r["@value"] for r in body["reason"])
    return body


def post(client: Client, headers: dict[str, str], **kwargs: Any) -> httpx.Response:
    return client.post("/dsp/catalog/request", headers=headers, **kwargs)


CONTEXT = ["https://w3id.org/dspace/2025/1/context.jsonld"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"@context": CONTEXT, "@type": "DatasetRequestMessage"}, "dsp.invalid_message"),
        ({"@context": CONTEXT, "@type": "dspace:CatalogRequestMessage"}, "dsp.invalid_message"),
        ({"@context": CONTEXT}, "dsp.invalid_message"),
        ({"@type": "CatalogRequestMessage"}, "dsp.invalid_message"),
        ({"@context": CONTEXT[0], "@type": "CatalogRequestMessage"}, "dsp.invalid_message"),
        ({"@context": [], "@type": "CatalogRequestMessage"}, "dsp.invalid_message"),
        ([catalog_request()], "dsp.invalid_message"),
        ({**catalog_request(), "filter": "kind=dataset"}, "dsp.invalid_message"),
        ({**catalog_request(), "filter": ["kind=dataset"]}, "dsp.filter_unsupported"),
        (
            catalog_request([{"operandLeft": "price", "operator": "=", "operandRight": "0"}]),
            "dsp.filter_unsupported",
        ),
        (
            catalog_request([{"operandLeft": "kind", "operator": "like", "operandRight": "d%"}]),
            "dsp.filter_unsupported",
        ),
        (
            catalog_request([{"operandLeft": "kind", "operator": "in", "operandRight": "dataset"}]),
            "dsp.filter_unsupported",
        ),
    ],
)
def test_malformed_catalog_requests_are_400(
    client: Client, consumer: factories.Member, body: Any, code: str
) -> None:
    assert_catalog_error(post(client, bearer(consumer), json=body), 400, code)


@pytest.mark.parametrize("raw", [b"", b"not json", b'{"@type": ', "目录".encode(), b"\xff\xfe"])
def test_a_body_that_is_not_json_is_400(
    client: Client, consumer: factories.Member, raw: bytes
) -> None:
    headers = {**bearer(consumer), "content-type": "application/json"}
    assert_catalog_error(post(client, headers, content=raw), 400, "dsp.not_json")


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "api_key.missing"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "api_key.missing"),
        ({"Authorization": "Bearer sck_00000000_unknown"}, "api_key.unknown"),
    ],
)
def test_no_valid_key_is_401_whatever_the_body(
    client: Client, headers: dict[str, str], code: str
) -> None:
    for body in ({"json": catalog_request()}, {"content": b"not json"}):
        response = post(client, headers, **body)
        assert_catalog_error(response, 401, code)
        assert response.headers["www-authenticate"].startswith("Bearer")
    dataset = client.get(f"/dsp/catalog/datasets/urn:uuid:{uuid.uuid4()}", headers=headers)
    assert_catalog_error(dataset, 401, code)


def test_a_suspended_participant_is_403(client: Client, platform: Platform) -> None:
    member = factories.participant(platform)
    with platform.unit() as s:
        service.change_status(s, SYSTEM, member.id, StatusChange(action="suspend"))

    response = post(client, bearer(member), json=catalog_request())

    assert_catalog_error(response, 403, "participant.not_active")


@pytest.mark.parametrize("status", ["draft", "submitted", "returned", "delisted"])
def test_an_unlisted_dataset_is_404_even_for_its_provider(
    client: Client, platform: Platform, consumer: factories.Member, status: str
) -> None:
    owner = new_provider(platform)
    product = make_product(platform, owner, factories.operator(platform), status=status)

    for member in (consumer, owner):
        response = client.get(f"/dsp/catalog/datasets/urn:uuid:{product}", headers=bearer(member))
        body = assert_catalog_error(response, 404, "dsp.dataset_not_found")
        assert "hasPolicy" not in body


@pytest.mark.parametrize("ref", [f"urn:uuid:{uuid.UUID(int=7)}", "urn:uuid:not-a-uuid", "x" * 300])
def test_an_unknown_dataset_is_404(client: Client, consumer: factories.Member, ref: str) -> None:
    response = client.get(f"/dsp/catalog/datasets/{ref}", headers=bearer(consumer))
    assert_catalog_error(response, 404, "dsp.dataset_not_found")


def test_a_nul_in_the_dataset_id_is_refused_before_any_lookup(
    client: Client, consumer: factories.Member
) -> None:
    # The platform refuses U+0000 anywhere in a request, on every route, before routing.
    response = client.get("/dsp/catalog/datasets/%00", headers=bearer(consumer))
    assert response.status_code == 422
    assert response.json()["code"] == "request.nul_character"


@pytest.mark.parametrize(
    "provider",
    [
        str(uuid.UUID(int=7)),
        f"urn:shuchang:participant:{uuid.UUID(int=7)}",  # the local form is no participantId
        "urn:uscc:91330300MA2J0K1X2Y",
        f"urn:shuchang:person:{'0' * 32}",
        "nobody",
    ],
)
def test_an_unknown_provider_is_404(
    client: Client, consumer: factories.Member, provider: str
) -> None:
    response = post(client, bearer(consumer), json=catalog_request(), params={"provider": provider})
    assert_catalog_error(response, 404, "dsp.provider_not_found")


def test_an_overlong_query_parameter_is_a_catalog_error_too(
    client: Client, consumer: factories.Member
) -> None:
    response = post(
        client, bearer(consumer), json=catalog_request(), params={"provider": "x" * 201}
    )
    assert_catalog_error(response, 400, "dsp.invalid_message")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/dsp/catalog/request", "OPTIONS, POST"),
        ("PUT", "/dsp/catalog/request", "OPTIONS, POST"),
        ("DELETE", "/dsp/catalog/request", "OPTIONS, POST"),
        ("POST", f"/dsp/catalog/datasets/urn:uuid:{uuid.UUID(int=7)}", "GET, OPTIONS"),
        ("PATCH", f"/dsp/catalog/datasets/urn:uuid:{uuid.UUID(int=7)}", "GET, OPTIONS"),
    ],
)
def test_a_wrong_method_is_a_405_catalog_error(
    client: Client, consumer: factories.Member, method: str, path: str, allow: str
) -> None:
    for headers in (bearer(consumer), {}):  # no data either way, so no key is needed
        response = client.request(method, path, json=catalog_request(), headers=headers)
        assert_catalog_error(response, 405, "route.method_not_allowed")
        assert response.headers["allow"] == allow


@pytest.mark.parametrize(
    ("path", "allow"),
    [("/dsp/catalog/request", "OPTIONS, POST"), ("/dsp/catalog/datasets/x", "GET, OPTIONS")],
)
def test_options_names_the_methods_a_catalog_path_takes(
    client: Client, path: str, allow: str
) -> None:
    response = client.options(path)
    assert response.status_code == 204
    assert response.headers["allow"] == allow


def test_the_wrong_method_handlers_leave_the_api_description_alone(client: Client) -> None:
    paths = client.get("/docs/openapi.json").json()["paths"]
    assert set(paths["/dsp/catalog/request"]) == {"post"}
    assert set(paths["/dsp/catalog/datasets/{dataset_id}"]) == {"get"}
