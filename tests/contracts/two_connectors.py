"""Two Shuchang instances, each with its own database and port, set up as provider and consumer.

Used by the end-to-end test and the negotiation benchmark: both register each other's
participant (same USCC), connector URL and public key, exactly as two real deployments would.
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec

from shuchang.domains.catalog import products, resources
from shuchang.domains.catalog.schemas import ProductIn, ResourceIn, ReviewDecision
from shuchang.domains.evidence.tlog.note import generate_key
from shuchang.domains.participants import SYSTEM, Actor, OnboardingRules
from shuchang.domains.participants import keys as participant_keys
from shuchang.domains.participants import service as participant_service
from shuchang.domains.participants.schemas import AddConnector, AddKey, RegisterParticipant
from shuchang.migrations import upgrade
from shuchang.platform import Platform
from shuchang.ports import Ed25519Signer
from shuchang.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from factories import uscc

PURPOSE = "小微企业信贷风险评估"
OFFER = {
    "@type": "Offer",
    "permission": [
        {
            "action": "use",
            "constraint": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": PURPOSE}],
        }
    ],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Party:
    name: str
    identifier: str
    kind: str
    roles: tuple[str, ...]
    signer: Ed25519Signer = field(default_factory=Ed25519Signer)

    @property
    def public_key(self) -> str:
        return base64.b64encode(self.signer.public_key()).decode()


@dataclass
class Instance:
    """One platform: its database, its connector's participant, its server process."""

    name: str
    workdir: Path
    port: int
    database_url: str
    local: Party
    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    api_key: str = ""
    # Every registered party's API key here (a peer uses its own for the DSP catalog).
    api_keys: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dsp(self) -> str:
        return f"{self.base}/dsp"

    def settings(self, **extra: Any) -> Settings:
        return Settings(
            database_url=self.database_url,
            log_key_file=str(self.workdir / "log.key"),
            sequencer=False,
            connector_participant=str(self.ids.get(self.local.name, "")),
            connector_key_file=str(self.workdir / "connector.key"),
            connector_url=self.dsp,
            **extra,
        )

    def env(self, **extra: str) -> dict[str, str]:
        s = self.settings()
        env = {**os.environ}
        env.update(
            {
                "SHUCHANG_DATABASE_URL": s.database_url,
                "SHUCHANG_LOG_KEY_FILE": s.log_key_file,
                "SHUCHANG_SEQUENCER": "false",
                "SHUCHANG_CONNECTOR_PARTICIPANT": s.connector_participant,
                "SHUCHANG_CONNECTOR_KEY_FILE": s.connector_key_file,
                "SHUCHANG_CONNECTOR_URL": s.connector_url,
                "SHUCHANG_PORT": str(self.port),
                **extra,
            }
        )
        return env


def prepare(instance: Instance, parties: list[tuple[Party, str]]) -> Platform:
    """Migrate, write keys, register every party (with its key and connector URL)."""
    instance.workdir.mkdir(parents=True, exist_ok=True)
    (instance.workdir / "log.key").write_text(generate_key(Settings.log_origin)[0] + "\n")
    (instance.workdir / "connector.key").write_text(
        base64.b64encode(instance.local.signer.seed()).decode() + "\n"
    )
    platform = Platform.build(instance.settings())
    upgrade(platform.engine)
    lenient = OnboardingRules(review_rule="lenient", approval="auto")
    with platform.unit() as s:
        for party, connector_url in parties:
            request = RegisterParticipant(
                kind=party.kind,
                name=party.name,
                identifier=party.identifier,
                roles=list(party.roles),  # type: ignore[arg-type]
            )
            registration = participant_service.register(s, SYSTEM, request, lenient)
            pid = registration.participant.id
            instance.ids[party.name] = pid
            instance.api_keys[party.name] = str(registration.api_key)
            if party is instance.local:
                instance.api_key = str(registration.api_key)
            participant_keys.add_key(s, SYSTEM, pid, AddKey(public_key=party.public_key))
            participant_keys.add_connector(
                s, SYSTEM, pid, AddConnector(url=connector_url, public_key=party.public_key)
            )
    return platform


def list_product(
    platform: Platform,
    provider_id: uuid.UUID,
    policy: dict[str, Any] | None = None,
    price: dict[str, Any] | None = None,
) -> uuid.UUID:
    """List a dataset of ``provider_id`` with ``policy`` (default OFFER) through review."""
    actor = Actor(participant_id=provider_id, role="provider")
    resource = msgspec.convert(
        {
            "title": "企业登记信息",
            "description": "东瓯市市场主体登记信息，每日更新。",
            "fields": [{"name": "uscc", "type": "string", "role": "identifier"}],
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
            "title": "企业登记信息数据集",
            "description": "面向金融机构的企业登记数据集，经连接器按合约交付。",
            "resources": [str(rid)],
            "policy": policy or OFFER,
            "price": price or {"model": "one_off", "amount_fen": 100000},
            "tags": ["企业登记"],
        }
        product = products.create(s, actor, msgspec.convert(body, ProductIn))
        products.submit(s, actor, product.id)
        products.review(s, SYSTEM, product.id, ReviewDecision(decision="approve"), ("operator",))
    return product.id


def start(instance: Instance, **env: str) -> None:
    """Serve ``instance`` and wait until it answers; its output goes to ``server.log``."""
    log = (instance.workdir / "server.log").open("ab")
    instance.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "shuchang", "serve", "--port", str(instance.port)],
        env=instance.env(**env),
        cwd=instance.workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()  # the child holds its own descriptor
    deadline = time.monotonic() + 60  # generous: a loaded 2-core CI machine starts slowly
    while time.monotonic() < deadline and instance.process.poll() is None:
        try:
            if httpx.get(f"{instance.base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    tail = (instance.workdir / "server.log").read_text(errors="replace")[-2000:]
    stop(instance)
    raise RuntimeError(f"{instance.name} did not start:\n{tail}")


def stop(instance: Instance) -> None:
    """Stop the server's whole process group (granian workers included)."""
    process, instance.process = instance.process, None
    if process is None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
            return


def pair(
    root: Path, provider_url: str | None = None, consumer_url: str | None = None
) -> tuple[Instance, Instance, uuid.UUID]:
    """Two prepared instances and the listed product's id (servers not started)."""
    bureau = Party("东瓯市市场监督管理局", uscc("government"), "government", ("provider",))
    bank = Party("东瓯商业银行股份有限公司", uscc("enterprise"), "enterprise", ("consumer",))
    p = Instance(
        "provider",
        root / "provider",
        free_port(),
        provider_url or f"sqlite:///{root}/provider.db",
        bureau,
    )
    c = Instance(
        "consumer",
        root / "consumer",
        free_port(),
        consumer_url or f"sqlite:///{root}/consumer.db",
        bank,
    )
    parties = [(bureau, p.dsp), (bank, c.dsp)]
    provider_platform = prepare(p, parties)
    product_id = list_product(provider_platform, p.ids[bureau.name])
    provider_platform.engine.dispose()
    prepare(c, parties).engine.dispose()
    return p, c, product_id
