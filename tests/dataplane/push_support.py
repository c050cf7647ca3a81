"""Helpers of the push tests: a consumer's receiving endpoint (a real HTTP server on the
loopback), a STARTED push transfer to it, and the provider's pusher driven in-process.

The sink stores each PUT/POST body by path with its headers, checks the authorization the
consumer registered, and can be told to refuse the next N requests, to answer slowly, or to
read slowly (so a push stays in flight).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from dataplane_support import Plane
from datasets_support import open_dataset
from sqlalchemy import select
from transfers_support import PUSH, detail, provider_view, start

from shuchang.domains.contracts.models import Usage
from shuchang.domains.dataplane.delivery_models import PushJob
from shuchang.domains.dataplane.push import Pusher
from shuchang.platform import Platform

SINK_KEY = "Bearer sink-secret-of-the-bank"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class SinkState:
    received: list[Received] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)  # every path asked, accepted or not
    refuse: int = 0  # refuse the next N requests with ``refuse_status``
    refuse_status: int = 503
    read_delay: float = 0.0  # seconds per 64 KiB read: a slow consumer
    keep: bool = True  # False: count the bytes, keep none (benchmarks)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> dict[str, bytes]:
        with self.lock:
            return {r.path: r.body for r in self.received}

    def last(self, suffix: str) -> Received:
        with self.lock:
            found = [r for r in self.received if r.path.endswith(suffix)]
        assert found, f"nothing received at …{suffix}: {[r.path for r in self.received]}"
        return found[-1]


class _Discard(bytearray):
    """A body that is only counted."""

    size = 0

    def __iadd__(self, block: object) -> _Discard:  # type: ignore[override]
        self.size += len(block)  # type: ignore[arg-type]
        return self


def _read_body(handler: BaseHTTPRequestHandler, delay: float, keep: bool = True) -> bytes:
    """The request body, Content-Length or chunked (BaseHTTPRequestHandler decodes neither)."""
    out: bytearray = bytearray() if keep else _Discard()
    if handler.headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                handler.rfile.readline()
                return bytes(out)
            out += handler.rfile.read(size)
            handler.rfile.readline()
            if delay:
                time.sleep(delay)
    left = int(handler.headers.get("content-length", "0"))
    while left > 0:
        block = handler.rfile.read(min(64 * 1024, left))
        if not block:
            raise ConnectionError("the sender went away mid-body")
        out += block
        left -= len(block)
        if delay:
            time.sleep(delay)
    return bytes(out)


def _handler(state: SinkState) -> type[BaseHTTPRequestHandler]:
    class Sink(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, status: int, body: bytes = b"") -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _take(self) -> None:
            try:
                self._receive()
            except (ConnectionError, ValueError):
                self.close_connection = True  # a body cut short is not received

        def _receive(self) -> None:
            with state.lock:
                state.attempts.append(self.path)
                refuse = state.refuse > 0
                state.refuse -= 1 if refuse else 0
            if self.headers.get("authorization") != SINK_KEY:
                _read_body(self, 0)
                self._answer(401, b"who are you")
                return
            body = _read_body(self, 0 if refuse else state.read_delay, state.keep)
            if refuse:
                self._answer(state.refuse_status, b"busy")
                return
            with state.lock:
                state.received.append(
                    Received(
                        self.command,
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                    )
                )
            self._answer(201)

        do_PUT = _take  # noqa: N815 - the http.server convention
        do_POST = _take  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Sink


@contextmanager
def sink() -> Iterator[tuple[str, SinkState]]:
    state = SinkState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/inbox/credit", state
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Push:
    plane: Plane
    endpoint: str
    sink: SinkState
    consumer_view: dict[str, Any]

    @property
    def platform(self) -> Platform:
        return self.plane.platform

    def provider(self) -> dict[str, Any]:
        return provider_view(self.plane.pair, self.consumer_view["consumer_pid"])

    def consumer(self) -> dict[str, Any]:
        return detail(self.plane.pair.consumer, self.consumer_view["id"])

    def pusher(self, **kw: Any) -> Pusher:
        kw.setdefault("base", 0.01)
        return Pusher(self.platform, self.plane.gateway.datasets, **kw)

    def run(self, pusher: Pusher | None = None) -> int:
        chosen = pusher or self.pusher()
        return self.plane.portal.call(chosen.run_once)

    def run_until_done(self, pusher: Pusher | None = None, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.run(pusher)
            if self.jobs() and self.jobs()[-1].state in ("done", "failed", "stopped"):
                return
            time.sleep(0.05)
        raise AssertionError(f"push not finished: {[(j.state, j.attempts) for j in self.jobs()]}")

    def jobs(self) -> list[PushJob]:
        transfer_id = uuid.UUID(self.provider()["id"])
        with self.platform.unit(write=False) as s:
            rows = list(
                s.scalars(
                    select(PushJob).where(PushJob.transfer_id == transfer_id).order_by(PushJob.id)
                )
            )
            s.expunge_all()
        return rows

    def uses(self) -> int:
        with self.platform.unit(write=False) as s:
            found = s.scalar(
                select(Usage.uses).where(Usage.agreement_id == self.plane.pair.agreement_id)
            )
        return int(found or 0)

    def push_records(self) -> list[Any]:
        return [r for r in self.plane.records() if r.channel == "push"]


@contextmanager
def open_push(
    platform: Platform,
    tmp_path: Path,
    locations: list[dict[str, Any]],
    offer: dict[str, Any] | None = None,
    properties: dict[str, str] | None = None,
    **settings: Any,
) -> Iterator[Push]:
    """A dataset over ``locations``, a STARTED push transfer to a running sink."""
    with (
        sink() as (endpoint, state),
        open_dataset(platform, tmp_path, locations, offer, **settings) as plane,
    ):
        view = start(
            plane.pair,
            PUSH,
            data_address={
                "endpoint": endpoint,
                "properties": {"authorization": SINK_KEY, **(properties or {})},
            },
        )
        assert view["state"] == "STARTED", view
        yield Push(plane, endpoint, state, view)
