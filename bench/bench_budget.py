"""Response curves and budget allocation measured against the demo simulator's ground truth.

Prints, per seed: (a) per-channel ROI recovery error of the modelled ROI (and, for contrast,
of the platform-reported ROI), mROI error and whether the 95 % interval covers the truth;
(b) the share of the oracle-optimal incremental return that the recommended split achieves
over the current split (same total budget, ±30 % per channel); (d) runtimes: fit + optimise
for 7 channels × 365 days, and the optimiser alone for 10 channels. Also writes the
simulator's channel-level data, its truth and our default variant's results to CSV (under
data/bench/) for ``bench_pymc_marketing.py``.

    PYTHONPATH=. .venv/bin/python bench/bench_budget.py [--seeds 42 7 11] [--n-boot 20]
"""

from __future__ import annotations

import argparse
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
#: Written for bench_pymc_marketing.py, which cannot import the simulator.
TRUTH_COLUMNS = ("true_roi", "true_mroi", "adstock_decay", "hill_k", "hill_n", "beta",
                 "value_per_conversion")
VARIANTS = {
    "default (claims shape + attribution prior)": {},
    "claims shape, no prior": {"attribution_prior": None},
    "outcome only (joint fit)": {"shape_from_reports": False},
}


def oracle_share(result, curves: budget.Curves, split: dict[str, float]) -> float:
    """(true gain of split over current) / (true gain of the oracle split over current)."""
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


def run_seed(seed: int, n_boot: int) -> list[dict]:
    result = simulate(SimConfig(seed=seed, days=365, scale=1.0))
    daily = channel_daily(result)
    CSV_DIR.mkdir(parents=True, exist_ok=True)
    daily.to_csv(CSV_DIR / f"sim_seed{seed}_channels.csv", index=False)
    result.outcome.to_csv(CSV_DIR / f"sim_seed{seed}_outcome.csv", index=False)
    pd.DataFrame(result.truth["channels"]).T[list(TRUTH_COLUMNS)].to_csv(
        CSV_DIR / f"sim_seed{seed}_truth.csv", index_label="channel")
    rows = []
    for name, options in VARIANTS.items():
        started = time.perf_counter()
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
        if not options:
            table.assign(oracle_share=share, fit_s=fitted - started).to_csv(
                CSV_DIR / f"sim_seed{seed}_demetra.csv", index_label="channel")
        print(f"oracle share {share:.1%}; predicted uplift {plan.uplift[0]:,.0f} "
              f"[{plan.uplift[1]:,.0f}, {plan.uplift[2]:,.0f}] USD/day")
        rows.append({"seed": seed, "variant": name, "fit_s": fitted - started,
                     "plan_s": done - fitted, "median_abs_roi_err": table["roi_err"].abs().median(),
                     "max_abs_roi_err": table["roi_err"].abs().max(),
                     "within_15pct": int((table["roi_err"].abs() < 0.15).sum()),
                     "reported_abs_err": table["reported_err"].abs().median(),
                     "coverage": table["covered"].mean(), "oracle_share": share})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--n-boot", type=int, default=20)
    args = parser.parse_args()
    rows = [row for seed in args.seeds for row in run_seed(seed, args.n_boot)]
    print("\nsummary (ROI errors are |modelled / true − 1| over the 7 channels)")
    print(pd.DataFrame(rows).round(3).to_string(index=False))
    print(f"\noptimiser alone, 10 channels: {optimiser_runtime():.3f} s")


if __name__ == "__main__":
    main()
