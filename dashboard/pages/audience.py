"""Audience: who responds (age, gender, geo, segment) and when to advertise or publish.

"Who" sums the platforms' demographic breakdowns for the filter bar's window and channels; every
ratio is a ratio of the group's sums, drawn against the all-groups value. "When" is a weekday ×
hour heatmap of the hourly ad facts or of organic posts, with modeling.timing's verdict above it:
a window of hours is named only when it beats the average beyond the noise, otherwise the page
says no hour stands out.
"""
from __future__ import annotations

from dataclasses import replace

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dash_table, dcc, html, no_update

from dashboard import data
from dashboard.components import charts
from dashboard.components.cards import panel
from dashboard.components.tables import metric_table, table_style
from dashboard.state import ViewState
from db import metrics as mx
from db.audience_queries import DIMENSIONS, MEASURES, METRICS
from db.config import get_settings
from modeling import timing

dash.register_page(__name__, path="/audience", name="Audience", order=1.5, title="DEMETRA — Audience")

BREAKDOWNS = {"age_band": "Age", "gender": "Gender", "age_gender": "Age × gender", "geo": "Geo",
              "segment": "Segment"}
#: The metrics offered for the chart, in menu order (the table shows every one in METRICS).
CHART_METRICS = ["cpa", "cpl", "roas", "roi", "cr", "ctr", "lead_rate", "cpc", "cpm", "spend", "revenue",
                 "conversions", "leads"]
SOURCES = {"hourly": "Ads", "posts": "Organic posts"}
TIMING_METRICS = {"hourly": ["ctr", "cr", "cpa", "cpc"], "posts": ["views_per_post", "engagement_per_post"]}
SUBJECT = {"hourly": "Ads shown", "posts": "Posts published"}
ALL = "all"
GRAPH_CONFIG = {"displayModeBar": False}
HOURS = {h: f"{h:02d}" for h in range(24)}
TIME_COLUMNS = [{"name": "Channel", "id": "channel"}, {"name": "Best hours", "id": "window"},
                {"name": "vs average", "id": "ratio"}, {"name": "95% interval", "id": "interval"},
                {"name": "Days", "id": "days"}]


def layout(**_query: str) -> html.Div:
    who = panel("Who responds", [
        dbc.Row([
            dbc.Col(dbc.RadioItems(id="aud-by", value="age_band", inline=True,
                                   options=[{"label": v, "value": k} for k, v in BREAKDOWNS.items()]),
                    xs=12, lg=7),
            dbc.Col(dcc.Dropdown(id="aud-metric", value="cpa", clearable=False,
                                 options=[{"label": mx.get(s).label, "value": s} for s in CHART_METRICS]),
                    xs=12, lg=5),
        ], className="g-2 align-items-center mb-2"),
        dcc.Loading(dcc.Graph(id="aud-chart", config=GRAPH_CONFIG)),
        dcc.Loading(html.Div(id="aud-table", className="mt-2")),
    ], "From the platforms' demographic breakdowns, so only channels that report them count here. "
       "Ratios are the group's sums divided (CPA = Σ spend / Σ conversions); the dashed line is the "
       "value of all groups together. Channels reach different ages, so a group's rate also reflects "
       "its channel mix: pick one channel in the filter bar to compare within it. Measures no platform "
       "reported for these groups are left out.")
    when = panel("Best time", [
        dbc.Row([
            dbc.Col(dbc.RadioItems(id="aud-source", value="hourly", inline=True,
                                   options=[{"label": v, "value": k} for k, v in SOURCES.items()]), xs=12, lg=4),
            dbc.Col(dcc.Dropdown(id="aud-time-metric", value="ctr", clearable=False), xs=6, lg=4),
            dbc.Col(dcc.Dropdown(id="aud-channel", value=ALL, clearable=False), xs=6, lg=4),
        ], className="g-2 align-items-center mb-2"),
        html.Div(id="aud-time-summary", className="mb-2"),
        dcc.Loading(dcc.Graph(id="aud-heatmap", config=GRAPH_CONFIG)),
        html.Div(id="aud-time-table", className="mt-2"),
        html.P(id="aud-time-note", className="small text-muted mb-0 mt-2"),
    ])
    return html.Div([who, html.Div(className="mb-3"), when])


def _missing(source: str) -> str:
    """Which channels have no rows of `source` at all, in words (empty when all have)."""
    labels = data.channel_labels()
    lacking = sorted(set(labels) - set(data.channels_with(source)))
    return f" No data of this kind from: {', '.join(labels[c] for c in lacking)}." if lacking else ""


def _who_chart(frame: pd.DataFrame, by: str, metric: mx.Metric, currency: str) -> dict:
    if by == "age_gender":
        spend = mx.get("spend")
        return charts.heatmap(frame.assign(spent=[f"spend {spend.format(v, currency)}" for v in frame["spend"]]),
                              "gender", "age_band", metric.slug, metric, currency, hover="spent")
    overall = metric.compute(frame[list(MEASURES)].sum())
    reference = (float(overall), f"all: {metric.format(overall, currency)}") if pd.notna(overall) else None
    return charts.bars(frame, "group", metric.slug, metric, currency, reference=reference)


@callback(Output("aud-chart", "figure"), Output("aud-table", "children"), Input("view-state", "data"),
          Input("aud-by", "value"), Input("aud-metric", "value"))
