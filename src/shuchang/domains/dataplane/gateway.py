"""The data-plane gateway (数据面网关): a lean ASGI app serving API products at ``/data/…``.

Per request: the bearer token is verified (signature, expiry, audience; no database — a
verified token is remembered until it expires), the agreement's rate limit is taken, then one
transaction checks that the transfer is STARTED, decides the use, counts it and inserts the
usage record; a permitted request is forwarded to the provider's backend API (pooled aiohttp
client, overall timeout), the answer is projected to the allowed fields, sent, and the
record's outcome written in a second transaction. Both transactions are shared by the
requests waiting at that moment (group commit, :mod:`.admission`). The gateway also seals
usage records into the evidence log periodically.
Run it as its own process: ``shuchang dataplane serve`` (granian, like ``shuchang serve``).
"""

from __future__ import annotations

import base64
import logging
import math
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote_from_bytes, unquote, unquote_plus

import anyio
import anyio.to_thread
import httpx
import msgspec

from shuchang.db import utcnow
from shuchang.domains.dataplane import metering, sealing, upstream
from shuchang.domains.dataplane.admission import CLIENT_CLOSED, Committer
from shuchang.domains.dataplane.datasets import Ask, Datasets, Served
from shuchang.domains.dataplane.delivery import Offerings
from shuchang.domains.dataplane.errors import (
    BodyTooLarge,
    Denied,
    MethodNotAllowed,
    RateLimited,
    UnknownRoute,
)
from shuchang.domains.dataplane.push import push_loop
from shuchang.domains.dataplane.ratelimit import RateLimiter
from shuchang.domains.dataplane.schemas import BatchOut
from shuchang.domains.dataplane.service import Admission, DataRequest, Targets
from shuchang.domains.dataplane.streaming import Streamed, send_streamed
from shuchang.domains.transfers import (
    Plane,
    TokenClaims,
    TokenExpired,
    TokenRejected,
    verify_token,
)
from shuchang.errors import InvalidInput, ShuchangError
from shuchang.platform import Platform
from shuchang.ports import Ed25519Signer, fingerprint
from shuchang.settings import Settings

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

logger = logging.getLogger("shuchang.dataplane")
MAX_BODY = 10 * 1024 * 1024
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
MAX_FIELDS = 500
IN_FLIGHT_MARGIN = 60  # seconds beyond the upstream timeout after which a record is orphaned


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Exchange:
    """What metering needs to know about one request while it is served."""

    started_at: datetime = field(default_factory=utcnow)
    clock: float = field(default_factory=time.monotonic)
    record_id: int | None = None
    outcome: str = metering.DELIVERED
    rows: int = 0
    served: Served | None = None  # a dataset download: bytes and rows counted as sent


def _problem(error: ShuchangError, instance: str) -> Reply:
    headers = [("content-type", "application/problem+json")]
    if isinstance(error, RateLimited):
        headers.append(("retry-after", str(error.extra.get("retry_after", 1))))
    if error.http_status == 401:  # noqa: PLR2004
        headers.append(("www-authenticate", 'Bearer realm="shuchang-data"'))
    if error.http_status == 416:  # noqa: PLR2004 - RFC 9110 §15.5.17: the current length
        headers.append(("content-range", f"bytes */{error.extra.get('size', '*')}"))
    return Reply(error.http_status, headers, msgspec.json.encode(error.problem(instance)))


def connector_keys(settings: Settings) -> dict[str, bytes]:
    """The public key tokens are signed with (the connector's), by fingerprint."""
    if not settings.connector_key_file:
        raise ValueError("the data plane needs SHUCHANG_CONNECTOR_KEY_FILE (the token key)")
    seed = base64.b64decode(Path(settings.connector_key_file).read_text().strip(), validate=True)
    public = Ed25519Signer.from_seed(seed).public_key()
    return {fingerprint(public): public}


def audience_of(settings: Settings) -> str:
    """This gateway's endpoint, exactly as the provider writes it into tokens (``aud``)."""
    if not (settings.dataplane_url or settings.connector_url):
        raise ValueError("the data plane needs SHUCHANG_DATAPLANE_URL or SHUCHANG_CONNECTOR_URL")
    return Plane.of(settings).endpoint


