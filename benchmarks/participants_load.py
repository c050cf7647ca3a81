"""HTTP load benchmark: participant lookup and registration through `shuchang serve`.

Target (issue): lookup on a 2-core machine, load generator included, 32 concurrent
connections: >= 3,000 req/s with p99 <= 25 ms on the embedded default (SQLite); PostgreSQL
reported beside it.

For each backend (SQLite file in a temp dir; PostgreSQL scratch database
``shuchang_bench_load``, dropped after):

1. seed ``--participants`` active participants through the service layer
   (``service.register``, lenient rule, 500 per transaction), each with its API key, and
   sequence their evidence so the server starts with an empty sequencer queue;
2. for each ``--workers`` count: start ``python -m shuchang serve`` (granian, the shipped
   server; the background sequencer on, as by default), wait for /healthz, check one lookup
   (200) and one registration (201) by hand, then with wrk (C, on this machine):
   * warm-up: lookups for ``--warmup`` s (not reported);
   * lookup: ``GET /api/v1/participants/{id}`` with ``Authorization: Bearer <key>``, a random
     seeded participant and a random seeded caller key per request, ``--seconds`` s;
   * registration: ``POST /api/v1/participants`` (public) with a fresh valid USCC and a
     unique name per request (pre-generated bodies, never reused), ``--register-seconds`` s;
   then stop the server (its whole process group; always, also on errors).

Printed per run: requests, req/s, p50, p99 (wrk's latency histogram), errors (HTTP status
>= 400 + socket errors + timeouts), and CPU: the whole host's busy share during the run, the
share taken by the server processes and wrk, so load from other programs is visible, and
their CPU time per request ("CPU µs/req"; on PostgreSQL the database's own is not in it),
which shifts far less than req/s when other programs compete for the cores.

Needs wrk (Debian: ``apt-get install -y wrk``). Everything talks to 127.0.0.1 only.

    .venv/bin/python benchmarks/participants_load.py                       # both, 1 and 2 workers
    .venv/bin/python benchmarks/participants_load.py --backend sqlite --workers 2 --seconds 20
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from benchkit import (
    DEFAULT_PG_URL,
    CpuWatch,
    print_machine,
    print_table,
    scratch_database,
    wait_for_quiet,
)

from shuchang.db import make_engine, make_session_factory, session_scope
from shuchang.domains.evidence import log
from shuchang.domains.participants import service
from shuchang.domains.participants.identifiers import (
    org_code_check_character,
    uscc_check_character,
)
from shuchang.domains.participants.schemas import SYSTEM, RegisterParticipant
from shuchang.domains.participants.service import OnboardingRules
from shuchang.migrations import upgrade

REGION = "330300"
# USCC characters (GB 32100 leaves out I, O, S, V, Z); one letter per batch of identifiers
# so seeds and every run's registrations never collide.
SERIES = "ABCDEFGHJKLMNPQRTUWXY"
LOOKUP_TARGET_RPS = 3000
LOOKUP_TARGET_P99_MS = 25.0

LUA_COMMON = r"""
local done_report = function(summary, latency)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d, ' ..
    '"max_us": %d, "mean_us": %f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end
local thread_no = 0
function setup(thread)
  thread:set("tid", thread_no)
  thread_no = thread_no + 1
end
local function read_lines(path)
  local out = {}
  for line in io.lines(path) do
    if #line > 0 then out[#out + 1] = line end
  end
  return out
end
"""

LUA_LOOKUP = (
    LUA_COMMON
    + r"""
local ids, keys
function init(args)
  ids = read_lines(args[1])
  keys = read_lines(args[2])
  math.randomseed(os.time() * 1000 + tid * 7919)
