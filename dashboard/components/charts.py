"""One builder per chart type (as Tremor does): data, index, categories, a value formatter.

Figures are plain dicts in plotly.js's schema rather than plotly.graph_objects: the
graph_objects validators cost 100-200 ms per figure, more than the SQL behind it.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

import pandas as pd

from db import metrics as mx

CHANNEL_COLORS = {
    "instagram": "#C13584", "facebook": "#1877F2", "google_ads": "#34A853", "tiktok": "#111111",
    "telegram": "#27A7E7", "yandex_direct": "#FC3F1D", "vk_ads": "#4C75A3",
}
PALETTE = ["#2C3E50", "#18BC9C", "#3498DB", "#F39C12", "#E74C3C", "#8E44AD", "#16A085", "#7F8C8D"]
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12, "color": "#2C3E50"}
AXIS = {"gridcolor": "#EEF0F2", "zerolinecolor": "#DDE1E4", "linecolor": "#DDE1E4", "automargin": True}
Figure = dict[str, Any]


def color_for(key: str, i: int) -> str:
    return CHANNEL_COLORS.get(key, PALETTE[i % len(PALETTE)])


def axis_format(metric: mx.Metric) -> dict:
    if metric.kind == "percent":
        return {"tickformat": ".1%"}
    if metric.kind == "currency":
        return {"tickformat": ",.0f"}
    if metric.kind == "multiple":
        return {"ticksuffix": "×", "tickformat": ".2f"}
    return {"tickformat": "~s"}


def layout(height: int, **extra: Any) -> dict:
    base = {
        "height": height, "margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "font": FONT,
        "paper_bgcolor": "white", "plot_bgcolor": "white", "hovermode": "x unified",
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        "xaxis": dict(AXIS), "yaxis": dict(AXIS),
    }
    for key, value in extra.items():
        base[key] = {**base[key], **value} if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return base


def empty(message: str, height: int = 320) -> Figure:
    return {"data": [], "layout": layout(
        height, xaxis={"visible": False}, yaxis={"visible": False},
        annotations=[{"text": message, "showarrow": False, "font": {"size": 14, "color": "#7F8C8D"}}])}


def _dates(values: pd.Series) -> list[str]:
    return pd.to_datetime(values).dt.strftime("%Y-%m-%d").tolist()


def line(data: pd.DataFrame, index: str, category: str | None, value: str, metric: mx.Metric,
         labels: dict[str, str] | None = None, currency: str = "USD", height: int = 340) -> Figure:
    if data.empty:
        return empty("No data for these filters")
    traces = []
    groups = data.groupby(category, sort=True) if category else [(metric.label, data)]
    for i, (key, part) in enumerate(groups):
        partial = part["partial"].astype(bool).tolist() if "partial" in part else [False] * len(part)
        values = part[value].astype(float)
        traces.append({
            "type": "scatter", "x": _dates(part[index]), "y": values.where(values.notna(), None).tolist(),
            "name": (labels or {}).get(key, key), "mode": "lines+markers" if any(partial) else "lines",
            "line": {"width": 2, "color": color_for(key, i)},
            "marker": {"size": [8 if p else 0 for p in partial], "symbol": "circle-open"},
            "customdata": [" (partial period)" if p else "" for p in partial],
            "hovertemplate": metric.d3_hover("y", currency) + "%{customdata}",
        })
    return {"data": traces, "layout": layout(height, yaxis={**axis_format(metric), "rangemode": "tozero"})}


def donut(data: pd.DataFrame, names: str, values: str, metric: mx.Metric, labels: dict[str, str] | None = None,
          currency: str = "USD", height: int = 320) -> Figure:
    data = data[data[values] > 0]
    if data.empty:
        return empty("No spend in this period")
    keys = list(data[names])
    trace = {
        "type": "pie", "labels": [(labels or {}).get(k, k) for k in keys], "values": data[values].tolist(),
        "hole": 0.55, "sort": True, "marker": {"colors": [color_for(k, i) for i, k in enumerate(keys)]},
        "customdata": [metric.format(v, currency) for v in data[values]], "textinfo": "percent",
        "hovertemplate": "%{label}: %{customdata} (%{percent})<extra></extra>",
    }
    return {"data": [trace], "layout": layout(height, showlegend=True, hovermode="closest",
                                              legend={"orientation": "v", "x": 1.0, "y": 0.5, "yanchor": "middle"})}


POSITIVE, NEGATIVE, TOTAL = "#18BC9C", "#E74C3C", "#2C3E50"
#: Feature value low → high, as SHAP's own plots colour it.
VALUE_SCALE = [[0.0, "#3498DB"], [0.5, "#B7A9C9"], [1.0, "#E74C3C"]]
MISSING = "#BDC3C7"


def wrap(label: str, width: int = 18) -> str:
    """Long category labels over several lines, so on a phone the axis leaves room for the plot."""
    return "<br>".join(textwrap.wrap(label, width)) or label


def _signed_hover(metric: mx.Metric, field: str) -> str:
    """A contribution's hover: the metric's own format with an explicit sign."""
    return metric.d3_hover(field).replace(f"%{{{field}:", f"%{{{field}:+")


def hbar(data: pd.DataFrame, index: str, value: str, metric: mx.Metric, key: str | None = None,
         color: str = PALETTE[2], height: int | None = None) -> Figure:
    """Horizontal bars in the frame's order, first on top (rankings such as SHAP importance);
    `key` becomes each bar's customdata so a click can say which bar it was."""
    if data.empty:
        return empty("Nothing to rank yet")
    trace = {
        "type": "bar", "orientation": "h", "x": data[value].astype(float).tolist(),
        "y": [wrap(v) for v in data[index].astype(str)], "marker": {"color": color},
        "hovertemplate": metric.d3_hover("x") + "<extra></extra>",
    }
    if key:
        trace["customdata"] = data[key].tolist()
    return {"data": [trace], "layout": layout(
        height or 60 + 30 * len(data), hovermode="closest", xaxis=axis_format(metric),
        yaxis={"autorange": "reversed"})}


