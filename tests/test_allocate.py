"""The budget optimiser against analytic and brute-force optima."""

from __future__ import annotations

import time

import numpy as np
import pytest

from modeling.allocate import allocate
from modeling.response import hill


def _curves(beta, k, n):
    beta, k, n = (np.asarray(v, float) for v in (beta, k, n))
    return lambda s: beta * hill(np.asarray(s, float), k, n)


def test_concave_curves_reach_the_analytic_optimum() -> None:
    # r_c(s) = b_c s / (s + k_c): equal marginals b k / (s + k)^2 = λ give
    # s_c = sqrt(b_c k_c / λ) - k_c with sqrt(1/λ) = (B + Σk) / Σ sqrt(b k).
    beta = np.array([5000.0, 3000.0, 8000.0, 1200.0])
    k = np.array([2000.0, 500.0, 4000.0, 300.0])
    total = 9000.0
    root = np.sqrt(beta * k)
    expected = root * (total + k.sum()) / root.sum() - k
    assert (expected > 0).all()
    start = np.full(4, total / 4)
    got = allocate(_curves(beta, k, np.ones(4)), np.zeros(4), np.full(4, np.inf), total, start)
    assert got == pytest.approx(expected, rel=1e-3)
    assert got.sum() == pytest.approx(total)


def test_stays_in_bounds_and_rejects_impossible_budgets() -> None:
    response = _curves([5000, 3000, 8000], [2000, 500, 4000], [1, 1, 1])
    now = np.array([1000.0, 3000.0, 2000.0])
    lower, upper = now * 0.7, now * 1.3
    got = allocate(response, lower, upper, now.sum(), now)
    assert np.all(got >= lower - 1e-6) and np.all(got <= upper + 1e-6)
    assert got.sum() == pytest.approx(now.sum())
    assert response(got).sum() > response(now).sum()
    with pytest.raises(ValueError, match="maximums"):
        allocate(response, lower, upper, upper.sum() * 1.1, now)
    with pytest.raises(ValueError, match="minimums"):
        allocate(response, lower, upper, lower.sum() * 0.9, now)


def test_s_curve_foot_is_crossed_when_it_pays() -> None:
    # Channel 1 is steep and S-shaped: zero marginal return at zero spend, so a
    # gradient method started there never moves; the best split puts most money into it.
    response = _curves([1000.0, 20000.0], [2000.0, 3000.0], [1.0, 3.0])
    total = 6000.0
    got = allocate(response, np.zeros(2), np.full(2, total), total, np.array([total, 0.0]))
    grid = np.linspace(0, total, 6001)
    values = response(np.column_stack([grid, total - grid])).sum(axis=1)
    assert response(got).sum() >= values.max() * (1 - 1e-6)
    assert got[1] > total / 2


def test_cost_cap_limits_spend_to_the_target_cost_per_unit() -> None:
    response = _curves([100.0, 60.0], [1000.0, 500.0], [1.0, 1.0])  # conversions per day
    budget = 10000.0
    got = allocate(response, np.zeros(2), np.full(2, budget), budget, np.array([500.0, 500.0]),
                   spend_all=False, max_cost_per_unit=40.0)
    assert got.sum() <= budget + 1e-6
    assert got.sum() / response(got).sum() == pytest.approx(40.0, rel=1e-3)  # cap binds
    free = allocate(response, np.zeros(2), np.full(2, budget), budget, np.array([500.0, 500.0]))
    assert free.sum() / response(free).sum() > 40.0
    with pytest.raises(ValueError, match="constraints"):
        allocate(response, np.full(2, 2000.0), np.full(2, budget), budget,
                 np.array([2000.0, 2000.0]), spend_all=False, max_cost_per_unit=5.0)


def test_same_input_same_answer_and_fast_for_ten_channels() -> None:
    rng = np.random.default_rng(0)
    beta, k, n = rng.uniform(1e3, 1e4, 10), rng.uniform(5e2, 5e3, 10), rng.uniform(0.8, 2.5, 10)
    now = rng.uniform(5e2, 5e3, 10)
    response = _curves(beta, k, n)
    started = time.perf_counter()
    first = allocate(response, now * 0.7, now * 1.3, now.sum(), now)
    assert time.perf_counter() - started < 1.0
    assert np.array_equal(first, allocate(response, now * 0.7, now * 1.3, now.sum(), now))
