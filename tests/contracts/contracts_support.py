"""Helpers the in-process contracts tests share: one platform as a DSP party, signed messages.

A *side* is the real app on the test database whose connector speaks for one participant;
the other party is registered there (key and connector URL) exactly as a peer platform
would register it, and its messages are signed here with its key. Outbound messages go to a
:class:`RecordingTransport` (a fake, not a mock) instead of the network, so a test sees what
its side decided to send and answers it by hand.

Plain functions and small classes, not fixtures, so each test reads top to bottom.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from litestar.testing import TestClient
from sqlalchemy import Engine, func, select
from two_connectors import OFFER, list_product

import factories
from shuchang.app import create_app
from shuchang.db import utcnow
from shuchang.domains.contracts import agreements, httpsig
from shuchang.domains.contracts.models import Negotiation, NegotiationEvent
from shuchang.domains.contracts.transport import DeliveryFailed
from shuchang.domains.evidence.models import OutboxEntry
from shuchang.domains.participants import SYSTEM
from shuchang.domains.participants import keys as participant_keys
from shuchang.domains.participants.schemas import AddConnector, AddKey
from shuchang.models import metadata
from shuchang.platform import Platform
from shuchang.ports import Ed25519Signer, fingerprint

# The DSP 2025-1 schema registry of the catalog tests (one validator setup for the project).
sys.path.append(str(Path(__file__).resolve().parents[1] / "catalog"))
from dsp_support import DSP, datasets, validator

Client = TestClient  # type: ignore[type-arg]
CONTEXT = ["https://w3id.org/dspace/2025/1/context.jsonld"]
NEGOTIATION = DSP / "negotiation"
PROVIDER_URL = "https://bureau.dongou.example.cn/dsp"
CONSUMER_URL = "https://bank.dongou.example.cn/dsp"
# What the provider answers a consumer side's ContractRequestMessage with (recording transport).
PROVIDER_PID = "urn:uuid:5a1c1d0e-6a0b-4a59-9a64-0c1f3c2f7e10"


# ---- schemas ---------------------------------------------------------------------------------


def schema_errors(instance: Any, schema: str) -> list[str]:
    """Faults of ``instance`` against ``negotiation/<schema>-schema.json`` (DSP 2025-1)."""
    found = validator(f"negotiation/{schema}-schema.json").iter_errors(instance)
    return [f"{list(e.path)}: {e.message}" for e in found]


def catalog_datasets(catalog: dict[str, Any]) -> list[dict[str, Any]]:
    """Every dataset of a DSP catalog that passes the 2025-1 catalog schema."""
    faults = [e.message for e in validator("catalog/catalog-schema.json").iter_errors(catalog)]
    assert faults == [], faults
    return datasets(catalog)


def negotiation_example(name: str) -> Any:
    return json.loads((NEGOTIATION / "example" / name).read_text(encoding="utf-8"))


# ---- parties and sides ----------------------------------------------------------------------


@dataclass
class Party:
    """A participant registered on the test platform, with its connector's signing key."""

    member: factories.Member
    signer: Ed25519Signer
    url: str

    @property
    def id(self) -> uuid.UUID:
        return self.member.id

    @property
    def keyid(self) -> str:
        return fingerprint(self.signer.public_key())

    @property
    def urn(self) -> str:
        return f"urn:uscc:{self.member.identifier}"

    @property
    def headers(self) -> dict[str, str]:
        return self.member.headers


@dataclass
class Parties:
    provider: Party
    consumer: Party
    product_id: uuid.UUID
    policy: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(OFFER))

    @property
    def dataset_id(self) -> str:
        return f"urn:uuid:{self.product_id}"


