"""Ad × day platform reports as dense (days × ads) integer matrices.

Dense matrices keep everything vectorised (a loop over the 7 channels is the only loop) and
make the later campaign / ad-set aggregations plain `reduceat`s. Money is held as integer
cents of the account currency so every breakdown can be split exactly.

Conversions are the channel's true incremental conversions × over-attribution, divided among
the channel's live ads in proportion to spend × a quality multiplier built from known features
(objective, segment, geo, creative type) and the ad's latent creative quality, with
per-ad-day noise. ROI per ad therefore depends on those features — that is the signal the ROI
model has to learn, and `catalog.QUALITY_EFFECTS` is its ground truth.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from modeling.simulator import catalog as cat
from modeling.simulator.apportion import apportion
from modeling.simulator.channels import CHANNELS
from modeling.simulator.dimensions import Dimensions
from modeling.simulator.noise import lognormal_factor

METRICS: tuple[str, ...] = ("spend", "impressions", "reach", "clicks", "leads", "conversions", "revenue",
                            "engagements", "video_views")
MONEY: tuple[str, ...] = ("spend", "revenue")  # held in cents


@dataclass
class AdDays:
    """`values[metric]` is a (days, ads) int64 matrix; rows exist where `active` is true."""

    active: np.ndarray
    values: dict[str, np.ndarray]


def _per_channel(channels: dict[str, dict], name: str) -> np.ndarray:
    return np.array([channels[s][name] for s in CHANNELS], dtype=np.float64)


def _round(x: np.ndarray) -> np.ndarray:
    return np.floor(x + 0.5).astype(np.int64)


def quality_multiplier(dims: Dimensions) -> np.ndarray:
    """Per-ad multiplier of conversions per unit of spend (product of the known effects × quality)."""
    f = dims.features
    out = f["quality"].to_numpy().copy()
    for feature, effects in cat.QUALITY_EFFECTS.items():
        out *= f[feature].map(effects).to_numpy()
    return out


def ad_days(seed: int, dims: Dimensions, channels: dict[str, dict], spend_usd: np.ndarray,
            true_conversions: np.ndarray, rates: np.ndarray, cpm_season: np.ndarray) -> AdDays:
    """Reports for every (day, ad); `spend_usd`/`true_conversions` are (days, channels), `rates`
    (days, currencies) in USD per unit, `cpm_season` (days,) multiplies auction prices."""
    f = dims.features
    n_days = spend_usd.shape[0]
    t = np.arange(n_days)[:, None]
    uid = f["uid"].to_numpy()[None, :]
    ch = f["channel"].to_numpy()
    active = (t >= f["first_day"].to_numpy()[None, :]) & (t < f["stop_day"].to_numpy()[None, :])

    weight = f["budget"].to_numpy()[None, :] * lognormal_factor(seed, "ad_spend", 0.25, t, uid) * active
    onehot = (ch[:, None] == np.arange(len(CHANNELS))[None, :]).astype(np.float64)
    channel_weight = weight @ onehot
    usd = spend_usd[:, ch] * weight / np.where(channel_weight > 0, channel_weight, 1.0)[:, ch]
    rate = rates[:, f["currency"].to_numpy()]

    cpm = (_per_channel(channels, "cpm")[ch] * f["objective"].map(cat.CPM_BY_OBJECTIVE).to_numpy()
           * f["geo"].map(cat.CPM_BY_GEO).to_numpy())[None, :] * cpm_season[:, None]
    impressions = _round(usd / (cpm * lognormal_factor(seed, "cpm", 0.10, t, uid)) * 1000)
    ctr = (_per_channel(channels, "ctr")[ch] * f["objective"].map(cat.CTR_BY_OBJECTIVE).to_numpy()
           * f["quality"].to_numpy() ** cat.CREATIVE_QUALITY["ctr_elasticity"])
    ctr = np.minimum(0.5, ctr[None, :] * lognormal_factor(seed, "ctr", 0.15, t, uid))
    frequency = np.clip(f["segment"].map(cat.FREQUENCY_BY_SEGMENT).to_numpy()[None, :]
                        * lognormal_factor(seed, "frequency", 0.10, t, uid), 1.1, 3.0)
    eng_rate = (_per_channel(channels, "engagement_rate")[ch]
                * f["objective"].map(cat.ENGAGEMENT_BY_OBJECTIVE).to_numpy()
                * f["creative_type"].map(cat.ENGAGEMENT_BY_CREATIVE).to_numpy())
    eng_rate = np.minimum(0.3, eng_rate[None, :] * lognormal_factor(seed, "engagement", 0.20, t, uid))
    view_rate = np.where(f["creative_type"].to_numpy() == "video", _per_channel(channels, "video_view_rate")[ch], 0.0)
    view_rate = np.minimum(0.9, view_rate[None, :] * lognormal_factor(seed, "video_views", 0.15, t, uid))

    quality = quality_multiplier(dims)[None, :] * usd
    conv_weight = quality * lognormal_factor(seed, "conversion_share", 0.35, t, uid)
    lead_weight = (quality * f["objective"].map(cat.LEADS_BY_OBJECTIVE).to_numpy()[None, :]
                   * lognormal_factor(seed, "lead_share", 0.35, t, uid))
    reported = true_conversions * _per_channel(channels, "over_attribution")[None, :]
    reported_conv = _round(reported)
    extra_leads = _round(reported / _per_channel(channels, "close_rate")[None, :]) - reported_conv
    conversions = np.zeros_like(impressions)
    leads = np.zeros_like(impressions)
    for c in range(len(CHANNELS)):
        cols = np.flatnonzero(ch == c)
        sl = slice(cols[0], cols[-1] + 1) if len(cols) else slice(0, 0)
        conversions[:, sl] = apportion(reported_conv[:, c], conv_weight[:, sl])
        leads[:, sl] = conversions[:, sl] + apportion(extra_leads[:, c], lead_weight[:, sl])
    revenue_usd = (conversions * _per_channel(channels, "value_per_conversion")[ch][None, :]
                   * lognormal_factor(seed, "order_value", 0.20, t, uid))

    values = {
        "spend": _round(usd / rate * 100),
        "impressions": impressions,
        "reach": np.floor(impressions / frequency).astype(np.int64),
        "clicks": _round(impressions * ctr),
        "leads": leads,
        "conversions": conversions,
        "revenue": _round(revenue_usd / rate * 100),
        "engagements": _round(impressions * eng_rate),
        "video_views": _round(impressions * view_rate),
    }
    return AdDays(active=active, values=values)
