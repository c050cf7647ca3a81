"""Rows the supervision tests seed directly (one factory per model): agreements with their
negotiation, transfer processes and usage records, with known prices and times, so every
indicator can be checked against figures computed by hand."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from shuchang.domains.contracts.models import Agreement, Negotiation
from shuchang.domains.dataplane.models import UsageRecord
from shuchang.domains.transfers.models import TransferProcess
from shuchang.platform import Platform


def agreement(
    platform: Platform,
    provider_id: uuid.UUID,
    consumer_id: uuid.UUID,
    *,
    price_model: str,
    price_fen: int,
    concluded: datetime,
    days: int = 365,
    period: str | None = None,
) -> uuid.UUID:
    with platform.unit() as s:
        n = Negotiation(
            role="provider",
            provider_pid=f"urn:uuid:{uuid.uuid4()}",
            consumer_pid=f"urn:uuid:{uuid.uuid4()}",
            state="FINALIZED",
            local_participant_id=provider_id,
            counterparty_id=consumer_id,
            dataset_id="d",
            offer={},
            callback_address="https://c.example.cn/dsp",
            created_at=concluded,
            updated_at=concluded,
        )
        s.add(n)
        s.flush()
        a = Agreement(
            negotiation_id=n.id,
            provider_id=provider_id,
            consumer_id=consumer_id,
            dataset_id="d",
            document={
                "@id": f"urn:uuid:{uuid.uuid4()}",
                "shuchang:price": {
                    "model": price_model,
                    "amountFen": str(price_fen),
                    "period": period,
                },
            },
            signatures=[],
            purpose="小微企业信贷风险评估",
            valid_from=concluded,
            valid_until=concluded + timedelta(days=days),
            price_model=price_model,
            price_fen=price_fen,
            status="active",
            created_at=concluded,
        )
        s.add(a)
        s.flush()
        return a.id


def transfer(platform: Platform, agreement_id: uuid.UUID, who: uuid.UUID, state: str) -> uuid.UUID:
    with platform.unit() as s:
        t = TransferProcess(
            role="provider",
            provider_pid=f"urn:uuid:{uuid.uuid4()}",
            consumer_pid=f"urn:uuid:{uuid.uuid4()}",
            state=state,
            local_participant_id=who,
            counterparty_id=who,
            agreement_id=agreement_id,
            transfer_type="HttpData-PULL",
            callback_address="https://c.example.cn/dsp",
        )
        s.add(t)
        s.flush()
        return t.id


def usage(
    platform: Platform,
    agreement_id: uuid.UUID,
    transfer_id: uuid.UUID,
    consumer: uuid.UUID,
    at: datetime,
    *,
    permitted: int,
    denied: int = 0,
) -> None:
    with platform.unit() as s:
        s.add_all(
            UsageRecord(
                agreement_id=agreement_id,
                transfer_id=transfer_id,
                consumer_id=consumer,
                method="GET",
                path="/claims",
                permitted=ok,
                outcome="delivered" if ok else "denied",
                status=200 if ok else 403,
                started_at=at,
            )
            for ok in [True] * permitted + [False] * denied
        )
