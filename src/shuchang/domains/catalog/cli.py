"""`shuchang catalog …`: resources, bulk import, products, review and search from the shell.

Commands act as the platform (``system``); provider-side commands name the provider with
``--as PARTICIPANT_ID`` so the same ownership rules apply as through the API.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import click

from shuchang.clikit import decode, emit, problems_exit, unit
from shuchang.domains import compliance
from shuchang.domains.catalog import bulk, products, resources, search
from shuchang.domains.catalog.schemas import ProductIn, ResourceIn, ReviewDecision
from shuchang.domains.participants import SYSTEM, Actor, find
from shuchang.errors import NotFound, PermissionDenied

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _provider(session: object, participant_id: uuid.UUID) -> Actor:
    """Act as this provider (the CLI runs with database access, i.e. as the platform)."""
    member = find(session, participant_id)  # type: ignore[arg-type]
    if member is None:
        raise NotFound("Participant not found", "参与方不存在", code="participant.not_found")
    if member.status != "active" or "provider" not in member.roles:
        raise PermissionDenied(
            "The participant is not an active provider",
            "该参与方不是已启用的提供方",
            code="resource.provider_invalid",
        )
    return Actor(participant_id=member.id, role="provider")


@click.group()
def catalog() -> None:
    """Resource catalog (资源目录) and product listing (产品上架)."""


@catalog.command("add-resource")
@click.argument("request_file", type=FILE)
@click.option(
    "--provider", "provider_id", type=click.UUID, required=True, help="Provider participant id."
)
@problems_exit
def add_resource(request_file: Path, provider_id: uuid.UUID) -> None:
    """Register a resource from a JSON file (same shape as POST /api/v1/catalog/resources)."""
    data = decode(request_file.read_bytes(), ResourceIn, "resource")
    with unit() as (_, s):
        emit(resources.register(s, _provider(s, provider_id), data))


@catalog.command("import")
@click.argument("source", type=FILE)
@click.option("--provider", "provider_id", type=click.UUID, required=True)
@click.option("--partial", is_flag=True, help="Import the good rows even if some are bad.")
@problems_exit
def import_(source: Path, provider_id: uuid.UUID, partial: bool) -> None:
    """Bulk import resources from a .json (array) or .csv file; reports every bad row."""
    body = source.read_bytes()
    rows = bulk.parse_csv(body) if source.suffix.lower() == ".csv" else bulk.parse_json(body)
    with unit() as (_, s):
        report = bulk.import_resources(s, _provider(s, provider_id), rows, partial=partial)
    for error in report.errors:
        click.echo(f"row {error.row}: {error.field or '-'}: {error.message_en}", err=True)
    click.echo(f"imported {report.imported}, rejected {report.rejected}")
    sys.exit(1 if report.rejected else 0)


@catalog.command("resource")
@click.argument("resource_id", type=click.UUID)
@click.option("--version", type=click.IntRange(1))
@problems_exit
def show_resource(resource_id: uuid.UUID, version: int | None) -> None:
    """Show a resource (any version)."""
    with unit(write=False) as (_, s):
        emit(resources.get(s, SYSTEM, resource_id, version))


@catalog.command("add-product")
@click.argument("request_file", type=FILE)
@click.option("--provider", "provider_id", type=click.UUID, required=True)
@click.option("--submit", is_flag=True, help="Submit for review right away.")
@problems_exit
def add_product(request_file: Path, provider_id: uuid.UUID, submit: bool) -> None:
    """Draft a product from a JSON file (same shape as POST /api/v1/catalog/products)."""
    data = decode(request_file.read_bytes(), ProductIn, "product")
    with unit() as (_, s):
        actor = _provider(s, provider_id)
        product = products.create(s, actor, data)
        emit(products.submit(s, actor, product.id) if submit else product)


@catalog.command("review")
@click.argument("product_id", type=click.UUID)
@click.option("--approve", "decision", flag_value="approve", help="List the product.")
@click.option("--return", "decision", flag_value="return", help="Return it to the provider.")
@click.option("--reason", "reasons", multiple=True, help="Why (repeatable; required to return).")
@problems_exit
def review(product_id: uuid.UUID, decision: str | None, reasons: tuple[str, ...]) -> None:
    """Approve or return a submitted product (as the operator)."""
    if decision is None:
        raise click.UsageError("say --approve or --return")
    choice = ReviewDecision(decision=decision, reasons=list(reasons))  # type: ignore[arg-type]
    with unit() as (platform, s):
        gate = compliance.require_passed if platform.settings.listing_requires_compliance else None
        emit(products.review(s, SYSTEM, product_id, choice, platform.settings.reviewers, gate=gate))


@catalog.command("queue")
@problems_exit
def queue() -> None:
    """Products waiting for review."""
    with unit(write=False) as (platform, s):
        emit(products.review_queue(s, SYSTEM, platform.settings.reviewers))


@catalog.command("search")
@click.argument("query", required=False)
@click.option("--type", "doc_type", type=click.Choice(["resource", "product"]))
@click.option("--classification", type=click.Choice(["general", "important", "core"]))
@click.option("--industry")
@click.option("--limit", type=click.IntRange(1, 100), default=20)
@problems_exit
def search_command(
    query: str | None,
    doc_type: str | None,
    classification: str | None,
    industry: str | None,
    limit: int,
) -> None:
    """Full-text search (Chinese or English) with filters, as the operator sees the catalog."""
    q = search.Query(
        q=query,
        doc_type=doc_type,
        classification=classification,
        industry=industry,
        limit=limit,
        facets=False,
    )
    with unit(write=False) as (_, s):
        emit(search.run(s, q, None, oversight=True).items)