def _swarm_offsets(x: pd.Series, span: float, width: float = 0.4, bins: int = 40) -> list[float]:
    """Vertical offsets that stack points with close x values side by side (a beeswarm),
    deterministically: within each x bin the k-th point goes 0, +1, −1, +2 … steps out."""
    if x.empty:
        return []
    bin_of = ((x - x.min()) / (span / bins if span else 1.0)).round().astype(int)
    k = bin_of.groupby(bin_of).cumcount().to_numpy()
    steps = (k + 1) // 2 * ((k % 2) * 2 - 1)
    per_bin = int(bin_of.value_counts().max())
    step = min(0.08, width / max(per_bin / 2, 1))
    return [float(s * step) for s in steps]


def beeswarm(shap: pd.DataFrame, colour: pd.DataFrame, labels: dict[str, str], hover: pd.DataFrame,
             keys: list, metric: mx.Metric, height: int | None = None) -> Figure:
    """One row per feature (columns of `shap`, first on top), one point per entity at its
    contribution, coloured by the feature value's rank (0 low … 1 high; NaN grey: categories and
    missing values). `hover` holds each point's text, `keys` each row's id as customdata."""
    if shap.empty:
        return empty("No scored campaigns")
    span = float(shap.max().max() - shap.min().min())
    traces: dict[bool, dict] = {}
    n = len(shap.columns)
    for i, feature in enumerate(shap.columns):
        x = shap[feature].astype(float)
        y = [n - 1 - i + o for o in _swarm_offsets(x, span)]
        for ranked in (True, False):
            mask = colour[feature].notna().to_numpy() == ranked
            if not mask.any():
                continue
            trace = traces.setdefault(ranked, {
                "type": "scattergl" if len(shap) * n > 5000 else "scatter", "mode": "markers",
                "x": [], "y": [], "text": [], "customdata": [], "showlegend": False,
                "hovertemplate": "%{text}<br>" + _signed_hover(metric, "x") + "<extra></extra>",
                "marker": ({"size": 7, "color": [], "colorscale": VALUE_SCALE, "cmin": 0, "cmax": 1,
                            "colorbar": {"orientation": "h", "thickness": 8, "len": 0.5, "x": 1,
                                         "xanchor": "right", "y": 1.02, "yanchor": "bottom",
                                         "tickvals": [0, 1], "ticktext": ["low value", "high"]}}
                           if ranked else {"size": 7, "color": MISSING}),
            })
            trace["x"] += x[mask].tolist()
            trace["y"] += [v for v, keep in zip(y, mask) if keep]
            trace["text"] += hover[feature][mask].tolist()
            trace["customdata"] += [k for k, keep in zip(keys, mask) if keep]
            if ranked:
                trace["marker"]["color"] += colour[feature][mask].astype(float).tolist()
    ticks = {"tickvals": list(range(n - 1, -1, -1)), "ticktext": [wrap(labels.get(f, f)) for f in shap.columns]}
    return {"data": list(traces.values()), "layout": layout(
        height or 90 + 30 * n, hovermode="closest", margin={"t": 40},
        xaxis={**axis_format(metric), "zeroline": True, "zerolinecolor": "#95A5A6",
               "title": {"text": "contribution to the prediction"}},
        yaxis={**ticks, "range": [-0.6, n - 0.4], "showgrid": False, "zeroline": False})}


