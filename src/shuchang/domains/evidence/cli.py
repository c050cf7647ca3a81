"""Database-backed `shuchang tlog …` commands, added to the offline `tlog` group.

The offline commands (keygen, build, verify) need no database; these read or write the
platform's log: sequence, publish, receipt, leaf, audit, export-checkpoint, vkey.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import click

from shuchang.clikit import emit, problems_exit, unit
from shuchang.domains.evidence import log, logview
from shuchang.domains.evidence.audit import audit
from shuchang.domains.evidence.tlog.cli import tlog

OUT = click.Path(dir_okay=False, writable=True, path_type=Path)


@tlog.command()
@click.option("--batch", type=click.IntRange(1, 100_000), default=5000, show_default=True)
def sequence(batch: int) -> None:
    """Sequence all queued evidence into the log and publish a signed checkpoint."""
    with unit() as (platform, s):
        checkpoint = logview.sequence_and_publish(s, platform.log_signer, batch)
    click.echo(checkpoint.note, nl=False)


@tlog.command()
@click.argument("entry_id", type=click.IntRange(1))
@click.option("-o", "--out", type=OUT, help="Write the receipt here (default: stdout).")
@problems_exit
def receipt(entry_id: int, out: Path | None) -> None:
    """The tlog-proof@v1 receipt of evidence entry ENTRY_ID."""
    with unit(write=False) as (_, s):
        body = logview.receipt(s, entry_id)
    if out:
        out.write_bytes(body)
    else:
        sys.stdout.buffer.write(body)


@tlog.command()
@click.argument("entry_id", type=click.IntRange(1))
@click.option("-o", "--out", type=OUT, required=True, help="File for the raw leaf bytes.")
@problems_exit
def leaf(entry_id: int, out: Path) -> None:
    """Write the canonical leaf bytes of ENTRY_ID (the LEAF_FILE `tlog verify` checks)."""
    with unit(write=False) as (_, s):
        found = logview.entry(s, entry_id)
    if found.leaf_data is None:
        raise click.ClickException(f"entry {entry_id} is not sequenced yet")
    out.write_bytes(base64.b64decode(found.leaf_data))
    click.echo(f"leaf {found.leaf_index} written to {out}")


@tlog.command("audit")
def audit_command() -> None:
    """Recompute the whole log from stored leaves; check every checkpoint; name any damage.

    Exit status 0 when the log is intact, 1 with one line per finding otherwise.
    """
    with unit(write=False) as (platform, s):
        signer = platform.log_signer
        report = audit(s, [signer.verifier()], signer.name)
    click.echo(f"log {signer.name}: {report.size} leaves, {report.checkpoints} checkpoints")
    for finding in report.findings:
        click.echo(f"  {finding}", err=True)
    click.echo("audit OK" if report.ok else f"audit FAILED: {len(report.findings)} finding(s)")
    sys.exit(0 if report.ok else 1)


@tlog.command("export-checkpoint")
def export_checkpoint() -> None:
    """Print the latest checkpoint as JSON for anchoring elsewhere (e.g. a consortium chain)."""
    with unit(write=False) as (platform, s):
        latest = log.latest_checkpoint(s)
        if latest is None:
            raise click.ClickException("no checkpoint published yet: run `shuchang tlog sequence`")
        vkey = platform.log_signer.verifier().vkey
        note = logview.served_checkpoint(s)
    assert note is not None
    record = {
        "origin": platform.log_signer.name,
        "size": latest.size,
        "root_sha256_hex": latest.root.hex(),
        "verifier_key": vkey,
        "signed_note": note.decode(),
        "published_at": latest.published_at.isoformat(),
    }
    click.echo(json.dumps(record, ensure_ascii=False, indent=2))


@tlog.command()
def vkey() -> None:
    """Print the log's verifier key (give it to anyone who verifies receipts)."""
    with unit(write=False) as (platform, _):
        click.echo(platform.log_signer.verifier().vkey)


@tlog.command("status")
def status_command() -> None:
    """Log size, queued entries and the latest checkpoint."""
    with unit(write=False) as (platform, s):
        emit(logview.status(s, platform.log_signer))


__all__ = ["tlog"]
