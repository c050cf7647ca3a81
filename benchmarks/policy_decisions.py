"""Policy decision point benchmark: decisions per second and latency, in process.

Target (issue): >= 50,000 decisions/s on a 2-core machine for a realistic agreement.

The agreement (an ``Agreement`` of the S1 普惠金融 scenario, 7 constraints in 2 rules + a duty):

    permission  use   purpose eq 小微企业信贷风险评估
                      dateTime gteq 2025-01-01T00:00+08:00, dateTime lt 2026-01-01T00:00+08:00
                      count lteq 100000
                      recipientRole eq consumer
                      fields isAnyOf [uscc, name, industry_code, district, registered_capital_fen]
                duty  compensate payAmount 200
    prohibition use   spatial isNoneOf [330300, 330302, 330303, 330304, 330305]

Requests are ``read`` with a different pre-built ``Context`` each time (a pool of 1,000: 90 %
permitted; the rest fail on purpose, fields, count, role or region, or the prohibition).
Rows:

a  cached compiled   ``decide(compiled, "read", ctx)``: the agreement compiled once and kept,
                     as the data plane does per transfer process.
a' via the cache     ``decide(policy_dict, ...)``: ``compiled()`` hashes the dict's canonical
                     JSON (RFC 8785 + SHA-256) on every call to find it in the LRU cache.
b  cold compile      ``compile_policy(policy_dict)`` (validate + compile + digest) and
                     ``decide`` on every request.
c  deny + explain    ``decide`` on a denied request, then ``explain("zh-CN")`` (builds the trace).

Throughput is a tight loop over ``--iterations`` requests (time.perf_counter around the whole
loop); p50/p99 come from a second pass timing each call with perf_counter_ns (that adds the
timer's ~0.1 µs). Single thread, no I/O. ``--no-wait`` skips waiting for a quiet machine.

    .venv/bin/python benchmarks/policy_decisions.py
    .venv/bin/python benchmarks/policy_decisions.py --iterations 1000000
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from benchkit import fmt_rate, loadavg, percentile, print_machine, print_table, wait_for_quiet

from shuchang.policy import Context, Recipient, compile_policy, decide

CST = timezone(timedelta(hours=8))
PURPOSE = "小微企业信贷风险评估"
COLUMNS = ["uscc", "name", "industry_code", "district", "registered_capital_fen"]
POLICY: dict[str, Any] = {
    "@type": "Agreement",
    "@id": "urn:uuid:8e0d1b5c-bench-agreement",
    "target": "urn:uuid:registrations-product",
    "assigner": "did:web:samr.dongou.example",
    "assignee": "did:web:bank.dongou.example",
    "permission": [
        {
            "action": "use",
            "constraint": [
                {"leftOperand": "purpose", "operator": "eq", "rightOperand": PURPOSE},
                {
                    "leftOperand": "dateTime",
                    "operator": "gteq",
                    "rightOperand": "2025-01-01T00:00:00+08:00",
                },
                {
                    "leftOperand": "dateTime",
                    "operator": "lt",
                    "rightOperand": "2026-01-01T00:00:00+08:00",
                },
                {"leftOperand": "count", "operator": "lteq", "rightOperand": "100000"},
                {"leftOperand": "recipientRole", "operator": "eq", "rightOperand": "consumer"},
                {"leftOperand": "fields", "operator": "isAnyOf", "rightOperand": COLUMNS},
            ],
            "duty": [
                {
                    "action": "compensate",
                    "constraint": [
                        {"leftOperand": "payAmount", "operator": "eq", "rightOperand": "200"}
                    ],
                }
            ],
        }
    ],
    "prohibition": [
        {
            "action": "use",
            "constraint": [
                {
                    "leftOperand": "spatial",
                    "operator": "isNoneOf",
                    "rightOperand": ["330300", "330302", "330303", "330304", "330305"],
                }
            ],
        }
    ],
}


def contexts(count: int, rng: random.Random) -> list[Context]:
    """Requests: mostly within the agreement, one in ten off in one way."""
    start = datetime(2025, 1, 1, tzinfo=CST)
    pool = []
    for _ in range(count):
        facts: dict[str, Any] = {
            "now": start + timedelta(seconds=rng.randrange(364 * 86400)),
            "purpose": PURPOSE,
            "region": rng.choice(["330302", "330303", "330304"]),
            "recipient": Recipient("enterprise", "active", "330302", "consumer"),
            "fields": tuple(rng.sample(COLUMNS, rng.randint(1, 4))),
            "uses": rng.randrange(90_000),
            "agreed_at": start,
        }
        if rng.random() < 0.1:
            fault: dict[str, Any] = rng.choice(
                [
                    {"purpose": "营销"},
                    {"fields": ("uscc", "legal_person_id")},
                    {"uses": 100_000},
                    {"recipient": Recipient("enterprise", "active", "330302", "regulator")},
                    {"region": "110101"},
                    {"purpose": None},
                ]
            )
            facts.update(fault)
        pool.append(Context(**facts))
    return pool


def measure(
    call: Callable[[Context], object], pool: list[Context], iterations: int
) -> tuple[float, float, float]:
    """(calls/s, p50 µs, p99 µs) of ``call`` over ``iterations`` requests from ``pool``."""
    requests = [pool[i % len(pool)] for i in range(iterations)]
    gc.collect()
    gc.disable()
    try:
        began = time.perf_counter()
        for ctx in requests:
            call(ctx)
        rate = iterations / (time.perf_counter() - began)
        samples = []
        clock = time.perf_counter_ns
        for ctx in requests:
            t0 = clock()
            call(ctx)
            samples.append(clock() - t0)
    finally:
        gc.enable()
    samples.sort()
    return rate, percentile(samples, 50) / 1000, percentile(samples, 99) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--iterations", type=int, default=300_000, help="requests for rows a and c")
    parser.add_argument(
        "--cold-iterations", type=int, default=20_000, help="requests for rows a' and b"
    )
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--no-wait", action="store_true", help="do not wait for a quiet machine")
    args = parser.parse_args()

    print_machine()
    busy = float("nan") if args.no_wait else wait_for_quiet()
    print(f"host busy   : {busy:.0%} before the run, load average {loadavg()}")
    pool = contexts(1000, random.Random(args.seed))
    compiled = compile_policy(POLICY)
    permitted = sum(decide(compiled, "read", ctx).permitted for ctx in pool)
    denied = [ctx for ctx in pool if not decide(compiled, "read", ctx).permitted]
    print(
        "policy      : 1 permission (6 constraints, compensate duty), 1 prohibition (1 constraint)"
    )
    print(f"requests    : {len(pool)} contexts, {permitted / len(pool):.0%} permitted, action read")

    rows = []
    cases: list[tuple[str, Callable[[Context], object], list[Context], int]] = [
        ("a  cached compiled", lambda c: decide(compiled, "read", c), pool, args.iterations),
        (
            "a' via the cache (digest per call)",
            lambda c: decide(POLICY, "read", c),
            pool,
            args.cold_iterations,
        ),
        (
            "b  cold compile every call",
            lambda c: decide(compile_policy(POLICY), "read", c),
            pool,
            args.cold_iterations,
        ),
        (
            "c  deny + explain (zh-CN)",
            lambda c: decide(compiled, "read", c).explain(),
            denied,
            args.iterations // 10,
        ),
    ]
    for name, call, requests, iterations in cases:
        rate, p50, p99 = measure(call, requests, iterations)
        rows.append((name, f"{iterations:,}", fmt_rate(rate), f"{p50:.1f}", f"{p99:.1f}"))
    print_table(["case", "iterations", "decisions/s", "p50 µs", "p99 µs"], rows)
    print(f"load average after: {loadavg()}")


if __name__ == "__main__":
    main()
