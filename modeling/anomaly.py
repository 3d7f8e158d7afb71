"""Anomalies in campaign-day ad metrics: one- or two-day excursions a marketer should hear about.

An anomaly is a day (or two days in a row) on which a campaign's metric is far from what its
own recent past, adjusted for what the rest of its channel did that day, makes normal: a
broken pixel (conversions to 0 while clicks go on), a runaway budget (spend ×3 for a day), an
auction price jump (cost per click ×2.5), a delivery outage (impressions ×0.15). A *lasting*
level change — a budget raised or cut and kept there — is not one: it is a new normal, and
alerting on it day after day would bury the real incidents.

Method, per watched metric, vectorised over a days × campaigns matrix:

1. **Baseline**: the median of the campaign's values on the ``window`` days before the day
   (days it did not run are skipped; at least ``min_history`` of them, so brand-new and
   long-paused campaigns are not judged). A median ignores the odd bad day and follows trends.
2. **Channel adjustment**: r = log(value / baseline) says how today compares with the recent
   past. The median r of the *other* campaigns of the same channel that day (plus one
   pseudo-campaign at r = 0, needs ``min_peers`` real ones) is what the whole channel did — a
   budget step of the channel, its day-of-week pattern, a seasonal price move. Expected =
   baseline × exp(that median). One broken campaign cannot move its peers' median, so it
   still stands out; the pseudo-campaign keeps two peers from dragging each other along.
3. **Spread**: 1.4826 × the median of |r − channel median| over the ``spread_window`` days
   before — a robust standard deviation of the one-day-ahead errors that ignores past
   incidents — from at least ``min_errors`` of them, and never below ``min_sd``.
4. **Score**, in those robust standard deviations. Money (spend) and ratios (cost per click)
   are scored on the log scale. Counts (impressions, conversions) are scored with a negative
   binomial whose mean is the expectation and whose extra-Poisson spread is the robust one:
   its tail probability, as a normal quantile, is the score. That is the count floor: with
   2 conversions expected a day at 0 scores about −1 (an ordinary day); with 14 expected,
   about −4.4.
5. **Two days together** (``two_day`` metrics: conversions): incidents last one or two days,
   so the two-day total is also scored against the two days' expectations (same negative
   binomial, days independent). It finds a broken pixel on a campaign with ~8 conversions a
   day, where one day at 0 proves little. The later day must itself score at least
   ``persist`` × ``threshold``.
6. **Lasting changes stay quiet**: a day is flagged only if the run of consecutive days off
   the same way around it — days scoring at least ``persist`` × its own score (and at least
   ``persist`` × ``threshold``) — is at most
   ``max_run`` days long, counting up to ``confirm_days`` days after it. A level step thus
   raises nothing once the days after it show that it lasts, and by the time they stop being
   "off" the baseline median has moved to the new level (after about ``window`` / 2 days).

Weekday patterns (±10 %) are shared by a channel's campaigns, so step 2 removes them; where a
campaign has no peers they are part of its spread. (A per-campaign weekday profile estimated
from the last 6–8 weeks added more noise than it removed on the simulator.)

**Latency.** With ``confirm_days = 2`` (default) day d is judged once day d + 2 is in the
data: the alert for a day arrives two days later, and the last two days of the input are not
judged yet. The platforms restate their last days anyway, and on the demo simulator this
takes precision from ~55 % (``confirm_days = 0``) to ~95 % at the same recall
(``bench/bench_anomaly.py``). ``confirm_days = 0`` judges every day at once, at the cost of
up to ``max_run`` alerts at each lasting level change that the rest of the channel does not
share. Pass complete days only: a partial "today" looks like a drop, and as a following day
that is off it can hide a real two-day drop.

**Severity** is ``high`` when |score| ≥ ``high`` *and* the change is material (observed at
most half, or at least twice, the expectation) *and*, for counts, at least ``high_min_count``
were expected (per day); otherwise ``medium``.

The module is pure (pandas, numpy, scipy); ratios, labels and number formats come from
``db.metrics``.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from scipy.special import ndtr, ndtri_exp
from scipy.stats import nbinom

from db import metrics as registry

#: Output columns, in order.
COLUMNS: tuple[str, ...] = ("date", "campaign_id", "channel", "metric", "direction", "days", "observed",
                            "expected", "lo", "hi", "score", "severity", "message")
_ROBUST = 1.4826  # MAD → standard deviation of a normal distribution


@dataclass(frozen=True)
class AnomalyConfig:
    """Settings of `detect`; the defaults are measured in ``bench/bench_anomaly.py``."""

    #: Metrics to watch and which way ('spike', 'drop' or 'both'): spend both ways (runaway
    #: budget, stopped delivery), impressions and conversions down (up is good news), cost per
    #: click up (a cheaper click is not an incident).
    watch: tuple[tuple[str, str], ...] = (("spend", "both"), ("impressions", "drop"),
                                          ("conversions", "drop"), ("cpc", "spike"))
    #: Days before a day whose median is its baseline: two weeks hold each weekday twice, and a
    #: lasting level change is absorbed after about one week (28 days: slower, measured
    #: slightly worse on the simulator).
    window: int = 14
    #: Days of one-day-ahead errors behind the spread: more than `window`, as a spread needs
    #: more days to settle than a median.
    spread_window: int = 28
    #: Days the campaign must have run within `window` to have a baseline at all.
    min_history: int = 10
    #: One-day-ahead errors needed to measure the spread: a campaign is judged from its
    #: (min_history + min_errors + 1)-th day. Fewer days leave the spread itself too uncertain.
    min_errors: int = 7
    #: Other campaigns of the channel needed for the channel adjustment.
    min_peers: int = 2
    #: |score| from which a day is flagged.
    threshold: float = 4.0
    #: Smallest spread on the log scale: day-to-day swings of campaign numbers are heavier-tailed
    #: than a normal distribution, so no move under ×exp(threshold × min_sd) ≈ ×1.8 is flagged
    #: (0.10 gives ~15× the false alarms on the simulator for no extra incident found).
    min_sd: float = 0.15
    #: Metrics whose two-day totals are scored too (step 5): small counts, whose day-to-day noise
    #: is mostly independent sampling noise. (Spend and impressions follow budget pacing, which
    #: is correlated from one day to the next; on the simulator adding them found no extra
    #: incident and raised a few more false alarms.)
    two_day: tuple[str, ...] = ("conversions",)
    #: A neighbouring day is "off the same way" when its score is at least persist × the day's
    #: own score (step 6); a day flagged on a two-day total must itself reach persist × threshold.
    persist: float = 0.35
    #: Longest run of consecutive off days that is an incident rather than a new level: the
    #: incidents this is built for last one or two days.
    max_run: int = 2
    #: Days after a day looked at before judging it (the alert latency, in days).
    confirm_days: int = 2
    #: |score| from which an alert may be 'high' (on the simulator no false alarm reaches 6).
    high: float = 6.0
    #: Expected count below which a count metric is at most 'medium'.
    high_min_count: float = 10.0
    #: Fewest clicks (the baseline median) for cost per click to be judged.
    min_clicks: float = 30.0
    #: Currency of the money columns, for the messages.
    currency: str = "USD"


def empty() -> pd.DataFrame:
    """No alerts: the documented columns with their dtypes."""
    kinds = {"days": "int64", "observed": "float64", "expected": "float64", "lo": "float64", "hi": "float64", "score": "float64"}
    return pd.DataFrame({c: pd.Series(dtype=kinds.get(c, "object")) for c in COLUMNS})


# --------------------------------------------------------------------------------------------
# Days × campaigns matrices

@dataclass(frozen=True)
class _Grid:
    dates: pd.DatetimeIndex
    campaigns: np.ndarray
    channels: np.ndarray           # per campaign
    values: dict[str, np.ndarray]  # base measure → (days, campaigns); NaN where it did not run


def _grid(daily: pd.DataFrame, measures: set[str]) -> _Grid:
    frame = daily.assign(date=pd.to_datetime(daily["date"]).dt.normalize())
    frame = frame.groupby(["date", "campaign_id"], as_index=False, sort=False).agg(
        channel=("channel", "last"), **{m: (m, "sum") for m in sorted(measures)})
    dates = pd.date_range(frame["date"].min(), frame["date"].max(), freq="D")
    campaigns = pd.Index(pd.unique(frame["campaign_id"]))
    ti, ci = dates.get_indexer(frame["date"]), campaigns.get_indexer(frame["campaign_id"])
    channels = np.empty(len(campaigns), dtype=object)
    channels[ci] = frame["channel"].to_numpy()
    values = {}
    for m in measures:
        v = np.full((len(dates), len(campaigns)), np.nan)
        v[ti, ci] = frame[m].to_numpy(dtype="float64")
        values[m] = v
    return _Grid(dates, campaigns.to_numpy(), channels, values)


def _windows(x: np.ndarray, window: int) -> np.ndarray:
    """(days, campaigns, window) view: for each day, the `window` days before it (NaN-padded)."""
    padded = np.vstack([np.full((window, x.shape[1]), np.nan), x[:-1]])
    return sliding_window_view(padded, window, axis=0)


def _median(w: np.ndarray, min_periods: int) -> np.ndarray:
    """Median over the last axis skipping NaN; NaN where fewer than `min_periods` values."""
    ordered = np.sort(w, axis=-1)  # NaN sorts last
    n = np.isfinite(w).sum(axis=-1)
    lo = np.take_along_axis(ordered, (np.maximum(n - 1, 0) // 2)[..., None], axis=-1)[..., 0]
    hi = np.take_along_axis(ordered, (n // 2)[..., None], axis=-1)[..., 0]
    return np.where(n >= max(min_periods, 1), (lo + hi) / 2, np.nan)


def _channel_shift(r: np.ndarray, channels: np.ndarray, min_peers: int) -> np.ndarray:
    """Per day and campaign: median r of the other campaigns of its channel and one
    pseudo-campaign at 0; 0 with fewer than `min_peers` other campaigns that day.

    Leave-one-out medians from one sort per day: removing a campaign's own value at rank p
    shifts the sorted order by one from p on, so the median of the rest is read off the full
    sorted row — O(days · n log n) per channel instead of an (n × n) matrix per day.
    """
    out = np.zeros_like(r)
    for channel in pd.unique(channels):
        cols = np.flatnonzero(channels == channel)
        if len(cols) <= min_peers:
            continue
        block = r[:, cols]
        values = np.concatenate([block, np.zeros((len(block), 1))], axis=1)  # + the pseudo-campaign
        order = np.argsort(values, axis=1, kind="stable")  # NaN (did not run) sorts last
        ranked = np.take_along_axis(values, order, axis=1)
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.broadcast_to(np.arange(values.shape[1]), values.shape), axis=1)
        mine = np.isfinite(block)
        size = np.isfinite(values).sum(axis=1, keepdims=True) - mine  # the others, pseudo one included
        own = rank[:, :len(cols)]

        def nth(j: np.ndarray) -> np.ndarray:
            """The j-th smallest of the others: past its own rank, one further along the full row."""
            index = np.where(mine & (j >= own), j + 1, j)
            return np.take_along_axis(ranked, np.clip(index, 0, values.shape[1] - 1), axis=1)

        median = 0.5 * (nth((size - 1) // 2) + nth(size // 2))
        out[:, cols] = np.where(size - 1 >= min_peers, median, 0.0)
    return out


def _shift_down(x: np.ndarray) -> np.ndarray:
    """Yesterday's value on each day (NaN, or False, on the first)."""
    return np.vstack([np.full((1, x.shape[1]), False if x.dtype == bool else np.nan, dtype=x.dtype), x[:-1]])


