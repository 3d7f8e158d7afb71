"""Forecast: daily spend, conversions, revenue and ROAS per channel for the next 7 / 30 / 90
days with 80 % and 95 % intervals, and how far the forecasts can be trusted.

The numbers are the hourly forecast step's stored run (jobs.planning_tasks), history comes
from the query layer. The model-quality card is the run's rolling-origin backtest: errors on
past months the model had not seen, next to what repeating last week (seasonal-naive) would
have scored, and how often the actual days fell inside the intervals.
"""
from __future__ import annotations

import datetime as dt

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import data
from dashboard.components import charts
from dashboard.components.cards import panel, run_stamp, run_unavailable
from dashboard.state import ViewState
from db import metrics as mx
from db import planning_queries as pq
from db.config import get_settings
from db.filters import Filters

dash.register_page(__name__, path="/forecast", name="Forecast", order=2, title="DEMETRA — Forecast")

METRICS = ["spend", "conversions", "revenue", "roas"]
HORIZONS = [7, 30, 90]
#: ROAS is forecast as revenue ÷ spend, so its quality is that of its two parts.
SCORED_AS = {"roas": ["revenue", "spend"]}
GRAPH_CONFIG = {"displayModeBar": False}


def layout(**_query: str) -> html.Div:
    run = data.planning_run(pq.FORECAST)
    unavailable = run_unavailable(
        run, "No forecast yet", "The first forecast runs in the next hourly cycle.",
        "It forecasts daily spend, conversions, revenue and ROAS per channel for the next 90 days "
        "from up to a year of history, with 80% and 95% intervals, and checks itself against a "
        "seasonal-naive forecast on past months.")
    if unavailable:
        return unavailable
    controls = dbc.Row([
        dbc.Col(dcc.Dropdown(id="fc-channel", value=pq.ALL_CHANNELS, clearable=False), xs=12, md=4),
        dbc.Col(dbc.RadioItems(id="fc-metric", value="revenue", inline=True,
                               options=[{"label": mx.get(s).short or mx.get(s).label, "value": s}
                                        for s in METRICS]), xs=12, md=5),
        dbc.Col(dbc.RadioItems(id="fc-horizon", value=30, inline=True,
                               options=[{"label": f"{h} days", "value": h} for h in HORIZONS]), xs=12, md=3),
    ], className="g-2 align-items-center mb-2")
    return html.Div([
        html.P(f"Forecast learnt from {run_stamp(run)}. Money in {get_settings().reporting_currency}, "
               "the reporting currency. Forecasts start the day after the last complete day, so the "
               "period filter does not apply; the channel filter narrows the channel list.",
               className="small text-muted mb-2",
               id="fc-run"),
        dbc.Row([
            dbc.Col(panel("History and forecast", [controls, dcc.Loading(dcc.Graph(id="fc-chart",
                                                                                   config=GRAPH_CONFIG))],
                          "Solid: actual days. Dashed: forecast mean, inside its 80% (darker) and 95% bands."),
                    lg=8, className="mb-3"),
            dbc.Col(html.Div(id="fc-quality", className="h-100"), lg=4, className="mb-3"),
        ]),
    ])


@callback(Output("fc-channel", "options"), Output("fc-channel", "value"), Input("view-state", "data"),
          State("fc-channel", "value"))
def channel_options(store: dict | None, current: str | None):
    run = data.planning_run(pq.FORECAST)
    if run is None or run.status != pq.OK:
        return no_update, no_update
    wanted = ViewState.from_store(store).channels
    names = data.channel_labels()
    channels = [c for c in data.forecast_channels(run.id) if c != pq.ALL_CHANNELS and (not wanted or c in wanted)]
    options = [{"label": "All channels (total)", "value": pq.ALL_CHANNELS}] + [
        {"label": names.get(c, c), "value": c} for c in channels]
    return options, current if current in channels else pq.ALL_CHANNELS


def history_days(horizon: int) -> int:
    """Twice the horizon of history (at least four weeks): enough to judge the forecast's level
    and weekly shape against, without squeezing the forecast into a corner of the chart."""
    return max(28, 2 * horizon)


