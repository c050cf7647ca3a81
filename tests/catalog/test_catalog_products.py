"""Products and their listing review (产品上架审核).

    draft ──submit──► submitted ──approve──► listed ──delist──► delisted
      ▲   (checks fail: returned)  └─return──► returned           │
      └────────────── edit ◄───────────────────┘ ◄─── edit ───────┘

The operator reviews; ``SHUCHANG_LISTING_REVIEWERS=operator,service_firm`` lets a service
firm (第三方审核机构) review too. Consumers never review and never see unlisted products.
"""

from __future__ import annotations

from typing import Any

import pytest
from catalog_factories import product_body, resource_body
from catalog_support import (
    PRODUCTS,
    Client,
    assert_problem,
    draft,
    listed,
    register,
    review,
    submit,
)

from conftest import MakeClient, shared
from factories import Member
from shuchang.settings import Settings

# One database per module and backend (see conftest.py): every test looks only at its own data.
client, platform, provider, other_provider, consumer, operator, regulator, service_firm = shared(
    "client",
    "platform",
    "provider",
    "other_provider",
    "consumer",
    "operator",
    "regulator",
    "service_firm",
)

KINDS = [
    ("dataset", {"model": "subscription", "amount_fen": 120000, "period": "month"}, {}),
    ("api", {"model": "per_call", "amount_fen": 30}, {}),
    (
        "data_element",
        {"model": "one_off", "amount_fen": 120000},
        {"transformation": "按行业中位数归一化月度用电量至 0-100，去除直接标识符。"},
    ),
    ("compute_only", {"model": "free", "amount_fen": 0}, {}),
    ("dataset", {"model": "per_row", "amount_fen": 3}, {}),
    (
        "api",
        {
            "model": "tiered",
            "amount_fen": 20,
            "unit": "call",
            "tiers": [{"up_to": 10000, "unit_fen": 20}, {"up_to": None, "unit_fen": 12}],
        },
        {},
    ),
]


@pytest.mark.parametrize(
    ("kind", "price", "extra"), KINDS, ids=[f"{k}-{p['model']}" for k, p, _ in KINDS]
)
def test_each_kind_of_product_is_drafted_submitted_and_listed(  # noqa: PLR0917 - pytest passes fixtures by name
    client: Client,
    provider: Member,
    operator: Member,
    consumer: Member,
    kind: str,
    price: dict[str, Any],
    extra: dict[str, Any],
) -> None:
    resource = register(client, provider)

    product = draft(client, provider, [resource["id"]], kind=kind, price=price, **extra)
    assert (product["status"], product["kind"], product["price"]) == (
        "draft",
        kind,
        {"period": None, "unit": None, "tiers": [], **price},
    )
    assert submit(client, provider, product["id"])["status"] == "submitted"
    approved = review(client, operator, product["id"], "approve").json()

    assert approved["status"] == "listed" and approved["listed_at"] is not None
    seen = client.get(f"{PRODUCTS}/{product['id']}", headers=consumer.headers).json()
    assert (seen["status"], seen["policy"]) == ("listed", product["policy"])


def test_a_returned_product_is_edited_resubmitted_listed_delisted_and_relisted(
    client: Client, provider: Member, operator: Member
) -> None:
    resource = register(client, provider)
    product = draft(client, provider, [resource["id"]])
    pid = product["id"]
    submit(client, provider, pid)

    returned = review(client, operator, pid, "return", ["样例数据缺失", "请补充字段口径说明"])
    assert returned.json()["status"] == "returned"
    assert [r["message_zh"] for r in returned.json()["review_reasons"]] == [
        "样例数据缺失",
        "请补充字段口径说明",
    ]
    assert {r["code"] for r in returned.json()["review_reasons"]} == {"review.returned"}

    edited = client.put(
        f"{PRODUCTS}/{pid}",
        json=product_body([resource["id"]], title="企业登记数据集（含字段口径）"),
        headers=provider.headers,
    )
    assert edited.json()["status"] == "draft"
    submit(client, provider, pid)
    assert review(client, operator, pid, "approve").json()["status"] == "listed"
    delisted = client.post(f"{PRODUCTS}/{pid}/delist?reason=数据源升级", headers=provider.headers)
    assert delisted.json()["status"] == "delisted"
    client.put(f"{PRODUCTS}/{pid}", json=product_body([resource["id"]]), headers=provider.headers)
    submit(client, provider, pid)
    review(client, operator, pid, "approve")

    steps = client.get(f"{PRODUCTS}/{pid}/reviews", headers=provider.headers).json()
    assert [(s["action"], s["from_status"], s["to_status"]) for s in steps] == [
        ("submitted", "draft", "submitted"),
        ("returned", "submitted", "returned"),
        ("submitted", "draft", "submitted"),
        ("listed", "submitted", "listed"),
        ("delisted", "listed", "delisted"),
        ("submitted", "draft", "submitted"),
        ("listed", "submitted", "listed"),
    ]
    assert steps[1]["actor"] == f"participant:{operator.id}"
    assert [r["message_zh"] for r in steps[4]["reasons"]] == ["数据源升级"]


