"""The true response of incremental conversions to spend: geometric adstock → Hill → × season.

Kept free of the rest of the simulator so an allocator or a test can evaluate any candidate
spend series against the truth (an "oracle"). Spend arrays may carry leading axes (scenarios);
time is the last axis.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lfilter


def adstock(spend: np.ndarray, decay: float) -> np.ndarray:
    """Normalised geometric adstock a_t = (1−θ)·s_t + θ·a_{t−1}.

    Normalised so a constant spend s has adstock s, which keeps the Hill half-saturation K in
    USD/day. The carry-over before day 0 is taken as steady state at the first day's spend
    (not zero), so a series has no artificial ramp-up and a constant candidate budget is
    evaluated at its steady state from day one.
    """
    x = np.asarray(spend, dtype=np.float64)
    zi = decay * x[..., :1]
    out, _ = lfilter([1.0 - decay], [1.0, -decay], x, axis=-1, zi=zi)
    return out


def hill(x: np.ndarray, k: float, n: float) -> np.ndarray:
    """x^n / (x^n + K^n), written as 1 / (1 + (K/x)^n) so large x cannot overflow."""
    x = np.asarray(x, dtype=np.float64)
    ratio = np.divide(k, x, out=np.full(x.shape, np.inf), where=x > 0)
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + ratio**n)


def season_multiplier(dates: pd.DatetimeIndex | pd.Series | np.ndarray, season: dict) -> np.ndarray:
    """Yearly multiplicative season 1 + A·cos(2π(day_of_year − peak)/365.25), from truth["season"]."""
    doy = pd.DatetimeIndex(pd.to_datetime(np.asarray(dates))).dayofyear.to_numpy()
    return 1.0 + season["amplitude"] * np.cos(2 * np.pi * (doy - season["peak_day_of_year"]) / 365.25)


def incremental_conversions(channel_truth: dict, spend: np.ndarray, season: np.ndarray | None = None) -> np.ndarray:
    """Daily incremental conversions for a daily USD spend series of one channel.

    `season` (multipliers aligned with the last axis) is *not* included unless passed: the
    simulator passes `season_multiplier(dates, truth["season"])`; callers comparing budget
    splits can leave it out because it multiplies every split alike.
    """
    x = adstock(spend, channel_truth["adstock_decay"])
    y = channel_truth["beta"] * hill(x, channel_truth["hill_k"], channel_truth["hill_n"])
    return y if season is None else y * season


def response(channel_truth: dict, spend: np.ndarray, season: np.ndarray | None = None) -> np.ndarray:
    """Daily incremental revenue (USD) for a daily USD spend series; see `incremental_conversions`."""
    return incremental_conversions(channel_truth, spend, season) * channel_truth["value_per_conversion"]
