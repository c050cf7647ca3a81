"""The problem shape is a contract with every client: pin it."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from shuchang.errors import (
    Conflict,
    Duplicate,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ShuchangError,
    Unauthenticated,
    ValidationFailed,
)

REQUIRED = {"type", "title", "status", "detail", "code", "message_zh", "message_en", "instance"}


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ShuchangError, 500, "internal"),
        (InvalidInput, 400, "invalid_input"),
        (ValidationFailed, 422, "validation_failed"),
        (Unauthenticated, 401, "unauthenticated"),
        (PermissionDenied, 403, "forbidden"),
        (NotFound, 404, "not_found"),
        (Conflict, 409, "conflict"),
        (Duplicate, 409, "duplicate"),
        (InvalidTransition, 409, "invalid_transition"),
    ],
)
def test_error_tree_statuses_and_codes(error: type[ShuchangError], status: int, code: str) -> None:
    problem = error(field="name").problem("/x")
    assert problem["status"] == status
    assert problem["code"] == code
    assert problem["type"] == f"/problems/{code}"
    assert problem["field"] == "name"
    assert problem["message_zh"] and problem["message_en"]


def test_problem_response_shape_and_media_type(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.post("/api/v1/participants", json={"kind": "enterprise"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body.keys() >= REQUIRED
    assert body["status"] == 422
    assert body["code"] == "request.invalid_field"
    assert body["field"] == "name"
    assert body["instance"] == "/api/v1/participants"


def test_malformed_json_is_a_400_problem(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.post(
        "/api/v1/participants", content=b'{"kind": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "request.malformed_json"
    assert body["status"] == 400


def test_unknown_route_and_wrong_method(client: TestClient) -> None:  # type: ignore[type-arg]
    assert client.get("/api/v1/nothing-here").json()["code"] == "route.not_found"
    response = client.delete("/api/v1/participants")
    assert response.status_code == 405
    assert response.json()["code"] == "route.method_not_allowed"
