"""The running platform's shared parts, built once by :func:`shuchang.app.create_app`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from shuchang.db import make_engine, make_session_factory, session_scope
from shuchang.domains.participants.service import OnboardingRules
from shuchang.settings import Settings


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def build(cls, settings: Settings) -> Platform:
        engine = make_engine(settings.database_url)
        return cls(settings=settings, engine=engine, sessions=make_session_factory(engine))

    @property
    def rules(self) -> OnboardingRules:
        return OnboardingRules(
            review_rule=self.settings.review_rule, approval=self.settings.approval
        )

    @contextmanager
    def unit(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: everything in it commits together or not at all."""
        with session_scope(self.sessions, write=write) as session:
            yield session
