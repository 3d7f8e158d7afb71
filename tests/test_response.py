"""Adstock and Hill maths, the analytic Jacobian of the curve fit, and its bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modeling import mmm_fit
from modeling import response as rm


def test_adstock_keeps_a_constant_spend_and_spreads_an_impulse_geometrically() -> None:
    constant = np.full((30, 2), 500.0)
    assert np.allclose(rm.geometric_adstock(constant, np.array([0.3, 0.8])), 500.0)

    impulse = np.zeros((200, 1))
    impulse[10] = 100.0
    out = rm.geometric_adstock(impulse, np.array([0.6]))[:, 0]
    assert np.allclose(out[:10], 0.0)
    assert np.allclose(out[10:15], 100 * 0.4 * 0.6 ** np.arange(5))
    assert out.sum() == pytest.approx(100.0)  # normalised: carry-over moves spend, adds none


def test_adstock_starts_at_steady_state_of_the_first_week() -> None:
    spend = np.full((20, 1), 300.0)
    spend[10:] = 600.0
    out = rm.geometric_adstock(spend, np.array([0.5]))[:, 0]
    assert out[0] == pytest.approx(300.0)
    assert 300 < out[10] < out[11] < 600


def test_hill_half_saturation_and_slope() -> None:
    k, n = np.array([800.0]), np.array([1.7])
    assert rm.hill(np.array([800.0]), k, n)[0] == pytest.approx(0.5)
    assert rm.hill(np.array([0.0]), k, n)[0] == 0.0
    grid = np.linspace(50, 4000, 40)
    h = rm.hill(grid, k, n)
    assert np.all(np.diff(h) > 0) and h[-1] < 1
    numeric = (rm.hill(grid + 1e-3, k, n) - rm.hill(grid - 1e-3, k, n)) / 2e-3
    assert np.allclose(rm.hill_slope(grid, k, n), numeric, rtol=1e-5)


@pytest.mark.parametrize("with_baseline", [True, False])
def test_curve_fit_jacobian_matches_finite_differences(with_baseline: bool) -> None:
    rng = np.random.default_rng(0)
    dates = pd.date_range("2024-01-01", periods=400, freq="D")
    design = rm.mix_design(dates)
    x = rng.lognormal(0, 0.4, (400, 3))
    problem = mmm_fit._Curves(x, rng.normal(1, 0.1, 400), design, with_baseline)
    problem.sigma = 0.07
    template = rm.MixParams(
        decay=np.array([0.2, 0.5, 0.7]), k=np.array([0.8, 1.2, 2.0]),
        n=np.array([1.0, 1.6, 0.8]), beta=np.array([0.1, 0.3, 0.2]),
        base=rng.normal(0, 0.1, design.base.shape[1]),
        season=rng.normal(0, 0.1, (3, design.season.shape[1])), attribution=np.ones(3))
    theta = problem.vector(template)
    analytic = problem.jacobian(theta, template)
    step = 1e-6 * np.eye(theta.size)
    numeric = np.column_stack([
        (problem.residuals(theta + e, template) - problem.residuals(theta - e, template)) / 2e-6
        for e in step])
    assert np.abs(analytic - numeric).max() < 1e-4 * np.abs(numeric).max()


def test_yearly_terms_only_with_a_year_of_data() -> None:
    short = rm.mix_design(pd.date_range("2024-01-01", periods=200, freq="D"))
    long = rm.mix_design(pd.date_range("2024-01-01", periods=400, freq="D"))
    assert short.season.shape == (200, 0) and short.base.shape == (200, 8)
    assert long.season.shape == (400, 2) and long.base.shape == (400, 10)


def test_bootstrap_gives_an_unresolved_size_the_width_of_its_prior() -> None:
    # Channel 0 moves the outcome a lot and varies; channel 1 is 1 % of it, so only the
    # attribution prior (log-sd 0.35) sizes it. Refits that kept the prior fixed would give
    # channel 1 nearly the same size every time: an interval far narrower than what is known.
    rng = np.random.default_rng(1)
    days = 300
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    design = rm.mix_design(dates)
    regimes = np.exp(rng.normal(0, 0.4, (days // 30 + 1, 2)))[np.arange(days) // 30]
    x = regimes * rng.lognormal(0, 0.1, (days, 2))
    truth = rm.MixParams(decay=np.array([0.3, 0.3]), k=np.ones(2), n=np.ones(2),
                         beta=np.array([0.6, 0.02]), base=np.zeros(design.base.shape[1]),
                         season=np.zeros((2, 0)), attribution=np.full(2, 1.5))
    media = rm.contributions(x, design, truth)
    y = 1.0 + media.sum(axis=1) + rng.normal(0, 0.02, days)
    claims = 1.5 * media * rng.lognormal(0, 0.03, media.shape)
    prior = (1.4, 0.35)
    best, noise = mmm_fit.fit_mix(x, y, design, claims, prior)
    draws = mmm_fit.bootstrap_mix(x, y, design, best, noise, 30, 0, claims, prior)
    spread = np.log(rm.stack(draws).attribution).std(axis=0)
    assert spread[0] < 0.1
    assert 0.2 < spread[1] < 0.5