def register_party(platform: Platform, kind: str, role: str, name: str, url: str) -> Party:
    member = factories.participant(platform, kind=kind, roles=(role,), name=name)
    signer = Ed25519Signer()
    public = base64.b64encode(signer.public_key()).decode()
    with platform.unit() as s:
        participant_keys.add_key(s, SYSTEM, member.id, AddKey(public_key=public))
        participant_keys.add_connector(
            s, SYSTEM, member.id, AddConnector(url=url, public_key=public)
        )
    return Party(member, signer, url)


def register_parties(platform: Platform, policy: dict[str, Any] | None = None) -> Parties:
    """A provider with one listed dataset (offer ``policy``) and a consumer, both with keys."""
    provider = register_party(
        platform, "government", "provider", "东瓯市市场监督管理局", PROVIDER_URL
    )
    consumer = register_party(
        platform, "enterprise", "consumer", "东瓯商业银行股份有限公司", CONSUMER_URL
    )
    policy = policy or OFFER
    return Parties(provider, consumer, list_product(platform, provider.id, policy), policy)


@dataclass
class Sent:
    url: str
    body: dict[str, Any]
    keyid: str


@dataclass
class RecordingTransport:
    """Keeps what a side sends; answers ``answer`` or, with ``fail``, fails the delivery."""

    answer: dict[str, Any] = field(default_factory=dict)
    fail: bool = False
    sent: list[Sent] = field(default_factory=list)

    def post(
        self, url: str, body: dict[str, Any], signer: Ed25519Signer, keyid: str
    ) -> dict[str, Any]:
        self.sent.append(Sent(url, copy.deepcopy(body), keyid))
        if self.fail:
            raise DeliveryFailed(f"{url}: connection refused (recording transport)")
        return dict(self.answer)

    def last(self, kind: str) -> Sent:
        found = [s for s in self.sent if s.body.get("@type") == kind]
        assert found, f"nothing of type {kind} was sent: {[s.body['@type'] for s in self.sent]}"
        return found[-1]


@dataclass
class Side:
    """The app of one party: ``local`` is whom its connector speaks for, ``peer`` the other."""

    platform: Platform
    client: Client
    local: Party
    peer: Party
    transport: RecordingTransport
    parties: Parties

    def sign(
        self,
        path: str,
        body: dict[str, Any] | bytes,
        *,
        signer: Ed25519Signer | None = None,
        keyid: str | None = None,
        method: str = "POST",
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers of a request signed as the peer's connector (or ``signer``)."""
        raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        signer = signer or self.peer.signer
        headers = httpsig.sign_request(
            signer, keyid or fingerprint(signer.public_key()), method, path, raw
        )
        return raw, {"Content-Type": "application/json", **headers}

    def send(
        self,
        path: str,
        body: dict[str, Any] | bytes,
        *,
        signer: Ed25519Signer | None = None,
        keyid: str | None = None,
        method: str = "POST",
    ) -> httpx.Response:
        """A DSP request to this side, signed as the peer's connector unless told otherwise."""
        raw, headers = self.sign(path, body, signer=signer, keyid=keyid, method=method)
        return self.client.request(method, path, content=raw, headers=headers)


@contextmanager
def open_side(
    platform: Platform,
    tmp_path: Path,
    parties: Parties,
    *,
    role: str = "provider",
    transport: RecordingTransport | None = None,
    **settings: Any,
) -> Iterator[Side]:
    """The real app on ``platform``'s database with the connector of ``role``'s party."""
    local, peer = (
        (parties.provider, parties.consumer)
        if role == "provider"
        else (parties.consumer, parties.provider)
    )
    key_file = tmp_path / f"{role}-{uuid.uuid4().hex[:6]}.key"
    key_file.write_text(base64.b64encode(local.signer.seed()).decode() + "\n")
    configured = dataclasses.replace(
        platform.settings,
        connector_participant=str(local.id),
        connector_key_file=str(key_file),
        connector_url=local.url,
        **settings,
    )
    transport = transport or RecordingTransport()
    side_platform = dataclasses.replace(platform, settings=configured, transport=transport)
    with TestClient(create_app(configured, side_platform)) as client:
        yield Side(side_platform, client, local, peer, transport, parties)


# ---- messages a consumer's connector would send ---------------------------------------------


def catalog_offer(policy: dict[str, Any] | None = None) -> dict[str, Any]:
    """The offer as a DSP catalog shows it: its own ``@id``, no target."""
    rules = {k: v for k, v in (policy or OFFER).items() if k != "@type"}
    return {"@id": f"urn:uuid:{uuid.uuid4()}", "@type": "Offer", **copy.deepcopy(rules)}


def contract_request(
    parties: Parties,
    *,
    consumer_pid: str | None = None,
    offer: dict[str, Any] | None = None,
    callback: str | None = None,
) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "@type": "ContractRequestMessage",
        "consumerPid": consumer_pid or f"urn:uuid:{uuid.uuid4()}",
        "offer": {**(offer or catalog_offer(parties.policy)), "target": parties.dataset_id},
        "callbackAddress": callback or parties.consumer.url,
    }


