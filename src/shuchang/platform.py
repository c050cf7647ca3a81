"""The running platform's shared parts, built once by :func:`shuchang.app.create_app`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import anyio.to_thread
from litestar.concurrency import sync_to_thread
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from shuchang.db import make_engine, make_session_factory, session_scope
from shuchang.domains.contracts.transport import HttpTransport, Transport
from shuchang.domains.evidence.signing import load_log_signer
from shuchang.domains.evidence.tlog.note import Ed25519Signer
from shuchang.domains.participants.service import OnboardingRules
from shuchang.settings import Settings

T = TypeVar("T")


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    _log_signer: Ed25519Signer | None = field(default=None, repr=False)
    transport: Transport = field(default_factory=HttpTransport, repr=False)

    @classmethod
    def build(cls, settings: Settings) -> Platform:
        engine = make_engine(settings.database_url)
        return cls(settings=settings, engine=engine, sessions=make_session_factory(engine))

    @property
    def rules(self) -> OnboardingRules:
        return OnboardingRules(
            review_rule=self.settings.review_rule, approval=self.settings.approval
        )

    @property
    def log_signer(self) -> Ed25519Signer:
        """The evidence log's checkpoint key, loaded (or created) on first use."""
        if self._log_signer is None:
            self._log_signer = load_log_signer(self.settings)
        return self._log_signer

    def limit_threads(self) -> None:
        """Size the thread pools that run blocking request work (``Settings.threads``): call
        once per worker process, from inside its event loop. Litestar runs sync handlers on
        the loop's default executor (6 threads on 2 cores unless replaced); anyio's limiter
        covers everything that uses ``anyio.to_thread``."""
        anyio.to_thread.current_default_thread_limiter().total_tokens = self.settings.threads
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(self.settings.threads, thread_name_prefix="shuchang-handler")
        )

    async def read(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a read-only unit, from an async handler.

        On SQLite it runs on the event loop: a WAL read of a local file never waits for a
        writer and takes less time than handing it to a thread and back (a catalog lookup:
        650 µs of CPU inline, 870–1,450 µs through the pool, benchmarks/README.md). On
        PostgreSQL every statement is a network round trip, so it runs in the pool.
        """
        return await self._inline_or_pooled(lambda: self._read(work))

    async def _inline_or_pooled(self, run: Callable[[], T]) -> T:
        if self.engine.dialect.name == "sqlite":
            return run()
        return await sync_to_thread(run)

    def _read(self, work: Callable[[Session], T]) -> T:
        with self.unit(write=False) as session:
            return work(session)

    async def read_rows(self, work: Callable[[Connection], T]) -> T:
        """:meth:`read` for work that runs Core statements only: a bare connection without the
        ORM unit around it (a session's setup and teardown cost 70-90 µs, a tenth of the CPU
        of a catalog lookup over HTTP).

        On PostgreSQL each statement runs in autocommit: no BEGIN and ROLLBACK round trips
        (a lookup's two statements: 1,400 -> 815 µs). So the statements may see different
        snapshots; use it only where that is harmless (an API key check, then one read).
        """
        return await self._inline_or_pooled(lambda: self._read_rows(work))

    def _read_rows(self, work: Callable[[Connection], T]) -> T:
        with self.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execution_options(isolation_level="AUTOCOMMIT")
            return work(connection)

    @contextmanager
    def unit(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: everything in it commits together or not at all."""
        with session_scope(self.sessions, write=write) as session:
            yield session