def _suffix(path: str, raw_path: bytes) -> str:
    """The path after ``/data`` (raw, as sent), refusing dot segments that would climb out of
    the API's base path upstream."""
    if path != "/data" and not path.startswith("/data/"):
        raise UnknownRoute()
    if any(seg in (".", "..") for seg in unquote(path).split("/")):
        raise UnknownRoute("Dot segments are not allowed in data paths", "数据路径不允许 . 或 ..")
    return raw_path.decode("latin-1")[len("/data") :]


def _bearer(headers: Mapping[str, str]) -> str:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRejected("A bearer access token is required", "需要 Bearer 访问令牌")
    return token.strip()


def _fields(raw: str) -> tuple[tuple[str, ...], str]:
    """The ``fields`` the consumer asks for (``fields=a,b``), and the rest of the query string
    exactly as sent (forwarded upstream without re-encoding)."""
    if not raw:
        return (), ""
    pairs = raw.split("&")
    asked = [p for p in pairs if unquote_plus(p.partition("=")[0]) == "fields"]
    if not asked:
        return (), raw
    values = [unquote_plus(p.partition("=")[2], encoding="latin-1") for p in asked]
    names = tuple(dict.fromkeys(n.strip() for v in values for n in v.split(",") if n.strip()))
    if len(names) > MAX_FIELDS or not all(FIELD_NAME.match(n) for n in names):
        raise InvalidInput(
            "fields must be a comma-separated list of field names",
            "fields 应为以逗号分隔的字段名",
            field="fields",
        )
    return names, "&".join(p for p in pairs if p not in asked)


def _query(raw: str) -> str:
    """The query string to send upstream: as sent, with any byte a URL may not carry raw
    (a space, non-ASCII sent unencoded) percent-encoded; escapes already there are kept."""
    return quote_from_bytes(raw.encode("latin-1"), safe="=&+%/:;,?@!$'()*~-._")


async def _body(receive: Receive) -> bytes:
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise BodyTooLarge()
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


