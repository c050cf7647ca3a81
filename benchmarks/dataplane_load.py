"""Policy-enforced API-product requests through the data-plane gateway, and a metered replay.

Targets (issue): on a 2-core machine, load generator and a stand-in upstream included:
>= 3,000 policy-enforced API-product requests/s with p99 <= 25 ms at 32 concurrent
connections; a replay of 1,000,000 mixed requests within 6 minutes with every one metered.

Setup per backend (SQLite file in a temp dir, or a PostgreSQL scratch database
``shuchang_bench_dataplane``, dropped after): nginx on 127.0.0.1 as the provider's backend
API (a fixed JSON answer of two company rows, 4 fields, ~300 bytes; nginx does no Python
work); the data-plane test helpers (``tests/dataplane/dataplane_support.py``) register the
parties, list an API product on that backend, conclude an agreement (use for
小微企业信贷风险评估, no count limit) and start a pull transfer, whose token (valid for an hour)
is the load's credential; then ``shuchang dataplane serve --workers N`` runs as its own
process (granian, sealing every 5 s, rate limit off).

Load: wrk (C, on this machine, ``--threads`` threads, ``--connections`` connections)
``GET /data?fields=uscc,name`` with the bearer token for ``--seconds`` s after ``--warmup``
s. Every request is a full enforcement: token signature and expiry, transfer STARTED, the
policy decision with the use counted under a row lock, the usage record written in the same
transaction, the upstream call, field projection, the outcome written. ``--replay N`` then
sends N requests the same way (wrk with a request budget per connection is not available, so
the replay is a timed run long enough for N at the measured rate, stopped at N by a Lua
counter) and afterwards counts the usage records and the counter: **metered vs sent**.

Printed: requests, req/s, p50/p99 (wrk), errors, the host's CPU busy share, the gateway's CPU
per request, and records vs requests answered.

    .venv/bin/python benchmarks/dataplane_load.py --backend sqlite
    .venv/bin/python benchmarks/dataplane_load.py --backend both --workers 1 2 --replay 1000000

Needs wrk and nginx (Debian: ``apt-get install -y wrk nginx-light``); 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchkit import (
    DEFAULT_PG_URL,
    CpuWatch,
    loadavg,
    print_machine,
    print_table,
    scratch_database,
    wait_for_quiet,
)
from sqlalchemy import func, select

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS / "dataplane"))
sys.path.insert(0, str(TESTS / "contracts"))
from dataplane_support import COMPANIES, gateway_process, open_plane, policy  # noqa: E402
from two_connectors import free_port  # noqa: E402

from shuchang.domains.contracts.models import Usage  # noqa: E402
from shuchang.domains.dataplane.models import UsageRecord  # noqa: E402
from shuchang.domains.evidence.tlog.note import generate_key  # noqa: E402
from shuchang.migrations import upgrade  # noqa: E402
from shuchang.platform import Platform  # noqa: E402
from shuchang.settings import Settings  # noqa: E402

TARGET_RPS, TARGET_P99_MS = 3000, 25.0
COLUMNS = [
    "backend", "workers", "run", "requests", "req/s", "p50 ms", "p99 ms", "errors",
    "gateway CPU µs/req", "host busy", "metered / answered", "load avg",
]  # fmt: skip

LUA = r"""
local token = os.getenv("TOKEN")
local budget = tonumber(os.getenv("BUDGET") or "0")
local sent = 0
wrk.headers["Authorization"] = "Bearer " .. token
request = function()
  sent = sent + 1
  if budget > 0 and sent > budget then wrk.thread:stop() end
  return wrk.format("GET", "/data?fields=uscc,name")
end
done = function(summary, latency, requests)
  local s = summary
  io.write(string.format("RESULT %d %d %d %d %d %d %d\n", s.requests, s.duration,
    latency:percentile(50), latency:percentile(99),
    s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout, s.errors.status,
    latency.max))
end
"""


def say(message: str) -> None:
    print(message, flush=True)


@contextlib.contextmanager
def nginx(workdir: Path) -> Iterator[str]:
    """nginx answering GET /api/companies with a fixed JSON body: the provider's backend."""
    port = free_port()
    body = json.dumps(COMPANIES, ensure_ascii=False).replace("'", "\\'")
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"""worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx.err warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path {workdir}/nginx-body;
  server {{
    listen 127.0.0.1:{port};
    location /api/companies {{
      default_type "application/json; charset=utf-8";
      return 200 '{body}';
    }}
  }}
}}
""",
        encoding="utf-8",
    )
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    subprocess.run([nginx_bin, "-c", str(conf)], check=True)  # noqa: S603 - local nginx
    try:
        yield f"http://127.0.0.1:{port}/api/companies"
    finally:
        subprocess.run([nginx_bin, "-c", str(conf), "-s", "stop"], check=False)  # noqa: S603


