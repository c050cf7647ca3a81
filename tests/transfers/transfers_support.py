"""Helpers the in-process transfers tests share: both parties' apps on one database, joined by
a relay that signs and delivers transfer messages from one app to the other.

The provider's app speaks for the provider, the consumer's app for the consumer (the same
shape as two deployments, on one test database: each side's rows carry its ``role``). DSP
negotiation messages are only recorded (the agreement is made by the contracts helpers);
transfer messages really travel, signed, through each app's DSP endpoints, and every message
and every answer is kept so that tests can check them against the DSP 2025-1 schemas.
"""

from __future__ import annotations

import copy
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import httpx
from litestar.testing import TestClient

sys.path.append(str(Path(__file__).resolve().parents[1] / "contracts"))
from contracts_support import (
    CONSUMER_URL,
    PROVIDER_URL,
    Negotiated,
    Parties,
    RecordingTransport,
    Sent,
    Side,
    negotiate,
    open_side,
    row_counts,
)
from dsp_support import validator
from sqlalchemy import select

from shuchang.domains.contracts import httpsig
from shuchang.domains.contracts.transport import DeliveryFailed
from shuchang.domains.transfers.models import TransferEvent, TransferProcess
from shuchang.platform import Platform
from shuchang.ports import Ed25519Signer

CONTEXT = ["https://w3id.org/dspace/2025/1/context.jsonld"]
PULL, PUSH = "HttpData-PULL", "HttpData-PUSH"
SCHEMA_OF = {
    "TransferRequestMessage": "transfer-request-message",
    "TransferStartMessage": "transfer-start-message",
    "TransferCompletionMessage": "transfer-completion-message",
    "TransferSuspensionMessage": "transfer-suspension-message",
    "TransferTerminationMessage": "transfer-termination-message",
    "TransferProcess": "transfer-process",
    "TransferError": "transfer-error",
    "DataAddress": "data-address",
}


def schema_errors(instance: Any) -> list[str]:
    """Faults of a transfer message (or DataAddress) against its DSP 2025-1 schema."""
    kind = instance.get("@type") if isinstance(instance, dict) else None
    assert kind in SCHEMA_OF, f"no transfer schema for {kind!r}"
    found = validator(f"transfer/{SCHEMA_OF[kind]}-schema.json").iter_errors(instance)
    return [f"{list(e.path)}: {e.message}" for e in found]