end
function request()
  local id = ids[math.random(#ids)]
  local key = keys[math.random(#keys)]
  return wrk.format("GET", "/api/v1/participants/" .. id,
    {["Authorization"] = "Bearer " .. key, ["Accept"] = "application/json"})
end
done = done_report
"""
)

LUA_REGISTER = (
    LUA_COMMON
    + r"""
local bodies, n, step
local exhausted = false
function init(args)
  bodies = read_lines(args[1])
  step = tonumber(args[2])
  n = tid + 1
end
function request()
  if n > #bodies then
    exhausted = true          -- never reuse a body: wrap around and let duplicates show as 409
    n = n - #bodies
  end
  local body = bodies[n]
  n = n + step
  return wrk.format("POST", "/api/v1/participants/",
    {["Content-Type"] = "application/json", ["Accept"] = "application/json"}, body)
end
done = done_report
"""
)


def say(message: str) -> None:
    print(message, flush=True)


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------


def uscc(series: str, n: int) -> str:
    body = f"{series}{n:07d}"
    first17 = "91" + REGION + body + org_code_check_character(body)
    return first17 + uscc_check_character(first17)


@dataclass
class Seeded:
    ids: list[str]
    keys: list[str]


def seed(url: str, count: int) -> Seeded:
    """Register ``count`` active participants through the service layer, 500 a transaction."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    rules = OnboardingRules(review_rule="lenient", approval="auto")
    ids: list[str] = []
    keys: list[str] = []
    try:
        upgrade(engine)
        t0 = time.perf_counter()
        done = 0
        while done < count:
            n = min(500, count - done)
            with session_scope(factory) as s:
                for i in range(done, done + n):
                    reg = service.register(
                        s,
                        SYSTEM,
                        RegisterParticipant(
                            kind="enterprise",
                            name=f"压测企业{i}有限公司",
                            identifier=uscc(SERIES[0], i),
                            roles=["consumer", "provider"] if i % 3 == 0 else ["consumer"],
                            region=REGION,
                            contact_email=f"bench{i}@example.org",
                        ),
                        rules,
                    )
                    if reg.participant.status != "active" or reg.api_key is None:
                        raise SystemExit(f"seed participant {i} is {reg.participant.status}")
                    ids.append(str(reg.participant.id))
                    keys.append(reg.api_key)
            done += n
        secs = time.perf_counter() - t0
        say(f"  seeded {count:,} participants via service.register in {secs:.1f} s "
            f"({count / secs:,.0f}/s)")  # fmt: skip
        t0 = time.perf_counter()
        sequenced = 0
        for _ in range(10_000):  # bounded: 10,000 batches is far more than any seed needs
            with session_scope(factory) as s:
                added = log.sequence(s).count
            if not added:
                break
            sequenced += added
        say(f"  sequenced their {sequenced:,} evidence entries in {time.perf_counter() - t0:.1f} s")
    finally:
        engine.dispose()
    return Seeded(ids, keys)


def registration_bodies(path: Path, series: str, count: int) -> None:
    kinds = ["consumer", "provider", "service_firm"]
    with path.open("w") as out:
        for i in range(count):
            body = {
                "kind": "enterprise",
                "name": f"注册压测企业{series}{i}有限公司",
                "identifier": uscc(series, i),
                "roles": [kinds[i % 3]],
                "region": REGION,
                "contact_email": f"reg{series}{i}@example.org",
            }
            out.write(json.dumps(body, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------------------------------
# server
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo.extend(int(c) for c in (task / "children").read_text().split())
    return pids


def tree_cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its live descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in _process_tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / tick


@contextlib.contextmanager
def server(url: str, workers: int, workdir: Path, sequencer: bool) -> Iterator[tuple[str, int]]:
    """Run ``python -m shuchang serve``; stop its whole process group whatever happens."""
    port = free_port()
    here = Path(__file__).resolve().parent
    command = [sys.executable, "-m", "shuchang", "serve"]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(here), os.environ.get("PYTHONPATH")])),
        "SHUCHANG_DATABASE_URL": url,
        "SHUCHANG_HOST": "127.0.0.1",
        "SHUCHANG_PORT": str(port),
        "SHUCHANG_WORKERS": str(workers),
        "SHUCHANG_SEQUENCER": "true" if sequencer else "false",
    }
    logfile = (workdir / f"server-{workers}w-{port}.log").open("wb")
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command,
        cwd=workdir,
        env=env,
        stdout=logfile,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: granian's workers stop with it
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                logfile.flush()
                tail = Path(logfile.name).read_text(errors="replace").splitlines()[-20:]
                raise RuntimeError(f"server exited with {proc.returncode}:\n" + "\n".join(tail))
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not healthy after 60 s; see {logfile.name}")
            time.sleep(0.2)
        yield base, proc.pid
    finally:
        stop_group(proc)
        logfile.close()


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait)
    with contextlib.suppress(ProcessLookupError):  # stray workers of the group, if any
        os.killpg(proc.pid, signal.SIGKILL)


# ---------------------------------------------------------------------------------------------
# wrk
# ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    backend: str
    app: str  # label only, always "shipped" here (catalog_load.py passes it too)
    workers: int
    endpoint: str
    connections: int
    seconds: float
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float
    host_busy: float
    ours_busy: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_us(self) -> float:
        """CPU time of server processes + wrk per request (PostgreSQL's own not included)."""
        return self.ours_busy * (os.cpu_count() or 1) * self.seconds / self.requests * 1e6


def wrk(  # noqa: PLR0917
    base: str, script: Path, args: list[str], seconds: int, connections: int, threads: int
) -> dict[str, float]:
    cmd = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
        "--latency", "-s", str(script), base, "--", *args,
    ]  # fmt: skip
    out = subprocess.run(  # noqa: S603 - wrk with our own arguments
        cmd, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    for line in out.stdout.splitlines():
        if line.startswith("WRKJSON "):
            result: dict[str, float] = json.loads(line[len("WRKJSON ") :])
            return result
    raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout}\n{out.stderr}")


