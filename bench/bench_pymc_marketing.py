"""PyMC-Marketing's MMM on the same simulator data, side by side with ours (one-off).

Runs in its own venv (PyMC-Marketing is not a project dependency):

    python3 -m venv /work/bench-venv && /work/bench-venv/bin/pip install pymc-marketing
    PYTHONPATH=. .venv/bin/python bench/bench_budget.py --seeds 42     # writes data/bench/
    PYTHONPATH=. /work/bench-venv/bin/python bench/bench_pymc_marketing.py --seed 42

It reads the CSVs bench_budget.py writes (channel-level USD data, the business outcome, the
true curves and our results), fits PyMC-Marketing's MMM (geometric adstock, logistic
saturation, yearly Fourier terms, trend and weekday controls) by NUTS, and prints ROI
recovery and the oracle share of its budget split next to ours. Its split comes from
PyMC-Marketing's own BudgetOptimizer and, to separate estimation from optimisation, from its
posterior-mean steady-state curves optimised by ``modeling.allocate`` (numpy + scipy only,
so it imports here).
"""

from __future__ import annotations

import sys
from pathlib import Path as _Path

sys.path.insert(0, str(_Path(__file__).resolve().parents[1]))  # run as a script from anywhere
import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from pymc_marketing.mmm import MMM, GeometricAdstock, LogisticSaturation

from modeling.allocate import allocate

DATA = Path(__file__).resolve().parents[1] / "data" / "bench"
MAX_CHANGE = 0.3
CURRENT_DAYS = 28


def true_steady(truth: pd.DataFrame):
    """Daily spend per channel → true steady-state incremental revenue (season left out)."""
    beta = (truth["beta"] * truth["value_per_conversion"]).to_numpy()
    k, n = truth["hill_k"].to_numpy(), truth["hill_n"].to_numpy()
    return lambda s: beta / (1.0 + (k / np.maximum(np.asarray(s, float), 1e-12)) ** n)


def share_of_oracle(truth_fn, current: np.ndarray, split: np.ndarray) -> float:
    lower, upper = current * (1 - MAX_CHANGE), current * (1 + MAX_CHANGE)
    oracle = allocate(truth_fn, lower, upper, current.sum(), start=current)
    base = truth_fn(current).sum()
    return float((truth_fn(split).sum() - base) / (truth_fn(oracle).sum() - base))


def fitted_steady(mmm: MMM):
    """Posterior-mean steady-state daily contribution per channel at a daily spend.

    With normalised geometric adstock a constant spend's adstock is the spend itself, so the
    steady state is the logistic saturation of scaled spend, times beta and the target scale.
    """
    posterior = mmm.fit_result
    beta = posterior["saturation_beta"].stack(sample=("chain", "draw")).transpose(
        "sample", "channel").to_numpy()
    lam = posterior["saturation_lam"].stack(sample=("chain", "draw")).transpose(
        "sample", "channel").to_numpy()
    scale = np.asarray(mmm.channel_scale, float)

    def response(spend: np.ndarray) -> np.ndarray:
        x = np.asarray(spend, float)[..., None, :] / scale
        curve = (1 - np.exp(-lam * x)) / (1 + np.exp(-lam * x))
        return mmm.target_scale * (beta * curve).mean(axis=-2)

    return response


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    args = parser.parse_args()
    channels_df = pd.read_csv(DATA / f"sim_seed{args.seed}_channels.csv", parse_dates=["date"])
    outcome = pd.read_csv(DATA / f"sim_seed{args.seed}_outcome.csv", parse_dates=["date"])
    truth = pd.read_csv(DATA / f"sim_seed{args.seed}_truth.csv", index_col="channel")
    ours = pd.read_csv(DATA / f"sim_seed{args.seed}_demetra.csv", index_col="channel")

    spend = channels_df.pivot(index="date", columns="channel", values="spend").fillna(0.0)
    channels = list(spend.columns)
    truth = truth.loc[channels]
    X = spend.reset_index()
    X["t"] = np.linspace(0, 1, len(X))
    controls = ["t"]
    for day in range(1, 7):
        X[f"dow{day}"] = (X["date"].dt.day_of_week == day).astype(float)
        controls.append(f"dow{day}")
    y = outcome.set_index("date")["revenue"].reindex(spend.index).to_numpy()

    mmm = MMM(date_column="date", channel_columns=channels, control_columns=controls,
              adstock=GeometricAdstock(l_max=14), saturation=LogisticSaturation(),
              yearly_seasonality=2)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mmm.fit(X, y, chains=2, cores=1, draws=args.draws, tune=args.tune,
                random_seed=args.seed, progressbar=False)
    fit_s = time.perf_counter() - started

    contribution = mmm.compute_channel_contribution_original_scale().mean(dim=("chain", "draw"))
    roi = pd.Series(contribution.sum(dim="date").to_numpy() / spend.sum().to_numpy(),
                    index=channels)
    table = pd.DataFrame({
        "true_roi": truth["true_roi"], "demetra_roi": ours["modelled_roi"], "pymc_roi": roi,
        "demetra_err": ours["modelled_roi"] / truth["true_roi"] - 1,
        "pymc_err": roi / truth["true_roi"] - 1})
    print(f"seed {args.seed}: PyMC-Marketing fit (NUTS, 2 chains × {args.draws} draws, "
          f"{args.tune} tune) {fit_s:.0f} s; ours {ours['fit_s'].iloc[0]:.1f} s")
    print(table.round(3).to_string())
    print(f"median |ROI error|: ours {table['demetra_err'].abs().median():.1%}, "
          f"PyMC-Marketing {table['pymc_err'].abs().median():.1%}")

    current = spend.tail(CURRENT_DAYS).mean().to_numpy()
    truth_fn = true_steady(truth)
    curves = fitted_steady(mmm)
    started = time.perf_counter()
    split = allocate(curves, current * (1 - MAX_CHANGE), current * (1 + MAX_CHANGE),
                     current.sum(), start=current)
    ours_on_pymc = time.perf_counter() - started
    print(f"oracle share: ours {ours['oracle_share'].iloc[0]:.1%}; PyMC-Marketing curves + our "
          f"SLSQP {share_of_oracle(truth_fn, current, split):.1%} ({ours_on_pymc:.1f} s)")
    try:
        bounds = {c: (v * (1 - MAX_CHANGE), v * (1 + MAX_CHANGE))
                  for c, v in zip(channels, current)}
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            allocation, result = mmm.optimize_budget(budget=float(current.sum()), num_periods=28,
                                                     budget_bounds=bounds)
        own = np.array([float(allocation.sel(channel=c)) for c in channels])
        print(f"PyMC-Marketing's own optimiser: {time.perf_counter() - started:.1f} s, "
              f"{result.nit} iterations, moved {np.abs(own / current - 1).max():.1%} at most; "
              f"oracle share {share_of_oracle(truth_fn, current, own):.1%}")
    except Exception as error:  # a deprecated API; report, do not hide, its failure
        print(f"PyMC-Marketing's own optimiser failed: {type(error).__name__}: {error}")


if __name__ == "__main__":
    main()
