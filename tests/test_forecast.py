"""Forecasts on synthetic weekly-seasonal series: shape, intervals, backtest, speed."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from modeling.forecast import (backtest, backtest_many, forecast, forecast_channels,
                               forecast_many, ratio_forecast)

WEEKLY = np.array([1.0, 1.1, 1.2, 1.15, 1.05, 0.7, 0.8])


def _seasonal(days: int = 200, level: float = 100.0, noise: float = 0.08, seed: int = 0,
              start: str = "2024-01-01") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=days, freq="D")
    pattern = WEEKLY[dates.dayofweek]
    return pd.DataFrame({"date": dates,
                         "value": level * pattern * rng.lognormal(0, noise, days)})


def test_forecast_follows_the_weekly_pattern_with_nested_intervals() -> None:
    history = _seasonal()
    out = forecast(history, 30)
    assert list(out.columns) == ["date", "mean", "lo80", "hi80", "lo95", "hi95"]
    assert out["date"].tolist() == list(pd.date_range(history["date"].max(), periods=31)[1:])
    truth = 100 * WEEKLY[out["date"].dt.dayofweek]
    assert np.corrcoef(out["mean"], truth)[0, 1] > 0.95
    assert np.abs(out["mean"] / truth - 1).max() < 0.1
    assert (out["lo95"] <= out["lo80"]).all() and (out["lo80"] <= out["mean"]).all()
    assert (out["mean"] <= out["hi80"]).all() and (out["hi80"] <= out["hi95"]).all()


def test_sparse_counts_never_forecast_negative() -> None:
    rng = np.random.default_rng(1)
    dates = pd.date_range("2024-01-01", periods=120, freq="D")
    history = pd.DataFrame({"date": dates, "value": rng.poisson(0.4 * WEEKLY[dates.dayofweek])})
    out = forecast(history, 90)
    assert (out[["mean", "lo80", "hi80", "lo95", "hi95"]].to_numpy() >= 0).all()


def test_forecast_many_fills_missing_days_and_handles_short_series() -> None:
    long = _seasonal(days=100).assign(series_id="long")
    gappy = long.iloc[::2].assign(series_id="gappy")   # every other day missing = zero spend
    short = _seasonal(days=5, start="2024-04-01").assign(series_id="short")
    out = forecast_many(pd.concat([long, gappy, short]), 7)
    assert out.groupby("series_id").size().to_dict() == {"gappy": 7, "long": 7, "short": 7}
    gappy_mean = out.loc[out["series_id"] == "gappy", "mean"].mean()
    long_mean = out.loc[out["series_id"] == "long", "mean"].mean()
    assert gappy_mean == pytest.approx(long_mean / 2, rel=0.35)
    assert out["mean"].notna().all()


def test_backtest_beats_seasonal_naive_and_intervals_cover() -> None:
    result = backtest(_seasonal(days=240, noise=0.15), horizon=14, folds=4)
    assert set(result) == {"mase", "smape", "mase_naive", "smape_naive", "coverage80",
                           "coverage95"}
    assert result["mase"] < result["mase_naive"]
    assert result["smape"] < result["smape_naive"]
    assert 0.8 <= result["coverage95"] <= 1.0 and 0.6 <= result["coverage80"] <= 1.0


def test_backtest_many_reports_one_row_per_series() -> None:
    frame = pd.concat([_seasonal(days=120, seed=s).assign(series_id=f"s{s}") for s in range(3)])
    out = backtest_many(frame, horizon=7, folds=3)
    assert out["series_id"].tolist() == ["s0", "s1", "s2"]
    assert (out["mase"] > 0).all()


def test_ratio_forecast_mean_and_interval() -> None:
    dates = pd.date_range("2024-01-01", periods=3, freq="D")
    revenue = pd.DataFrame({"date": dates, "mean": [300.0, 300.0, 0.0],
                            "lo95": [200.0, 300.0, 0.0], "hi95": [400.0, 300.0, 0.0]})
    spend = pd.DataFrame({"date": dates, "mean": [100.0, 100.0, 0.0],
                          "lo95": [100.0, 80.0, 0.0], "hi95": [100.0, 120.0, 0.0]})
    out = ratio_forecast(revenue, spend)
    assert out["mean"].tolist()[:2] == [3.0, 3.0] and np.isnan(out["mean"].iloc[2])
    # Exact spend: the interval is revenue's divided by spend.
    assert out.loc[0, ["lo95", "hi95"]].tolist() == pytest.approx([2.0, 4.0])
    assert out.loc[1, "hi95"] == pytest.approx(3.6)
    assert out.loc[0, "hi80"] < out.loc[0, "hi95"]


def test_all_channels_forecast_fast() -> None:
    rng = np.random.default_rng(3)
    channels = ["instagram", "facebook", "google_ads", "tiktok", "telegram", "yandex_direct",
                "vk_ads"]
    parts = []
    for i, channel in enumerate(channels):
        spend = _seasonal(days=365, level=100 + 20 * i, seed=i)
        parts.append(spend.rename(columns={"value": "spend"}).assign(
            channel=channel, conversions=rng.poisson(spend["value"] / 20),
            revenue=spend["value"] * rng.lognormal(1, 0.3, 365)))
    daily = pd.concat(parts, ignore_index=True)
    forecast_channels(daily.head(60), 7)  # first call pays one-off costs
    started = time.perf_counter()
    out = forecast_channels(daily, 90)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0
    assert len(out) == len(channels) * 4 * 90
    roas = out[out["metric"] == "roas"]
    assert roas["mean"].between(1.0, 6.0).all()
