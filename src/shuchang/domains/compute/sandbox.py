"""The compute sandbox (计算沙箱): queries run in child processes on a locked-down DuckDB.

Each worker is a child process (``python -I sandbox_worker.py`` with an empty environment:
nothing of the platform's memory, database connections, keys or settings is inherited) that
serves one task at a time, JSON lines over its stdin and stdout (never pickle, so a
compromised child cannot make the parent run code). For every task it opens the materialised
database file **read-only** with

* ``enable_external_access = false`` — no file readers (``read_csv``, ``glob``), no ``COPY``,
  no ``ATTACH``, no ``INSTALL`` (verified by ``tests/compute/test_sandbox.py``);
* extension autoload/autoinstall off, unsigned extensions refused;
* ``memory_limit`` and ``threads`` from the task, then ``lock_configuration = true`` so no
  statement can change them;

and a watchdog thread calls ``interrupt()`` at the wall-clock limit. A cancel message from the
parent interrupts at once; a worker that does not answer within a grace period after that
is killed and replaced. Only the trusted side writes SQL into a task (:mod:`.plan`), but the
sandbox does not rely on that.

``restrict_to`` (for "PSI then aggregate"): a set of identifier values is loaded into the
temporary table ``__restrict_to(v)`` before the query, which semi-joins against it.

The interface other domains use is :class:`Task` → :meth:`Sandbox.run` → :class:`Outcome`
(or :class:`SandboxError`).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import selectors
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Scalar = str | int | float | None
GRACE_SECONDS = 3.0
ErrorCode = Literal["timeout", "cancelled", "memory", "failed", "crashed"]


@dataclass(frozen=True)
class Restriction:
    """Rows whose ``column`` is one of ``values`` (an identifier set held at the provider)."""

    column: str
    values: tuple[str, ...] | tuple[int, ...]


@dataclass(frozen=True)
class Task:
    """One query on one materialised database file."""

    database: str
    sql: str
    params: tuple[Scalar, ...] = ()
    timeout_seconds: float = 30.0
    memory_limit_mb: int = 1024
    threads: int = 2
    restrict_to: Restriction | None = None


@dataclass(frozen=True)
class Outcome:
    rows: list[tuple[Scalar, ...]]
    columns: list[str]
    seconds: float


class SandboxError(Exception):
    """The task did not produce rows: ``code`` says why (timeout, cancelled, memory,
    failed, crashed) and ``message`` what DuckDB said."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code: ErrorCode = code
        self.message = message


# --- the parent --------------------------------------------------------------------------

WORKER = Path(__file__).with_name("sandbox_worker.py")


def _payload(task: Task) -> dict[str, Any]:
    body: dict[str, Any] = {
        "op": "run",
        "database": task.database,
        "sql": task.sql,
        "params": list(task.params),
        "timeout_seconds": task.timeout_seconds,
        "memory_limit_mb": task.memory_limit_mb,
        "threads": task.threads,
    }
    if task.restrict_to is not None:
        body["restrict_to"] = {
            "column": task.restrict_to.column,
            "values": list(task.restrict_to.values),
        }
    return body


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    selector: selectors.DefaultSelector

    @classmethod
    def spawn(cls) -> _Worker:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and file, no shell
            [sys.executable, "-I", str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd="/",
            close_fds=True,
        )
        selector = selectors.DefaultSelector()
        assert process.stdout is not None
        selector.register(process.stdout, selectors.EVENT_READ)
        return cls(process, selector)

    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")
        self.process.stdin.flush()

    def ready(self, seconds: float) -> bool:
        return bool(self.selector.select(seconds))

    def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SandboxError("crashed", "the sandbox worker died")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait(5)
        self.selector.close()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()


@dataclass
class Sandbox:
    """A pool of ``workers`` sandbox processes, each started on first use."""

    workers: int = 1
    _idle: queue.Queue[_Worker | None] = field(default_factory=queue.Queue, repr=False)
    _started: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _start(self) -> None:
        with self._lock:
            if not self._started:
                for _ in range(self.workers):
                    self._idle.put(None)  # a free slot; spawned by the thread that takes it
                self._started = True

    def run(self, task: Task, cancel: threading.Event | None = None) -> Outcome:
        """Run ``task`` in a worker; ``cancel`` (set by another thread) interrupts it."""
        self._start()
        worker = self._idle.get() or _Worker.spawn()
        try:
            answer = self._exchange(worker, task, cancel or threading.Event())
        except (OSError, ValueError) as exc:
            worker.kill()
            raise SandboxError("crashed", f"the sandbox worker failed: {exc}") from exc
        except SandboxError:
            worker.kill()
            raise
        finally:
            self._idle.put(worker if worker.alive() else None)
        if answer.get("status") == "ok":
            rows = [tuple(row) for row in answer["rows"]]
            return Outcome(rows, list(answer["columns"]), float(answer["seconds"]))
        code = answer.get("code")
        known: tuple[ErrorCode, ...] = ("timeout", "cancelled", "memory", "failed")
        raise SandboxError(code if code in known else "failed", str(answer.get("message")))

    def _exchange(self, worker: _Worker, task: Task, cancel: threading.Event) -> dict[str, Any]:
        """Send the task and wait for its answer; stop a worker that overruns."""
        worker.send(_payload(task))
        deadline = time.monotonic() + task.timeout_seconds + GRACE_SECONDS
        cancelled_at: float | None = None
        while not worker.ready(0.05):
            now = time.monotonic()
            if cancel.is_set() and cancelled_at is None:
                cancelled_at = now
                worker.send({"op": "cancel"})
            if not worker.alive():
                raise SandboxError("crashed", "the sandbox worker died")
            if now > deadline or (cancelled_at is not None and now > cancelled_at + GRACE_SECONDS):
                raise SandboxError("cancelled" if cancelled_at else "timeout", "worker stopped")
        return worker.receive()

    def close(self) -> None:
        """Stop the idle workers (busy ones stop when their task ends and the pool is gone)."""
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                return
            if worker is not None:
                worker.kill()


_shared: dict[int, Sandbox] = {}
_shared_lock = threading.Lock()


def shared_sandbox(workers: int = 1) -> Sandbox:
    """This process's sandbox pool (one per size, closed at exit)."""
    with _shared_lock:
        box = _shared.get(workers)
        if box is None:
            box = _shared[workers] = Sandbox(workers)
            atexit.register(box.close)
        return box
