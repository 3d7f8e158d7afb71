"""`simulate`: wires the components into platform-shaped frames plus the ground truth.

Order matters: channel truth → ad reports → incidents → hourly split → (partial last day) →
audience split, so every breakdown is derived from the final daily numbers and sums to them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from modeling.simulator import catalog as cat
from modeling.simulator.ads import METRICS, MONEY, AdDays, ad_days
from modeling.simulator.anomalies import inject
from modeling.simulator.breakdowns import AUDIENCE_METRICS, HOURLY_METRICS, audience, cut_last_day, hourly
from modeling.simulator.business import baseline_conversions, baseline_truth, fx_rates
from modeling.simulator.channels import AGE_BANDS, CHANNELS, CURRENCIES, GENDERS, hourly_profiles
from modeling.simulator.config import SimConfig, SimResult
from modeling.simulator.dimensions import Dimensions, build_dimensions
from modeling.simulator.experiments import lift_tests
from modeling.simulator.organic import organic_posts
from modeling.simulator.plan import SEASON, channel_series, channel_truths, roi_and_mroi
from modeling.simulator.response import season_multiplier

_DEFINITIONS = {
    "money": "daily/hourly/audience in account currency; outcome and truth in USD (fx: USD per unit)",
    "true_roi": "Σ(incremental revenue − revenue with the channel's spend zeroed) / Σ spend, full days of the window",
    "true_mroi": "extra incremental revenue from +1% spend on every day / that extra spend",
    "response": "incremental conversions = beta · hill(normalised adstock(spend)) · season; "
                "revenue = conversions × value_per_conversion",
    "reported": "platform conversions ≈ incremental × over_attribution; leads ≈ reported conversions / close_rate",
    "lift_tests": "Σ over the test window of (incremental outcome − outcome with the channel's spend "
                  "zeroed in the window) × (1 + 0.1·z); standard_error = 0.1 × the true lift",
    "anomalies": "distort platform reports only; outcome and incremental truth are unaffected",
    "partial_day": "with until_hour, the last day of outcome/true_daily_channel is scaled by the hourly profile",
}


def _day_fractions(dates: pd.DatetimeIndex, until_hour: int | None) -> np.ndarray:
    """(days, channels) share of each day that has happened: 1 except on a partial last day."""
    out = np.ones((len(dates), len(CHANNELS)))
    if until_hour is not None:
        out[-1] = hourly_profiles()[:, dates[-1].dayofweek, :until_hour].sum(axis=1)
    return out


def _money(cents: np.ndarray) -> np.ndarray:
    return np.round(cents / 100.0, 2)


def _metric_columns(values: dict[str, np.ndarray], metrics: tuple[str, ...]) -> dict[str, np.ndarray]:
    return {m: _money(values[m]) if m in MONEY else values[m] for m in metrics}


def _daily_frame(ad: AdDays, dims: Dimensions, dates: pd.DatetimeIndex) -> pd.DataFrame:
    ti, ai = np.nonzero(ad.active)
    return pd.DataFrame({"date": dates[ti], "ad_key": dims.ads["ad_key"].to_numpy()[ai],
                         **_metric_columns({m: v[ti, ai] for m, v in ad.values.items()}, METRICS)})


def _hourly_frame(ti: np.ndarray, ki: np.ndarray, parts: dict[str, np.ndarray], dims: Dimensions,
                  dates: pd.DatetimeIndex, until_hour: int | None) -> pd.DataFrame:
    hour = np.broadcast_to(np.arange(24), (len(ti), 24))
    keep = np.ones(hour.shape, dtype=bool)
    if until_hour is not None:
        keep &= (ti[:, None] < len(dates) - 1) | (hour < until_hour)
    rows = np.broadcast_to(np.arange(len(ti))[:, None], hour.shape)[keep]
    return pd.DataFrame({"date": dates[ti[rows]], "hour": hour[keep].astype(np.int64),
                         "campaign_key": dims.campaigns["campaign_key"].to_numpy()[ki[rows]],
                         **_metric_columns({m: p[keep] for m, p in parts.items()}, HOURLY_METRICS)})


def _audience_frame(seed: int, ad: AdDays, dims: Dimensions, dates: pd.DatetimeIndex) -> pd.DataFrame:
    ti, si, cell, values = audience(seed, dims, ad)
    sets = dims.ad_sets
    return pd.DataFrame({"date": dates[ti], "campaign_key": sets["campaign_key"].to_numpy()[si],
                         "age_band": np.array(AGE_BANDS)[cell // len(GENDERS)],
                         "gender": np.array(GENDERS)[cell % len(GENDERS)],
                         "geo": sets["geo"].to_numpy()[si], "segment": sets["segment"].to_numpy()[si],
                         **_metric_columns(values, AUDIENCE_METRICS)})


def _fx_frame(rates: np.ndarray, dates: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.DataFrame({"date": np.repeat(dates, len(CURRENCIES)),
                         "currency": np.tile(CURRENCIES, len(dates)), "rate": rates.ravel()})


def _anomaly_records(incidents: pd.DataFrame, dims: Dimensions, dates: pd.DatetimeIndex) -> tuple[pd.DataFrame, list]:
    frame = pd.DataFrame({"date": dates[incidents["date_index"].to_numpy()],
                          "campaign_key": dims.campaigns["campaign_key"].to_numpy()[incidents["campaign"].to_numpy()],
                          "metric": incidents["metric"].to_numpy(), "kind": incidents["kind"].to_numpy(),
                          "factor": incidents["factor"].to_numpy(dtype=float)})
    # By incident number: one campaign can break the same way twice in a year, and those are
    # two incidents, not one spanning the months between them.
    grouped = frame.assign(cause=incidents["cause"].to_numpy(), incident=incidents["incident"].to_numpy()).groupby(
        ["incident", "campaign_key", "metric", "kind", "factor", "cause"], sort=False)["date"].agg(["min", "max"]).reset_index()
    records = [{"start_date": r["min"].date().isoformat(), "end_date": r["max"].date().isoformat(),
                "campaign_key": r["campaign_key"], "metric": r["metric"], "kind": r["kind"],
                "factor": float(r["factor"]), "cause": r["cause"]} for _, r in grouped.iterrows()]
    return frame, records


def simulate(config: SimConfig = SimConfig()) -> SimResult:
    """Deterministic demo data with known ground truth (see the package docstring)."""
    seed, scale = config.seed, config.scale
    until_hour = None if config.until_hour == 24 else config.until_hour  # 24 = the whole day
    start, end = config.window()
    dates = pd.date_range(start, end, freq="D")
    dims = build_dimensions(seed, scale, start, len(dates))
    channels = channel_truths(seed, scale)
    season = season_multiplier(dates, SEASON)
    spend_usd, true_conv = channel_series(seed, channels, dates)
    rates = fx_rates(seed, len(dates))

    ad = ad_days(seed, dims, channels, spend_usd, true_conv, rates, cpm_season=np.sqrt(season))
    anomalies, anomaly_records = _anomaly_records(inject(seed, ad, dims), dims, dates)
    ti, ki, parts = hourly(seed, dims, ad, dates.dayofweek.to_numpy())
    if until_hour is not None:
        cut_last_day(ad, dims, ti, ki, parts, until_hour)

    baseline = baseline_truth(scale)
    fraction = _day_fractions(dates, until_hour)
    base_conv = baseline_conversions(seed, baseline, dates, season) * fraction.mean(axis=1)
    values = np.array([channels[s]["value_per_conversion"] for s in CHANNELS])
    outcome = pd.DataFrame({
        "date": dates,
        "conversions": np.floor(base_conv + (true_conv * fraction).sum(axis=1) + 0.5).astype(np.int64),
        "revenue": np.round(base_conv * baseline["value_per_conversion"]
                            + (true_conv * fraction * values).sum(axis=1), 2),
    })

    for c, slug in enumerate(CHANNELS):
        roi, mroi = roi_and_mroi(channels[slug], spend_usd[:, c], season)
        channels[slug].update(true_roi=round(roi, 6), true_mroi=round(mroi, 6))
    truth = {
        "seed": seed, "start_date": start.isoformat(), "end_date": end.isoformat(), "days": len(dates),
        "scale": scale, "until_hour": until_hour, "reporting_currency": "USD",
        "channels": channels, "season": dict(SEASON), "baseline": baseline,
        "quality_effects": cat.QUALITY_EFFECTS,
        "creative_quality": {**cat.CREATIVE_QUALITY,
                             "by_ad": dict(zip(dims.ads["ad_key"], np.round(dims.features["quality"], 4).tolist()))},
        "audience_effects": cat.AUDIENCE_EFFECTS,
        "anomalies": anomaly_records,
        "definitions": _DEFINITIONS,
    }
    return SimResult(
        accounts=dims.accounts, campaigns=dims.campaigns, ad_sets=dims.ad_sets, ads=dims.ads,
        daily=_daily_frame(ad, dims, dates),
        hourly=_hourly_frame(ti, ki, parts, dims, dates, until_hour),
        audience=_audience_frame(seed, ad, dims, dates),
        organic_posts=organic_posts(seed, dates, until_hour),
        outcome=outcome, fx=_fx_frame(rates, dates), anomalies=anomalies, truth=truth,
        lift_tests=lift_tests(seed, channels, dates, spend_usd, season),
    )


def true_daily_channel(result: SimResult) -> pd.DataFrame:
    """The truth per channel and day (USD), re-derived from `result.truth` alone.

    Spend is the planned channel spend that drives the response — platform reports can differ
    on incident days. On a partial last day (until_hour) values are scaled by the share of the
    channel's hourly profile that has elapsed, consistently with `outcome`.
    """
    truth = result.truth
    dates = pd.date_range(truth["start_date"], truth["end_date"], freq="D")
    spend, conv = channel_series(truth["seed"], truth["channels"], dates)
    fraction = _day_fractions(dates, truth["until_hour"])
    values = np.array([truth["channels"][s]["value_per_conversion"] for s in CHANNELS])
    return pd.DataFrame({
        "date": np.repeat(dates, len(CHANNELS)),
        "channel": np.tile(CHANNELS, len(dates)),
        "spend_usd": (spend * fraction).ravel(),
        "incremental_conversions": (conv * fraction).ravel(),
        "incremental_revenue": (conv * fraction * values).ravel(),
    })
