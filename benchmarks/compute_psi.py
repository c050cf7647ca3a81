# ruff: noqa: E501 - one report line per figure reads best whole
"""PSI and data-element figures: openmined-psi (ECDH) at N × N, spu RR22 when installed, and
a data-element run over a million rows.

PSI: the two parties run in two processes (``spawn``), each with only its own set; the
receiver (the consumer) and the sender (the provider) exchange exactly the payloads the
connectors carry (base64 in JSON, sizes counted as sent), so the figures are the protocol's
cost without HTTP. Sets are distinct USCC-shaped identifiers, half of each side in the
intersection. Per size and mode it prints the wall time of each step and in total, each
side's CPU time and peak RSS, and the bytes each side sends. RR22 runs over spu's brpc link
on 127.0.0.1 (bytes on that link are not reported by spu, so not shown).

Data element: writes ``--element-rows`` meter readings (Parquet) into a scratch data root and
runs the S1 monthly-power-index transformation (GROUP BY, HMAC-SM3, generalisation, bands,
k-anonymity check with suppression) through the locked-down runner process.

    .venv/bin/python benchmarks/compute_psi.py --sizes 10000,100000
    .venv/bin/python benchmarks/compute_psi.py --sizes 1000000 --element-rows 1000000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchkit import machine_lines

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from shuchang.domains.compute import psi_protocol, psi_rr22


def identifiers(n: int, offset: int) -> list[str]:
    return [f"91330300MA{i:08d}" for i in range(offset, offset + n)]


def _hwm_mb(pid: str = "self") -> float:
    """Peak RSS of a process (VmHWM: reset by exec, unlike getrusage's ru_maxrss, which a
    spawned child inherits from its parent)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _peak_mb() -> float:
    return _hwm_mb()


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _json_bytes(**payload: Any) -> int:
    return len(
        json.dumps(
            {k: psi_protocol.b64(v) if isinstance(v, bytes) else v for k, v in payload.items()}
        )
    )


def receiver(conn: Any, n: int, reveal: bool, out: Any) -> None:
    base = _peak_mb()
    items = identifiers(n, 0)
    t0 = time.perf_counter()
    state, request = psi_protocol.client_request(items, reveal)
    t_request = time.perf_counter() - t0
    conn.send_bytes(request)
    sent = _json_bytes(request=request, setSize=n)
    setup, response = conn.recv_bytes(), conn.recv_bytes()
    t1 = time.perf_counter()
    size, _ = psi_protocol.client_finish(state, setup, response, items)
    t_finish = time.perf_counter() - t1
    out.put(
        {
            "side": "receiver",
            "base_mb": base,
            "request_s": t_request,
            "finish_s": t_finish,
            "size": size,
            "cpu_s": _cpu(),
            "peak_mb": _peak_mb(),
            "sent": sent,
        }
    )


def sender(conn: Any, n: int, reveal: bool, out: Any) -> None:
    base = _peak_mb()
    items = identifiers(n, n // 2)
    request = conn.recv_bytes()
    t0 = time.perf_counter()
    setup, response = psi_protocol.server_answer(items, reveal, request, n)
    t_answer = time.perf_counter() - t0
    conn.send_bytes(setup)
    conn.send_bytes(response)
    sent = _json_bytes(setup=setup, response=response, setSize=n)
    out.put(
        {
            "side": "sender",
            "base_mb": base,
            "answer_s": t_answer,
            "cpu_s": _cpu(),
            "peak_mb": _peak_mb(),
            "sent": sent,
            "setup_bytes": len(setup),
        }
    )


def ecdh(n: int, reveal: bool) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    a, b = ctx.Pipe()
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=receiver, args=(a, n, reveal, queue)),
        ctx.Process(target=sender, args=(b, n, reveal, queue)),
    ]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    found = {x["side"]: x for x in (queue.get(timeout=7200) for _ in procs)}
    r, s = found["receiver"], found["sender"]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join()
    return {"wall_s": wall, "receiver": r, "sender": s}


