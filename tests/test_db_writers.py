"""SQLite writers queue across processes: a second process waits for the first to finish
instead of sleep-polling SQLite's busy handler, and nothing is lost."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from shuchang.db import _writers, make_engine, make_session_factory, session_scope

WRITER = """
import sys, time
from sqlalchemy import text
from shuchang.db import make_engine, make_session_factory, session_scope
engine = make_engine(f"sqlite:///{sys.argv[1]}")
with session_scope(make_session_factory(engine)) as s:
    s.execute(text("INSERT INTO t VALUES ('other process')"))
print(repr(time.time()))
"""


def _blocked_on_the_queue(pid: int, seconds: float = 20.0) -> bool:
    """Whether ``pid`` waits for an flock (Linux lists waiters as ``->`` in /proc/locks)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for line in Path("/proc/locks").read_text().splitlines():
            parts = line.split()
            if parts[1:3] == ["->", "FLOCK"] and parts[5] == str(pid):
                return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="Linux shows lock waiters")
def test_a_writer_of_another_process_waits_its_turn(tmp_path: Path) -> None:
    path = tmp_path / "queue.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (who TEXT)"))
    factory = make_session_factory(engine)
    with session_scope(factory) as s:
        s.execute(text("INSERT INTO t VALUES ('this process')"))
        other = subprocess.Popen(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert _blocked_on_the_queue(other.pid)  # queued behind this one, not sleep-polling
        assert other.poll() is None
        released = time.time()
    out, _ = other.communicate(timeout=30)
    assert other.returncode == 0
    assert released <= float(out) < released + 5  # it wrote once this transaction was over
    with engine.connect() as conn:
        rows = [r[0] for r in conn.execute(text("SELECT who FROM t ORDER BY rowid"))]
    assert rows == ["this process", "other process"]
    engine.dispose()


def test_threads_of_one_process_share_the_queue_reentrantly(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    queue = _writers(engine)
    assert _writers(engine) is queue
    with queue, queue:  # the outermost holder takes the file lock once
        pass
    assert (tmp_path / "q.db.writers").exists()
    engine.dispose()


def test_in_memory_databases_queue_threads_only() -> None:
    engine = make_engine("sqlite://")
    with _writers(engine):
        pass
    engine.dispose()
