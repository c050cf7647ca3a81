"""`shuchang compute elements …`: data elements (数据元件) of a provider on this platform.

Commands act for ``--as`` (a provider's participant id) or the connector's participant, over
the same services as the management API; runs use the locked-down DuckDB process.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import click

from shuchang.clikit import decode, emit, problems_exit
from shuchang.domains.compute import element_runs, elements
from shuchang.domains.compute.cli_support import acting, platform
from shuchang.domains.compute.element_runner import ProcessRunner
from shuchang.domains.compute.element_schemas import ElementIn, ElementListing

AS = click.option("--as", "participant", type=click.UUID, help="Provider participant id.")


@click.group("elements")
def compute_elements() -> None:
    """Data elements (数据元件): define, run and list de-identified derived datasets."""


@compute_elements.command()
@click.argument("definition", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@AS
@problems_exit
def define(definition: Path, participant: uuid.UUID | None) -> None:
    """Define a data element from a JSON file (checked by a dry run)."""
    data = decode(definition.read_bytes(), ElementIn, "definition")
    with platform() as built:
        actor = acting(built, participant, "provider")
        emit(elements.define(built.unit, built.settings, actor, data, ProcessRunner()))


@compute_elements.command("list")
@AS
@problems_exit
def list_(participant: uuid.UUID | None) -> None:
    """The provider's data elements."""
    with platform() as built, built.unit(write=False) as s:
        emit(elements.list_own(s, acting(built, participant, "provider")))


@compute_elements.command()
@click.argument("element_id", type=click.UUID)
@AS
@problems_exit
def run(element_id: uuid.UUID, participant: uuid.UUID | None) -> None:
    """Run the element's current revision now and print the run (digests, k report)."""
    with platform() as built:
        actor = acting(built, participant, "provider")
        emit(element_runs.run(built.unit, built.settings, actor, element_id, ProcessRunner()))


@compute_elements.command()
@click.argument("element_id", type=click.UUID)
@AS
@problems_exit
def runs(element_id: uuid.UUID, participant: uuid.UUID | None) -> None:
    """The element's runs, newest first."""
    with platform() as built, built.unit(write=False) as s:
        emit(element_runs.runs(s, acting(built, participant, "provider"), element_id))


@compute_elements.command("list-run")
@click.argument("run_id", type=click.UUID)
@click.argument("listing", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@AS
@problems_exit
def list_run(run_id: uuid.UUID, listing: Path, participant: uuid.UUID | None) -> None:
    """Offer a successful run as a data_element product (title, description, policy, price)."""
    data = decode(listing.read_bytes(), ElementListing, "listing")
    with platform() as built, built.unit() as s:
        emit(element_runs.list_run(s, acting(built, participant, "provider"), run_id, data))
