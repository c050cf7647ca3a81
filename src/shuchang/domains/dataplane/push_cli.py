"""`shuchang dataplane push`: deliver push transfers (推送交付) outside the gateway process."""

from __future__ import annotations

import click

from shuchang.platform import Platform
from shuchang.settings import Settings


@click.command("push")
@click.option("--once", is_flag=True, help="Push every job that is due now, then exit.")
def push(once: bool) -> None:
    """Send the data of STARTED push transfers to the consumers' endpoints.

    Without --once it keeps going, looking for work every SHUCHANG_DATAPLANE_PUSH_SECONDS
    (at least 1 s). Several pushers (and gateways) may run at once: each job is leased."""
    import anyio

    from shuchang.domains.dataplane.push import Pusher
    from shuchang.migrations import upgrade

    try:
        settings = Settings.from_env()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    platform = Platform.build(settings)
    try:
        upgrade(platform.engine)
        pusher = Pusher(platform)
        if once:
            tried = anyio.run(pusher.run_once)
            click.echo(f"{tried} push attempt(s) made")
        else:
            anyio.run(pusher.loop, max(1, settings.dataplane_push_seconds))
    finally:
        platform.engine.dispose()
