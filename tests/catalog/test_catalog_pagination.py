"""Cursor pagination walks every result exactly once, in order, for any data and page size.

Each hypothesis example adds its own resources and products under a tag of its own and
searches with that tag, so the examples share the test's database without seeing each
other. Bulk-imported resources share one timestamp: the newest sort must break the tie.
"""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from typing import Any

import pytest
from catalog_factories import resource_body
from catalog_support import PRODUCTS, RESOURCES, Client, draft, listed, register, search, walk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import Member

_batches = itertools.count(1)
PRICES = [0, 100, 100, 2500, 99900]  # repeated prices: ties the keyset must break

products_ = st.lists(
    st.tuples(st.sampled_from(["listed", "draft", "delisted"]), st.sampled_from(PRICES)),
    max_size=5,
)
resources_ = st.lists(st.sampled_from(["general", "important", "core"]), max_size=7)


def _price(fen: int) -> dict[str, Any]:
    return (
        {"model": "free", "amount_fen": 0} if fen == 0 else {"model": "one_off", "amount_fen": fen}
    )


def _seed(
    client: Client,
    provider: Member,
    operator: Member,
    *,
    tag: str,
    resources: list[str],
    products: list[tuple[str, int]],
) -> dict[str, tuple[str, str]]:
    """Every id with (doc type, who may see it: 'all' or 'oversight')."""
    seen: dict[str, tuple[str, str]] = {}
    if resources:
        rows = [
            resource_body(title=f"企业名录{i}", classification=c, tags=[tag])
            for i, c in enumerate(resources)
        ]
        report = client.post(
            f"{RESOURCES}/import", content=json.dumps(rows), headers=provider.headers
        )
        assert report.status_code == 200, report.text
        for rid, c in zip(report.json()["ids"], resources, strict=True):
            seen[rid] = ("resource", "oversight" if c == "core" else "all")
    source = register(client, provider)["id"]
    for i, (status, fen) in enumerate(products):
        body = {"title": f"企业数据产品{i}", "price": _price(fen), "tags": [tag]}
        if status == "draft":
            # every product is indexed; a draft is visible to oversight (and its owner) only
            seen[draft(client, provider, [source], **body)["id"]] = ("product", "oversight")
            continue
        pid = listed(client, provider, operator, [source], **body)["id"]
        if status == "delisted":
            client.post(f"{PRODUCTS}/{pid}/delist", headers=provider.headers)
        seen[pid] = ("product", "all" if status == "listed" else "oversight")
    return seen


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    resources=resources_,
    products=products_,
    limit=st.integers(1, 4),
    sort=st.sampled_from(["newest", "relevance", "price_asc", "price_desc"]),
    oversight=st.booleans(),
)
def test_pages_walk_every_result_exactly_once(  # noqa: PLR0917 - pytest passes fixtures by name
    client: Client,
    provider: Member,
    consumer: Member,
    operator: Member,
    resources: list[str],
    products: list[tuple[str, int]],
    limit: int,
    sort: str,
    oversight: bool,
) -> None:
    tag = f"分页批次{next(_batches)}"
    seen = _seed(client, provider, operator, tag=tag, resources=resources, products=products)
    viewer = operator if oversight else consumer
    params: dict[str, Any] = {"tag": tag, "sort": sort}
    if sort.startswith("price"):
        params["type"] = "product"  # resources have no price (see test below)
    if sort == "relevance":
        params["q"] = "企业"
    expected = {
        i
        for i, (doc, who) in seen.items()
        if (oversight or who == "all") and (doc == "product" or "type" not in params)
    }

    pages = walk(client, viewer, limit, **params)
    whole = [h for h in search(client, viewer, limit=100, **params)["items"]]

    assert len(pages) == len(set(pages)), "an entry came twice"
    assert set(pages) == expected
    assert pages == [h["id"] for h in whole]
    if sort.startswith("price"):
        prices = [h["price_fen"] for h in whole]
        assert prices == sorted(prices, reverse=sort == "price_desc")
    if sort == "newest":
        times = [datetime.fromisoformat(h["updated_at"]) for h in whole]
        assert times == sorted(times, reverse=True)


@pytest.mark.parametrize("sort", ["price_asc", "price_desc"])
def test_price_sorts_over_resources_and_products_list_the_priced_entries_only(
    client: Client, provider: Member, operator: Member, consumer: Member, sort: str
) -> None:
    first, _ = (register(client, provider, resource_body(tags=["混排"]))["id"] for _ in "12")
    cheap = listed(client, provider, operator, [first], price=_price(100), tags=["混排"])["id"]
    dear = listed(client, provider, operator, [first], price=_price(900), tags=["混排"])["id"]
    priced = [cheap, dear] if sort == "price_asc" else [dear, cheap]

    pages = walk(client, consumer, 1, tag="混排", sort=sort)

    assert pages == priced  # products by price; resources have none and are not listed