def pids_message(kind: str, provider_pid: str, consumer_pid: str, **extra: Any) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "@type": kind,
        "providerPid": provider_pid,
        "consumerPid": consumer_pid,
        **extra,
    }


@dataclass(frozen=True)
class Negotiated:
    provider_pid: str
    consumer_pid: str
    agreement: dict[str, Any]

    @property
    def agreement_id(self) -> uuid.UUID:
        return uuid.UUID(self.agreement["@id"].removeprefix("urn:uuid:"))


def request_contract(side: Side, **request: Any) -> tuple[str, str]:
    """Send a ContractRequestMessage as the consumer; (providerPid, consumerPid)."""
    body = contract_request(side.parties, **request)
    response = side.send("/dsp/negotiations/request", body)
    assert response.status_code == 201, response.text
    return response.json()["providerPid"], body["consumerPid"]


def verification_body(
    side: Side, provider_pid: str, consumer_pid: str, agreement: dict[str, Any]
) -> dict[str, Any]:
    """The consumer's countersignature of ``agreement`` as a verification message."""
    signature = agreements.sign(agreement, "assignee", side.peer.urn, side.peer.signer)
    return pids_message(
        "ContractAgreementVerificationMessage",
        provider_pid,
        consumer_pid,
        **{"shuchang:signature": signature},
    )


def verification(
    side: Side, done: Negotiated | tuple[str, str], agreement: dict[str, Any]
) -> httpx.Response:
    """Send the consumer's countersignature of ``agreement`` to the provider side."""
    provider_pid, consumer_pid = (
        (done.provider_pid, done.consumer_pid) if isinstance(done, Negotiated) else done
    )
    body = verification_body(side, provider_pid, consumer_pid, agreement)
    return side.send(f"/dsp/negotiations/{provider_pid}/agreement/verification", body)


def negotiate(side: Side, **request: Any) -> Negotiated:
    """The whole provider side of a negotiation (auto approval): request → FINALIZED."""
    provider_pid, consumer_pid = request_contract(side, **request)
    agreement = side.transport.last("ContractAgreementMessage").body["agreement"]
    response = verification(side, (provider_pid, consumer_pid), agreement)
    assert response.status_code == 200, response.text
    return Negotiated(provider_pid, consumer_pid, agreement)


# ---- answers -------------------------------------------------------------------------------


def negotiation_error(
    answer: httpx.Response, status: int, code: str, case: str = ""
) -> dict[str, Any]:
    """The ContractNegotiationError ``answer`` must be: status, code, reasons in en and zh."""
    assert answer.status_code == status, f"{case}: {answer.text}"
    assert answer.headers["content-type"].startswith("application/json"), case
    body: dict[str, Any] = answer.json()
    assert (body["@type"], body["code"]) == ("ContractNegotiationError", code), case
    assert body["@context"] == CONTEXT, case
    assert len(body["reason"]) == 2 and all(body["reason"]), case  # English and Chinese
    return body


