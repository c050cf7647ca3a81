"""`shuchang dataplane …`: run the data-plane gateway, seal and check metering, show usage."""

from __future__ import annotations

import math
import uuid
from datetime import datetime

import click

from shuchang.clikit import emit, problems_exit, unit
from shuchang.domains.dataplane import metering, sealing
from shuchang.domains.dataplane.gateway import IN_FLIGHT_MARGIN, audience_of, connector_keys
from shuchang.domains.dataplane.push_cli import push
from shuchang.platform import Platform
from shuchang.settings import Settings


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


@click.group()
def dataplane() -> None:
    """The data-plane gateway (数据面网关) for API products, and its metering (计量)."""


@dataplane.command()
@click.option("--host", help="Bind address (default SHUCHANG_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port (default SHUCHANG_DATAPLANE_PORT or 8700).")
@click.option("--workers", type=int, help="Worker processes (default SHUCHANG_WORKERS or 1).")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve GET/POST /data/… for pull transfers of API products (its own process)."""
    from granian import Granian
    from granian.constants import Interfaces

    from shuchang.db import make_engine
    from shuchang.migrations import upgrade

    settings = _settings()
    try:
        connector_keys(settings)
        audience = audience_of(settings)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    host, port = host or settings.host, port or settings.dataplane_port
    click.echo(f"Shuchang data plane on http://{host}:{port}/data/ (tokens for {audience})")
    Granian(
        "shuchang.domains.dataplane.gateway:create_gateway",
        factory=True,
        interface=Interfaces.ASGI,
        address=host,
        port=port,
        workers=workers or settings.workers,
        log_access=False,
    ).serve()


dataplane.add_command(push)


@dataplane.command()
def seal() -> None:
    """Seal every usage record that is ready into the evidence log, batch by batch."""
    settings = _settings()
    platform = Platform.build(settings)
    try:
        from shuchang.migrations import upgrade

        upgrade(platform.engine)
        batches = sealing.seal_all(
            platform.unit,
            limit=settings.dataplane_seal_records,
            in_flight_seconds=math.ceil(settings.dataplane_timeout_ms / 1000) + IN_FLIGHT_MARGIN,
        )
    finally:
        platform.engine.dispose()
    emit(batches)


@dataplane.command()
@click.argument("batch_id", type=int)
def verify(batch_id: int) -> None:
    """Recompute a sealed batch's digest from its usage records; exit 1 if it differs."""
    with unit(write=False) as (_, s):
        try:
            batch, ok = sealing.verify_batch(s, batch_id)
        except LookupError as exc:
            raise click.ClickException(f"no metering batch {batch_id}") from exc
    emit(batch)
    click.echo("digest verified" if ok else "DIGEST MISMATCH: the records changed after sealing")
    if not ok:
        raise SystemExit(1)


@dataplane.command()
@click.option("--agreement", "agreement_id", type=click.UUID, required=True)
@click.option("--since", type=click.DateTime(), help="From (UTC, inclusive).")
@click.option("--until", type=click.DateTime(), help="Until (UTC, exclusive).")
@problems_exit
def usage(agreement_id: uuid.UUID, since: datetime | None, until: datetime | None) -> None:
    """Metered usage of an agreement, in total and per day (for settlement)."""
    from datetime import UTC

    with unit(write=False) as (_, s):
        emit(
            metering.usage_summary(
                s,
                agreement_id,
                since.replace(tzinfo=UTC) if since else None,
                until.replace(tzinfo=UTC) if until else None,
            )
        )