def dependence(data: pd.DataFrame, x: str, y: str, category: str, x_title: str, metric: mx.Metric,
               labels: dict[str, str] | None = None, key: str | None = None, text: str | None = None,
               x_format: dict | None = None, height: int = 340) -> Figure:
    """Contribution (`y`) against the feature's value (`x`), one colour per category (channel):
    the SHAP dependence plot. Text x values make a categorical axis."""
    data = data[data[x].notna()]
    if data.empty:
        return empty("No campaign has a value for this feature")
    traces = []
    for i, (group, part) in enumerate(data.groupby(category, sort=True)):
        trace = {
            "type": "scatter", "mode": "markers", "x": part[x].tolist(), "y": part[y].astype(float).tolist(),
            "name": (labels or {}).get(group, group), "marker": {"size": 9, "color": color_for(group, i),
                                                                 "opacity": 0.85},
            "hovertemplate": ("%{text}<br>" if text else "") + "%{x}: " + _signed_hover(metric, "y")
                             + "<extra></extra>",
        }
        if text:
            trace["text"] = part[text].tolist()
        if key:
            trace["customdata"] = part[key].tolist()
        traces.append(trace)
    return {"data": traces, "layout": layout(
        height, hovermode="closest", xaxis={**(x_format or {}), "title": {"text": x_title}},
        yaxis={**axis_format(metric), "zeroline": True, "zerolinecolor": "#95A5A6",
               "title": {"text": "contribution"}})}


def waterfall(contributions: pd.Series, base: float, lo: float, hi: float, metric: mx.Metric,
              base_label: str, total_label: str, top: int = 8, height: int | None = None) -> Figure:
    """From the base value through the `top` largest contributions (the rest summed into one
    step) to the prediction, drawn with its interval. `contributions` is indexed by label."""
    ordered = contributions.reindex(contributions.abs().sort_values(ascending=False, kind="stable").index)
    steps = ordered.iloc[:top]
    if len(ordered) > top:
        steps = pd.concat([steps, pd.Series({f"{len(ordered) - top} other features": ordered.iloc[top:].sum()})])
    prediction = base + float(contributions.sum())
    labels = [wrap(v) for v in (base_label, *steps.index.astype(str), total_label)]
    fmt = "{:+.1%}" if metric.kind == "percent" else "{:+,.2f}"
    trace = {
        "type": "waterfall", "orientation": "h", "y": labels,
        "x": [base, *steps.astype(float).tolist(), None],
        "measure": ["absolute", *["relative"] * len(steps), "total"],
        "text": [metric.format(base), *[fmt.format(v) for v in steps], metric.format(prediction)],
        "textposition": "auto", "textangle": 0, "cliponaxis": False,
        "increasing": {"marker": {"color": POSITIVE}}, "decreasing": {"marker": {"color": NEGATIVE}},
        "totals": {"marker": {"color": TOTAL}}, "connector": {"line": {"color": "#BDC3C7", "width": 1}},
        "hovertemplate": "%{y}: %{text}<extra></extra>", "showlegend": False,
    }
    interval = {
        "type": "scatter", "mode": "markers", "x": [prediction], "y": [labels[-1]], "showlegend": False,
        "marker": {"color": TOTAL, "size": 1},
        "error_x": {"type": "data", "symmetric": False, "array": [hi - prediction],
                    "arrayminus": [prediction - lo], "color": "#F39C12", "thickness": 3, "width": 8},
        "hovertemplate": f"range: {metric.format(lo)} … {metric.format(hi)}<extra></extra>",
    }
    return {"data": [trace, interval], "layout": layout(
        height or 80 + 30 * len(labels), hovermode="closest", xaxis=axis_format(metric),
        yaxis={"autorange": "reversed", "type": "category"})}


@dataclass(frozen=True)
class Estimate:
    """One series of a forest plot: the columns holding its point and (optionally) interval,
    and its colour — one colour, or one per row (e.g. by verdict)."""

    name: str
    value: str
    lo: str | None = None
    hi: str | None = None
    color: str | list[str] = PALETTE[0]
    symbol: str = "circle"


