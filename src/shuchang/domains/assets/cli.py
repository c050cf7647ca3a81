"""`shuchang assets …`: the registry from the shell, and offline verification of certificates.

Commands with database access act as the platform (``system``); a holder's application names
the holder with ``--as PARTICIPANT_ID``. ``verify`` needs no database at all.
"""

from __future__ import annotations

import base64
import sys
import uuid
from pathlib import Path

import click
import msgspec

from shuchang.attestations import DocumentInvalid
from shuchang.clikit import emit, problems_exit, unit
from shuchang.domains import evidence
from shuchang.domains.assets import documents, lifecycle, service, views
from shuchang.domains.assets.schemas import RIGHTS, AssetApplication, AssetDecision
from shuchang.domains.assets.verify import verify_pdf
from shuchang.domains.participants import SYSTEM, Actor, find
from shuchang.errors import PermissionDenied

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
OUT = click.Path(dir_okay=False, writable=True, path_type=Path)


@click.group()
def assets() -> None:
    """Data-asset registration (数据资产登记): certificates, valuations, pledges."""


def _holder(session: object, participant_id: uuid.UUID) -> Actor:
    member = find(session, participant_id)  # type: ignore[arg-type]
    if member is None or member.status != "active" or "provider" not in member.roles:
        raise PermissionDenied(
            "The participant is not an active provider",
            "该参与方不是已启用的提供方",
            code="asset.not_holder",
        )
    return Actor(participant_id=member.id, role="provider")


@assets.command("list")
@click.option("--status", help="applied, returned, registered, revoked, cancelled, expired …")
@problems_exit
def list_command(status: str | None) -> None:
    """Registrations, newest change first."""
    with unit(write=False) as (_, s):
        emit(views.listing(s, SYSTEM, status=status))


@assets.command()
@click.argument("registration_id", type=click.UUID)
@problems_exit
def show(registration_id: uuid.UUID) -> None:
    """A registration with its certificate, valuations and pledges."""
    with unit(write=False) as (_, s):
        emit(views.detail(s, SYSTEM, registration_id))


@assets.command()
@click.option("--as", "holder_id", type=click.UUID, required=True, help="The holder (provider).")
@click.option("--product", "product_id", type=click.UUID, required=True)
@click.option("--right", "rights", multiple=True, type=click.Choice(RIGHTS), required=True)
@click.option("--description", required=True)
@click.option("--years", type=click.IntRange(1, 10), default=3, show_default=True)
@problems_exit
def apply(
    holder_id: uuid.UUID,
    product_id: uuid.UUID,
    rights: tuple[str, ...],
    description: str,
    years: int,
) -> None:
    """Apply to register a listed product of the holder as a data asset."""
    try:
        data = msgspec.convert(
            {
                "product_id": product_id,
                "rights": list(rights),
                "description": description,
                "valid_years": years,
            },
            AssetApplication,
        )
    except msgspec.ValidationError as exc:
        raise click.UsageError(str(exc)) from None
    with unit() as (platform, s):
        emit(service.apply(s, _holder(s, holder_id), data, platform.settings))


@assets.command()
@click.argument("registration_id", type=click.UUID)
@click.option("--return", "reasons", multiple=True, help="Return with this reason (repeatable).")
@problems_exit
def review(registration_id: uuid.UUID, reasons: tuple[str, ...]) -> None:
    """Approve (issuing the certificate) or, with --return, send back."""
    decision = AssetDecision(decision="return" if reasons else "approve", reasons=list(reasons))
    with unit() as (platform, s):
        emit(service.review(s, SYSTEM, registration_id, decision, platform.settings))


@assets.command()
@click.argument("registration_id", type=click.UUID)
@click.option("--reason", required=True)
@problems_exit
def revoke(registration_id: uuid.UUID, reason: str) -> None:
    """Revoke a certificate (撤销登记)."""
    with unit() as (_, s):
        emit(lifecycle.revoke(s, SYSTEM, registration_id, reason))


@assets.command()
def expire() -> None:
    """Record the expiry of every certificate past its end (run daily, e.g. from cron)."""
    with unit() as (_, s):
        ended = lifecycle.expire_due(s)
    click.echo(f"{len(ended)} certificate(s) expired" + "".join(f"\n  {n}" for n in ended))


@assets.command()
@click.argument("registration_id", type=click.UUID)
@click.option("-o", "--out", type=OUT, required=True, help="Write the PDF here.")
@problems_exit
def pdf(registration_id: uuid.UUID, out: Path) -> None:
    """Write the certificate PDF (with its receipt once the issuance is logged)."""
    with unit(write=False) as (_, s):
        name, body = documents.certificate_pdf(s, SYSTEM, registration_id)
    out.write_bytes(body)
    click.echo(f"{name} written to {out}")


@assets.command("issuer-key")
def issuer_key() -> None:
    """Print the issuer's public key (base64): what holders pin with `verify --trust`."""
    with unit(write=False) as (platform, _):
        click.echo(documents.issuer_key(platform.settings).public_key)


def _verifiers(specs: tuple[str, ...]) -> list[evidence.Verifier] | None:
    found = []
    for spec in specs:
        path = Path(spec)
        lines = path.read_text().splitlines() if path.is_file() else [spec]
        for line in filter(None, (x.strip() for x in lines)):
            try:
                found.append(evidence.parse_verifier_key(line))
            except ValueError as exc:
                raise click.UsageError(f"--vkey {spec!r}: {exc}") from None
    return found or None


@assets.command()
@click.argument("certificate_file", type=FILE)
@click.option("--vkey", "vkeys", multiple=True, help="The evidence log's verifier key or a file.")
@click.option("--trust", help="The issuer's public key (base64) to require.")
def verify(certificate_file: Path, vkeys: tuple[str, ...], trust: str | None) -> None:
    """Verify a certificate PDF offline; exit 0 only if every check passes.

    Checks the issuer's signature, the evidence receipt against the log key (--vkey), that
    the visible page says exactly what was signed, and the validity period.
    """
    try:
        pinned = base64.b64decode(trust, validate=True) if trust else None
    except ValueError:
        raise click.UsageError("--trust is not base64") from None
    verifiers = _verifiers(vkeys)
    try:
        result = verify_pdf(certificate_file.read_bytes(), verifiers, pinned)
    except DocumentInvalid as exc:
        click.echo(f"FAILED: {exc.code}: {exc.en}\n        {exc.zh}", err=True)
        sys.exit(1)
    for line in result.checks:
        click.echo(line)
    for line in result.warnings:
        click.echo(f"warning: {line}", err=True)
    failed = verifiers is None or bool(result.warnings)
    if failed:
        click.echo(
            "NOT VERIFIED: the evidence receipt was not checked (give --vkey) or is missing",
            err=True,
        )
        sys.exit(1)
    click.echo(f"certificate {result.number} held by {result.holder}: OK")


__all__ = ["assets"]