def update_who(store: dict | None, by: str, metric_slug: str):
    state = ViewState.from_store(store)
    if not state.date_from:
        return no_update, no_update
    frame = data.audience(state.filters(), by)
    if frame.empty:
        text = "No audience breakdown for these filters." + _missing("audience")
        return charts.empty("No audience breakdown for these filters"), html.P(text, className="text-muted mb-0")
    currency = state.display_currency
    frame = frame.assign(group=frame[list(DIMENSIONS[by])].astype(str).agg(" · ".join, axis=1))
    reported = {c for c in MEASURES if frame[c].sum() > 0}
    slugs = [s for s in METRICS if set(mx.get(s).inputs) <= reported]
    table = metric_table("aud-table-data", frame, "group", BREAKDOWNS[by], slugs, currency)
    return _who_chart(frame, by, mx.get(metric_slug), currency), table


@callback(Output("aud-time-metric", "options"), Output("aud-time-metric", "value"),
          Output("aud-channel", "options"), Output("aud-channel", "value"),
          Input("view-state", "data"), Input("aud-source", "value"),
          State("aud-time-metric", "value"), State("aud-channel", "value"))
def time_controls(store: dict | None, source: str, metric_slug: str | None, channel: str | None):
    """Metrics of the chosen source; channels of the filter bar, those without data disabled."""
    state = ViewState.from_store(store)
    slugs = TIMING_METRICS[source]
    labels = data.channel_labels()
    have = set(data.channels_with(source))
    shown = state.channels or tuple(sorted(set(labels) | have))
    channels = [{"label": "All channels", "value": ALL}] + [
        {"label": labels.get(c, c) + ("" if c in have else " (no data)"), "value": c, "disabled": c not in have}
        for c in shown]
    return ([{"label": timing.metric(s).label, "value": s} for s in slugs],
            metric_slug if metric_slug in slugs else slugs[0],
            channels, channel if channel in have and channel in shown else ALL)


#: Where each source's hours come from (db.audience_queries says why ads keep local hours).
CLOCK = {"hourly": "Hours are each ad account's local time, as the platforms report them: accounts in "
                   "different time zones share a cell by local hour.",
         "posts": "Hours are when posts were published, in {zone} (the reporting time zone)."}
#: Said when channels are pooled: a channel with a higher rate that delivers more at some hours
#: lifts those hours (search ads' CTR in office hours) without any hour being better for anyone.
POOLED = " With all channels together the channel mix differs by hour: pick one to compare like with like."


def _note(source: str, pooled: bool) -> str:
    return (CLOCK[source].format(zone=get_settings().reporting_timezone)
            + " A window is named only when all its hours beat the average beyond the noise (95% for the 24 "
              "hours together, intervals from resampling days); blank cells were seen on fewer than "
              f"{timing.MIN_CELL_DAYS} days." + (POOLED if pooled else "") + _missing(source))


def _by_channel(table: pd.DataFrame) -> dash_table.DataTable:
    labels = data.channel_labels()
    found = table["window"].notna()
    shown = [timing.times(r, a, b) if ok else ["—"] * 3
             for r, a, b, ok in zip(table["ratio"], table["lo"], table["hi"], found)]
    rows = pd.DataFrame({
        "channel": table["channel"].map(labels).fillna(table["channel"]),
        "window": table["window"].where(found, "no hour stands out"),
        "ratio": [f"{r}×" if ok else r for (r, _, _), ok in zip(shown, found)],
        "interval": [f"{a}–{b}×" if ok else a for (_, a, b), ok in zip(shown, found)],
        "days": table["days"].astype(int),
    })
    return dash_table.DataTable(id="aud-time-channels", columns=TIME_COLUMNS, data=rows.to_dict("records"),
                                **table_style(left=["channel", "window"]))


@callback(Output("aud-time-summary", "children"), Output("aud-heatmap", "figure"),
          Output("aud-time-table", "children"), Output("aud-time-note", "children"),
          Input("view-state", "data"), Input("aud-source", "value"), Input("aud-time-metric", "value"),
          Input("aud-channel", "value"))
def update_best_time(store: dict | None, source: str, metric_slug: str, channel: str):
    state = ViewState.from_store(store)
    if not state.date_from or metric_slug not in TIMING_METRICS[source]:
        return (no_update,) * 4
    f = state.filters()
    grid, hours, weekdays = data.best_time(f if channel == ALL else replace(f, channels=(channel,)), source,
                                           metric_slug)
    if grid.empty or grid["value"].notna().sum() == 0:
        what = "organic posts" if source == "posts" else "hour-of-day ad data"
        text = f"No {what} for these filters."
        empty = html.P(text, className="text-muted mb-0", id="aud-time-empty")
        return empty, charts.empty(text), None, _note(source, False)
    summary = [html.P(timing.sentence(hours, SUBJECT[source]), className="fw-semibold mb-1",
                      id="aud-time-sentence"),
               html.P(timing.sentence(weekdays, SUBJECT[source]), className="small mb-0")]
    figure = charts.heatmap(grid.assign(seen=[f"{d} days" for d in grid["days"]]), "hour", "weekday", "value",
                            timing.metric(metric_slug), state.display_currency, x_labels=HOURS,
                            y_labels=dict(enumerate(timing.WEEKDAYS)), hover="seen")
    table = _by_channel(data.best_hours_by_channel(f, source, metric_slug)) if channel == ALL else None
    return summary, figure, table, _note(source, channel == ALL)
