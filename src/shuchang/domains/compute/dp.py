"""Differential privacy (差分隐私) with OpenDP's samplers — never numpy's or ``random``.

DuckDB computes each cell's exact count and clamped sums; this module adds noise to the
whole vector of cells at once, calibrated to the vector's sensitivity under the
contribution bound (one person moves at most ``c`` rows):

* counts (rows, distinct persons): **discrete Laplace** on 64-bit integers, L1 sensitivity
  ``c``, scale ``c / ε``;
* clamped sums: **Laplace** (discrete on integers, continuous on decimals), L1 sensitivity
  ``c · max(|L|, |U|)``; or **Gaussian** with L2 sensitivity bounded by the same figure,
  calibrated so its zCDP guarantee converts to (ε, δ);
* means: a noisy sum over a noisy row count (post-processing costs nothing).

OpenDP's ``map`` states the privacy loss of each measurement; the calibrated scale is
checked against it so a rounding slip can never spend more than the ε asked. Integer inputs
are declared ``i64`` (a plain Python ``int`` would become ``i32`` and saturate at
2,147,483,647); sums beyond 2⁶² use the floating-point mechanism.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

I64_SAFE = 2**62
_features = threading.Lock()
_enabled = False


def _dp() -> Any:
    global _enabled  # noqa: PLW0603 - OpenDP's feature switch is process-wide
    import opendp.prelude as dp

    with _features:
        if not _enabled:
            dp.enable_features("contrib")
            _enabled = True
    return dp


@dataclass(frozen=True)
class Release:
    """A noisy vector and how it was made: mechanism, ε, δ, noise scale, sensitivity."""

    values: list[float] | list[int]
    mechanism: str
    epsilon: float
    delta: float
    scale: float
    sensitivity: float


def _checked_scale(make: Any, sensitivity: Any, epsilon: float, scale: float) -> tuple[Any, float]:
    """The measurement at ``scale`` or slightly above, whose stated loss is at most ε."""
    for _ in range(60):
        measurement = make(scale)
        if float(measurement.map(sensitivity)) <= epsilon:
            return measurement, scale
        scale = math.nextafter(scale * (1 + 1e-9), math.inf)
    raise ArithmeticError("could not calibrate the noise scale")


def laplace_counts(values: Sequence[int], sensitivity: int, epsilon: float) -> Release:
    """Discrete Laplace on a vector of non-negative counts (L1 ``sensitivity``)."""
    dp = _dp()
    space = (dp.vector_domain(dp.atom_domain(T="i64")), dp.l1_distance(T="i64"))

    def make(scale: float) -> Any:
        return dp.m.make_laplace(*space, scale=scale)

    measurement, scale = _checked_scale(make, int(sensitivity), epsilon, sensitivity / epsilon)
    noisy = measurement([int(v) for v in values]) if values else []
    return Release(list(noisy), "discrete_laplace", epsilon, 0.0, scale, float(sensitivity))


def laplace_sums(
    values: Sequence[float | int], sensitivity: float, epsilon: float, *, integer: bool
) -> Release:
    """Laplace on clamped sums: discrete on integers that fit i64, else continuous."""
    dp = _dp()
    if integer and sensitivity.is_integer() and all(abs(v) < I64_SAFE for v in values):
        space = (dp.vector_domain(dp.atom_domain(T="i64")), dp.l1_distance(T="i64"))
        d_in: Any = int(sensitivity)
        cast: Any = int
        name = "discrete_laplace"
    else:
        space = (dp.vector_domain(dp.atom_domain(T="f64", nan=False)), dp.l1_distance(T="f64"))
        d_in, cast, name = float(sensitivity), float, "laplace"

    def make(scale: float) -> Any:
        return dp.m.make_laplace(*space, scale=scale)

    measurement, scale = _checked_scale(make, d_in, epsilon, sensitivity / epsilon)
    noisy = measurement([cast(v) for v in values]) if values else []
    return Release(list(noisy), name, epsilon, 0.0, scale, float(sensitivity))


def gaussian_sums(
    values: Sequence[float | int], sensitivity: float, epsilon: float, delta: float
) -> Release:
    """Gaussian noise on clamped sums, calibrated (by bisection on OpenDP's own accounting of
    zCDP → (ε, δ)) to the smallest scale whose ε at ``delta`` is at most ``epsilon``."""
    dp = _dp()
    space = (dp.vector_domain(dp.atom_domain(T="f64", nan=False)), dp.l2_distance(T="f64"))

    def make(scale: float) -> Any:
        gaussian = dp.m.make_gaussian(*space, scale=scale)
        return dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(gaussian), delta)

    def loss(scale: float) -> float:
        return float(make(scale).map(float(sensitivity))[0])

    low, high = 1e-9 * sensitivity, max(sensitivity, 1e-9)
    while loss(high) > epsilon:
        low, high = high, high * 2
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (low, middle) if loss(middle) <= epsilon else (middle, high)
    noisy = make(high)([float(v) for v in values]) if values else []
    return Release(list(noisy), "gaussian", epsilon, delta, high, float(sensitivity))


Mechanism = Literal["laplace", "gaussian"]


def noisy_sums(
    values: Sequence[float | int],
    sensitivity: float,
    epsilon: float,
    *,
    mechanism: Mechanism,
    delta: float,
    integer: bool,
) -> Release:
    if mechanism == "gaussian":
        return gaussian_sums(values, sensitivity, epsilon, delta)
    return laplace_sums(values, sensitivity, epsilon, integer=integer)
