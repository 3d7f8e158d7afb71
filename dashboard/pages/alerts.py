"""Alerts: campaign-days whose numbers broke from their normal range, newest first.

The hourly `alerts` step finds them (modeling.anomaly) and stores them with a sentence saying
what may have happened; this page lists them for the filter bar's period and channels, shows
the chosen one against its campaign's recent days, and lets a marketer dismiss what has been
dealt with (a dismissal survives the hourly re-check).
"""
from __future__ import annotations

import datetime as dt

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dash_table, dcc, html, no_update

from dashboard import data
from dashboard.components import charts
from dashboard.components.cards import panel
from dashboard.components.tables import table_style
from dashboard.state import ViewState
from db import alert_queries as aq
from db import metrics as mx
from db.config import get_settings
from modeling import anomaly

dash.register_page(__name__, path="/alerts", name="Alerts", order=4, title="DEMETRA — Alerts")

#: Days shown before and after the alert's day in its chart.
CONTEXT_BEFORE, CONTEXT_AFTER = 28, 7
SEVERITY_COLOR = {"high": "danger", "medium": "warning"}
COLUMNS = [{"name": "Day", "id": "day"}, {"name": "Severity", "id": "severity"},
           {"name": "Channel", "id": "channel_label"}, {"name": "Campaign", "id": "campaign"},
           {"name": "What happened", "id": "message"}, {"name": "Status", "id": "status"}]


def layout(**_query: str) -> html.Div:
    return html.Div([
        dbc.Row([
            dbc.Col(html.Div(id="al-summary"), xs=12, md=8, className="mb-2"),
            dbc.Col(html.Div(dbc.Checklist(id="al-show-dismissed", switch=True, value=[],
                                           options=[{"label": "Show dismissed", "value": "yes"}]),
                             className="d-flex justify-content-md-end"), xs=12, md=4, className="mb-2"),
        ], className="align-items-center"),
        html.Div(panel("Alerts", dcc.Loading(dash_table.DataTable(
            id="al-table", columns=COLUMNS, row_selectable="single", selected_rows=[], page_size=15,
            style_data_conditional=[{"if": {"filter_query": '{severity} = "high"', "column_id": "severity"},
                                     "color": "#E74C3C", "fontWeight": 600}],
            **_table_style())),
            "Checked every hour for the last 14 complete days against each campaign's own recent "
            "weeks (a day is judged once the two days after it are in). One row per incident: a "
            "campaign's alerts on consecutive days. Pick a row to see it on a chart."), className="mb-3"),
        dcc.Store(id="al-selected"),
        panel("The alert on its campaign's days", [
            html.Div(id="al-detail", className="mb-2"),
            dcc.Loading(dcc.Graph(id="al-chart", config={"displayModeBar": False},
                                  figure=charts.empty("Pick an alert above"))),
            dbc.Button("Dismiss", id="al-dismiss", color="secondary", outline=True, size="sm",
                       className="mt-2", disabled=True),
        ]),
    ])


def _table_style() -> dict:
    """The shared look, wrapping; the sentence keeps a readable width (the table scrolls on a phone)."""
    style = table_style(left=["day", "severity", "channel_label", "campaign", "message", "status"],
                        cell={"whiteSpace": "normal", "height": "auto"})
    style["style_cell_conditional"] += [{"if": {"column_id": "message"}, "minWidth": "280px"},
                                        {"if": {"column_id": "day"}, "minWidth": "90px"}]
    return style


def _days(first: pd.Timestamp, last: pd.Timestamp) -> str:
    return f"{first:%a %d %b}" if first == last else f"{first:%a %d} – {last:%a %d %b}"


def _rows(frame: pd.DataFrame) -> list[dict]:
    """One row per incident (a campaign's alerts on consecutive days)."""
    labels = data.channel_labels()
    rows = []
    for r in anomaly.group_incidents(frame).itertuples(index=False):
        others = [mx.get(m).label.lower() for m in r.metrics if m != r.metric]
        also = f" Also off: {', '.join(others)}." if others else ""
        rows.append({"id": r.primary, "ids": r.ids, "day": _days(r.date_from, r.date_to),
                     "date_from": r.date_from.date().isoformat(), "date_to": r.date_to.date().isoformat(),
                     "severity": r.severity, "channel_label": labels.get(r.channel, r.channel),
                     "campaign": r.campaign, "message": r.message + also, "status": r.status})
    return rows


