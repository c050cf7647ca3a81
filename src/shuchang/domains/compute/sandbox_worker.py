"""The sandbox child process (沙箱子进程). Started by :mod:`.sandbox` as
``python -I sandbox_worker.py`` with an empty environment; imports nothing of Shuchang.

Protocol: one JSON object per line. On stdin ``{"op": "run", ...task}`` or
``{"op": "cancel"}``; on stdout one answer per run: ``{"status": "ok", "rows", "columns",
"seconds"}`` or ``{"status": "error", "code", "message"}``. JSON both ways, never pickle: the
parent must not run code because a compromised child said so.
"""

from __future__ import annotations

import contextlib
import json
import queue
import resource
import sys
import threading
import time
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb

I63 = 2**63


def lock_down(task: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    """Open the database read-only with no external access, then lock the configuration."""
    config: dict[str, str | bool | int | float | list[str]] = {
        "enable_external_access": False,
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "allow_unsigned_extensions": False,
        "allow_community_extensions": False,
        "memory_limit": f"{int(task['memory_limit_mb'])}MB",
        "threads": max(1, int(task["threads"])),
    }
    conn = duckdb.connect(str(task["database"]), read_only=True, config=config)
    conn.execute("SET lock_configuration = true")
    return conn


def restrict(conn: duckdb.DuckDBPyConnection, restriction: dict[str, Any]) -> None:
    values = list(restriction["values"])
    kind = "BIGINT" if values and isinstance(values[0], int) else "VARCHAR"
    conn.execute(f"CREATE TEMP TABLE __restrict_to (v {kind})")
    for start in range(0, len(values), 200_000):
        conn.execute(
            f"INSERT INTO __restrict_to SELECT unnest(?::{kind}[])",
            [values[start : start + 200_000]],
        )


def plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int) and not -I63 <= value < I63:
        return float(value)
    if value is None or isinstance(value, str | int | float):
        return value
    return str(value)


class Runner:
    def __init__(self) -> None:
        self.conn: duckdb.DuckDBPyConnection | None = None
        self.why = ""
        self.lock = threading.Lock()

    def interrupt(self, why: str) -> None:
        with self.lock:
            if self.conn is not None:
                self.why = why
                with contextlib.suppress(Exception):
                    self.conn.interrupt()

    def run(self, task: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        conn = lock_down(task)
        with self.lock:
            self.conn, self.why = conn, ""
        timer = threading.Timer(float(task["timeout_seconds"]), self.interrupt, ("timeout",))
        timer.daemon = True
        timer.start()
        try:
            if task.get("restrict_to"):
                restrict(conn, task["restrict_to"])
            cursor = conn.execute(str(task["sql"]), list(task.get("params") or []))
            rows = [[plain(v) for v in row] for row in cursor.fetchall()]
            columns = [d[0] for d in cursor.description or []]
            seconds = time.perf_counter() - started
            return {"status": "ok", "rows": rows, "columns": columns, "seconds": seconds}
        except duckdb.InterruptException:
            return {"status": "error", "code": self.why or "cancelled", "message": "interrupted"}
        except duckdb.OutOfMemoryException as exc:
            return {"status": "error", "code": "memory", "message": str(exc)[:500]}
        except duckdb.Error as exc:
            return {"status": "error", "code": "failed", "message": str(exc)[:500]}
        finally:
            timer.cancel()
            with self.lock:
                self.conn = None
            conn.close()


def main() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core dumps of provider data
    runner, tasks = Runner(), queue.Queue[dict[str, Any] | None]()

    def read() -> None:
        for line in sys.stdin:
            message = json.loads(line)
            if message.get("op") == "cancel":
                runner.interrupt("cancelled")
            else:
                tasks.put(message)
        tasks.put(None)

    threading.Thread(target=read, daemon=True).start()
    while (task := tasks.get()) is not None:
        try:
            answer = runner.run(task)
        except Exception as exc:
            answer = {"status": "error", "code": "failed", "message": f"{exc}"[:500]}
        sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