@callback(Output("fc-chart", "figure"), Output("fc-quality", "children"), Input("fc-channel", "value"),
          Input("fc-metric", "value"), Input("fc-horizon", "value"))
def update_forecast(channel: str | None, metric_slug: str, horizon: int):
    run = data.planning_run(pq.FORECAST)
    if run is None or run.status != pq.OK or not channel:
        return no_update, no_update
    metric = mx.get(metric_slug)
    predicted = data.stored_forecast(run.id, channel, metric_slug).head(int(horizon))
    end = run.date_to
    f = Filters(end - dt.timedelta(days=history_days(int(horizon)) - 1), end,
                channels=() if channel == pq.ALL_CHANNELS else (channel,))
    past = data.timeseries(f, metric_slug, None, "day").rename(columns={metric_slug: "value"})
    figure = charts.fan(past, predicted, metric, get_settings().reporting_currency)
    return figure, quality_card(run, channel, metric_slug)


def _series_rows(run: pq.Artefact, channel: str, metric_slug: str) -> pd.DataFrame:
    scores = pd.DataFrame(run.summary["backtest"]["series"])
    if scores.empty:
        return scores
    parts = SCORED_AS.get(metric_slug, [metric_slug])
    rows = scores[(scores["channel"] == channel) & scores["metric"].isin(parts)]
    return rows.set_index("metric").reindex(parts).dropna(how="all").reset_index()


def _fmt(value: float | None, pattern: str) -> str:
    return "—" if value is None or pd.isna(value) else pattern.format(value)


def quality_card(run: pq.Artefact, channel: str, metric_slug: str) -> dbc.Card:
    """Backtest errors of the model vs seasonal-naive, and interval coverage, for the series
    behind the chosen metric."""
    card = run.summary["backtest"]
    rows = _series_rows(run, channel, metric_slug)
    if card["folds"] < 1 or rows.empty:
        body = [html.P(f"The backtest needs {card['needed_days']} days of history; this forecast had "
                       f"{run.summary['days']}. It runs once there are enough.", className="mb-0",
                       id="fc-quality-empty")]
        return panel("Model quality", body)
    body = []
    for r in rows.itertuples():
        # MASE is undefined on a series that never moved (its naive scale is 0); sMAPE is not.
        scaled = pd.notna(r.mase) and pd.notna(r.mase_naive)
        ours, naive = (r.mase, r.mase_naive) if scaled else (r.smape, r.smape_naive)
        beats = bool(ours < naive)
        verdict = (f"{1 - ours / naive:.0%} smaller errors than seasonal-naive" if beats
                   else "no better than seasonal-naive: read it as a rough guide")
        body.append(html.Div([
            html.Div([html.Strong(mx.get(r.metric).label), " ",
                      dbc.Badge("beats naive" if beats else "weak", color="success" if beats else "warning",
                                className="ms-1")], className="mb-1"),
            dbc.Table([
                html.Thead(html.Tr([html.Th(""), html.Th("Model"), html.Th("Seasonal-naive")])),
                html.Tbody([
                    html.Tr([html.Td("MASE"), html.Td(_fmt(r.mase, "{:.2f}")),
                             html.Td(_fmt(r.mase_naive, "{:.2f}"))]),
                    html.Tr([html.Td("sMAPE"), html.Td(_fmt(r.smape, "{:.1f}%")),
                             html.Td(_fmt(r.smape_naive, "{:.1f}%"))]),
                ]),
            ], size="sm", className="mb-1"),
            html.P(f"{verdict}. Days inside the 80% interval: {_fmt(r.coverage80, '{:.0%}')}, inside the 95% "
                   f"interval: {_fmt(r.coverage95, '{:.0%}')}.", className="small mb-3"),
        ], className="fc-quality-series", **{"data-metric": r.metric}))
    note = (f"Rolling-origin backtest: {card['folds']} windows of {card['horizon']} days, each forecast from "
            "the days before it only. MASE below 1 beats repeating the same weekday of the previous week "
            "in-sample; sMAPE is the symmetric percentage error.")
    if metric_slug in SCORED_AS:
        note = "ROAS is forecast as revenue ÷ spend, so its quality is that of its two parts. " + note
    return panel("Model quality", body, note, id="fc-quality-card")
