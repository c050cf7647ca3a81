"""Data-market benchmark: certificate issuance, PDF rendering and offline verification, and the
regulator's dashboard and Prometheus scrape over a large metering table.

What runs, per backend, on a fresh scratch database (SQLite file in a temp dir, or the
PostgreSQL database ``shuchang_bench_market``, dropped after):

1. seed      -- an operator, a service firm, ``--agreements`` agreements between two parties
                (one-off, subscription and per-call prices) and ``--records`` usage records
                spread evenly over the last 30 days (Core executemany; not timed as a figure).
2. issue     -- ``--certificates`` listed products applied for and approved, each in its own
                write transaction (numbering, signing, evidence): certificates/s.
3. pdf       -- ``pdf.render`` of one certificate with its receipt, ``--repeat`` times: ms each.
4. verify    -- ``verify_pdf`` (signature, receipt, visible text) ``--repeat`` times: ms each.
5. rollup    -- ``indicators.fresh``: the closed days summed into the daily rollup (what the
                first dashboard request of a day pays), once.
6. dashboard -- ``indicators.dashboard`` in one read transaction, ``--repeat`` times: ms each
                (p50 / max): closed days from the rollup, today live from the metering records.
7. scrape    -- the ``/metrics`` exposition (database gauges), ``--repeat`` times: ms each.

Single process, one connection at a time, no concurrency; every loop has a count.

    .venv/bin/python benchmarks/market_load.py --quick             # 300k records, SQLite
    .venv/bin/python benchmarks/market_load.py --backend both      # 3M records (100k/day)
"""

from __future__ import annotations

import argparse
import base64
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchkit import DEFAULT_PG_URL, percentile, print_machine, print_table, scratch_database
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import factories
from market_factories import actor_of, provider_product
from shuchang.db import make_engine, table_of
from shuchang.domains.assets import certificate, pdf, service
from shuchang.domains.assets.models import AssetCertificate
from shuchang.domains.assets.schemas import AssetApplication, AssetDecision
from shuchang.domains.assets.verify import verify_pdf
from shuchang.domains.contracts.models import Agreement, Negotiation
from shuchang.domains.dataplane.models import UsageRecord
from shuchang.domains.evidence import logview, parse_verifier_key
from shuchang.domains.participants import SYSTEM
from shuchang.domains.supervision import indicators, metrics
from shuchang.migrations import upgrade
from shuchang.platform import Platform
from shuchang.ports import Ed25519Signer
from shuchang.settings import Settings


def timed(repeat: int, step: Callable[[], object]) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        step()
        out.append((time.perf_counter() - started) * 1000)
    return sorted(out)


def seed_metering(platform: Platform, agreements: int, records: int) -> None:
    provider = factories.participant(platform, roles=("provider",))
    consumer = factories.participant(platform, roles=("consumer",))
    now = datetime.now(UTC)
    ids = []
    with platform.unit() as s:
        for i in range(agreements):
            n = Negotiation(
                role="provider",
                provider_pid=f"p{i}",
                consumer_pid=f"c{i}",
                state="FINALIZED",
                local_participant_id=provider.id,
                counterparty_id=consumer.id,
                dataset_id="d",
                offer={},
                callback_address="https://c.example.cn/dsp",
            )
            s.add(n)
            s.flush()
            model = ("one_off", "subscription", "per_call")[i % 3]
            a = Agreement(
                negotiation_id=n.id,
                provider_id=provider.id,
                consumer_id=consumer.id,
                dataset_id="d",
                document={"@id": f"urn:uuid:{uuid.uuid4()}"},
                signatures=[],
                valid_from=now - timedelta(days=i % 300),
                valid_until=now + timedelta(days=365),
                price_model=model,
                price_fen=50 + i,
                status="active",
                created_at=now - timedelta(days=i % 300),
            )
            s.add(a)
            s.flush()
            ids.append(a.id)
    step = timedelta(days=30) / max(records, 1)
    batch = 50_000
    table = table_of(UsageRecord)
    for start in range(0, records, batch):
        rows = [
            {
                "agreement_id": ids[i % len(ids)],
                "transfer_id": ids[0],
                "consumer_id": consumer.id,
                "method": "GET",
                "path": "/claims",
                "permitted": i % 10 != 0,
                "outcome": "delivered",
                "status": 200,
                "bytes": 100,
                "rows": 1,
                "started_at": now - step * i,
            }
            for i in range(start, min(start + batch, records))
        ]
        with platform.unit() as s:
            s.execute(insert(table), rows)