def test_the_operator_takes_a_listed_product_down(
    client: Client, provider: Member, operator: Member, consumer: Member
) -> None:
    product = listed(client, provider, operator, [register(client, provider)["id"]])

    response = client.post(f"{PRODUCTS}/{product['id']}/delist", headers=operator.headers)

    assert response.json()["status"] == "delisted"
    assert_problem(
        client.get(f"{PRODUCTS}/{product['id']}", headers=consumer.headers),
        404,
        "product.not_found",
    )


def test_a_consumer_cannot_delist(
    client: Client, provider: Member, operator: Member, consumer: Member
) -> None:
    product = listed(client, provider, operator, [register(client, provider)["id"]])

    response = client.post(f"{PRODUCTS}/{product['id']}/delist", headers=consumer.headers)

    assert_problem(response, 403, "role.forbidden")


def test_returning_needs_reasons(client: Client, provider: Member, operator: Member) -> None:
    product = draft(client, provider, [register(client, provider)["id"]])
    submit(client, provider, product["id"])

    response = review(client, operator, product["id"], "return", [])

    assert_problem(response, 422, "product.reasons_required", "reasons")
    shown = client.get(f"{PRODUCTS}/{product['id']}", headers=operator.headers).json()
    assert shown["status"] == "submitted"


@pytest.mark.parametrize("who", ["consumer", "regulator", "service_firm"])
def test_only_reviewers_review(
    client: Client,
    provider: Member,
    request: pytest.FixtureRequest,
    who: str,
) -> None:
    product = draft(client, provider, [register(client, provider)["id"]])
    submit(client, provider, product["id"])
    member: Member = request.getfixturevalue(who)

    response = review(client, member, product["id"], "approve")

    assert_problem(response, 403, "role.forbidden")
    assert (
        client.get(f"{PRODUCTS}/{product['id']}", headers=provider.headers).json()["status"]
        == "submitted"
    )


def test_the_listing_reviewers_are_read_from_the_environment() -> None:
    both = Settings.from_env({"SHUCHANG_LISTING_REVIEWERS": "operator, service_firm"})

    assert both.reviewers == ("operator", "service_firm")
    assert Settings.from_env({}).reviewers == ("operator",)
    with pytest.raises(ValueError, match="SHUCHANG_LISTING_REVIEWERS"):
        Settings.from_env({"SHUCHANG_LISTING_REVIEWERS": "operator,consumer"})


def test_a_service_firm_reviews_when_configured(
    make_client: MakeClient, provider: Member, service_firm: Member, consumer: Member
) -> None:
    client = make_client(listing_reviewers="operator,service_firm")
    product = draft(client, provider, [register(client, provider)["id"]])
    submit(client, provider, product["id"])

    queue = client.get("/api/v1/catalog/review-queue", headers=service_firm.headers)
    assert product["id"] in [p["id"] for p in queue.json()]
    assert (
        client.get(f"{PRODUCTS}/{product['id']}", headers=service_firm.headers).status_code == 200
    )
    response = review(client, service_firm, product["id"], "approve")

    assert response.json()["status"] == "listed"
    assert_problem(
        client.get("/api/v1/catalog/review-queue", headers=consumer.headers),
        403,
        "role.forbidden",
    )


def test_a_service_firm_reviewer_sees_the_sources_and_history_of_what_it_reviews(
    make_client: MakeClient, provider: Member, service_firm: Member
) -> None:
    client = make_client(listing_reviewers="operator,service_firm")
    resource = register(client, provider)
    product = draft(client, provider, [resource["id"]])
    submit(client, provider, product["id"])

    lineage = client.get(f"{PRODUCTS}/{product['id']}/lineage", headers=service_firm.headers)
    history = client.get(f"{PRODUCTS}/{product['id']}/reviews", headers=service_firm.headers)

    assert [s["resource_id"] for s in lineage.json()["sources"]] == [resource["id"]]
    assert [step["to_status"] for step in history.json()] == ["submitted"]


def test_a_service_firm_reviewer_sees_the_products_under_review_of_a_resource(
    make_client: MakeClient, provider: Member, service_firm: Member
) -> None:
    client = make_client(listing_reviewers="operator,service_firm")
    resource = register(client, provider)
    product = draft(client, provider, [resource["id"]])
    submit(client, provider, product["id"])

    lineage = client.get(
        f"/api/v1/catalog/resources/{resource['id']}/lineage", headers=service_firm.headers
    )

    assert lineage.json()["products"] == [product["id"]]


def test_the_review_queue_holds_the_submitted_products_in_order(
    client: Client, provider: Member, operator: Member, regulator: Member
) -> None:
    resource = register(client, provider)
    first, second, not_yet = (draft(client, provider, [resource["id"]]) for _ in range(3))
    submit(client, provider, first["id"])
    submit(client, provider, second["id"])

    mine = {first["id"], second["id"], not_yet["id"]}
    for member in (operator, regulator):
        queue = client.get("/api/v1/catalog/review-queue", headers=member.headers).json()
        assert [p["id"] for p in queue if p["id"] in mine] == [first["id"], second["id"]]
        assert {p["status"] for p in queue} == {"submitted"}


