"""Clearing a month of metered usage into a settlement batch (清分), at 1,000,000 records.

Target (issue #8): clearing 1,000,000 metered usage records into a settlement batch in at
most 60 s on this 2-core machine, on SQLite and on PostgreSQL.

Setup per backend (SQLite file in a temp dir, or a PostgreSQL scratch database
``shuchang_bench_settlement``, dropped after), not timed:

* participants through the real onboarding: the data bureau (operator and authorizing body),
  ``--providers`` providers (every other one a government body, i.e. public data) and
  ``--consumers`` consumers;
* three listed products per provider through the catalog service — per call (2 fen), per
  row (3 fen per 1,000 rows) and tiered per call (20 fen up to 10,000 calls, 12 up to
  100,000, then 8) — and ``--agreements`` signed agreements spread over them (built and
  signed as the contracts domain does, stored directly);
* ``--records`` usage records in March 2025 (China time) written with Core bulk inserts in
  the gateway's shape, spread over the agreements with a skew (a few agreements carry most
  calls), 96 % billable, 1 % each of unknown outcome, upstream failure, provider error and
  denial, 0–500 rows each; sealed in metering batches of 10,000 (one evidence entry each);
* revenue-sharing rules (5 % fee, 10 % to the authorizing body for public data).

Timed, one process, one connection at a time (as `shuchang settlement run`):

* **orders**: one order per agreement (:func:`orders.sync`);
* **clear**: plan (the month's GROUP BY per agreement and metering batch, pricing, sharing,
  signing the filings and vouchers) + commit (batch, usage, ledger entries, invoices, shares,
  statements, records and their evidence, one transaction) — the target's figure;
* **pay**: collections and payouts through the recording rail, each with its entry;
* **reconcile**: recount the month and compare metering, invoices, ledger and rail.

Printed per backend: records, agreements, seconds per step, and records/s for clearing.

    .venv/bin/python benchmarks/settlement_clearing.py --records 100000           # both backends
    .venv/bin/python benchmarks/settlement_clearing.py --backend postgresql --records 1000000
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
from benchkit import (
    DEFAULT_PG_URL,
    loadavg,
    print_machine,
    print_table,
    scratch_database,
    wait_for_quiet,
)
from sqlalchemy import func, insert, select

from shuchang.db import table_of, utcnow
from shuchang.domains import evidence
from shuchang.domains.catalog import products, resources
from shuchang.domains.catalog.schemas import ProductIn, ResourceIn, ReviewDecision
from shuchang.domains.contracts import agreements
from shuchang.domains.contracts.models import Agreement, Negotiation
from shuchang.domains.dataplane.models import MeteringBatch, UsageRecord
from shuchang.domains.evidence.tlog.note import generate_key
from shuchang.domains.participants import SYSTEM, Actor, service
from shuchang.domains.participants.identifiers import (
    org_code_check_character,
    uscc_check_character,
)
from shuchang.domains.participants.schemas import RegisterParticipant
from shuchang.domains.settlement import clearing, orders, payouts, periods, reconciliation, sharing
from shuchang.domains.settlement.models import Batch
from shuchang.domains.settlement.rail import RecordingRail
from shuchang.domains.settlement.schemas import RuleIn
from shuchang.migrations import upgrade
from shuchang.platform import Platform
from shuchang.ports import Ed25519Signer
from shuchang.settings import Settings

PERIOD = "2025-03"
MONTH = periods.parse(PERIOD)
SEAL = 10_000
INSERT_CHUNK = 20_000
TARGET_SECONDS = 60
PRICES = (
    {"model": "per_call", "amount_fen": 2},
    {"model": "per_row", "amount_fen": 3},
    {
        "model": "tiered",
        "amount_fen": 20,
        "unit": "call",
        "tiers": [
            {"up_to": 10_000, "unit_fen": 20},
            {"up_to": 100_000, "unit_fen": 12},
            {"up_to": None, "unit_fen": 8},
        ],
    },
)
COLUMNS = [
    "backend",
    "records",
    "agreements",
    "orders s",
    "clear s",
    "records/s",
    "pay s",
    "transfers",
    "reconcile s",
    "invoices",
    "gross (yuan)",
]


def say(message: str) -> None:
    print(message, flush=True)


def platform_for(url: str, workdir: Path) -> Platform:
    log_key = workdir / "log.key"
    log_key.write_text(generate_key(Settings.log_origin)[0] + "\n")
    settlement_key = workdir / "settlement.key"
    settlement_key.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    settings = Settings(
        database_url=url,
        log_key_file=str(log_key),
        settlement_key_file=str(settlement_key),
        sequencer=False,
    )
    built = Platform.build(settings)
    upgrade(built.engine)
    return built


def _uscc(kind: str, n: int) -> str:
    body = f"B{n:07d}"
    first17 = (
        ("11" if kind == "government" else "91") + "330300" + body + org_code_check_character(body)
    )
    return first17 + uscc_check_character(first17)


def _member(platform: Platform, kind: str, roles: tuple[str, ...], n: int) -> tuple[uuid.UUID, str]:
    code = _uscc(kind, n)
    request = RegisterParticipant(
        kind=kind, name=f"基准参与方{n}", identifier=code, roles=list(roles)
    )  # type: ignore[arg-type]
    with platform.unit() as s:
        out = service.register(
            s, SYSTEM, request, service.OnboardingRules(review_rule="lenient", approval="auto")
        )
    return out.participant.id, f"urn:uscc:{code}"


def _product(
    platform: Platform, provider: uuid.UUID, price: dict[str, Any]
) -> tuple[uuid.UUID, dict[str, Any]]:
    actor = Actor(participant_id=provider, role="provider")
    resource = msgspec.convert(
        {
            "title": "企业登记信息查询",
            "description": "市场主体登记信息查询接口，实时。",
            "fields": [{"name": "uscc", "type": "string", "role": "identifier"}],
            "source": "登记系统",
            "update_frequency": "realtime",
            "industry": "L72",
            "classification": "general",
            "location": {"type": "http", "url": "https://registry.example.cn/api"},
            "tags": ["企业登记"],
        },
        ResourceIn,
    )
    policy = {
        "@type": "Offer",
        "permission": [
            {
                "action": "use",
                "constraint": [
                    {
                        "leftOperand": "purpose",
                        "operator": "eq",
                        "rightOperand": "小微企业信贷风险评估",
                    }
                ],
            }
        ],
    }
    with platform.unit() as s:
        rid = resources.register(s, actor, resource).id
        body = {
            "kind": "api",
            "title": f"基准产品 {price['model']}",
            "description": "面向金融机构的企业信息查询接口，按合约计量计费。",
            "resources": [str(rid)],
            "policy": policy,
            "price": price,
            "tags": ["企业登记"],
        }
        out = products.create(s, actor, msgspec.convert(body, ProductIn))
        products.submit(s, actor, out.id)
        products.review(s, SYSTEM, out.id, ReviewDecision(decision="approve"), ("operator",))
    return out.id, policy


def _agreement_rows(
    product: tuple[uuid.UUID, dict[str, Any], dict[str, Any]],
    provider: tuple[uuid.UUID, str],
    consumer: tuple[uuid.UUID, str],
    signer: Ed25519Signer,
) -> tuple[dict[str, Any], dict[str, Any]]:
    product_id, policy, price = product
    tiers = tuple((t["up_to"], t["unit_fen"]) for t in price.get("tiers", []))
    terms = agreements.Terms(
        f"urn:uuid:{product_id}",
        provider[1],
        consumer[1],
        price["model"],
        price["amount_fen"],
        None,
        365,
        price.get("unit"),
        tiers,
    )
    start = MONTH.start - timedelta(days=10)
    document = agreements.build(policy, terms, start)
    sigs = [
        agreements.sign(document, role, urn, signer)
        for role, urn in (("assigner", provider[1]), ("assignee", consumer[1]))
    ]
    valid_from, valid_until = agreements.window(document)
    now = utcnow()
    negotiation = {
        "id": uuid.uuid4(),
        "role": "provider",
        "provider_pid": f"urn:uuid:{uuid.uuid4()}",
        "consumer_pid": f"urn:uuid:{uuid.uuid4()}",
        "state": "FINALIZED",
        "local_participant_id": provider[0],
        "counterparty_id": consumer[0],
        "dataset_id": terms.dataset_id,
        "product_id": product_id,
        "offer": policy,
        "callback_address": "https://consumer.example.cn/dsp",
        "agreement_id": None,
        "error": None,
        "created_at": now,
        "updated_at": now,
    }
    agreement = {
        "id": uuid.UUID(document["@id"].removeprefix("urn:uuid:")),
        "negotiation_id": negotiation["id"],
        "provider_id": provider[0],
        "consumer_id": consumer[0],
        "dataset_id": terms.dataset_id,
        "product_id": product_id,
        "document": document,
        "signatures": sigs,
        "purpose": "小微企业信贷风险评估",
        "valid_from": valid_from,
        "valid_until": valid_until,
        "price_model": price["model"],
        "price_fen": price["amount_fen"],
        "status": "active",
        "created_at": now,
    }
    return negotiation, agreement


def seed_parties(
    platform: Platform, opts: Any
) -> tuple[list[tuple[uuid.UUID, uuid.UUID]], uuid.UUID]:
    """Participants, products, agreements; returns (agreement, consumer) pairs and the bureau."""
    bureau, _ = _member(platform, "government", ("operator",), 1)
    providers = [
        _member(platform, "government" if i % 2 else "enterprise", ("provider",), 100 + i)
        for i in range(opts.providers)
    ]
    consumers = [
        _member(platform, "enterprise", ("consumer",), 1000 + i) for i in range(opts.consumers)
    ]
    catalog = [
        (p, (*_product(platform, p[0], price), price)) for p in providers for price in PRICES
    ]
    signer, rng = Ed25519Signer(), random.Random(8)
    negotiations, rows = [], []
    for i in range(opts.agreements):
        provider, product = catalog[i % len(catalog)]
        n, a = _agreement_rows(product, provider, consumers[rng.randrange(len(consumers))], signer)
        negotiations.append(n)
        rows.append(a)
    with platform.unit() as s:
        s.execute(insert(table_of(Negotiation)), negotiations)
        s.execute(insert(table_of(Agreement)), rows)
    with platform.unit() as s:
        rule = RuleIn(
            effective_from=PERIOD,
            operator_id=bureau,
            operator_fee_bp=500,
            authority_id=bureau,
            authority_bp=1000,
        )
        sharing.set_rule(s, SYSTEM, rule)
    return [(a["id"], a["consumer_id"]) for a in rows], bureau


def _records(pairs: list[tuple[uuid.UUID, uuid.UUID]], count: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(1)
    weights = [1.0 / (1 + i % 50) for i in range(len(pairs))]  # a few agreements carry most
    chosen = rng.choices(range(len(pairs)), weights=weights, k=count)
    span = (MONTH.end - MONTH.start).total_seconds()
    for k, i in enumerate(chosen):
        agreement_id, consumer_id = pairs[i]
        roll = rng.random()
        permitted, outcome, status = True, "delivered", 200
        if roll < 0.01:
            permitted, outcome, status = False, "denied", 403
        elif roll < 0.02:
            outcome, status = "unknown", None
        elif roll < 0.03:
            outcome, status = "upstream_timeout", 504
        elif roll < 0.04:
            status = 404
        yield {
            "agreement_id": agreement_id,
            "transfer_id": agreement_id,
            "consumer_id": consumer_id,
            "method": "GET",
            "path": "/data",
            "permitted": permitted,
            "outcome": outcome,
            "status": status,
            "bytes": 300,
            "rows": rng.randrange(501) if outcome == "delivered" else 0,
            "duration_ms": 4,
            "started_at": MONTH.start + timedelta(seconds=span * k / count),
            "batch_id": k // SEAL + 1,
        }


def seed_usage(platform: Platform, pairs: list[tuple[uuid.UUID, uuid.UUID]], count: int) -> float:
    """Metering batches (one evidence entry each) and the usage records, Core bulk inserts."""
    started = time.perf_counter()
    batches = -(-count // SEAL)
    with platform.unit() as s:
        ids = evidence.record_many(
            s,
            "system",
            [
                ("dataplane.metering_batch", f"dataplane-batch:{b}", {"batch": b})
                for b in range(1, batches + 1)
            ],
        )
        s.execute(
            insert(table_of(MeteringBatch)),
            [
                {
                    "id": b,
                    "count": min(SEAL, count - (b - 1) * SEAL),
                    "first_id": (b - 1) * SEAL + 1,
                    "last_id": min(b * SEAL, count),
                    "digest": "0" * 64,
                    "evidence_id": e,
                    "sealed_at": utcnow(),
                }
                for b, e in zip(range(1, batches + 1), ids, strict=True)
            ],
        )
    chunk: list[dict[str, Any]] = []
    for row in _records(pairs, count):
        chunk.append(row)
        if len(chunk) == INSERT_CHUNK:
            with platform.unit() as s:
                s.execute(insert(table_of(UsageRecord)), chunk)
            chunk = []
    if chunk:
        with platform.unit() as s:
            s.execute(insert(table_of(UsageRecord)), chunk)
    if platform.engine.dialect.name == "postgresql":
        with platform.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started


def timed(step: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = step()
    return result, time.perf_counter() - started


def run_backend(backend: str, opts: Any) -> list[object]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        scratch_database(backend, "shuchang_bench_settlement", opts.pg_url) as db,
    ):
        platform = platform_for(db.url, Path(tmp))
        try:
            say(
                f"\n[{backend}] seeding {opts.agreements:,} agreements "
                f"over {opts.providers * len(PRICES)} products …"
            )
            pairs, _ = seed_parties(platform, opts)
            seconds = seed_usage(platform, pairs, opts.records)
            say(
                f"[{backend}] {opts.records:,} usage records written in {seconds:.1f} s; "
                f"waiting for a quiet machine (load {loadavg()})"
            )
            wait_for_quiet(max_wait=opts.quiet_wait)

            def sync() -> Any:
                with platform.unit() as s:
                    return orders.sync(s, SYSTEM)

            def clear() -> None:
                with platform.unit(write=False) as s:
                    plan = clearing.prepare(s, platform.settings, MONTH)
                with platform.unit() as s:
                    clearing.commit(s, platform.settings, plan, SYSTEM)

            synced, sync_s = timed(sync)
            _, clear_s = timed(clear)
            with platform.unit(write=False) as s:
                batch = s.scalars(select(Batch)).one()
            rail = RecordingRail(platform.unit)
            paid, pay_s = timed(lambda: payouts.pay(platform, SYSTEM, batch.id, rail))

            def reconcile() -> Any:
                with platform.unit() as s:
                    return reconciliation.reconcile(s, SYSTEM, PERIOD, rail)

            report, reconcile_s = timed(reconcile)
            with platform.unit(write=False) as s:
                batch = s.scalars(select(Batch)).one()
                cleared = int(s.scalar(select(func.count()).select_from(UsageRecord)) or 0)
            say(
                f"[{backend}] orders {len(synced.created)}, batch {batch.status}, "
                f"reconciliation ok={report.ok} ({report.errors} errors)"
            )
            return [
                backend,
                f"{cleared:,}",
                f"{opts.agreements:,}",
                f"{sync_s:.1f}",
                f"{clear_s:.1f}",
                f"{cleared / clear_s:,.0f}",
                f"{pay_s:.1f}",
                len(paid),
                f"{reconcile_s:.1f}",
                f"{batch.invoices:,}",
                f"{batch.gross_fen / 100:,.2f}",
            ]
        finally:
            platform.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--agreements", type=int, default=1_000)
    parser.add_argument("--providers", type=int, default=10)
    parser.add_argument("--consumers", type=int, default=40)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--quiet-wait", type=float, default=20.0)
    opts = parser.parse_args()
    print_machine(opts.pg_url)
    backends = ["sqlite", "postgresql"] if opts.backend == "both" else [opts.backend]
    rows = [run_backend(b, opts) for b in backends]
    say(
        f"\nclearing {opts.records:,} usage records of {PERIOD} into a settlement batch, "
        "one process"
    )
    print_table(COLUMNS, rows)
    say(f"target: clear 1,000,000 records in <= {TARGET_SECONDS} s per backend")


if __name__ == "__main__":
    sys.exit(main())
