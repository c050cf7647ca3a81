"""End to end: two Shuchang deployments, each with its own database and port, conclude a
contract over real HTTP — catalog → negotiation → agreement signed by both — and the provider
then decides uses under it; the consumer then runs a pull transfer under the agreement: it gets
an endpoint and a token signed by the provider, suspends, resumes (a new token) and completes.

Both instances are real `python -m shuchang serve` processes (see ``two_connectors.py``); the
test talks to them only through their public HTTP APIs, and reads each one's database only to
check its evidence. Run once on two SQLite files and once on two PostgreSQL databases.

The DSP catalog is read with the consumer's API key at the provider (``Authorization:
Bearer``): the catalog endpoint authenticates API keys, not connector signatures.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from contracts_support import catalog_datasets
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from two_connectors import PURPOSE, Instance, pair, start, stop

from shuchang.cli import cli
from shuchang.db import make_engine
from shuchang.domains.contracts import httpsig
from shuchang.domains.evidence.models import OutboxEntry
from shuchang.domains.transfers import TokenClaims, TransferNotStarted, check_started, verify_token
from shuchang.ports import fingerprint

CONTEXT = ["https://w3id.org/dspace/2025/1/context.jsonld"]
STEPS = ["REQUESTED", "AGREED", "VERIFIED", "FINALIZED"]
DEADLINE_S = 30.0

Pair = tuple[Instance, Instance, uuid.UUID]


# ---- two running instances ----------------------------------------------------------------------


def _postgres_databases(count: int) -> tuple[list[str], Callable[[], None]]:
    """``count`` empty scratch databases on the test server, and how to drop them."""
    admin = create_engine(os.environ["SHUCHANG_TEST_POSTGRES_URL"], isolation_level="AUTOCOMMIT")
    names = [f"shuchang_e2e_{uuid.uuid4().hex[:10]}" for _ in range(count)]
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is mandatory in CI and unreachable: {exc}")
        pytest.skip("PostgreSQL not reachable")

    def drop() -> None:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    urls = [admin.url.set(database=n).render_as_string(hide_password=False) for n in names]
    return urls, drop


@pytest.fixture(params=["sqlite", "postgresql"])
def connectors(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pair]:
    """Provider and consumer serving on their own ports; always stopped afterwards."""
    drop: Callable[[], None] = lambda: None  # noqa: E731
    urls: list[str | None] = [None, None]
    if request.param == "postgresql":
        found, drop = _postgres_databases(2)
        urls = list(found)
    provider, consumer, product_id = pair(tmp_path, *urls)
    try:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(start, [provider, consumer]))
        yield provider, consumer, product_id
    finally:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(stop, [provider, consumer]))
        drop()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def get(instance: Instance, path: str) -> Any:
    response = httpx.get(f"{instance.base}{path}", headers=bearer(instance.api_key), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def wait_until_final(instance: Instance, consumer_pid: str) -> dict[str, Any]:
    """This side's negotiation once FINALIZED or TERMINATED (bounded polling)."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        found = [
            n
            for n in get(instance, "/api/v1/contracts/negotiations/")
            if n["consumer_pid"] == consumer_pid
        ]
        if found and found[0]["state"] in ("FINALIZED", "TERMINATED"):
            return found[0]
        assert time.monotonic() < deadline, f"{instance.name} still {found and found[0]['state']}"
        time.sleep(0.05)


