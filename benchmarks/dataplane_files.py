"""File delivery and SQL-table export through the data-plane gateway (its own granian
process), on SQLite and PostgreSQL as the metering database.

Data: one file of ``--mib`` MiB (random bytes) and a table of ``--rows`` rows in the provider's
warehouse (SQLite). Load: ``curl`` on this machine (no Python in the client's data path), 1 and
4 concurrent clients, whole file and 4 ranges of a quarter each; then the table as CSV, JSON
Lines and Parquet by one client. Every request is a metered use; the script checks that the
bytes metered equal the bytes received. The first request computes the digests (SHA-256 and
SM3) and is timed separately; the runs measure delivery.

    .venv/bin/python benchmarks/dataplane_files.py --mib 2048 --rows 1000000   # full size
    .venv/bin/python benchmarks/dataplane_files.py --mib 64 --rows 20000       # a quick look
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchkit import DEFAULT_PG_URL, print_machine, print_table, scratch_database
from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    insert,
    select,
)

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS / "dataplane"))
sys.path.insert(0, str(TESTS / "contracts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from dataplane_load import platform_for  # noqa: E402
from dataplane_support import gateway_process, open_plane, policy  # noqa: E402
from datasets_support import dataset_lister  # noqa: E402

from shuchang.domains.dataplane.models import UsageRecord  # noqa: E402

COLUMNS = ["backend", "what", "clients", "data MiB", "seconds", "MB/s", "rows/s"]


def curl(url: str, token: str, byte_range: str | None = None) -> int:
    command = [
        "curl",
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{size_download}",
        "-H",
        f"Authorization: Bearer {token}",
    ]
    if byte_range:
        command += ["-H", f"Range: bytes={byte_range}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True)  # noqa: S603
    return int(out.stdout)


def make_data(root: Path, mib: int, rows: int) -> None:
    (root / "bench").mkdir(parents=True, exist_ok=True)
    with (root / "bench" / "big.bin").open("wb") as f:
        block = os.urandom(1024 * 1024)
        for _ in range(mib):
            f.write(block)
    engine = create_engine(f"sqlite:///{root / 'warehouse.db'}")
    meta = MetaData()
    table = Table(
        "reels",
        meta,
        Column("id", Integer, primary_key=True),
        Column("reel_code", String(32)),
        Column("copper_batch", String(16)),
        Column("resistance_mohm", Float),
    )
    meta.create_all(engine)
    with engine.begin() as conn:
        for start in range(0, rows, 50_000):
            conn.execute(
                insert(table),
                [
                    {
                        "id": i,
                        "reel_code": f"DOXL-{i:08d}",
                        "copper_batch": f"CU-{i % 97:03d}",
                        "resistance_mohm": 0.17 + (i % 13) / 1000,
                    }
                    for i in range(start + 1, min(rows, start + 50_000) + 1)
                ],
            )
    engine.dispose()


def run(backend: str, mib: int, rows: int, work: Path) -> list[list[object]]:
    out: list[list[object]] = []
    with scratch_database(backend, "shuchang_bench_files", DEFAULT_PG_URL) as db:
        platform = platform_for(db.url, work)
        root = work / f"root-{backend}"
        make_data(root, mib, rows)
        big = {"type": "file", "path": "/bench/big.bin", "format": "other"}
        fields = dataset_lister([big, {"type": "sql", "table": "reels"}])
        with open_plane(platform, work, policy(), lister=fields, data_root=str(root)) as plane:
            env = {"SHUCHANG_DATA_ROOT": str(root)}
            with gateway_process(plane, work, **env) as (_, base):
                manifest = (
                    __import__("httpx")
                    .get(
                        f"{base}/data/manifest",
                        headers={"Authorization": f"Bearer {plane.token}"},
                        timeout=3600,
                    )
                    .json()
                )
                file_part, table_part = manifest["parts"][0], manifest["parts"][1]
                if file_part["kind"] != "file":
                    file_part, table_part = table_part, file_part
                url = f"{base}{file_part['href']}"
                size = int(file_part["size"])
                for clients in (1, 4):
                    t0 = time.perf_counter()
                    with ThreadPoolExecutor(clients) as pool:
                        got = sum(pool.map(lambda _: curl(url, plane.token), range(clients)))
                    dt = time.perf_counter() - t0
                    out.append(
                        [
                            backend,
                            "whole file",
                            clients,
                            got >> 20,
                            f"{dt:.2f}",
                            f"{got / dt / 1e6:.0f}",
                            "",
                        ]
                    )
                quarter = size // 4
                spans = [f"{i * quarter}-{(i + 1) * quarter - 1}" for i in range(4)]
                t0 = time.perf_counter()
                with ThreadPoolExecutor(4) as pool:
                    got = sum(pool.map(lambda r: curl(url, plane.token, r), spans))
                dt = time.perf_counter() - t0
                out.append(
                    [backend, "4 ranges", 4, got >> 20, f"{dt:.2f}", f"{got / dt / 1e6:.0f}", ""]
                )
                for fmt in ("csv", "jsonl", "parquet"):
                    t0 = time.perf_counter()
                    got = curl(f"{base}{table_part['href']}?format={fmt}", plane.token)
                    dt = time.perf_counter() - t0
                    out.append(
                        [
                            backend,
                            f"table {fmt}",
                            1,
                            f"{got / 2**20:.1f}",
                            f"{dt:.2f}",
                            f"{got / dt / 1e6:.0f}",
                            f"{rows / dt:.0f}",
                        ]
                    )
            with plane.platform.unit(write=False) as s:
                metered = s.scalar(select(func.sum(UsageRecord.bytes)))
            print(f"{backend}: metered bytes {metered}")  # every byte received is metered
        platform.engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=2048)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print_machine(DEFAULT_PG_URL)
    print(f"file {args.mib} MiB, table {args.rows} rows; curl clients on this machine")
    rows: list[list[object]] = []
    import tempfile

    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix="bench-files-") as tmp:
            rows += run(backend, args.mib, args.rows, Path(tmp))
    print_table(COLUMNS, rows)


if __name__ == "__main__":
    main()
