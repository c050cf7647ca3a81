"""`shuchang compute psi …`: private set intersection sessions of this platform's connector.

``start`` acts for the connector's participant as the consumer: it stores the session, builds
and sends the request, and (with ``--wait``) waits while this platform's server handles the
provider's answers. The other commands read sessions.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import click

from shuchang.clikit import emit, problems_exit, unit
from shuchang.db import utcnow
from shuchang.domains.compute import psi_consumer, psi_data, psi_views
from shuchang.domains.compute.cli_support import acting, platform
from shuchang.domains.compute.psi import FINAL, Wire, expire_stale
from shuchang.domains.contracts import load_connector


@click.group("psi")
def psi() -> None:
    """Private set intersection (隐私求交) between connectors."""


@psi.command()
@click.option("--agreement", "agreement_id", type=click.UUID, required=True)
@click.option(
    "--csv", "csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True
)
@click.option("--column", help="The CSV column of identifiers (default: the first column).")
@click.option(
    "--mode", type=click.Choice(["cardinality", "intersection", "filter"]), default="cardinality"
)
@click.option(
    "--normalization",
    type=click.Choice(["uscc", "resident_id", "mobile", "email", "text"]),
    default="uscc",
)
@click.option("--wait", "wait_s", type=int, default=0, help="Seconds to wait for the result.")
@problems_exit
def start(  # noqa: PLR0917 - click passes each option as an argument
    agreement_id: uuid.UUID,
    csv_file: Path,
    column: str | None,
    mode: str,
    normalization: str,
    wait_s: int,
) -> None:
    """Start a session with the identifiers of a CSV file."""
    raw = psi_data.parse_upload(csv_file.read_text(encoding="utf-8-sig"), column)
    with platform() as built:
        actor = acting(built, None, "consumer")
        with built.unit() as s:
            wire = Wire(
                built.unit, built.transport, load_connector(s, built.settings), built.settings
            )
            row, work = psi_consumer.start(
                s,
                actor,
                wire,
                agreement_id=agreement_id,
                mode=mode,
                normalization=normalization,
                identifiers=raw,
            )
            session_id = row.id
        work()
        deadline = time.monotonic() + wait_s
        while True:
            with built.unit(write=False) as s:
                out = psi_views.get(s, actor, session_id)
            if out.state in FINAL or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
        emit(out)


@psi.command("list")
@problems_exit
def list_() -> None:
    """Sessions of this connector's participant, newest first."""
    with unit(write=False) as (built, s):
        emit(psi_views.list_sessions(s, acting(built, None, "consumer")))


@psi.command()
@click.argument("session_id", type=click.UUID)
@problems_exit
def show(session_id: uuid.UUID) -> None:
    """One session with its messages (sizes, digests, bytes)."""
    with unit(write=False) as (built, s):
        emit(psi_views.get(s, acting(built, None, "consumer"), session_id))


@psi.command()
@click.argument("session_id", type=click.UUID)
@problems_exit
def members(session_id: uuid.UUID) -> None:
    """The intersection a consumer learned in ``intersection`` mode, one per line."""
    with unit(write=False) as (built, s):
        for value in psi_views.members(s, acting(built, None, "consumer"), session_id):
            click.echo(value)


@psi.command()
@problems_exit
def expire() -> None:
    """Mark sessions past their deadline EXPIRED (with evidence)."""
    with unit() as (_, s):
        click.echo(f"{expire_stale(s, utcnow())} sessions expired")
