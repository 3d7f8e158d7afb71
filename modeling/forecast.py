"""Daily forecasts of ad metrics with 80 % / 95 % intervals, and their backtest.

Model choice: statsforecast ``AutoETS(season_length=7, model="ZNA")`` — a level plus an
additive day-of-week pattern, error type (additive or multiplicative) chosen by AICc.
Measured on 21 daily series of a year each, it fits and forecasts 90 days in ~0.5 s, where the
full ``ZZZ`` search takes ~7 s and ``AutoTheta`` ~2 s (2 shared cores). Trend terms are left
out on purpose: ad spend moves in steps (budgets get changed), and an extrapolated trend over
90 days does more harm than good; the rolling-origin backtest below is how that claim is
checked against seasonal-naive. Series too short for the model fall back to ``Naive``.

statsforecast 2.x runs ETS in compiled C++ (no numba), so there is no JIT warm-up; the one-off
cost is the import (~2.5 s), measured in ``bench/bench_forecast.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoETS, Naive, SeasonalNaive

SEASON = 7
LEVELS = (80, 95)
INTERVAL_COLUMNS = ["mean", "lo80", "hi80", "lo95", "hi95"]
_ID, _DS, _Y = "unique_id", "ds", "y"
_MODEL = "AutoETS"
_NAIVE = "SeasonalNaive"


def _model() -> AutoETS:
    return AutoETS(season_length=SEASON, model="ZNA")


def _to_long(frame: pd.DataFrame) -> pd.DataFrame:
    """Put a [date, series_id, value] frame into statsforecast's layout on a full daily grid.

    Ad reports omit days without delivery, so a missing day means zero, not unknown: each
    series is reindexed to every day from its first to its last date with zeros filled in.
    """
    if frame.empty:
        raise ValueError("history is empty")
    data = frame.assign(date=pd.to_datetime(frame["date"]))
    data = data.groupby(["series_id", "date"], as_index=False)["value"].sum()
    parts = []
    for sid, group in data.groupby("series_id", sort=True):
        days = pd.date_range(group["date"].min(), group["date"].max(), freq="D")
        values = group.set_index("date")["value"].reindex(days, fill_value=0.0)
        parts.append(pd.DataFrame({_ID: sid, _DS: days, _Y: values.to_numpy(float)}))
    return pd.concat(parts, ignore_index=True)


def _rename_intervals(out: pd.DataFrame, model: str) -> pd.DataFrame:
    columns = {model: "mean"}
    for level in LEVELS:
        columns[f"{model}-lo-{level}"] = f"lo{level}"
        columns[f"{model}-hi-{level}"] = f"hi{level}"
    return out.rename(columns=columns)


def _clip_non_negative(out: pd.DataFrame, long: pd.DataFrame) -> pd.DataFrame:
    """Clip forecasts at zero for series that never went negative (spend, counts, revenue)."""
    non_negative = long.groupby(_ID)[_Y].min() >= 0
    mask = out[_ID].map(non_negative).to_numpy(bool)
    for col in INTERVAL_COLUMNS:
        out.loc[mask, col] = out.loc[mask, col].clip(lower=0.0)
    return out


def forecast_many(frame: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Forecast every series of a [date, series_id, value] frame in one statsforecast call.

    Returns [series_id, date, mean, lo80, hi80, lo95, hi95], ``horizon`` days per series.
    """
    long = _to_long(frame)
    engine = StatsForecast(models=[_model()], freq="D", fallback_model=Naive(), n_jobs=1)
    out = engine.forecast(df=long, h=horizon, level=list(LEVELS))
    out = _clip_non_negative(_rename_intervals(out, _MODEL), long)
    out = out.rename(columns={_ID: "series_id", _DS: "date"})
    return out[["series_id", "date", *INTERVAL_COLUMNS]].reset_index(drop=True)


