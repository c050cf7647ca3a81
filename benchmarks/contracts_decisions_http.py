"""Usage decisions over HTTP: POST /api/v1/contracts/agreements/{id}/decide under load.

Target (issue): >= 3,000 req/s with p99 <= 25 ms at 32 concurrent connections on a 2-core
machine, load generator included.

Setup per backend: the two connectors of ``tests/contracts/two_connectors.py`` (SQLite files,
or PostgreSQL scratch databases ``shuchang_bench_dec_{p,c}``, dropped after) negotiate one
agreement over HTTP (the listed offer: ``use`` for 小微企业信贷风险评估, one-off price, the
agreement's window added), then the consumer stops and the provider is restarted with 1, then
2 granian workers (sequencer off, as in the tests).

Load: wrk (C, on this machine, ``--threads`` threads, ``--connections`` connections) sends
for ``--seconds`` s, after ``--warmup`` s not reported, the provider's data-plane request
``{"action": "read", "purpose": "小微企业信贷风险评估", "consume": false}`` with the
provider's API key; every answer is a permit with its zh-CN and English explanation (the
script checks one by hand first). ``consume=false`` is a read-only transaction: API key
lookup, agreement, consumer status, usage counter, decision.

Printed per run: requests, req/s, p50/p99 (wrk's histogram), errors (status >= 400 and socket
errors), the host's CPU busy share, so load from other programs is visible, and the server's
CPU time per request (all processes of its group; PostgreSQL's own not included), which moves
far less than req/s when other programs compete for the two cores.

Needs wrk (Debian: ``apt-get install -y wrk``). Everything talks to 127.0.0.1 only.

    .venv/bin/python benchmarks/contracts_decisions_http.py
    .venv/bin/python benchmarks/contracts_decisions_http.py --backend sqlite --workers 2
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from benchkit import (
    DEFAULT_PG_URL,
    CpuWatch,
    loadavg,
    print_machine,
    print_table,
    scratch_database,
    wait_for_quiet,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "contracts"))
from two_connectors import OFFER, PURPOSE, Instance, pair, start, stop

TARGET_RPS, TARGET_P99_MS = 3000, 25.0
COLUMNS = [
    "backend", "workers", "req/s", "p50 ms", "p99 ms", "errors", "server CPU µs/req",
    "host busy", "target met",
]  # fmt: skip
LUA = r"""
local f = assert(io.open(os.getenv("DECIDE_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("DECIDE_API_KEY")
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "errors": %d, "status": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def say(message: str) -> None:
    print(message, flush=True)


@contextlib.contextmanager
def databases(backend: str, pg_url: str) -> Iterator[tuple[str | None, str | None]]:
    if backend == "sqlite":
        yield None, None
        return
    with (
        scratch_database(backend, "shuchang_bench_dec_p", pg_url) as p,
        scratch_database(backend, "shuchang_bench_dec_c", pg_url) as c,
    ):
        yield p.url, c.url


def conclude(provider: Instance, consumer: Instance, product_id: Any) -> str:
    """One agreement through the real negotiation; its id."""
    auth = {"Authorization": f"Bearer {consumer.api_key}"}
    body = {
        "provider_id": str(consumer.ids[provider.local.name]),
        "dataset_id": f"urn:uuid:{product_id}",
        "offer": {"@id": "urn:uuid:bench-offer", **OFFER},
    }
    created = httpx.post(
        f"{consumer.base}/api/v1/contracts/negotiations", json=body, headers=auth, timeout=10
    )
    created.raise_for_status()
    url = f"{consumer.base}/api/v1/contracts/negotiations/{created.json()['id']}"
    for _ in range(500):
        n = httpx.get(url, headers=auth, timeout=10).json()
        if n["state"] == "FINALIZED":
            return str(n["agreement_id"])
        time.sleep(0.02)
    raise RuntimeError(f"negotiation did not finish: {n['state']} {n['error']}")


def wrk(url: str, script: Path, env: dict[str, str], seconds: int, opts: Any) -> dict[str, int]:
    cmd = [
        "wrk", f"-t{opts.threads}", f"-c{opts.connections}", f"-d{seconds}s",
        "--timeout", "10s", "--latency", "-s", str(script), url,
    ]  # fmt: skip
    out = subprocess.run(  # noqa: S603 - wrk with our own arguments
        cmd, capture_output=True, text=True, timeout=seconds + 60, check=False, env=env
    )
    for line in out.stdout.splitlines():
        if line.startswith("WRKJSON "):
            result: dict[str, int] = json.loads(line[len("WRKJSON ") :])
            return result
    raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout}\n{out.stderr}")


def group_cpu_seconds(pgid: int) -> float:
    """utime + stime of every live process in the process group ``pgid`` (the server)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measure(provider: Instance, agreement_id: str, workdir: Path, opts: Any) -> list[object]:
    url = f"{provider.base}/api/v1/contracts/agreements/{agreement_id}/decide"
    use = {"action": "read", "purpose": PURPOSE, "consume": False}
    check = httpx.post(url, json=use, headers={"Authorization": f"Bearer {provider.api_key}"})
    if check.status_code != 200 or not check.json()["permitted"]:
        raise RuntimeError(f"decide answered {check.status_code}: {check.text[:300]}")
    body_file, script = workdir / "body.json", workdir / "decide.lua"
    body_file.write_text(json.dumps(use, ensure_ascii=False), encoding="utf-8")
    script.write_text(LUA)
    env = {"DECIDE_BODY_FILE": str(body_file), "DECIDE_API_KEY": provider.api_key}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    if opts.warmup:
        wrk(url, script, env, opts.warmup, opts)
    busy = wait_for_quiet(max_wait=opts.quiet_wait)
    assert provider.process is not None
    cpu_before = group_cpu_seconds(provider.process.pid)
    with CpuWatch() as watch:
        result = wrk(url, script, env, opts.seconds, opts)
    cpu_us = (group_cpu_seconds(provider.process.pid) - cpu_before) / result["requests"] * 1e6
    secs = result["duration_us"] / 1e6
    rps, p50, p99 = result["requests"] / secs, result["p50_us"] / 1000, result["p99_us"] / 1000
    errors = result["errors"] + result["status"]
    say(
        f"    {result['requests']:,} req in {secs:.1f} s = {rps:,.0f} req/s, p50 {p50:.2f} ms, "
        f"p99 {p99:.2f} ms, max {result['max_us'] / 1000:.1f} ms, errors {errors}; server CPU "
        f"{cpu_us:,.0f} µs/req; host busy {busy:.0%} before, {watch.busy:.0%} during; "
        f"load {loadavg()}"
    )
    met = rps >= TARGET_RPS and p99 <= TARGET_P99_MS and errors == 0
    return [
        f"{rps:,.0f}", f"{p50:.2f}", f"{p99:.2f}", errors, f"{cpu_us:,.0f}",
        f"{watch.busy:.0%}", met,
    ]  # fmt: skip


def run_backend(backend: str, opts: Any) -> list[list[object]]:
    rows: list[list[object]] = []
    with (
        tempfile.TemporaryDirectory(prefix="shuchang-dec-") as tmp,
        databases(backend, opts.pg_url) as urls,
    ):
        provider, consumer, product_id = pair(Path(tmp), *urls)
        try:
            start(provider)
            start(consumer)
            agreement_id = conclude(provider, consumer, product_id)
            stop(consumer)
            stop(provider)
            say(f"\n## {backend}: agreement {agreement_id}")
            for workers in opts.workers:
                say(f"  {workers} worker(s), {opts.connections} connections, {opts.seconds} s")
                start(provider, SHUCHANG_WORKERS=str(workers))
                try:
                    rows.append(
                        [backend, workers, *measure(provider, agreement_id, Path(tmp), opts)]
                    )
                finally:
                    stop(provider)
        finally:
            for instance in (provider, consumer):
                with contextlib.suppress(Exception):
                    stop(instance)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--quiet-wait", type=float, default=20.0)
    opts = parser.parse_args()
    print_machine(opts.pg_url)
    rows: list[list[object]] = []
    for backend in ["sqlite", "postgresql"] if opts.backend == "both" else [opts.backend]:
        try:
            rows += run_backend(backend, opts)
        except Exception as exc:  # PostgreSQL unreachable: report, keep the SQLite figures
            if backend == "sqlite":
                raise
            say(f"\n## {backend}: skipped ({type(exc).__name__}: {exc})")
    say(f"\ndecide (consume=false), {opts.connections} connections, wrk -t{opts.threads}")
    print_table(COLUMNS, rows)


if __name__ == "__main__":
    main()
