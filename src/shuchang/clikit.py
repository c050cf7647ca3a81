"""Helpers every domain's commands share: the database unit, JSON output, problem errors."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import click
import msgspec
from sqlalchemy.orm import Session

from shuchang.domains.evidence.signing import LogKeyError
from shuchang.errors import ShuchangError
from shuchang.platform import Platform
from shuchang.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def unit(*, write: bool = True) -> Iterator[tuple[Platform, Session]]:
    """A platform on the configured database (migrated) and one transaction on it."""
    from shuchang.migrations import upgrade

    try:
        settings = Settings.from_env()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    platform = Platform.build(settings)
    try:
        upgrade(platform.engine)
        with platform.unit(write=write) as session:
            yield platform, session
    except LogKeyError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        platform.engine.dispose()


def emit(value: Any) -> None:
    """Print a schema (or list of them) as one pretty JSON document."""
    data = msgspec.to_builtins(value)
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def problems_exit(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a ShuchangError into its problem JSON on stderr and exit status 1, no traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ShuchangError as exc:
            click.echo(json.dumps(exc.problem(), ensure_ascii=False), err=True)
            sys.exit(1)

    return wrapper


def decode(raw: str | bytes, into: type[R], what: str) -> R:
    """Decode JSON text into a request schema, or raise a problem naming the bad field."""
    from shuchang.errors import InvalidInput, ValidationFailed

    try:
        return msgspec.json.decode(raw, type=into)
    except msgspec.ValidationError as exc:
        message = str(exc)
        field = message.rsplit("`$.", 1)[-1].rstrip("`") if "`$." in message else None
        raise ValidationFailed(
            f"{what}: {message}",
            f"{what} 字段不合法：{message}",
            code="request.invalid_field",
            field=field,
        ) from exc
    except msgspec.DecodeError as exc:
        raise InvalidInput(
            f"{what} is not valid JSON: {exc}",
            f"{what} 不是合法的 JSON",
            code="request.malformed_json",
        ) from exc
