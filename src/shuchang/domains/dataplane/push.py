"""Push delivery (推送交付): the provider's connector sends a push transfer's data to the
endpoint the consumer registered, decided and metered like a pull.

Once a ``HttpData-PUSH`` transfer is STARTED, a pusher (a background task of
``shuchang dataplane serve``, or ``shuchang dataplane push [--once]``) takes its job
(:mod:`.push_jobs`) and, unit by unit (:mod:`.push_units`), sends::

    PUT <endpoint>/<resource id>/<file name>            each file part (raw or projected)
    PUT <endpoint>/<resource id>/<table>[.pN].<format>  each page of a table part
    PUT <endpoint>/manifest                             last: every part with its digests

with the consumer's auth properties (``authorization`` → ``Authorization``; ``authKey`` +
``authCode`` → that header, EDC's convention; ``header:<Name>`` → that header) and
``X-Shuchang-*`` headers naming the transfer, part, unit and attempt. A file sent as it is
carries ``Content-Length`` and ``Repr-Digest`` (SHA-256 and SM3, RFC 9530); the manifest
gives SHA-256 and SM3 of every unit, computed while sending when the bytes are not a
published file's. A 2xx answer is the consumer's acceptance. Units already accepted are not
sent again; when every unit and the manifest are, the transfer is COMPLETED
(TransferCompletionMessage). A failed attempt waits 2, 4, 8 … s (at most 5 min) and is tried
again up to ``SHUCHANG_DATAPLANE_PUSH_ATTEMPTS`` times, then the transfer is TERMINATED with
code ``push_failed`` and the reason; a denial by the agreement or data that cannot be
delivered terminates it at once (``push_denied``, ``push_undeliverable``).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote

import anyio
import anyio.to_thread
import httpx
from sqlalchemy.orm import Session

from shuchang.domains.contracts import Connector, load_connector
from shuchang.domains.dataplane import push_jobs as jobs
from shuchang.domains.dataplane import tables
from shuchang.domains.dataplane.datasets import Datasets
from shuchang.domains.dataplane.delivery import PartAdmission
from shuchang.domains.dataplane.digests import new_sm3
from shuchang.domains.dataplane.errors import (
    BadTableQuery,
    NotDeliverable,
    PartNotFound,
    PartRequired,
    Unprojectable,
)
from shuchang.domains.dataplane.metering import DELIVERED, Closing
from shuchang.domains.dataplane.push_jobs import Claimed, LeaseLost, Stopped
from shuchang.domains.dataplane.push_units import (
    MANIFEST,
    Prepared,
    Unit,
    Units,
    claims_of,
    file_name,
    table_name,
)
from shuchang.domains.transfers import Outbound, TokenMisdirected, TransferNotStarted, deliver
from shuchang.errors import NotFound, ShuchangError
from shuchang.platform import Platform

logger = logging.getLogger("shuchang.dataplane.push")
PERMANENT = (
    Unprojectable,
    NotDeliverable,
    PartNotFound,
    PartRequired,
    BadTableQuery,
    TokenMisdirected,
    NotFound,
)


class SinkFailed(Exception):
    """The consumer's endpoint refused the unit or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Denied(Exception):
    """The usage decision said no (its record is written, complete)."""


def sink_headers(properties: dict[str, str]) -> dict[str, str]:
    """The headers the consumer's data address asks the provider to send."""
    out: dict[str, str] = {}
    if properties.get("authorization"):
        out["authorization"] = properties["authorization"]
    if properties.get("authKey") and properties.get("authCode"):
        out[properties["authKey"]] = properties["authCode"]
    for name, value in properties.items():
        if name.startswith("header:") and len(name) > len("header:"):
            out[name.removeprefix("header:")] = value
    return out


class _Sent:
    """Counts and digests the bytes of one unit as they go out, renewing the lease."""

    def __init__(self, digest: bool) -> None:
        self.bytes = 0
        self.sha = hashlib.sha256() if digest else None
        self.sm3 = new_sm3() if digest else None

    def take(self, chunk: bytes) -> None:
        self.bytes += len(chunk)
        if self.sha is not None and self.sm3 is not None:
            self.sha.update(chunk)
            self.sm3.update(chunk)

    def digests(self) -> dict[str, str]:
        if self.sha is None or self.sm3 is None:
            return {}
        return {"sha256": self.sha.hexdigest(), "sm3": self.sm3.hexdigest()}


