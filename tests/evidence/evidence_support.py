"""Helpers the evidence-log tests share: recording, sequencing, reading the log back.

Plain functions (not fixtures) so each test reads top to bottom. Everything goes through the
real services on the real database; the only "raw SQL" here is what a malicious DBA would
type (dropping the append-only triggers), kept in :func:`tampering`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from click.testing import CliRunner, Result
from sqlalchemy import Connection, Engine, func, select, text

from shuchang.cli import cli
from shuchang.domains.evidence import log
from shuchang.domains.evidence.models import (
    LogCheckpoint,
    LogLeaf,
    LogNode,
    OutboxEntry,
    PendingEntry,
)
from shuchang.domains.evidence.service import record
from shuchang.platform import Platform
from shuchang.settings import Settings

PROBLEM_JSON = "application/problem+json"
LOG_TABLES = ("tlog_leaves", "tlog_nodes", "tlog_checkpoints")
_serial = itertools.count(1)


def record_many(platform: Platform, count: int, *, subject: str | None = None) -> list[int]:
    """Record ``count`` evidence entries in one transaction; their outbox ids, in order."""
    ids = []
    with platform.unit() as s:
        for _ in range(count):
            n = next(_serial)
            ids.append(
                record(
                    s,
                    "test.changed",
                    subject or f"object:{n}",
                    "system",
                    {"n": n, "名称": f"测试对象{n}"},
                )
            )
    return ids


def sequence_all(platform: Platform, batch: int = 5000) -> int:
    """Run the sequencer, one transaction per batch, until the queue is empty."""
    total = 0
    while True:
        with platform.unit() as s:
            added = log.sequence(s, batch).count
        if not added:
            return total
        total += added


def publish(platform: Platform) -> LogCheckpoint:
    with platform.unit() as s:
        signer = platform.log_signer
        return log.publish_checkpoint(s, signer, signer.name)


def grow(platform: Platform, count: int, batch: int = 5000) -> LogCheckpoint:
    """Record, sequence and publish ``count`` more entries."""
    record_many(platform, count)
    sequence_all(platform, batch)
    return publish(platform)


def leaves(platform: Platform) -> list[tuple[int, int, bytes]]:
    """``(idx, outbox_id, data)`` of every stored leaf, in index order."""
    with platform.unit(write=False) as s:
        rows = s.execute(select(LogLeaf.idx, LogLeaf.outbox_id, LogLeaf.data).order_by(LogLeaf.idx))
        return [(idx, outbox_id, data) for idx, outbox_id, data in rows]


def node_hashes(platform: Platform, level: int) -> list[bytes]:
    with platform.unit(write=False) as s:
        return list(
            s.scalars(select(LogNode.hash).where(LogNode.level == level).order_by(LogNode.idx))
        )


def outbox_ids(platform: Platform) -> list[int]:
    with platform.unit(write=False) as s:
        return list(s.scalars(select(OutboxEntry.id).order_by(OutboxEntry.id)))


def queued(platform: Platform) -> int:
    with platform.unit(write=False) as s:
        return s.scalar(select(func.count()).select_from(PendingEntry)) or 0


def assert_exactly_once(platform: Platform) -> None:
    """The log holds every outbox entry once, at contiguous indices, and nothing is queued."""
    stored = leaves(platform)
    assert [idx for idx, _, _ in stored] == list(range(len(stored))), "gap in leaf indices"
    sequenced = [outbox_id for _, outbox_id, _ in stored]
    assert len(sequenced) == len(set(sequenced)), "an outbox entry was sequenced twice"
    assert sorted(sequenced) == outbox_ids(platform), "an outbox entry was never sequenced"
    assert queued(platform) == 0


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["code"] == code, problem
    assert problem["message_zh"] and problem["message_en"]
    return problem


def run_cli(settings: Settings, *args: str) -> Result:
    """``shuchang <args>`` against the test's database and log key, as an operator would."""
    env = {
        "SHUCHANG_DATABASE_URL": settings.database_url,
        "SHUCHANG_LOG_KEY_FILE": settings.log_key_file,
        "SHUCHANG_LOG_ORIGIN": settings.log_origin,
    }
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=True)


_SQLITE_TRIGGERS = {
    table: [
        f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        for verb in ("UPDATE", "DELETE")
    ]
    for table in ("evidence_outbox", *LOG_TABLES)
}


def _drop_append_only(conn: Connection, table: str) -> None:
    if conn.dialect.name == "sqlite":
        conn.execute(text(f"DROP TRIGGER {table}_no_update"))
        conn.execute(text(f"DROP TRIGGER {table}_no_delete"))
    else:
        conn.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))


def _restore_append_only(conn: Connection, table: str) -> None:
    if conn.dialect.name == "sqlite":
        for statement in _SQLITE_TRIGGERS[table]:
            conn.execute(text(statement))
    else:
        conn.execute(
            text(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION evidence_append_only()"
            )
        )


@contextmanager
def tampering(engine: Engine, *tables: str) -> Iterator[Connection]:
    """A malicious DBA's session: the append-only triggers of ``tables`` dropped, changes
    committed on exit, triggers put back afterwards.

    The triggers are restored because the PostgreSQL test database is shared by every test of
    the run (only its rows are truncated between tests).
    """
    with engine.begin() as conn:
        for table in tables:
            _drop_append_only(conn, table)
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        with engine.begin() as conn:
            for table in tables:
                _restore_append_only(conn, table)
