"""Prometheus metrics (运维指标) at ``/metrics``.

* ``shuchang_http_requests_total{method, code}`` — requests served, counted by a small ASGI
  middleware (one counter increment per request: the only work on the hot path);
* gauges read from the database **when Prometheus scrapes**, never per request:
  participants by status, products by status, agreements by status, the evidence log's size,
  its queue of entries waiting to be sequenced, the latest checkpoint's size and age, and
  the last audit's outcome.

Exposure: with ``SHUCHANG_METRICS_TOKEN`` set, a scrape must send
``Authorization: Bearer <token>``; without it only the loopback address may scrape.

Several worker processes (``serve --workers N``): each counts its own requests. Set
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory writable by the workers (cleared before
start), and the counters of all workers are summed at every scrape (prometheus-client's
multi-process mode); the database gauges are the same whichever worker answers.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.catalog import product_counts
from shuchang.domains.contracts import agreement_facts
from shuchang.domains.participants import count_by_kind_status
from shuchang.domains.supervision import audits
from shuchang.errors import PermissionDenied, Unauthenticated
from shuchang.platform import Platform

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LOOPBACK = ("127.0.0.1", "::1", "localhost", "testclient")
REQUESTS = Counter(
    "shuchang_http_requests", "HTTP requests served", ["method", "code"], registry=None
)


def count_requests(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: count each HTTP response by method and status class (2xx, 4xx …)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start":
                REQUESTS.labels(scope.get("method", "?"), f"{message['status'] // 100}xx").inc()
            await send(message)

        await app(scope, receive, counting)

    return middleware


def _gauge(name: str, doc: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


class PlatformCollector(Collector):
    """Database gauges, read in one read-only transaction per scrape."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def collect(self) -> Iterator[Metric]:
        with self.platform.unit(write=False) as s:
            people: dict[str, int] = {}
            for _, status, n in count_by_kind_status(s):
                people[status] = people.get(status, 0) + n
            listed: dict[str, int] = {}
            for status, *_, n in product_counts(s):
                listed[status] = listed.get(status, 0) + n
            agreements: dict[str, int] = {}
            now = utcnow()
            for a in agreement_facts(s):
                state = "expired" if a.status == "active" and a.valid_until <= now else a.status
                agreements[state] = agreements.get(state, 0) + 1
            log = evidence.log_status(s, self.platform.log_signer)
            audit = audits.latest(s)
        yield _gauge("shuchang_participants", "Participants by status", "status", people)
        yield _gauge("shuchang_products", "Data products by status", "status", listed)
        yield _gauge("shuchang_agreements", "Agreements by status", "status", agreements)
        yield GaugeMetricFamily(
            "shuchang_evidence_log_size", "Leaves in the evidence log", value=log.size
        )
        yield GaugeMetricFamily(
            "shuchang_evidence_queue_length",
            "Evidence entries waiting to be sequenced",
            value=log.pending,
        )
        yield GaugeMetricFamily(
            "shuchang_evidence_checkpoint_size",
            "Tree size of the latest signed checkpoint",
            value=log.checkpoint_size or 0,
        )
        age = (now - log.published_at).total_seconds() if log.published_at else -1
        yield GaugeMetricFamily(
            "shuchang_evidence_checkpoint_age_seconds",
            "Age of the latest checkpoint (-1: none)",
            value=age,
        )
        yield GaugeMetricFamily(
            "shuchang_evidence_audit_ok",
            "1 if the last audit found nothing, 0 if it found damage, -1 if none ran",
            value=-1 if audit is None else int(audit.ok),
        )


def exposition(platform: Platform) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(REQUESTS)
    registry.register(PlatformCollector(platform))
    return generate_latest(registry)


def admit(token: str, authorization: str | None, client: Any) -> None:
    """The scrape's credentials: the bearer token when one is set, else loopback only."""
    if token:
        sent = (authorization or "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), token.encode()):
            raise Unauthenticated(
                "A valid metrics token is required",
                "需要有效的监控令牌",
                code="metrics.token_required",
            )
        return
    host = getattr(client, "host", None)
    if host not in LOOPBACK:
        raise PermissionDenied(
            "Metrics are served to the loopback address only (set SHUCHANG_METRICS_TOKEN)",
            "监控指标只对本机开放（或设置 SHUCHANG_METRICS_TOKEN）",
            code="metrics.loopback_only",
        )