class Pusher:
    """Delivers the push transfers of this platform's connector. ``client`` replaces the
    HTTP client to consumers' endpoints; ``base`` is the first backoff in seconds."""

    def __init__(
        self,
        platform: Platform,
        datasets: Datasets | None = None,
        *,
        client: httpx.AsyncClient | None = None,
        base: float = 2.0,
        page_rows: int = tables.MAX_LIMIT,
    ) -> None:
        s = platform.settings
        self.platform = platform
        self.units = Units(datasets or Datasets(platform), page_rows=page_rows)
        self.lease = float(s.dataplane_push_lease_seconds)
        self.attempts, self.base = s.dataplane_push_attempts, base
        timeout = s.dataplane_timeout_ms / 1000
        self._client = client
        self._off = False  # the connector is not configured (said once)
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))

    # ---- the loop ----------------------------------------------------------------------------

    async def loop(self, seconds: float | None = None) -> None:
        """Every ``seconds`` (``SHUCHANG_DATAPLANE_PUSH_SECONDS``): push every job due."""
        pause = seconds if seconds is not None else self.platform.settings.dataplane_push_seconds
        while True:
            try:
                await self.run_once()
            except Exception:  # the next round tries again; never stop the gateway
                logger.exception("push round failed")
            await anyio.sleep(pause)

    async def run_once(self) -> int:
        """Make the missing jobs and push every job due now; how many attempts were made."""
        connector = await anyio.to_thread.run_sync(self._connector)
        if connector is None:
            return 0
        tried = 0
        while True:
            claimed = await anyio.to_thread.run_sync(self._claim, connector)
            if claimed is None:
                return tried
            tried += 1
            await self.push(connector, claimed)

    def _connector(self) -> Connector | None:
        try:
            with self.platform.unit() as s:
                connector = load_connector(s, self.platform.settings)
                jobs.ensure_jobs(s, connector.participant.id)
        except ShuchangError as exc:
            if not self._off:
                logger.warning("push delivery is off: %s", exc.message_en)
            self._off = True
            return None
        self._off = False
        return connector

    def _claim(self, connector: Connector) -> Claimed | None:
        with self.platform.unit() as s:
            claimed, outbound = jobs.claim(
                s, connector.participant.id, lease=self.lease, attempts=self.attempts
            )
        for message in outbound:
            self._send_message(connector, message)
        return claimed

    def _send_message(self, connector: Connector, outbound: Outbound | None) -> None:
        deliver(self.platform.unit, self.platform.transport, connector, outbound)

    def _in_unit(self, work: Callable[[Session], Any]) -> Any:
        with self.platform.unit() as s:
            return work(s)

    # ---- one job -----------------------------------------------------------------------------

    async def push(self, connector: Connector, claimed: Claimed) -> None:
        """One attempt at a job: every unit not yet accepted, then the manifest."""
        client = self._client or httpx.AsyncClient(timeout=self._timeout)
        try:
            outbound = await self._attempt(client, claimed)
        except LeaseLost:
            logger.warning("push job %s was taken over by another pusher", claimed.job_id)
            return
        finally:
            if self._client is None:
                await client.aclose()
        if outbound is not None:
            await anyio.to_thread.run_sync(self._send_message, connector, outbound)

    async def _attempt(self, client: httpx.AsyncClient, claimed: Claimed) -> Outbound | None:
        try:
            await self._all_units(client, claimed)
        except Stopped:
            await anyio.to_thread.run_sync(self._in_unit, lambda s: jobs.stop(s, claimed))
            return None
        except Denied as exc:
            return await self._fail(claimed, "push_denied", str(exc), final=True)
        except PERMANENT as exc:
            return await self._fail(claimed, "push_undeliverable", exc.message_en, final=True)
        except TransferNotStarted:
            await anyio.to_thread.run_sync(self._in_unit, lambda s: jobs.stop(s, claimed))
            return None
        except SinkFailed as exc:
            return await self._fail(claimed, "push_failed", str(exc), status=exc.status)
        except ShuchangError as exc:  # the provider's source is down, for instance
            return await self._fail(claimed, "push_failed", exc.message_en, status=exc.status)
        return await anyio.to_thread.run_sync(self._in_unit, lambda s: jobs.succeed(s, claimed))

    async def _fail(
        self, claimed: Claimed, code: str, message: str, *, final: bool = False, status: Any = None
    ) -> Outbound | None:
        error = {"code": code, "message": message[:500], "status": status}
        logger.warning("push job %s attempt %s: %s", claimed.job_id, claimed.attempt, message)
        result: Outbound | None = await anyio.to_thread.run_sync(
            self._in_unit,
            lambda s: jobs.fail(
                s, claimed, error, attempts=self.attempts, base=self.base, final=final
            ),
        )
        return result

    async def _all_units(self, client: httpx.AsyncClient, claimed: Claimed) -> None:
        offering = await self.units.datasets.offering(claims_of(claimed.transfer, claimed.job_id))
        if offering.kind not in ("dataset", "data_element"):
            raise NotDeliverable("Only dataset products are pushed", "只有数据集类产品可以推送")
        if not offering.parts:
            raise PartNotFound()
        for part in offering.parts:
            kind = part.location.get("type")
            if kind == "file":
                unit = Unit(str(part.resource_id), part, "file", file_name(part))
                await self._unit(client, claimed, unit)
            elif kind == "sql":
                await self._table(client, claimed, part)
        manifest = Unit(MANIFEST, offering.parts[0], MANIFEST, MANIFEST)
        await self._unit(client, claimed, manifest)

    async def _table(self, client: httpx.AsyncClient, claimed: Claimed, part: Any) -> None:
        fmt = tables.choose_format(claimed.transfer.properties.get("format"), None)
        page, after = 1, None
        while True:
            key = f"{part.resource_id}:{page}"
            unit = Unit(key, part, "table", table_name(part, fmt, page), page, after)
            await self._unit(client, claimed, unit, fmt=fmt)
            after = claimed.progress[key].get("next")
            if after is None:
                return
            page += 1

    # ---- one unit ----------------------------------------------------------------------------

    async def _unit(
        self, client: httpx.AsyncClient, claimed: Claimed, unit: Unit, fmt: str = "csv"
    ) -> None:
        entry = claimed.progress.get(unit.key, {})
        if entry.get("done"):
            return
        claims = claims_of(claimed.transfer, claimed.job_id)

        def opened(s: Session, admission: PartAdmission) -> None:
            if admission.decision.permitted:
                jobs.opened(s, claimed, unit.key, admission.record_id, admission.counted)

        paid = "paid" in entry
        if unit.kind == "file":
            prepared = await self.units.file(claims, unit, paid, opened)
        elif unit.kind == "table":
            prepared = await self.units.table(claims, unit, paid, opened, fmt)
        else:
            prepared = await self.units.manifest(claims, unit, opened, self._manifest(claimed))
        if not prepared.admission.decision.permitted:
            raise Denied(prepared.admission.decision.reason_en)
        await self._send(client, claimed, unit, prepared)

    def _manifest(self, claimed: Claimed) -> dict[str, Any]:
        t = claimed.transfer
        parts = [
            {"unit": key, **{k: v for k, v in entry.items() if k not in ("paid", "done", "next")}}
            for key, entry in claimed.progress.items()
            if key != MANIFEST and entry.get("done")
        ]
        return {
            "agreement_id": str(t.agreement_id),
            "providerPid": t.provider_pid,
            "consumerPid": t.consumer_pid,
            "epoch": t.epoch,
            "parts": parts,
        }

    def _url(self, claimed: Claimed, unit: Unit) -> str:
        base = claimed.transfer.endpoint.rstrip("/")
        if unit.kind == MANIFEST:
            return f"{base}/{MANIFEST}"
        return f"{base}/{unit.part.resource_id}/{quote(unit.name)}"

    def _headers(self, claimed: Claimed, unit: Unit, prepared: Prepared) -> dict[str, str]:
        t = claimed.transfer
        headers = {
            **sink_headers(t.properties),
            **prepared.headers,
            "x-shuchang-provider-pid": t.provider_pid,
            "x-shuchang-consumer-pid": t.consumer_pid,
            "x-shuchang-agreement": str(t.agreement_id),
            "x-shuchang-unit": unit.key,
            "x-shuchang-attempt": str(claimed.attempt),
        }
        if unit.kind != MANIFEST:
            headers["x-shuchang-part"] = str(unit.part.resource_id)
        if prepared.reply.length is not None:
            headers["content-length"] = str(prepared.reply.length)
        return headers

    async def _send(
        self, client: httpx.AsyncClient, claimed: Claimed, unit: Unit, prepared: Prepared
    ) -> None:
        """PUT the unit, renewing the lease per chunk; close its record with what happened."""
        sent = _Sent(prepared.digest)
        started = jobs.clock()

        async def body() -> AsyncIterator[bytes]:
            assert prepared.reply.chunks is not None
            async for chunk in prepared.reply.chunks:
                await anyio.to_thread.run_sync(self._beat, claimed, sent.bytes)
                sent.take(chunk)
                yield chunk

        method = claimed.transfer.properties.get("method", "PUT").upper()
        outcome, status = DELIVERED, 0
        failure: Exception | None = None
        try:
            answer = await client.request(
                "POST" if method == "POST" else "PUT",
                self._url(claimed, unit),
                content=body(),
                headers=self._headers(claimed, unit, prepared),
            )
            status = answer.status_code
            if not 200 <= status < 300:  # noqa: PLR2004
                outcome = "sink_refused"
                failure = SinkFailed(f"the endpoint answered HTTP {status}", status)
        except (Stopped, LeaseLost) as exc:
            outcome, failure = jobs.STOPPED_OUTCOME, exc
        except httpx.HTTPError as exc:
            outcome = "sink_unreachable"
            failure = SinkFailed(f"the endpoint could not be reached: {exc!r}"[:300])
        except ShuchangError as exc:  # the source failed while it was read
            outcome, failure = "error", exc
        if isinstance(failure, LeaseLost):
            raise failure
        await self._closed(claimed, unit, prepared, sent, (outcome, status, started))
        if failure is not None:
            raise failure

    def _beat(self, claimed: Claimed, sent: int) -> None:
        with self.platform.unit() as s:
            jobs.beat(s, claimed, sent=sent, lease=self.lease)

    async def _closed(
        self,
        claimed: Claimed,
        unit: Unit,
        prepared: Prepared,
        sent: _Sent,
        how: tuple[str, int, float],
    ) -> None:
        outcome, status, started = how
        closing = Closing(
            record_id=prepared.admission.record_id,
            outcome=outcome,
            status=status or jobs.CLIENT_CLOSED,
            size=sent.bytes,
            rows=prepared.reply.progress.rows,
            duration_ms=int((jobs.clock() - started) * 1000),
        )
        facts: dict[str, Any] = {}
        if outcome == DELIVERED:
            facts = {
                **prepared.facts,
                "done": True,
                "name": unit.name,
                "resource_id": str(unit.part.resource_id),
                "title": unit.part.title,
                "version": unit.part.version,
                "bytes": sent.bytes,
                "rows": prepared.reply.progress.rows,
                "next": prepared.next_after,
                **sent.digests(),
            }
        await anyio.to_thread.run_sync(
            self._in_unit, lambda s: jobs.closed(s, claimed, unit.key, closing, facts)
        )


async def push_loop(platform: Platform, datasets: Datasets) -> None:
    """The gateway's background task: pushes while the gateway runs, when
    ``SHUCHANG_DATAPLANE_PUSH_SECONDS`` > 0 (a push cut off by shutdown is taken over)."""
    if platform.settings.dataplane_push_seconds > 0:
        await Pusher(platform, datasets).loop()


def job_ids(session: Session, transfer_id: uuid.UUID) -> list[int]:
    """The push jobs of a transfer, oldest first (for tests and the console)."""
    from sqlalchemy import select

    from shuchang.domains.dataplane.delivery_models import PushJob

    return list(
        session.scalars(
            select(PushJob.id).where(PushJob.transfer_id == transfer_id).order_by(PushJob.id)
        )
    )
