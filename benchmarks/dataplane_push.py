"""Push delivery throughput: the provider's pusher sending a dataset to a local receiving
endpoint, on SQLite and PostgreSQL as the metering database.

Data: one file of ``--mib`` MiB (random bytes) and a table of ``--rows`` rows (SQLite
warehouse), as a dataset of two parts under one agreement; one push transfer to a sink on
this machine (Python's ``http.server``, one thread per request, counting and discarding the
bytes — it shares the two cores with the pusher, so the figure is a floor). The pusher runs
in-process exactly as inside ``shuchang dataplane serve``: every chunk (1 MiB of the file,
5,000 rows of the table) renews the job's lease in the database and checks the transfer's
state, every part is admitted and metered. Printed: seconds and MB/s per run and the bytes
metered (which must equal what the parts hold).

    .venv/bin/python benchmarks/dataplane_push.py --mib 2048 --rows 1000000   # full size
    .venv/bin/python benchmarks/dataplane_push.py --mib 64 --rows 20000       # a quick look
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from benchkit import DEFAULT_PG_URL, print_machine, print_table, scratch_database

TESTS = Path(__file__).resolve().parents[1] / "tests"
for folder in ("dataplane", "contracts", "transfers"):
    sys.path.insert(0, str(TESTS / folder))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from dataplane_files import make_data  # noqa: E402
from dataplane_load import platform_for  # noqa: E402
from push_support import open_push  # noqa: E402

COLUMNS = ["backend", "what", "data MiB", "chunks", "seconds", "MB/s", "rows/s (whole run)"]


def run(backend: str, mib: int, rows: int, work: Path) -> list[list[object]]:
    out: list[list[object]] = []
    with scratch_database(backend, "shuchang_bench_push", DEFAULT_PG_URL) as db:
        platform = platform_for(db.url, work)
        big = {"type": "file", "path": "/bench/big.bin", "format": "other"}
        table = {"type": "sql", "table": "reels"}
        with open_push(platform, work, [big, table]) as push:
            root = Path(push.platform.settings.data_root)
            (root / "warehouse.db").unlink()
            make_data(root, mib, rows)
            push.sink.keep = False
            t0 = time.perf_counter()
            push.run_until_done(push.pusher(), seconds=3600)
            dt = time.perf_counter() - t0
            records = push.push_records()
            (job,) = push.jobs()
            assert job.state == "done", (job.state, job.last_error)
            file_bytes = sum(r.bytes for r in records if r.rows == 0 and r.path != "/data/manifest")
            table_bytes = sum(r.bytes for r in records if r.rows)
            assert file_bytes == mib * 2**20, (file_bytes, mib)
            assert sum(r.rows for r in records) == rows
            total = file_bytes + table_bytes
            out.append(
                [
                    backend,
                    "file + table (csv)",
                    f"{total / 2**20:.1f}",
                    mib + -(-rows // 5000),
                    f"{dt:.2f}",
                    f"{total / dt / 1e6:.0f}",
                    f"{rows / dt:.0f}",
                ]
            )
            print(f"{backend}: metered {total} bytes in {len(records)} records, all delivered")
        platform.engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=2048)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print_machine(DEFAULT_PG_URL)
    print(f"file {args.mib} MiB, table {args.rows} rows; one pusher, one local sink")
    rows: list[list[object]] = []
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix="bench-push-") as tmp:
            rows += run(backend, args.mib, args.rows, Path(tmp))
    print_table(COLUMNS, rows)


if __name__ == "__main__":
    main()
