"""Helpers of the contract and evidence page tests: two parties, a listed product, and a
negotiation with its agreement, built in one database with the contracts domain's own
functions (the provider's connector is this platform's; the consumer's messages are made and
signed here, as its connector would), plus a console on the same database whose connector
speaks for one party and sends through a recording transport instead of the network.

Plain functions, not fixtures, so each test reads top to bottom.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from litestar.testing import TestClient
from sqlalchemy.orm import Session
from web_support import Client

import factories
from shuchang.app import create_app
from shuchang.domains.catalog import products, resources
from shuchang.domains.catalog.schemas import ProductIn, ResourceIn, ReviewDecision
from shuchang.domains.contracts import agreements, messages, negotiation
from shuchang.domains.contracts.models import Agreement, Negotiation
from shuchang.domains.contracts.negotiation import Connector, Sender
from shuchang.domains.evidence import logview
from shuchang.domains.evidence.tlog.note import generate_key
from shuchang.domains.participants import SYSTEM, Actor, find
from shuchang.domains.participants import keys as participant_keys
from shuchang.domains.participants.schemas import AddConnector, AddKey
from shuchang.platform import Platform
from shuchang.ports import Ed25519Signer, fingerprint
from shuchang.settings import Settings

PURPOSE = "小微企业信贷风险评估"
OFFER: dict[str, Any] = {
    "@type": "Offer",
    "permission": [
        {
            "action": "use",
            "constraint": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": PURPOSE}],
        }
    ],
}
PROVIDER_URL = "https://bureau.dongou.example.cn/dsp"
CONSUMER_URL = "https://bank.dongou.example.cn/dsp"
PROVIDER_NAME = "东瓯市市场监督管理局"
CONSUMER_NAME = "东瓯商业银行股份有限公司"
PRODUCT_TITLE = "企业登记信息数据集"


def console_settings(db_url: str, tmp_path: Path) -> Settings:
    """The console tests' settings with the sequencer off (the tests sequence when they
    choose) and the log's key in the test's folder."""
    key = tmp_path / "log.key"
    if not key.exists():
        key.write_text(generate_key(Settings.log_origin)[0] + "\n")
    return Settings(
        database_url=db_url,
        secret_key="test-secret-key-test-secret-key-0",
        approval="manual",
        review_rule="lenient",
        log_key_file=str(key),
        sequencer=False,
    )


@dataclass
class Party:
    """A participant registered here with its connector's signing key and URL."""

    member: factories.Member
    signer: Ed25519Signer
    url: str

    @property
    def id(self) -> uuid.UUID:
        return self.member.id

    @property
    def api_key(self) -> str | None:
        return self.member.api_key

    @property
    def name(self) -> str:
        return self.member.name

    @property
    def urn(self) -> str:
        return f"urn:uscc:{self.member.identifier}"

    @property
    def sender(self) -> Sender:
        return Sender(self.id, self.signer.public_key())


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


def list_product(
    platform: Platform, provider_id: uuid.UUID, policy: dict[str, Any] | None = None
) -> uuid.UUID:
    """A resource and a dataset of ``provider_id`` offered under ``policy``, listed."""
    actor = Actor(participant_id=provider_id, role="provider")
    resource = msgspec.convert(
        {
            "title": "企业登记信息",
            "description": "东瓯市市场主体登记信息，每日更新。",
            "fields": [
                {"name": "uscc", "type": "string", "role": "identifier"},
                {"name": "name", "type": "string"},
            ],
            "source": "登记系统",
            "update_frequency": "daily",
            "industry": "L72",
            "classification": "general",
            "location": {"type": "sql", "table": "samr.registry"},
            "tags": ["企业登记"],
        },
        ResourceIn,
    )
    with platform.unit() as s:
        rid = resources.register(s, actor, resource).id
        body = {
            "kind": "dataset",
            "title": PRODUCT_TITLE,
            "title_en": "Company registry dataset",
            "description": "面向金融机构的企业登记数据集，经连接器按合约交付。",
            "resources": [str(rid)],
            "policy": policy or OFFER,
            "price": {"model": "one_off", "amount_fen": 100000},
            "tags": ["企业登记"],
        }
        product = products.create(s, actor, msgspec.convert(body, ProductIn))
        products.submit(s, actor, product.id)
        products.review(s, SYSTEM, product.id, ReviewDecision(decision="approve"), ("operator",))
    return product.id