def evidence(instance: Instance, subject: str) -> list[str]:
    engine = make_engine(instance.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.scalars(
                select(OutboxEntry.kind)
                .where(OutboxEntry.subject == subject)
                .order_by(OutboxEntry.id)
            )
            return list(rows)
    finally:
        engine.dispose()


# ---- the flow ---------------------------------------------------------------------------------


def test_two_connectors_conclude_and_enforce_a_contract_over_http(
    connectors: Pair, tmp_path: Path
) -> None:
    provider, consumer, product_id = connectors
    bank, bureau = consumer.local, provider.local

    # 1. The consumer reads the provider's catalog over DSP with its API key there (a
    #    connector signature alone is not accepted by the catalog endpoint).
    catalog_request = {"@context": CONTEXT, "@type": "CatalogRequestMessage"}
    assert _catalog_with_signature_only(provider, consumer) == 401
    answer = httpx.post(
        f"{provider.base}/dsp/catalog/request",
        json=catalog_request,
        headers=bearer(provider.api_keys[bank.name]),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    catalog = answer.json()
    catalog_datasets(catalog)  # the whole answer passes the 2025-1 catalog schema
    bureau_urn = f"urn:uscc:{bureau.identifier}"  # the stable name both platforms agree on
    (listed,) = [c for c in catalog["catalog"] if c["participantId"] == bureau_urn]
    (dataset,) = [d for d in listed["dataset"] if d["@id"] == f"urn:uuid:{product_id}"]
    offer = dataset["hasPolicy"][0]
    assert offer["@id"] and "target" not in offer

    # 2. It asks its own connector to negotiate that offer with the provider.
    started = httpx.post(
        f"{consumer.base}/api/v1/contracts/negotiations",
        json={
            "provider_id": str(consumer.ids[bureau.name]),
            "dataset_id": dataset["@id"],
            "offer": offer,
        },
        headers=bearer(consumer.api_key),
        timeout=10,
    )
    assert started.status_code == 201, started.text
    consumer_pid = started.json()["consumer_pid"]

    # 3. Both sides reach FINALIZED through the same states.
    mine = wait_until_final(consumer, consumer_pid)
    theirs = wait_until_final(provider, consumer_pid)
    assert (mine["state"], theirs["state"]) == ("FINALIZED", "FINALIZED"), (mine, theirs)
    assert mine["provider_pid"] == theirs["provider_pid"]
    assert [e["to_state"] for e in mine["events"]] == STEPS
    assert [e["to_state"] for e in theirs["events"]] == STEPS
    assert [(e["direction"], e["message_type"]) for e in mine["events"]] == [
        ("out", "ContractRequestMessage"),
        ("in", "ContractAgreementMessage"),
        ("out", "ContractAgreementVerificationMessage"),
        ("in", "FINALIZED"),
    ]
    assert [(e["direction"], e["message_type"]) for e in theirs["events"]] == [
        ("in", "ContractRequestMessage"),
        ("out", "ContractAgreementMessage"),
        ("in", "ContractAgreementVerificationMessage"),
        ("out", "FINALIZED"),
    ]

    # 4. Both hold the same agreement, signed by both, verifiable offline.
    agreement_id = mine["agreement_id"]
    assert agreement_id == theirs["agreement_id"]
    held = [
        get(side, f"/api/v1/contracts/agreements/{agreement_id}") for side in (consumer, provider)
    ]
    assert held[0]["document"] == held[1]["document"]
    assert [h["status"] for h in held] == ["active", "active"]
    document = held[0]["document"]
    assert [(s["role"], s["keyid"]) for s in document["signatures"]] == [
        ("assigner", fingerprint(bureau.signer.public_key())),
        ("assignee", fingerprint(bank.signer.public_key())),
    ]
    agreement = document["agreement"]
    assert agreement["assigner"] == bureau_urn
    assert (agreement["target"], agreement["assignee"]) == (
        dataset["@id"],
        f"urn:uscc:{bank.identifier}",
    )
    assert held[0]["purpose"] == PURPOSE
    _verify_offline(tmp_path, document, bureau.public_key, bank.public_key)

    # 5. Each side recorded the negotiation and the conclusion as evidence.
    for side, negotiation in ((consumer, mine), (provider, theirs)):
        assert evidence(side, f"negotiation:{negotiation['id']}") == [
            f"negotiation.{state.lower()}" for state in STEPS
        ]
        assert evidence(side, f"agreement:{agreement_id}") == ["agreement.concluded"]

    # 6. The provider's data plane asks for decisions under the agreement.
    _decide_uses(provider, agreement_id)

    # 7. The consumer pulls under the agreement: start, suspend, resume, complete.
    _pull_transfer(provider, consumer, agreement_id)


def _transfer_step(instance: Instance, transfer_id: str, action: str, **body: Any) -> None:
    response = httpx.post(
        f"{instance.base}/api/v1/transfers/{transfer_id}/{action}",
        json=body or None,
        headers=bearer(instance.api_key),
        timeout=10,
    )
    assert response.status_code == 200, response.text


def wait_for_transfer(
    instance: Instance, consumer_pid: str, state: str, events: int = 0
) -> dict[str, Any]:
    """This side's transfer process once in ``state`` with at least ``events`` steps."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        found = [
            t for t in get(instance, "/api/v1/transfers/") if t["consumer_pid"] == consumer_pid
        ]
        if found and found[0]["state"] == state and len(found[0]["events"]) >= events:
            return dict(found[0])
        assert time.monotonic() < deadline, f"{instance.name}: {found and found[0]['state']}"
        time.sleep(0.05)


def _token_claims(bureau_key: bytes, bank_urn: str, view: dict[str, Any]) -> TokenClaims:
    props = {p["name"]: p["value"] for p in view["data_address"]["endpointProperties"]}
    assert props["authType"] == "bearer" and props["refreshEndpoint"].endswith("/token")
    return verify_token(
        props["authorization"], {fingerprint(bureau_key): bureau_key}, subject=bank_urn
    )


def _still_started(provider: Instance, claims: TokenClaims) -> bool:
    engine = make_engine(provider.database_url)
    try:
        with Session(engine) as s:
            check_started(s, claims)
        return True
    except TransferNotStarted:
        return False
    finally:
        engine.dispose()


def _pull_transfer(provider: Instance, consumer: Instance, agreement_id: str) -> None:
    bureau_key, bank_urn = (
        provider.local.signer.public_key(),
        f"urn:uscc:{consumer.local.identifier}",
    )
    started = httpx.post(
        f"{consumer.base}/api/v1/transfers",
        json={"agreement_id": agreement_id, "transfer_type": "HttpData-PULL"},
        headers=bearer(consumer.api_key),
        timeout=10,
    )
    assert started.status_code == 201, started.text
    consumer_pid = started.json()["consumer_pid"]
    mine = wait_for_transfer(consumer, consumer_pid, "STARTED")
    theirs = wait_for_transfer(provider, consumer_pid, "STARTED")
    claims = _token_claims(bureau_key, bank_urn, mine)
    assert str(claims.agreement_id) == agreement_id
    assert str(claims.transfer_id) == theirs["id"]
    assert mine["data_address"]["endpoint"] == f"{provider.base}/data"
    assert _still_started(provider, claims)

    _transfer_step(consumer, mine["id"], "suspend", reason="核对数据口径")
    wait_for_transfer(provider, consumer_pid, "SUSPENDED")
    assert not _still_started(provider, claims)  # the next data request is refused

    _transfer_step(consumer, mine["id"], "resume")
    resumed = wait_for_transfer(consumer, consumer_pid, "STARTED", events=5)
    fresh = _token_claims(bureau_key, bank_urn, resumed)
    assert (fresh.epoch, fresh.transfer_id) == (2, claims.transfer_id)
    assert _still_started(provider, fresh) and not _still_started(provider, claims)

    _transfer_step(consumer, mine["id"], "complete")
    wait_for_transfer(provider, consumer_pid, "COMPLETED")
    done = ["requested", "started", "suspended", "started", "completed"]
    assert evidence(provider, f"transfer:{theirs['id']}") == [f"transfer.{s}" for s in done]
    assert evidence(consumer, f"transfer:{mine['id']}") == [
        "transfer.requested",
        "transfer.started",
        "transfer.suspended",
        "transfer.resume_requested",
        "transfer.started",
        "transfer.completed",
    ]


def _verify_offline(tmp_path: Path, document: dict[str, Any], *keys: str) -> None:
    path = tmp_path / "agreement.json"
    text = json.dumps(document, ensure_ascii=False, indent=2)
    path.write_text(text, encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(cli, ["contracts", "verify", str(path)])
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.count(": OK") == 3
    agreement = document["agreement"]
    pins = [
        arg
        for urn, key in zip((agreement["assigner"], agreement["assignee"]), keys, strict=True)
        for arg in ("--trust", f"{urn}={key}")
    ]
    pinned = runner.invoke(cli, ["contracts", "verify", str(path), *pins])
    assert pinned.exit_code == 0, pinned.output
    at = text.index(PURPOSE)
    path.write_text(text[:at] + "个" + text[at + 1 :], encoding="utf-8")
    tampered = runner.invoke(cli, ["contracts", "verify", str(path)])
    assert tampered.exit_code == 1, tampered.output
    assert tampered.stderr.startswith("FAILED: agreement.signature_invalid")


def _decide_uses(provider: Instance, agreement_id: str) -> None:
    def decide(**use: Any) -> dict[str, Any]:
        response = httpx.post(
            f"{provider.base}/api/v1/contracts/agreements/{agreement_id}/decide",
            json=use,
            headers=bearer(provider.api_key),
            timeout=10,
        )
        assert response.status_code == 200, response.text
        out: dict[str, Any] = response.json()
        return out

    permitted = decide(action="read", purpose=PURPOSE)
    assert permitted["permitted"] is True
    assert permitted["reason_zh"].startswith("决定：允许")
    denied = decide(action="read", purpose="精准营销")
    assert denied["permitted"] is False
    assert "精准营销" in denied["reason_zh"]
    counted = [decide(action="read", purpose=PURPOSE, consume=True)["uses"] for _ in range(3)]
    assert counted == [1, 2, 3]
    assert decide(action="read", purpose=PURPOSE)["uses"] == 3  # asking does not count


def _catalog_with_signature_only(provider: Instance, consumer: Instance) -> int:
    raw = json.dumps({"@context": CONTEXT, "@type": "CatalogRequestMessage"}).encode()
    signer = consumer.local.signer
    headers = httpsig.sign_request(
        signer, fingerprint(signer.public_key()), "POST", "/dsp/catalog/request", raw
    )
    answer = httpx.post(f"{provider.base}/dsp/catalog/request", content=raw, headers=headers)
    assert answer.json()["@type"] == "CatalogError"
    return answer.status_code
