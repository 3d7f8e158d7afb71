"""The business's side of the truth: its own conversions without ads, and currency rates.

The baseline is what the business would sell with no paid media at all (trend × weekday ×
season × noise). `outcome` adds the channels' *true* incremental conversions on top — never the
platforms' over-attributed claims — which is what a marketing-mix model should recover.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from modeling.simulator.channels import CURRENCIES
from modeling.simulator.noise import lognormal_factor, normal

BASELINE = {"conversions_per_day": 650.0, "trend_per_year": 0.08,
            "weekly": [1.05, 1.04, 1.02, 1.0, 0.97, 0.94, 0.98], "noise_sigma": 0.05,
            "value_per_conversion": 70.0, "seasonal": True}
#: currency → (USD value of one unit on day 0, daily volatility of its log random walk)
FX = {"USD": (1.0, 0.0), "EUR": (1.08, 0.004), "RUB": (0.011, 0.007)}


def baseline_truth(scale: float) -> dict:
    return {**BASELINE, "conversions_per_day": BASELINE["conversions_per_day"] * scale}


def baseline_conversions(seed: int, baseline: dict, dates: pd.DatetimeIndex, season: np.ndarray) -> np.ndarray:
    t = np.arange(len(dates))
    trend = np.maximum(0.3, 1.0 + baseline["trend_per_year"] * t / 365.0)
    weekly = np.asarray(baseline["weekly"])[dates.dayofweek.to_numpy()]
    noise = lognormal_factor(seed, "baseline", baseline["noise_sigma"], t)
    return baseline["conversions_per_day"] * trend * weekly * (season if baseline["seasonal"] else 1.0) * noise


def fx_rates(seed: int, n_days: int) -> np.ndarray:
    """(days, CURRENCIES) USD per unit; a random walk in logs, so day t depends only on days ≤ t."""
    t = np.arange(n_days)
    out = np.empty((n_days, len(CURRENCIES)))
    for i, currency in enumerate(CURRENCIES):
        level, vol = FX[currency]
        out[:, i] = np.round(level * np.exp(np.cumsum(vol * normal(seed, "fx", i, t))), 8)
    return out