@dataclass
class Deal:
    """The two parties, the product, and (as far as it went) their negotiation."""

    provider: Party
    consumer: Party
    product_id: uuid.UUID
    negotiation_id: uuid.UUID | None = None
    agreement_id: uuid.UUID | None = None

    @property
    def dataset_id(self) -> str:
        return f"urn:uuid:{self.product_id}"


def parties(platform: Platform) -> Deal:
    provider = register_party(platform, "government", "provider", PROVIDER_NAME, PROVIDER_URL)
    consumer = register_party(platform, "enterprise", "consumer", CONSUMER_NAME, CONSUMER_URL)
    return Deal(provider, consumer, list_product(platform, provider.id))


def provider_connector(session: Session, deal: Deal) -> Connector:
    """The provider's connector, as this platform's settings would make it."""
    participant = find(session, deal.provider.id)
    assert participant is not None
    signer = deal.provider.signer
    return Connector(
        participant=participant,
        signer=signer,
        keyid=fingerprint(signer.public_key()),
        base_url=PROVIDER_URL,
        auto_agree=False,
    )


def requested(platform: Platform) -> Deal:
    """A consumer's ContractRequestMessage received by the provider's connector (REQUESTED)."""
    deal = parties(platform)
    offer = {"@id": f"urn:uuid:{uuid.uuid4()}", **copy.deepcopy(OFFER)}
    msg = {
        "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
        "@type": "ContractRequestMessage",
        "consumerPid": f"urn:uuid:{uuid.uuid4()}",
        "offer": {**offer, "target": deal.dataset_id},
        "callbackAddress": CONSUMER_URL,
    }
    with platform.unit() as s:
        n = negotiation.on_request(s, deal.consumer.sender, msg, provider_connector(s, deal))
        deal.negotiation_id = n.id
    return deal


def agreed(platform: Platform, deal: Deal | None = None) -> Deal:
    """The provider agreed and signed (AGREED; the agreement awaits the consumer's signature)."""
    deal = deal or requested(platform)
    with platform.unit() as s:
        n = s.get(Negotiation, deal.negotiation_id)
        assert n is not None
        negotiation.agree(s, n, provider_connector(s, deal))
        deal.agreement_id = n.agreement_id
    return deal


def concluded(platform: Platform) -> Deal:
    """The consumer countersigned: FINALIZED, the agreement in force with both signatures."""
    deal = agreed(platform)
    with platform.unit() as s:
        n = s.get(Negotiation, deal.negotiation_id)
        assert n is not None and n.agreement_id is not None
        document = agreement_document(s, n.agreement_id)
        signature = agreements.sign(document, "assignee", deal.consumer.urn, deal.consumer.signer)
        msg = messages.verification(str(n.provider_pid), n.consumer_pid, signature)
        negotiation.on_verification(s, deal.consumer.sender, msg, n, provider_connector(s, deal))
    return deal


def agreement_document(session: Session, agreement_id: uuid.UUID) -> dict[str, Any]:
    row = session.get(Agreement, agreement_id)
    assert row is not None
    return dict(row.document)


def sequence_and_publish(platform: Platform) -> int:
    """Sequence every queued entry and publish a checkpoint; its size."""
    with platform.unit() as s:
        return logview.sequence_and_publish(s, platform.log_signer).size


@dataclass
class Sent:
    url: str
    body: dict[str, Any]


@dataclass
class RecordingTransport:
    """Keeps what the console's connector sends instead of sending it (a fake, not a mock)."""

    answer: dict[str, Any] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)

    def post(
        self, url: str, body: dict[str, Any], signer: Ed25519Signer, keyid: str
    ) -> dict[str, Any]:
        self.sent.append(Sent(url, copy.deepcopy(body)))
        return dict(self.answer)

    def types(self) -> list[str]:
        return [str(s.body.get("@type")) for s in self.sent]


@contextmanager
def console_with_connector(
    platform: Platform,
    tmp_path: Path,
    party: Party,
    transport: RecordingTransport,
    **settings: Any,
) -> Iterator[Client]:
    """The console on ``platform``'s database, its connector speaking for ``party``."""
    key_file = tmp_path / f"connector-{uuid.uuid4().hex[:6]}.key"
    key_file.write_text(base64.b64encode(party.signer.seed()).decode() + "\n")
    configured: Settings = dataclasses.replace(
        platform.settings,
        connector_participant=str(party.id),
        connector_key_file=str(key_file),
        connector_url=party.url,
        **settings,
    )
    side = dataclasses.replace(platform, settings=configured, transport=transport)
    with TestClient(create_app(configured, side)) as client:
        yield client
