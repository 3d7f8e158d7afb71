"""The hourly planning steps on committed demo data: curves are fitted and stored only when the
data changed, forecasts come with nested intervals and a backtest, too little history is a
stated condition rather than a failure, and the same data and seed give the same plan.

Small bootstrap counts keep the fits to about a second; what is tested is what gets stored.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import delete, func, select

from db import models as m
from db import planning_queries as pq
from db import queries
from db.filters import Filters
from db.ingest import bump_data_version
from db.model_queries import last_complete_day
from db.session import get_engine, unit_of_work
from jobs.planning_tasks import PlanningJobConfig, fit_curves, forecast
from modeling import budget, curves_io

FAST = PlanningJobConfig(n_boot=4, max_folds=2)


@pytest.fixture()
def planning(demo_db):
    """No stored planning runs (the cycle test or another test may have left some)."""
    with unit_of_work() as c:
        c.execute(delete(m.PlanningForecast))
        c.execute(delete(m.PlanningArtefact))
    return demo_db


def _runs(cycle_id: str) -> list[tuple]:
    with get_engine().connect() as c:
        return c.execute(select(m.SyncRun.step, m.SyncRun.status, m.SyncRun.rows)
                         .where(m.SyncRun.cycle_id == cycle_id)).all()


def _window() -> tuple[dt.date, dt.date]:
    """What the jobs read: up to a year ending at the last complete day."""
    end = last_complete_day(None, dt.datetime.now(dt.timezone.utc).date())
    first, _ = queries.date_bounds()
    return max(first, end - dt.timedelta(days=FAST.history_days - 1)), end


def _new_data_version() -> None:
    with unit_of_work() as c:
        bump_data_version(c)


def test_fit_curves_stores_curves_and_skips_when_unchanged(planning):
    rows = fit_curves("t-curves", attempt=1, config=FAST)
    start, end = _window()
    daily = queries.daily_by(None, Filters(start, end), by="channel")
    assert rows == len(daily) > 0
    assert _runs("t-curves") == [("fit_curves", "ok", rows)]

    run = pq.latest(None, pq.CURVES)
    assert (run.status, run.date_from, run.date_to) == (pq.OK, start, end)
    assert run.data_version == queries.data_version()
    assert run.summary["outcome_complete"] is True  # the demo reports the business's totals
    fits = curves_io.from_bytes(pq.payload(None, run.id))
    assert set(fits) == {"revenue", "conversions"}
    for target, curves in fits.items():
        assert curves.target == target and curves.target_source == "outcome"
        assert curves.channels == tuple(sorted(daily["channel"].unique()))
        stored = pd.DataFrame(run.summary["fits"][target]["roi"]).set_index("channel")
        pd.testing.assert_frame_equal(stored, curves.roi, check_names=False)
        spend = daily.groupby("channel")["spend"].sum()
        assert curves.roi["spend"].to_numpy() == pytest.approx(spend[list(curves.channels)].to_numpy())
        assert (curves.roi["modelled_roi_lo"] <= curves.roi["modelled_roi_hi"]).all()
        tests = pq.lift_tests(None, target)  # the demo's experiments published in the window
        used = tests[(tests["date_from"].dt.date >= start) & (tests["date_to"].dt.date <= end)]
        assert len(used) > 0 and run.summary["fits"][target]["lift_tests"] == len(curves.lift) == len(used)
        assert curves.lift[["channel", "lift"]].sort_values("lift").to_numpy().tolist() == \
            used[["channel", "lift"]].sort_values("lift").to_numpy().tolist()

    assert fit_curves("t-curves-again", attempt=1, config=FAST) == 0
    assert pq.latest(None, pq.CURVES).id == run.id
    assert _runs("t-curves-again") == [("fit_curves", "ok", 0)]

    for _ in range(2):  # every new data version refits; only the newest runs are kept
        _new_data_version()
        assert fit_curves("t-curves-new", attempt=1, config=FAST) == rows
    with get_engine().connect() as c:
        kept = c.execute(select(func.count()).select_from(m.PlanningArtefact)
                         .where(m.PlanningArtefact.kind == pq.CURVES)).scalar()
    assert kept == pq.KEEP
    assert pq.latest(None, pq.CURVES).id > run.id


def test_forecast_stores_90_days_per_channel_with_nested_intervals(planning):
    rows = forecast("t-forecast", attempt=1, config=FAST)
    run = pq.latest(None, pq.FORECAST)
    start, end = _window()
    channels = sorted(queries.daily_by(None, Filters(start, end), by="channel")["channel"].unique())
    assert pq.forecast_channels(None, run.id) == sorted([*channels, pq.ALL_CHANNELS])
    assert rows == (len(channels) + 1) * 4 * FAST.horizon
    assert _runs("t-forecast") == [("forecast", "ok", rows)]
    days = pd.date_range(end + dt.timedelta(days=1), periods=FAST.horizon, freq="D")
    for channel in [*channels, pq.ALL_CHANNELS]:
        for metric in ("spend", "conversions", "revenue", "roas"):
            series = pq.forecast(None, run.id, channel, metric)
            assert list(series["date"]) == list(days), (channel, metric)
            values = series[["lo95", "lo80", "mean", "hi80", "hi95"]].to_numpy()
            assert np.isfinite(values).all(), (channel, metric)
            assert (np.diff(values, axis=1) >= -1e-9).all(), (channel, metric)
            assert (values >= 0).all()

    card = run.summary["backtest"]
    assert card["folds"] == FAST.max_folds and card["horizon"] == FAST.backtest_horizon
    scores = pd.DataFrame(card["series"])
    assert len(scores) == (len(channels) + 1) * 3
    assert scores[["mase", "smape", "mase_naive", "smape_naive"]].notna().all().all()
    assert scores[["coverage80", "coverage95"]].apply(lambda s: s.between(0, 1)).all().all()
    assert (scores["coverage95"] >= scores["coverage80"]).all()

    assert forecast("t-forecast-again", attempt=1, config=FAST) == 0
    assert pq.latest(None, pq.FORECAST).id == run.id


def test_too_little_history_is_stored_as_such_not_failed(planning):
    config = PlanningJobConfig(n_boot=4, min_curve_days=10_000, min_forecast_days=10_000)
    assert fit_curves("t-short", attempt=1, config=config) == 0
    assert forecast("t-short", attempt=1, config=config) == 0
    assert sorted(_runs("t-short")) == [("fit_curves", "ok", 0), ("forecast", "ok", 0)]
    _, end = _window()
    for kind in (pq.CURVES, pq.FORECAST):
        run = pq.latest(None, kind)
        assert run.status == pq.INSUFFICIENT
        assert run.summary["needed"] == 10_000 and run.summary["days"] > 0
        assert f"{run.summary['days']} days of data with spend; 10000 are needed" == run.summary["message"]
    assert pq.payload(None, pq.latest(None, pq.CURVES).id) is None


def test_same_data_and_seed_give_the_same_recommendation(planning):
    plans = []
    for _ in range(2):
        _new_data_version()  # same rows, new version: a full refit
        fit_curves("t-seed", attempt=1, config=FAST)
        curves = curves_io.from_bytes(pq.payload(None, pq.latest(None, pq.CURVES).id))["revenue"]
        total = float(curves.current.sum())
        plans.append(budget.plan(curves, total, max_change=0.3))
    first, second = plans
    assert first.split == second.split
    assert first.expected == second.expected and first.uplift == second.uplift
    assert first.reasons == second.reasons
