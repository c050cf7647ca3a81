"""Engine, session scope, metadata naming convention, and the column types every domain shares."""

from __future__ import annotations

import threading
import uuid
import weakref
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

try:
    import fcntl
except ImportError:  # Windows: threads of one process still queue; processes meet busy_timeout
    fcntl = None  # type: ignore[assignment]

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


def row_values(obj: Base) -> dict[str, Any]:
    """A mapped object's column values by attribute name."""
    return {c.key: getattr(obj, c.key) for c in obj.__mapper__.column_attrs}


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


class WriterQueue:
    """The queue of SQLite writers to one database file: threads of this process take turns
    on an in-process lock, and processes take turns on an advisory ``flock`` of a lock file
    beside the database (``<db>.writers``), held by the outermost holder of a thread.

    SQLite admits one writer at a time; a writer that finds the database locked polls with
    sleeps (its busy handler, 1 ms growing to 100 ms), which under load leaves the lock idle
    between polls and costs more time than the writes (a third of the gateway's samples were
    in that sleep, benchmarks/dataplane_load.py). Queued here, writers — also those of other
    Shuchang processes on the same file, such as several gateway workers — are woken the
    moment the lock is free. Programs that do not queue here still meet the busy timeout."""

    def __init__(self, path: str | None) -> None:
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._file = open(path + ".writers", "a+b") if path and fcntl else None  # noqa: SIM115
        if self._file is not None:  # closed with the queue (which lives as long as its engine)
            weakref.finalize(self, self._file.close)

    def __enter__(self) -> WriterQueue:
        self._thread_lock.acquire()
        if self._depth == 0 and self._file is not None and fcntl is not None:
            try:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_EX)
            except BaseException:
                self._thread_lock.release()
                raise
        self._depth += 1
        return self

    def __exit__(self, *_: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._file is not None and fcntl is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        self._thread_lock.release()


_write_locks: WeakKeyDictionary[Engine, WriterQueue] = WeakKeyDictionary()
_write_locks_guard = threading.Lock()


def _writers(engine: Engine) -> WriterQueue:
    """The writer queue of ``engine``'s SQLite database (see :class:`WriterQueue`)."""
    with _write_locks_guard:
        lock = _write_locks.get(engine)
        if lock is None:
            database = engine.url.database
            on_disk = database not in (None, "", ":memory:") and "mode=memory" not in str(
                engine.url
            )
            lock = _write_locks[engine] = WriterQueue(database if on_disk else None)
        return lock