def forest(data: pd.DataFrame, label: str, estimates: list[Estimate], metric: mx.Metric,
           currency: str = "USD", band: tuple[float, float, str] | None = None,
           reference: tuple[float, str] | None = None, height: int | None = None) -> Figure:
    """Point and interval per row (first row on top), several estimates side by side per row.

    Overlap is the point of the chart: `band` (lo, hi, text) shades one interval across every
    row — the leader's — so the rows whose whiskers reach into it visibly cannot be told apart
    from it; `reference` (x, text) draws a dashed line such as the all-rows value.
    """
    if data.empty:
        return empty("No data for these filters")
    n, k = len(data), len(estimates)
    rows = list(range(n - 1, -1, -1))
    traces = []
    for j, est in enumerate(estimates):
        offset = (j - (k - 1) / 2) * 0.22
        values = data[est.value].astype(float)
        trace = {
            "type": "scatter", "mode": "markers", "name": est.name, "showlegend": k > 1,
            "x": values.where(values.notna(), None).tolist(), "y": [r + offset for r in rows],
            "marker": {"size": 10, "color": est.color, "symbol": est.symbol,
                       "line": {"width": 1, "color": "white"}},
            "text": [wrap(str(v), 40) for v in data[label]],
        }
        if est.lo and est.hi:
            lo, hi = data[est.lo].astype(float), data[est.hi].astype(float)
            trace["error_x"] = {"type": "data", "symmetric": False, "thickness": 2, "width": 0,
                                "color": "#95A5A6", "array": (hi - values).clip(lower=0).fillna(0).tolist(),
                                "arrayminus": (values - lo).clip(lower=0).fillna(0).tolist()}
            trace["customdata"] = [f"{metric.format(a, currency)} … {metric.format(b, currency)}"
                                   for a, b in zip(lo, hi)]
            interval = "<br>95% interval %{customdata}"
        else:
            interval = ""
        trace["hovertemplate"] = (f"%{{text}}<br>{est.name}: {metric.d3_hover('x', currency)}"
                                  f"{interval}<extra></extra>")
        traces.append(trace)
    shapes, annotations = [], []
    if band:
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": band[0], "x1": band[1],
                       "y0": 0, "y1": 1, "fillcolor": "rgba(24,188,156,0.12)", "line": {"width": 0},
                       "layer": "below"})
        annotations.append({"x": (band[0] + band[1]) / 2, "y": 1, "xref": "x", "yref": "paper",
                            "yanchor": "bottom", "text": band[2], "showarrow": False,
                            "font": {"size": 11, "color": "#18BC9C"}})
    if reference:
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": reference[0],
                       "x1": reference[0], "y0": 0, "y1": 1,
                       "line": {"dash": "dash", "width": 1, "color": "#7F8C8D"}})
        annotations.append({"x": reference[0], "y": 0, "xref": "x", "yref": "paper", "yanchor": "top",
                            "text": reference[1], "showarrow": False, "font": {"size": 11, "color": "#7F8C8D"}})
    ticks = {"tickvals": rows, "ticktext": [wrap(str(v)) for v in data[label]],
             "range": [-0.6, n - 0.4], "showgrid": False, "zeroline": False}
    return {"data": traces, "layout": layout(
        height or 90 + (34 if k == 1 else 48) * n, hovermode="closest", shapes=shapes,
        annotations=annotations, margin={"t": 30, "b": 30}, xaxis=axis_format(metric), yaxis=ticks)}


FAN_BANDS = (("95", "rgba(52,152,219,0.15)"), ("80", "rgba(52,152,219,0.30)"))


