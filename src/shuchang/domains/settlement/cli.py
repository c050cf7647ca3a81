"""`shuchang settlement …`: orders, sharing rules, running a month, statements, transfers,
reconciliation, records and their offline verification.

Commands act as the platform (``system``, with the operator's powers) on the configured
database, except ``verify``, which needs no database at all.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from shuchang.clikit import decode, emit, problems_exit, unit
from shuchang.domains.participants import SYSTEM, Actor
from shuchang.domains.settlement import (
    batches,
    exports,
    ledger,
    orders,
    payouts,
    reconciliation,
    records,
    sharing,
    upstreams,
    views,
)
from shuchang.domains.settlement.rail import rail_for
from shuchang.domains.settlement.schemas import RuleIn, UpstreamIn
from shuchang.platform import Platform
from shuchang.settings import Settings

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
OUT = click.Path(dir_okay=False, path_type=Path)


@click.group()
def settlement() -> None:
    """Trading and settlement (交易与清结算): orders, clearing, payouts, records."""


@settlement.group("orders")
def orders_group() -> None:
    """Orders (订单), one per concluded agreement."""


@orders_group.command("sync")
@problems_exit
def orders_sync() -> None:
    """Make an order for every concluded agreement that has none (idempotent)."""
    with unit() as (_, s):
        emit(orders.sync(s, SYSTEM))


@orders_group.command("list")
@click.option("--participant", "participant_id", type=click.UUID, help="Only this party's.")
@problems_exit
def orders_list(participant_id: uuid.UUID | None) -> None:
    with unit(write=False) as (_, s):
        emit(orders.list_orders(s, SYSTEM, participant_id))


@settlement.group("rules")
def rules_group() -> None:
    """Revenue-sharing rules (收益分配规则), versioned by the month they take effect."""


@rules_group.command("list")
@problems_exit
def rules_list() -> None:
    with unit(write=False) as (_, s):
        emit(sharing.list_rules(s, SYSTEM))


@rules_group.command("set")
@click.argument("rule_file", type=FILE)
@problems_exit
def rules_set(rule_file: Path) -> None:
    """Set a new version from a JSON file (same shape as POST /api/v1/settlement/rules)."""
    data = decode(rule_file.read_bytes(), RuleIn, "rules")
    with unit() as (_, s):
        emit(sharing.set_rule(s, SYSTEM, data))


@settlement.command("upstream")
@click.argument("request_file", type=FILE)
@click.option("--as", "provider_id", type=click.UUID, required=True, help="The provider.")
@problems_exit
def upstream(request_file: Path, provider_id: uuid.UUID) -> None:
    """Declare an upstream product of a provider's product (POST /api/v1/settlement/upstreams)."""
    data = decode(request_file.read_bytes(), UpstreamIn, "upstream")
    with unit() as (_, s):
        emit(upstreams.declare(s, Actor(participant_id=provider_id, role="provider"), data))


@contextmanager
def _platform() -> Iterator[Platform]:
    """The platform on the configured (migrated) database, for commands that open their own
    transactions (a run clears and pays in several)."""
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


@settlement.command("run")
@click.argument("period")
@click.option("--no-pay", is_flag=True, help="Clear only; pay later with `settlement pay`.")
@problems_exit
def run(period: str, no_pay: bool) -> None:
    """Clear the month PERIOD (YYYY-MM, China time) and pay it; safe to run again."""
    with _platform() as platform:
        emit(batches.run(platform, SYSTEM, period, pay=not no_pay))


@settlement.command("pay")
@click.argument("period")
@problems_exit
def pay(period: str) -> None:
    """Pay (or finish paying) a cleared month."""
    with _platform() as platform:
        emit(batches.pay(platform, SYSTEM, period))


@settlement.command("batches")
@problems_exit
def list_batches() -> None:
    with unit(write=False) as (_, s):
        emit(batches.list_batches(s, SYSTEM))


@settlement.command("statement")
@click.argument("period")
@click.option("--participant", "participant_id", type=click.UUID, help="One participant's.")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json")
@click.option("-o", "--output", type=OUT, help="Write to a file instead of stdout.")
@problems_exit
def statement(period: str, participant_id: uuid.UUID | None, fmt: str, output: Path | None) -> None:
    """Statements of a month (结算单): JSON, or CSV for one participant."""
    with unit(write=False) as (_, s):
        found = batches.statements(s, SYSTEM, period, participant_id)
    if fmt == "csv":
        if participant_id is None or not found:
            raise click.UsageError("CSV is per participant: name one with --participant")
        text = exports.statement_csv(found[0])
    else:
        import msgspec

        text = json.dumps(msgspec.to_builtins(found), ensure_ascii=False, indent=2) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@settlement.command("transfers")
