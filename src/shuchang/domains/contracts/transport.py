"""Sending signed DSP messages to another connector (a port with a plain httpx default)."""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from shuchang.domains.contracts import httpsig
from shuchang.ports import Ed25519Signer

logger = logging.getLogger("shuchang.contracts")
TIMEOUT = httpx.Timeout(10.0, connect=3.0)


class DeliveryFailed(Exception):
    """The other connector could not be reached or refused the message."""


class Transport(Protocol):
    def post(
        self, url: str, body: dict[str, Any], signer: Ed25519Signer, keyid: str
    ) -> dict[str, Any]: ...


def signed_body(
    url: str, body: dict[str, Any], signer: Ed25519Signer, keyid: str
) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body, ensure_ascii=False).encode()
    headers = httpsig.sign_request(signer, keyid, "POST", urlsplit(url).path, raw)
    headers["Content-Type"] = "application/json"
    return raw, headers


class HttpTransport:
    """POST over HTTP(S) with an RFC 9421 signature; one pooled client per process."""

    def __init__(self, client: httpx.Client | None = None) -> None:
        self._client = client or httpx.Client(timeout=TIMEOUT)

    def post(
        self, url: str, body: dict[str, Any], signer: Ed25519Signer, keyid: str
    ) -> dict[str, Any]:
        raw, headers = signed_body(url, body, signer, keyid)
        try:
            response = self._client.post(url, content=raw, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{url}: {exc}") from exc
        if response.status_code >= 300:  # noqa: PLR2004
            raise DeliveryFailed(f"{url}: HTTP {response.status_code} {response.text[:300]}")
        try:
            answer = response.json() if response.content else {}
        except ValueError:
            answer = {}
        return answer if isinstance(answer, dict) else {}
