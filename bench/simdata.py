"""The demo simulator's output at channel × day grain in USD, and its true steady-state curves.

Shared by the benches and the ground-truth tests: the models take per-channel daily frames
in one currency, while the simulator reports per ad in each account's currency.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from modeling.simulator import SimResult, response

MEASURES = ["spend", "revenue", "conversions", "leads", "clicks", "impressions"]


def channel_daily(result: SimResult) -> pd.DataFrame:
    """[date, channel, spend, revenue, conversions, leads, clicks, impressions], money in USD.

    Platform-reported numbers (over-attributed revenue and conversions, anomalies included),
    converted with each day's rate of the ad account's currency.
    """
    ads = result.ads[["ad_key", "account_key", "platform"]].merge(
        result.accounts[["account_key", "currency"]], on="account_key")
    daily = result.daily.merge(ads, on="ad_key").merge(result.fx, on=["date", "currency"])
    for column in ("spend", "revenue"):
        daily[column] = daily[column] * daily["rate"]
    out = daily.rename(columns={"platform": "channel"}).groupby(
        ["date", "channel"], as_index=False)[MEASURES].sum()
    return out.sort_values(["date", "channel"], ignore_index=True)


def true_steady_response(result: SimResult, channels: tuple[str, ...]
                         ) -> Callable[[np.ndarray], np.ndarray]:
    """Daily USD spend per channel (channels on the last axis) → true steady-state daily
    incremental revenue per channel.

    A one-day series is at steady state, because the simulator's adstock starts from the first
    day's spend. The season multiplier is left out: it scales every split alike.
    """
    truths = [result.truth["channels"][c] for c in channels]

    def steady(spend: np.ndarray) -> np.ndarray:
        spend = np.asarray(spend, float)
        return np.stack([response(t, spend[..., i:i + 1])[..., 0]
                         for i, t in enumerate(truths)], axis=-1)

    return steady