@click.argument("period")
@problems_exit
def transfers(period: str) -> None:
    """The month's collections and payouts and their rail references."""
    with unit(write=False) as (_, s):
        emit(payouts.list_transfers(s, batches.load_batch(s, period).id))


@settlement.command("reconcile")
@click.argument("period")
@problems_exit
def reconcile(period: str) -> None:
    """Compare metering, invoices, the ledger and the rail; exit 1 if anything is wrong."""
    with unit() as (platform, s):
        rail = rail_for(platform.settings.settlement_rail, platform.unit)
        report = reconciliation.reconcile(s, SYSTEM, period, rail)
    emit(report)
    sys.exit(0 if report.ok else 1)


@settlement.command("records")
@click.option("--period")
@click.option("--agreement", "agreement_id", type=click.UUID)
@problems_exit
def list_records(period: str | None, agreement_id: uuid.UUID | None) -> None:
    """Filings and vouchers (without their documents' bodies: `settlement record ID`)."""
    with unit(write=False) as (_, s):
        found = views.list_records(s, SYSTEM, period=period, agreement_id=agreement_id)
    for r in found:
        click.echo(f"{r.id}  {r.kind:<7} {r.period}  agreement {r.agreement_id}  {r.sha256[:16]}")


@settlement.command("record")
@click.argument("record_id", type=click.UUID)
@click.option("-o", "--output", type=OUT, help="Write the document to a file.")
@problems_exit
def record(record_id: uuid.UUID, output: Path | None) -> None:
    """One filing or voucher as a file to hand over (evidence attached once sequenced)."""
    with unit(write=False) as (_, s):
        doc = views.get_record(s, SYSTEM, record_id).document
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None


@settlement.command("verify")
@click.argument("document", type=FILE)
@click.option(
    "--vkey", "vkeys", multiple=True, help="The evidence log's verifier key (GET /tlog/vkey)."
)
@click.option(
    "--trust", help="The settlement public key (base64) the document must be signed with."
)
@click.option("--leaf", type=FILE, help="The log entry's leaf (default: attached to the document).")
@click.option("--receipt", type=FILE, help="Its tlog-proof receipt (default: attached).")
def verify(
    document: Path,
    vkeys: tuple[str, ...],
    trust: str | None,
    leaf: Path | None,
    receipt: Path | None,
) -> None:
    """Verify a filing or voucher offline: its signature and its place in the evidence log."""
    import base64

    from shuchang.domains import evidence

    try:
        doc = json.loads(_read(document))
        trusted = base64.b64decode(trust, validate=True) if trust else None
        verifiers = [evidence.parse_verifier_key(v) for v in vkeys]
    except ValueError as exc:
        raise click.ClickException(f"bad input: {exc}") from None
    try:
        lines = records.verify(
            doc,
            trusted=trusted,
            verifiers=verifiers,
            leaf=_read(leaf) if leaf else None,
            receipt=_read(receipt) if receipt else None,
        )
    except records.RecordInvalid as exc:
        click.echo(
            json.dumps(
                {"code": exc.code, "message_en": exc.en, "message_zh": exc.zh}, ensure_ascii=False
            ),
            err=True,
        )
        sys.exit(1)
    for line in lines:
        click.echo(line)


@settlement.command("balances")
@click.option("--participant", "participant_id", type=click.UUID)
@problems_exit
def balances(participant_id: uuid.UUID | None) -> None:
    """Ledger balances, each summed from the journal lines."""
    with unit(write=False) as (_, s):
        emit(ledger.balances(s, SYSTEM, participant_id))


@settlement.command("reverse")
@click.argument("entry_id", type=click.UUID)
@click.option("--reason", required=True)
@problems_exit
def reverse(entry_id: uuid.UUID, reason: str) -> None:
    """Reverse a journal entry (冲正) by posting its negation."""
    with unit() as (_, s):
        emit(ledger.reverse(s, SYSTEM, entry_id, reason))


@settlement.command("key")
def key() -> None:
    """The public key filings and vouchers are signed with."""
    emit(records.public_key(Settings.from_env()))
