"""Labelled data incidents injected into the ad reports (not into the truth or the outcome).

Each kind distorts what a platform *reports* for one campaign on one or two days — a broken
pixel, a runaway budget, an auction price spike, a delivery outage — so an anomaly detector can
be scored against labels while the business outcome stays untouched.

The schedule is a function of (seed, anomaly number) only: start days advance by 45–80 days
from day 20–50, i.e. 4–8 incidents per year. An incident is reported only once it has ended
at least two days before the window's last day; a longer window therefore "reveals" an
incident in what were the last two days of a shorter one — like a platform restating recent
days, which an hourly sync with a ≥ 2-day lookback picks up.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from modeling.simulator.ads import AdDays
from modeling.simulator.dimensions import Dimensions
from modeling.simulator.noise import uniform

_VOLUME = ("spend", "impressions", "reach", "clicks", "engagements", "video_views")


@dataclass(frozen=True)
class Kind:
    name: str
    metric: str          # the label: which metric looks wrong
    direction: str       # 'spike' | 'drop'
    factor: float        # typical multiplier; the actual one varies ±15 %
    days: int
    scaled: tuple[str, ...]  # metrics multiplied (revenue always follows conversions)
    by: str              # metric whose size decides which campaigns are worth breaking


KINDS: tuple[Kind, ...] = (
    Kind("broken_pixel", "conversions", "drop", 0.0, 2, ("conversions",), "conversions"),
    Kind("spend_spike", "spend", "spike", 3.0, 1, _VOLUME, "spend"),
    Kind("cpc_spike", "cpc", "spike", 2.5, 1, ("spend",), "clicks"),
    Kind("delivery_drop", "impressions", "drop", 0.15, 2, _VOLUME + ("leads", "conversions"), "impressions"),
)
_FIRST_DAY = (20, 50)
_GAP_DAYS = (45, 80)
_QUIET_TAIL = 2  # no incident touches the last two days


def _campaign_columns(dims: Dimensions) -> np.ndarray:
    """Index of each campaign's first ad column, plus the end (ads are contiguous per campaign)."""
    camp = dims.features["campaign"].to_numpy()
    return np.concatenate((np.searchsorted(camp, np.arange(len(dims.campaigns))), [len(camp)]))


def _visible_campaigns(ad: AdDays, dims: Dimensions, metric: str, span: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Campaigns live on all of `span` whose `metric` is at least their channel's median there,
    so an incident is big enough to see (compared within a channel: money is in account currency)."""
    volume = np.add.reduceat(ad.values[metric][span].sum(axis=0), bounds[:-1])
    live = ad.active[span][:, bounds[:-1]].all(axis=0) & (volume > 0)
    channel = dims.campaign_channel
    keep = np.zeros(len(volume), dtype=bool)
    for c in np.unique(channel[live]):
        mine = live & (channel == c)
        keep |= mine & (volume >= np.median(volume[mine]))
    return np.flatnonzero(keep)


def inject(seed: int, ad: AdDays, dims: Dimensions) -> pd.DataFrame:
    """Apply the incidents due in this window to `ad` (in place); returns one row per incident-day
    with columns incident (its number), date_index, campaign, metric, kind, factor, cause."""
    n_days = ad.active.shape[0]
    bounds = _campaign_columns(dims)
    rows = []
    start = _FIRST_DAY[0] + int(float(uniform(seed, "anomaly_first")) * (_FIRST_DAY[1] - _FIRST_DAY[0] + 1))
    j = 0
    while start <= n_days - 1 - _QUIET_TAIL:
        u_kind, u_factor, u_pick, u_gap = (float(uniform(seed, name, j)) for name in
                                           ("anomaly_kind", "anomaly_factor", "anomaly_pick", "anomaly_gap"))
        kind = KINDS[int(u_kind * len(KINDS))]
        span = np.arange(start, start + kind.days)
        if span[-1] <= n_days - 1 - _QUIET_TAIL:
            candidates = _visible_campaigns(ad, dims, kind.by, span, bounds)
            if len(candidates):
                k = int(candidates[int(u_pick * len(candidates))])
                factor = round(kind.factor * (0.85 + 0.3 * u_factor), 2)
                _distort(ad, kind, factor, span, slice(bounds[k], bounds[k + 1]))
                rows += [{"incident": j, "date_index": int(d), "campaign": k, "metric": kind.metric, "kind": kind.direction,
                          "factor": factor, "cause": kind.name} for d in span]
        start += _GAP_DAYS[0] + int(u_gap * (_GAP_DAYS[1] - _GAP_DAYS[0] + 1))
        j += 1
    columns = {"incident": "int64", "date_index": "int64", "campaign": "int64", "metric": "object", "kind": "object",
               "factor": "float64", "cause": "object"}
    return pd.DataFrame(rows, columns=list(columns)).astype(columns)


def _distort(ad: AdDays, kind: Kind, factor: float, days: np.ndarray, cols: slice) -> None:
    v = ad.values
    old_conv = v["conversions"][days, cols].copy()
    for metric in kind.scaled:
        v[metric][days, cols] = np.floor(v[metric][days, cols] * factor + 0.5).astype(np.int64)
    if "conversions" in kind.scaled:
        ratio = np.divide(v["conversions"][days, cols], old_conv, out=np.zeros(old_conv.shape), where=old_conv > 0)
        v["revenue"][days, cols] = np.floor(v["revenue"][days, cols] * ratio + 0.5).astype(np.int64)
