"""Per-channel constants of the generating process (before the per-seed jitter in `plan`).

The response parameters are chosen so the channels sit at different points of their Hill
curves at the typical budget: facebook, yandex_direct and telegram are close to saturation
(marginal ROI well below average ROI), instagram, tiktok and vk_ads have headroom, google_ads is
in between. Moving budget from the first group to the second therefore has a real, measurable
gain — which is what the budget allocator is meant to find.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHANNELS: tuple[str, ...] = ("instagram", "facebook", "google_ads", "tiktok", "telegram", "yandex_direct", "vk_ads")
SOCIAL: tuple[str, ...] = ("instagram", "facebook", "telegram", "vk_ads", "tiktok")
CURRENCIES: tuple[str, ...] = ("USD", "EUR", "RUB")
AGE_BANDS: tuple[str, ...] = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
GENDERS: tuple[str, ...] = ("female", "male")
WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class ChannelSpec:
    """Typical values at scale 1; `plan.channel_truths` jitters them per seed and scales money."""

    mean_spend: float          # USD/day
    spend_trend: float         # relative change per year of the spend plan
    hill_k: float              # USD/day of (normalised) adstocked spend at half saturation
    hill_n: float
    adstock_decay: float
    target_roi: float          # incremental revenue / spend at mean_spend; fixes beta
    value_per_conversion: float  # USD
    over_attribution: float
    close_rate: float          # conversions / leads
    cpm: float                 # USD per 1000 impressions
    ctr: float
    engagement_rate: float     # engagements per impression
    video_view_rate: float     # video views per impression of a video ad
    weekly: tuple[float, ...]  # spend multipliers Mon..Sun
    daypart: str               # key of DAYPARTS
    age_mix: tuple[float, ...]  # share of impressions per AGE_BANDS
    female_share: float
    best_post_hour: int | None  # UTC hour at which organic posts reach most people
    post_views: float          # typical organic views per post


_SOCIAL_WEEK = (0.95, 0.95, 0.97, 1.0, 1.03, 1.07, 1.03)
_SEARCH_WEEK = (1.08, 1.08, 1.05, 1.03, 0.98, 0.88, 0.90)

SPECS: dict[str, ChannelSpec] = {
    "instagram": ChannelSpec(2400, 0.15, 4200, 1.3, 0.50, 2.1, 62, 1.75, 0.45, 8.5, 0.009, 0.035, 0.30,
                             _SOCIAL_WEEK, "social", (0.22, 0.34, 0.22, 0.12, 0.07, 0.03), 0.56, 17, 4000),
    "facebook": ChannelSpec(3200, -0.10, 1400, 1.4, 0.45, 1.7, 70, 1.60, 0.40, 11.0, 0.012, 0.020, 0.25,
                            _SOCIAL_WEEK, "social", (0.08, 0.22, 0.24, 0.20, 0.15, 0.11), 0.52, 12, 2500),
    "google_ads": ChannelSpec(4200, 0.05, 5000, 1.2, 0.15, 2.6, 90, 1.25, 0.35, 9.0, 0.040, 0.002, 0.20,
                              _SEARCH_WEEK, "search", (0.12, 0.25, 0.23, 0.18, 0.13, 0.09), 0.50, None, 0),
    "tiktok": ChannelSpec(1500, 0.40, 3000, 1.7, 0.35, 1.3, 48, 1.50, 0.50, 6.5, 0.011, 0.050, 0.45,
                          _SOCIAL_WEEK, "social", (0.38, 0.33, 0.16, 0.08, 0.04, 0.01), 0.55, 19, 9000),
    "telegram": ChannelSpec(650, 0.20, 260, 1.2, 0.55, 1.2, 52, 1.15, 0.30, 2.8, 0.006, 0.010, 0.20,
                            (1.0, 1.0, 1.0, 1.0, 1.0, 0.97, 0.97), "messenger",
                            (0.14, 0.32, 0.27, 0.15, 0.08, 0.04), 0.42, 6, 6000),
    "yandex_direct": ChannelSpec(2200, 0.0, 1100, 1.1, 0.20, 2.0, 75, 1.30, 0.30, 5.5, 0.032, 0.001, 0.20,
                                 _SEARCH_WEEK, "search", (0.10, 0.24, 0.25, 0.20, 0.13, 0.08), 0.50, None, 0),
    "vk_ads": ChannelSpec(900, 0.10, 1600, 1.4, 0.40, 1.6, 55, 1.35, 0.40, 3.4, 0.008, 0.015, 0.30,
                          _SOCIAL_WEEK, "social", (0.15, 0.30, 0.25, 0.16, 0.10, 0.04), 0.50, 15, 3000),
}

#: Hour-of-day shapes in account-local time: (centre hour, width, height) bumps over a floor,
#: one set for weekdays and one for weekends.
DAYPARTS: dict[str, dict[str, tuple[tuple[float, float, float], ...]]] = {
    "social": {"weekday": ((8.0, 1.5, 0.35), (12.5, 1.5, 0.45), (20.5, 2.0, 1.0)),
               "weekend": ((11.0, 2.5, 0.7), (21.0, 2.5, 1.0))},
    "search": {"weekday": ((10.5, 2.0, 1.0), (15.0, 2.5, 0.9), (21.0, 1.5, 0.3)),
               "weekend": ((12.0, 3.0, 0.6), (20.0, 2.5, 0.5))},
    "messenger": {"weekday": ((8.5, 1.5, 0.8), (13.0, 1.5, 0.5), (21.5, 1.5, 1.0)),
                  "weekend": ((11.0, 2.0, 0.7), (22.0, 1.5, 0.9))},
}
_DAYPART_FLOOR = 0.06


def _circular_distance(hours: np.ndarray, centre: float) -> np.ndarray:
    d = np.abs(hours - centre) % 24
    return np.minimum(d, 24 - d)


def bumps(hours: np.ndarray, shape: tuple[tuple[float, float, float], ...], floor: float) -> np.ndarray:
    """Sum of circular Gaussian bumps over a floor: a smooth, positive 24-hour profile."""
    out = np.full(hours.shape, floor, dtype=np.float64)
    for centre, width, height in shape:
        out += height * np.exp(-0.5 * (_circular_distance(hours, centre) / width) ** 2)
    return out


def hourly_profiles() -> np.ndarray:
    """Array (channel, weekday, hour) of hour shares; each (channel, weekday) row sums to 1."""
    hours = np.arange(24) + 0.5
    out = np.empty((len(CHANNELS), 7, 24))
    for c, slug in enumerate(CHANNELS):
        shapes = DAYPARTS[SPECS[slug].daypart]
        for dow in range(7):
            out[c, dow] = bumps(hours, shapes["weekend" if dow >= 5 else "weekday"], _DAYPART_FLOOR)
    return out / out.sum(axis=2, keepdims=True)


def demographic_mix() -> np.ndarray:
    """Array (channel, age band × gender) of expected impression shares, age-major order."""
    out = np.empty((len(CHANNELS), len(AGE_BANDS) * len(GENDERS)))
    for c, slug in enumerate(CHANNELS):
        spec = SPECS[slug]
        gender = np.array([spec.female_share, 1 - spec.female_share])
        out[c] = np.outer(np.array(spec.age_mix) / sum(spec.age_mix), gender).ravel()
    return out
