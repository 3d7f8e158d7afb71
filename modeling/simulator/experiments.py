"""Lift experiments (geo holdouts) on the simulated channels: what calibrates a mix model.

An advertiser that wants to know what a channel really causes switches it off in a random
set of regions for a few weeks and compares: the measured lift is the outcome the channel's
spend brought *during the test window*, scaled to the whole market, with a standard error.
Robyn (``calibration_input``), PyMC-Marketing (``add_lift_test_measurements``) and Meridian
(ROI priors) all take such results, because the total outcome alone often cannot tell a
small channel's effect from noise in the baseline.

Here each channel is tested every ``EVERY_DAYS`` days for ``TEST_DAYS`` days, starting at a
seed-dependent offset; a result is published ``REPORT_LAG_DAYS`` after the test ends (like a
study's read-out), so a longer window reveals more tests and never changes a published one.
The truth of a test is Σ over its days of (incremental outcome at the actual spend −
incremental outcome with the channel's spend zeroed in the window): carry-over from spend
before the window still counts in the holdout, as it would in the regions held out.
The measurement multiplies it by 1 + ``CV`` · z (z standard normal, one per test) and reports
a standard error of ``CV`` × the true lift — a ±20 % 95 % interval, typical of a four-week
geo test. The error is the design's precision (set by the outcome's noise in the held-out
regions), so it does not shrink when a draw happens to come out low.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from modeling.simulator import noise
from modeling.simulator.channels import CHANNELS
from modeling.simulator.response import incremental_conversions

TEST_DAYS = 28
EVERY_DAYS = 182
REPORT_LAG_DAYS = 7
CV = 0.10
COLUMNS = ["channel", "date_from", "date_to", "metric", "lift", "standard_error", "spend"]


def _windows(seed: int, c: int, n_days: int) -> list[tuple[int, int]]:
    """(first, last) day indices of channel c's tests that have been read out by day n_days−1."""
    first = 30 + int(noise.uniform(seed, "lift_start", c) * 120)
    starts = range(first, n_days, EVERY_DAYS)
    return [(s, s + TEST_DAYS - 1) for s in starts
            if s + TEST_DAYS - 1 + REPORT_LAG_DAYS <= n_days - 1]


def lift_tests(seed: int, channels: dict[str, dict], dates: pd.DatetimeIndex,
               spend_usd: np.ndarray, season: np.ndarray) -> pd.DataFrame:
    """Published lift tests, long format: one row per test and metric (conversions, revenue
    in USD), with the channel's spend (USD) during the window."""
    rows = []
    for c, slug in enumerate(CHANNELS):
        truth = channels[slug]
        for k, (lo, hi) in enumerate(_windows(seed, c, len(dates))):
            held_out = spend_usd[:, c].copy()
            held_out[lo:hi + 1] = 0.0
            window = slice(lo, hi + 1)
            true_lift = (incremental_conversions(truth, spend_usd[:, c], season)[window].sum()
                         - incremental_conversions(truth, held_out, season)[window].sum())
            factor = 1.0 + CV * float(noise.normal(seed, "lift_measurement", c, k))
            for metric, unit in (("conversions", 1.0), ("revenue", truth["value_per_conversion"])):
                rows.append({"channel": slug, "date_from": dates[lo], "date_to": dates[hi],
                             "metric": metric, "lift": round(true_lift * unit * factor, 2),
                             "standard_error": round(CV * true_lift * unit, 2),
                             "spend": round(float(spend_usd[window, c].sum()), 2)})
    return pd.DataFrame(rows, columns=COLUMNS)
