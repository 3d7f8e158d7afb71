"""fit / predict_outcome / plan / recommend on synthetic data with known curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic_mix import CHANNELS, OVER_ATTRIBUTION, MixData, make_mix

from modeling import budget
from modeling.allocate import allocate


@pytest.fixture(scope="module")
def mix() -> MixData:
    return make_mix(seed=0)


@pytest.fixture(scope="module")
def curves(mix: MixData) -> budget.Curves:
    return budget.fit(mix.daily, mix.outcome, seed=0, n_boot=15)


def test_modelled_roi_recovers_truth_and_reported_roi_overstates_it(
        mix: MixData, curves: budget.Curves) -> None:
    truth = mix.true_roi()
    assert curves.channels == tuple(sorted(CHANNELS))
    order = [CHANNELS.index(c) for c in curves.channels]
    error = curves.modelled_roi.to_numpy() / truth[order] - 1
    assert np.abs(error).max() < 0.15 and np.median(np.abs(error)) < 0.08
    claims = mix.daily.groupby("channel")["revenue"].sum() / mix.daily.groupby("channel")[
        "spend"].sum()
    assert curves.reported_roi.to_numpy() == pytest.approx(claims[list(curves.channels)])
    assert (curves.reported_roi > curves.modelled_roi * 1.3).all()
    assert curves.params["attribution"].to_numpy() == pytest.approx(OVER_ATTRIBUTION, rel=0.2)
    assert (curves.roi["mroi"] < curves.roi["modelled_roi"]).all()  # diminishing returns
    assert (curves.roi["modelled_roi_lo"] <= curves.roi["modelled_roi_hi"]).all()


def test_claims_give_the_shape_the_outcome_alone_cannot(mix: MixData,
                                                        curves: budget.Curves) -> None:
    truth = mix.true_roi()[[CHANNELS.index(c) for c in curves.channels]]
    alone = budget.fit(mix.daily, mix.outcome, n_boot=2, shape_from_reports=False)
    with_claims = np.abs(curves.modelled_roi.to_numpy() / truth - 1)
    outcome_only = np.abs(alone.modelled_roi.to_numpy() / truth - 1)
    assert np.median(outcome_only) > 2 * np.median(with_claims)
    assert (alone.params["attribution"] == 1).all()


def test_without_outcome_the_claims_are_the_target(mix: MixData) -> None:
    fitted = budget.fit(mix.daily, n_boot=2)
    assert fitted.target_source == "reported"
    assert fitted.modelled_roi.to_numpy() == pytest.approx(fitted.reported_roi.to_numpy(),
                                                          rel=0.15)


def test_same_seed_same_curves(mix: MixData, curves: budget.Curves) -> None:
    again = budget.fit(mix.daily, mix.outcome, seed=0, n_boot=15)
    assert np.array_equal(again.draws.beta, curves.draws.beta)
    pd.testing.assert_frame_equal(again.roi, curves.roi)
    other = budget.fit(mix.daily, mix.outcome, seed=1, n_boot=15)
    assert not np.array_equal(other.draws.beta, curves.draws.beta)


def test_predict_outcome_matches_recent_level_and_grows_with_spend(
        mix: MixData, curves: budget.Curves) -> None:
    mean, lo, hi = budget.predict_outcome(curves, {})
    assert lo <= mean <= hi
    assert mean == pytest.approx(mix.outcome["revenue"].tail(28).mean(), rel=0.03)
    more = budget.predict_outcome(curves, {c: 2 * v for c, v in curves.current.items()})[0]
    none = budget.predict_outcome(curves, {c: 0.0 for c in curves.channels})[0]
    assert none < mean < more
    assert mean - none == pytest.approx(
        mix.true_response(curves.current[list(CHANNELS)].to_numpy()).sum(), rel=0.1)
    with pytest.raises(KeyError):
        budget.predict_outcome(curves, {"nope": 1.0})


def test_expected_response_averages_the_draws_and_plans_maximise_it(
        curves: budget.Curves) -> None:
    spend = curves.current.to_numpy()
    grid = spend[None, :] * np.linspace(0.5, 1.5, 5)[:, None]
    expected = curves.expected_response(grid)
    assert expected.shape == grid.shape
    assert expected[2] == pytest.approx(curves.response(spend, draws=True).mean(axis=0))
    step = 1e-3 * spend
    numeric = (curves.expected_response(spend + step)
               - curves.expected_response(spend - step)) / (2 * step)
    assert curves.expected_marginal(spend) == pytest.approx(numeric, rel=1e-4)
    # The plan maximises the expected outcome: the point fit's own optimum brings no more.
    plan = budget.plan(curves, float(spend.sum()), max_change=0.3)
    split = np.array([plan.split[c] for c in curves.channels])
    by_point = allocate(curves.response, spend * 0.7, spend * 1.3, spend.sum(), spend)
    assert (curves.expected_response(split).sum()
            >= curves.expected_response(by_point).sum() - 1e-9 * spend.sum())
    assert plan.uplift[0] == pytest.approx(curves.expected_response(split).sum()
                                           - curves.expected_response(spend).sum())


def test_plan_reaches_the_oracle_within_limits(mix: MixData, curves: budget.Curves) -> None:
    now = curves.current
    plan = budget.plan(curves, float(now.sum()), max_change=0.3)
    split = pd.Series(plan.split)
    assert split.sum() == pytest.approx(now.sum())
    assert (split >= now * 0.7 - 1e-6).all() and (split <= now * 1.3 + 1e-6).all()
    assert plan.uplift[1] <= plan.uplift[0] <= plan.uplift[2] and plan.uplift[0] > 0
    current = now[list(CHANNELS)].to_numpy()
    oracle = allocate(mix.true_response, current * 0.7, current * 1.3, current.sum(), current)
    gain = mix.true_response(split[list(CHANNELS)].to_numpy()).sum()
    best = mix.true_response(oracle).sum()
    base = mix.true_response(current).sum()
    assert (gain - base) / (best - base) >= 0.95
    assert set(plan.reasons) == set(curves.channels)
    moved = plan.table["change"].abs() > 0.005
    assert plan.table.loc[moved, "reason"].str.match(r"(raise|cut)").all()
    assert budget.recommend(curves, float(now.sum())) == plan.split


def test_plan_bounds_target_cpa_and_objective_checks(mix: MixData) -> None:
    daily = mix.daily.assign(conversions=mix.daily["revenue"] / 50)
    outcome = mix.outcome.assign(conversions=mix.outcome["revenue"] / 50)
    curves = budget.fit(daily, outcome, target="conversions", n_boot=5)
    total = float(curves.current.sum())
    with pytest.raises(ValueError, match="conversions"):
        budget.plan(curves, total, objective="revenue")
    capped = budget.plan(curves, total, max_change=None, objective="conversions",
                         bounds={"alpha": (None, 100.0), "gamma": (900.0, None)})
    assert capped.split["alpha"] <= 100.0 + 1e-6 and capped.split["gamma"] >= 900.0 - 1e-6
    cpa = budget.plan(curves, total * 2, max_change=None, objective="target_cpa",
                      target_cpa=25.0)
    spent = sum(cpa.split.values())
    assert spent <= total * 2 + 1e-6
    bought = curves.expected_response(np.array([cpa.split[c] for c in curves.channels])).sum()
    assert spent / bought <= 25.0 * 1.001
    with pytest.raises(ValueError, match="maximums"):
        budget.plan(curves, total * 2, max_change=0.3, objective="conversions")
