"""The running platform's shared parts, built once by :func:`shuchang.app.create_app`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import anyio.to_thread
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from shuchang.db import make_engine, make_session_factory, session_scope
from shuchang.domains.contracts.transport import HttpTransport, Transport
from shuchang.domains.evidence.signing import load_log_signer
from shuchang.domains.evidence.tlog.note import Ed25519Signer
from shuchang.domains.participants.service import OnboardingRules
from shuchang.settings import Settings


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
        """Size the thread pool that runs blocking request work (``Settings.threads``; anyio's
        default is 40): call once per worker process, from inside its event loop."""
        anyio.to_thread.current_default_thread_limiter().total_tokens = self.settings.threads

    @contextmanager
    def unit(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: everything in it commits together or not at all."""
        with session_scope(self.sessions, write=write) as session:
            yield session
