"""KPI cards: value, Δ% vs the comparison period, coloured by whether higher is better."""
from __future__ import annotations

import math

import dash_bootstrap_components as dbc
from dash import html

from db import metrics as mx


def delta_badge(delta: float, metric: mx.Metric) -> html.Span:
    if delta is None or not math.isfinite(delta):
        return html.Span("no comparison", className="kpi-delta text-muted")
    good = (delta >= 0) == metric.higher_is_better
    arrow = "▲" if delta >= 0 else "▼"
    return html.Span(f"{arrow} {abs(delta) * 100:.1f}%",
                     className=f"kpi-delta {'text-success' if good else 'text-danger'}")


def kpi_card(slug: str, value: float, delta: float, currency: str) -> dbc.Col:
    metric = mx.get(slug)
    return dbc.Col(dbc.Card(dbc.CardBody([
        html.Div(metric.short or metric.label, className="kpi-label", title=metric.description),
        html.Div(metric.format(value, currency), className="kpi-value", id={"type": "kpi-value", "metric": slug},
                 **{"data-value": "" if value is None or not math.isfinite(value) else repr(float(value))}),
        delta_badge(delta, metric),
    ]), className="kpi-card h-100 shadow-sm"), xs=6, md=4, xl=True, className="mb-2")
