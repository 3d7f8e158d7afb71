"""Compare: which channel (or campaign) is better on one metric, and how sure that is.

Computed on the fly from the query layer's daily sums for the filter bar's window, channels and
currency (modeling.compare takes ~30 ms; dashboard.data caches it per data version). A
difference is only called one when the intervals say so: the forest plot shades the leader's
interval, so every row whose whisker reaches into it is visibly not told apart from it.
"""
from __future__ import annotations

import math

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, callback, dash_table, dcc, html, no_update

from dashboard import data
from dashboard.components import charts
from dashboard.components.cards import panel
from dashboard.components.links import campaign_markdown_link
from dashboard.components.tables import metric_column, table_style
from dashboard.state import ViewState
from db import metrics as mx

dash.register_page(__name__, path="/compare", name="Compare", order=1, title="DEMETRA — Compare")

METRICS = ["roas", "roi", "cpa", "cpl", "cr", "ctr"]
TOP_CHOICES = [5, 10, 20]
#: verdict → (badge colour, point colour on the forest plot)
VERDICT_STYLE = {
    "better": ("success", "#18BC9C"), "likely better": ("info", "#3498DB"),
    "no clear difference": ("secondary", "#95A5A6"), "likely worse": ("warning", "#F39C12"),
    "worse": ("danger", "#E74C3C"), "only one": ("light", "#2C3E50"),
}
GRAPH_CONFIG = {"displayModeBar": False}
TABLE_COLUMNS = ["key", "label", "value", "lo", "hi", "prob_better", "prob_best", "rank", "rank_range",
                 "verdict"]


def layout(**_query: str) -> html.Div:
    controls = dbc.Row([
        dbc.Col(dcc.Dropdown(id="cmp-metric", value="roas", clearable=False,
                             options=[{"label": mx.get(s).label, "value": s} for s in METRICS]), xs=12, md=4),
        dbc.Col(dbc.RadioItems(id="cmp-level", value="channel", inline=True,
                               options=[{"label": "Channels", "value": "channel"},
                                        {"label": "Campaigns", "value": "campaign"}]), xs=7, md=4),
        dbc.Col(dcc.Dropdown(id="cmp-top", value=10, clearable=False, searchable=False,
                             options=[{"label": f"Top {n} by spend", "value": n} for n in TOP_CHOICES]),
                xs=5, md=4),
    ], className="g-2 align-items-center mb-2")
    return html.Div([
        panel("Who is better, and how sure", [
            controls,
            dcc.Loading(dcc.Graph(id="cmp-forest", config=GRAPH_CONFIG)),
            html.Div(id="cmp-verdicts", className="d-flex flex-wrap gap-1 mt-2"),
        ], "Dots are the period's values, whiskers their 95% intervals. The shaded band is the leader's "
           "interval: rows whose whiskers reach into it cannot be told apart from the leader. Verdicts "
           "compare each row with all the other rows pooled."),
        html.Div(className="mb-3"),
        panel("Ranking with uncertainty", dash_table.DataTable(
            id="cmp-table", sort_action="native", **table_style(left=["label", "verdict"], links=True)),
            "Rank range: the ranks a row takes in 95% of resamples; rows whose ranges overlap are not "
            "reliably ordered. Money metrics (ROAS, ROI, CPA, CPL) get a paired bootstrap over days; "
            "rates (CR, CTR) a beta-binomial interval widened by day-to-day swings. At campaign level "
            "the top campaigns by spend are compared with each other."),
    ])


def _sure(p: float) -> str:
    """A probability as "how sure", never "100%": a resample count cannot prove certainty."""
    return ">99%" if p > 0.99 else f"{p:.0%}"


def verdict_text(verdict: str, prob_better: float) -> str:
    if verdict in ("better", "likely better"):
        return f"{verdict} than the rest — {_sure(prob_better)} sure"
    if verdict in ("worse", "likely worse"):
        return f"{verdict} than the rest — {_sure(1 - prob_better)} sure"
    if verdict == "only one":
        return "nothing to compare with"
    return f"no clear difference from the rest ({prob_better:.0%} chance it is better)"


def _badges(table: pd.DataFrame) -> list[dbc.Badge]:
    return [dbc.Badge(f"{r.label}: {verdict_text(r.verdict, r.prob_better)}",
                      color=VERDICT_STYLE.get(r.verdict, VERDICT_STYLE["no clear difference"])[0],
                      className="text-wrap text-start verdict-badge")
            for r in table.itertuples()]


def _forest(table: pd.DataFrame, metric: mx.Metric, currency: str) -> dict:
    defined = table[table["value"].notna()]
    colors = [VERDICT_STYLE.get(v, VERDICT_STYLE["no clear difference"])[1] for v in defined["verdict"]]
    leader = defined.iloc[0] if len(defined) > 1 else None
    band = ((float(leader["lo"]), float(leader["hi"]), "leader's 95% interval")
            if leader is not None and math.isfinite(leader["lo"]) else None)
    return charts.forest(defined, "label", [charts.Estimate(metric.label, "value", "lo", "hi", colors)],
                         metric, currency, band=band)


def _columns(metric: mx.Metric, level: str, currency: str) -> list[dict]:
    value = metric_column(metric.slug, currency)
    share = {"type": "numeric", "format": dash_table.FormatTemplate.percentage(0)}
    return [
        {"name": "Channel", "id": "label"} if level == "channel"
        else {"name": "Campaign", "id": "label", "presentation": "markdown"},
        {**value, "id": "value", "name": metric.short or metric.label},
        {**value, "id": "lo", "name": "95% low"}, {**value, "id": "hi", "name": "95% high"},
        {**share, "id": "prob_better", "name": "P(better than rest)"},
        {**share, "id": "prob_best", "name": "P(best)"},
        {"name": "Rank", "id": "rank", "type": "numeric"}, {"name": "Rank range", "id": "rank_range"},
        {"name": "Verdict", "id": "verdict"},
    ]


@callback(Output("cmp-top", "disabled"), Input("cmp-level", "value"))
def toggle_top(level: str) -> bool:
    return level != "campaign"


@callback(Output("cmp-forest", "figure"), Output("cmp-verdicts", "children"), Output("cmp-table", "data"),
          Output("cmp-table", "columns"), Input("view-state", "data"), Input("cmp-metric", "value"),
          Input("cmp-level", "value"), Input("cmp-top", "value"))
def update_compare(store: dict | None, metric_slug: str, level: str, top: int):
    state = ViewState.from_store(store)
    if not state.date_from:
        return no_update, no_update, no_update, no_update
    metric = mx.get(metric_slug)
    currency = state.display_currency
    table = data.comparison(state.filters(), metric_slug, level, int(top or TOP_CHOICES[1]))
    if table.empty:
        return charts.empty("No data for these filters"), [], [], _columns(metric, level, currency)
    table = table.assign(rank_range=[f"{int(a)}" if a == b else f"{int(a)}–{int(b)}"
                                     for a, b in zip(table["rank_lo"], table["rank_hi"])])
    rows = table[TABLE_COLUMNS]
    if level == "campaign":  # each campaign opens its explanation, as everywhere campaigns are listed
        rows = rows.assign(label=[campaign_markdown_link(label, int(key), state.to_query())
                                  for label, key in zip(rows["label"], rows["key"])])
    records = rows.astype(object).where(rows.notna(), None).to_dict("records")
    return _forest(table, metric, currency), _badges(table), records, _columns(metric, level, currency)
