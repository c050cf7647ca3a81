"""Helpers of the data-plane tests: an API product behind a stand-in backend, a finalized
agreement and a STARTED pull transfer with its token, and the gateway driven in-process.

The backend is an ``httpx.MockTransport`` (a fake, not a mock of our code): it answers like
a provider's HTTP API and can be told to be down or slow. The gateway runs inside a blocking
portal (its own event loop thread) exactly as under granian: lifespan, pooled client, worker
threads for the database.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import msgspec
from anyio.from_thread import BlockingPortal, start_blocking_portal
from sqlalchemy import select

sys.path.append(str(Path(__file__).resolve().parents[1] / "contracts"))
sys.path.append(str(Path(__file__).resolve().parents[1] / "transfers"))
from contracts_support import Parties, register_parties
from transfers_support import Pair, act, detail, open_pair, provider_view, start, token_of
from two_connectors import free_port

from shuchang.domains.catalog import products, resources
from shuchang.domains.catalog.schemas import ProductIn, ResourceIn, ReviewDecision
from shuchang.domains.dataplane import Gateway, create_gateway
from shuchang.domains.dataplane.models import UsageRecord
from shuchang.domains.participants import SYSTEM, Actor
from shuchang.platform import Platform

BACKEND = "http://registry.samr.internal/api/companies"
PURPOSE = "小微企业信贷风险评估"
COMPANIES = [
    {"uscc": "91330300MA2AAAAA1X", "name": "东瓯甲公司", "capital": 100, "legal_person": "张三"},
    {"uscc": "91330300MA2BBBBB2X", "name": "东瓯乙公司", "capital": 200, "legal_person": "李四"},
]


def policy(*constraints: dict[str, Any]) -> dict[str, Any]:
    """An offer permitting ``use`` for PURPOSE, plus ``constraints``."""
    purpose = {"leftOperand": "purpose", "operator": "eq", "rightOperand": PURPOSE}
    return {
        "@type": "Offer",
        "permission": [{"action": "use", "constraint": [purpose, *constraints]}],
    }


def count_limit(n: int) -> dict[str, Any]:
    return {"leftOperand": "count", "operator": "lteq", "rightOperand": str(n)}


def fields_limit(*names: str) -> dict[str, Any]:
    return {"leftOperand": "fields", "operator": "isAnyOf", "rightOperand": list(names)}


def list_api_product(
    platform: Platform, provider_id: uuid.UUID, offer: dict[str, Any], url: str = BACKEND
) -> uuid.UUID:
    """An API product of ``provider_id`` over BACKEND, listed through review."""
    actor = Actor(participant_id=provider_id, role="provider")
    resource = msgspec.convert(
        {
            "title": "企业登记信息查询接口",
            "description": "东瓯市市场主体登记信息查询接口，实时。",
            "fields": [
                {"name": "uscc", "type": "string", "role": "identifier"},
                {"name": "name", "type": "string"},
                {"name": "capital", "type": "integer"},
                {"name": "legal_person", "type": "string"},
            ],
            "source": "登记系统",
            "update_frequency": "realtime",
            "industry": "L72",
            "classification": "general",
            "location": {"type": "http", "url": url},
            "tags": ["企业登记"],
        },
        ResourceIn,
    )
    with platform.unit() as s:
        rid = resources.register(s, actor, resource).id
        body = {
            "kind": "api",
            "title": "企业登记信息查询服务",
            "description": "面向金融机构的企业登记信息查询接口，经连接器按合约调用。",
            "resources": [str(rid)],
            "policy": offer,
            "price": {"model": "per_call", "amount_fen": 10},
            "tags": ["企业登记"],
        }
        product = products.create(s, actor, msgspec.convert(body, ProductIn))
        products.submit(s, actor, product.id)
        products.review(s, SYSTEM, product.id, ReviewDecision(decision="approve"), ("operator",))
    return product.id


@dataclass
class Backend:
    """The provider's backend API: records what reached it; ``down``/``delay`` make it fail."""

    seen: list[httpx.Request] = field(default_factory=list)
    down: bool = False
    delay: float = 0.0
    answer: Any = None
    content_type: str = "application/json"

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if self.delay:
            await anyio.sleep(self.delay)
        body = COMPANIES if self.answer is None else self.answer
        raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        return httpx.Response(200, content=raw, headers={"content-type": self.content_type})


