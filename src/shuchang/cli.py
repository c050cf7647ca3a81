"""The `shuchang` command. `serve` is the default; each domain mounts its own group."""

from __future__ import annotations

import click

from shuchang import __version__
from shuchang.client.cli import pull
from shuchang.domains.assets.cli import assets
from shuchang.domains.catalog.cli import catalog
from shuchang.domains.compliance.cli import compliance
from shuchang.domains.compute.cli import compute
from shuchang.domains.contracts.cli import contracts
from shuchang.domains.dataplane.cli import dataplane
from shuchang.domains.evidence.cli import tlog
from shuchang.domains.participants.cli import participants, verify_id
from shuchang.domains.settlement.cli import settlement
from shuchang.domains.supervision.cli import supervision
from shuchang.domains.transfers.cli import transfers
from shuchang.settings import Settings


class DefaultGroup(click.Group):
    """A group that runs ``serve`` when no command is given (datasette-style)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0].startswith("-") and args[0] not in ("--help", "-h", "--version")):
            args = ["serve", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="shuchang")
def cli() -> None:
    """Shuchang 数场 — a trusted data space (可信数据空间).

    Settings come from SHUCHANG_* environment variables (see docs/operators.en.md).
    """


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


def _check_startup(settings: Settings) -> None:
    """Fail before serving on settings that would only break later, in a background thread."""
    from shuchang.domains.evidence.logview import witnesses
    from shuchang.domains.evidence.signing import LogKeyError, load_log_signer

    try:
        load_log_signer(settings)
        witnesses(settings.witness_keys)
    except (LogKeyError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc


@cli.command()
@click.option("--host", help="Bind address (default SHUCHANG_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port (default SHUCHANG_PORT or 8600).")
@click.option("--workers", type=int, help="Worker processes (default SHUCHANG_WORKERS or 1).")
@click.option("--demo", is_flag=True, help="Seed the demo region first if the database is empty.")
def serve(host: str | None, port: int | None, workers: int | None, demo: bool) -> None:
    """Start the API, the console and the protocol endpoints (the default command)."""
    from granian import Granian
    from granian.constants import Interfaces

    from shuchang.db import make_engine
    from shuchang.migrations import upgrade

    settings = _settings()
    _check_startup(settings)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    if demo:
        from shuchang.demo import print_keys, seed

        with_keys = seed(engine, settings)
        print_keys(with_keys)
    engine.dispose()
    host, port = host or settings.host, port or settings.port
    click.echo(
        f"Shuchang 数场 {__version__}: console http://{host}:{port}/console/  API docs http://{host}:{port}/docs"
    )
    Granian(
        "shuchang.app:serve_app",
        factory=True,
        interface=Interfaces.ASGI,
        address=host,
        port=port,
        workers=workers or settings.workers,
        log_access=False,
    ).serve()


@cli.group()
def db() -> None:
    """Database administration."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the latest schema."""
    from shuchang.db import make_engine
    from shuchang.migrations import upgrade

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    click.echo("database is at the latest revision")


@cli.command()
def demo() -> None:
    """Seed the demo region (东瓯市) and print its API keys. Safe to run twice."""
    from shuchang.db import make_engine
    from shuchang.demo import print_keys, seed
    from shuchang.migrations import upgrade

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        print_keys(seed(engine, settings))
    finally:
        engine.dispose()


cli.add_command(participants)
cli.add_command(catalog)
cli.add_command(contracts)
cli.add_command(transfers)
cli.add_command(dataplane)
cli.add_command(compute)
cli.add_command(verify_id)
cli.add_command(tlog)
cli.add_command(pull)
cli.add_command(assets)
cli.add_command(compliance)
cli.add_command(supervision)
cli.add_command(settlement)


def main() -> None:
    cli(prog_name="shuchang")


if __name__ == "__main__":  # pragma: no cover
    main()
