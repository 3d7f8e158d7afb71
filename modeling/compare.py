"""Channel (or campaign) comparison on one metric, with intervals, verdicts and ranks.

Formulas come from the metric registry (:mod:`db.metrics`), always applied to sums, so a
channel's ROAS here is the same number the overview shows. Two kinds of uncertainty:

* Rates whose numerator counts a subset of the denominator (CTR, CR, lead rate, engagement
  rate) get a beta-binomial posterior: a Jeffreys Beta(½, ½) prior on pooled counts, with the
  counts shrunk by the day-to-day overdispersion (Pearson χ² / dof across days). Without that
  shrinkage a million impressions give an interval a hair wide even when the CTR swings from
  day to day, and every difference would look "certain".
* Every other metric (ROAS, ROI, CPA, CPL, ...) gets a paired bootstrap over days: the same
  resampled days for all groups, metric = ratio of resampled sums. Pairing keeps shared
  shocks (a holiday lifting every channel) from inflating the uncertainty of differences.

Verdicts compare each group with the pooled rest (ratio of the rest's sums), in the metric's
"better" direction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from db import metrics as registry

#: Metrics whose inputs are (successes, trials) of the same events, so a binomial model fits.
RATE_METRICS = frozenset({"ctr", "cr", "lead_rate", "engagement_rate"})
SURE, LIKELY = 0.95, 0.80


def _pivot(daily: pd.DataFrame, by: str, columns: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """One day × group table of sums per input column (missing day = 0)."""
    sums = daily.groupby(["date", by])[list(columns)].sum()
    return {c: sums[c].unstack(by, fill_value=0.0).sort_index(axis=1) for c in columns}


def _beta_draws(successes: np.ndarray, trials: np.ndarray, n_draws: int,
                rng: np.random.Generator, alpha: float) -> tuple[np.ndarray, ...]:
    """Posterior (lo, hi, draws) of a rate per column of day × group count tables."""
    k, n = successes.sum(axis=0), trials.sum(axis=0)
    p = np.divide(k, n, out=np.zeros_like(k), where=n > 0)
    expected = trials * p
    variance = expected * (1 - p)
    pearson = np.divide((successes - expected) ** 2, variance,
                        out=np.zeros_like(variance), where=variance > 0)
    days = np.maximum((trials > 0).sum(axis=0) - 1, 1)
    dispersion = np.maximum(pearson.sum(axis=0) / days, 1.0)
    a, b = k / dispersion + 0.5, (n - k) / dispersion + 0.5
    lo, hi = stats.beta.ppf(alpha / 2, a, b), stats.beta.ppf(1 - alpha / 2, a, b)
    return lo, hi, rng.beta(a, b, size=(n_draws, a.size))


def _ratio_draws(metric: registry.Metric, tables: dict[str, np.ndarray],
                 weights: np.ndarray) -> np.ndarray:
    """Metric on resampled sums: weights is boot × day (how often each day was drawn)."""
    boot_sums = {c: (weights @ t).ravel() for c, t in tables.items()}
    shape = (weights.shape[0], next(iter(tables.values())).shape[1])
    return np.asarray(metric.compute(boot_sums), dtype=float).reshape(shape)


def _verdict(prob_better: float) -> str:
    if prob_better >= SURE:
        return "better"
    if prob_better <= 1 - SURE:
        return "worse"
    if prob_better >= LIKELY:
        return "likely better"
    if prob_better <= 1 - LIKELY:
        return "likely worse"
    return "no clear difference"


def compare_channels(daily: pd.DataFrame, metric: str, n_boot: int = 1000, seed: int = 0,
                     by: str = "channel", level: float = 0.95) -> pd.DataFrame:
    """Compare groups on ``metric`` with ``level`` intervals; best group first.

    ``daily`` has one row per date and group (``by``: channel or campaign) with the base
    measures the metric needs. Returns [by, value, lo, hi, prob_better, verdict, prob_best,
    rank, rank_lo, rank_hi]: ``prob_better`` is P(group beats the pooled rest), ``prob_best``
    P(group is the best of all), and ``rank_lo..rank_hi`` the rank's interval, so groups whose
    rank intervals overlap are not told apart. Undefined values (no spend, no conversions) are
    NaN and rank last.
    """
    spec = registry.get(metric)
    rng = np.random.default_rng(seed)
    alpha = 1 - level
    pivots = _pivot(daily, by, spec.inputs)
    groups = next(iter(pivots.values())).columns
    tables = {c: p.reindex(columns=groups, fill_value=0.0).to_numpy(float)
              for c, p in pivots.items()}
    rest_tables = {c: t.sum(axis=1, keepdims=True) - t for c, t in tables.items()}
    value = np.asarray(spec.compute({c: t.sum(axis=0) for c, t in tables.items()}), float)

    if metric in RATE_METRICS:
        successes, trials = spec.inputs
        lo, hi, draws = _beta_draws(tables[successes], tables[trials], n_boot, rng, alpha)
        _, _, rest = _beta_draws(rest_tables[successes], rest_tables[trials], n_boot, rng,
                                 alpha)
    else:
        n_days = len(next(iter(tables.values())))
        weights = rng.multinomial(n_days, np.full(n_days, 1 / n_days), size=n_boot)
        draws = _ratio_draws(spec, tables, weights)
        rest = _ratio_draws(spec, rest_tables, weights)
        lo, hi = np.full((2, len(groups)), np.nan)
        defined = np.isfinite(draws).any(axis=0)  # a group with no leads has no CPL at all
        lo[defined], hi[defined] = np.nanquantile(draws[:, defined], [alpha / 2, 1 - alpha / 2],
                                                  axis=0)

    sign = 1.0 if spec.higher_is_better else -1.0
    score = np.nan_to_num(sign * draws, nan=-np.inf)
    rest_score = np.nan_to_num(sign * rest, nan=-np.inf)
    prob_better = (score > rest_score).mean(axis=0) + 0.5 * (score == rest_score).mean(axis=0)
    ranks = stats.rankdata(-score, axis=1, method="min")
    is_best = score == score.max(axis=1, keepdims=True)
    prob_best = (is_best / is_best.sum(axis=1, keepdims=True)).mean(axis=0)
    out = pd.DataFrame({
        by: groups.to_numpy(), "value": value, "lo": lo, "hi": hi,
        "prob_better": prob_better if len(groups) > 1 else np.nan,
        "verdict": [_verdict(p) for p in prob_better] if len(groups) > 1 else "only one",
        "prob_best": prob_best,
        "rank_lo": np.quantile(ranks, alpha / 2, axis=0, method="lower"),
        "rank_hi": np.quantile(ranks, 1 - alpha / 2, axis=0, method="higher"),
    })
    out["rank"] = stats.rankdata(np.nan_to_num(-sign * value, nan=np.inf), method="min")
    columns = [by, "value", "lo", "hi", "prob_better", "verdict", "prob_best", "rank",
               "rank_lo", "rank_hi"]
    return out[columns].sort_values("rank", kind="stable", ignore_index=True)
