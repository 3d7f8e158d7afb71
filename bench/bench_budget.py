"""Response curves and budget allocation measured against the demo simulator's ground truth.

Prints, per seed: (a) per-channel ROI recovery error of the modelled ROI (and, for contrast,
of the platform-reported ROI), mROI error and whether the 95 % intervals cover the truth;
(b) the share of the oracle-optimal incremental return that the recommended split achieves
over the current split (same total budget, ±30 % per channel); (d) runtimes: fit + optimise
for 7 channels × 365 days, and the optimiser alone for 10 channels. Also writes the
simulator's channel-level data, its truth and our default variant's results to CSV (under
data/bench/) for ``bench_pymc_marketing.py``.

The simulator's window ends on ``--end-date`` (fixed by default): left to end today, its
season would line up differently with the data on every run and the numbers would drift
from day to day. Seeds share their noise across end dates (it is indexed by day from the
start), so other dates test the calendar's alignment, not new noise.

    PYTHONPATH=. .venv/bin/python bench/bench_budget.py [--seeds 42 7] [--n-boot 40] [--contrast]
"""

from __future__ import annotations

import sys
from pathlib import Path as _Path

sys.path.insert(0, str(_Path(__file__).resolve().parents[1]))  # run as a script from anywhere
import argparse
import datetime as dt
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.simdata import channel_daily, true_steady_response
from modeling import budget
from modeling.allocate import allocate
from modeling.response import hill
from modeling.simulator import SimConfig, simulate

CSV_DIR = Path(__file__).resolve().parents[1] / "data" / "bench"
MAX_CHANGE = 0.3
SEEDS = (42, 7, 11, 1, 2, 3, 4, 5)
END_DATE = dt.date(2026, 11, 25)
#: Written for bench_pymc_marketing.py, which cannot import the simulator.
TRUTH_COLUMNS = ("true_roi", "true_mroi", "adstock_decay", "hill_k", "hill_n", "beta",
                 "value_per_conversion")
DEFAULT = "default (claims shape + attribution prior + lift tests)"
#: With --contrast: what the lift tests, the attribution prior and the claims' shapes bring.
CONTRASTS = {
    "no lift tests": {"lift_tests": None},
    "no lift tests, no prior": {"lift_tests": None, "attribution_prior": None},
    "outcome only (joint fit)": {"lift_tests": None, "shape_from_reports": False},
}


def oracle_share(result, curves: budget.Curves, split: dict[str, float]) -> float:
    """(true gain of split over current) / (true gain of the oracle split over current).

    The oracle solves the problem ``budget.plan`` solves — steady-state daily response, same
    current split, total and ±30 % limits — on the true curves. The simulator's season
    multiplies every channel alike, so leaving it out moves no optimum.
    """
    truth = true_steady_response(result, curves.channels)
    now = curves.current.to_numpy()
    lower, upper = now * (1 - MAX_CHANGE), now * (1 + MAX_CHANGE)
    oracle = allocate(truth, lower, upper, now.sum(), start=now)
    best_gain = truth(oracle).sum() - truth(now).sum()
    chosen = np.array([split[c] for c in curves.channels])
    return float((truth(chosen).sum() - truth(now).sum()) / best_gain)


def roi_table(result, curves: budget.Curves) -> pd.DataFrame:
    truth = pd.DataFrame(result.truth["channels"]).T[["true_roi", "true_mroi"]].astype(float)
    table = curves.roi.join(truth)
    table["roi_err"] = table["modelled_roi"] / table["true_roi"] - 1
    table["reported_err"] = table["reported_roi"] / table["true_roi"] - 1
    table["mroi_err"] = table["mroi"] / table["true_mroi"] - 1
    table["covered"] = table["modelled_roi_lo"].le(table["true_roi"]) & table[
        "modelled_roi_hi"].ge(table["true_roi"])
    table["mroi_covered"] = table["mroi_lo"].le(table["true_mroi"]) & table["mroi_hi"].ge(
        table["true_mroi"])
    return table


