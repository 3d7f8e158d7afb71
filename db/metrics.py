"""The metric registry: every metric is defined once, here.

Derived metrics are always ratios of sums (CTR = Σclicks / Σimpressions), never averages of
per-row ratios. Pages, the JSON API, reports, alerts and LLM prompts read labels, formats,
formulas and "is higher better" from this registry, so a definition changes in one place.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

Kind = Literal["count", "currency", "percent", "multiple", "ratio"]

#: Base measures stored in the fact tables. All are additive across rows except reach.
BASE_MEASURES: tuple[str, ...] = (
    "spend", "impressions", "reach", "clicks", "leads", "conversions", "revenue",
    "engagements", "video_views",
)
#: Measures expressed in money, which the currency filter converts.
MONEY_MEASURES: frozenset[str] = frozenset({"spend", "revenue"})


def ratio(num: Any, den: Any) -> Any:
    """num / den, with an undefined result (0 denominator) as NaN rather than inf or an error."""
    if isinstance(num, (pd.Series, np.ndarray)) or isinstance(den, (pd.Series, np.ndarray)):
        index = num.index if isinstance(num, pd.Series) else getattr(den, "index", None)
        n = np.asarray(num, dtype="float64")
        d = np.broadcast_to(np.asarray(den, dtype="float64"), n.shape)
        out = np.divide(n, d, out=np.full(n.shape, np.nan), where=d != 0)
        return pd.Series(out, index=index)
    num_f, den_f = float(num or 0), float(den or 0)
    return num_f / den_f if den_f else math.nan


@dataclass(frozen=True)
class Metric:
    slug: str
    label: str
    kind: Kind
    higher_is_better: bool
    formula: Callable[[Mapping[str, Any]], Any]
    inputs: tuple[str, ...]
    description: str
    short: str = ""

    def compute(self, sums: Mapping[str, Any]) -> Any:
        """Apply the formula to sums (scalars → scalar, DataFrame columns → Series)."""
        return self.formula(sums)

    def format(self, value: Any, currency: str = "USD") -> str:
        return format_value(value, self.kind, currency)

    def d3_hover(self, field: str = "y", currency: str = "USD") -> str:
        """The same format as `format`, as a plotly.js hover template (no per-point Python)."""
        if self.kind == "currency":
            return f"{CURRENCY_SYMBOLS.get(currency, currency + ' ')}%{{{field}:,.2f}}"
        if self.kind == "percent":
            return f"%{{{field}:.2%}}"
        if self.kind == "multiple":
            return f"%{{{field}:,.2f}}×"
        if self.kind == "ratio":
            return f"%{{{field}:,.2f}}"
        return f"%{{{field}:,.0f}}"


def _base(slug: str, label: str, kind: Kind, higher: bool, description: str) -> Metric:
    return Metric(slug, label, kind, higher, lambda s, _k=slug: s[_k], (slug,), description)


METRICS: dict[str, Metric] = {
    m.slug: m
    for m in [
        _base("spend", "Spend", "currency", False, "Money spent on ads, in the display currency."),
        _base("revenue", "Revenue", "currency", True, "Revenue the platforms attribute to ads."),
        _base("impressions", "Impressions", "count", True, "Times ads were shown."),
        _base(
            "reach", "Reach (Σ daily)", "count", True,
            "Sum of daily per-ad reach. People reached on several days or by several ads are "
            "counted each time, so this is an upper bound of unique reach, not a people count.",
        ),
        _base("clicks", "Clicks", "count", True, "Link clicks."),
        _base("leads", "Leads", "count", True, "Leads (forms, sign-ups) the platforms report."),
        _base("conversions", "Conversions", "count", True, "Purchases / target actions reported."),
        _base("engagements", "Engagements", "count", True, "Likes, comments, shares, saves."),
        _base("video_views", "Video views", "count", True, "Video views."),
        Metric("profit", "Profit", "currency", True, lambda s: s["revenue"] - s["spend"],
               ("revenue", "spend"), "Revenue − spend."),
        Metric("roi", "ROI", "percent", True,
               lambda s: ratio(s["revenue"] - s["spend"], s["spend"]), ("revenue", "spend"),
               "(Revenue − spend) / spend: return per unit spent, net of the spend.", "ROI"),
        Metric("roas", "ROAS", "multiple", True, lambda s: ratio(s["revenue"], s["spend"]),
               ("revenue", "spend"), "Revenue / spend.", "ROAS"),
        Metric("cpl", "Cost per lead", "currency", False, lambda s: ratio(s["spend"], s["leads"]),
               ("spend", "leads"), "Spend / leads.", "CPL"),
        Metric("cpa", "Cost per acquisition", "currency", False,
               lambda s: ratio(s["spend"], s["conversions"]), ("spend", "conversions"),
               "Spend / conversions (CAC when conversions are first purchases).", "CPA"),
        Metric("cpc", "Cost per click", "currency", False, lambda s: ratio(s["spend"], s["clicks"]),
               ("spend", "clicks"), "Spend / clicks.", "CPC"),
        Metric("cpm", "Cost per mille", "currency", False,
               lambda s: ratio(s["spend"] * 1000, s["impressions"]), ("spend", "impressions"),
               "Spend per 1,000 impressions.", "CPM"),
        Metric("ctr", "Click-through rate", "percent", True,
               lambda s: ratio(s["clicks"], s["impressions"]), ("clicks", "impressions"),
               "Clicks / impressions.", "CTR"),
        Metric("cr", "Conversion rate", "percent", True,
               lambda s: ratio(s["conversions"], s["clicks"]), ("conversions", "clicks"),
               "Conversions / clicks.", "CR"),
        Metric("lead_rate", "Lead rate", "percent", True,
               lambda s: ratio(s["leads"], s["clicks"]), ("leads", "clicks"),
               "Leads / clicks."),
        Metric("frequency", "Frequency", "ratio", False,
               lambda s: ratio(s["impressions"], s["reach"]), ("impressions", "reach"),
               "Impressions / Σ daily reach: average times a person saw an ad on a day."),
        Metric("engagement_rate", "Engagement rate", "percent", True,
               lambda s: ratio(s["engagements"], s["impressions"]), ("engagements", "impressions"),
               "Engagements / impressions."),
    ]
}

#: The KPI cards of the overview, in display order.
OVERVIEW_KPIS: tuple[str, ...] = (
    "spend", "revenue", "roi", "roas", "leads", "cpl", "conversions", "cpa", "ctr", "reach",
)

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "RUB": "₽", "GBP": "£"}


def get(slug: str) -> Metric:
    try:
        return METRICS[slug]
    except KeyError:
        raise KeyError(f"unknown metric {slug!r}; known: {', '.join(METRICS)}") from None


def compute_all(sums: Mapping[str, Any], slugs: tuple[str, ...] | list[str] | None = None) -> dict[str, Any]:
    return {s: get(s).compute(sums) for s in (slugs or METRICS)}


def add_metrics(frame: pd.DataFrame, slugs: tuple[str, ...] | list[str] | None = None) -> pd.DataFrame:
    """Append derived metric columns to a frame of summed base measures (one row per group)."""
    derived = {slug: get(slug).compute(frame) for slug in (slugs or METRICS) if slug not in BASE_MEASURES}
    return pd.concat([frame, pd.DataFrame(derived, index=frame.index)], axis=1)


def format_value(value: Any, kind: Kind, currency: str = "USD") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if kind == "currency":
        sym = CURRENCY_SYMBOLS.get(currency, currency + " ")
        v = float(value)
        if abs(v) >= 1e6:
            return f"{sym}{v / 1e6:,.2f}M"
        if abs(v) >= 1e4:
            return f"{sym}{v / 1e3:,.1f}k"
        return f"{sym}{v:,.2f}"
    if kind == "percent":
        return f"{float(value) * 100:,.2f}%"
    if kind == "multiple":
        return f"{float(value):,.2f}×"
    if kind == "ratio":
        return f"{float(value):,.2f}"
    v = float(value)
    if abs(v) >= 1e6:
        return f"{v / 1e6:,.2f}M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:,.1f}k"
    return f"{v:,.0f}"


def delta_pct(current: Any, previous: Any) -> float:
    """Relative change; NaN when there is no meaningful base."""
    try:
        cur, prev = float(current), float(previous)
    except (TypeError, ValueError):
        return math.nan
    if not (math.isfinite(cur) and math.isfinite(prev)) or prev == 0:
        return math.nan
    return (cur - prev) / abs(prev)
