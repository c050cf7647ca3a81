"""Helpers of the in-process PSI tests: a tax bureau with a compute-only registry product and
a bank, both apps on one test database, joined by a relay that signs and delivers PSI
messages; a finalized agreement between them (negotiated through the real DSP routes)."""

from __future__ import annotations

import copy
import json
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import httpx
import msgspec
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
    register_party,
)
from two_connectors import OFFER

from shuchang.domains.catalog import ProductIn, ResourceIn, create_product, register_resource
from shuchang.domains.catalog.products import review, submit
from shuchang.domains.catalog.schemas import ReviewDecision
from shuchang.domains.contracts import httpsig
from shuchang.domains.contracts.transport import DeliveryFailed
from shuchang.domains.participants import SYSTEM, Actor
from shuchang.platform import Platform
from shuchang.ports import Ed25519Signer

REGISTERED = 300  # enterprises in the tax registry: 91330300MA00000000 … 00000299


def uscc(n: int) -> str:
    return f"91330300MA{n:08d}"


def write_registry(root: Path) -> None:
    path = root / "tax" / "registry.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["uscc,tax_grade,district"] + [
        f"{uscc(n)},{'ABCD'[n % 4]},3303{n % 5 + 1:02d}" for n in range(REGISTERED)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def compute_only_product(
    platform: Platform,
    provider_id: uuid.UUID,
    kind: str = "compute_only",
    offer: dict[str, Any] | None = None,
) -> uuid.UUID:
    actor = Actor(participant_id=provider_id, role="provider")
    resource = {
        "title": "纳税信用登记",
        "description": "东瓯市企业纳税信用等级与登记信息，只提供可用不可见计算。",
        "fields": [
            {"name": "uscc", "type": "string", "role": "identifier"},
            {"name": "tax_grade", "type": "string", "role": "dimension"},
            {"name": "district", "type": "string", "role": "dimension"},
        ],
        "source": "税收征管系统",
        "update_frequency": "monthly",
        "industry": "S92",
        "classification": "important",
        "location": {"type": "file", "path": "/tax/registry.csv", "format": "csv"},
        "tags": ["纳税信用"],
    }
    with platform.unit() as s:
        rid = register_resource(s, actor, msgspec.convert(resource, ResourceIn)).id
        body = {
            "kind": kind,
            "title": "纳税信用计算服务",
            "description": "在税务局连接器内求交与聚合，使用方只得到计算结果，不接触明细数据。",
            "resources": [str(rid)],
            "policy": offer or OFFER,
            "price": {"model": "per_call", "amount_fen": 100},
            "tags": ["纳税信用"],
        }
        product = create_product(s, actor, msgspec.convert(body, ProductIn))
        submit(s, actor, product.id)
        review(s, SYSTEM, product.id, ReviewDecision(decision="approve"), ("operator",))
    return product.id


@dataclass
class Relay:
    """Delivers PSI messages to the other app, signed, over its routes; records the rest."""

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
        if client is None or "/psi/" not in url:
            return {}
        path = urlsplit(url).path
        raw = json.dumps(body, ensure_ascii=False).encode()
        answer = client.post(
            path, content=raw, headers=httpsig.sign_request(signer, keyid, "POST", path, raw)
        )
        self.answers.append(answer)
        if answer.status_code >= 300:
            raise DeliveryFailed(f"{url}: HTTP {answer.status_code} {answer.text[:300]}")
        out: dict[str, Any] = answer.json() if answer.content else {}
        return out

    def last(self, kind: str) -> Sent:
        found = [s for s in self.sent if s.body.get("@type") == kind]
        assert found, f"nothing of type {kind} was sent"
        return found[-1]

    def kinds(self) -> list[str]:
        return [s.body["@type"] for s in self.sent if "/psi/" in s.url]


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
        return cast(Relay, self.provider.transport), cast(Relay, self.consumer.transport)


def budgeted_offer(epsilon: str = "20") -> dict[str, Any]:
    """The PSI tests' offer with a privacy budget, so DP jobs may follow a session."""
    offer = copy.deepcopy(OFFER)
    offer["permission"][0]["constraint"].append(
        {"leftOperand": "epsilon", "operator": "lteq", "rightOperand": epsilon}
    )
    return offer


def psi_parties(
    platform: Platform, kind: str = "compute_only", offer: dict[str, Any] | None = None
) -> Parties:
    write_registry(Path(platform.settings.data_root))
    provider = register_party(
        platform, "government", "provider", "国家税务总局东瓯市税务局", PROVIDER_URL
    )
    consumer = register_party(
        platform, "enterprise", "consumer", "东瓯商业银行股份有限公司", CONSUMER_URL
    )
    offer = copy.deepcopy(offer or OFFER)
    product = compute_only_product(platform, provider.id, kind, offer)
    return Parties(provider, consumer, product, offer)


@contextmanager
def open_pair(
    platform: Platform, tmp_path: Path, parties: Parties, **settings: Any
) -> Iterator[Pair]:
    to_consumer, to_provider = Relay(), Relay()
    settings.setdefault("psi_min_set_size", 10)
    with ExitStack() as stack:
        provider = stack.enter_context(
            open_side(
                platform,
                tmp_path,
                parties,
                transport=cast(RecordingTransport, to_consumer),
                **settings,
            )
        )
        consumer = stack.enter_context(
            open_side(
                platform,
                tmp_path,
                parties,
                role="consumer",
                transport=cast(RecordingTransport, to_provider),
                **settings,
            )
        )
        to_consumer.routes[CONSUMER_URL] = consumer.client
        to_provider.routes[PROVIDER_URL] = provider.client
        # The negotiation's messages go to the relays too, which only record non-PSI ones.
        yield Pair(provider, consumer, negotiate(provider))


def start(
    pair: Pair, identifiers: list[str], mode: str = "cardinality", **extra: Any
) -> httpx.Response:
    return pair.consumer.client.post(
        "/api/v1/psi/sessions",
        json={
            "agreement_id": str(pair.agreement_id),
            "mode": mode,
            "identifiers": identifiers,
            **extra,
        },
        headers=pair.consumer.local.headers,
    )


def sessions(side: Side) -> list[dict[str, Any]]:
    response = side.client.get("/api/v1/psi/sessions", headers=side.local.headers)
    assert response.status_code == 200, response.text
    return [
        s
        for s in response.json()
        if s["role"] == ("provider" if side.local is side.parties.provider else "consumer")
    ]