def forecast(history: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Forecast one [date, value] series; returns [date, mean, lo80, hi80, lo95, hi95]."""
    out = forecast_many(history.assign(series_id="series"), horizon)
    return out.drop(columns="series_id")


#: Standard-normal quantiles of the 80 % and 95 % two-sided intervals.
Z80, Z95 = 1.2815515655446004, 1.959963984540054


def window_total(forecast: pd.DataFrame) -> tuple[float, float, float]:
    """(mean, lo95, hi95) of the sum of a daily forecast's days.

    The days' errors are taken as independent normals whose sds are read off each 95 %
    half-width, so the total's sd is the root of their summed squares. Forecast errors of
    neighbouring days are in practice positively correlated, which makes the true interval
    wider: this one is a lower bound on the uncertainty, fine for "is last month outside it".
    """
    mean = float(forecast["mean"].sum())
    sd = float(np.sqrt((((forecast["hi95"] - forecast["lo95"]) / (2 * Z95)) ** 2).sum()))
    return mean, mean - Z95 * sd, mean + Z95 * sd


def ratio_forecast(numerator: pd.DataFrame, denominator: pd.DataFrame) -> pd.DataFrame:
    """Forecast a ratio (ROAS = revenue / spend) from forecasts of its two parts.

    The daily ratio itself is not forecast: it is undefined on zero-spend days and its noise
    is dominated by small denominators. The mean is mean(num) / mean(den), and the interval
    comes from the delta method, treating the two forecast errors as independent normals whose
    standard deviations are read off each 95 % half-width:
    sd(r) = r * sqrt((sd_num / num)^2 + (sd_den / den)^2). Revenue and spend errors are in
    practice positively correlated, which narrows the true interval, so assuming independence
    errs on the wide side. The 80 % band uses the same sd. Days with a zero spend forecast get
    NaN.
    """
    num, den = numerator["mean"].to_numpy(float), denominator["mean"].to_numpy(float)
    sd_num = (numerator["hi95"] - numerator["lo95"]).to_numpy(float) / (2 * Z95)
    sd_den = (denominator["hi95"] - denominator["lo95"]).to_numpy(float) / (2 * Z95)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(den > 0, num / den, np.nan)
        rel = np.sqrt(np.where(num > 0, (sd_num / num) ** 2, 0.0) + (sd_den / den) ** 2)
    sd = np.abs(ratio) * rel
    out = pd.DataFrame({"date": numerator["date"].to_numpy(), "mean": ratio})
    for level, z in ((80, Z80), (95, Z95)):
        out[f"lo{level}"] = np.clip(ratio - z * sd, 0.0, None)
        out[f"hi{level}"] = ratio + z * sd
    return out


def forecast_channels(daily: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Forecast spend, conversions, revenue and ROAS per channel for the next ``horizon`` days.

    ``daily`` has [date, channel, spend, conversions, revenue]. All 3 × channels additive
    series go through one ``forecast_many`` call; ROAS is derived by ``ratio_forecast``.
    Returns [channel, metric, date, mean, lo80, hi80, lo95, hi95].
    """
    metrics = ["spend", "conversions", "revenue"]
    per_day = daily.groupby(["date", "channel"], as_index=False)[metrics].sum()
    long = per_day.melt(id_vars=["date", "channel"], value_vars=metrics, var_name="metric")
    long["series_id"] = long["channel"] + "|" + long["metric"]
    out = forecast_many(long[["date", "series_id", "value"]], horizon)
    out[["channel", "metric"]] = out["series_id"].str.split("|", n=1, expand=True)
    out = out.drop(columns="series_id")
    roas = []
    for channel, group in out.groupby("channel", sort=True):
        by_metric = {m: g.reset_index(drop=True) for m, g in group.groupby("metric")}
        roas.append(ratio_forecast(by_metric["revenue"], by_metric["spend"]).assign(
            channel=channel, metric="roas"))
    out = pd.concat([out, *roas], ignore_index=True)
    return out[["channel", "metric", "date", *INTERVAL_COLUMNS]].sort_values(
        ["channel", "metric", "date"], ignore_index=True)


def _smape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Symmetric MAPE in percent (0..200); a day where both are zero counts as a perfect 0."""
    denom = np.abs(actual) + np.abs(predicted)
    terms = np.divide(2 * np.abs(actual - predicted), denom, out=np.zeros_like(denom),
                      where=denom > 0)
    return float(100 * terms.mean())


def _naive_scale(train: np.ndarray) -> float:
    """In-sample MAE of the seasonal-naive forecast: MASE's denominator (Hyndman & Koehler)."""
    if train.size <= SEASON:
        return float("nan")
    return float(np.mean(np.abs(train[SEASON:] - train[:-SEASON])))


def backtest_many(frame: pd.DataFrame, horizon: int, folds: int) -> pd.DataFrame:
    """Rolling-origin backtest of every series in a [date, series_id, value] frame.

    The last ``folds`` non-overlapping windows of ``horizon`` days are each forecast from the
    data before them (model refit per window), alongside seasonal-naive. MASE scales each
    window's MAE by that window's in-sample seasonal-naive MAE, then windows are averaged.
    Returns one row per series: [series_id, mase, smape, mase_naive, smape_naive,
    coverage80, coverage95].
    """
    long = _to_long(frame)
    engine = StatsForecast(models=[_model(), SeasonalNaive(season_length=SEASON)], freq="D",
                           fallback_model=Naive(), n_jobs=1)
    cv = engine.cross_validation(df=long, h=horizon, n_windows=folds, step_size=horizon,
                                 level=list(LEVELS))
    cv = _rename_intervals(cv, _MODEL)
    rows = []
    for sid, series in cv.groupby(_ID, sort=True):
        history = long[long[_ID] == sid]
        floor = 0.0 if (history[_Y] >= 0).all() else -np.inf
        scores: dict[str, list[float]] = {k: [] for k in
                                          ("mase", "smape", "mase_naive", "smape_naive")}
        inside80, inside95 = [], []
        for cutoff, window in series.groupby("cutoff"):
            scale = _naive_scale(history.loc[history[_DS] <= cutoff, _Y].to_numpy(float))
            actual = window[_Y].to_numpy(float)
            for suffix, col in (("", "mean"), ("_naive", _NAIVE)):
                predicted = np.maximum(window[col].to_numpy(float), floor)
                mae = float(np.mean(np.abs(actual - predicted)))
                scores["mase" + suffix].append(mae / scale if scale > 0 else float("nan"))
                scores["smape" + suffix].append(_smape(actual, predicted))
            inside80.append((actual >= window["lo80"]) & (actual <= window["hi80"]))
            inside95.append((actual >= window["lo95"]) & (actual <= window["hi95"]))
        rows.append({"series_id": sid,
                     **{k: float(np.nanmean(v)) for k, v in scores.items()},
                     "coverage80": float(np.mean(np.concatenate(inside80))),
                     "coverage95": float(np.mean(np.concatenate(inside95)))})
    return pd.DataFrame(rows)


def backtest(history: pd.DataFrame, horizon: int, folds: int) -> dict[str, float]:
    """Backtest one [date, value] series; see ``backtest_many`` for the protocol."""
    row = backtest_many(history.assign(series_id="series"), horizon, folds).iloc[0]
    return {k: float(row[k]) for k in
            ("mase", "smape", "mase_naive", "smape_naive", "coverage80", "coverage95")}
