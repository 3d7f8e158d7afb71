"""Drill-down: channel → campaign → ad, with every metric from the registry at each level.

The channel lives in the path (/drilldown/<channel>) because the filter bar owns the query
string; campaigns link to their explanation, and picking one lists its ads.
"""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from dashboard import data
from dashboard.components.links import campaign_markdown_link
from dashboard.components.tables import metric_table
from dashboard.state import ViewState

dash.register_page(__name__, path_template="/drilldown/<channel>", path="/drilldown/all", name="Drill-down",
                   order=1, title="DEMETRA — Drill-down")

METRICS = ["spend", "revenue", "roi", "roas", "leads", "cpl", "conversions", "cpa", "ctr", "cr", "cpc"]
ALL = "all"


def layout(channel: str = ALL, **_query: str) -> html.Div:
    return html.Div([
        dcc.Store(id="dd-channel", data=channel),
        html.Div(id="dd-crumbs", className="mb-2"),
        dbc.Card([dbc.CardHeader(html.H6(id="dd-title", className="mb-0")),
                  dbc.CardBody(dcc.Loading(html.Div(id="dd-table")))], className="shadow-sm mb-3"),
        html.Div([
            dbc.Card([
                dbc.CardHeader(dbc.Row([
                    dbc.Col(html.H6("Ads of a campaign", className="mb-0"), xs=12, md=4),
                    dbc.Col(dcc.Dropdown(id="dd-campaign", placeholder="Pick a campaign"), xs=12, md=8),
                ], className="g-2 align-items-center")),
                dbc.CardBody(dcc.Loading(html.Div(id="dd-ads"))),
            ], className="shadow-sm"),
        ], hidden=channel == ALL),
    ])


@callback(Output("dd-crumbs", "children"), Output("dd-title", "children"), Output("dd-table", "children"),
          Output("dd-campaign", "options"), Input("view-state", "data"), Input("dd-channel", "data"))
def update_level(store: dict | None, channel: str):
    state = ViewState.from_store(store)
    if not state.date_from:
        return (dash.no_update,) * 4
    labels = data.channel_labels()
    query = state.to_query()
    if channel == ALL:
        frame = data.breakdown(state.filters(), "channel")
        frame = frame.assign(name=[f"[{labels.get(c, c)}](/drilldown/{c}{query})" for c in frame["channel"]])
        table = metric_table("dd-channel-table", frame, "name", "Channel", METRICS, state.display_currency, link=True)
        return "All channels", "Channels — pick one to see its campaigns", table, []
    f = state.filters()
    frame = data.drill(type(f)(f.date_from, f.date_to, channels=(channel,), currency=f.currency), "campaign")
    crumbs = [dcc.Link("All channels", href=f"/drilldown/{ALL}{query}"), " › ", labels.get(channel, channel)]
    title = f"Campaigns in {labels.get(channel, channel)} — open one to see why the model rates it as it does"
    if frame.empty:
        return crumbs, title, html.P("No spend in this period.", className="text-muted mb-0"), []
    options = [{"label": n, "value": int(c)} for n, c in zip(frame["name"], frame["campaign_id"])]
    frame = frame.assign(name=[campaign_markdown_link(n, int(c), query)
                               for n, c in zip(frame["name"], frame["campaign_id"])])
    return crumbs, title, metric_table("dd-campaign-table", frame, "name", "Campaign", METRICS, state.display_currency,
                                       link=True), options


@callback(Output("dd-ads", "children"), Input("view-state", "data"), Input("dd-campaign", "value"))
def update_ads(store: dict | None, campaign: int | None):
    state = ViewState.from_store(store)
    if not state.date_from or campaign is None:
        return html.P("Pick a campaign to list its ads.", className="text-muted mb-0")
    f = state.filters()
    frame = data.drill(type(f)(f.date_from, f.date_to, campaign_ids=(int(campaign),), currency=f.currency), "ad")
    if frame.empty:
        return html.P("No ad of this campaign spent in this period.", className="text-muted mb-0")
    frame = frame.assign(label=[f"{n} · {p}" for n, p in zip(frame["name"], frame["parent"])])
    return metric_table("dd-ad-table", frame, "label", "Ad · ad set", METRICS, state.display_currency)
