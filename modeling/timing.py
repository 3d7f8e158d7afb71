"""Best time to advertise or publish: which hours (or weekdays) beat the average, and how sure.

Input is one row per day × hour ("cells", with a `weekday` column 0 = Monday) holding the sums a
metric needs: ad measures from the hourly facts, or posts / views / engagement of organic posts.
An hour's metric is a ratio of that hour's sums (the registry's formula, or views per post), and
it is judged *relative to the whole window's value* — "1.8× the average".

Uncertainty is the paired bootstrap over days of :mod:`modeling.compare` (its helpers are reused):
each resample draws the same days for every hour and for the average, so a day that lifts every
hour (a holiday, a viral post) moves both sides of the ratio and cancels, while day-to-day swings
within an hour widen its interval as they should. That also covers rates such as CTR, whose
binomial intervals would be far too narrow at millions of impressions.

Only what is significant is said. An hour stands out when its interval, Bonferroni-widened for
the number of hours looked at (so all 24 hold together at 95 %), lies wholly on the better side of
1, and it beats the average by at least MIN_LIFT (5 %). The best of those hours, with the standing-out hours beside it that cannot be told apart from
it (their 95 % intervals overlap), form the window that is reported, with its pooled value's plain
95 % interval; when no hour stands out the sentence says exactly that.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from db import metrics as mx
from modeling.compare import _pivot, _ratio_draws

WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: How many positions each axis has (hours of a day, days of a week).
POSITIONS = {"hour": 24, "weekday": 7}
#: An hour seen on fewer days is shown but never called out: a handful of days can make any hour
#: look exceptional, and the bootstrap cannot know how rare such luck is.
MIN_DAYS = 8
#: A heatmap cell (one weekday at one hour) seen on fewer days is left blank.
MIN_CELL_DAYS = 3
#: Smallest lift worth a schedule change: with millions of impressions a 2 % difference can be
#: "significant" and still not worth saying.
MIN_LIFT = 1.05

#: Organic-post metrics. Not in the registry, which holds paid-media metrics only, but built the
#: same way (a formula on sums) so formatting and the bootstrap treat them like any other.
ORGANIC_METRICS: dict[str, mx.Metric] = {
    "views_per_post": mx.Metric("views_per_post", "Views per post", "count", True,
                                lambda s: mx.ratio(s["views"], s["posts"]), ("views", "posts"),
                                "Σ views / number of posts published."),
    "engagement_per_post": mx.Metric("engagement_per_post", "Engagement per post", "count", True,
                                     lambda s: mx.ratio(s["engagement"], s["posts"]), ("engagement", "posts"),
                                     "Σ (reactions + shares + comments) / number of posts published."),
}


def metric(slug: str) -> mx.Metric:
    """An organic-post metric, or one from the registry."""
    return ORGANIC_METRICS.get(slug) or mx.get(slug)


@dataclass(frozen=True)
class Window:
    """Adjacent positions (hours or weekdays, wrapping around) with their pooled multiplier."""

    by: str
    start: int
    length: int
    ratio: float
    lo: float
    hi: float

    def label(self) -> str:
        """"20:00–22:00" (the end hour excluded), "Sat–Sun", or one weekday."""
        end = (self.start + self.length) % POSITIONS[self.by]
        if self.by == "hour":
            return f"{self.start:02d}:00–{end:02d}:00"
        last = WEEKDAYS[(end - 1) % 7]
        return WEEKDAYS[self.start] if self.length == 1 else f"{WEEKDAYS[self.start]}–{last}"


@dataclass(frozen=True)
class Timing:
    """The analysis of one metric along one axis: `profile` has one row per position
    [position, value, ratio, lo, hi, days, stands_out]; `best` is None when nothing stands out."""

    metric: str
    by: str
    days: int
    profile: pd.DataFrame
    best: Window | None


def _tables(cells: pd.DataFrame, inputs: tuple[str, ...], by: str) -> dict[str, np.ndarray]:
    """day × position sums per input, every position present (missing = 0)."""
    return {c: p.reindex(columns=range(POSITIONS[by]), fill_value=0.0).to_numpy(float)
            for c, p in _pivot(cells, by, inputs).items()}


def _relative_draws(spec: mx.Metric, tables: dict[str, np.ndarray], weights: np.ndarray,
                    overall: np.ndarray) -> np.ndarray:
    """boot × column draws of the metric divided by the same resample's whole-window value."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _ratio_draws(spec, tables, weights) / overall


def _around(peak: int, keep: np.ndarray) -> tuple[int, int]:
    """(start, length) of the run of `keep` positions through `peak`, on a circle (hour 23 is next
    to hour 0, Sunday to Monday)."""
    n = len(keep)
    if keep.all():
        return 0, n
    start, end = peak, peak
    while keep[(start - 1) % n]:
        start -= 1
    while keep[(end + 1) % n]:
        end += 1
    return start % n, end - start + 1