class Gateway:
    """The ASGI app. ``transport`` replaces the network to the backends (tests, benchmarks)."""

    def __init__(
        self,
        platform: Platform,
        keys: Mapping[str, bytes],
        audience: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        owns_engine: bool = False,
    ) -> None:
        s = platform.settings
        self.platform, self.keys, self.audience = platform, dict(keys), audience
        self.timeout = s.dataplane_timeout_ms / 1000
        self.limiter = RateLimiter(s.dataplane_rate)
        offerings = Offerings()  # agreement → product, shared by API and dataset requests
        self.targets = Targets(offerings)
        self.committer = Committer(platform, self.targets)
        self.tokens = VerifiedTokens()
        self.datasets = Datasets(platform, offerings)
        self._transport, self._owns_engine = transport, owns_engine
        self._upstream: upstream.Upstream | None = None
        self._opened = 0  # records since the last seal

    # ---- lifecycle ---------------------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Gateway]:
        """The pooled upstream client, the committer and the sealing loop, for the app's
        lifetime."""
        self.platform.limit_threads()
        self._upstream = (
            upstream.HttpxUpstream(self._transport)
            if self._transport is not None
            else upstream.AiohttpUpstream()
        )
        self.committer.start()
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._seal_loop)
                tg.start_soon(push_loop, self.platform, self.datasets)
                yield self
                tg.cancel_scope.cancel()
        finally:
            await anyio.to_thread.run_sync(self.committer.stop)
            await self._upstream.aclose()
            self._upstream = None
            if self._owns_engine:
                self.platform.engine.dispose()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        async with self.running():
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
        await send({"type": "lifespan.shutdown.complete"})

    async def seal_now(self) -> list[BatchOut]:
        """Seal every usage record that is ready (in a worker thread)."""
        s = self.platform.settings
        self._opened = 0
        return await anyio.to_thread.run_sync(
            lambda: sealing.seal_all(
                self.platform.unit,
                limit=s.dataplane_seal_records,
                in_flight_seconds=math.ceil(self.timeout) + IN_FLIGHT_MARGIN,
            )
        )

    async def _seal_loop(self) -> None:
        s = self.platform.settings
        if s.dataplane_seal_seconds <= 0:
            return
        last = time.monotonic()
        while True:
            await anyio.sleep(min(1, s.dataplane_seal_seconds))
            due = time.monotonic() - last >= s.dataplane_seal_seconds
            if due or self._opened >= s.dataplane_seal_records:
                last = time.monotonic()
                try:
                    await self.seal_now()
                except Exception:  # a failed seal is retried next round; never stop serving
                    logger.exception("sealing usage records failed")

    # ---- requests ----------------------------------------------------------------------------

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _http(self, scope: Message, receive: Receive, send: Send) -> None:
        exchange = Exchange()
        try:
            reply = await self._serve(scope, receive, exchange)
        except ShuchangError as exc:
            reply = _problem(exc, scope["path"])
            exchange.outcome = exc.code.removeprefix("dataplane.")
        except anyio.get_cancelled_exc_class():  # the server dropped the request (client gone)
            exchange.outcome = "client_gone"
            await self._finish(exchange, Reply(CLIENT_CLOSED, [], b""), sent=False)
            raise
        except Exception:
            logger.exception("data request failed")
            reply = _problem(ShuchangError(), scope["path"])
            exchange.outcome = "error"
        try:
            sent = await self._send(send, receive, reply, scope)
        except anyio.get_cancelled_exc_class():  # cancelled mid-download: bytes so far count
            exchange.outcome = "client_gone"
            await self._finish(exchange, reply, sent=False)
            raise
        except Exception:  # a source failed after the answer began: it is cut short
            logger.exception("sending a data answer failed")
            exchange.outcome = "error"
            sent = False
        await self._finish(exchange, reply, sent=sent)

    async def _finish(self, exchange: Exchange, reply: Reply | Streamed, *, sent: bool) -> None:
        """Write a permitted request's outcome, even while the request is being cancelled.
        If that fails the record stays ``unknown``: still a counted use (docs/dataplane)."""
        if exchange.record_id is not None:
            with anyio.CancelScope(shield=True):
                try:
                    closing = _closing(exchange, reply, sent)
                    if exchange.served is None:
                        await self.committer.close(closing)
                    else:
                        await anyio.to_thread.run_sync(
                            self._close_download, closing, exchange.served
                        )
                except Exception:
                    logger.exception("writing the outcome of record %s failed", exchange.record_id)

    async def _serve(
        self, scope: Message, receive: Receive, exchange: Exchange
    ) -> Reply | Streamed:
        if scope["path"] == "/healthz":
            return Reply(200, [("content-type", "application/json")], b'{"status":"ok"}')
        suffix = _suffix(scope["path"], scope.get("raw_path") or scope["path"].encode())
        method = scope["method"]
        if method not in ("GET", "POST", "HEAD"):
            raise MethodNotAllowed()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        claims = self.tokens.verify(_bearer(headers), self.keys, self.audience)
        wait = self.limiter.take(claims.agreement_id)
        if wait:
            raise RateLimited(extra={"retry_after": max(1, math.ceil(wait))})
        fields, rest = _fields(scope.get("query_string", b"").decode("latin-1"))
        rest = _query(rest)
        purpose = headers.get("x-shuchang-purpose")
        if await self.datasets.handles(claims):  # files and tables (dataplane/datasets.py)
            if method == "POST":
                raise MethodNotAllowed()
            ask = Ask(
                method,
                scope["path"],
                suffix,
                parse_qsl(rest, keep_blank_values=True),
                fields,
                headers,
                unquote(purpose) if purpose else None,
                exchange.started_at,
                exchange.clock,
            )
            self._opened += 1
            exchange.served = await self.datasets.serve(claims, ask)
            exchange.record_id = exchange.served.record_id
            return exchange.served.reply
        if method == "HEAD":
            raise MethodNotAllowed()
        body = await _body(receive) if method == "POST" else b""
        request = DataRequest(
            method,
            scope["path"],
            fields,
            unquote(purpose) if purpose else None,
            exchange.started_at,
            exchange.clock,
        )
        admission = await self.committer.admit(claims, request)
        decision = admission.decision
        self._opened += 1
        if not decision.permitted:
            raise Denied(decision.reason_en, decision.reason_zh)
        exchange.record_id = admission.record_id
        return await self._forward(
            admission,
            claims=claims,
            suffix=suffix,
            query=rest,
            headers=headers,
            body=body,
            exchange=exchange,
        )

    async def _forward(
        self,
        admission: Admission,
        *,
        claims: TokenClaims,
        suffix: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        exchange: Exchange,
    ) -> Reply:
        assert self._upstream is not None, "the gateway is not running (lifespan)"
        target, decision = admission.target, admission.decision
        base, _, base_query = target.url.partition("?")
        url = base.rstrip("/") + suffix if suffix not in ("", "/") else base
        params = "&".join(q for q in (base_query, query) if q)
        url += f"?{params}" if params else ""
        who = {
            "x-shuchang-agreement": str(claims.agreement_id),
            "x-shuchang-consumer": str(claims.consumer_id),
            "x-shuchang-transfer": str(claims.transfer_id),
        }
        status, got, content = await self._upstream.exchange(
            admission.request.method,
            url,
            headers=upstream.upstream_headers(headers, who, has_body=bool(body)),
            body=body,
            timeout=self.timeout,
        )
        projection = upstream.Projection(
            frozenset(admission.request.fields) if admission.request.fields else None,
            frozenset(decision.allowed_fields) if decision.allowed_fields is not None else None,
            frozenset(decision.excluded_fields or ()),
        )
        out = upstream.answer(status, got, content, projection)
        exchange.rows = out.rows
        extra = [("cache-control", "private, no-store")]
        if decision.remaining_uses is not None:
            extra.append(("x-shuchang-remaining-uses", str(decision.remaining_uses)))
        return Reply(out.status, out.headers + extra, out.body)

    async def _send(
        self, send: Send, receive: Receive, reply: Reply | Streamed, scope: Message
    ) -> bool:
        if isinstance(reply, Streamed):
            pathsend = self.platform.settings.dataplane_pathsend and (
                "http.response.pathsend" in (scope.get("extensions") or {})
            )
            return await send_streamed(
                send, receive, reply, head=scope["method"] == "HEAD", pathsend=pathsend
            )
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers]
        headers.append((b"content-length", str(len(reply.body)).encode()))
        try:
            await send({"type": "http.response.start", "status": reply.status, "headers": headers})
            await send({"type": "http.response.body", "body": reply.body})
        except OSError:  # the client went away; the use is counted all the same
            return False
        return True

    def _close_download(self, closing: metering.Closing, served: Served) -> None:
        """A download's outcome and its copy's settlement in one transaction (a download is
        big and rare beside API calls: it does not need the committer's batches)."""
        with self.platform.unit() as s:
            if not metering.close_records(s, [closing]):
                logger.warning("usage record %s was sealed before its outcome", closing.record_id)
            served.settle(s, closing.size)