def measured(  # noqa: PLR0917
    backend: str, app: str, workers: int, endpoint: str, base: str, server_pid: int,
    script: Path, args: list[str], opts: argparse.Namespace, seconds: int,
) -> Run:  # fmt: skip
    cpu0 = tree_cpu_seconds(server_pid)
    wrk0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with CpuWatch() as watch:
        result = wrk(base, script, args, seconds, opts.connections, opts.threads)
    wrk1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    ours = tree_cpu_seconds(server_pid) - cpu0
    ours += (wrk1.ru_utime + wrk1.ru_stime) - (wrk0.ru_utime + wrk0.ru_stime)
    secs = result["duration_us"] / 1e6
    errors = int(
        result["status"] + result["connect"] + result["read"] + result["write"] + result["timeout"]
    )
    run = Run(
        backend=backend,
        app=app,
        workers=workers,
        endpoint=endpoint,
        connections=opts.connections,
        seconds=secs,
        requests=int(result["requests"]),
        errors=errors,
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        host_busy=watch.busy,
        ours_busy=ours / (secs * (os.cpu_count() or 1)),
    )
    say(
        f"    {endpoint:<8} {run.requests:>8,} req in {secs:5.1f} s = {run.rps:8,.0f} req/s  "
        f"p50 {run.p50_ms:6.2f} ms  p99 {run.p99_ms:6.2f} ms  errors {errors}  "
        f"(status>=400 {int(result['status'])}, timeouts {int(result['timeout'])})  "
        f"host CPU {run.host_busy:.0%}, server+wrk {run.ours_busy:.0%}"
    )
    return run


