"""Evidence-log benchmark: sequencing throughput, inclusion-proof generation, verification.

Targets (issue): on a 2-core machine, on SQLite and on PostgreSQL,
  * sequencing >= 20,000 entries/s sustained over 1,000,000 entries;
  * inclusion-proof generation <= 1 ms p99 at 10,000,000 leaves;
  * proof verification <= 0.2 ms.

What runs, per backend, on a fresh scratch database (SQLite file in a temp dir, or the
PostgreSQL databases ``shuchang_bench_evidence`` / ``shuchang_bench_tree``, dropped after):

1. fill     -- ``--entries`` outbox entries. The first ``--record-sample`` go through
               ``evidence.record`` (the write path every domain uses, ``--fill-batch`` per
               transaction) and its rate is reported; the rest are the same rows (payload,
               canonical digest, timestamp, queue row) written with a Core executemany, only
               to get to the size quickly. Not part of the sequencing figure.
2. sequence -- ``log.sequence(session, --batch)``, each call in its own write transaction,
               looped until the queue is empty: entries/s overall and per window (default
               100k entries) to show whether it is sustained as the tree grows.
3. checkpoint  ``log.publish_checkpoint`` once; the root is then recomputed in memory from
               the stored leaf data and compared (checks the sequencer's output).
4. receipts -- ``log.receipt`` (leaf lookup + checkpoint + proof + tlog-proof encoding) for
               random entries of that log, one read transaction each.
5. proofs   -- a separate tree of ``--proof-leaves`` leaves: every stored subtree hash is
               computed with ``merkle.MemoryTree`` and bulk-loaded into ``tlog_nodes``
               (executemany on SQLite, binary COPY on PostgreSQL); then
               ``merkle.inclusion_proof(log.DbNodeStore(session), idx, size)`` for random
               indices (a) inside one open read transaction, (b) each in its own read
               transaction (what one receipt request pays). Every proof is verified.
6. verify   -- ``merkle.verify_inclusion`` on ``--verifications`` proofs at
               ``--proof-leaves`` leaves (pure CPU, backend-independent, run once).

Every timed loop stops at its count or after ``--budget`` seconds, whichever comes first
(the count actually measured is printed). Single process, one database connection, no
concurrency; everything on this machine.

    .venv/bin/python benchmarks/evidence_log.py --quick                   # 100k / 1M leaves
    .venv/bin/python benchmarks/evidence_log.py --backend both              # 1M / 10M
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchkit import (
    DEFAULT_PG_URL,
    ScratchDb,
    fmt_rate,
    loadavg,
    percentile,
    print_machine,
    print_table,
    scratch_database,
    wait_for_quiet,
)
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from shuchang.canonical import digest
from shuchang.db import make_engine, make_session_factory, session_scope, utcnow
from shuchang.domains import evidence
from shuchang.domains.evidence import log
from shuchang.domains.evidence.models import LogLeaf, OutboxEntry, PendingEntry
from shuchang.domains.evidence.tlog import merkle
from shuchang.domains.evidence.tlog.note import generate_key, parse_signer_key
from shuchang.migrations import upgrade

ORIGIN = "bench.shuchang.local/evidence"
SEQ_TARGET = 20_000  # entries/s
PROOF_TARGET_MS = 1.0
VERIFY_TARGET_US = 200.0

Sequencer = Callable[[Session, int], log.SequencedBatch]


@dataclass
class Results:
    rows: list[list[object]] = field(default_factory=list)

    def add(self, where: str, metric: str, size: str, value: str, target: str = "-") -> None:
        self.rows.append([where, metric, size, value, target])
        print(f"  -> {metric}: {value}" + (f"  (target {target})" if target != "-" else ""))
        sys.stdout.flush()


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def say(message: str) -> None:
    print(message, flush=True)


def settle(args: argparse.Namespace) -> None:
    busy = wait_for_quiet(args.quiet_threshold, args.max_wait)
    say(f"    (host before timing: {busy:.0%} CPU busy, load average {loadavg()})")


def timed(items: Sequence[Any], fn: Callable[[Any], object], budget: float) -> list[float]:
    """Seconds per call of ``fn(item)``, sorted; stops after ``budget`` seconds in total."""
    times: list[float] = []
    clock = time.perf_counter
    deadline = clock() + budget
    for item in items:
        t0 = clock()
        fn(item)
        t1 = clock()
        times.append(t1 - t0)
        if t1 > deadline:
            break
    return sorted(times)


def ms_summary(times: list[float]) -> str:
    return (
        f"p50 {percentile(times, 50) * 1000:.3f} ms, p99 {percentile(times, 99) * 1000:.3f} ms "
        f"(n={len(times):,})"
    )


# ---------------------------------------------------------------------------------------------
# 1. fill the outbox
# ---------------------------------------------------------------------------------------------


def payload(i: int) -> dict[str, object]:
    """Shaped like the payload of participant.registered (the commonest entry)."""
    return {
        "kind": "enterprise",
        "name": f"基准测试企业{i}有限公司",
        "identifier": f"91330300B{i:07d}X",
        "roles": ["consumer"],
        "decision": "verified",
        "reason": "credential.valid",
        "status": "active",
        "steps": [
            ["identifier", "pass", "identifier.valid"],
            ["duplicate", "pass", "duplicate.none"],
            ["credential", "pass", "credential.valid"],
        ],
    }


def subject(i: int) -> str:
    return f"participant:00000000-0000-4000-8000-{i:012d}"


def record_fill(engine: Engine, start: int, count: int, per_tx: int) -> float:
    factory = make_session_factory(engine)
    t0 = time.perf_counter()
    for chunk in range(start, start + count, per_tx):
        with session_scope(factory) as s:
            for i in range(chunk, min(chunk + per_tx, start + count)):
                evidence.record(s, "participant.registered", subject(i), "system", payload(i))
    return time.perf_counter() - t0


def bulk_fill(engine: Engine, start: int, count: int, per_tx: int = 20_000) -> float:
    """The rows ``evidence.record`` writes, inserted with a Core executemany."""
    outbox = OutboxEntry.__table__
    t0 = time.perf_counter()
    for chunk in range(start, start + count, per_tx):
        rows = []
        for i in range(chunk, min(chunk + per_tx, start + count)):
            p = payload(i)
            rows.append(
                {
                    "kind": "participant.registered",
                    "subject": subject(i),
                    "actor": "system",
                    "payload": p,
                    "payload_digest": digest(p),
                    "recorded_at": utcnow(),
                }
            )
        with engine.begin() as conn:
            last = conn.scalar(select(func.coalesce(func.max(OutboxEntry.id), 0)))
            conn.execute(outbox.insert(), rows)
            conn.execute(
                text(
                    "INSERT INTO evidence_pending (outbox_id) "
                    "SELECT id FROM evidence_outbox WHERE id > :last"
                ),
                {"last": last},
            )
    return time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------
# 2-4. sequence, checkpoint, receipts
# ---------------------------------------------------------------------------------------------


def run_sequencer(
    engine: Engine, sequence: Sequencer, batch: int, window: int
) -> tuple[int, float, list[float]]:
    """Sequence until the queue is empty; returns (entries, seconds, per-window rates)."""
    factory = make_session_factory(engine)
    total, busy, windows = 0, 0.0, []
    win_n, win_t = 0, 0.0
    for _ in range(10_000_000):  # bounded; ends when the queue is empty
        t0 = time.perf_counter()
        with session_scope(factory) as s:
            added = sequence(s, batch).count
        dt = time.perf_counter() - t0
        if not added:
            break
        total += added
        busy += dt
        win_n += added
        win_t += dt
        if win_n >= window:
            windows.append(win_n / win_t)
            say(f"    sequenced {total:,}: last window {fmt_rate(windows[-1])} entries/s")
            win_n, win_t = 0, 0.0
    if win_n:
        windows.append(win_n / win_t)
    return total, busy, windows


def check_root(engine: Engine, size: int, root: bytes) -> None:
    """Recompute the root from the stored leaf data, independently of tlog_nodes."""
    tree = merkle.MemoryTree()
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=50_000).execute(
            select(LogLeaf.data).order_by(LogLeaf.idx)
        )
        for (data,) in result:
            tree.append(bytes(data))
    if tree.size != size or tree.root() != root:
        raise SystemExit(f"checkpoint root mismatch at size {size}: the sequencer is wrong")


def sequencing_phase(  # noqa: PLR0915 - one phase, read top to bottom
    db: ScratchDb, args: argparse.Namespace, results: Results
) -> None:
    where = db.backend
    entries = args.entries
    engine = make_engine(db.url)
    rng = random.Random(args.seed)
    try:
        upgrade(engine)
        sample = min(args.record_sample, entries)
        say(f"  fill: {sample:,} entries via evidence.record ({args.fill_batch:,} a transaction)")
        secs = record_fill(engine, 0, sample, args.fill_batch)
        results.add(
            db.backend, "evidence.record (write path)", f"{sample:,}",
            f"{fmt_rate(sample / secs)} entries/s",
        )  # fmt: skip
        say(f"  fill: {entries - sample:,} more with a Core executemany")
        secs = bulk_fill(engine, sample, entries - sample)
        say(f"    done in {secs:.1f} s")
        if db.backend == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        settle(args)
        say(f"  sequence: batches of {args.batch:,} until the queue is empty")
        total, busy, windows = run_sequencer(engine, log.sequence, args.batch, args.window)
        if total != entries:
            raise SystemExit(f"sequenced {total} entries, expected {entries}")
        overall, worst = total / busy, min(windows)
        results.add(
            where, "sequencing, overall", f"{total:,}",
            f"{fmt_rate(overall)} entries/s ({busy:.1f} s)",
            f">= {fmt_rate(SEQ_TARGET)}/s: {met(overall >= SEQ_TARGET)}",
        )  # fmt: skip
        results.add(
            where, f"sequencing, slowest/fastest {args.window:,} window", f"{total:,}",
            f"{fmt_rate(worst)} / {fmt_rate(max(windows))} entries/s",
            f">= {fmt_rate(SEQ_TARGET)}/s: {met(worst >= SEQ_TARGET)}",
        )  # fmt: skip
        with engine.connect() as conn:
            left = conn.scalar(select(func.count()).select_from(PendingEntry))
        if left:
            raise SystemExit(f"{left} entries still queued")

        signer = parse_signer_key(generate_key(ORIGIN)[0])
        factory = make_session_factory(engine)
        t0 = time.perf_counter()
        with session_scope(factory) as s:
            checkpoint = log.publish_checkpoint(s, signer, ORIGIN)
            size, root = checkpoint.size, checkpoint.root
        cp_ms = (time.perf_counter() - t0) * 1000
        results.add(where, "publish_checkpoint", f"{size:,}", f"{cp_ms:.1f} ms")
        say("  checking the checkpoint root against the stored leaf data (in memory)")
        check_root(engine, size, root)

        with session_scope(factory, write=False) as s:
            outbox_ids = list(s.scalars(select(LogLeaf.outbox_id)))
        picks = [rng.choice(outbox_ids) for _ in range(args.proofs)]

        def one_receipt(outbox_id: int) -> None:
            with session_scope(factory, write=False) as s:
                log.receipt(s, outbox_id)

        settle(args)
        say(f"  receipts: up to {args.proofs:,} random entries, budget {args.budget:g} s")
        times = timed(picks, one_receipt, args.budget)
        results.add(where, "receipt (own read tx)", f"{size:,}", ms_summary(times))
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------------
# 5. proofs on a bulk-loaded tree
# ---------------------------------------------------------------------------------------------


def build_tree(leaves: int) -> merkle.MemoryTree:
    tree = merkle.MemoryTree()
    append = tree.append_leaf_hash
    leaf_hash = merkle.leaf_hash
    for i in range(leaves):
        append(leaf_hash(b"bench leaf %d" % i))
    return tree


def tree_rows(tree: merkle.MemoryTree) -> Iterator[tuple[int, int, bytes]]:
    """Every stored node (level, idx, hash) in primary-key order."""
    levels: list[bytearray] = tree._levels  # read-only walk over the stored hashes
    for level, data in enumerate(levels):
        view = memoryview(data)
        for idx in range(len(data) // merkle.HASH_SIZE):
            yield level, idx, bytes(view[idx * 32 : idx * 32 + 32])


def bulk_load(engine: Engine, tree: merkle.MemoryTree) -> int:
    rows = 0
    raw = engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        if engine.dialect.name == "postgresql":
            copy_sql = "COPY tlog_nodes (level, idx, hash) FROM STDIN (FORMAT BINARY)"
            with driver.cursor() as cur, cur.copy(copy_sql) as cp:
                cp.set_types(["int2", "int8", "bytea"])
                for row in tree_rows(tree):
                    cp.write_row(row)
                    rows += 1
            driver.commit()
            with driver.cursor() as cur:
                cur.execute("ANALYZE tlog_nodes")
            driver.commit()
        else:
            cur = driver.cursor()
            sql = "INSERT INTO tlog_nodes (level, idx, hash) VALUES (?, ?, ?)"
            chunk: list[tuple[int, int, bytes]] = []
            for row in tree_rows(tree):
                chunk.append(row)
                if len(chunk) == 500_000:
                    cur.execute("BEGIN")
                    cur.executemany(sql, chunk)
                    cur.execute("COMMIT")
                    rows += len(chunk)
                    chunk = []
            if chunk:
                cur.execute("BEGIN")
                cur.executemany(sql, chunk)
                cur.execute("COMMIT")
                rows += len(chunk)
            cur.close()
    finally:
        raw.close()
    return rows


def proof_phase(
    db: ScratchDb, tree: merkle.MemoryTree, args: argparse.Namespace, results: Results
) -> None:  # fmt: skip
    size, root = tree.size, tree.root()
    rng = random.Random(args.seed + 1)
    engine = make_engine(db.url)
    try:
        upgrade(engine)
        say(f"  bulk-loading the {size:,}-leaf tree's stored hashes into tlog_nodes")
        t0 = time.perf_counter()
        rows = bulk_load(engine, tree)
        say(f"    {rows:,} rows in {time.perf_counter() - t0:.1f} s")
        factory = make_session_factory(engine)
        indices = [rng.randrange(size) for _ in range(args.proofs)]
        where = db.backend
        with session_scope(factory, write=False) as s:  # correctness, and warms caches
            if merkle.root_at(log.DbNodeStore(s), size) != root:
                raise SystemExit("root from tlog_nodes differs from the in-memory tree")
            for idx in indices[:3]:
                proof = merkle.inclusion_proof(log.DbNodeStore(s), idx, size)
                merkle.verify_inclusion(tree.leaf_hash(idx), idx, size, proof, root)
        proofs: dict[int, list[bytes]] = {}

        settle(args)
        say(f"  proofs: up to {args.proofs:,}, budget {args.budget:g} s each")
        with session_scope(factory, write=False) as s:
            store = log.DbNodeStore(s)

            def in_open_tx(
                idx: int, store: merkle.NodeStore = store, out: dict[int, Any] = proofs
            ) -> None:
                out[idx] = merkle.inclusion_proof(store, idx, size)

            in_tx = timed(indices, in_open_tx, args.budget)

        def own_tx(idx: int) -> None:
            with session_scope(factory, write=False) as s:
                merkle.inclusion_proof(log.DbNodeStore(s), idx, size)

        by_tx = timed(indices, own_tx, args.budget)
        for idx, proof in proofs.items():
            merkle.verify_inclusion(tree.leaf_hash(idx), idx, size, proof, root)
        for label, times in (("open read tx", in_tx), ("own read tx", by_tx)):
            p99 = percentile(times, 99) * 1000
            results.add(
                where, f"inclusion proof ({label})", f"{size:,}", ms_summary(times),
                f"p99 <= {PROOF_TARGET_MS:g} ms: {met(p99 <= PROOF_TARGET_MS)}",
            )  # fmt: skip
    finally:
        engine.dispose()


def verify_phase(
    tree: merkle.MemoryTree, args: argparse.Namespace, results: Results
) -> None:  # fmt: skip
    size, root = tree.size, tree.root()
    rng = random.Random(args.seed + 2)
    indices = [rng.randrange(size) for _ in range(args.verifications)]
    work = [(tree.leaf_hash(i), i, tree.inclusion_proof(i)) for i in indices]
    verify = merkle.verify_inclusion
    clock = time.perf_counter_ns
    for leaf, i, proof in work[:1000]:  # warm-up
        verify(leaf, i, size, proof, root)
    settle(args)
    times = []
    for leaf, i, proof in work:
        t0 = clock()
        verify(leaf, i, size, proof, root)
        times.append(clock() - t0)
    times.sort()
    p50, p99 = percentile(times, 50) / 1000, percentile(times, 99) / 1000
    results.add(
        "any", "verify_inclusion", f"{size:,}",
        f"p50 {p50:.1f} µs, p99 {p99:.1f} µs, max {times[-1] / 1000:.0f} µs (n={len(times):,})",
        f"<= {VERIFY_TARGET_US:g} µs: {met(p99 <= VERIFY_TARGET_US)}",
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add = parser.add_argument
    add("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    add("--entries", type=int, default=1_000_000, help="entries to sequence")
    add("--proof-leaves", type=int, default=10_000_000, help="tree size for proofs")
    add("--proofs", type=int, default=10_000, help="proofs / receipts to time (at most)")
    add("--verifications", type=int, default=100_000)
    add("--batch", type=int, default=5000, help="log.sequence batch (the sequencer's default)")
    add("--record-sample", type=int, default=50_000, help="entries written via record()")
    add("--fill-batch", type=int, default=1000, help="record() calls per transaction")
    add("--window", type=int, default=0, help="entries per rate window (default entries/10)")
    add("--budget", type=float, default=30.0, help="seconds per timed proof/receipt loop")
    add("--skip-sequencing", action="store_true")
    add("--skip-proofs", action="store_true")
    add("--quick", action="store_true", help="smoke run: 100k entries, 1M leaves")
    add("--quiet-threshold", type=float, default=0.25, help="wait for other load below this")
    add("--max-wait", type=float, default=60.0, help="... for at most this many seconds")
    add("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL admin URL")
    add("--seed", type=int, default=20261126)
    args = parser.parse_args(argv)
    if args.quick:
        args.entries, args.proof_leaves = 100_000, 1_000_000
        args.proofs, args.verifications = min(args.proofs, 2000), min(args.verifications, 20_000)
        args.record_sample, args.budget = min(args.record_sample, 10_000), min(args.budget, 10)
    if not args.window:
        args.window = max(args.entries // 10, args.batch)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print("# Shuchang evidence-log benchmark")
    print_machine(args.pg_url if "postgresql" in backends else None)
    print(
        f"sizes       : {args.entries:,} entries sequenced in batches of {args.batch:,}; proof "
        f"tree {args.proof_leaves:,} leaves; up to {args.proofs:,} proofs/receipts "
        f"({args.budget:g} s budget per loop); {args.verifications:,} verifications; "
        "1 process, 1 connection"
    )
    results = Results()
    started = time.perf_counter()
    try:
        if not args.skip_sequencing:
            for backend in backends:
                say(f"\n## {backend}: sequencing {args.entries:,} entries")
                with scratch_database(backend, "shuchang_bench_evidence", args.pg_url) as db:
                    sequencing_phase(db, args, results)
        if not args.skip_proofs:
            say(f"\n## building a {args.proof_leaves:,}-leaf tree in memory (MemoryTree)")
            t0 = time.perf_counter()
            tree = build_tree(args.proof_leaves)
            say(f"  built in {time.perf_counter() - t0:.1f} s")
            for backend in backends:
                say(f"\n## {backend}: proofs at {args.proof_leaves:,} leaves")
                with scratch_database(backend, "shuchang_bench_tree", args.pg_url) as db:
                    proof_phase(db, tree, args, results)
            say(f"\n## verifying {args.verifications:,} proofs at {args.proof_leaves:,} leaves")
            verify_phase(tree, args, results)
            del tree
            gc.collect()
    finally:
        print(f"\n(total run time {time.perf_counter() - started:.0f} s)")
        print_table(["backend, code", "measure", "size", "result", "target"], results.rows)


if __name__ == "__main__":
    sys.exit(main())