def rr22_side(rank: int, n: int, addresses: tuple[str, str], out: Any) -> None:
    items = identifiers(n, 0 if rank == 1 else n // 2)
    t0 = time.perf_counter()
    found = psi_rr22.run(rank=rank, items=items, addresses=addresses, receiver_rank=1)
    out.put(
        {
            "rank": rank,
            "wall_s": time.perf_counter() - t0,
            "size": len(found.members or []),
            "cpu_s": _cpu(),
            "peak_mb": _peak_mb(),
        }
    )


def rr22(n: int) -> list[dict[str, Any]]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    addresses = (psi_rr22.free_address("127.0.0.1"), psi_rr22.free_address("127.0.0.1"))
    procs = [ctx.Process(target=rr22_side, args=(rank, n, addresses, queue)) for rank in (0, 1)]
    for p in procs:
        p.start()
    found = sorted((queue.get(timeout=3600) for _ in procs), key=lambda r: r["rank"])
    for p in procs:
        p.join()
    return found


GENERATE = """
import duckdb, sys
rows, path = int(sys.argv[1]), sys.argv[2]
enterprises = max(rows // 365, 1)
duckdb.sql(
    f"COPY (SELECT '91330300MA' || lpad(CAST(r % {enterprises} AS VARCHAR), 8, '0') AS uscc, "
    f"DATE '2025-01-01' + CAST(r // {enterprises} % 365 AS INTEGER) AS read_at, "
    f"'3303' || lpad(CAST(r % 7 + 1 AS VARCHAR), 2, '0') AS district, "
    f"CAST((r * 37) % 500 AS DOUBLE) / 10 AS kwh FROM range({rows}) t(r)) TO '{path}' (FORMAT parquet)"
)
"""


def element(rows: int) -> dict[str, Any]:
    """The S1 transformation through the runner process, watched for its peak RSS."""
    import msgspec

    from shuchang.domains.compute.element_runner import Job, Outcome, Source

    with tempfile.TemporaryDirectory(prefix="shuchang-bench-element-") as tmp:
        path = Path(tmp) / "meter.parquet"
        subprocess.run([sys.executable, "-c", GENERATE, str(rows), str(path)], check=True)  # noqa: S603 - our interpreter, our script
        job = Job(
            sources=[Source(alias="meter", kind="file", path=str(path), format="parquet")],
            sql="SELECT uscc, date_trunc('month', read_at)::DATE AS month, district, sum(kwh) AS kwh FROM meter GROUP BY ALL",
            steps=[
                {"op": "hash", "column": "uscc"},
                {"op": "generalize_date", "column": "month", "to": "month"},
                {"op": "band", "column": "kwh", "width": 200},
            ],
            quasi_identifiers=["district", "kwh"],
            k=5,
            on_violation="suppress",
            secret=secrets.token_hex(32),
            output=str(Path(tmp) / "out.parquet"),
        )
        t0 = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "shuchang.domains.compute.element_runner"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(msgspec.json.encode(job))
        child.stdin.close()
        peak = 0.0
        while child.poll() is None:
            peak = max(peak, _hwm_mb(str(child.pid)) or 0.0)
            time.sleep(0.05)
        outcome = msgspec.json.decode(child.stdout.read(), type=Outcome)
        wall = time.perf_counter() - t0
        return {
            "wall_s": wall,
            "ok": outcome.ok,
            "rows_in": outcome.rows_in,
            "rows_out": outcome.rows_out,
            "suppressed": outcome.suppressed,
            "child_peak_mb": peak,
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000", help="set sizes N for N × N")
    parser.add_argument("--modes", default="cardinality,intersection")
    parser.add_argument("--element-rows", type=int, default=1_000_000)
    parser.add_argument("--no-rr22", action="store_true")
    args = parser.parse_args()
    for line in machine_lines():
        print(line)
    print(
        "parties     : 2 processes (spawn), one curve thread each (openmined-psi is single-threaded)"
    )
    if args.element_rows:
        e = element(args.element_rows)
        print(
            f"element {args.element_rows:,} rows: {e['wall_s']:.1f} s end to end (load, transform, k check, Parquet), "
            f"ok={e['ok']} rows in {e['rows_in']:,} out {e['rows_out']:,} suppressed {e['suppressed']:,}, runner peak RSS {e['child_peak_mb']:.0f} MB"
        )
    for n in (int(s) for s in args.sizes.split(",")):
        for mode in args.modes.split(","):
            got = ecdh(n, reveal=mode == "intersection")
            r, s = got["receiver"], got["sender"]
            print(
                f"ECDH {n:>9,} × {n:<9,} {mode:<12} total {got['wall_s']:7.1f} s | receiver request {r['request_s']:6.1f} s, "
                f"finish {r['finish_s']:6.1f} s, cpu {r['cpu_s']:6.1f} s, peak {r['peak_mb']:6.0f} MB (at start {r['base_mb']:.0f}), sends {r['sent'] / 1e6:7.2f} MB | "
                f"sender answer {s['answer_s']:6.1f} s, cpu {s['cpu_s']:6.1f} s, peak {s['peak_mb']:6.0f} MB (at start {s['base_mb']:.0f}), sends {s['sent'] / 1e6:7.2f} MB "
                f"(setup {s['setup_bytes'] / 1e6:.2f} MB) | size {r['size']:,}"
            )
        if not args.no_rr22 and psi_rr22.available():
            sides = rr22(n)
            print(
                f"RR22 {n:>9,} × {n:<9,} intersection "
                + " | ".join(
                    f"rank {x['rank']} wall {x['wall_s']:6.1f} s cpu {x['cpu_s']:6.1f} s peak {x['peak_mb']:6.0f} MB"
                    for x in sides
                )
                + f" | size {sides[1]['size']:,}"
            )
        elif not args.no_rr22:
            print("RR22: spu is not installed (pip install shuchang[spu])")


if __name__ == "__main__":
    main()
