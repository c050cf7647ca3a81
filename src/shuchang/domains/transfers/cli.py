"""`shuchang transfers …`: transfer processes (传输过程) of this platform's connector.

Commands act for the participant the connector speaks for (``SHUCHANG_CONNECTOR_PARTICIPANT``)
through the same services as the management API; messages to the peer connector are sent
before the command returns. ``list`` and ``show`` without a connector show every process.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from shuchang.clikit import emit, problems_exit, unit
from shuchang.domains.participants import SYSTEM, Actor
from shuchang.domains.transfers import service, views
from shuchang.domains.transfers.schemas import PushAddress, StartTransfer
from shuchang.errors import ValidationFailed
from shuchang.platform import Platform
from shuchang.settings import Settings

TYPES = {"pull": "HttpData-PULL", "push": "HttpData-PUSH"}


def _actor(platform: Platform, role: str) -> Actor:
    participant = platform.settings.connector_participant
    if not participant:
        return SYSTEM
    try:
        return Actor(participant_id=uuid.UUID(participant), role=role)  # type: ignore[arg-type]
    except ValueError as exc:
        raise click.UsageError("SHUCHANG_CONNECTOR_PARTICIPANT is not a UUID") from exc


@contextmanager
def _platform() -> Iterator[Platform]:
    """The platform on the configured (migrated) database, for commands that commit and then
    send; disposed when the command ends."""
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


def _role_of(session: Session, transfer_id: uuid.UUID) -> str:
    return views.load(session, SYSTEM, transfer_id).role


@click.group()
def transfers() -> None:
    """Data delivery (数据交付): DSP transfer processes and pull tokens."""


@transfers.command("list")
@click.option("--state", help="Only processes in this state (STARTED, SUSPENDED, …).")
@click.option("--agreement", "agreement_id", type=click.UUID, help="Only under this agreement.")
@problems_exit
def list_(state: str | None, agreement_id: uuid.UUID | None) -> None:
    """List transfer processes, newest first."""
    with unit(write=False) as (platform, s):
        actor = _actor(platform, "consumer") if platform.settings.connector_participant else SYSTEM
        emit(views.list_transfers(s, actor, state=state, agreement_id=agreement_id))


@transfers.command()
@click.argument("transfer_id", type=click.UUID)
@problems_exit
def show(transfer_id: uuid.UUID) -> None:
    """Show one transfer process with its messages (and, for its consumer, the token)."""
    with unit(write=False) as (platform, s):
        actor = _actor(platform, _role_of(s, transfer_id))
        emit(views.transfer_out(s, actor, views.load(s, actor, transfer_id)))


@transfers.command()
@click.option("--agreement", "agreement_id", type=click.UUID, required=True)
@click.option("--type", "kind", type=click.Choice(sorted(TYPES)), default="pull", show_default=True)
@click.option("--endpoint", help="Push only: the http(s) URL the provider sends data to.")
@click.option(
    "--property",
    "properties",
    multiple=True,
    metavar="NAME=VALUE",
    help="Push only: what the provider must send, e.g. authorization='Bearer …' or format=jsonl.",
)
@problems_exit
def start(
    agreement_id: uuid.UUID, kind: str, endpoint: str | None, properties: tuple[str, ...]
) -> None:
    """Ask the agreement's provider to start a transfer (this connector is the consumer)."""
    pairs = dict(p.partition("=")[::2] for p in properties)
    if (kind == "push") != (endpoint is not None) or (pairs and kind != "push"):
        raise ValidationFailed(
            "--endpoint is required for push and not allowed for pull",
            "推送方式须给出 --endpoint，拉取方式不得给出",
            code="transfer.data_address_invalid",
            field="endpoint",
        )
    data = StartTransfer(
        agreement_id=agreement_id,
        transfer_type=TYPES[kind],  # type: ignore[arg-type]
        data_address=PushAddress(endpoint=endpoint, properties=pairs) if endpoint else None,
    )
    with _platform() as platform:
        with platform.unit() as s:
            actor = _actor(platform, "consumer")
            outbound, connector = service.start_transfer(s, platform.settings, actor, data)
        service.deliver(platform.unit, platform.transport, connector, outbound)
        _show_after(platform, actor, outbound.transfer_id)


def _show_after(platform: Platform, actor: Actor, transfer_id: uuid.UUID) -> None:
    with platform.unit(write=False) as s:
        emit(views.transfer_out(s, actor, views.load(s, actor, transfer_id)))


def _step(transfer_id: uuid.UUID, action: service.Action, reason: str = "") -> None:
    with _platform() as platform:
        with platform.unit() as s:
            actor = _actor(platform, _role_of(s, transfer_id))
            _, outbound, connector = service.act(
                s, platform.settings, actor, transfer_id, action, reason=reason
            )
        service.deliver(platform.unit, platform.transport, connector, outbound)
        _show_after(platform, actor, transfer_id)


REASON = click.option("--reason", required=True, help="Why (sent to the other side).")


@transfers.command()
@click.argument("transfer_id", type=click.UUID)
@REASON
@problems_exit
def suspend(transfer_id: uuid.UUID, reason: str) -> None:
    """Suspend a STARTED transfer; its tokens stop working at once."""
    _step(transfer_id, "suspend", reason)


@transfers.command()
@click.argument("transfer_id", type=click.UUID)
@problems_exit
def resume(transfer_id: uuid.UUID) -> None:
    """Resume a transfer this side suspended (the provider sends a new token)."""
    _step(transfer_id, "resume")


@transfers.command()
@click.argument("transfer_id", type=click.UUID)
@problems_exit
def complete(transfer_id: uuid.UUID) -> None:
    """Declare a STARTED transfer completed."""
    _step(transfer_id, "complete")


@transfers.command()
@click.argument("transfer_id", type=click.UUID)
@REASON
@problems_exit
def terminate(transfer_id: uuid.UUID, reason: str) -> None:
    """Terminate a transfer that has not ended."""
    _step(transfer_id, "terminate", reason)


@transfers.command()
@click.argument("transfer_id", type=click.UUID)
@problems_exit
def refresh(transfer_id: uuid.UUID) -> None:
    """Fetch a new access token for a STARTED pull transfer from the provider now."""
    with _platform() as platform:
        actor = _actor(platform, "consumer")
        service.refresh_token(
            platform.unit, platform.transport, platform.settings, actor, transfer_id
        )
        _show_after(platform, actor, transfer_id)