def test_steps_the_lifecycle_does_not_allow_conflict_and_change_nothing(
    client: Client, provider: Member, operator: Member
) -> None:
    resource = register(client, provider)
    pid = draft(client, provider, [resource["id"]], title="原标题的数据产品")["id"]

    def refused(status: str, *actions: str) -> None:
        for action in actions:
            if action == "edit":
                body = product_body([resource["id"]], title="偷偷改过的标题")
                response = client.put(f"{PRODUCTS}/{pid}", json=body, headers=provider.headers)
            elif action == "review":
                response = review(client, operator, pid, "approve")
            else:
                response = client.post(f"{PRODUCTS}/{pid}/{action}", headers=provider.headers)
            assert_problem(response, 409, "product.invalid_transition")
        shown = client.get(f"{PRODUCTS}/{pid}", headers=provider.headers).json()
        assert (shown["status"], shown["title"]) == (status, "原标题的数据产品")

    refused("draft", "review", "delist")
    submit(client, provider, pid)
    refused("submitted", "edit", "submit", "delist")
    review(client, operator, pid, "approve")
    refused("listed", "edit", "submit", "review")


def test_only_the_provider_edits_and_submits_its_product(
    client: Client, provider: Member, other_provider: Member
) -> None:
    resource = register(client, provider)
    product = draft(client, provider, [resource["id"]])

    edit = client.put(
        f"{PRODUCTS}/{product['id']}",
        json=product_body([resource["id"]]),
        headers=other_provider.headers,
    )
    sub = client.post(f"{PRODUCTS}/{product['id']}/submit", headers=other_provider.headers)

    assert_problem(edit, 403, "product.not_owner")
    assert_problem(sub, 403, "product.not_owner")


def test_unlisted_products_are_seen_by_provider_reviewer_and_regulator_only(  # noqa: PLR0917 - pytest passes fixtures by name
    client: Client,
    provider: Member,
    other_provider: Member,
    consumer: Member,
    operator: Member,
    regulator: Member,
) -> None:
    product = draft(client, provider, [register(client, provider)["id"]])
    url = f"{PRODUCTS}/{product['id']}"

    for member in (provider, operator, regulator):
        assert client.get(url, headers=member.headers).status_code == 200
    for member in (consumer, other_provider):
        assert_problem(client.get(url, headers=member.headers), 404, "product.not_found")
        assert_problem(
            client.get(f"{url}/lineage", headers=member.headers), 404, "product.not_found"
        )


# --- the offer: ODRL policy and price -----------------------------------------------------


def test_a_policy_with_several_faults_lists_them_all(client: Client, provider: Member) -> None:
    resource = register(client, provider)
    policy = {"@type": "Set", "permission": [{"action": "sell"}, {"action": "use"}, 3]}

    response = client.post(
        f"{PRODUCTS}/", json=product_body([resource["id"]], policy=policy), headers=provider.headers
    )

    problem = assert_problem(response, 422, "product.policy_invalid", "policy.@type")
    assert [f["path"] for f in problem["faults"]] == [
        "@type",
        "permission[0].action",
        "permission[2]",
    ]


def c(left: str, operator: str, right: Any) -> dict[str, Any]:
    """One atomic ODRL constraint."""
    return {"leftOperand": left, "operator": operator, "rightOperand": right}


def test_a_rich_offer_is_accepted_as_written(client: Client, provider: Member) -> None:
    policy = {
        "@type": "Offer",
        "permission": [
            {
                "action": "compute",
                "constraint": [
                    c("purpose", "isAnyOf", ["信贷风控", "贷后管理"]),
                    {
                        "or": [
                            c("recipientRegion", "isPartOf", "330300"),
                            c("recipientKind", "eq", "government"),
                        ]
                    },
                    c("dateTime", "lt", "2027-01-01T00:00:00+08:00"),
                    c("elapsedTime", "lteq", "P90D"),
                ],
                "duty": [{"action": "compensate", "constraint": [c("payAmount", "eq", "200")]}],
            }
        ],
        "prohibition": [{"action": "distribute"}],
        "obligation": [{"action": "delete", "constraint": [c("elapsedTime", "lteq", "P1Y")]}],
    }
    resource = register(client, provider)

    created = draft(client, provider, [resource["id"]], policy=policy)

    assert created["policy"] == policy


def test_a_product_lists_its_sources_by_title(client: Client, provider: Member) -> None:
    first = register(client, provider, resource_body(title="行政处罚信息"))
    second = register(client, provider, resource_body(title="企业登记信息"))

    product = draft(client, provider, [first["id"], second["id"]])

    assert [(s["title"], s["resource_version"]) for s in product["sources"]] == sorted(
        [("行政处罚信息", 1), ("企业登记信息", 1)]
    )
