"""A small marketing-mix data generator whose true curves are known, for the unit tests.

It draws from the model's own family (log-linear baseline, adstock, Hill; no yearly season
within its 300 days), so a failure to recover it points at the estimator, not at a mismatch
of model and data. Spend moves in budget regimes (blocks of six weeks), without which no
curve is identifiable. Platforms claim 1.5 × what they cause, with 5 % daily noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from modeling.response import geometric_adstock, hill

CHANNELS = ("alpha", "beta", "gamma", "delta")
MEAN_SPEND = np.array([1000.0, 2000.0, 800.0, 1500.0])
DECAY = np.array([0.2, 0.5, 0.3, 0.1])
K = np.array([1500.0, 800.0, 600.0, 3000.0])
N = np.array([1.2, 1.5, 1.0, 1.3])
BETA = np.array([2500.0, 4000.0, 1500.0, 5000.0])
OVER_ATTRIBUTION = 1.5


@dataclass(frozen=True)
class MixData:
    daily: pd.DataFrame     # date, channel, spend, revenue (platform claims)
    outcome: pd.DataFrame   # date, revenue (baseline + true incremental)
    spend: np.ndarray       # days × channels

    def true_roi(self) -> np.ndarray:
        contribution = BETA * hill(geometric_adstock(self.spend, DECAY), K, N)
        return contribution.sum(axis=0) / self.spend.sum(axis=0)

    @staticmethod
    def true_response(spend: np.ndarray) -> np.ndarray:
        """Steady-state daily incremental revenue per channel."""
        return BETA * hill(np.asarray(spend, float), K, N)


def make_mix(seed: int = 0, days: int = 300, noise: float = 0.005) -> MixData:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    blocks = rng.normal(0.0, 0.4, size=(days // 42 + 1, len(CHANNELS)))[np.arange(days) // 42]
    spend = MEAN_SPEND * np.clip(np.exp(blocks), 0.45, 2.2) * rng.lognormal(0, 0.1, (days, 4))
    contribution = BETA * hill(geometric_adstock(spend, DECAY), K, N)
    weekly = np.log([1.0, 1.05, 1.1, 1.05, 1.0, 0.85, 0.9])[dates.dayofweek]
    baseline = 10000 * np.exp(0.1 * np.linspace(0, 1, days) + weekly)
    outcome = (baseline + contribution.sum(axis=1)) * rng.lognormal(0, noise, days)
    claims = OVER_ATTRIBUTION * contribution * rng.lognormal(0, 0.05, contribution.shape)
    daily = pd.DataFrame({
        "date": np.repeat(dates, len(CHANNELS)), "channel": np.tile(CHANNELS, days),
        "spend": spend.ravel(), "revenue": claims.ravel()})
    return MixData(daily, pd.DataFrame({"date": dates, "revenue": outcome}), spend)
