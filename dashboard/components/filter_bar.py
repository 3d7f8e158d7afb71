"""The global filter bar and its two-way binding with the URL.

One callback owns both directions (URL → controls on load, controls → URL on change), which is
the Dash-sanctioned way to write a circular dependency without loops.
"""
from __future__ import annotations

import datetime as dt

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard.data import available_channels, available_currencies, last_day
from dashboard.state import ViewState, from_query
from db.config import get_settings
from db.filters import COMPARISONS, PRESETS


def _field(label: str, control, **width) -> dbc.Col:
    return dbc.Col([dbc.Label(label, className="small mb-1 d-block"), control], **width)


def filter_bar() -> html.Div:
    """On a phone the bar folds behind a summary button; from md up it is always open."""
    controls = dbc.Row([
        _field("Period", dcc.Dropdown(id="f-period", value="28d", clearable=False,
                                      options=[{"label": v, "value": k} for k, v in PRESETS.items()]), xs=6, md=2),
        _field("Compare with", dcc.Dropdown(id="f-compare", value="previous", clearable=False,
                                            options=[{"label": v, "value": k} for k, v in COMPARISONS.items()]),
               xs=6, md=2),
        _field("Dates", dcc.DatePickerRange(id="f-dates", display_format="YYYY-MM-DD", minimum_nights=0,
                                            className="w-100"), xs=12, md=4),
        _field("Channels", dcc.Dropdown(id="f-channels", multi=True, placeholder="All channels"), xs=8, md=3),
        _field("Currency", dcc.Dropdown(id="f-currency", clearable=False), xs=4, md=1),
    ], className="g-2 align-items-end")
    return html.Div([
        dbc.Button(id="f-toggle", color="light", className="w-100 mb-2 d-md-none text-start filter-summary",
                   n_clicks=0),
        dbc.Card(dbc.CardBody(controls), id="f-card", className="filter-bar shadow-sm mb-3 d-none d-md-block"),
    ])


@callback(Output("f-card", "className"), Input("f-toggle", "n_clicks"), prevent_initial_call=True)
def toggle_filters(clicks: int) -> str:
    shown = "d-block" if clicks % 2 else "d-none d-md-block"
    return f"filter-bar shadow-sm mb-3 {shown}"


@callback(Output("f-toggle", "children"), Input("view-state", "data"))
def summarise_filters(store: dict | None) -> str:
    state = ViewState.from_store(store)
    channels = f"{len(state.channels)} channels" if state.channels else "all channels"
    return f"⚙ {state.date_from} → {state.date_to} · {channels} · {state.display_currency}"


@callback(
    Output("url", "search"), Output("view-state", "data"),
    Output("f-period", "value"), Output("f-dates", "start_date"), Output("f-dates", "end_date"),
    Output("f-compare", "value"), Output("f-channels", "value"), Output("f-currency", "value"),
    Output("f-channels", "options"), Output("f-currency", "options"),
    Input("url", "search"), Input("f-period", "value"), Input("f-dates", "start_date"),
    Input("f-dates", "end_date"), Input("f-compare", "value"), Input("f-channels", "value"),
    Input("f-currency", "value"), State("url", "pathname"),
)
def sync_filters(search, period, start, end, compare, channels, currency, _path):
    reporting = get_settings().reporting_currency
    today = last_day() or dt.date.today()
    trigger = ctx.triggered_id
    if trigger in (None, "url"):
        state = from_query(search)
    else:
        if trigger == "f-dates" and start and end:
            period = "custom"
        state = ViewState(period or "28d", (start or "")[:10] or None, (end or "")[:10] or None,
                          compare or "previous", tuple(channels or ()),
                          None if currency in (None, reporting) else currency)
    state = state.resolved(today)
    query = state.to_query()
    channel_opts = [{"label": r.name, "value": r.slug} for r in available_channels().itertuples()]
    currency_opts = [{"label": c, "value": c} for c in available_currencies()]
    return (query if query != search else no_update, state.to_store(), state.period, state.date_from,
            state.date_to, state.compare, list(state.channels), state.currency or reporting,
            channel_opts, currency_opts)
