"""From exact cell aggregates to a released answer (结果发布): noise, threshold, means.

The cells are the cartesian product of the grouped dimensions' **public** domains, in
declared order, whether or not the data has rows there: which cells exist says nothing
about the data. The query's ε is split evenly over the primitive statistics it needs —
the distinct-person count (always: it decides the k threshold), the row count (for COUNT
and AVG) and one clamped sum per measure — each a vector over all cells, noised once. A
cell whose noisy person count is below k is suppressed (nulls); since the threshold is
applied to a noisy value it is post-processing and costs no extra privacy.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shuchang.domains.compute import dp
from shuchang.domains.compute import plan as p
from shuchang.domains.compute.schemas import ResultOut, StatisticOut


@dataclass(frozen=True)
class Privacy:
    """The profile's knobs for one release."""

    epsilon: float
    k: int
    bound: int
    mechanism: dp.Mechanism = "laplace"
    delta: float = 1e-9


def cells(plan: p.Plan, catalogue: p.Catalogue) -> list[tuple[p.Value, ...]]:
    domains = [list(catalogue.dimensions[g].domain()) for g in plan.group_by]
    return [tuple(c) for c in itertools.product(*domains)]


def _exact(
    rows: Sequence[Sequence[Any]], keys: list[tuple[p.Value, ...]], width: int, measures: int
) -> tuple[list[int], list[int], list[list[float | int]]]:
    """Per cell: rows, persons and each measure's sum (zeros where the data has none)."""
    index = {key: i for i, key in enumerate(keys)}
    n_rows, n_persons = [0] * len(keys), [0] * len(keys)
    sums: list[list[float | int]] = [[0] * len(keys) for _ in range(measures)]
    for row in rows:
        i = index.get(tuple(row[:width]))
        if i is None:  # NULL or a value outside the public domain: never released
            continue
        n_rows[i], n_persons[i] = int(row[width]), int(row[width + 1])
        for j in range(measures):
            value = row[width + 2 + j]
            sums[j][i] = value if value is not None else 0
    return n_rows, n_persons, sums


def _stat(name: str, kind: str, r: dp.Release) -> StatisticOut:
    return StatisticOut(name, kind, r.mechanism, r.epsilon, r.delta, r.scale, r.sensitivity)


def release(
    plan: p.Plan,
    catalogue: p.Catalogue,
    rows: Sequence[Sequence[Any]],
    privacy: Privacy,
) -> ResultOut:
    """The private answer to ``plan`` from the sandbox's exact ``rows``."""
    keys = cells(plan, catalogue)
    width, measures = len(plan.group_by), plan.measures
    n_rows, n_persons, sums = _exact(rows, keys, width, len(measures))
    parts = 1 + int(plan.counts_rows) + len(measures)
    share = privacy.epsilon / parts
    c = privacy.bound
    persons = dp.laplace_counts(n_persons, c, share)
    counted = dp.laplace_counts(n_rows, c, share) if plan.counts_rows else None
    summed: dict[str, dp.Release] = {}
    for j, name in enumerate(measures):
        spec = catalogue.measures[name]
        summed[name] = dp.noisy_sums(
            sums[j],
            c * spec.bound,
            share,
            mechanism=privacy.mechanism,
            delta=privacy.delta,
            integer=spec.integer,
        )
    suppressed = [int(v) < privacy.k for v in persons.values]
    out_rows = [
        _row(plan, catalogue, key, i, suppressed[i], counted, summed) for i, key in enumerate(keys)
    ]
    statistics = [_stat("persons (k threshold)", "persons", persons)]
    statistics += _statistics(plan, counted, summed)
    delta = sum(s.delta for s in statistics)
    return ResultOut(
        columns=[o if isinstance(o, str) else o.alias for o in plan.output],
        rows=out_rows,
        suppressed=suppressed,
        statistics=statistics,
        epsilon=privacy.epsilon,
        delta=delta,
        k=privacy.k,
        contribution_bound=c,
        cached=False,
    )


def _statistics(
    plan: p.Plan, counted: dp.Release | None, summed: dict[str, dp.Release]
) -> list[StatisticOut]:
    out: list[StatisticOut] = []
    if counted is not None:
        out.append(_stat("rows", "count", counted))
    out.extend(_stat(f"sum({name})", "sum", r) for name, r in summed.items())
    return out


def _row(  # noqa: PLR0917 - one cell's inputs, called from one place
    plan: p.Plan,
    catalogue: p.Catalogue,
    key: tuple[p.Value, ...],
    i: int,
    suppressed: bool,
    counted: dp.Release | None,
    summed: dict[str, dp.Release],
) -> list[Any]:
    out: list[Any] = []
    for item in plan.output:
        if isinstance(item, str):
            out.append(key[plan.group_by.index(item)])
        elif suppressed:
            out.append(None)
        else:
            out.append(_value(item, catalogue, i, counted, summed))
    return out


def _value(
    s: p.Statistic,
    catalogue: p.Catalogue,
    i: int,
    counted: dp.Release | None,
    summed: dict[str, dp.Release],
) -> float | int:
    n = max(int(counted.values[i]), 0) if counted is not None else 0
    if s.kind == "count":
        return n
    assert s.measure is not None
    total = summed[s.measure].values[i]
    if s.kind == "sum":
        return total
    spec = catalogue.measures[s.measure]
    mean = float(total) / max(n, 1)
    return min(max(mean, spec.lower), spec.upper)  # post-processing into the clamp range
