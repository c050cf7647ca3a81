"""Routes of the settlement domain (交易与清结算): thin, over the same functions as the CLI."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

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
from shuchang.domains.settlement.schemas import (
    BalanceOut,
    BatchOut,
    BatchStatus,
    EntryOut,
    InvoiceOut,
    MonthValue,
    OrderOut,
    ReconciliationOut,
    RecordOut,
    Reversal,
    RuleIn,
    RuleOut,
    RunOut,
    StatementOut,
    TransferOut,
    UpstreamIn,
    UpstreamOut,
)
from shuchang.errors import NotFound
from shuchang.http import actor_of, platform_of

Req = Request[Any, Any, Any]
Period = Annotated[str | None, QueryParameter(pattern=r"^\d{4}-\d{2}$")]
Id = Annotated[uuid.UUID | None, QueryParameter()]


class Overview(msgspec.Struct, frozen=True):
    months: list[MonthValue]
    batches: list[BatchStatus]


class SettlementController(Controller):
    path = "/api/v1/settlement"
    tags = ["settlement"]

    @get("/orders", sync_to_thread=True, summary="Orders (one per concluded agreement)")
    def list_orders(self, request: Req, participant_id: Id = None) -> list[OrderOut]:
        with platform_of(request).unit(write=False) as s:
            return orders.list_orders(s, actor_of(s, request), participant_id)

    @post("/orders/sync", sync_to_thread=True, status_code=200, summary="Order new agreements")
    def sync_orders(self, request: Req) -> orders.SyncOut:
        """Make an order for every concluded agreement without one (operator; idempotent)."""
        with platform_of(request).unit() as s:
            return orders.sync(s, actor_of(s, request))

    @get("/orders/{order_id:uuid}", sync_to_thread=True)
    def order(self, request: Req, order_id: FromPath[uuid.UUID]) -> OrderOut:
        with platform_of(request).unit(write=False) as s:
            return orders.get_order(s, actor_of(s, request), order_id)

    @get("/invoices", sync_to_thread=True, summary="Invoices with net, VAT, gross and shares")
    def invoices(
        self,
        request: Req,
        period: Period = None,
        order_id: Id = None,
        participant_id: Id = None,
    ) -> list[InvoiceOut]:
        with platform_of(request).unit(write=False) as s:
            actor = actor_of(s, request)
            return batches.invoices(
                s, actor, period=period, order_id=order_id, participant_id=participant_id
            )

    @get("/rules", sync_to_thread=True, summary="Revenue-sharing rules, newest version first")
    def rules(self, request: Req) -> list[RuleOut]:
        with platform_of(request).unit(write=False) as s:
            return sharing.list_rules(s, actor_of(s, request))

    @post("/rules", sync_to_thread=True, summary="Set a new version of the sharing rules")
    def set_rules(self, request: Req, data: JSONBody[RuleIn]) -> RuleOut:
        with platform_of(request).unit() as s:
            return sharing.set_rule(s, actor_of(s, request), data)

    @get("/upstreams", sync_to_thread=True, summary="Declared upstream sources (lineage)")
    def list_upstreams(self, request: Req, product_id: Id = None) -> list[UpstreamOut]:
        with platform_of(request).unit(write=False) as s:
            return upstreams.list_upstreams(s, actor_of(s, request), product_id)

    @post("/upstreams", sync_to_thread=True, summary="Declare an upstream product")
    def declare(self, request: Req, data: JSONBody[UpstreamIn]) -> UpstreamOut:
        with platform_of(request).unit() as s:
            return upstreams.declare(s, actor_of(s, request), data)

    @delete("/upstreams/{product_id:uuid}/{upstream_id:uuid}", sync_to_thread=True, status_code=200)
    def withdraw(
        self, request: Req, product_id: FromPath[uuid.UUID], upstream_id: FromPath[uuid.UUID]
    ) -> UpstreamOut:
        with platform_of(request).unit() as s:
            return upstreams.withdraw(s, actor_of(s, request), product_id, upstream_id)

    @post("/periods/{period:str}/run", sync_to_thread=True, status_code=200)
    def run(
        self,
        request: Req,
        period: FromPath[str],
        pay: Annotated[bool, QueryParameter()] = True,
    ) -> RunOut:
        """Clear the month (once) and pay it (resuming after any interruption); operator."""
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            actor = actor_of(s, request)
        return batches.run(platform, actor, period, pay=pay)

    @post("/periods/{period:str}/pay", sync_to_thread=True, status_code=200)
    def pay(self, request: Req, period: FromPath[str]) -> RunOut:
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            actor = actor_of(s, request)
        return batches.pay(platform, actor, period)

    @get("/batches", sync_to_thread=True, summary="Settlement batches, newest month first")
    def list_batches(self, request: Req) -> list[BatchOut]:
        with platform_of(request).unit(write=False) as s:
            return batches.list_batches(s, actor_of(s, request))

    @get("/batches/{period:str}", sync_to_thread=True)
    def batch(self, request: Req, period: FromPath[str]) -> BatchOut:
        with platform_of(request).unit(write=False) as s:
            return batches.get_batch(s, actor_of(s, request), period)

    @get("/batches/{period:str}/statements", sync_to_thread=True)
    def statements(
        self, request: Req, period: FromPath[str], participant_id: Id = None
    ) -> list[StatementOut]:
        """All statements for oversight; a participant gets its own."""
        with platform_of(request).unit(write=False) as s:
            return batches.statements(s, actor_of(s, request), period, participant_id)

    @get("/batches/{period:str}/statements/{participant_id:uuid}", sync_to_thread=True)
    def statement(
        self,
        request: Req,
        period: FromPath[str],
        participant_id: FromPath[uuid.UUID],
        format: Annotated[Literal["json", "csv"], QueryParameter()] = "json",
    ) -> Response[Any]:
        """One statement as JSON, or as CSV (``?format=csv``) for accounting systems."""
        with platform_of(request).unit(write=False) as s:
            found = batches.statements(s, actor_of(s, request), period, participant_id)
        if not found or found[0].participant_id != participant_id:
            raise NotFound("No statement", "没有该结算单", code="settlement.statement_not_found")
        if format == "csv":
            name = f"statement-{period}-{participant_id}.csv"
            return Response(
                exports.statement_csv(found[0]),
                media_type="text/csv; charset=utf-8",
                headers={"content-disposition": f'attachment; filename="{name}"'},
            )
        return Response(found[0])

    @get("/batches/{period:str}/transfers", sync_to_thread=True)
    def transfers(self, request: Req, period: FromPath[str]) -> list[TransferOut]:
        with platform_of(request).unit(write=False) as s:
            actor = actor_of(s, request)
            batch = batches.load_batch(s, period)
            found = payouts.list_transfers(s, batch.id)
        if actor.role in ("operator", "regulator"):
            return found
        return [t for t in found if t.participant_id == actor.participant_id]

    @post("/batches/{period:str}/reconcile", sync_to_thread=True, status_code=200)
    def reconcile(self, request: Req, period: FromPath[str]) -> ReconciliationOut:
        """Compare metering, invoices, ledger and rail; store and log the report (operator)."""
        platform = platform_of(request)
        rail = rail_for(platform.settings.settlement_rail, platform.unit)
        with platform.unit() as s:
            return reconciliation.reconcile(s, actor_of(s, request), period, rail)

    @get("/batches/{period:str}/reconciliation", sync_to_thread=True)
    def last_reconciliation(self, request: Req, period: FromPath[str]) -> ReconciliationOut:
        with platform_of(request).unit(write=False) as s:
            return reconciliation.latest(s, actor_of(s, request), period)

    @get("/records", sync_to_thread=True, summary="Transaction filings and vouchers")
    def list_records(
        self,
        request: Req,
        period: Period = None,
        agreement_id: Id = None,
        kind: Annotated[Literal["filing", "voucher"] | None, QueryParameter()] = None,
    ) -> list[RecordOut]:
        """Filings for oversight; vouchers for the invoice's parties too."""
        with platform_of(request).unit(write=False) as s:
            actor = actor_of(s, request)
            return views.list_records(s, actor, period=period, agreement_id=agreement_id, kind=kind)

    @get("/records/{record_id:uuid}", sync_to_thread=True)
    def record(self, request: Req, record_id: FromPath[uuid.UUID]) -> RecordOut:
        """The signed document, with its evidence leaf and receipt once in a checkpoint."""
        with platform_of(request).unit(write=False) as s:
            return views.get_record(s, actor_of(s, request), record_id)

    @get("/ledger/balances", sync_to_thread=True, summary="Account balances, summed from lines")
    def balances(self, request: Req, participant_id: Id = None) -> list[BalanceOut]:
        with platform_of(request).unit(write=False) as s:
            return ledger.balances(s, actor_of(s, request), participant_id)

    @get("/ledger/entries", sync_to_thread=True)
    def entries(self, request: Req, period: Period = None) -> list[EntryOut]:
        with platform_of(request).unit(write=False) as s:
            actor = actor_of(s, request)
            batch_id = batches.load_batch(s, period).id if period else None
            return ledger.entries(s, actor, batch_id)

    @post("/ledger/entries/{entry_id:uuid}/reverse", sync_to_thread=True, status_code=200)
    def reverse(
        self, request: Req, entry_id: FromPath[uuid.UUID], data: JSONBody[Reversal]
    ) -> EntryOut:
        """Post the negation of an entry (冲正); the original is never changed (operator)."""
        with platform_of(request).unit() as s:
            return ledger.reverse(s, actor_of(s, request), entry_id, data.reason)

    @get("/key", sync_to_thread=True, summary="Public key that signs filings and vouchers")
    def key(self, request: Req) -> dict[str, str]:
        return records.public_key(platform_of(request).settings)

    @get("/overview", sync_to_thread=True, summary="Monthly transaction value, batch statuses")
    def overview(
        self, request: Req, months: Annotated[int, QueryParameter(ge=1, le=120)] = 12
    ) -> Overview:
        with platform_of(request).unit(write=False) as s:
            return Overview(*views.overview(s, actor_of(s, request), months))


ROUTES = [SettlementController]