def fan(history: pd.DataFrame, forecast: pd.DataFrame, metric: mx.Metric, currency: str = "USD",
        height: int = 360) -> Figure:
    """History ([date, value]) then the forecast ([date, mean, lo80, hi80, lo95, hi95]) as a
    fan: the 95 % band, the 80 % band inside it and the mean, from the first forecast day."""
    if forecast.empty:
        return empty("No forecast for this series")
    hover = metric.d3_hover("y", currency)
    dates = _dates(forecast["date"])
    traces = []
    for level, fill in FAN_BANDS:
        lo, hi = forecast[f"lo{level}"].astype(float), forecast[f"hi{level}"].astype(float)
        keep = (lo.notna() & hi.notna()).to_numpy()
        x = [d for d, ok in zip(dates, keep) if ok]
        traces.append({"type": "scatter", "x": x + x[::-1], "y": hi[keep].tolist() + lo[keep].tolist()[::-1],
                       "fill": "toself", "fillcolor": fill, "line": {"width": 0}, "mode": "lines",
                       "name": f"{level}% interval", "hoverinfo": "skip"})
    mean = forecast["mean"].astype(float)
    traces.append({"type": "scatter", "x": dates, "y": mean.where(mean.notna(), None).tolist(),
                   "mode": "lines", "name": "Forecast", "line": {"width": 2, "dash": "dash", "color": PALETTE[2]},
                   "customdata": [f"{metric.format(a, currency)} … {metric.format(b, currency)}"
                                  for a, b in zip(forecast["lo80"], forecast["hi80"])],
                   "hovertemplate": hover + " (80%: %{customdata})"})
    if not history.empty:
        values = history["value"].astype(float)
        traces.insert(0, {"type": "scatter", "x": _dates(history["date"]),
                          "y": values.where(values.notna(), None).tolist(), "mode": "lines",
                          "name": "Actual", "line": {"width": 2, "color": PALETTE[0]},
                          "hovertemplate": hover})
    start = dates[0]
    return {"data": traces, "layout": layout(
        height, yaxis={**axis_format(metric), "rangemode": "tozero"},
        shapes=[{"type": "line", "xref": "x", "yref": "paper", "x0": start, "x1": start, "y0": 0, "y1": 1,
                 "line": {"dash": "dot", "width": 1, "color": "#95A5A6"}}])}


def response_curves(lines: pd.DataFrame, markers: pd.DataFrame, x_metric: mx.Metric,
                    y_metric: mx.Metric, labels: dict[str, str] | None = None, currency: str = "USD",
                    height: int = 380) -> Figure:
    """Spend → response, one line per channel ([channel, spend, response]); `markers`
    ([channel, spend, response, name]) marks points on the curves such as today's spend and the
    recommendation, drawn as circles, diamonds, squares by each name's first appearance."""
    if lines.empty:
        return empty("No curves to show")
    traces = []
    symbols = {}
    x_hover, y_hover = x_metric.d3_hover("x", currency), y_metric.d3_hover("y", currency)
    for i, (channel, part) in enumerate(lines.groupby("channel", sort=True)):
        color = color_for(channel, i)
        name = (labels or {}).get(channel, channel)
        traces.append({"type": "scatter", "mode": "lines", "x": part["spend"].astype(float).tolist(),
                       "y": part["response"].astype(float).tolist(), "name": name, "legendgroup": channel,
                       "line": {"width": 2, "color": color},
                       "hovertemplate": f"{name}<br>{x_hover} a day → {y_hover}<extra></extra>"})
        for point in markers[markers["channel"] == channel].itertuples():
            symbol = symbols.setdefault(point.name, ["circle", "diamond", "square"][len(symbols) % 3])
            traces.append({"type": "scatter", "mode": "markers", "x": [float(point.spend)],
                           "y": [float(point.response)], "legendgroup": channel, "showlegend": False,
                           "marker": {"size": 11, "symbol": symbol, "color": color,
                                      "line": {"width": 2, "color": "white"}},
                           "hovertemplate": f"{name}, {point.name}<br>{x_hover} a day → {y_hover}"
                                            "<extra></extra>"})
    return {"data": traces, "layout": layout(
        height, hovermode="closest",
        xaxis={**axis_format(x_metric), "title": {"text": f"{x_metric.label} per day"}, "rangemode": "tozero"},
        yaxis={**axis_format(y_metric), "rangemode": "tozero",
               "title": {"text": f"Incremental {y_metric.label.lower()} per day"}})}


def alert_series(history: pd.DataFrame, value: str, days: list[pd.Timestamp], band: tuple[float, float] | None,
                 metric: mx.Metric, currency: str = "USD", height: int = 300) -> Figure:
    """A campaign's daily metric around an alert: the normal range the detector used as a band
    (when it applies to one day), the series, and the flagged days marked."""
    if history.empty:
        return empty("No data for this campaign around the alert")
    x = _dates(history["date"])
    values = history[value].astype(float)
    flagged = history[pd.to_datetime(history["date"]).isin(days)]
    traces = [] if band is None else [
        {"type": "scatter", "x": [x[0], x[-1], x[-1], x[0]], "y": [band[0], band[0], band[1], band[1]],
         "fill": "toself", "mode": "lines", "fillcolor": "rgba(24,188,156,0.15)", "line": {"width": 0},
         "name": "Normal range",
         "hoverinfo": "skip"}]
    traces += [
        {"type": "scatter", "x": x, "y": values.where(values.notna(), None).tolist(), "name": metric.label,
         "mode": "lines+markers", "line": {"width": 2, "color": PALETTE[0]}, "marker": {"size": 4},
         "hovertemplate": metric.d3_hover("y", currency)},
        {"type": "scatter", "x": _dates(flagged["date"]), "y": flagged[value].astype(float).tolist(),
         "name": "Alert", "mode": "markers", "marker": {"size": 12, "color": PALETTE[4], "symbol": "x"},
         "hovertemplate": metric.d3_hover("y", currency)},
    ]
    return {"data": traces, "layout": layout(height, yaxis={**axis_format(metric), "rangemode": "tozero"})}


