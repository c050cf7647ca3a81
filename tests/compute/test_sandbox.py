"""The sandbox runs queries in a locked-down DuckDB child: no files, no extensions, no
configuration changes, a wall-clock limit, cancellation, and a restrict_to semi-join."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parent))
from compute_support import tax_database, tax_rows

from shuchang.domains.compute.sandbox import Restriction, Sandbox, SandboxError, Task

SLOW = "SELECT count(*) FROM range(100000000) a(i), range(1000) b(j) WHERE a.i + b.j = 7"


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    sandbox = Sandbox(workers=1)
    yield sandbox
    sandbox.close()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    return tax_database(tmp_path_factory.mktemp("sandbox") / "tax.duckdb", tax_rows(2000))


def test_a_query_runs_with_bound_parameters(box: Sandbox, database: str) -> None:
    out = box.run(Task(database, "SELECT count(*) FROM tax WHERE district = ?", ("鹿城区",)))
    assert out.rows[0][0] > 0 and out.columns == ["count_star()"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_parquet('/tmp/x.parquet')",
        "SELECT * FROM glob('/*')",
        "COPY tax TO '/tmp/leak.csv'",
        "ATTACH '/tmp/other.duckdb' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET memory_limit = '64GB'",
        "CREATE TABLE stolen AS SELECT * FROM tax",
        "EXPORT DATABASE '/tmp/dump'",
    ],
)
def test_the_lock_down_refuses_files_extensions_settings_and_writes(
    box: Sandbox, database: str, sql: str
) -> None:
    with pytest.raises(SandboxError) as info:
        box.run(Task(database, sql))
    assert info.value.code == "failed"
    assert not Path("/tmp/leak.csv").exists()  # noqa: S108 - the path the attack names


def test_the_wall_clock_limit_interrupts(box: Sandbox, database: str) -> None:
    started = time.monotonic()
    with pytest.raises(SandboxError) as info:
        box.run(Task(database, SLOW, timeout_seconds=0.5))
    assert info.value.code == "timeout"
    assert time.monotonic() - started < 3
    assert box.run(Task(database, "SELECT 1")).rows == [(1,)]  # the worker lives on


def test_cancel_interrupts_a_running_query(box: Sandbox, database: str) -> None:
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    with pytest.raises(SandboxError) as info:
        box.run(Task(database, SLOW, timeout_seconds=60), cancel)
    assert info.value.code == "cancelled"


def test_restrict_to_semi_joins_an_identifier_set(box: Sandbox, database: str) -> None:
    ids = tuple(f"91330300MA{i:08d}" for i in range(0, 2000, 4))
    sql = "SELECT count(*) FROM tax WHERE uscc IN (SELECT v FROM __restrict_to)"
    out = box.run(Task(database, sql, restrict_to=Restriction("uscc", ids)))
    assert out.rows == [(500,)]


def test_a_killed_worker_is_replaced(box: Sandbox, database: str) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(SandboxError):
        box.run(Task(database, SLOW, timeout_seconds=60), cancel)
    assert box.run(Task(database, "SELECT 2")).rows == [(2,)]
