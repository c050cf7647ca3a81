"""`shuchang compute …`: privacy-preserving computation (隐私计算) at this connector.

Commands act as ``--as`` (a participant id; default ``SHUCHANG_CONNECTOR_PARTICIPANT``):
the provider for ``profile set``, the consumer for ``submit``. ``submit`` runs the job in
this process and prints the answer (with ε and the noise scale of each statistic).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import msgspec

from shuchang.clikit import decode, emit, problems_exit, unit
from shuchang.domains.compute import profiles, service, views
from shuchang.domains.compute.elements_cli import compute_elements
from shuchang.domains.compute.psi_cli import psi
from shuchang.domains.compute.schemas import JobIn, ProfileIn
from shuchang.domains.participants import SYSTEM, Actor
from shuchang.errors import InvalidInput, ValidationFailed
from shuchang.platform import Platform
from shuchang.settings import Settings

AS = click.option(
    "--as",
    "participant",
    type=click.UUID,
    help="Act as this participant (default SHUCHANG_CONNECTOR_PARTICIPANT; none: system).",
)


def _actor(platform: Platform, participant: uuid.UUID | None, role: str) -> Actor:
    chosen = participant or platform.settings.connector_participant
    if not chosen:
        return SYSTEM
    try:
        return Actor(participant_id=uuid.UUID(str(chosen)), role=role)  # type: ignore[arg-type]
    except ValueError as exc:
        raise click.UsageError("SHUCHANG_CONNECTOR_PARTICIPANT is not a UUID") from exc


@contextmanager
def _platform() -> Iterator[Platform]:
    from shuchang.migrations import upgrade

    try:
        settings = Settings.from_env()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    platform = Platform.build(settings)
    try:
        upgrade(platform.engine)
        yield platform
    finally:
        platform.engine.dispose()


@click.group()
def compute() -> None:
    """Privacy-preserving computation (隐私计算): profiles, DP jobs, budgets."""


@compute.group()
def profile() -> None:
    """A compute-only product's compute profile (计算配置)."""


@profile.command("set")
@click.argument("product_id", type=click.UUID)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@AS
@problems_exit
def profile_set(product_id: uuid.UUID, file: Path, participant: uuid.UUID | None) -> None:
    """Set the profile of PRODUCT_ID from a JSON FILE (as its provider)."""
    data = decode(file.read_bytes(), ProfileIn, "profile")
    with unit() as (platform, s):
        emit(profiles.set_profile(s, _actor(platform, participant, "provider"), product_id, data))


@profile.command("show")
@click.argument("product_id", type=click.UUID)
@problems_exit
def profile_show(product_id: uuid.UUID) -> None:
    """Show the profile of PRODUCT_ID (its domains and clamps are public by design)."""
    with unit(write=False) as (_, s):
        emit(profiles.get_profile(s, SYSTEM, product_id))


def _params(pairs: tuple[str, ...]) -> dict[str, str | int]:
    out: dict[str, str | int] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValidationFailed(
                f"--param takes name=value, not {pair!r}",
                f"--param 的格式为 name=value，而不是 {pair!r}",
                field="params",
            )
        out[name] = int(value) if value.lstrip("-").isdigit() else value
    return out


@compute.command()
@click.argument("agreement_id", type=click.UUID)
@click.option("--sql", help="An ad-hoc query (validated against the allow-list).")
@click.option("--template", help="An approved query template of the product.")
@click.option("--param", "params", multiple=True, help="Template parameter name=value.")
@click.option("--epsilon", type=float, help="ε to spend (default: the profile's default).")
@click.option("--purpose", help="Purpose of use (default: the agreement's).")
@click.option("--psi-filter", help="Count only the rows of a PSI filter (psi:<session id>).")
@AS
@problems_exit
def submit(  # noqa: PLR0917 - click passes each option by name
    agreement_id: uuid.UUID,
    sql: str | None,
    template: str | None,
    params: tuple[str, ...],
    epsilon: float | None,
    purpose: str | None,
    psi_filter: str | None,
    participant: uuid.UUID | None,
) -> None:
    """Run a computation under AGREEMENT_ID (as its consumer) and print the answer."""
    try:
        data = JobIn(
            agreement_id, sql, template, _params(params), epsilon, purpose, psi_filter=psi_filter
        )
        data = msgspec.convert(msgspec.to_builtins(data), JobIn)  # the schema's own checks
    except msgspec.ValidationError as exc:  # "… - at `$.psi_filter`"
        where = str(exc).rpartition("`$.")[2].rstrip("`") or None
        raise InvalidInput(str(exc), "参数不符合要求", field=where) from exc
    with _platform() as platform:
        emit(service.submit(platform, _actor(platform, participant, "consumer"), data, wait=None))


@compute.command()
@click.argument("job_id", type=click.UUID)
@AS
@problems_exit
def show(job_id: uuid.UUID, participant: uuid.UUID | None) -> None:
    """Show one job (its answer to the consumer and oversight)."""
    with _platform() as platform:
        emit(service.show(platform, _actor(platform, participant, "consumer"), job_id))


@compute.command("list")
@click.option("--product", "product_id", type=click.UUID, help="Only jobs on this product.")
@click.option("--state", help="Only jobs in this state (queued, running, succeeded, …).")
@AS
@problems_exit
def list_(product_id: uuid.UUID | None, state: str | None, participant: uuid.UUID | None) -> None:
    """List jobs, newest first: a consumer's own, a provider's job log, or all (system)."""
    with unit(write=False) as (platform, s):
        actor = _actor(platform, participant, "provider")
        emit(views.list_jobs(s, actor, product_id=product_id, state=state))


@compute.command()
@click.argument("job_id", type=click.UUID)
@AS
@problems_exit
def cancel(job_id: uuid.UUID, participant: uuid.UUID | None) -> None:
    """Cancel a queued or running job: nothing is released, nothing is spent."""
    with _platform() as platform:
        emit(service.cancel(platform, _actor(platform, participant, "consumer"), job_id))


@compute.command()
@click.argument("agreement_id", type=click.UUID)
@AS
@problems_exit
def budget(agreement_id: uuid.UUID, participant: uuid.UUID | None) -> None:
    """The ε left this period under AGREEMENT_ID and for the product's lifetime."""
    with unit(write=False) as (platform, s):
        emit(views.budget(s, _actor(platform, participant, "consumer"), agreement_id))


# Data elements and PSI are sub-commands: `shuchang compute elements …`, `shuchang compute psi …`.
compute.add_command(compute_elements)
compute.add_command(psi)