def bars(data: pd.DataFrame, index: str, value: str, metric: mx.Metric, currency: str = "USD",
         reference: tuple[float, str] | None = None, height: int = 300) -> Figure:
    """Vertical bars in the frame's order (ordered groups such as age bands read left to right);
    `reference` (y, text) draws a dashed line such as the all-groups value, so each bar reads as
    above or below it."""
    values = data[value].astype(float) if not data.empty else pd.Series(dtype=float)
    if values.notna().sum() == 0:
        return empty("No data for these filters", height)
    trace = {"type": "bar", "x": [wrap(str(v), 12) for v in data[index]],
             "y": values.where(values.notna(), None).tolist(), "marker": {"color": PALETTE[2]},
             "hovertemplate": "%{x}: " + metric.d3_hover("y", currency) + "<extra></extra>"}
    shapes, annotations = [], []
    if reference:
        shapes.append({"type": "line", "xref": "paper", "yref": "y", "x0": 0, "x1": 1, "y0": reference[0],
                       "y1": reference[0], "line": {"dash": "dash", "width": 1, "color": "#7F8C8D"}})
        annotations.append({"xref": "paper", "yref": "y", "x": 0, "y": reference[0], "xanchor": "left",
                            "yanchor": "bottom", "text": reference[1], "showarrow": False,
                            "bgcolor": "rgba(255,255,255,0.85)", "font": {"size": 11, "color": "#2C3E50"}})
    return {"data": [trace], "layout": layout(
        height, hovermode="closest", shapes=shapes, annotations=annotations,
        yaxis={**axis_format(metric), "rangemode": "tozero"}, xaxis={"type": "category"})}


#: Light → strong: the strong end is always the *better* end of the metric (a low CPA too).
SEQUENTIAL = [[0.0, "#E3F4EF"], [1.0, "#18BC9C"]]


def heatmap(data: pd.DataFrame, x: str, y: str, z: str, metric: mx.Metric, currency: str = "USD",
            x_labels: dict | None = None, y_labels: dict | None = None, hover: str | None = None,
            height: int = 320) -> Figure:
    """One cell per (x, y) of a long frame — hour × weekday, gender × age band — first y on top,
    stronger colour where the metric is better; cells without a value stay blank. `hover` names
    a column added to each cell's hover text (e.g. how many days the cell rests on)."""
    if data.empty or data[z].notna().sum() == 0:
        return empty("No data for these filters", height)
    table = data.pivot(index=y, columns=x, values=z)
    extra = data.pivot(index=y, columns=x, values=hover) if hover else None
    trace = {
        "type": "heatmap", "z": table.astype(float).where(table.notna(), None).to_numpy().tolist(),
        "x": [str((x_labels or {}).get(v, v)) for v in table.columns],
        "y": [str((y_labels or {}).get(v, v)) for v in table.index],
        "colorscale": SEQUENTIAL, "reversescale": not metric.higher_is_better, "hoverongaps": False,
        "xgap": 1, "ygap": 1,
        "colorbar": {"orientation": "h", "thickness": 8, "len": 0.6, "x": 1, "xanchor": "right", "y": 1.02,
                     "yanchor": "bottom", "tickformat": axis_format(metric).get("tickformat", "")},
        "hovertemplate": "%{y} · %{x}: " + metric.d3_hover("z", currency)
                         + ("<br>%{customdata}" if hover else "") + "<extra></extra>",
    }
    if extra is not None:
        trace["customdata"] = extra.astype(str).to_numpy().tolist()
    return {"data": [trace], "layout": layout(
        height, hovermode="closest", margin={"t": 40}, xaxis={"type": "category", "showgrid": False},
        yaxis={"type": "category", "autorange": "reversed", "showgrid": False})}
