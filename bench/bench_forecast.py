"""Forecast quality and speed on the demo simulator's channel-level data.

Prints (c) a rolling-origin backtest per channel and metric — MASE and sMAPE of the model
against seasonal-naive, and 80 % / 95 % interval coverage — for 7- and 30-day horizons, and
the runtime: import, first call (cold) and later calls (warm) forecasting spend,
conversions, revenue and ROAS for all channels.

    PYTHONPATH=. .venv/bin/python bench/bench_forecast.py [--seed 42] [--folds 4]
"""

from __future__ import annotations

import sys
from pathlib import Path as _Path

sys.path.insert(0, str(_Path(__file__).resolve().parents[1]))  # run as a script from anywhere
import argparse
import time

started = time.perf_counter()
from modeling import forecast  # noqa: E402  (the import itself is one of the timings)

IMPORT_S = time.perf_counter() - started

import pandas as pd  # noqa: E402

from bench.simdata import channel_daily  # noqa: E402
from modeling.simulator import SimConfig, simulate  # noqa: E402

METRICS = ["spend", "conversions", "revenue"]


def timed(call) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--folds", type=int, default=4)
    args = parser.parse_args()
    daily = channel_daily(simulate(SimConfig(seed=args.seed, days=365, scale=1.0)))

    print(f"import modeling.forecast (statsforecast): {IMPORT_S:.2f} s")
    cold = timed(lambda: forecast.forecast_channels(daily, 90))
    warm = [timed(lambda h=h: forecast.forecast_channels(daily, h)) for h in (7, 30, 90)]
    print(f"all 7 channels × (spend, conversions, revenue, ROAS), 90 days: cold {cold:.2f} s;"
          f" warm 7/30/90 days: {' / '.join(f'{t:.2f}' for t in warm)} s")

    long = daily.melt(id_vars=["date", "channel"], value_vars=METRICS, var_name="metric")
    long["series_id"] = long["channel"] + "|" + long["metric"]
    for horizon in (7, 30):
        began = time.perf_counter()
        scores = forecast.backtest_many(long[["date", "series_id", "value"]], horizon, args.folds)
        elapsed = time.perf_counter() - began
        scores[["channel", "metric"]] = scores["series_id"].str.split("|", expand=True)
        print(f"\nbacktest, horizon {horizon} days, {args.folds} folds ({elapsed:.1f} s)")
        print(scores.drop(columns="series_id").set_index(["channel", "metric"]).round(3)
              .to_string())
        summary = scores.groupby("metric")[["mase", "mase_naive", "smape", "smape_naive",
                                            "coverage80", "coverage95"]].mean()
        summary.loc["all"] = scores[summary.columns].mean()
        beats = (scores["mase"] < scores["mase_naive"]).mean()
        print(f"mean by metric (model beats seasonal-naive on MASE in {beats:.0%} of series):")
        print(summary.round(3).to_string())


if __name__ == "__main__":
    pd.set_option("display.width", 160)
    main()
