"""Channel-level truth: per-seed channel parameters, the daily spend plan, true ROI and mROI.

Everything here is at channel × day grain in USD. The plan has piecewise-constant budget
regimes (blocks of 35–70 days, multipliers ≈ 0.45–2.2) on top of trend, weekly pattern and AR(1)
noise: without such shifts spend would hover around one level and no model could tell a
saturated channel from a linear one.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from modeling.simulator import noise
from modeling.simulator.channels import CHANNELS, SPECS
from modeling.simulator.response import hill, incremental_conversions, response, season_multiplier

SEASON = {"amplitude": 0.15, "peak_day_of_year": 340}
_REGIME_SIGMA = 0.35
_SPEND_NOISE = {"sigma": 0.12, "ar": 0.5}


def _jitter(seed: int, name: str, c: int, sigma: float) -> float:
    """Median-one multiplicative jitter of a base parameter."""
    return float(np.exp(sigma * noise.normal(seed, f"jitter:{name}", c)))


def channel_truths(seed: int, scale: float) -> dict[str, dict]:
    """Per-channel parameters of the generating process (money already multiplied by `scale`).

    Seed-dependent jitter (±10–15 %) keeps every seed's truth slightly different, so a model
    validated on one seed is not merely tuned to constants.
    """
    out: dict[str, dict] = {}
    for c, slug in enumerate(CHANNELS):
        spec = SPECS[slug]
        mean_spend = spec.mean_spend * scale * _jitter(seed, "spend", c, 0.10)
        k = spec.hill_k * scale * _jitter(seed, "hill_k", c, 0.10)
        value = spec.value_per_conversion * _jitter(seed, "value", c, 0.05)
        roi = spec.target_roi * _jitter(seed, "roi", c, 0.10)
        beta = roi * mean_spend / (value * float(hill(mean_spend, k, spec.hill_n)))
        out[slug] = {
            "adstock_decay": round(min(0.85, spec.adstock_decay * _jitter(seed, "decay", c, 0.10)), 4),
            "hill_k": round(k, 2),
            "hill_n": spec.hill_n,
            "beta": round(beta, 4),
            "value_per_conversion": round(value, 2),
            "over_attribution": round(float(np.clip(spec.over_attribution * _jitter(seed, "oa", c, 0.05),
                                                    1.1, 1.8)), 3),
            "close_rate": spec.close_rate,
            "cpm": spec.cpm,
            "ctr": spec.ctr,
            "engagement_rate": spec.engagement_rate,
            "video_view_rate": spec.video_view_rate,
            "best_post_hour": spec.best_post_hour,
            "spend_plan": {
                "mean_spend": round(mean_spend, 2),
                "trend_per_year": spec.spend_trend,
                "weekly": list(spec.weekly),
                "regime_days": int(35 + float(noise.uniform(seed, "regime_days", c)) * 36),
                "regime_sigma": _REGIME_SIGMA,
                "noise_sigma": _SPEND_NOISE["sigma"],
                "noise_ar": _SPEND_NOISE["ar"],
            },
        }
    return out


def spend_plan(seed: int, c: int, plan: dict, dates: pd.DatetimeIndex) -> np.ndarray:
    """Daily USD spend of channel number `c`; day t depends only on days ≤ t (prefix-stable)."""
    t = np.arange(len(dates))
    trend = np.maximum(0.3, 1.0 + plan["trend_per_year"] * t / 365.0)
    weekly = np.asarray(plan["weekly"])[dates.dayofweek.to_numpy()]
    regime = np.clip(np.exp(plan["regime_sigma"] * noise.normal(seed, "regime", c, t // plan["regime_days"])),
                     0.45, 2.2)
    sigma, phi = plan["noise_sigma"], plan["noise_ar"]
    ar = lfilter([sigma * np.sqrt(1 - phi * phi)], [1.0, -phi], noise.normal(seed, "spend_noise", c, t))
    return plan["mean_spend"] * trend * weekly * regime * np.exp(ar - 0.5 * sigma * sigma)


def channel_series(seed: int, channels: dict[str, dict], dates: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """(spend USD, incremental conversions), both shaped (days, channels) in CHANNELS order."""
    season = season_multiplier(dates, SEASON)
    spend = np.column_stack([spend_plan(seed, c, channels[s]["spend_plan"], dates) for c, s in enumerate(CHANNELS)])
    conv = np.column_stack([incremental_conversions(channels[s], spend[:, c], season)
                            for c, s in enumerate(CHANNELS)])
    return spend, conv


def roi_and_mroi(channel_truth: dict, spend: np.ndarray, season: np.ndarray) -> tuple[float, float]:
    """Meridian-style ROI (outcome lost when the channel's spend is zeroed, per unit of spend)
    and mROI (outcome gained from +1 % spend, per unit of that extra spend), over the window."""
    base = response(channel_truth, spend, season).sum()
    zero = response(channel_truth, np.zeros_like(spend), season).sum()
    up = response(channel_truth, spend * 1.01, season).sum()
    total = spend.sum()
    return float((base - zero) / total), float((up - base) / (0.01 * total))
