"""OpenDP mechanisms: scale from sensitivity and ε, unbiased, right spread, 64-bit safe.

Statistical checks use enough draws that a false failure is a many-sigma event."""

from __future__ import annotations

import statistics

import pytest

from shuchang.domains.compute import dp

N = 4000


def test_discrete_laplace_counts_are_centred_with_the_stated_scale() -> None:
    r = dp.laplace_counts([1000] * N, 2, 0.5)
    assert r.scale == pytest.approx(4.0) and r.mechanism == "discrete_laplace"
    assert abs(statistics.mean(r.values) - 1000) < 0.6  # σ of the mean ≈ 0.09
    assert statistics.pvariance(r.values) == pytest.approx(2 * 4.0**2, rel=0.2)
    assert all(isinstance(v, int) for v in r.values)


def test_counts_beyond_32_bits_do_not_saturate() -> None:
    big = 10_000_000_000
    r = dp.laplace_counts([big], 1, 1.0)
    assert abs(r.values[0] - big) < 1000


def test_integer_sums_beyond_32_bits_stay_exact_in_type() -> None:
    total = 3_000_000 * 1_000_000
    r = dp.laplace_sums([total], 1_000_000.0, 1.0, integer=True)
    assert r.mechanism == "discrete_laplace"
    assert abs(r.values[0] - total) < 50_000_000


def test_float_laplace_sums() -> None:
    r = dp.laplace_sums([2.5e6] * N, 1000.0, 1.0, integer=False)
    assert r.mechanism == "laplace" and r.scale >= 1000.0
    assert abs(statistics.mean(r.values) - 2.5e6) < 150
    assert statistics.pstdev(r.values) == pytest.approx(1000 * 2**0.5, rel=0.15)


def test_gaussian_sums_are_calibrated_to_epsilon_at_delta() -> None:
    r = dp.gaussian_sums([50.0] * N, 10.0, 1.0, 1e-9)
    assert r.mechanism == "gaussian" and r.delta == 1e-9
    assert abs(statistics.mean(r.values) - 50) < 5
    assert statistics.pstdev(r.values) == pytest.approx(r.scale, rel=0.15)
    looser = dp.gaussian_sums([50.0], 10.0, 2.0, 1e-9)
    assert looser.scale < r.scale


def test_smaller_epsilon_means_more_noise() -> None:
    assert dp.laplace_counts([1], 1, 0.1).scale == pytest.approx(
        10 * dp.laplace_counts([1], 1, 1.0).scale
    )
