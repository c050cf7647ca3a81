"""The window of newest matches is the same however PostgreSQL's id buckets cut it.

PostgreSQL reads the window bucket by bucket of ids (search._pg_window); with buckets of two
ids, at most three bucket terms per read and (in half the examples) bucket terms made free,
a few dozen entries take every path: the first read, reads sized by the density seen, and
the read of all the rest. The window must hold exactly the newest matches, as the newest
sort lists them. SQLite has no buckets and must give the same answers.
"""

from __future__ import annotations

import json

import pytest
from catalog_factories import resource_body
from catalog_support import RESOURCES, Client, search
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import Member
from shuchang.domains.catalog import search as catalog_search

WORDS = ("企业登记", "用电量", "纳税")
_batches = iter(range(1, 10_000))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    titles=st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=2), max_size=40),
    window=st.sampled_from([1, 3, 7, 1000]),
    bucket_rows=st.sampled_from([0, 150]),
)
def test_the_window_is_the_newest_matches_whatever_the_buckets(  # noqa: PLR0917 - fixtures
    client: Client,
    provider: Member,
    consumer: Member,
    monkeypatch: pytest.MonkeyPatch,
    titles: list[list[str]],
    window: int,
    bucket_rows: int,
) -> None:
    monkeypatch.setattr(catalog_search, "BUCKET_SHIFT", 1)
    monkeypatch.setattr(catalog_search, "MAX_BUCKETS", 3)
    monkeypatch.setattr(catalog_search, "BUCKET_ROWS", bucket_rows)  # 0: bucketed reads
    tag = f"分桶批次{next(_batches)}"
    rows = [resource_body(title="".join(t) + "数据", tags=[tag]) for t in titles]
    if rows:  # one import: one timestamp, so the newest sort orders by id
        report = client.post(
            f"{RESOURCES}/import", content=json.dumps(rows), headers=provider.headers
        )
        assert report.status_code == 200, report.text
    monkeypatch.setattr(catalog_search, "WINDOW", window)

    for q in (*WORDS, "电"):
        newest = search(client, consumer, q=q, tag=tag, sort="newest", limit=100)["items"]
        page = search(client, consumer, q=q, tag=tag, limit=100)

        assert {h["id"] for h in page["items"]} == {h["id"] for h in newest[:window]}
        assert page["facets_exact"] is (len(newest) <= window)
        assert sum(v["count"] for v in page["facets"].get("doc_type", [])) == min(
            window, len(newest)
        )
