"""Hourly and audience breakdowns that add up exactly to the daily reports.

Both split an integer total per (day, campaign) or (day, ad set) along a chain so the usual
inequalities survive the split in every cell: impressions and spend by a delivery profile,
clicks and engagements in proportion to the impressions just allocated, leads by a response
profile, conversions in proportion to leads, revenue in proportion to conversions (see
`apportion`). The same chain re-divides a partial last day among ads.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from modeling.simulator import catalog as cat
from modeling.simulator.ads import AdDays
from modeling.simulator.apportion import apportion, apportion_groups
from modeling.simulator.channels import AGE_BANDS, GENDERS, demographic_mix, hourly_profiles
from modeling.simulator.dimensions import Dimensions
from modeling.simulator.noise import lognormal_factor

HOURLY_METRICS = ("spend", "impressions", "clicks", "leads", "conversions", "revenue", "engagements")
AUDIENCE_METRICS = ("spend", "impressions", "clicks", "leads", "conversions", "revenue")
#: metric → what it is split in proportion to (a base profile, or a metric split before it)
CHAIN: tuple[tuple[str, str], ...] = (
    ("impressions", "delivery"), ("spend", "delivery"), ("clicks", "impressions"),
    ("engagements", "impressions"), ("leads", "response"), ("conversions", "leads"), ("revenue", "conversions"),
)

Divide = Callable[[np.ndarray, np.ndarray], np.ndarray]


def split(totals: dict[str, np.ndarray], bases: dict[str, np.ndarray],
          divide: Divide = apportion) -> dict[str, np.ndarray]:
    """Divide each metric's totals along CHAIN; `bases` holds the 'delivery' and 'response' weights."""
    parts: dict[str, np.ndarray] = {}
    for metric, source in CHAIN:
        if metric in totals:
            parts[metric] = divide(totals[metric], parts[source] if source in parts else bases[source])
    return parts


def _group_days(ad: AdDays, group: np.ndarray, metrics: tuple[str, ...]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Live (days, groups) mask and per-group sums; `group` maps ads to groups, sorted and gap-free."""
    starts = np.searchsorted(group, np.arange(group.max() + 1))
    live = np.logical_or.reduceat(ad.active, starts, axis=1)
    return live, {m: np.add.reduceat(ad.values[m], starts, axis=1) for m in metrics}


def hourly(seed: int, dims: Dimensions, ad: AdDays,
           dow: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(day index, campaign index, parts) for every live campaign-day; parts are (rows, 24)."""
    live, totals = _group_days(ad, dims.features["campaign"].to_numpy(), HOURLY_METRICS)
    ti, ki = np.nonzero(live)
    hours = np.arange(24)[None, :]
    key = (ti[:, None], dims.campaign_uid[ki][:, None], hours)
    profile = hourly_profiles()[dims.campaign_channel[ki], dow[ti]]
    bases = {"delivery": profile * lognormal_factor(seed, "hour_delivery", 0.20, *key),
             # people convert a little after they see the ad: the response profile lags by an hour
             "response": np.roll(profile, 1, axis=1) * lognormal_factor(seed, "hour_response", 0.35, *key)}
    return ti, ki, split({m: v[ti, ki] for m, v in totals.items()}, bases)


def cut_last_day(ad: AdDays, dims: Dimensions, ti: np.ndarray, ki: np.ndarray, parts: dict[str, np.ndarray],
                 until_hour: int) -> None:
    """Make the last day partial: ad rows of that day become the hours < until_hour, re-divided
    among each campaign's ads (in place). Hourly rows for later hours are dropped by the caller."""
    last = ad.active.shape[0] - 1
    rows = np.flatnonzero(ti == last)
    campaign_totals = {m: p[rows, :until_hour].sum(axis=1) for m, p in parts.items()}
    cols = np.flatnonzero(ad.active[last])
    group = np.searchsorted(ki[rows], dims.features["campaign"].to_numpy()[cols])
    full = {m: v[last, cols] for m, v in ad.values.items()}
    cut = split(campaign_totals, {"delivery": full["impressions"], "response": full["leads"]},
                partial(apportion_groups, group=group))
    share = np.divide(cut["impressions"], full["impressions"], out=np.zeros(len(cols)),
                      where=full["impressions"] > 0)
    cut["reach"] = np.floor(full["reach"] * share).astype(np.int64)
    cut["video_views"] = np.floor(full["video_views"] * share).astype(np.int64)
    for m, v in cut.items():
        ad.values[m][last, cols] = v


def audience(seed: int, dims: Dimensions,
             ad: AdDays) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(day index, ad set index, cell index, metric values) for every targeted cell of every live
    ad-set-day; cells are age-major over AGE_BANDS × GENDERS."""
    sets = dims.features["ad_set"].to_numpy()
    live, totals = _group_days(ad, sets, AUDIENCE_METRICS)
    ti, si = np.nonzero(live)
    cells = dims.ad_set_cells[si]
    set_campaign = dims.features["campaign"].to_numpy()[np.searchsorted(sets, np.arange(sets.max() + 1))]
    delivery = (demographic_mix()[dims.campaign_channel[set_campaign[si]]] * cells
                * lognormal_factor(seed, "audience_delivery", 0.15, ti[:, None], dims.ad_set_uid[si][:, None],
                                   np.arange(cells.shape[1])[None, :]))
    index = np.outer([cat.AUDIENCE_EFFECTS["age_band"][a] for a in AGE_BANDS],
                     [cat.AUDIENCE_EFFECTS["gender"][g] for g in GENDERS]).ravel()
    parts = split({m: v[ti, si] for m, v in totals.items()}, {"delivery": delivery, "response": delivery * index})
    r, cell = np.nonzero(cells)
    return ti[r], si[r], cell, {m: p[r, cell] for m, p in parts.items()}