def platform_for(url: str, workdir: Path) -> Platform:
    key = workdir / "log.key"
    key.write_text(generate_key(Settings.log_origin)[0] + "\n")
    settings = Settings(
        database_url=url,
        secret_key="bench-secret-key-bench-secret-key",  # noqa: S106 - a scratch database
        log_key_file=str(key),
        sequencer=False,
    )
    built = Platform.build(settings)
    upgrade(built.engine)
    return built


def group_cpu_seconds(pgid: int) -> float:
    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # pgrp
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def wrk(base: str, token: str, seconds: int, opts: Any, budget: int = 0) -> dict[str, int]:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(LUA)
    env = {**os.environ, "TOKEN": token, "BUDGET": str(budget)}
    command = ["wrk", f"-t{opts.threads}", f"-c{opts.connections}", f"-d{seconds}s"]
    out = subprocess.run(  # noqa: S603 - wrk on this machine
        [*command, "--timeout", "10s", "-s", str(script), f"{base}/data"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    script.unlink()
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    keys = ["requests", "duration_us", "p50_us", "p99_us", "socket_errors", "status_errors"]
    return dict(zip(keys, map(int, line.split()[1:7]), strict=True))


def metered(platform: Platform, agreement_id: Any) -> tuple[int, int]:
    with platform.unit(write=False) as s:
        records = s.scalar(select(func.count()).select_from(UsageRecord)) or 0
        uses = s.scalar(select(Usage.uses).where(Usage.agreement_id == agreement_id)) or 0
    return records, uses


def run_backend(backend: str, opts: Any) -> list[list[object]]:
    rows: list[list[object]] = []
    with (
        scratch_database(backend, "shuchang_bench_dataplane", opts.pg_url) as db,
        tempfile.TemporaryDirectory(prefix="shuchang-dp-") as tmp,
    ):
        workdir = Path(tmp)
        platform = platform_for(db.url, workdir)
        with (
            nginx(workdir) as upstream,
            open_plane(
                platform,
                workdir,
                offer=policy(),
                backend_url=upstream,
                transfer_token_seconds=3600,
            ) as plane,
        ):
            agreement = plane.pair.agreement_id
            for workers in opts.workers:
                env = {"SHUCHANG_DATAPLANE_RATE": "1000000", "SHUCHANG_DATAPLANE_SEAL_SECONDS": "5"}
                with gateway_process(plane, workdir, workers=workers, **env) as (process, base):
                    say(f"## {backend}: gateway with {workers} worker(s) at {base}")
                    wrk(base, plane.token, opts.warmup, opts)
                    for name, seconds, budget in _runs(opts):
                        wait_for_quiet(max_wait=opts.quiet_wait)
                        before = metered(platform, agreement)
                        cpu0 = group_cpu_seconds(process.pid)
                        with CpuWatch() as watch:
                            r = wrk(base, plane.token, seconds, opts, budget)
                        busy, cpu = watch.busy, group_cpu_seconds(process.pid) - cpu0
                        time.sleep(1.0)  # outcomes of the last requests
                        after = metered(platform, agreement)
                        done = r["requests"]
                        counted = f"{after[0] - before[0]:,} / {done:,}"
                        # a replay's threads stop at the budget: wrk's duration is the budget's
                        rate = "–" if budget else f"{done / (r['duration_us'] / 1e6):,.0f}"
                        rows.append(
                            [
                                backend, workers, name, f"{done:,}", rate,
                                f"{r['p50_us'] / 1000:.2f}", f"{r['p99_us'] / 1000:.2f}",
                                r["socket_errors"] + r["status_errors"],
                                f"{cpu / max(done, 1) * 1e6:,.0f}", f"{busy:.0%}",
                                f"{counted} (uses +{after[1] - before[1]:,})",
                                loadavg(),
                            ]
                        )  # fmt: skip
                        say("    " + " | ".join(str(x) for x in rows[-1]))
    return rows


def _runs(opts: Any) -> list[tuple[str, int, int]]:
    runs = [("load", opts.seconds, 0)]
    if opts.replay:
        runs.append((f"replay {opts.replay:,}", opts.replay_seconds, opts.replay))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--replay", type=int, default=0, help="requests of the metered replay")
    parser.add_argument("--replay-seconds", type=int, default=360, help="time budget (6 min)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--quiet-wait", type=float, default=20.0)
    opts = parser.parse_args()
    print_machine()
    backends = ["sqlite", "postgresql"] if opts.backend == "both" else [opts.backend]
    rows = [row for b in backends for row in run_backend(b, opts)]
    say(f"\nGET /data?fields=uscc,name, {opts.connections} connections, wrk -t{opts.threads}")
    print_table(COLUMNS, rows)
    say(f"target: >= {TARGET_RPS:,} req/s with p99 <= {TARGET_P99_MS} ms")


if __name__ == "__main__":
    main()