def issue(platform: Platform, count: int) -> tuple[float, uuid.UUID]:
    operator = actor_of(factories.operator(platform), "operator")
    listed = [provider_product(platform) for _ in range(count)]
    last = None
    started = time.perf_counter()
    for item in listed:
        with platform.unit() as s:
            applied = service.apply(
                s,
                item.actor,
                AssetApplication(
                    product_id=item.product_id,
                    rights=["holding"],
                    description="基准测试用数据资产登记申请。",
                ),
                platform.settings,
            )
            last = service.review(
                s, operator, applied.id, AssetDecision(decision="approve"), platform.settings
            ).id
    elapsed = time.perf_counter() - started
    assert last is not None
    return count / elapsed, last


def run(backend: str, args: argparse.Namespace) -> list[list[object]]:
    with (
        scratch_database(backend, "shuchang_bench_market", args.pg_url) as db,
        tempfile.TemporaryDirectory() as tmp,
    ):
        engine = make_engine(db.url)
        upgrade(engine)
        engine.dispose()
        key = Path(tmp) / "issuer.key"
        key.write_text(base64.b64encode(Ed25519Signer().seed()).decode())
        from shuchang.domains.evidence.tlog.note import generate_key

        log_key = Path(tmp) / "log.key"
        log_key.write_text(generate_key(Settings.log_origin)[0] + "\n")
        settings = Settings(
            database_url=db.url,
            issuer_key_file=str(key),
            log_key_file=str(log_key),
            sequencer=False,
        )
        platform = Platform.build(settings)
        try:
            seed_metering(platform, args.agreements, args.records)
            rate, rid = issue(platform, args.certificates)
            with platform.unit() as s:
                logview.sequence_and_publish(s, platform.log_signer)
            with platform.unit(write=False) as s:
                row = s.query(AssetCertificate).filter_by(registration_id=rid).one()
                document, bundle = row.document, certificate.bundle(s, row.evidence_id)
            rendered = pdf.render(document, bundle)
            vkeys = [parse_verifier_key(platform.log_signer.verifier().vkey)]
            render_ms = timed(args.repeat, lambda: pdf.render(document, bundle))
            verify_ms = timed(args.repeat, lambda: verify_pdf(rendered, vkeys))

            def board() -> object:
                with platform.unit(write=False) as s:
                    return indicators.dashboard(s, SYSTEM, platform.log_signer)

            rollup_ms = timed(1, lambda: indicators.fresh(platform))
            board_ms = timed(args.repeat, board)
            scrape_ms = timed(args.repeat, lambda: metrics.exposition(platform))
        finally:
            platform.engine.dispose()
    return [
        [
            backend,
            "issue (apply + approve)",
            f"{rate:.1f} certificates/s",
            f"n={args.certificates}",
        ],
        [
            backend,
            "pdf render",
            f"{percentile(render_ms, 50):.1f} ms p50",
            f"max {render_ms[-1]:.1f} ms, {len(rendered)} bytes",
        ],
        [
            backend,
            "verify offline",
            f"{percentile(verify_ms, 50):.1f} ms p50",
            f"max {verify_ms[-1]:.1f} ms",
        ],
        [backend, "rollup of closed days", f"{rollup_ms[0]:.0f} ms", "once a day in service"],
        [
            backend,
            "dashboard",
            f"{percentile(board_ms, 50):.0f} ms p50",
            f"max {board_ms[-1]:.0f} ms; {args.records:,} records, {args.agreements} agreements",
        ],
        [
            backend,
            "/metrics scrape",
            f"{percentile(scrape_ms, 50):.0f} ms p50",
            f"max {scrape_ms[-1]:.0f} ms",
        ],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--records", type=int, default=3_000_000, help="usage records over 30 days")
    parser.add_argument("--agreements", type=int, default=1000)
    parser.add_argument("--certificates", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--quick", action="store_true", help="300k records, 20 certificates")
    args = parser.parse_args()
    if args.quick:
        args.records, args.certificates, args.repeat = 300_000, 20, 5
    print_machine(args.pg_url if args.backend != "sqlite" else None)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    rows = [row for backend in backends for row in run(backend, args)]
    print_table(["backend", "step", "figure", "detail"], rows)


if __name__ == "__main__":
    main()
