"""A configured third-party reviewer (第三方审核机构): ``listing_reviewers=operator,service_firm``
puts 上架审核 in a service firm's navigation and lets it decide."""

from __future__ import annotations

import pytest
from catalog_pages_support import product_form, resource_form
from web_support import Client, csrf_of, post_form, sign_in

import factories
from shuchang.platform import Platform
from shuchang.settings import Settings


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        secret_key="test-secret-key-test-secret-key-0",
        approval="manual",
        review_rule="lenient",
        listing_reviewers="operator,service_firm",
    )


def test_a_service_firm_reviews_when_configured(client: Client, platform: Platform) -> None:
    sign_in(client, factories.participant(platform, roles=("provider",)).api_key)
    token = csrf_of(client.get("/console/catalog/resources/new"))
    created = post_form(client, "/console/catalog/resources/new", token, **resource_form())
    resource_id = created.headers["location"].rsplit("/", 1)[1]
    built = post_form(client, "/console/catalog/products/new", token, **product_form(resource_id))
    product_id = built.headers["location"].rsplit("/", 1)[1]

    client.cookies.clear()
    sign_in(client, factories.participant(platform, roles=("service_firm",)).api_key)
    queue = client.get("/console/catalog/review")
    assert queue.status_code == 200 and ">上架审核</a>" in queue.text
    review = client.get(f"/console/catalog/review/{product_id}")
    assert "提交审核" in review.text  # the review history is shown to this reviewer too
    decided = post_form(
        client, f"/console/catalog/review/{product_id}", csrf_of(review), decision="approve"
    )
    assert decided.status_code == 303
    assert "已上架" in client.get(f"/console/catalog/products/{product_id}").text
