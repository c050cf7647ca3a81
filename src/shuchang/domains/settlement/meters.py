"""Meters (计量来源): where billable uses come from, each counted in the database.

A meter turns one period's metered uses into quantities per agreement (``{"call": n,
"row": m}``) plus what it did not bill and why. There are two: the data plane's usage
records (API requests, file and table downloads, pushes) and compute jobs (a released
computation is one ``"call"`` of a compute-only product; its rows never leave, so it has no
``"row"``). Pricing bills whatever unit a price model names.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Select
from sqlalchemy.orm import Session

from shuchang.domains import compute, dataplane
from shuchang.domains.settlement.periods import Period


@dataclass
class Metered:
    """What one meter counted for one agreement in a period."""

    meter: str
    agreement_id: uuid.UUID
    records: int
    quantities: dict[str, int]
    unknown: int = 0
    upstream_failed: int = 0
    error_status: int = 0
    denied: int = 0
    unsealed: int = 0
    first_id: int = 0
    last_id: int = 0
    sealed_in: dict[int, int] = field(default_factory=dict)  # sealed batch → evidence entry


class Meter(Protocol):
    name: str

    def usage(
        self,
        session: Session,
        period: Period,
        agreements: Select[Any] | None = None,
        excluding: Select[Any] | None = None,
    ) -> dict[uuid.UUID, Metered]: ...


class DataplaneMeter:
    """Data requests through the connector gateway (calls and rows of billable requests)."""

    name = "dataplane"

    def usage(
        self,
        session: Session,
        period: Period,
        agreements: Select[Any] | None = None,
        excluding: Select[Any] | None = None,
    ) -> dict[uuid.UUID, Metered]:
        found = dataplane.period_usage(
            session, period.start, period.end, agreements=agreements, excluding=excluding
        )
        return {
            a: Metered(
                self.name,
                a,
                u.records,
                {"call": u.calls, "row": u.rows},
                u.unknown,
                u.upstream_failed,
                u.error_status,
                u.denied,
                u.unsealed,
                u.first_id,
                u.last_id,
                dict(u.sealed_in),
            )
            for a, u in found.items()
        }


class ComputeMeter:
    """Computations under compute-only agreements: a released job is a call; answers from the
    cache are free; failed and cancelled jobs are reported, not billed."""

    name = "compute"

    def usage(
        self,
        session: Session,
        period: Period,
        agreements: Select[Any] | None = None,
        excluding: Select[Any] | None = None,
    ) -> dict[uuid.UUID, Metered]:
        found = compute.period_jobs(
            session, period.start, period.end, agreements=agreements, excluding=excluding
        )
        return {
            a: Metered(
                self.name,
                a,
                u.jobs,
                {"call": u.released},
                error_status=u.failed + u.cancelled,
            )
            for a, u in found.items()
        }


METERS: tuple[Meter, ...] = (DataplaneMeter(), ComputeMeter())


def usage(
    session: Session,
    period: Period,
    agreements: Select[Any] | None = None,
    excluding: Select[Any] | None = None,
) -> dict[uuid.UUID, list[Metered]]:
    """Every meter's count per agreement."""
    out: dict[uuid.UUID, list[Metered]] = {}
    for meter in METERS:
        for agreement_id, metered in meter.usage(session, period, agreements, excluding).items():
            out.setdefault(agreement_id, []).append(metered)
    return out


def quantities(metered: Iterable[Metered]) -> dict[str, int]:
    total: dict[str, int] = {}
    for m in metered:
        for unit, n in m.quantities.items():
            total[unit] = total.get(unit, 0) + n
    return total
