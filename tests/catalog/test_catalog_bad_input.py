"""Bad input gets a clear problem and saves nothing (issue: "Invalid schemas, unknown
participants, listing another participant's resources, a product over a core-data resource,
malformed ODRL, search queries with odd characters or huge page sizes: clear problem
responses, nothing half-saved").

Every case snapshots the row count of every table (the evidence outbox and the search index
included), sends one bad request, and checks the RFC 9457 problem and the counts. The cases
share one data set per backend (see ``cast`` in conftest.py): each leaves it as it was.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from catalog_factories import core_resource_body, field, offer, product_body, resource_body
from catalog_support import (
    PRODUCTS,
    RESOURCES,
    SEARCH,
    assert_problem,
    draft,
    listed,
    register,
    submit,
    table_counts,
)

from conftest import Cast


@dataclass
class World:
    cast: Cast
    own: str  # a general-data resource of the provider
    theirs: str  # a resource of the other provider
    core: str  # a core-data resource of the provider
    submitted: str  # a product waiting for review
    on_sale: str  # a listed product


@pytest.fixture(scope="module")
def world(cast: Cast) -> World:
    client, provider = cast.client, cast.provider
    own = register(client, provider)["id"]
    submitted = draft(client, provider, [own])["id"]
    submit(client, provider, submitted)
    return World(
        cast=cast,
        own=own,
        theirs=register(client, cast.other_provider)["id"],
        core=register(client, provider, core_resource_body())["id"],
        submitted=submitted,
        on_sale=listed(client, provider, cast.operator, [own])["id"],
    )


Request = tuple[str, str, dict[str, Any]]  # method, path, keyword arguments of the client


@dataclass(frozen=True)
class Case:
    build: Callable[[World], Request]
    status: int
    code: str
    field: str | None = None


def as_(who: str, method: str, path: str, **kwargs: Any) -> Callable[[World], Request]:
    """A request by a cast member; ``{own}``, ``{submitted}`` … in the path are filled in."""

    def build(w: World) -> Request:
        member = getattr(w.cast, who)
        filled = path.format(**{k: getattr(w, k) for k in World.__dataclass_fields__})
        return method, filled, {"headers": member.headers, **kwargs}

    return build


def resource(**changes: Any) -> Callable[[World], Request]:
    """The provider registers a resource whose body is a valid one with ``changes``."""
    body = resource_body()
    for name, value in changes.items():
        if value is None:
            body.pop(name)
        else:
            body[name] = value
    return as_("provider", "POST", f"{RESOURCES}/", json=body)


def product(**changes: Any) -> Callable[[World], Request]:
    """The provider drafts a product from its own resource, with ``changes``."""

    def build(w: World) -> Request:
        body = product_body([w.own])
        body.update({k: v(w) if callable(v) else v for k, v in changes.items()})
        return "POST", f"{PRODUCTS}/", {"headers": w.cast.provider.headers, "json": body}

    return build


def rule(**fields: Any) -> dict[str, Any]:
    return {"@type": "Offer", "permission": [{"action": "use", **fields}]}


def searching(who: str = "consumer", **params: Any) -> Callable[[World], Request]:
    return as_(who, "GET", SEARCH, params=params)


def cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def import_(content: bytes, who: str = "provider", **params: Any) -> Callable[[World], Request]:
    return as_(who, "POST", f"{RESOURCES}/import", content=content, params=params)


CASES: dict[str, Any] = {
    # --- invalid resource schemas ---
    "resource: malformed JSON": Case(
        lambda w: (
            "POST",
            f"{RESOURCES}/",
            {
                "content": '{"title": "企业登记'.encode(),
                "headers": {**w.cast.provider.headers, "content-type": "application/json"},
            },
        ),
        400,
        "request.malformed_json",
    ),
    "resource: no title": Case(resource(title=None), 422, "request.invalid_field", "title"),
    "resource: empty description": Case(
        resource(description=""), 422, "request.invalid_field", "description"
    ),
    "resource: unknown classification": Case(
        resource(classification="secret"), 422, "request.invalid_field", "classification"
    ),
    "resource: industry not GB/T 4754": Case(
        resource(industry="X99"), 422, "request.invalid_field", "industry"
    ),
    "resource: region not a division code": Case(
        resource(regions=["3303"]), 422, "request.invalid_field", "regions[0]"
    ),
    "resource: unknown frequency": Case(
        resource(update_frequency="hourly"), 422, "request.invalid_field", "update_frequency"
    ),
    "resource: no fields": Case(resource(fields=[]), 422, "request.invalid_field", "fields"),
    "resource: field name not an identifier": Case(
        resource(fields=[field("统一代码")]), 422, "request.invalid_field", "fields[0].name"
    ),
    "resource: unknown field type": Case(
        resource(fields=[field("uscc", "varchar")]), 422, "request.invalid_field", "fields[0].type"
    ),
    "resource: unknown sensitivity": Case(
        resource(fields=[field("uscc", sensitivity="secret")]),
        422,
        "request.invalid_field",
        "fields[0].sensitivity",
    ),
    "resource: unknown location type": Case(
        resource(location={"type": "ftp", "path": "/x"}),
        422,
        "request.invalid_field",
        "location.type",
    ),
    "resource: a field without a type": Case(
        resource(fields=[{"name": "uscc"}]), 422, "request.invalid_field", "fields[0].type"
    ),
    "resource: http location without http": Case(
        resource(location={"type": "http", "url": "ftp://ybj.example.cn/x"}),
        422,
        "request.invalid_field",
        "location.url",
    ),
    "resource: tag with a space": Case(
        resource(tags=["企业 登记"]), 422, "request.invalid_field", "tags[0]"
    ),
    "resource: date not a date": Case(
        resource(temporal_start="2024-13-01"), 422, "request.invalid_field", "temporal_start"
    ),
    "resource: unknown member": Case(resource(owner="我"), 422, "request.invalid_field", "owner"),
    "resource: personal field, flag unset": Case(
        resource(fields=[field("party_name", sensitivity="personal")]),
        422,
        "resource.invalid",
        "personal_info",
    ),
    "resource: sensitive field, flag unset": Case(
        resource(
            fields=[field("resident_id", sensitivity="sensitive_personal")], personal_info=True
        ),
        422,
        "resource.invalid",
        "sensitive_personal_info",
    ),
    "resource: sensitive but not personal": Case(
        resource(sensitive_personal_info=True), 422, "resource.invalid", "personal_info"
    ),
    "resource: a field twice": Case(
        resource(fields=[field("uscc"), field("uscc")]), 422, "resource.invalid", "fields"
    ),
    "resource: coverage ends before it starts": Case(
        resource(temporal_start="2025-01-01", temporal_end="2024-12-31"),
        422,
        "resource.invalid",
        "temporal_end",
    ),
    # --- unknown participants, other participants' things, roles ---
    "resource: for an unknown participant": Case(
        resource(provider_id=str(uuid.uuid4())), 403, "resource.not_owner"
    ),
    "resource: by a consumer": Case(
        as_("consumer", "POST", f"{RESOURCES}/", json=resource_body()), 403, "role.forbidden"
    ),
    "resource: without a key": Case(
        lambda w: ("POST", f"{RESOURCES}/", {"json": resource_body()}), 401, "api_key.missing"
    ),
    "revision: of another provider's resource": Case(
        as_("other_provider", "PUT", RESOURCES + "/{own}", json=resource_body()),
        403,
        "resource.not_owner",
    ),
    "revision: of an unknown resource": Case(
        as_("provider", "PUT", f"{RESOURCES}/{uuid.uuid4()}", json=resource_body()),
        404,
        "resource.not_found",
    ),
    "revision: flags disagree with fields": Case(
        as_(
            "provider",
            "PUT",
            RESOURCES + "/{own}",
            json=resource_body(fields=[field("party_name", sensitivity="personal")]),
        ),
        422,
        "resource.invalid",
        "personal_info",
    ),
    "product: from another participant's resource": Case(
        product(resources=lambda w: [w.own, w.theirs]),
        403,
        "product.resource_not_owned",
        "resources[1]",
    ),
    "product: from an unknown resource": Case(
        product(resources=[str(uuid.uuid4())]), 422, "product.unknown_resource", "resources[0]"
    ),
    "product: the same resource twice": Case(
        product(resources=lambda w: [w.own, w.own]), 422, "product.duplicate_source", "resources"
    ),
    "product: from no resource": Case(
        product(resources=[]), 422, "request.invalid_field", "resources"
    ),
    "product: by a consumer": Case(
        lambda w: (
            "POST",
            f"{PRODUCTS}/",
            {"json": product_body([w.own]), "headers": w.cast.consumer.headers},
        ),
        403,
        "role.forbidden",
    ),
    "product: over core data": Case(
        product(resources=lambda w: [w.core]), 422, "product.core_data", "resources[0]"
    ),
    "product: unknown kind": Case(product(kind="report"), 422, "request.invalid_field", "kind"),
    # --- malformed ODRL: the field is the JSON path of the first fault ---
    "policy: not an object": Case(product(policy=[]), 422, "request.invalid_field", "policy"),
    "policy: agreement, not offer": Case(
        product(policy={"@type": "Agreement", "permission": [{"action": "use"}]}),
        422,
        "product.policy_invalid",
        "policy.@type",
    ),
    "policy: no permission": Case(
        product(policy={"@type": "Offer"}), 422, "product.policy_invalid", "policy.permission"
    ),
    "policy: unknown action": Case(
        product(policy=rule(action="sell")),
        422,
        "product.policy_invalid",
        "policy.permission[0].action",
    ),
    "policy: count as a number": Case(
        product(
            policy=rule(
                constraint=[
                    {"leftOperand": "purpose", "operator": "eq", "rightOperand": "风控"},
                    {"leftOperand": "count", "operator": "lteq", "rightOperand": 1000},
                ]
            )
        ),
        422,
        "product.policy_invalid",
        "policy.permission[0].constraint[1].rightOperand",
    ),
    "policy: operator the operand does not admit": Case(
        product(
            policy=rule(
                constraint=[{"leftOperand": "dateTime", "operator": "isAnyOf", "rightOperand": []}]
            )
        ),
        422,
        "product.policy_invalid",
        "policy.permission[0].constraint[0].operator",
    ),
    "policy: unknown left operand": Case(
        product(
            policy=rule(
                constraint=[{"leftOperand": "colour", "operator": "eq", "rightOperand": "红"}]
            )
        ),
        422,
        "product.policy_invalid",
        "policy.permission[0].constraint[0].leftOperand",
    ),
    "policy: logical constraint with one operand": Case(
        product(
            policy=rule(
                constraint=[
                    {"or": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "风控"}]}
                ]
            )
        ),
        422,
        "product.policy_invalid",
        "policy.permission[0].constraint[0].or",
    ),
    "policy: unknown duty": Case(
        product(policy=rule(duty=[{"action": "pay"}])),
        422,
        "product.policy_invalid",
        "policy.permission[0].duty[0].action",
    ),
    "policy: target in a catalog offer": Case(
        product(policy=offer(target="urn:uuid:5b1c7c3e-0000-4000-8000-000000000001")),
        422,
        "product.policy_invalid",
        "policy.target",
    ),
    "policy: a rule that is a string": Case(
        product(policy=offer(prohibition=["不得转售"])),
        422,
        "product.policy_invalid",
        "policy.prohibition[0]",
    ),
    # --- prices are integer fen ---
    "price: a fraction of a fen": Case(
        product(price={"model": "one_off", "amount_fen": 99.5}),
        422,
        "request.invalid_field",
        "price.amount_fen",
    ),
    "price: negative": Case(
        product(price={"model": "one_off", "amount_fen": -1}),
        422,
        "request.invalid_field",
        "price.amount_fen",
    ),
    "price: unknown model": Case(
        product(price={"model": "auction", "amount_fen": 1}),
        422,
        "request.invalid_field",
        "price.model",
    ),
    # --- review and lifecycle ---
    "review: by a consumer": Case(
        as_("consumer", "POST", PRODUCTS + "/{submitted}/review", json={"decision": "approve"}),
        403,
        "role.forbidden",
    ),
    "review: return without reasons": Case(
        as_("operator", "POST", PRODUCTS + "/{submitted}/review", json={"decision": "return"}),
        422,
        "product.reasons_required",
        "reasons",
    ),
    "review: unknown decision": Case(
        as_("operator", "POST", PRODUCTS + "/{submitted}/review", json={"decision": "maybe"}),
        422,
        "request.invalid_field",
        "decision",
    ),
    "edit: a listed product": Case(
        lambda w: (
            "PUT",
            f"{PRODUCTS}/{w.on_sale}",
            {"json": product_body([w.own]), "headers": w.cast.provider.headers},
        ),
        409,
        "product.invalid_transition",
    ),
    # --- search ---
    "search: without a key": Case(
        lambda w: ("GET", SEARCH, {"params": {"q": "税务"}}), 401, "api_key.missing"
    ),
    "search: a huge page": Case(searching(limit=100000), 422, "request.invalid_field", "limit"),
    "search: an empty page": Case(searching(limit=0), 422, "request.invalid_field", "limit"),
    "search: a query over 200 characters": Case(
        searching(q="税" * 201), 422, "request.invalid_field", "q"
    ),
    "search: unknown type": Case(searching(type="dataset"), 422, "request.invalid_field", "type"),
    "search: unknown sort": Case(searching(sort="random"), 422, "request.invalid_field", "sort"),
    "search: negative price": Case(
        searching(price_min=-1), 422, "request.invalid_field", "price_min"
    ),
    "search: price range upside down": Case(
        searching(price_min=500, price_max=100), 400, "search.price_range", "price_min"
    ),
    "search: garbage cursor": Case(searching(cursor="不是游标"), 400, "cursor.invalid", "cursor"),
    "search: cursor of a list": Case(
        searching(cursor=cursor([1])), 400, "cursor.invalid", "cursor"
    ),
    "search: relevance cursor too far": Case(
        searching(q="企业", cursor=cursor({"o": 10**9})), 400, "cursor.invalid", "cursor"
    ),
    "search: tampered relevance cursor": Case(
        searching(q="企业", cursor=cursor({"o": "x"})), 400, "cursor.invalid", "cursor"
    ),
    "search: cursor time without zone": Case(
        searching(sort="newest", cursor=cursor({"v": "2026-01-01T00:00:00", "i": 1})),
        400,
        "cursor.invalid",
        "cursor",
    ),
    "search: cursor value of the wrong type": Case(
        searching(sort="price_asc", cursor=cursor({"v": [1], "i": 1})),
        400,
        "cursor.invalid",
        "cursor",
    ),
    "search: too many tags": Case(
        searching(tag=["a", "b", "c", "d", "e", "f"]), 422, "request.invalid_field", "tag"
    ),
    # --- bulk import ---
    "import: not JSON": Case(import_(b"title,description\n"), 400, "import.malformed"),
    "import: an object, not an array": Case(
        import_(json.dumps(resource_body()).encode()), 400, "import.malformed"
    ),
    "import: nothing": Case(import_(b"[]"), 422, "import.size", "rows"),
    "import: CSV not UTF-8": Case(
        import_("title\n企业登记信息\n".encode("gb18030"), format="csv"), 400, "import.malformed"
    ),
    "import: one bad row of two": Case(
        import_(json.dumps([resource_body(), resource_body(industry="X")]).encode()),
        422,
        "import.rows_invalid",
    ),
    "import: by a consumer": Case(
        import_(json.dumps([resource_body()]).encode(), "consumer"), 403, "role.forbidden"
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_is_a_clear_problem_and_changes_nothing(world: World, case: Case) -> None:
    client, engine = world.cast.client, world.cast.platform.engine
    method, path, kwargs = case.build(world)
    before = table_counts(engine)

    response = client.request(method, path, **kwargs)

    assert response.status_code != 500, response.text
    assert_problem(response, case.status, case.code, case.field)
    assert table_counts(engine) == before
