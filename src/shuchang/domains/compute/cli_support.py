"""What the compute commands share: the platform for commands that commit and then send,
and the participant they act for."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import click

from shuchang.domains.participants import SYSTEM, Actor
from shuchang.platform import Platform
from shuchang.settings import Settings


@contextmanager
def platform() -> Iterator[Platform]:
    from shuchang.migrations import upgrade

    try:
        settings = Settings.from_env()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    built = Platform.build(settings)
    try:
        upgrade(built.engine)
        yield built
    finally:
        built.engine.dispose()


def acting(built: Platform, participant: uuid.UUID | None, role: str) -> Actor:
    """``--as`` or the connector's participant, in ``role``; the platform itself if neither."""
    raw = participant or built.settings.connector_participant
    if not raw:
        return SYSTEM
    try:
        return Actor(participant_id=uuid.UUID(str(raw)), role=role)  # type: ignore[arg-type]
    except ValueError as exc:
        raise click.UsageError("SHUCHANG_CONNECTOR_PARTICIPANT is not a UUID") from exc