@dataclass
class Relay:
    """A transport that delivers transfer messages to the other app (signed, over its DSP
    routes) and only records the rest. ``fail`` makes every delivery fail."""

    routes: dict[str, TestClient[Any]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    answers: list[httpx.Response] = field(default_factory=list)
    fail: bool = False

    def post(
        self, url: str, body: dict[str, Any], signer: Ed25519Signer, keyid: str
    ) -> dict[str, Any]:
        self.sent.append(Sent(url, copy.deepcopy(body), keyid))
        if self.fail:
            raise DeliveryFailed(f"{url}: connection refused (relay)")
        client = next((c for base, c in self.routes.items() if url.startswith(base)), None)
        if client is None or "/transfers/" not in url:
            return {}
        path = urlsplit(url).path
        raw = json.dumps(body, ensure_ascii=False).encode()
        headers = httpsig.sign_request(signer, keyid, "POST", path, raw)
        answer = client.post(path, content=raw, headers=headers)
        self.answers.append(answer)
        if answer.status_code >= 300:
            raise DeliveryFailed(f"{url}: HTTP {answer.status_code} {answer.text[:300]}")
        out: dict[str, Any] = answer.json() if answer.content else {}
        return out

    def last(self, kind: str) -> Sent:
        found = [s for s in self.sent if s.body.get("@type") == kind]
        assert found, f"nothing of type {kind} was sent: {[s.body['@type'] for s in self.sent]}"
        return found[-1]

    def transfer_messages(self) -> list[dict[str, Any]]:
        return [s.body for s in self.sent if "/transfers/" in s.url]


@dataclass
class Pair:
    provider: Side
    consumer: Side
    negotiated: Negotiated

    @property
    def agreement_id(self) -> uuid.UUID:
        return self.negotiated.agreement_id

    @property
    def relays(self) -> tuple[Relay, Relay]:
        return self.provider.transport, self.consumer.transport  # type: ignore[return-value]


def as_recording(relay: Relay) -> RecordingTransport:
    """A relay where the contracts helpers expect their recording transport (same surface:
    ``post``, ``sent``, ``last``)."""
    return cast(RecordingTransport, relay)


@contextmanager
def open_pair(
    platform: Platform, tmp_path: Path, parties: Parties, **settings: Any
) -> Iterator[Pair]:
    """Both apps, joined by relays, and a FINALIZED agreement between the parties."""
    to_consumer, to_provider = Relay(), Relay()
    with ExitStack() as stack:
        provider = stack.enter_context(
            open_side(platform, tmp_path, parties, transport=as_recording(to_consumer), **settings)
        )
        consumer = stack.enter_context(
            open_side(
                platform,
                tmp_path,
                parties,
                role="consumer",
                transport=as_recording(to_provider),
                **settings,
            )
        )
        to_consumer.routes[CONSUMER_URL] = consumer.client
        to_provider.routes[PROVIDER_URL] = provider.client
        negotiated = negotiate(provider)
        yield Pair(provider, consumer, negotiated)


# ---- the management API ---------------------------------------------------------------------


def start(pair: Pair, kind: str = PULL, **extra: Any) -> dict[str, Any]:
    """The consumer starts a transfer under the pair's agreement; its view afterwards."""
    response = pair.consumer.client.post(
        "/api/v1/transfers",
        json={"agreement_id": str(pair.agreement_id), "transfer_type": kind, **extra},
        headers=pair.consumer.local.headers,
    )
    assert response.status_code == 201, response.text
    return detail(pair.consumer, response.json()["id"])


def detail(side: Side, transfer_id: str | uuid.UUID) -> dict[str, Any]:
    response = side.client.get(f"/api/v1/transfers/{transfer_id}", headers=side.local.headers)
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()
    return out


def provider_view(pair: Pair, consumer_pid: str) -> dict[str, Any]:
    response = pair.provider.client.get("/api/v1/transfers", headers=pair.provider.local.headers)
    assert response.status_code == 200, response.text
    (found,) = [
        t for t in response.json() if t["consumer_pid"] == consumer_pid and t["role"] == "provider"
    ]
    return detail(pair.provider, found["id"])


def act(side: Side, transfer_id: str, action: str, **body: Any) -> httpx.Response:
    return side.client.post(
        f"/api/v1/transfers/{transfer_id}/{action}",
        json=body or None,
        headers=side.local.headers,
    )


def token_of(view: dict[str, Any]) -> str:
    props = {p["name"]: p["value"] for p in view["data_address"]["endpointProperties"]}
    return str(props["authorization"])


# ---- DSP answers and the database -------------------------------------------------------------


def transfer_error(
    answer: httpx.Response, status: int, code: str, case: str = ""
) -> dict[str, Any]:
    """The TransferError ``answer`` must be: status, code, reasons in en and zh, schema-valid."""
    assert answer.status_code == status, f"{case}: {answer.status_code} {answer.text}"
    body: dict[str, Any] = answer.json()
    assert (body["@type"], body["code"]) == ("TransferError", code), case
    assert len(body["reason"]) == 2 and all(body["reason"]), case
    assert schema_errors(body) == [], case
    return body


def refused(
    side: Side, send: Callable[[], httpx.Response], status: int, code: str, case: str = ""
) -> dict[str, Any]:
    """Send; expect a TransferError ``code`` and not one row changed in any table."""
    before = row_counts(side.platform.engine)
    body = transfer_error(send(), status, code, case)
    assert row_counts(side.platform.engine) == before, case
    return body


def row(platform: Platform, transfer_id: str | uuid.UUID) -> TransferProcess:
    with platform.unit(write=False) as s:
        found = s.get(TransferProcess, uuid.UUID(str(transfer_id)))
        assert found is not None
        s.expunge(found)
    return found


def steps(platform: Platform, transfer_id: str | uuid.UUID) -> list[tuple[str, str, str]]:
    """(direction, message, state after) of every step, in order."""
    with platform.unit(write=False) as s:
        rows = s.scalars(
            select(TransferEvent)
            .where(TransferEvent.transfer_id == uuid.UUID(str(transfer_id)))
            .order_by(TransferEvent.id)
        )
        return [(e.direction, e.message_type, e.to_state) for e in rows]


def message(kind: str, provider_pid: str, consumer_pid: str, **extra: Any) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "@type": kind,
        "providerPid": provider_pid,
        "consumerPid": consumer_pid,
        **extra,
    }


def request_body(
    agreement_id: str | uuid.UUID,
    *,
    kind: str = PULL,
    consumer_pid: str | None = None,
    callback: str = CONSUMER_URL,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "@type": "TransferRequestMessage",
        "consumerPid": consumer_pid or f"urn:uuid:{uuid.uuid4()}",
        "agreementId": f"urn:uuid:{agreement_id}",
        "format": kind,
        "callbackAddress": callback,
        **extra,
    }


def push_address(endpoint: str = "https://bank.dongou.example.cn/inbox") -> dict[str, Any]:
    return {
        "@type": "DataAddress",
        "endpointType": "https://w3id.org/idsa/v4.1/HTTP",
        "endpoint": endpoint,
        "endpointProperties": [
            {"@type": "EndpointProperty", "name": "authorization", "value": "Bearer sink-key"}
        ],
    }
