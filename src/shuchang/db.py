"""Engine, session scope, metadata naming convention, and the column types every domain shares."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Table,
    create_engine,
    event,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

WRITE_OPTION = "shuchang_write"

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a real BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC (naive on SQLite, timestamptz on PostgreSQL) and always returns aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Shuchang stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def table_of(model: type[Base]) -> Table:
    """A mapped class's table, for Core bulk statements (the ORM bulk path splits rows whose
    None columns differ into separate statements; Core sends one executemany)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers run beside the one writer; busy_timeout queues writers instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # Writers take the lock at BEGIN, so two of them queue on busy_timeout instead of one
    # failing when it upgrades a read lock; readers stay deferred and never block anyone (WAL).
    immediate = conn.get_execution_options().get(WRITE_OPTION)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Create the engine for ``url`` with the pragmas and pool the platform relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, pool_size=pool_size)
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN itself

        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session], *, write: bool = True) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error.

    ``write=False`` marks a read-only unit, which on SQLite does not take the write lock.
    """
    bind = factory.kw.get("bind")
    queue = _writers(bind) if write and bind is not None and bind.dialect.name == "sqlite" else None
    with queue or nullcontext():
        session = factory()
        try:
            session.connection(execution_options={WRITE_OPTION: write})
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


_write_locks: WeakKeyDictionary[Engine, threading.RLock] = WeakKeyDictionary()
_write_locks_guard = threading.Lock()


def _writers(engine: Engine) -> threading.RLock:
    """The queue of this process's SQLite writers. SQLite admits one writer at a time; threads
    that wait inside SQLite poll with sleeps (its busy handler), which under load leaves the
    lock idle between polls and costs more time than the writes (benchmarks/dataplane_load.py).
    Queued here they take turns at once; other processes still meet the busy timeout."""
    with _write_locks_guard:
        lock = _write_locks.get(engine)
        if lock is None:
            lock = _write_locks[engine] = threading.RLock()
        return lock
