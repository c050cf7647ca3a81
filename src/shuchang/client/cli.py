"""`shuchang pull`: a product's data into a directory, with progress bars."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import click

from shuchang.client.pull import Puller, PullError


@click.command()
@click.argument("product_id", type=click.UUID)
@click.option(
    "--platform",
    "platform_url",
    default="http://127.0.0.1:8600",
    show_default=True,
    help="Your own platform (its management API).",
)
@click.option(
    "--api-key",
    envvar="SHUCHANG_API_KEY",
    required=True,
    help="Your API key on your platform (or SHUCHANG_API_KEY).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory the files are written to.",
)
@click.option(
    "--provider",
    "provider_id",
    type=click.UUID,
    help="The provider's participant id here (to negotiate when no agreement exists).",
)
@click.option("--provider-catalog", help="The provider's DSP base URL (…/dsp), for its offer.")
@click.option(
    "--provider-key",
    envvar="SHUCHANG_PROVIDER_KEY",
    help="Your API key at the provider (its DSP catalog).",
)
@click.option(
    "--format",
    "table_format",
    type=click.Choice(["csv", "jsonl", "parquet"]),
    default="csv",
    show_default=True,
    help="Format of table parts.",
)
def pull(  # noqa: PLR0917 - click passes each option
    product_id: uuid.UUID,
    platform_url: str,
    api_key: str,
    out_dir: Path,
    provider_id: uuid.UUID | None,
    provider_catalog: str | None,
    provider_key: str | None,
    table_format: str,
) -> None:
    """Pull PRODUCT_ID: negotiate if needed, start a pull transfer, download and verify."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        disable=not os.isatty(2),
    ) as bars:
        tasks: dict[str, int] = {}

        def tick(name: str, done: int, total: int | None) -> None:
            if name not in tasks:
                tasks[name] = int(bars.add_task(name, total=total))
            bars.update(tasks[name], completed=done)  # type: ignore[arg-type]

        puller = Puller(platform_url, api_key, progress=tick)
        try:
            result = puller.pull(
                product_id,
                out_dir,
                provider_id=provider_id,
                provider_catalog=provider_catalog,
                provider_key=provider_key,
                table_format=table_format,
            )
        except PullError as exc:
            raise click.ClickException(str(exc)) from exc
        finally:
            puller.close()
    if result.negotiated:
        click.echo(f"agreement {result.agreement_id} negotiated")
    click.echo(f"transfer {result.transfer_id}")
    for path in result.files:
        click.echo(f"{path}  verified" if path.suffix not in (".csv", ".jsonl") else str(path))
