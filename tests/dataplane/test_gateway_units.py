"""The gateway's pure parts: the token bucket and the field projection (no database)."""

from __future__ import annotations

import uuid

import pytest

from shuchang.domains.dataplane.gateway import _fields, _query
from shuchang.domains.dataplane.ratelimit import RateLimiter
from shuchang.domains.dataplane.upstream import Projection, UpstreamUnavailable, project
from shuchang.errors import InvalidInput


def test_the_bucket_bursts_one_second_then_refills_at_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(4, clock=lambda: now[0])
    a, b = uuid.uuid4(), uuid.uuid4()
    assert [limiter.take(a) for _ in range(4)] == [0.0] * 4
    assert limiter.take(a) == pytest.approx(0.25)
    assert limiter.take(b) == 0.0  # buckets are per agreement
    now[0] = 0.5
    assert [limiter.take(a) for _ in range(2)] == [0.0, 0.0]
    assert limiter.take(a) > 0


NO_LIMIT = Projection(None, None, frozenset())


def test_projection_keeps_requested_allowed_and_not_excluded_keys() -> None:
    p = Projection(frozenset({"a", "b", "c"}), frozenset({"a", "b"}), frozenset({"b"}))
    assert project(b'[{"a":1,"b":2,"c":3,"d":4}]', "application/json", p) == (b'[{"a":1}]', 1)
    body, rows = project(b'{"items":[{"a":1},{"d":2}],"next":"x"}', "application/json", p)
    assert (body, rows) == (b'{"items":[{"a":1},{}],"next":"x"}', 2)


def test_without_a_limit_the_body_passes_unchanged_and_rows_are_counted() -> None:
    raw = b'[ {"a": 1}, {"a": 2} ]'
    assert project(raw, "application/json; charset=utf-8", NO_LIMIT) == (raw, 2)
    assert project(b"a,b\n1,2\n", "text/csv", NO_LIMIT) == (b"a,b\n1,2\n", 0)


def test_an_unfilterable_answer_is_refused_when_fields_are_limited() -> None:
    limited = Projection(None, frozenset({"a"}), frozenset())
    for body, kind in (
        (b"a,b\n", "text/csv"),
        (b"[1,2]", "application/json"),
        (b"{", "application/json"),
    ):
        with pytest.raises(UpstreamUnavailable) as refused:
            project(body, kind, limited)
        assert refused.value.code == "dataplane.upstream_unfilterable"
    assert project(b"", "application/json", limited) == (b"", 0)


def test_fields_are_taken_out_of_the_query_and_the_rest_kept_as_sent() -> None:
    assert _fields("") == ((), "")
    assert _fields("q=%E4%B8%9C&page=2") == ((), "q=%E4%B8%9C&page=2")
    assert _fields("fields=a,b&q=1&fi%65lds=c&fields=a") == (("a", "b", "c"), "q=1")
    with pytest.raises(InvalidInput):
        _fields("fields=a;drop")


def test_bytes_a_url_cannot_carry_raw_are_escaped_once() -> None:
    assert _query("q=a b&x=%41") == "q=a%20b&x=%41"
    assert _query(bytes([113, 61, 0xE4, 0xB8, 0x9C]).decode("latin-1")) == "q=%E4%B8%9C"