def _summary(frame: pd.DataFrame) -> list:
    if frame.empty:
        return [html.Span("No alerts in this period: every campaign stayed within its normal range.",
                          className="text-muted")]
    incidents = anomaly.group_incidents(frame)
    live = incidents[incidents["status"] == aq.OPEN]
    badges = [dbc.Badge(f"{int((live['severity'] == s).sum())} {s}", color=c, className="me-2")
              for s, c in SEVERITY_COLOR.items()]
    dismissed = int((incidents["status"] == aq.DISMISSED).sum())
    return [html.Strong(f"{len(live)} open incident{'s' if len(live) != 1 else ''} "), *badges,
            html.Span(f"{dismissed} dismissed", className="small text-muted")]


@callback(Output("al-table", "data"), Output("al-summary", "children"), Output("al-table", "selected_rows"),
          Input("view-state", "data"), Input("al-show-dismissed", "value"), Input("al-selected", "data"))
def update_list(store: dict | None, show_dismissed: list[str], _changed: dict | None):
    state = ViewState.from_store(store)
    if not state.date_from:
        return no_update, no_update, no_update
    f = state.filters()
    frame = data.alerts(f.date_from, f.date_to, f.channels)
    shown = frame if show_dismissed else frame[frame["status"] == aq.OPEN]
    rows = _rows(shown)
    return rows, _summary(frame), [0] if rows else []  # the newest incident is charted at once


@callback(Output("al-chart", "figure"), Output("al-detail", "children"), Output("al-dismiss", "disabled"),
          Output("al-dismiss", "children"),
          Input("al-table", "selected_rows"), State("al-table", "data"))
def show_alert(selected: list[int] | None, rows: list[dict] | None):
    if not selected or not rows or selected[0] >= len(rows):
        return charts.empty("Pick an alert above"), "", True, "Dismiss"
    alert = data.alert(rows[selected[0]]["id"])
    if alert is None:
        return charts.empty("This alert was replaced by the hourly re-check"), "", True, "Dismiss"
    day = pd.Timestamp(alert["date"])
    metric = mx.get(alert["metric"])
    history = data.campaign_days(int(alert["campaign_id"]), (day - pd.Timedelta(days=CONTEXT_BEFORE)).date(),
                                 (day + pd.Timedelta(days=CONTEXT_AFTER)).date(), metric.slug)
    # Every day of the incident is marked (and the day before a two-day total). A two-day
    # total's normal range is for the sum of both days, so the range is drawn for single days only.
    row = rows[selected[0]]
    two_day = int(alert["days"]) == 2
    first = min(pd.Timestamp(row["date_from"]), day - pd.Timedelta(days=1) if two_day else day)
    days = list(pd.date_range(first, max(pd.Timestamp(row["date_to"]), day)))
    band = None if two_day else (alert["lo"], alert["hi"])
    # The alert and the campaign's days are in the reporting currency (not the filter bar's).
    figure = charts.alert_series(history, metric.slug, days, band, metric, get_settings().reporting_currency)
    detail = [dbc.Badge(alert["severity"], color=SEVERITY_COLOR.get(alert["severity"], "secondary"),
                        className="me-2"),
              html.Strong(f"{alert['campaign']} · {day:%d %b %Y}: "), alert["message"]]
    dismissed = row["status"] == aq.DISMISSED
    return figure, detail, False, "Reopen" if dismissed else "Dismiss"


@callback(Output("al-selected", "data"), Input("al-dismiss", "n_clicks"),
          State("al-table", "selected_rows"), State("al-table", "data"), prevent_initial_call=True)
def toggle_status(_clicks: int, selected: list[int] | None, rows: list[dict] | None):
    if not selected or not rows:
        return no_update
    row = rows[selected[0]]
    status = aq.OPEN if row["status"] == aq.DISMISSED else aq.DISMISSED
    for alert_id in row["ids"]:  # the whole incident
        data.set_alert_status(alert_id, status)
    return {"ids": row["ids"], "status": status, "at": dt.datetime.now(dt.timezone.utc).isoformat()}