def optimiser_runtime(channels: int = 10, repeats: int = 5) -> float:
    """Median seconds for one 10-channel allocation with S-shaped curves and ±30 % limits."""
    rng = np.random.default_rng(0)
    beta, k, n = rng.uniform(1e3, 1e4, channels), rng.uniform(5e2, 5e3, channels), \
        rng.uniform(0.8, 2.5, channels)
    now = rng.uniform(5e2, 5e3, channels)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        allocate(lambda s: beta * hill(s, k, n), now * 0.7, now * 1.3, now.sum(), start=now)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def run_seed(seed: int, n_boot: int, end_date: dt.date, contrast: bool) -> list[dict]:
    result = simulate(SimConfig(seed=seed, days=365, scale=1.0, end_date=end_date))
    daily = channel_daily(result)
    CSV_DIR.mkdir(parents=True, exist_ok=True)
    daily.to_csv(CSV_DIR / f"sim_seed{seed}_channels.csv", index=False)
    result.outcome.to_csv(CSV_DIR / f"sim_seed{seed}_outcome.csv", index=False)
    pd.DataFrame(result.truth["channels"]).T[list(TRUTH_COLUMNS)].to_csv(
        CSV_DIR / f"sim_seed{seed}_truth.csv", index_label="channel")
    lift = result.lift_tests[result.lift_tests["metric"] == "revenue"]
    rows = []
    for name, options in {DEFAULT: {}, **(CONTRASTS if contrast else {})}.items():
        started = time.perf_counter()
        options = {"lift_tests": lift, **options}
        curves = budget.fit(daily, result.outcome, seed=0, n_boot=n_boot, **options)
        fitted = time.perf_counter()
        plan = budget.plan(curves, float(curves.current.sum()), max_change=MAX_CHANGE)
        done = time.perf_counter()
        table = roi_table(result, curves)
        print(f"\nseed {seed} — {name}: fit {fitted - started:.2f} s, plan "
              f"{done - fitted:.3f} s, R² {curves.r2:.3f}")
        print(table[["true_roi", "reported_roi", "modelled_roi", "modelled_roi_lo",
                     "modelled_roi_hi", "roi_err", "reported_err", "true_mroi", "mroi",
                     "mroi_err"]].round(3).to_string())
        share = oracle_share(result, curves, plan.split)
        if name == DEFAULT:
            table.assign(oracle_share=share, fit_s=fitted - started).to_csv(
                CSV_DIR / f"sim_seed{seed}_demetra.csv", index_label="channel")
        print(f"oracle share {share:.1%}; predicted uplift {plan.uplift[0]:,.0f} "
              f"[{plan.uplift[1]:,.0f}, {plan.uplift[2]:,.0f}] USD/day")
        error = table["roi_err"].abs()
        rows.append({"seed": seed, "variant": name, "fit_s": fitted - started,
                     "plan_s": done - fitted, "median_abs_roi_err": error.median(),
                     "max_abs_roi_err": error.max(), "worst": error.idxmax(),
                     "within_15pct": int((error < 0.15).sum()),
                     "reported_abs_err": table["reported_err"].abs().median(),
                     "roi_covered": int(table["covered"].sum()),
                     "mroi_covered": int(table["mroi_covered"].sum()), "oracle_share": share})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--n-boot", type=int, default=40)
    parser.add_argument("--end-date", type=dt.date.fromisoformat, default=END_DATE)
    parser.add_argument("--contrast", action="store_true",
                        help="also fit without the attribution prior and on the outcome alone")
    args = parser.parse_args()
    rows = pd.DataFrame([row for seed in args.seeds
                         for row in run_seed(seed, args.n_boot, args.end_date, args.contrast)])
    print("\nsummary (ROI errors are |modelled / true − 1| over the 7 channels; covered = "
          "intervals holding the truth, of 7)")
    print(rows.round(3).to_string(index=False))
    default = rows[rows["variant"] == DEFAULT]
    print(f"\ndefault, all seeds: {default['within_15pct'].sum()} of {7 * len(default)} "
          f"channels within 15 %; 95 % intervals cover the true ROI "
          f"{default['roi_covered'].sum() / (7 * len(default)):.0%} and mROI "
          f"{default['mroi_covered'].sum() / (7 * len(default)):.0%} of the time; oracle "
          f"share ≥ 95 % on {(default['oracle_share'] >= 0.95).sum()} of {len(default)} seeds")
    print(f"optimiser alone, 10 channels: {optimiser_runtime():.3f} s")


if __name__ == "__main__":
    main()
