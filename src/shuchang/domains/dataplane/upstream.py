"""The provider's backend API (上游接口): forwarding a permitted request and projecting the
answer to the fields the agreement allows.

Only a short allow-list of request headers goes upstream — never the consumer's
``Authorization`` or cookies — plus who is asking (``X-Shuchang-Agreement``/``-Consumer``/
``-Transfer``). JSON answers (an object, an array of objects, or ``{"items": [...]}``) are
projected; when the agreement limits fields and the answer is not such JSON it is refused
rather than passed through unfiltered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import msgspec

from shuchang.domains.dataplane.errors import UpstreamTimeout, UpstreamUnavailable

FORWARDED_REQUEST = ("accept", "accept-language", "content-type", "x-request-id")
RETURNED_RESPONSE = ("content-type", "content-language", "etag", "last-modified")
MAX_RESPONSE = 64 * 1024 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    rows: int


@dataclass(frozen=True)
class Projection:
    """Which keys a record may keep: requested ∩ allowed − excluded (None: no limit)."""

    requested: frozenset[str] | None
    allowed: frozenset[str] | None
    excluded: frozenset[str]

    @property
    def limited(self) -> bool:
        return self.requested is not None or self.allowed is not None or bool(self.excluded)

    def keep(self, key: str) -> bool:
        return (
            (self.requested is None or key in self.requested)
            and (self.allowed is None or key in self.allowed)
            and key not in self.excluded
        )


def _rows(value: Any, keep: Callable[[str], bool]) -> tuple[Any, int]:
    def pick(item: Any) -> Any:
        return {k: v for k, v in item.items() if keep(k)} if isinstance(item, dict) else item

    if isinstance(value, list):
        if not all(isinstance(item, dict) for item in value):
            raise ValueError("array of non-objects")
        return [pick(item) for item in value], len(value)
    if isinstance(value, dict) and isinstance(value.get("items"), list):
        items, rows = _rows(value["items"], keep)
        return {**value, "items": items}, rows
    if isinstance(value, dict):
        return pick(value), 1
    raise ValueError("JSON scalar")


def project(body: bytes, content_type: str, projection: Projection) -> tuple[bytes, int]:
    """The body with only the kept keys, and the rows it holds. Unfilterable while limited:
    UpstreamUnavailable (``dataplane.upstream_unfilterable``)."""
    is_json = "json" in content_type.lower()
    try:
        if not is_json or not body:
            raise ValueError("not JSON")
        value, rows = _rows(msgspec.json.decode(body), projection.keep)
    except (ValueError, msgspec.DecodeError):
        if projection.limited and body:
            raise UpstreamUnavailable(
                "The backend's answer cannot be filtered to the allowed fields",
                "后端接口返回的内容无法按合约字段过滤",
                code="dataplane.upstream_unfilterable",
            ) from None
        return body, 0
    if not projection.limited:
        return body, rows
    return msgspec.json.encode(value), rows


def upstream_headers(
    incoming: Mapping[str, str], who: Mapping[str, str], *, has_body: bool
) -> dict[str, str]:
    out = {k: v for k, v in incoming.items() if k in FORWARDED_REQUEST}
    if not has_body:
        out.pop("content-type", None)
    return {**out, **who}


async def _read(response: httpx.Response) -> bytes:
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE:
            raise UpstreamUnavailable(
                "The backend's answer is too large for an API product",
                "后端接口返回内容过大",
                code="dataplane.upstream_too_large",
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def call(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    body: bytes,
    timeout: float,
) -> tuple[int, httpx.Headers, bytes]:
    """One upstream exchange within ``timeout`` seconds overall (connect to last byte)."""
    try:
        with anyio.fail_after(timeout):
            request = client.build_request(method, url, headers=headers, content=body or None)
            response = await client.send(request, stream=True)
            try:
                content = await _read(response)
            finally:
                await response.aclose()
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise UpstreamTimeout() from exc
    except httpx.HTTPError as exc:
        raise UpstreamUnavailable(
            f"The provider's backend API is unavailable ({type(exc).__name__})",
            "提供方后端接口不可用",
        ) from exc
    return response.status_code, response.headers, content


def answer(status: int, headers: httpx.Headers, body: bytes, projection: Projection) -> Answer:
    content_type = headers.get("content-type", "application/octet-stream")
    projected, rows = project(body, content_type, projection)
    kept = [(k, headers[k]) for k in RETURNED_RESPONSE if k in headers]
    if projected is not body:
        kept = [(k, v) for k, v in kept if k != "etag"]  # a filtered body is another entity
    return Answer(status, kept, projected, rows)
