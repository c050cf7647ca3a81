"""Requests the gateway refuses: bad tokens, suspended transfers, spent counts, bad backends,
too many requests. Each refusal is an RFC 9457 problem with a stable code; a request that
reached the decision is metered whatever happened."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import anyio
import pytest
from dataplane_support import Plane, count_limit, open_plane, policy, problem, suspend

from shuchang.domains.transfers.tokens import issue
from shuchang.platform import Platform
from shuchang.ports import Ed25519Signer


def _token(plane: Plane, signer: Ed25519Signer | None = None, **change: Any) -> str:
    """A token like the plane's, re-issued with ``change``d claims."""
    from shuchang.domains.transfers import verify_token

    keys = plane.gateway.keys
    claims = verify_token(plane.token, keys)
    fields: dict[str, Any] = {
        "issuer": claims.issuer,
        "subject": claims.subject,
        "audience": claims.audience,
        "agreement_id": claims.agreement_id,
        "consumer_id": claims.consumer_id,
        "transfer_id": claims.transfer_id,
        "provider_pid": claims.provider_pid,
        "epoch": claims.epoch,
        "lifetime": 300,
    }
    fields.update(change)
    return issue(signer or plane.pair.provider.local.signer, **fields)[0]


def test_bad_tokens_are_refused_before_anything_is_counted(plane: Plane) -> None:
    expired = _token(plane, now=int(time.time()) - 400)
    forged = _token(plane, signer=Ed25519Signer())
    elsewhere = _token(plane, audience="https://other.example.cn/data")
    other_consumer = _token(plane, consumer_id=uuid.uuid4())
    cases = [
        (plane.get(token=expired), 401, "transfer.token_expired"),
        (plane.get(token=forged), 401, "transfer.token_forged"),
        (plane.get(token="not.a.token"), 401, "transfer.token_invalid"),
        (plane.request("GET", "/data"), 401, "transfer.token_invalid"),
        (plane.get(token=elsewhere), 403, "transfer.token_misdirected"),
        (plane.get(token=other_consumer), 403, "transfer.token_misdirected"),
    ]
    for response, status, code in cases:
        problem(response, status, code)
    assert cases[0][0].headers["www-authenticate"].startswith("Bearer")
    assert plane.backend.seen == [] and plane.records() == []


def test_a_suspended_transfer_is_refused_on_the_next_request(plane: Plane) -> None:
    assert plane.get().status_code == 200
    suspend(plane)
    problem(plane.get(), 403, "transfer.not_started")
    assert len(plane.backend.seen) == 1 and len(plane.records()) == 1


def test_a_spent_count_is_denied_and_exactly_n_uses_are_recorded(
    platform: Platform, tmp_path: Path
) -> None:
    with open_plane(platform, tmp_path, policy(count_limit(3))) as plane:
        answers = [plane.get() for _ in range(5)]
        assert [a.status_code for a in answers] == [200, 200, 200, 403, 403]
        assert [a.headers.get("x-shuchang-remaining-uses") for a in answers[:3]] == ["2", "1", "0"]
        body = problem(answers[3], 403, "dataplane.denied")
        assert "3" in body["message_en"]
        records = plane.records()
        assert [r.permitted for r in records] == [True, True, True, False, False]
        assert [r.status for r in records] == [200, 200, 200, 403, 403]
        assert len(plane.backend.seen) == 3


def test_an_unreachable_backend_is_a_502_and_still_a_metered_use(plane: Plane) -> None:
    plane.backend.down = True
    problem(plane.get(), 502, "dataplane.upstream_unavailable")
    (record,) = plane.records()
    assert (record.permitted, record.status, record.outcome) == (True, 502, "upstream_unavailable")
    assert (record.bytes, record.rows) == (0, 0)


def test_a_closed_port_is_a_502_over_the_real_network(plane: Plane) -> None:
    from shuchang.domains.dataplane import upstream

    async def call() -> None:
        client = upstream.AiohttpUpstream()
        try:
            await client.exchange("GET", "http://127.0.0.1:9/x", headers={}, body=b"", timeout=2)
        finally:
            await client.aclose()

    with pytest.raises(upstream.UpstreamUnavailable):
        plane.portal.call(call)


def test_a_slow_backend_is_a_504(platform: Platform, tmp_path: Path) -> None:
    with open_plane(platform, tmp_path, dataplane_timeout_ms=200) as plane:
        plane.backend.delay = 2.0
        started = time.monotonic()
        problem(plane.get(), 504, "dataplane.upstream_timeout")
        assert time.monotonic() - started < 1.5
        (record,) = plane.records()
        assert (record.status, record.outcome) == (504, "upstream_timeout")


def test_over_the_rate_limit_is_a_429_with_retry_after(platform: Platform, tmp_path: Path) -> None:
    with open_plane(platform, tmp_path, dataplane_rate=3) as plane:
        answers = [plane.get() for _ in range(5)]
        assert [a.status_code for a in answers][:3] == [200, 200, 200]
        limited = [a for a in answers if a.status_code == 429]
        assert limited, [a.status_code for a in answers]
        problem(limited[0], 429, "dataplane.rate_limited")
        assert int(limited[0].headers["retry-after"]) >= 1
        assert len(plane.records()) == 5 - len(limited)


def test_a_client_gone_mid_request_is_a_counted_use_with_its_outcome(plane: Plane) -> None:
    plane.backend.delay = 5.0

    async def give_up() -> None:
        with anyio.move_on_after(0.5):
            await plane.client.get("/data", headers={"Authorization": f"Bearer {plane.token}"})

    plane.portal.call(give_up)
    (record,) = plane.records()
    assert (record.permitted, record.outcome, record.status) == (True, "client_gone", 499)
    assert (record.bytes, record.rows) == (0, 0)
