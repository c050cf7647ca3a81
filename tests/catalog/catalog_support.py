"""Helpers the catalog tests share: walking products through review, searching, problems.

Plain functions (not fixtures) so that each test reads top to bottom; the fixtures live in
the ``conftest.py`` beside this file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from catalog_factories import product_body, resource_body
from litestar.testing import TestClient
from sqlalchemy import Engine, func, select

from factories import Member
from shuchang.models import metadata

Client = TestClient  # type: ignore[type-arg]
PROBLEM_JSON = "application/problem+json"
API = "/api/v1/catalog"
RESOURCES = f"{API}/resources"
PRODUCTS = f"{API}/products"
SEARCH = f"{API}/search"


def register(client: Client, member: Member, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Register a resource as ``member`` (a valid general-data one unless ``body`` is given)."""
    response = client.post(f"{RESOURCES}/", json=body or resource_body(), headers=member.headers)
    assert response.status_code == 201, response.text
    out: dict[str, Any] = response.json()
    return out


def draft(client: Client, member: Member, resources: list[str], **overrides: Any) -> dict[str, Any]:
    response = client.post(
        f"{PRODUCTS}/", json=product_body(resources, **overrides), headers=member.headers
    )
    assert response.status_code == 201, response.text
    out: dict[str, Any] = response.json()
    return out


def submit(client: Client, member: Member, product_id: str) -> dict[str, Any]:
    response = client.post(f"{PRODUCTS}/{product_id}/submit", headers=member.headers)
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()
    return out


def review(
    client: Client, reviewer: Member, product_id: str, decision: str, reasons: Sequence[str] = ()
) -> httpx.Response:
    return client.post(
        f"{PRODUCTS}/{product_id}/review",
        json={"decision": decision, "reasons": list(reasons)},
        headers=reviewer.headers,
    )


def listed(
    client: Client, provider: Member, operator: Member, resources: list[str], **overrides: Any
) -> dict[str, Any]:
    """A product walked draft → submitted → listed."""
    product = draft(client, provider, resources, **overrides)
    assert submit(client, provider, product["id"])["status"] == "submitted"
    response = review(client, operator, product["id"], "approve")
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()
    assert out["status"] == "listed"
    return out


def search(client: Client, member: Member, **params: Any) -> dict[str, Any]:
    response = client.get(SEARCH, params=params, headers=member.headers)
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()
    return out


def found(client: Client, member: Member, q: str | None = None, **params: Any) -> set[str]:
    """The ids ``member`` finds (one page of up to 100: the tests keep data sets small)."""
    if q is not None:
        params["q"] = q
    page = search(client, member, limit=100, facets=False, **params)
    assert page["next_cursor"] is None, "more than one page: use walk()"
    return {hit["id"] for hit in page["items"]}


def walk(client: Client, member: Member, limit: int, **params: Any) -> list[str]:
    """Every id of a search, following ``next_cursor`` page by page, in order."""
    ids: list[str] = []
    cursor = None
    for _ in range(1000):
        page = search(
            client,
            member,
            limit=limit,
            facets=False,
            **params,
            **({"cursor": cursor} if cursor else {}),
        )
        assert len(page["items"]) <= limit
        ids += [hit["id"] for hit in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("pagination does not end")


def table_counts(engine: Engine) -> dict[str, int]:
    """Row count of every table the models declare (the evidence outbox included)."""
    tables = metadata.sorted_tables
    one_query = select(
        *(select(func.count()).select_from(t).scalar_subquery().label(t.name) for t in tables)
    )
    with engine.connect() as conn:
        row = conn.execute(one_query).one()
    return {t.name: int(row._mapping[t.name]) for t in tables}


def assert_problem(
    response: httpx.Response, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status, stable code and field."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["code"] == code, problem
    assert problem["message_zh"].strip() and problem["message_en"].strip()
    if field is not None:
        assert problem.get("field") == field, problem
    return problem
