"""Helpers shared by the benchmark scripts: machine description, scratch databases, percentiles.

Not a benchmark itself. The scripts import it as a sibling module (``python benchmarks/x.py``
puts ``benchmarks/`` first on ``sys.path``).
"""

from __future__ import annotations

import contextlib
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (pct in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * pct // 100))  # ceil(n * pct / 100), at least 1
    return sorted_values[int(rank) - 1]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def postgres_version(admin_url: str) -> str:
    try:
        engine = create_engine(admin_url)
        with engine.connect() as conn:
            version = str(conn.scalar(text("SHOW server_version")))
        engine.dispose()
        return version
    except Exception as exc:
        return f"unreachable ({type(exc).__name__})"


def machine_lines(admin_url: str | None = None) -> list[str]:
    """A few lines saying where the figures were measured."""
    lines = [
        f"date        : {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"machine     : {os.cpu_count()} CPUs ({_cpu_model()}), {_mem_total()} RAM, "
        f"{platform.system()} {platform.release()}",
        f"python      : {sys.version.split()[0]} ({platform.python_implementation()})",
        f"sqlite      : {sqlite3.sqlite_version}",
        f"packages    : sqlalchemy {_version('sqlalchemy')}, psycopg {_version('psycopg')}, "
        f"litestar {_version('litestar')}, granian {_version('granian')}",
    ]
    if admin_url:
        lines.append(f"postgresql  : {postgres_version(admin_url)}")
    return lines


def print_machine(admin_url: str | None = None) -> None:
    for line in machine_lines(admin_url):
        print(line)
    sys.stdout.flush()


@dataclass(frozen=True)
class ScratchDb:
    url: str
    backend: str
    path: Path | None = None  # the SQLite file


@contextlib.contextmanager
def scratch_database(
    backend: str, name: str, admin_url: str = DEFAULT_PG_URL
) -> Iterator[ScratchDb]:
    """A fresh empty database, removed afterwards whatever happens.

    SQLite: a file in a new temporary directory. PostgreSQL: ``CREATE DATABASE <name>`` on the
    server of ``admin_url`` (dropped first if a previous run left it behind).
    """
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"{name}-") as tmp:
            path = Path(tmp) / f"{name}.db"
            yield ScratchDb(url=f"sqlite:///{path}", backend=backend, path=path)
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r}")
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe database name {name!r}")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        yield ScratchDb(url=url, backend=backend)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _cpu_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values)
    return total - idle, total


class CpuWatch:
    """Share of all CPUs busy (any process) between ``__enter__`` and ``__exit__``."""

    busy: float = float("nan")

    def __enter__(self) -> CpuWatch:
        self._start = _cpu_jiffies()
        return self

    def __exit__(self, *_: object) -> None:
        busy, total = _cpu_jiffies()
        spent = total - self._start[1]
        self.busy = (busy - self._start[0]) / spent if spent else float("nan")


def wait_for_quiet(threshold: float = 0.25, max_wait: float = 60.0) -> float:
    """Wait (at most ``max_wait`` s) until the host is less than ``threshold`` busy over 1 s.

    The machine may be shared; measuring while other programs run skews the figures. Returns
    the last busy share seen, so the caller can print it beside its figures.
    """
    deadline = time.monotonic() + max_wait
    while True:
        with CpuWatch() as watch:
            time.sleep(1.0)
        if watch.busy < threshold or time.monotonic() >= deadline:
            return watch.busy


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def fmt_rate(value: float) -> str:
    return f"{value:,.0f}"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain Markdown table (pastes straight into benchmarks/README.md)."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |"

    print(line(cells[0]))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print(line(row))
    sys.stdout.flush()