@dataclass
class Plane:
    """The gateway of the pair's provider, a client to it, the token of a STARTED transfer."""

    pair: Pair
    gateway: Gateway
    backend: Backend
    portal: BlockingPortal
    client: httpx.AsyncClient
    token: str
    consumer_view: dict[str, Any]

    @property
    def platform(self) -> Platform:
        return self.pair.provider.platform

    def get(self, path: str = "/data", token: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}", **kw.pop("headers", {})}
        return self.portal.call(lambda: self.client.get(path, headers=headers, **kw))

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.portal.call(lambda: self.client.request(method, path, **kw))

    def many(self, n: int, path: str = "/data") -> list[httpx.Response]:
        """``n`` requests at once (concurrently on the gateway's event loop)."""

        async def burst() -> list[httpx.Response]:
            out: list[httpx.Response] = []

            async def one() -> None:
                out.append(
                    await self.client.get(path, headers={"Authorization": f"Bearer {self.token}"})
                )

            async with anyio.create_task_group() as tg:
                for _ in range(n):
                    tg.start_soon(one)
            return out

        return self.portal.call(burst)

    def provider_transfer(self) -> dict[str, Any]:
        return provider_view(self.pair, self.consumer_view["consumer_pid"])

    def records(self) -> list[UsageRecord]:
        with self.platform.unit(write=False) as s:
            rows = list(s.scalars(select(UsageRecord).order_by(UsageRecord.id)))
            s.expunge_all()
        return rows


@contextmanager
def open_plane(
    platform: Platform,
    tmp_path: Path,
    offer: dict[str, Any] | None = None,
    backend_url: str = BACKEND,
    lister: Callable[[Platform, uuid.UUID, dict[str, Any]], uuid.UUID] | None = None,
    **settings: Any,
) -> Iterator[Plane]:
    """A finalized agreement on an API product (or what ``lister`` lists), a STARTED pull
    transfer, the running gateway."""
    offer = offer or policy()
    parties: Parties = register_parties(platform, offer)
    product_id = (
        lister(platform, parties.provider.id, offer)
        if lister
        else list_api_product(platform, parties.provider.id, offer, backend_url)
    )
    parties = dataclasses.replace(parties, product_id=product_id)
    tuned = {
        "dataplane_seal_seconds": 0,
        "dataplane_push_seconds": 0,  # tests drive the pusher themselves
        "dataplane_rate": 100_000,
        **settings,
    }
    backend = Backend()
    with ExitStack() as stack:
        pair = stack.enter_context(open_pair(platform, tmp_path, parties, **tuned))
        view = start(pair)
        assert view["state"] == "STARTED", view
        gateway = create_gateway(
            platform=pair.provider.platform, transport=httpx.MockTransport(backend)
        )
        portal = stack.enter_context(start_blocking_portal())
        stack.enter_context(portal.wrap_async_context_manager(gateway.running()))
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=gateway), base_url="https://bureau.dongou.example.cn"
        )
        stack.callback(portal.call, client.aclose)
        yield Plane(pair, gateway, backend, portal, client, token_of(view), view)


@contextmanager
def gateway_process(
    plane: Plane, tmp_path: Path, *, workers: int = 1, **env: str
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``shuchang dataplane serve`` for the plane's provider, as its own process (granian)."""
    s = plane.platform.settings
    port = free_port()
    env = {
        **os.environ,
        "SHUCHANG_DATABASE_URL": s.database_url,
        "SHUCHANG_LOG_KEY_FILE": s.log_key_file,
        "SHUCHANG_CONNECTOR_KEY_FILE": s.connector_key_file,
        "SHUCHANG_CONNECTOR_URL": s.connector_url,
        "SHUCHANG_DATAPLANE_SEAL_SECONDS": "0",
        **env,
    }
    log = (tmp_path / "gateway.log").open("ab")
    command = [sys.executable, "-m", "shuchang", "dataplane", "serve", f"--port={port}"]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [*command, f"--workers={workers}"],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            with suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError((tmp_path / "gateway.log").read_text(errors="replace")[-2000:])
        yield process, base
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def suspend(plane: Plane) -> None:
    """The provider suspends the transfer."""
    answer = act(plane.pair.provider, plane.provider_transfer()["id"], "suspend", reason="核查")
    assert answer.status_code == 200, answer.text


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["message_zh"] and body["message_en"], body
    return body


__all__ = ["detail"]
