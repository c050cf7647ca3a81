"""`shuchang compliance …`: the assessors' queue, a product's status, and offline
verification of a compliance certificate."""

from __future__ import annotations

import base64
import sys
import uuid
from pathlib import Path

import click

from shuchang.attestations import DocumentInvalid, open_document
from shuchang.clikit import emit, problems_exit, unit
from shuchang.domains.compliance import views
from shuchang.domains.compliance.service import DOCUMENT_TYPE
from shuchang.domains.participants import SYSTEM

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
def compliance() -> None:
    """Compliance review (合规审核): questionnaires, assessors, certificates."""


@compliance.command()
@click.option("--status", help="submitted, assigned, changes_requested, passed, failed …")
@problems_exit
def queue(status: str | None) -> None:
    """Reviews waiting for (or at) assessors."""
    with unit(write=False) as (_, s):
        emit(views.queue(s, SYSTEM, status))


@compliance.command()
@click.argument("product_id", type=click.UUID)
@problems_exit
def status(product_id: uuid.UUID) -> None:
    """A product's compliance status and its latest round."""
    with unit(write=False) as (_, s):
        emit(views.product_status(s, SYSTEM, product_id))


@compliance.command()
@click.argument("certificate_file", type=FILE)
@click.option("--trust", help="The issuer's public key (base64) to require.")
def verify(certificate_file: Path, trust: str | None) -> None:
    """Verify a compliance certificate (JSON) offline: exit 0 if the signature holds."""
    try:
        pinned = base64.b64decode(trust, validate=True) if trust else None
    except ValueError:
        raise click.UsageError("--trust is not base64") from None
    try:
        body = open_document(certificate_file.read_bytes(), DOCUMENT_TYPE, pinned)
    except DocumentInvalid as exc:
        click.echo(f"FAILED: {exc.code}: {exc.en}\n        {exc.zh}", err=True)
        sys.exit(1)
    if not pinned:
        click.echo(
            "note: unpinned key proves integrity, not the issuer; pin it with --trust", err=True
        )
    product = body.get("product", {})
    click.echo(
        f"compliance certificate {body.get('number')} for {product.get('title')} "
        f"(assessor {body.get('assessor', {}).get('name')}, "
        f"valid until {body.get('validUntil')}): OK"
    )