def _closing(exchange: Exchange, reply: Reply | Streamed, sent: bool) -> metering.Closing:
    """What a permitted request's record says once it is over: only an answer that was sent
    counts its bytes and rows (a download's: what actually went out); one the client left
    before is ``client_gone``."""
    delivered = exchange.outcome == metering.DELIVERED
    size = len(reply.body) if delivered and sent else 0
    rows = exchange.rows if delivered and sent else 0
    if isinstance(reply, Streamed):
        size, rows = reply.progress.sent, reply.progress.rows
    return metering.Closing(
        record_id=exchange.record_id or 0,
        outcome=exchange.outcome if not delivered or sent else "client_gone",
        status=reply.status,
        size=size,
        rows=rows,
        duration_ms=int((time.monotonic() - exchange.clock) * 1000),
    )


class VerifiedTokens:
    """Tokens whose signature, audience and claims were verified, until they expire (an
    Ed25519 verification and two JSON decodes per request otherwise). Expiry is checked on
    every use; a process keeps at most ``size`` tokens and forgets them all when full."""

    def __init__(self, size: int = 10_000, *, clock: Callable[[], float] = time.time) -> None:
        self.size, self._clock = size, clock
        self._known: dict[str, TokenClaims] = {}

    def verify(self, token: str, keys: Mapping[str, bytes], audience: str) -> TokenClaims:
        claims = self._known.get(token)
        if claims is None:
            claims = verify_token(token, keys, audience=audience, now=self._clock())
            if len(self._known) >= self.size:
                self._known.clear()
            self._known[token] = claims
        elif self._clock() >= claims.expires_at:
            self._known.pop(token, None)
            raise TokenExpired()
        return claims


def create_gateway(
    settings: Settings | None = None,
    platform: Platform | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Gateway:
    """The gateway for ``settings`` (default: from the environment), granian's factory."""
    settings = settings or (platform.settings if platform else Settings.from_env())
    owns = platform is None
    platform = platform or Platform.build(settings)
    return Gateway(
        platform,
        connector_keys(settings),
        audience_of(settings),
        transport=transport,
        owns_engine=owns,
    )
