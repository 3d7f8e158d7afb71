"""One builder per chart type (as Tremor does): data, index, categories, a value formatter."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from db import metrics as mx

CHANNEL_COLORS = {
    "instagram": "#C13584", "facebook": "#1877F2", "google_ads": "#34A853", "tiktok": "#111111",
    "telegram": "#27A7E7", "yandex_direct": "#FC3F1D", "vk_ads": "#0077FF",
}
PALETTE = ["#2C3E50", "#18BC9C", "#3498DB", "#F39C12", "#E74C3C", "#8E44AD", "#16A085", "#7F8C8D"]


def color_for(key: str, i: int) -> str:
    return CHANNEL_COLORS.get(key, PALETTE[i % len(PALETTE)])


def _axis_format(metric: mx.Metric) -> dict:
    if metric.kind == "percent":
        return {"tickformat": ".1%"}
    if metric.kind == "currency":
        return {"tickformat": ",.0f"}
    if metric.kind == "multiple":
        return {"ticksuffix": "×", "tickformat": ".2f"}
    return {"tickformat": "~s"}


def _base_layout(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(
        template="plotly_white", height=height, margin=dict(l=10, r=10, t=10, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0), hovermode="x unified",
        font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=12),
    )
    return fig


def empty(message: str, height: int = 320) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font=dict(size=14, color="#7F8C8D"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _base_layout(fig, height)


def line(data: pd.DataFrame, index: str, category: str | None, value: str, metric: mx.Metric,
         labels: dict[str, str] | None = None, currency: str = "USD", height: int = 340) -> go.Figure:
    if data.empty:
        return empty("No data for these filters")
    fig = go.Figure()
    groups = data.groupby(category, sort=True) if category else [(metric.label, data)]
    for i, (key, part) in enumerate(groups):
        name = (labels or {}).get(key, key)
        partial = part["partial"] if "partial" in part else pd.Series(False, index=part.index)
        fig.add_trace(go.Scatter(
            x=part[index], y=part[value], name=name, mode="lines+markers" if partial.any() else "lines",
            line=dict(width=2, color=color_for(key, i)),
            marker=dict(size=[8 if p else 0 for p in partial], symbol="circle-open"),
            customdata=[metric.format(v, currency) + (" (partial period)" if p else "")
                        for v, p in zip(part[value], partial)],
            hovertemplate="%{customdata}",
        ))
    fig.update_yaxes(**_axis_format(metric), rangemode="tozero")
    return _base_layout(fig, height)


def donut(data: pd.DataFrame, names: str, values: str, metric: mx.Metric, labels: dict[str, str] | None = None,
          currency: str = "USD", height: int = 320) -> go.Figure:
    data = data[data[values] > 0]
    if data.empty:
        return empty("No spend in this period")
    keys = list(data[names])
    fig = go.Figure(go.Pie(
        labels=[(labels or {}).get(k, k) for k in keys], values=data[values], hole=0.55, sort=True,
        marker=dict(colors=[color_for(k, i) for i, k in enumerate(keys)]),
        customdata=[metric.format(v, currency) for v in data[values]],
        hovertemplate="%{label}: %{customdata} (%{percent})<extra></extra>", textinfo="percent",
    ))
    fig.update_layout(showlegend=True, legend=dict(orientation="h", y=-0.1))
    return _base_layout(fig, height)