def refused_in_state(
    side: Side,
    role: str,
    pid: str,
    send: Callable[[], httpx.Response],
    *,
    status: int,
    code: str,
) -> dict[str, Any]:
    """Send; expect ``code`` about this known negotiation, and nothing changed anywhere."""
    before_state = state(side.platform, role, pid).state
    before_rows = row_counts(side.platform.engine)
    body = negotiation_error(send(), status, code)
    assert schema_errors(body, "contract-negotiation-error") == []  # both pids are known
    assert state(side.platform, role, pid).state == before_state
    assert row_counts(side.platform.engine) == before_rows
    return body


# ---- the database ---------------------------------------------------------------------------


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows of every table: a refused message must change none of them."""
    with engine.connect() as conn:
        return {
            t.name: conn.scalar(select(func.count()).select_from(t)) or 0
            for t in metadata.sorted_tables
        }


def state(platform: Platform, role: str, pid: str) -> Negotiation:
    """This side's negotiation with ``pid`` (ours: provider pid on the provider side)."""
    column = Negotiation.provider_pid if role == "provider" else Negotiation.consumer_pid
    with platform.unit(write=False) as s:
        found = s.scalars(select(Negotiation).where(Negotiation.role == role, column == pid)).one()
        s.expunge(found)
    return found


def transitions(platform: Platform, negotiation_id: uuid.UUID) -> list[tuple[str, str, str]]:
    """(direction, message, state after) of every step, in order."""
    with platform.unit(write=False) as s:
        rows = s.scalars(
            select(NegotiationEvent)
            .where(NegotiationEvent.negotiation_id == negotiation_id)
            .order_by(NegotiationEvent.id)
        )
        return [(e.direction, e.message_type, e.to_state) for e in rows]


def evidence_kinds(platform: Platform, subject: str) -> list[str]:
    with platform.unit(write=False) as s:
        rows = s.scalars(
            select(OutboxEntry.kind).where(OutboxEntry.subject == subject).order_by(OutboxEntry.id)
        )
        return list(rows)


# ---- the consumer's side ---------------------------------------------------------------------


def start_negotiation(side: Side, offer: dict[str, Any] | None = None) -> dict[str, Any]:
    """Ask the provider for its listed offer through the consumer's management API."""
    response = side.client.post(
        "/api/v1/contracts/negotiations",
        json={
            "provider_id": str(side.parties.provider.id),
            "dataset_id": side.parties.dataset_id,
            "offer": offer or catalog_offer(),
        },
        headers=side.local.headers,
    )
    assert response.status_code == 201, response.text
    return detail(side, response.json()["id"])


def detail(side: Side, negotiation_id: str | uuid.UUID) -> dict[str, Any]:
    response = side.client.get(
        f"/api/v1/contracts/negotiations/{negotiation_id}", headers=side.local.headers
    )
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()
    return out


def provider_agreement(parties: Parties, offer: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the provider's connector would agree to for ``offer`` (default OFFER)."""
    terms = agreements.Terms(
        dataset_id=parties.dataset_id,
        provider_urn=parties.provider.urn,
        consumer_urn=parties.consumer.urn,
        price_model="one_off",
        price_fen=100000,
        price_period=None,
        days=365,
    )
    return agreements.build(offer or OFFER, terms, utcnow())


def agreement_message(
    parties: Parties,
    negotiation: dict[str, Any],
    agreement: dict[str, Any],
    signer: Ed25519Signer | None = None,
) -> dict[str, Any]:
    """A ContractAgreementMessage signed (in the agreement) by the provider, or ``signer``."""
    signature = agreements.sign(
        agreement, "assigner", parties.provider.urn, signer or parties.provider.signer
    )
    return pids_message(
        "ContractAgreementMessage",
        negotiation["provider_pid"],
        negotiation["consumer_pid"],
        agreement=agreement,
        **{"shuchang:signatures": [signature]},
    )