def analyse(cells: pd.DataFrame, metric_slug: str, by: str = "hour", n_boot: int = 2000, seed: int = 0,
            level: float = 0.95) -> Timing:
    """Rank the hours (`by="hour"`) or weekdays of `cells` on a metric against the window's value."""
    spec = metric(metric_slug)
    n = POSITIONS[by]
    if cells.empty:
        empty = pd.DataFrame({"position": range(n), "value": np.nan, "ratio": np.nan, "lo": np.nan,
                              "hi": np.nan, "days": 0, "stands_out": False})
        return Timing(metric_slug, by, 0, empty, None)
    tables = _tables(cells, spec.inputs, by)
    n_days = next(iter(tables.values())).shape[0]
    seen = np.zeros((n_days, n), dtype=bool)
    for t in tables.values():
        seen |= t > 0
    days = seen.sum(axis=0)
    value = np.asarray(spec.compute({c: t.sum(axis=0) for c, t in tables.items()}), float)
    overall = float(spec.compute({c: t.sum() for c, t in tables.items()}))
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n_days, np.full(n_days, 1 / n_days), size=n_boot)
    whole = _ratio_draws(spec, {c: t.sum(axis=1, keepdims=True) for c, t in tables.items()}, weights)
    draws = _relative_draws(spec, tables, weights, whole)
    alpha = 1 - level
    defined = np.isfinite(draws).any(axis=0)
    lo, hi, wide_lo, wide_hi = np.full((4, n), np.nan)
    lo[defined], hi[defined] = np.nanquantile(draws[:, defined], [alpha / 2, 1 - alpha / 2], axis=0)
    wide_lo[defined], wide_hi[defined] = np.nanquantile(
        draws[:, defined], [alpha / (2 * n), 1 - alpha / (2 * n)], axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = value / overall if overall else np.full(n, np.nan)
    if spec.higher_is_better:
        better = (wide_lo > 1) & (ratio >= MIN_LIFT)
    else:
        better = (wide_hi < 1) & (ratio <= 1 / MIN_LIFT)
    stands_out = better & (days >= MIN_DAYS)
    profile = pd.DataFrame({"position": range(n), "value": value, "ratio": ratio, "lo": lo, "hi": hi,
                            "days": days, "stands_out": stands_out})
    best = None
    if stands_out.any():
        sign = 1 if spec.higher_is_better else -1
        peak = int(np.nanargmax(np.where(stands_out, sign * ratio, -np.inf)))
        # the hours beside the best one that it cannot be told apart from
        close = (hi >= lo[peak]) if spec.higher_is_better else (lo <= hi[peak])
        start, length = _around(peak, stands_out & close)
        cols = [(start + k) % n for k in range(length)]
        pooled = {c: t[:, cols].sum(axis=1, keepdims=True) for c, t in tables.items()}
        w_lo, w_hi = np.nanquantile(_relative_draws(spec, pooled, weights, whole)[:, 0],
                                    [alpha / 2, 1 - alpha / 2])
        w_ratio = float(spec.compute({c: t.sum() for c, t in pooled.items()})) / overall
        best = Window(by, start, length, w_ratio, float(w_lo), float(w_hi))
    return Timing(metric_slug, by, n_days, profile, best)


def times(*values: float) -> list[str]:
    """Multipliers with one shared number of decimals — the fewest that tell them from each other
    and from 1 ("1.3", "1.2", "1.5", not "1.2", "1.2", "1.2")."""
    for digits in (1, 2):
        shown = [f"{v:.{digits}f}" for v in values]
        apart = len(set(shown)) == len(set(values))
        if apart and all(s != f"{1:.{digits}f}" or v == 1 for s, v in zip(shown, values)):
            return shown
    return [f"{v:.3f}" for v in values]


def sentence(timing: Timing, subject: str) -> str:
    """What to say about a Timing, e.g. subject "Posts published" →
    "Posts published 17:00–20:00 get 1.9× the average views per post (95%: 1.6–2.2×)." """
    label = metric(timing.metric)
    name = label.short or label.label.lower()
    axis = "hour" if timing.by == "hour" else "weekday"
    if timing.days < MIN_DAYS:
        return f"Too few days of data ({timing.days}) to tell one {axis} from another."
    best = timing.best
    if best is None:
        return f"No {axis} stands out: every {axis}'s {name} is within the noise of the average."
    when = best.label() if timing.by == "hour" else f"on {best.label()}"
    ratio, lo, hi = times(best.ratio, best.lo, best.hi)
    return f"{subject} {when} get {ratio}× the average {name} (95%: {lo}–{hi}×)."


def grid(cells: pd.DataFrame, metric_slug: str) -> pd.DataFrame:
    """The metric per weekday × hour [weekday, hour, value, days]; cells seen on fewer than
    MIN_CELL_DAYS days have no value (one lucky post would otherwise set the colour scale)."""
    spec = metric(metric_slug)
    if cells.empty:
        return pd.DataFrame(columns=["weekday", "hour", "value", "days"])
    inputs = list(spec.inputs)
    seen = cells[(cells[inputs] > 0).any(axis=1)]
    sums = cells.groupby(["weekday", "hour"])[inputs].sum()
    full = pd.MultiIndex.from_product([range(7), range(24)], names=["weekday", "hour"])
    sums = sums.reindex(full, fill_value=0.0)
    days = seen.groupby(["weekday", "hour"])["date"].nunique().reindex(full, fill_value=0)
    value = pd.Series(np.asarray(spec.compute(sums), float), index=full).where(days >= MIN_CELL_DAYS)
    return pd.DataFrame({"value": value, "days": days}).reset_index()


def by_group(cells: pd.DataFrame, metric_slug: str, group: str = "channel", by: str = "hour",
             **kwargs) -> pd.DataFrame:
    """The best window per group (channel): [group, days, window, ratio, lo, hi]; window is None
    where nothing stands out."""
    rows = []
    for key, part in cells.groupby(group, sort=True):
        found = analyse(part, metric_slug, by=by, **kwargs)
        best = found.best
        rows.append({group: key, "days": found.days, "window": best.label() if best else None,
                     "ratio": best.ratio if best else np.nan, "lo": best.lo if best else np.nan,
                     "hi": best.hi if best else np.nan})
    return pd.DataFrame(rows, columns=[group, "days", "window", "ratio", "lo", "hi"])