def sanity_check(base: str, seeded: Seeded, body: str) -> None:
    """One lookup and one registration by hand: the load must measure successes."""
    r = httpx.get(
        f"{base}/api/v1/participants/{seeded.ids[0]}",
        headers={"Authorization": f"Bearer {seeded.keys[1]}"},
        timeout=10,
    )
    if r.status_code != 200:
        raise RuntimeError(f"lookup answered {r.status_code}: {r.text[:300]}")
    r = httpx.post(
        f"{base}/api/v1/participants/",
        content=body.encode(),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    if r.status_code != 201:
        raise RuntimeError(f"registration answered {r.status_code}: {r.text[:300]}")


def run_backend(backend: str, opts: argparse.Namespace, workdir: Path, runs: list[Run]) -> None:
    with scratch_database(backend, "shuchang_bench_load", opts.pg_url) as db:
        say(f"\n## {backend}: {opts.participants:,} participants")
        seeded = seed(db.url, opts.participants)
        ids_file, keys_file = workdir / "ids.txt", workdir / "keys.txt"
        ids_file.write_text("\n".join(seeded.ids) + "\n")
        keys_file.write_text("\n".join(seeded.keys) + "\n")
        lookup_lua, register_lua = workdir / "lookup.lua", workdir / "register.lua"
        lookup_lua.write_text(LUA_LOOKUP)
        register_lua.write_text(LUA_REGISTER)
        server_dir = workdir / backend
        server_dir.mkdir(exist_ok=True)
        for n, workers in enumerate(opts.workers):
            series = SERIES[1 + n * 2]  # one series for the hand check, the next for the load
            bodies = workdir / f"bodies-{backend}-{n}.jsonl"
            registration_bodies(bodies, SERIES[2 + n * 2], opts.bodies)
            check_body = json.dumps(
                {"kind": "enterprise", "name": f"核对企业{series}", "identifier": uscc(series, 0),
                 "roles": ["consumer"]}, ensure_ascii=False,
            )  # fmt: skip
            say(f"  {workers} worker(s): starting the server")
            with server(db.url, workers, server_dir, opts.sequencer) as (base, pid):
                sanity_check(base, seeded, check_body)
                wrk(base, lookup_lua, [str(ids_file), str(keys_file)], opts.warmup,
                    opts.connections, opts.threads)  # fmt: skip
                background = wait_for_quiet(opts.quiet_threshold, opts.max_wait)
                say(f"    background CPU before measuring: {background:.0%} of all CPUs")
                runs.append(
                    measured(backend, "shipped", workers, "lookup", base, pid, lookup_lua,
                             [str(ids_file), str(keys_file)], opts, opts.seconds)
                )  # fmt: skip
                if opts.register_seconds:
                    runs.append(
                        measured(backend, "shipped", workers, "register", base, pid, register_lua,
                                 [str(bodies), str(opts.threads)], opts, opts.register_seconds)
                    )  # fmt: skip
                    used = runs[-1].requests
                    if used > opts.bodies:
                        say(f"    WARNING: {used:,} registrations > {opts.bodies:,} bodies")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--participants", type=int, default=10_000, help="seeded participants")
    parser.add_argument("--seconds", type=int, default=20, help="lookup duration")
    parser.add_argument("--register-seconds", type=int, default=10, help="0 skips registration")
    parser.add_argument("--warmup", type=int, default=5, help="lookup warm-up seconds")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", default="1,2", help="server worker counts, e.g. 1,2")
    parser.add_argument("--bodies", type=int, default=0, help="registration bodies per run")
    parser.add_argument("--no-sequencer", dest="sequencer", action="store_false",
                        help="SHUCHANG_SEQUENCER=false (default: on, as shipped)")  # fmt: skip
    parser.add_argument("--quiet-threshold", type=float, default=0.25,
                        help="wait until other programs use less than this CPU share")  # fmt: skip
    parser.add_argument("--max-wait", type=float, default=60, help="... for at most this long")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL admin URL")
    opts = parser.parse_args(argv)
    opts.workers = [int(w) for w in opts.workers.split(",") if w.strip()]
    if len(opts.workers) > (len(SERIES) - 1) // 2:
        parser.error("too many worker counts")
    opts.bodies = opts.bodies or max(20_000, opts.register_seconds * 4000)
    return opts


def main(argv: list[str] | None = None) -> None:
    opts = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    backends = ["sqlite", "postgresql"] if opts.backend == "both" else [opts.backend]
    print("# Shuchang participants load benchmark")
    print_machine(opts.pg_url if "postgresql" in backends else None)
    print(
        f"load        : wrk {opts.threads} thread(s), {opts.connections} connections, lookup "
        f"{opts.seconds} s after {opts.warmup} s warm-up, registration {opts.register_seconds} s;"
        f" {opts.participants:,} seeded participants; server workers {opts.workers}; "
        f"sequencer {'on' if opts.sequencer else 'off'}; all on 127.0.0.1"
    )
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="shuchang-load-") as tmp:
        try:
            for backend in backends:
                run_backend(backend, opts, Path(tmp), runs)
        finally:
            print()
            print_table(
                ["backend", "workers", "endpoint", "conns", "secs", "requests", "req/s",
                 "p50 ms", "p99 ms", "errors", "host CPU", "server+wrk CPU", "CPU µs/req"],
                [[r.backend, r.workers, r.endpoint, r.connections, f"{r.seconds:.1f}",
                  f"{r.requests:,}", f"{r.rps:,.0f}", f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}",
                  r.errors, f"{r.host_busy:.0%}", f"{r.ours_busy:.0%}", f"{r.cpu_us:,.0f}"]
                 for r in runs],
            )  # fmt: skip
            for r in runs:
                if r.endpoint == "lookup" and r.backend == "sqlite":
                    ok = r.rps >= LOOKUP_TARGET_RPS and r.p99_ms <= LOOKUP_TARGET_P99_MS
                    print(
                        f"target lookup sqlite {r.workers}w (>= {LOOKUP_TARGET_RPS:,} "
                        f"req/s, p99 <= {LOOKUP_TARGET_P99_MS:g} ms): {'met' if ok else 'NOT met'}"
                    )


if __name__ == "__main__":
    sys.exit(main())
