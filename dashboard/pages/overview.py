"""Overview: KPI cards with Δ vs comparison, growth by channel, spend split, channel efficiency."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard import data, report
from dashboard.components import charts
from dashboard.components.advice import advice_card
from dashboard.components.kpi import kpi_card
from dashboard.components.tables import metric_table
from dashboard.state import ViewState
from db import metrics as mx
from db.planning_queries import RECOMMENDATIONS

dash.register_page(__name__, path="/", name="Overview", order=0, title="DEMETRA — Overview")

GROWTH_METRICS = ["spend", "revenue", "roas", "roi", "leads", "cpl", "conversions", "cpa", "ctr", "clicks",
                  "impressions"]
TABLE_METRICS = ["spend", "revenue", "roi", "roas", "leads", "cpl", "conversions", "cpa", "ctr", "cr", "cpc"]


def layout(**_query: str) -> html.Div:
    return html.Div([
        html.Div(id="ov-kpis", className="row g-2"),
        advice_card(data.planning_run(RECOMMENDATIONS)),
        dbc.Row([
            dbc.Col(dbc.Card([
                dbc.CardHeader(dbc.Row([
                    dbc.Col(html.H6("Growth by channel", className="mb-0"), xs=12, md=4),
                    dbc.Col(dcc.Dropdown(id="ov-metric", value="revenue", clearable=False,
                                         options=[{"label": mx.get(s).label, "value": s} for s in GROWTH_METRICS]),
                            xs=7, md=5),
                    dbc.Col(dbc.RadioItems(id="ov-interval", value="week", inline=True, className="small",
                                           options=[{"label": x.title(), "value": x} for x in ("day", "week", "month")]),
                            xs=5, md=3),
                ], className="g-2 align-items-center")),
                dbc.CardBody(dcc.Loading(dcc.Graph(id="ov-growth", config={"displayModeBar": False}))),
            ], className="shadow-sm h-100"), lg=8, className="mb-3"),
            dbc.Col(dbc.Card([
                dbc.CardHeader(html.H6("Spend distribution", className="mb-0")),
                dbc.CardBody(dcc.Loading(dcc.Graph(id="ov-donut", config={"displayModeBar": False}))),
            ], className="shadow-sm h-100"), lg=4, className="mb-3"),
        ]),
        dbc.Card([
            dbc.CardHeader(dbc.Row([
                dbc.Col(html.H6("Channel efficiency", className="mb-0"), xs=7),
                dbc.Col(dbc.Button("Download report (XLSX)", id="ov-report-button", size="sm", color="primary",
                                   outline=True), xs=5, className="text-end"),
            ], className="g-2 align-items-center")),
            dbc.CardBody(dcc.Loading(html.Div(id="ov-table"))),
        ], className="shadow-sm"),
        dcc.Download(id="ov-report"),
    ])


@callback(Output("ov-kpis", "children"), Input("view-state", "data"))
def update_kpis(store: dict | None):
    state = ViewState.from_store(store)
    if not state.date_from:
        return dash.no_update
    table = data.kpi_comparison(state.filters(), state.compare, mx.OVERVIEW_KPIS)
    return [kpi_card(r.metric, r.value, r.delta, state.display_currency) for r in table.itertuples()]


@callback(Output("ov-growth", "figure"), Input("view-state", "data"), Input("ov-metric", "value"),
          Input("ov-interval", "value"))
def update_growth(store: dict | None, metric: str, interval: str):
    state = ViewState.from_store(store)
    if not state.date_from:
        return dash.no_update
    series = data.timeseries(state.filters(), metric, "channel", interval)
    return charts.line(series, "date", "channel", metric, mx.get(metric), data.channel_labels(), state.display_currency)


@callback(Output("ov-donut", "figure"), Output("ov-table", "children"), Input("view-state", "data"))
def update_channels(store: dict | None):
    state = ViewState.from_store(store)
    if not state.date_from:
        return dash.no_update, dash.no_update
    frame = data.breakdown(state.filters(), "channel")
    currency = state.display_currency
    labels = data.channel_labels()
    donut = charts.donut(frame, "channel", "spend", mx.get("spend"), labels, currency)
    frame = frame.assign(channel_name=frame["channel"].map(labels).fillna(frame["channel"]))
    return donut, metric_table("ov-channel-table", frame, "channel_name", "Channel", TABLE_METRICS, currency)


@callback(Output("ov-report", "data"), Input("ov-report-button", "n_clicks"), State("view-state", "data"),
          prevent_initial_call=True)
def download_report(_clicks: int, store: dict | None):
    """The selection as a workbook (dashboard.report), named after its period."""
    state = ViewState.from_store(store)
    if not state.date_from:
        return dash.no_update
    f = state.filters()
    workbook = report.build(f, state.compare, state.display_currency)
    return dcc.send_bytes(workbook, f"demetra-report-{f.date_from}-{f.date_to}.xlsx")
