"""Organic posts on the social channels, whose reach depends on when they are published.

Posting times follow a typical office schedule, *not* the audience's best hour, so the data
holds a real recommendation: views peak around `best_post_hour` (UTC, in the truth) and are
higher at weekends, and a content-timing analysis should find that hour.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from modeling.simulator.channels import CHANNELS, SOCIAL, SPECS, bumps
from modeling.simulator.noise import lognormal_factor, uniform

_MAX_POSTS_PER_DAY = 4
_SCHEDULE = ((9.5, 1.5, 1.0), (13.0, 1.5, 0.7), (18.0, 2.0, 0.8))  # when posts get published (UTC)
_REACTION_RATE = {"instagram": 0.06, "facebook": 0.03, "telegram": 0.02, "vk_ads": 0.03, "tiktok": 0.08}
_WEEKEND_LIFT = 1.12


def timing_effect(hours: np.ndarray, best_hour: int) -> np.ndarray:
    """Relative views of a post published at `hours` (1.0 at a far-off hour, ≈2.4 at the best one)."""
    return bumps(hours + 0.5, ((best_hour + 0.5, 2.5, 1.4),), 1.0)


def organic_posts(seed: int, dates: pd.DatetimeIndex, until_hour: int | None) -> pd.DataFrame:
    """2–4 posts a day per social channel; on a partial last day only those before `until_hour`."""
    t = np.arange(len(dates))[:, None]
    slot = np.arange(_MAX_POSTS_PER_DAY)[None, :]
    schedule = bumps(np.arange(24) + 0.5, _SCHEDULE, 0.05)
    cdf = np.cumsum(schedule) / schedule.sum()
    weekend = np.where(dates.dayofweek.to_numpy() >= 5, _WEEKEND_LIFT, 1.0)[:, None]
    frames = []
    for slug in SOCIAL:
        c = CHANNELS.index(slug)
        spec = SPECS[slug]
        n_posts = 2 + (uniform(seed, "posts_per_day", c, t[:, 0]) * 3).astype(int)
        exists = slot < n_posts[:, None]
        hour = np.minimum(np.searchsorted(cdf, uniform(seed, "post_hour", c, t, slot)), 23)
        minute = (uniform(seed, "post_minute", c, t, slot) * 60).astype(int)
        if until_hour is not None:
            exists &= (t < len(dates) - 1) | (hour < until_hour)
        views = (spec.post_views * (1 + 0.3 * t / 365) * weekend * timing_effect(hour, spec.best_post_hour)
                 * lognormal_factor(seed, "post_views", 0.4, c, t, slot))
        reactions = views * _REACTION_RATE[slug] * lognormal_factor(seed, "post_reactions", 0.3, c, t, slot)
        at = np.nonzero(exists)
        external = (10_000_000 * (c + 1) + t * _MAX_POSTS_PER_DAY + slot)[at].astype(str)
        reach_share = 0.55 + 0.3 * uniform(seed, "post_reach", c, t, slot)[at]
        frames.append(pd.DataFrame({
            "post_key": [f"{slug}:post:{e}" for e in external],
            "platform": slug,
            "external_id": external,
            "published_at": (dates[at[0]] + pd.to_timedelta(hour[at] * 60 + minute[at], unit="min")).tz_localize("UTC"),
            "views": np.floor(views[at]).astype(np.int64),
            "reach": np.floor(views[at] * reach_share).astype(np.int64),
            "reactions": np.floor(reactions[at]).astype(np.int64),
            "shares": np.floor(reactions[at] * 0.12
                               * lognormal_factor(seed, "post_shares", 0.4, c, t, slot)[at]).astype(np.int64),
            "comments": np.floor(reactions[at] * 0.08
                                 * lognormal_factor(seed, "post_comments", 0.4, c, t, slot)[at]).astype(np.int64),
        }))
    return pd.concat(frames, ignore_index=True).sort_values(["published_at", "platform"], ignore_index=True)