# --------------------------------------------------------------------------------------------
# Scores of one metric

@dataclass(frozen=True)
class _Scored:
    """One metric's scores; `bounds(ti, ci, two_day)` gives the normal range of chosen cells."""

    observed: np.ndarray
    expected: np.ndarray
    z: np.ndarray        # one day (NaN where not judged)
    z2: np.ndarray       # the day and the day before, together (NaN where not scored)
    observed2: np.ndarray
    expected2: np.ndarray
    bounds: Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _observed(grid: _Grid, metric: str) -> np.ndarray:
    if metric in grid.values:
        return grid.values[metric]
    m = registry.get(metric)
    v = m.compute({k: grid.values[k].ravel() for k in m.inputs})
    out = np.asarray(v, dtype="float64").reshape(grid.values[m.inputs[0]].shape)
    ran = np.logical_and.reduce([np.isfinite(grid.values[k]) for k in m.inputs])
    return np.where(ran, out, np.nan)


def _nb(mu: np.ndarray, size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scipy's (n, p) of a negative binomial with mean `mu` and variance mu + mu² / size."""
    return size, size / (size + mu)


def _nb_z(x: np.ndarray, mu: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Signed score of count x: the normal quantile of its lower (x < mu) or upper tail."""
    n, p = _nb(mu, size)
    down = ndtri_exp(nbinom.logcdf(x, n, p))
    up = -ndtri_exp(nbinom.logsf(x - 1, n, p))
    return np.where(x < mu, np.minimum(down, 0.0), np.maximum(up, 0.0))


def _score(grid: _Grid, metric: str, config: AnomalyConfig) -> _Scored:
    v = _observed(grid, metric)
    count = registry.get(metric).kind == "count"
    level = _median(_windows(v, config.window), config.min_history)
    if not count:  # spending resumed after days at 0: no baseline to compare with
        level[level <= 0] = np.nan
    # Counts: log(x + ½), so that 0 is finite and small counts are damped. Money and ratios:
    # a fall to 0 reads as "1 % of the usual" rather than minus infinity.
    offset = np.full_like(v, 0.5) if count else 0.01 * np.where(np.isfinite(level), level, v)
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 where nothing is judged anyway
        log_level = np.log(level + offset)
        r = np.log(np.maximum(v, 0.0) + offset) - log_level
    shift = _channel_shift(r, grid.channels, config.min_peers)
    e = r - shift
    scale = _ROBUST * _median(_windows(np.abs(e), config.spread_window), config.min_errors)
    scale = np.maximum(scale, config.min_sd)
    log_expected = log_level + shift
    judged = np.isfinite(e) & np.isfinite(scale)
    if metric == "cpc":
        clicks = _median(_windows(grid.values["clicks"], config.window), config.min_history)
        judged &= clicks >= config.min_clicks
    expected = np.where(judged, np.maximum(np.exp(log_expected) - offset, 0.0), np.nan)
    z = np.full(v.shape, np.nan)
    z2 = np.full(v.shape, np.nan)
    observed2, expected2 = _shift_down(v) + v, _shift_down(expected) + expected
    k = config.threshold
    if not count:
        z[judged] = e[judged] / scale[judged]

        def bounds(ti, ci, _two):
            centre, width, off = log_expected[ti, ci], k * scale[ti, ci], offset[ti, ci]
            return np.maximum(np.exp(centre - width) - off, 0.0), np.exp(centre + width) - off
        return _Scored(v, expected, z, z2, observed2, expected2, bounds)

    # Counts. The spread was measured on log counts, which already carry Poisson noise
    # (≈ 1 / mean); the negative binomial's own extra spread is what is left, at least min_sd.
    mu = np.maximum(expected, 1e-9)
    size = 1.0 / np.maximum(scale ** 2 - 1.0 / (mu + 0.5), config.min_sd ** 2)
    x = np.round(np.maximum(v, 0.0))
    z[judged] = _nb_z(x[judged], mu[judged], size[judged])
    mu2 = _shift_down(mu) + mu
    # Two independent days: the variances add, mu² / size summed over the days.
    size2 = mu2 ** 2 / (_shift_down(mu ** 2 / size) + mu ** 2 / size)
    if metric in config.two_day:
        both = judged & _shift_down(judged)
        z2[both] = _nb_z(np.round(observed2[both]), mu2[both], size2[both])

    def bounds(ti, ci, two):
        m, s = np.where(two, mu2[ti, ci], mu[ti, ci]), np.where(two, size2[ti, ci], size[ti, ci])
        n, p = _nb(m, s)
        q = ndtr(-k)
        return nbinom.ppf(q, n, p), nbinom.isf(q, n, p)
    return _Scored(v, expected, z, z2, observed2, expected2, bounds)


# --------------------------------------------------------------------------------------------
# Decision

def _flags(s: _Scored, direction: str, config: AnomalyConfig) -> tuple[np.ndarray, np.ndarray]:
    """(flagged, two_day) per day and campaign; two_day: flagged on the two-day total only."""
    k = config.threshold
    z, z2 = np.nan_to_num(s.z), np.nan_to_num(s.z2)
    days = len(z)
    flagged = np.zeros(z.shape, dtype=bool)
    for sign, name in ((1.0, "spike"), (-1.0, "drop")):
        if direction not in (name, "both"):
            continue
        zs = z * sign
        strong = (zs >= k) | ((zs >= config.persist * k) & (z2 * sign >= k))
        # Neighbours off the same way, by at least `persist` of this day's own score.
        bar = config.persist * np.maximum(zs, k)
        run = np.ones(z.shape, dtype=int)
        for step, reach in ((-1, config.max_run), (1, config.confirm_days)):
            going = np.ones(z.shape, dtype=bool)
            for j in range(1, min(reach, days - 1) + 1):
                neighbour = np.full(z.shape, -np.inf)
                if step < 0:
                    neighbour[j:] = zs[:days - j]
                else:
                    neighbour[:days - j] = zs[j:]
                going &= neighbour >= bar
                run += going
        flagged |= strong & (run <= config.max_run)
    return flagged, flagged & (np.abs(z) < k)


# --------------------------------------------------------------------------------------------
# Messages

def _fmt(metric: str, value: float, currency: str) -> str:
    return registry.get(metric).format(value, currency)


def _message(metric: str, direction: str, observed: float, expected: float, lo: float, hi: float,
             two_day: bool, clicks: float, clicks_normal: bool, cpc_spike: bool, currency: str) -> str:
    """One plain sentence: what moved, to what, against what was normal, and the likely cause."""
    f = lambda m, x: _fmt(m, x, currency)  # noqa: E731
    verb = "jumped to" if direction == "spike" else "fell to"
    when = " over two days" if two_day else ""
    per = " for the two" if two_day else ""
    head = (f"{registry.get(metric).label}{when} {verb} {f(metric, observed)} (expected about "
            f"{f(metric, expected)}{per}, normal {f(metric, lo)}–{f(metric, hi)})")
    if metric == "conversions" and direction == "drop":
        tail = (f" while clicks held at {f('clicks', clicks)}: tracking may be broken." if clicks_normal
                else f" with clicks down too, at {f('clicks', clicks)}: delivery fell.")
    elif metric == "cpc" and direction == "spike":
        tail = (f" while clicks held at {f('clicks', clicks)}: auction prices or bids jumped." if clicks_normal
                else f" with clicks at {f('clicks', clicks)}: check bids and budget.")
    elif metric == "spend" and direction == "spike":
        tail = (" for the usual number of clicks: clicks got much more expensive." if cpc_spike
                else ": check for a raised budget or a removed cap.")
    elif metric in ("spend", "impressions", "clicks") and direction == "drop":
        tail = ": delivery fell; check budget, bids, billing and ad approvals."
    else:
        tail = "."
    return head + tail


# --------------------------------------------------------------------------------------------

def detect(daily: pd.DataFrame, since: dt.date | None = None,
           config: AnomalyConfig = AnomalyConfig()) -> pd.DataFrame:
    """Flag one- and two-day anomalies per campaign (method and latency: module docstring).

    daily: one row per campaign and date with columns date, campaign_id, channel, spend,
    impressions, clicks, conversions, revenue (money in one currency, complete days only; a
    missing day = the campaign did not run: it is neither judged nor part of any baseline).
    Returns one row per flagged (date, campaign_id, metric) with dates >= since (earlier days
    only serve as history), sorted by date, campaign and metric: date (datetime.date),
    campaign_id, channel, metric, direction ('spike' | 'drop'), days (1, or 2 for a two-day
    total), observed, expected, lo, hi
    (the range of normal values the test used: observed outside it, with the test's threshold),
    score (signed, in robust standard deviations), severity ('high' | 'medium') and message
    (one plain sentence for a marketer). When a count was flagged on the two-day total only
    (``config.two_day``), observed, expected, lo and hi are totals over the day and the day
    before, and the message says "over two days".

    With ``config.confirm_days = 2`` (default) the last two days of `daily` are not judged yet.
    """
    if daily.empty:
        return empty()
    watched = {m for m, _ in config.watch}
    measures = {"clicks"} | {i for m in watched for i in registry.get(m).inputs}
    grid = _grid(daily, measures)
    last = len(grid.dates) - 1 - config.confirm_days
    first = 0 if since is None else int(grid.dates.searchsorted(pd.Timestamp(since)))
    if last < first:
        return empty()
    scored = {m: _score(grid, m, config) for m in watched | {"clicks"}}
    clicks_z = np.nan_to_num(scored["clicks"].z)
    cpc_z = np.nan_to_num(scored["cpc"].z) if "cpc" in scored else np.zeros_like(clicks_z)
    clicks_normal = np.abs(clicks_z) < config.threshold
    clicks_normal2 = clicks_normal & _shift_down(clicks_normal)
    clicks2 = scored["clicks"].observed2
    parts = []
    for metric, direction in config.watch:
        s = scored[metric]
        flagged, two = _flags(s, direction, config)
        flagged[:first] = False
        flagged[last + 1:] = False
        ti, ci = np.nonzero(flagged)
        if not len(ti):
            continue
        two = two[ti, ci]
        score = np.where(two, s.z2[ti, ci], s.z[ti, ci])
        observed = np.where(two, s.observed2[ti, ci], s.observed[ti, ci])
        expected = np.where(two, s.expected2[ti, ci], s.expected[ti, ci])
        lo, hi = s.bounds(ti, ci, two)
        ratio = np.maximum(observed, 0.0) / np.maximum(expected, 1e-9)
        high = (np.abs(score) >= config.high) & ((ratio <= 0.5) | (ratio >= 2.0))
        if registry.get(metric).kind == "count":
            high &= expected >= config.high_min_count * np.where(two, 2, 1)
        direction_ = np.where(score > 0, "spike", "drop")
        messages = [
            _message(metric, d, o, e, lo_, hi_, t, clicks2[a, b] if t else grid.values["clicks"][a, b],
                     bool(clicks_normal2[a, b] if t else clicks_normal[a, b]), bool(cpc_z[a, b] >= config.threshold),
                     config.currency)
            for d, o, e, lo_, hi_, t, a, b in zip(direction_, observed, expected, lo, hi, two, ti, ci)]
        parts.append(pd.DataFrame({
            "date": grid.dates[ti].date, "campaign_id": grid.campaigns[ci], "channel": grid.channels[ci],
            "metric": metric, "direction": direction_, "days": np.where(two, 2, 1), "observed": observed, "expected": expected,
            "lo": lo, "hi": hi, "score": score, "severity": np.where(high, "high", "medium"),
            "message": messages}))
    if not parts:
        return empty()
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["date", "campaign_id", "metric"], ignore_index=True)[list(COLUMNS)]


#: Which alert of an incident speaks for it: the one nearest the cause (a delivery drop moves
#: spend, impressions and conversions; its spend alert says "check budget, bids, billing").
PRIMARY_ORDER: tuple[str, ...] = ("spend", "impressions", "conversions", "cpc")


def group_incidents(alerts: pd.DataFrame) -> pd.DataFrame:
    """Alerts of one campaign on consecutive days, as one incident per row.

    One outage raises up to three metrics on two days; a marketer acts on the outage once.
    ``alerts`` has at least id, date, campaign_id, metric, severity, status and message (the
    stored alerts); returns date_from, date_to, campaign_id, ids (all its alerts), metrics
    (in ``PRIMARY_ORDER``), primary (the id whose message speaks for it: the metric first in
    that order, latest day), message, severity ('high' if any), status ('open' if any alert is
    open), and the primary alert's other columns. Newest incidents first.
    """
    if alerts.empty:
        return alerts.assign(date_from=alerts.get("date"), date_to=alerts.get("date"), ids=[],
                             metrics=[], primary=[])
    frame = alerts.assign(date=pd.to_datetime(alerts["date"])).sort_values(["campaign_id", "date"])
    gap = frame["date"].diff().dt.days.ne(0) & frame["date"].diff().dt.days.ne(1)
    frame["incident"] = (frame["campaign_id"].ne(frame["campaign_id"].shift()) | gap).cumsum()
    order = {m: i for i, m in enumerate(PRIMARY_ORDER)}
    rows = []
    for _, part in frame.groupby("incident", sort=False):
        ranked = part.assign(rank=part["metric"].map(order).fillna(len(order)))
        primary = ranked.sort_values(["rank", "date"], ascending=[True, False]).iloc[0]
        metrics = sorted(part["metric"].unique(), key=lambda m: order.get(m, len(order)))
        rows.append({**primary.drop(labels=["incident", "rank"]).to_dict(),
                     "date_from": part["date"].min(), "date_to": part["date"].max(),
                     "ids": [int(i) for i in part["id"]], "metrics": metrics, "primary": int(primary["id"]),
                     "severity": "high" if (part["severity"] == "high").any() else "medium",
                     "status": "open" if (part["status"] == "open").any() else "dismissed"})
    return pd.DataFrame(rows).sort_values(["date_to", "campaign_id"], ascending=[False, True],
                                          ignore_index=True)
