"""Contract negotiation benchmark: request → FINALIZED on both sides, two local connectors.

Target (issue): a full negotiation between two connectors in <= 200 ms.

Setup per backend: the two instances of ``tests/contracts/two_connectors.py`` — provider
(东瓯市市场监督管理局, one listed dataset) and consumer (东瓯商业银行), each its own database
(two SQLite files, or two PostgreSQL scratch databases ``shuchang_bench_neg_{p,c}``, dropped
after) and its own ``python -m shuchang serve`` process (granian, 1 worker each, sequencer off
unless ``--sequencer``), on 127.0.0.1 ports.

One negotiation = ``POST {consumer}/api/v1/contracts/negotiations`` with the listed offer,
then ``GET {consumer}/api/v1/contracts/negotiations/{id}`` every ``--poll-ms`` until the
consumer side is FINALIZED. The consumer is the last side to finalize (the provider commits
FINALIZED before it sends the FINALIZED event), and at the end every provider-side negotiation
is checked to be FINALIZED too. ``--warmup`` negotiations first (not reported), then ``--n``
sequential ones; p50/p95/max of the wall time from the POST to the observed FINALIZED.

Where the time goes: every negotiation step is stamped (``contract_negotiation_events.at``,
taken inside the step's transaction, before its commit) on both sides; the same clock serves
both processes, so the gaps between stamps give the time of each hop:

    api      POST received → consumer REQUESTED     (management API, before commit)
    →prov    consumer REQUESTED → provider REQUESTED (commit, background task, signed POST)
    agree    provider REQUESTED → AGREED            (build + sign the agreement)
    →cons    provider AGREED → consumer AGREED      (commit, background task, signed POST)
    verify   consumer AGREED → VERIFIED             (check + countersign)
    →prov2   consumer VERIFIED → provider VERIFIED  (commit, background task, signed POST)
    final    provider VERIFIED → FINALIZED          (same transaction)
    →cons2   provider FINALIZED → consumer FINALIZED
    seen     consumer FINALIZED → client saw it      (commit + polling granularity)

Everything talks to 127.0.0.1 only.

    .venv/bin/python benchmarks/contracts_negotiation.py
    .venv/bin/python benchmarks/contracts_negotiation.py --backend sqlite --n 100 --poll-ms 1
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from benchkit import (
    DEFAULT_PG_URL,
    loadavg,
    percentile,
    print_machine,
    print_table,
    scratch_database,
    wait_for_quiet,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "contracts"))
from two_connectors import OFFER, Instance, pair, start, stop

TARGET_MS = 200.0
HOPS = ["api", "→prov", "agree", "→cons", "verify", "→prov2", "final", "→cons2", "seen"]


def say(message: str) -> None:
    print(message, flush=True)


@contextlib.contextmanager
def databases(backend: str, pg_url: str) -> Iterator[tuple[str | None, str | None]]:
    if backend == "sqlite":
        yield None, None  # pair() puts two SQLite files in its work directory
        return
    with (
        scratch_database(backend, "shuchang_bench_neg_p", pg_url) as p,
        scratch_database(backend, "shuchang_bench_neg_c", pg_url) as c,
    ):
        yield p.url, c.url


@contextlib.contextmanager
def running(root: Path, urls: tuple[str | None, str | None], **env: str) -> Iterator[Any]:
    provider, consumer, product_id = pair(root, *urls)
    try:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda i: start(i, **env), [provider, consumer]))
        yield provider, consumer, product_id
    finally:
        for instance in (provider, consumer):
            with contextlib.suppress(Exception):
                stop(instance)


def stamp(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def negotiate(
    http: httpx.Client, consumer: Instance, body: dict[str, Any], poll_s: float
) -> tuple[float, float, dict[str, Any]]:
    """(wall seconds, epoch of the POST, the consumer's FINALIZED negotiation)."""
    auth = {"Authorization": f"Bearer {consumer.api_key}"}
    began_epoch, began = time.time(), time.perf_counter()
    created = http.post(f"{consumer.base}/api/v1/contracts/negotiations", json=body, headers=auth)
    created.raise_for_status()
    url = f"{consumer.base}/api/v1/contracts/negotiations/{created.json()['id']}"
    deadline = began + 30
    while True:
        n = http.get(url, headers=auth).json()
        if n["state"] == "FINALIZED":
            return time.perf_counter() - began, began_epoch, n
        if n["state"] == "TERMINATED" or time.perf_counter() > deadline:
            raise RuntimeError(f"negotiation ended {n['state']}: {n['error']}")
        time.sleep(poll_s)


def hops(
    began: float, seen: float, mine: dict[str, Any], theirs: dict[str, Any]
) -> dict[str, float]:
    c = {e["to_state"]: stamp(e["at"]) for e in mine["events"]}
    p = {e["to_state"]: stamp(e["at"]) for e in theirs["events"]}
    points = [
        began,
        c["REQUESTED"],
        p["REQUESTED"],
        p["AGREED"],
        c["AGREED"],
        c["VERIFIED"],
        p["VERIFIED"],
        p["FINALIZED"],
        c["FINALIZED"],
        seen,
    ]
    return {name: (b - a) * 1000 for name, a, b in zip(HOPS, points[:-1], points[1:], strict=True)}


def run_backend(backend: str, opts: argparse.Namespace) -> list[object] | None:
    env = {"SHUCHANG_SEQUENCER": "true"} if opts.sequencer else {}
    with (
        tempfile.TemporaryDirectory(prefix="shuchang-neg-") as tmp,
        databases(backend, opts.pg_url) as urls,
        running(Path(tmp), urls, **env) as (provider, consumer, product_id),
        httpx.Client(timeout=10) as http,
    ):
        body = {
            "provider_id": str(consumer.ids[provider.local.name]),
            "dataset_id": f"urn:uuid:{product_id}",
            "offer": {"@id": "urn:uuid:bench-offer", **OFFER},
        }
        for _ in range(opts.warmup):
            negotiate(http, consumer, body, opts.poll_ms / 1000)
        busy = wait_for_quiet(max_wait=opts.quiet_wait)
        say(f"\n## {backend}: host busy {busy:.0%} before, load {loadavg()}")
        results = []
        for _ in range(opts.n):
            wall, began, mine = negotiate(http, consumer, body, opts.poll_ms / 1000)
            results.append((wall, began, time.time(), mine))
        auth = {"Authorization": f"Bearer {provider.api_key}"}
        listed = http.get(f"{provider.base}/api/v1/contracts/negotiations/", headers=auth).json()
        theirs = {n["consumer_pid"]: n for n in listed}
        per_hop = {h: [] for h in HOPS}  # type: dict[str, list[float]]
        for wall, began, _, mine in results:
            provider_side = theirs[mine["consumer_pid"]]
            if provider_side["state"] != "FINALIZED":
                raise RuntimeError(f"provider side is {provider_side['state']}")
            seen = began + wall
            for name, ms in hops(began, seen, mine, provider_side).items():
                per_hop[name].append(ms)
        walls = sorted(w * 1000 for w, *_ in results)
        say(f"load after: {loadavg()}")
        print_table(
            ["hop", "p50 ms", "p95 ms", "max ms"],
            [
                [h, f"{statistics.median(v):.1f}", f"{percentile(sorted(v), 95):.1f}",
                 f"{max(v):.1f}"]
                for h, v in per_hop.items()
            ],
        )  # fmt: skip
        return [
            backend,
            opts.n,
            f"{percentile(walls, 50):.0f}",
            f"{percentile(walls, 95):.0f}",
            f"{walls[-1]:.0f}",
            "yes" if percentile(walls, 95) <= TARGET_MS else "no",
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--n", type=int, default=50, help="measured negotiations")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--poll-ms", type=float, default=2.0, help="client polling interval")
    parser.add_argument("--sequencer", action="store_true", help="run the evidence sequencer")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--quiet-wait", type=float, default=20.0)
    opts = parser.parse_args()
    print_machine(opts.pg_url)
    say(
        f"negotiations: {opts.warmup} warm-up + {opts.n} sequential, one client, polling "
        f"every {opts.poll_ms} ms; 2 servers x 1 worker; target p95 <= {TARGET_MS:.0f} ms"
    )
    rows = []
    for backend in ["sqlite", "postgresql"] if opts.backend == "both" else [opts.backend]:
        try:
            row = run_backend(backend, opts)
        except Exception as exc:  # PostgreSQL unreachable: report, keep the SQLite figures
            if backend == "sqlite":
                raise
            say(f"\n## {backend}: skipped ({type(exc).__name__}: {exc})")
            continue
        if row:
            rows.append(row)
    say("\nrequest → FINALIZED on both sides (wall time seen by the client)")
    print_table(["backend", "n", "p50 ms", "p95 ms", "max ms", "p95 ≤ 200 ms"], rows)


if __name__ == "__main__":
    main()
