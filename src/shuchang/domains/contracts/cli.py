"""`shuchang contracts …`: connector keys, offline verification of signed agreements."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import IO

import click

from shuchang.domains.contracts import agreements
from shuchang.ports import Ed25519Signer, fingerprint


@click.group()
def contracts() -> None:
    """Digital contracts (数字合约): connector keys and agreement verification."""


@contracts.command()
@click.argument("key_file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def keygen(key_file: Path) -> None:
    """Create a connector signing key (base64 seed, mode 600); print its public key.

    Register the public key as a key of the connector's participant here and at every peer.
    """
    if key_file.exists():
        raise click.ClickException(f"{key_file} exists; refusing to overwrite a key")
    signer = Ed25519Signer()
    key_file.write_text(base64.b64encode(signer.seed()).decode() + "\n")
    key_file.chmod(0o600)
    public = signer.public_key()
    click.echo(
        json.dumps({"public_key": base64.b64encode(public).decode(), "keyid": fingerprint(public)})
    )


@contracts.command()
@click.argument("agreement_file", type=click.File("rb"))
@click.option(
    "--trust",
    "trusted",
    multiple=True,
    metavar="URN=BASE64KEY",
    help="Pin a party's public key (repeatable).",
)
def verify(agreement_file: IO[bytes], trusted: tuple[str, ...]) -> None:
    """Verify a signed agreement file offline: exit 0 if both parties' signatures hold."""
    pins: dict[str, bytes] = {}
    for item in trusted:
        urn, _, key = item.partition("=")
        try:
            pins[urn] = base64.b64decode(key, validate=True)
        except ValueError:
            raise click.UsageError(f"--trust {item!r}: the key is not base64") from None
    try:
        doc = json.loads(agreement_file.read())
        lines = agreements.verify_document(doc, pins)
    except ValueError as exc:
        click.echo(f"FAILED: not JSON: {exc}", err=True)
        sys.exit(1)
    except agreements.AgreementInvalid as exc:
        click.echo(f"FAILED: {exc.code}: {exc.en}", err=True)
        sys.exit(1)
    for line in lines:
        click.echo(line)
    if any("unpinned" in line for line in lines):
        click.echo(
            "note: unpinned keys prove integrity, not identity; pin them with --trust", err=True
        )
    agreement = doc["agreement"]
    parties = f"{agreement.get('assigner')} and {agreement.get('assignee')}"
    click.echo(f"agreement {agreement.get('@id')} between {parties}: OK")
