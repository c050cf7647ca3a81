"""Group commit: a batch of requests is admitted as if one after another, in one transaction;
refusals stay in their place; a request dropped while its admission is written still has its
record closed; verified tokens expire on time; the production upstream client over a real
socket."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from dataplane_support import Plane, count_limit, open_plane, policy
from two_connectors import free_port

from shuchang.domains.contracts.models import Usage
from shuchang.domains.dataplane import upstream
from shuchang.domains.dataplane.admission import Committer
from shuchang.domains.dataplane.gateway import VerifiedTokens
from shuchang.domains.dataplane.service import Admission, DataRequest, admit_many
from shuchang.domains.transfers import TokenExpired, TokenMisdirected, verify_token
from shuchang.platform import Platform


def _request() -> DataRequest:
    return DataRequest("GET", "/data", (), None, datetime.now(UTC), time.monotonic())


def _uses(plane: Plane) -> int:
    with plane.platform.unit(write=False) as s:
        row = s.get(Usage, (plane.pair.agreement_id, "use"))
        return row.uses if row else 0


def test_a_batch_is_decided_in_order_and_a_count_limit_holds_exactly(
    platform: Platform, tmp_path: Path
) -> None:
    with open_plane(platform, tmp_path, policy(count_limit(5))) as plane:
        claims = verify_token(plane.token, plane.gateway.keys)
        with plane.platform.unit() as s:
            results = admit_many(s, plane.gateway.targets, [(claims, _request())] * 8)
        assert all(isinstance(r, Admission) for r in results)
        permitted = [r.decision.permitted for r in results if isinstance(r, Admission)]
        assert permitted == [True] * 5 + [False] * 3
        assert [r.decision.uses for r in results if isinstance(r, Admission)][:5] == [1, 2, 3, 4, 5]
        assert len(plane.records()) == 8 and _uses(plane) == 5
        ids = [r.record_id for r in results if isinstance(r, Admission)]
        assert ids == sorted(ids) and len(set(ids)) == 8  # one record each, in arrival order


def test_a_refused_request_keeps_its_place_and_writes_nothing(plane: Plane) -> None:
    claims = verify_token(plane.token, plane.gateway.keys)
    stranger = dataclasses.replace(claims, transfer_id=uuid.uuid4())
    batch = [(claims, _request()), (stranger, _request()), (claims, _request())]
    with plane.platform.unit() as s:
        first, refused, last = admit_many(s, plane.gateway.targets, batch)
    assert isinstance(refused, TokenMisdirected)
    assert isinstance(first, Admission) and isinstance(last, Admission)
    assert (first.decision.uses, last.decision.uses) == (1, 2)
    assert len(plane.records()) == 2 and _uses(plane) == 2


def test_a_request_dropped_while_admitted_has_its_record_closed(plane: Plane) -> None:
    committer = Committer(plane.platform, plane.gateway.targets)
    entered, release = threading.Event(), threading.Event()
    write = committer._write

    def held(batch: list[object]) -> None:
        entered.set()
        release.wait(10)
        write(batch)  # type: ignore[arg-type]

    committer._write = held  # type: ignore[method-assign]
    claims = verify_token(plane.token, plane.gateway.keys)

    async def dropped() -> None:
        task = asyncio.create_task(committer.admit(claims, _request()))
        while not entered.is_set():
            await asyncio.sleep(0.01)
        task.cancel()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(200):  # the close is queued once the admission's commit is heard
            if [r.outcome for r in plane.records()] == ["client_gone"]:
                return
            await asyncio.sleep(0.02)

    committer.start()
    try:
        asyncio.run(dropped())
    finally:
        committer.stop()
    (record,) = plane.records()
    assert (record.permitted, record.outcome, record.status) == (True, "client_gone", 499)
    assert _uses(plane) == 1  # the use was counted and is accounted for


def test_a_remembered_token_still_expires_on_time(plane: Plane) -> None:
    claims = verify_token(plane.token, plane.gateway.keys)
    now = [claims.issued_at + 1.0]
    tokens = VerifiedTokens(clock=lambda: now[0])
    assert tokens.verify(plane.token, plane.gateway.keys, plane.gateway.audience) == claims
    now[0] = claims.expires_at
    with pytest.raises(TokenExpired):
        tokens.verify(plane.token, plane.gateway.keys, plane.gateway.audience)


def test_a_token_for_another_gateway_is_never_remembered(plane: Plane) -> None:
    tokens = VerifiedTokens()
    for _ in range(2):
        with pytest.raises(TokenMisdirected):
            tokens.verify(plane.token, plane.gateway.keys, "https://other.example.cn/data")


@pytest.fixture
def backend() -> Iterator[str]:
    """A real HTTP server on loopback (aiohttp's), in its own thread and event loop."""
    seen: list[str] = []

    async def echo(request: web.Request) -> web.Response:
        seen.append(request.raw_path)
        if request.path.startswith("/slow"):
            await asyncio.sleep(2)
        if request.path.startswith("/moved"):
            raise web.HTTPFound("/elsewhere")
        if request.path.startswith("/big"):
            return web.Response(body=b"x" * 5000, content_type="application/octet-stream")
        return web.json_response(
            {"path": request.raw_path, "agreement": request.headers.get("x-shuchang-agreement")}
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    port, loop = free_port(), asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.run_until_complete(runner.cleanup())
    loop.close()


def _exchange(url: str, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    async def go() -> tuple[int, dict[str, str], bytes]:
        client = upstream.AiohttpUpstream()
        try:
            status, headers, body = await client.exchange(
                "GET", url, headers={"x-shuchang-agreement": "a-1"}, body=b"", timeout=timeout
            )
            return status, dict(headers), body
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_the_upstream_client_sends_the_checked_path_as_is(backend: str) -> None:
    status, headers, body = _exchange(f"{backend}/api/a%2Fb?q=%E4%B8%AD")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert body == b'{"path": "/api/a%2Fb?q=%E4%B8%AD", "agreement": "a-1"}'


def test_the_upstream_client_does_not_follow_redirects(backend: str) -> None:
    status, headers, _ = _exchange(f"{backend}/moved")
    assert status == 302 and headers["Location"] == "/elsewhere"


def test_the_upstream_client_times_out_and_bounds_answers(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = time.monotonic()
    with pytest.raises(upstream.UpstreamTimeout):
        _exchange(f"{backend}/slow", timeout=0.3)
    assert time.monotonic() - started < 1.5
    monkeypatch.setattr(upstream, "MAX_RESPONSE", 4096)
    with pytest.raises(upstream.UpstreamUnavailable) as refused:
        _exchange(f"{backend}/big")
    assert refused.value.code == "dataplane.upstream_too_large"
