"""Computed results as short, ranked facts: the input of the written recommendations.

Each builder turns one already-computed result (a budget plan, the modelled-vs-reported ROI
table, a channel comparison, the open alerts, a 30-day forecast) into :class:`Fact` objects:
one deterministic sentence whose numbers are all formatted by the metric registry
(:mod:`db.metrics`), the raw values of those numbers, an imperative title and a priority.
Builders say nothing about results that are not significant (an interval that includes "no
change", a verdict short of sure, a change below a threshold): a recommendation that could be
noise costs the reader's trust. :func:`rank` picks the few that matter most.

The facts are also the whole truth an LLM may use (:mod:`modeling.llm`): its draft is refused
when it contains a number that is not one of theirs.

Priorities are money at stake per day where the result allows it (in the units of the spend
column, or of the plan's outcome); the docstrings say how each is measured. Everything here
is pure: frames and objects in, facts out.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from db import metrics as mx

if TYPE_CHECKING:
    from modeling.budget import Plan

Kind = Literal["budget", "efficiency", "alert", "forecast", "comparison"]
#: Tie-break between kinds of equal priority (lower first): acting on money beats reading.
KIND_ORDER = {"alert": 0, "budget": 1, "efficiency": 2, "forecast": 3, "comparison": 4}
#: How the unit of spend reads in "each extra dollar".
CURRENCY_UNITS = {"USD": "dollar", "EUR": "euro", "RUB": "ruble", "GBP": "pound"}


@dataclass(frozen=True)
class Fact:
    """One thing worth telling, as a sentence whose every number is in ``numbers`` (raw).

    ``key`` is stable across runs ("budget:tiktok"), ``priority`` is what ranking uses
    (higher first; money at stake per day where there is a money measure), ``action`` a
    short imperative title. Dates and digits inside names (campaigns, channels) appear in
    ``text`` but are not quantities, so they are not in ``numbers``.
    """

    key: str
    kind: Kind
    priority: float
    channel: str | None
    text: str
    numbers: dict[str, float] = field(default_factory=dict)
    action: str = ""


# ---------------------------------------------------------------------------------------------
# formatting: every number goes through the registry


def _money(value: float, currency: str) -> str:
    return mx.get("revenue").format(value, currency)


def _pct(value: float) -> str:
    """A fraction as the registry prints percentages (0.3 → "30.00%")."""
    return mx.format_value(value, "percent")


def _signed_pct(value: float) -> str:
    return ("+" if value > 0 else "-" if value < 0 else "") + _pct(abs(value))


def _unit(currency: str) -> str:
    return CURRENCY_UNITS.get(currency, currency)


def _label(labels: Mapping[str, str] | None, slug: str) -> str:
    return (labels or {}).get(slug, slug)


def _rows(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """The frame with its group key as a column named ``key`` (index or column)."""
    if key in frame.columns:
        return frame.reset_index(drop=True)
    return frame.rename_axis(key).reset_index()


def _finite(*values: float) -> bool:
    return all(v is not None and math.isfinite(float(v)) for v in values)


# ---------------------------------------------------------------------------------------------
# budget


def budget_facts(plan: Plan, currency: str = "USD", labels: Mapping[str, str] | None = None,
                 min_change: float = 0.05, min_gain: float = 0.001) -> list[Fact]:
    """What a budget plan (``modeling.budget.plan``) asks for: its total gain, then one fact
    per channel whose daily spend moves by at least ``min_change`` (relative).

    Skipped entirely when the plan's gain is not significant: its 95 % interval reaches zero
    (the model cannot tell the new split is better) or its mean is below ``min_gain`` of the
    expected daily outcome (not worth the disruption). Channels moving less than
    ``min_change`` are "keep" and get no fact.

    Priorities (outcome per day, money for revenue plans): the plan's mean gain for the total;
    for a channel, its share of that gain, |Δ spend| × |mean of its marginal return before and
    after − the going marginal return| (the median ``mroi_new``: where an optimum levels the
    channels' marginal returns). The shares add up to about the total gain.
    """
    gain, gain_lo, gain_hi = (float(v) for v in plan.uplift)
    outcome = float(plan.expected[0]) if plan.expected else 0.0
    if not _finite(gain, gain_lo, gain_hi) or gain_lo <= 0 or gain < min_gain * abs(outcome):
        return []
    conversions = plan.objective in ("conversions", "target_cpa")
    table = _rows(plan.table, "channel")
    going = float(np.nanmedian(table["mroi_new"].to_numpy(float)))
    moved = table[table["change"].abs() >= min_change]
    raised, cut = moved[moved["change"] > 0], moved[moved["change"] < 0]

    total_now, total_new = float(table["current"].sum()), float(table["recommended"].sum())
    if conversions:
        count = mx.get("conversions").format
        what = (f"{count(gain)} more conversions a day (likely between {count(gain_lo)} and "
                f"{count(gain_hi)})")
    else:
        what = (f"{_money(gain, currency)} more revenue a day (likely between "
                f"{_money(gain_lo, currency)} and {_money(gain_hi, currency)})")
    numbers = {"gain": gain, "gain_lo": gain_lo, "gain_hi": gain_hi,
               "budget_new": total_new}
    if abs(total_new - total_now) <= 0.005 * max(abs(total_now), 1e-9):
        spend = f"for the same total of {_money(total_new, currency)} a day"
    else:
        spend = (f"for {_money(total_new, currency)} a day in total instead of "
                 f"{_money(total_now, currency)}")
        numbers["budget_now"] = total_now
    facts = [Fact(key="budget:total", kind="budget", priority=gain, channel=None,
                  text=f"The recommended budget split should bring {what} {spend}.",
                  numbers=numbers, action="Apply the recommended budget split")]

    for row in moved.itertuples(index=False):
        up = row.change > 0
        name = _label(labels, row.channel)
        numbers = {"current": float(row.current), "recommended": float(row.recommended),
                   "change": float(row.change)}
        verb = "raise" if up else "cut"
        text = (f"{name}: {verb} daily spend from {_money(row.current, currency)} to "
                f"{_money(row.recommended, currency)} ({_signed_pct(row.change)})")
        others = cut if up else raised
        other = (others.sort_values(["mroi_now", "channel"], ascending=up, kind="stable")
                 .head(1))
        clause = _marginal_clause(float(row.mroi_now), up, conversions, currency, other,
                                  labels, numbers)
        text += f"; {clause}." if clause else "."
        share = abs(row.recommended - row.current) * abs(
            (row.mroi_now + row.mroi_new) / 2 - going)
        action = f"Move budget to {name}" if up else f"Move budget away from {name}"
        facts.append(Fact(key=f"budget:{row.channel}", kind="budget",
                          priority=float(share) if math.isfinite(share) else 0.0,
                          channel=row.channel, text=text, numbers=numbers, action=action))
    return facts


def _marginal_clause(mroi: float, up: bool, conversions: bool, currency: str,
                     other: pd.DataFrame, labels: Mapping[str, str] | None,
                     numbers: dict[str, float]) -> str:
    """"each extra dollar there returns $1.42, against $0.61 on Facebook" (or, for plans on
    conversions, the marginal cost of a conversion: 1 / mROI)."""
    if not _finite(mroi) or mroi <= 0:
        return ""
    unit = _unit(currency)
    if conversions:
        value, fmt = 1.0 / mroi, mx.get("cpa").format
        numbers["marginal_cost"] = value
        clause = (f"an extra conversion there costs {fmt(value, currency)}" if up else
                  f"its last conversions cost {fmt(value, currency)} each")
    else:
        value, fmt = mroi, mx.get("revenue").format
        numbers["mroi"] = value
        clause = (f"each extra {unit} there returns {fmt(value, currency)}" if up else
                  f"its last {unit} returns only {fmt(value, currency)}")
    if not other.empty:
        o = other.iloc[0]
        o_mroi = float(o["mroi_now"])
        if _finite(o_mroi) and o_mroi > 0:
            o_value = 1.0 / o_mroi if conversions else o_mroi
            numbers["marginal_cost_other" if conversions else "mroi_other"] = o_value
            clause += f", against {fmt(o_value, currency)} on {_label(labels, o['channel'])}"
    return clause


# ---------------------------------------------------------------------------------------------
# modelled vs reported ROI


def efficiency_facts(roi_table: pd.DataFrame, currency: str = "USD",
                     labels: Mapping[str, str] | None = None, *, days: float,
                     target: Literal["revenue", "conversions"] = "revenue",
                     min_gap: float = 0.2) -> list[Fact]:
    """What the modelled ROI (``Curves.roi``: outcome caused per unit of spend) says that the
    platforms' reports do not; at most one fact per channel. ``days`` is the length of the
    fitted window (``roi_table.spend`` is its total), to put the stakes per day.

    * Losing money (revenue only): the whole 95 % interval of modelled ROI is below 1.0, so
      each unit spent brings back less than it costs. Priority: the daily loss, daily spend ×
      (1 − ROI).
    * Otherwise, mis-reported: the platform's ROI lies outside the modelled interval and
      differs from the modelled mean by at least ``min_gap`` (relative). Priority: the
      revenue per day misjudged when channels are compared on their reports, daily spend ×
      |reported / typical over-claim − ROI|, the typical over-claim being the median of
      reported / modelled over the channels: an over-claim every platform shares misranks
      nothing (the fact is still said, but low), one that singles a channel out does.

    Skipped: channels whose interval contains both the report and (for losses) 1.0, channels
    without spend or without a modelled value. For conversions, ROI reads as cost per
    conversion (1 / ROI, the registry's CPA) and break-even does not apply; the priority is
    then in conversions per day.
    """
    if days <= 0:
        raise ValueError("days must be positive")
    rows = _rows(roi_table, "channel")
    ratios = (rows["reported_roi"] / rows["modelled_roi"]).to_numpy(float)
    ratios = ratios[np.isfinite(ratios) & (ratios > 0)]
    typical = float(np.median(ratios)) if ratios.size else 1.0
    facts = []
    for row in rows.itertuples(index=False):
        daily = float(row.spend) / days
        roi, lo = float(row.modelled_roi), float(row.modelled_roi_lo)
        hi = float(row.modelled_roi_hi)
        reported = float(row.reported_roi)
        if daily <= 0 or not _finite(roi, lo, hi) or roi <= 0:
            continue
        name = _label(labels, row.channel)
        if target == "revenue" and hi < 1.0:
            loss = daily * (1.0 - roi)
            numbers = {"modelled_roi": roi, "modelled_roi_lo": lo, "modelled_roi_hi": hi,
                       "loss": loss}
            text = (f"{name} loses money: each {_unit(currency)} spent there brings back "
                    f"{_money(roi, currency)} of revenue (likely between {_money(lo, currency)} "
                    f"and {_money(hi, currency)}), about {_money(loss, currency)} a day less "
                    f"than it costs")
            if _finite(reported) and reported > 0:
                numbers["reported_roi"] = reported
                text += f", although the platform reports {_money(reported, currency)}"
            facts.append(Fact(f"efficiency:{row.channel}", "efficiency", loss, row.channel,
                              text + ".", numbers, f"Cut or rework {name}"))
            continue
        if not _finite(reported) or reported <= 0 or lo <= reported <= hi \
                or abs(reported / roi - 1) < min_gap:
            continue
        over = reported > roi
        numbers = {"reported_roi": reported, "modelled_roi": roi, "modelled_roi_lo": lo,
                   "modelled_roi_hi": hi}
        if target == "revenue":
            unit = _unit(currency)
            text = (f"{name}: the platform reports {_money(reported, currency)} of revenue per "
                    f"{unit} spent, but the model credits it with {_money(roi, currency)} "
                    f"(likely between {_money(lo, currency)} and {_money(hi, currency)})")
        else:
            cpa = mx.get("cpa").format
            numbers = {"reported_cpa": 1 / reported, "modelled_cpa": 1 / roi,
                       "modelled_cpa_lo": 1 / hi, "modelled_cpa_hi": 1 / lo}
            text = (f"{name}: the platform reports a cost of {cpa(1 / reported, currency)} per "
                    f"conversion, but the model puts it at {cpa(1 / roi, currency)} (likely "
                    f"between {cpa(1 / hi, currency)} and {cpa(1 / lo, currency)})")
        text += ("; judge it by the model's figure, not the platform's." if over else
                 "; it does better than its reports show.")
        action = (f"Judge {name} by modelled, not reported, returns" if over else
                  f"Don't cut {name} on its reported returns")
        facts.append(Fact(f"efficiency:{row.channel}", "efficiency",
                          daily * abs(reported / typical - roi), row.channel, text, numbers,
                          action))
    return facts


# ---------------------------------------------------------------------------------------------
# channel comparison


def comparison_facts(comparison: pd.DataFrame, metric: str, currency: str = "USD",
                     labels: Mapping[str, str] | None = None,
                     stake: Mapping[str, float] | None = None) -> list[Fact]:
    """A clear leader and a clear laggard from ``modeling.compare.compare_channels``.

    The leader is the top-ranked group, and only when its verdict is "better" (it beats the
    pooled rest with probability ≥ 95 %); the laggard the bottom-ranked one with verdict
    "worse". "likely better", "no clear difference" and groups without a value say nothing.
    The group key is the frame's first column (channel or campaign); campaigns get
    ``channel=None``.

    Priority: relative distance from the median of the other groups (capped at 1), times
    ``stake[group]`` (e.g. its daily spend) when given, so that without stakes these facts
    rank below any fact measured in money.
    """
    if comparison.empty or len(comparison) < 2:
        return []
    key = comparison.columns[0]
    spec = mx.get(metric)
    frame = comparison[np.isfinite(comparison["value"].to_numpy(float))]
    frame = frame.sort_values(["rank", key], kind="stable", ignore_index=True)
    if frame.empty:
        return []
    picks = []
    if frame.iloc[0]["verdict"] == "better":
        picks.append(("leader", frame.iloc[0]))
    if len(frame) > 1 and frame.iloc[-1]["verdict"] == "worse":
        picks.append(("laggard", frame.iloc[-1]))
    facts = []
    short = spec.short or spec.label
    for role, row in picks:
        group = row[key]
        name = _label(labels, group) if key == "channel" else str(group)
        value, lo, hi = float(row["value"]), float(row["lo"]), float(row["hi"])
        others = frame.loc[frame[key] != group, "value"].to_numpy(float)
        median = float(np.median(others))
        distance = min(abs(value / median - 1), 1.0) if median else 1.0
        weight = float(stake.get(group, 0.0)) if stake is not None else 1.0
        what = "the other channels" if key == "channel" else f"the other {key}s"
        verb = "clearly beats" if role == "leader" else "clearly trails"
        numbers = {"value": value}
        text = f"{name} {verb} {what} on {short}: {spec.format(value, currency)}"
        if _finite(lo, hi):
            numbers.update(lo=lo, hi=hi)
            text += (f" (likely between {spec.format(lo, currency)} and "
                     f"{spec.format(hi, currency)})")
        action = (f"Learn from {name}'s {short}" if role == "leader" else
                  f"Review {name}'s {short}")
        facts.append(Fact(f"comparison:{metric}:{group}", "comparison", distance * weight,
                          group if key == "channel" else None, text + ".", numbers, action))
    return facts


# ---------------------------------------------------------------------------------------------
# alerts


def _date(value) -> str:
    day = pd.Timestamp(value)
    return f"{day.day} {day:%b %Y}"


def _metric_format(metric: str):
    try:
        return mx.get(metric).format, mx.get(metric)
    except KeyError:
        return (lambda v, currency="USD": mx.format_value(v, "ratio", currency)), None


def alert_facts(alerts: pd.DataFrame, currency: str = "USD",
                labels: Mapping[str, str] | None = None,
                stake: Mapping[str, float] | None = None) -> list[Fact]:
    """Open, high-severity alerts (``db.alert_queries.alerts`` rows): one fact per campaign
    and metric, from its latest day (earlier days of the same break add nothing to do).

    Skipped: dismissed alerts and medium ones (medium breaks are frequent enough to be
    noise in a short list; the alerts page shows them all). The sentence is rebuilt from
    observed and expected with the registry's formats rather than taken from ``message``,
    so that its numbers are exactly the fact's.

    Priority: for money metrics, |observed − expected| (money per day); otherwise the
    relative break (capped at 1) times ``stake[channel]`` (e.g. its daily spend) when given.
    """
    if alerts.empty:
        return []
    live = alerts[(alerts["status"] == "open") & (alerts["severity"] == "high")]
    if live.empty:
        return []
    live = live.assign(date=pd.to_datetime(live["date"]))
    live = live.sort_values(["date", "channel", "campaign", "metric"], kind="stable")
    latest = live.groupby(["channel", "campaign", "metric"], sort=True).tail(1)
    facts = []
    for row in latest.sort_values(["channel", "campaign", "metric"]).itertuples(index=False):
        fmt, spec = _metric_format(row.metric)
        observed, expected = float(row.observed), float(row.expected)
        label = (spec.short or spec.label[0].lower() + spec.label[1:]) if spec else row.metric
        name = _label(labels, row.channel)
        verb = "jumped" if row.direction == "spike" else "fell"
        # A two-day alert's numbers are totals of its day and the day before.
        when = (f"over the two days to {_date(row.date)}" if int(getattr(row, "days", 1) or 1) == 2
                else f"on {_date(row.date)}")
        text = (f"{name}, campaign “{row.campaign}”: {label} {verb} to "
                f"{fmt(observed, currency)} {when}, against "
                f"{fmt(expected, currency)} expected.")
        money = spec is not None and spec.kind == "currency"
        gap = abs(observed - expected)
        if money:
            priority = gap
        else:
            relative = min(gap / abs(expected), 1.0) if expected else 1.0
            priority = relative * (float(stake.get(row.channel, 0.0)) if stake is not None else 1.0)
        facts.append(Fact(
            key=f"alert:{row.channel}:{row.campaign}:{row.metric}", kind="alert",
            priority=float(priority), channel=row.channel, text=text,
            numbers={"observed": observed, "expected": expected},
            action=f"Check {name} campaign “{row.campaign}”"))
    return facts


# ---------------------------------------------------------------------------------------------
# forecast

FORECAST_COLUMNS = ("spend_next", "revenue_next", "revenue_next_lo95", "revenue_next_hi95",
                    "spend_last", "revenue_last")


def forecast_facts(frame: pd.DataFrame, currency: str = "USD",
                   labels: Mapping[str, str] | None = None, days: int = 30,
                   min_change: float = 0.1) -> list[Fact]:
    """Channels whose revenue over the next ``days`` days is forecast to differ from the last
    ``days`` days.

    ``frame`` has one row per channel (a ``channel`` column or index) with ``spend_next`` and
    ``revenue_next`` (forecast sums over the next ``days`` days; ``revenue_next_lo95`` /
    ``revenue_next_hi95`` the 95 % interval of that sum) and ``spend_last`` / ``revenue_last``
    (actual sums over the last ``days`` days).

    Emitted only when last period's revenue lies outside the forecast's 95 % interval and the
    change is at least ``min_change`` (relative): a forecast whose interval holds the present
    says "no change" however its mean moved. The sentence gives forecast spend beside last
    spend, so a fall that only follows a lower budget reads as such. Priority: the revenue
    change per day.
    """
    missing = set(FORECAST_COLUMNS) - set(frame.columns)
    if missing:
        raise ValueError(f"forecast frame lacks {sorted(missing)}")
    facts = []
    for row in _rows(frame, "channel").itertuples(index=False):
        nxt, lo = float(row.revenue_next), float(row.revenue_next_lo95)
        hi = float(row.revenue_next_hi95)
        last = float(row.revenue_last)
        if not _finite(nxt, lo, hi, last) or last <= 0 or lo <= last <= hi:
            continue
        change = (nxt - last) / last
        if abs(change) < min_change:
            continue
        name = _label(labels, row.channel)
        down = change < 0
        numbers = {"days": float(days), "revenue_next": nxt, "revenue_next_lo95": lo,
                   "revenue_next_hi95": hi, "change": change, "revenue_last": last}
        text = (f"{name}: revenue over the next {mx.get('conversions').format(days)} days is "
                f"forecast at {_money(nxt, currency)} (likely between {_money(lo, currency)} and "
                f"{_money(hi, currency)}), {'down' if down else 'up'} {_pct(abs(change))} from "
                f"{_money(last, currency)} in the last {mx.get('conversions').format(days)} days")
        spend_next, spend_last = float(row.spend_next), float(row.spend_last)
        if _finite(spend_next, spend_last):
            numbers.update(spend_next=spend_next, spend_last=spend_last)
            text += (f"; spend is forecast at {_money(spend_next, currency)} against "
                     f"{_money(spend_last, currency)}")
        action = (f"Prepare for lower revenue on {name}" if down else
                  f"Plan for higher revenue on {name}")
        facts.append(Fact(f"forecast:{row.channel}", "forecast", abs(nxt - last) / days,
                          row.channel, text + ".", numbers, action))
    return facts


# ---------------------------------------------------------------------------------------------
# ranking


def rank(facts: Iterable[Fact], top: int = 5) -> list[Fact]:
    """The ``top`` most important facts: highest priority first (NaN counts as 0), at most one
    budget fact per channel (the plan's total counts as one channel of its own), one fact per
    key. Ties break by kind (alerts, budget, efficiency, forecast, comparison), then key, so
    the same facts always come out in the same order."""
    def order(f: Fact) -> tuple:
        p = f.priority if f.priority is not None and math.isfinite(f.priority) else 0.0
        return (-p, KIND_ORDER.get(f.kind, len(KIND_ORDER)), f.key)

    chosen, keys, budget_channels = [], set(), set()
    for fact in sorted(facts, key=order):
        if fact.key in keys:
            continue
        if fact.kind == "budget":
            if fact.channel in budget_channels:
                continue
            budget_channels.add(fact.channel)
        keys.add(fact.key)
        chosen.append(fact)
        if len(chosen) >= top:
            break
    return chosen
