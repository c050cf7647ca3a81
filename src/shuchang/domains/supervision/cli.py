"""`shuchang supervision …`: indicators, CSV export and evidence audits from the shell."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from shuchang.clikit import emit, problems_exit, unit
from shuchang.domains.participants import SYSTEM
from shuchang.domains.supervision import audits, export, indicators, rollup

OUT = click.Path(dir_okay=False, writable=True, path_type=Path)


@click.group()
def supervision() -> None:
    """Supervision (监管): indicators, exports, audits of the evidence log."""


@supervision.command("indicators")
@problems_exit
def show_indicators() -> None:
    """Every indicator as JSON."""
    with unit() as (platform, s):
        rollup.catch_up(s)
        emit(indicators.dashboard(s, SYSTEM, platform.log_signer))


@supervision.command("export")
@click.argument("name", type=click.Choice(indicators.BUILDERS))
@click.option("-o", "--out", type=OUT, required=True, help="CSV file to write (UTF-8, BOM).")
@problems_exit
def export_command(name: str, out: Path) -> None:
    """Write one indicator table as CSV."""
    with unit() as (platform, s):
        rollup.catch_up(s)
        table = indicators.table(s, SYSTEM, platform.log_signer, name)
    out.write_bytes(export.to_csv(table))
    click.echo(f"{len(table.rows)} row(s) of {name} written to {out}")


@supervision.command("audit")
def audit_command() -> None:
    """Audit the evidence log and record the result; exit 1 when damage is found."""
    with unit() as (platform, s):
        result = audits.run(s, SYSTEM, platform.log_signer)
    click.echo(
        f"{result.size} leaves, {result.checkpoints} checkpoints, {result.findings} finding(s)"
    )
    for finding in result.detail:
        click.echo(f"  {finding['kind']} {finding['index']}: {finding['detail']}", err=True)
    click.echo("audit OK" if result.ok else "audit FAILED")
    sys.exit(0 if result.ok else 1)


@supervision.command("rollup")
def rollup_command() -> None:
    """Sum the closed days' data requests into the daily rollup (run nightly, e.g. cron)."""
    with unit() as (_, s):
        days = rollup.catch_up(s)
    click.echo(f"{days} day(s) rolled up")
