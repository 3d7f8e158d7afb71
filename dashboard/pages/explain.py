"""Explain: how good the ROI model is, what drives its predictions, and why it predicts what it
does for one campaign.

Everything shown is read from the hourly score step's stored results (dashboard.data), never
computed from the fact tables or by running the model in a callback. The explained campaign is
a path segment (/explain/<id>, see components.links), so any table or chart can link to it; the
filter bar's channels narrow the campaigns shown, its period does not apply (scores cover the
scoring window stated on the page).
"""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, ctx, dash_table, dcc, html, no_update

from dashboard import data
from dashboard.components import charts
from dashboard.components.links import campaign_href, campaign_markdown_link
from dashboard.components.tables import metric_column, table_style
from dashboard.state import ViewState
from db import metrics as mx
from db.config import get_settings
from db.model_queries import ModelRecord
from modeling.campaign_scores import DISCRETE
from modeling.explain_text import format_feature_value, global_importance
from modeling.features import CATALOG

dash.register_page(__name__, path="/explain", path_template="/explain/<campaign_id>", name="Explain",
                   order=5, title="DEMETRA — Explain")

TARGET = mx.get(data.MODEL_TARGET)
EMPTY_TEXT = "The first model is trained in the next hourly cycle."
IMPORTANCE_FEATURES = 12
BEESWARM_FEATURES = 10
LEVEL_COLORS = {"strong": "success", "modest": "warning", "weak": "secondary"}
GRAPH_CONFIG = {"displayModeBar": False}


def _campaign_id(value: str | int | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def layout(campaign_id: str | None = None, campaign: str | None = None, **query: str) -> html.Div:
    if _campaign_id(campaign) is not None:  # /explain?campaign=<id>: move it into the path
        rest = urlencode(query)
        return html.Div(dcc.Location(id="ex-redirect", refresh=True,
                                     href=campaign_href(int(campaign), f"?{rest}" if rest else "")))
    stamp = data.score_stamp()
    if stamp is None:
        return _empty_state(data.has_active_model())
    record, frame = data.scored_model(stamp), data.campaign_scores(stamp)
    wanted = _campaign_id(campaign_id)
    selected = wanted if wanted is not None else _default_campaign(frame)
    features = [f["name"] for f in record.card["features"]]
    ranked = global_importance(_matrix(frame, "shap", features))
    return html.Div([
        dcc.Location(id="ex-nav", refresh="callback-nav"),
        dcc.Store(id="ex-selected", data=selected),
        _window_note(frame),
        dbc.Row([
            dbc.Col(_model_card(record, frame), lg=5, className="mb-3"),
            dbc.Col(_panel("What moves predictions overall", dcc.Graph(id="ex-importance", config=GRAPH_CONFIG),
                           "Average size of each feature's contribution (mean |SHAP|). Click a bar to see "
                           "how that feature's value moves the prediction below."), lg=7, className="mb-3"),
        ]),
        dbc.Row([
            dbc.Col(_campaign_panel(stamp, frame, selected), lg=5, className="mb-3"),
            dbc.Col(_panel("From the average to this campaign's prediction", dcc.Graph(
                id="ex-waterfall", config=GRAPH_CONFIG, figure=_waterfall(frame, selected, features))),
                lg=7, className="mb-3"),
        ]),
        dbc.Row([
            dbc.Col(_panel("Every campaign, every feature", dcc.Graph(id="ex-beeswarm", config=GRAPH_CONFIG),
                           "One dot per campaign: right of zero raises its predicted ROI, left lowers it; "
                           "colour is the feature's value (red high, blue low, grey a category). "
                           "Click a dot to explain that campaign."), lg=7, className="mb-3"),
            dbc.Col(_panel("How one feature moves the prediction", [
                dcc.Dropdown(id="ex-feature", clearable=False, value=ranked["feature"].iloc[0],
                             options=[{"label": r.label, "value": r.feature} for r in ranked.itertuples()],
                             className="mb-2"),
                dcc.Graph(id="ex-dependence", config=GRAPH_CONFIG),
            ]), lg=5, className="mb-3"),
        ]),
        _panel("Campaigns: predicted and actual ROI", [
            dash_table.DataTable(
                id="ex-table", columns=_table_columns(), sort_action="native",
                sort_by=[{"column_id": "spend", "direction": "desc"}], page_size=15,
                **table_style(left=["campaign", "channel_name"], links=True)),
            html.P("Predictions for the scoring window come from a model that also learnt from those "
                   "days, so their closeness to the actual ROI is no test of accuracy: the card's "
                   "validation numbers (days the model had not seen) are.", className="small text-muted mt-2"),
        ]),
    ])


def _window_note(frame: pd.DataFrame) -> html.P:
    """Say which days the page is about: the filter bar's period does not move stored scores."""
    start, end = frame["date_from"].iloc[0], frame["date_to"].iloc[0]
    days = (pd.Timestamp(end) - pd.Timestamp(start)).days + 1
    return html.P(f"Campaign scores cover {_date(start)} – {_date(end)}, the last {days} complete days. "
                  "The period filter does not apply on this page; the channel filter does.",
                  className="small text-muted mb-2", id="ex-window")


def _empty_state(model_exists: bool) -> html.Div:
    if model_exists:
        return dbc.Alert("A model is trained, but no campaign had spend in the scoring window, so there "
                         "is nothing to explain yet.", color="light", id="ex-empty")
    return dbc.Card(dbc.CardBody([
        html.H5("No ROI model yet", className="card-title"),
        html.P(EMPTY_TEXT, id="ex-empty", className="mb-1"),
        html.P("It learns from recent campaign delivery; this page then shows how good it is and why "
               "it predicts what it does for each campaign.",
               className="small text-muted mb-0"),
    ]), className="shadow-sm")


def _panel(title: str, body, note: str | None = None) -> dbc.Card:
    children = body if isinstance(body, list) else [body]
    if note:
        children = [*children, html.P(note, className="small text-muted mb-0 mt-1")]
    return dbc.Card([dbc.CardHeader(html.H6(title, className="mb-0")), dbc.CardBody(children)],
                    className="shadow-sm h-100")


def _default_campaign(frame: pd.DataFrame) -> int:
    """The campaign with the most spend: the one a manager most likely asks about first."""
    return int(frame.loc[frame["spend"].idxmax(), "campaign_id"])


def _date(value: dt.date | str) -> str:
    return pd.Timestamp(value).strftime("%-d %b %Y")


def _model_card(record: ModelRecord, frame: pd.DataFrame) -> dbc.Card:
    """The model card in plain words: verdict first, then the numbers behind it."""
    card, metrics = record.card, record.card["metrics"]
    level = card["verdict_level"]
    rows = card["rows"]
    error_rows = [
        html.Tr([html.Td("Mean absolute error"), html.Td(TARGET.format(metrics["model"]["mae"])),
                 html.Td(TARGET.format(metrics["baseline"]["mae"]))]),
        html.Tr([html.Td("R²"), html.Td(f"{metrics['model']['r2']:.2f}"),
                 html.Td(f"{metrics['baseline']['r2']:.2f}")]),
    ]
    retrain = data.last_retrain()
    facts = [
        ("Learnt from", f"{rows['used']:,} campaign-days, {_date(card['data_window']['start'])} – "
                        f"{_date(card['data_window']['end'])}"),
        ("Trained", f"{_date(record.trained_at)} {pd.Timestamp(record.trained_at):%H:%M} UTC · "
                    f"v{record.version} ({card['version']}) · {record.status}"),
        ("Scores", f"{len(frame)} campaigns, {_date(frame['date_from'].iloc[0])} – "
                   f"{_date(frame['date_to'].iloc[0])}"),
    ]
    if retrain:
        facts.append(("Last retrain", retrain["note"]))
    body = [
        html.P([html.Strong("Verdict: "), card["verdict"] + "."], id="ex-verdict", className="mb-2"),
        dbc.Table([html.Thead(html.Tr([html.Th(""), html.Th("Model"), html.Th("Per-channel average")])),
                   html.Tbody(error_rows)], size="sm", className="mb-1"),
        html.P(f"Measured on the latest {rows['validation']:,} campaign-days, held out of training while "
               f"validating ({_date(card['validation_window']['start'])} – {_date(card['validation_window']['end'])}).",
               className="small text-muted"),
        html.Dl([part for label, value in facts
                 for part in (html.Dt(label, className="small mb-0"), html.Dd(value, className="small"))],
                className="mb-0"),
    ]
    if level == "weak":
        body.insert(1, dbc.Alert("Read the charts below as what this model does, not as what drives ROI: "
                                 "it predicts no better than each channel's average.", color="light",
                                 className="small py-2"))
    header = html.Div([html.H6(f"ROI model v{record.version}", className="mb-0 me-2 d-inline"),
                       dbc.Badge(level, color=LEVEL_COLORS.get(level, "secondary"), id="ex-level")])
    return dbc.Card([dbc.CardHeader(header), dbc.CardBody(body)], id="ex-card", className="shadow-sm h-100")


def _campaign_panel(stamp: data.Stamp, frame: pd.DataFrame, selected: int) -> dbc.Card:
    options = _campaign_options(frame)
    picker = dcc.Dropdown(id="ex-picker", options=options, value=selected, clearable=False,
                          placeholder="Search a campaign", className="mb-3")
    row = frame[frame["campaign_id"] == selected]
    if row.empty:
        return _panel("Explain a campaign", [picker, dbc.Alert(
            "This campaign was not scored: it had no spend in the scoring window.", color="light",
            id="ex-not-scored")])
    r = row.iloc[0]
    sentences = data.campaign_drivers(stamp, selected)
    currency = get_settings().reporting_currency
    return _panel("Explain a campaign", [
        picker,
        html.H5(r["campaign"], id="ex-campaign-name", className="mb-1 text-break"),
        html.Div(r["channel_name"], className="small text-muted mb-2"),
        html.P(["Predicted ROI ", html.Strong(TARGET.format(r["prediction"]), id="ex-prediction"),
                html.Span(f" (a single day's ROI: 80% within {TARGET.format(r['lo'])} … "
                          f"{TARGET.format(r['hi'])})", className="small")], className="mb-1"),
        html.P(["Actual ROI ", html.Strong(TARGET.format(r["actual"])),
                f" on {mx.get('spend').format(r['spend'], currency)} spend, "
                f"{_date(r['date_from'])} – {_date(r['date_to'])}"], className="mb-2"),
        html.H6("Top drivers", className="mt-3"),
        html.Ul([html.Li(s) for s in sentences], id="ex-drivers", className="mb-1")
        if sentences else html.P("The wording needs the model file, which has been pruned.",
                                 className="small text-muted"),
        html.P("Values are the campaign's daily figures over the window, averaged by spend.",
               className="small text-muted mb-0"),
    ])


def _campaign_options(frame: pd.DataFrame) -> list[dict]:
    ordered = frame.sort_values("campaign", kind="stable")
    return [{"label": f"{r.campaign} · {r.channel_name}", "value": int(r.campaign_id)}
            for r in ordered.itertuples()]


def _matrix(frame: pd.DataFrame, column: str, features: list[str]) -> pd.DataFrame:
    """The stored per-campaign dicts as a campaign × feature frame."""
    return pd.DataFrame(list(frame[column]), index=frame["campaign_id"].to_numpy()).reindex(columns=features)


def _waterfall(frame: pd.DataFrame, selected: int, features: list[str]) -> dict:
    row = frame[frame["campaign_id"] == selected]
    if row.empty:
        return charts.empty("Pick a campaign with a score")
    r = row.iloc[0]
    contributions = pd.Series({CATALOG[f].label: r["shap"][f] for f in features})
    return charts.waterfall(contributions, r["shap"]["base_value"], r["lo"], r["hi"], TARGET,
                            base_label="Model average", total_label="Predicted ROI")


def _table_columns() -> list[dict]:
    currency = get_settings().reporting_currency
    roi = [{**metric_column(TARGET.slug, currency), "id": cid, "name": name}
           for cid, name in (("prediction", "Predicted ROI"), ("lo", "Range low"), ("hi", "Range high"),
                             ("actual", "Actual ROI"))]
    return [{"name": "Campaign", "id": "campaign", "presentation": "markdown"},
            {"name": "Channel", "id": "channel_name"}, *roi,
            {**metric_column("spend", currency), "name": "Spend (window)"}]


def _shown(frame: pd.DataFrame, store: dict | None) -> pd.DataFrame:
    """The campaigns in the filter bar's channels (all when none are picked)."""
    channels = ViewState.from_store(store).channels
    return frame[frame["channel"].isin(channels)] if channels else frame


def _point_texts(names, feature: str, values) -> list[str]:
    """Hover text per campaign: its name and the feature's value as the drivers word it."""
    spec, currency = CATALOG[feature], get_settings().reporting_currency
    return [f"{n}<br>{spec.label} = {format_feature_value(spec, v, currency)}" for n, v in zip(names, values)]


def _hover(frame: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({f: _point_texts(frame["campaign"], f, values[f]) for f in values.columns},
                        index=values.index)


def _colour_ranks(values: pd.DataFrame) -> pd.DataFrame:
    """Each measured feature's value as its rank among the shown campaigns, 0 (lowest) to 1."""
    out = pd.DataFrame(index=values.index)
    for f in values.columns:
        if CATALOG[f].kind in DISCRETE:
            out[f] = float("nan")
        else:
            numbers = pd.to_numeric(values[f], errors="coerce")
            out[f] = (numbers.rank(method="average") - 1) / max(numbers.notna().sum() - 1, 1)
    return out


@callback(Output("ex-importance", "figure"), Output("ex-beeswarm", "figure"), Output("ex-table", "data"),
          Output("ex-picker", "options"), Input("view-state", "data"), State("ex-selected", "data"))
def update_campaigns(store: dict | None, selected: int | None):
    stamp = data.score_stamp()
    if stamp is None or not store:  # the filter bar has not resolved the view yet
        return no_update, no_update, no_update, no_update
    everything = data.campaign_scores(stamp)
    frame = _shown(everything, store)
    features = [f["name"] for f in data.scored_model(stamp).card["features"]]
    shap, values = _matrix(frame, "shap", features), _matrix(frame, "features", features)
    ranked = global_importance(shap) if not frame.empty else pd.DataFrame(columns=["feature", "label"])
    importance = charts.hbar(ranked.head(IMPORTANCE_FEATURES), "label", "mean_abs_shap", TARGET, key="feature")
    top = list(ranked["feature"].head(BEESWARM_FEATURES))
    swarm = charts.beeswarm(shap[top], _colour_ranks(values[top]), {f: CATALOG[f].label for f in top},
                            _hover(frame, values[top]), frame["campaign_id"].tolist(), TARGET)
    query = ViewState.from_store(store).to_query()
    table = frame.assign(campaign=[campaign_markdown_link(n, c, query)
                                   for n, c in zip(frame["campaign"], frame["campaign_id"])])
    columns = ["campaign", "channel_name", "prediction", "lo", "hi", "actual", "spend"]
    records = table[columns].astype(object).where(table[columns].notna(), None).to_dict("records")
    options = _campaign_options(pd.concat([frame, everything[everything["campaign_id"] == selected]])
                                .drop_duplicates("campaign_id"))
    return importance, swarm, records, options


@callback(Output("ex-dependence", "figure"), Input("ex-feature", "value"), Input("view-state", "data"))
def update_dependence(feature: str, store: dict | None):
    stamp = data.score_stamp()
    if stamp is None or not store or feature not in CATALOG:
        return no_update
    frame = _shown(data.campaign_scores(stamp), store)
    spec = CATALOG[feature]
    values = [v.get(feature) for v in frame["features"]]
    points = pd.DataFrame({
        "value": [str(v) if spec.kind == "category" and v is not None else v for v in values],
        "contribution": [s.get(feature, 0.0) for s in frame["shap"]],
        "channel": frame["channel"].to_numpy(), "campaign_id": frame["campaign_id"].to_numpy(),
        "text": _point_texts(frame["campaign"], feature, values),
    })
    labels = dict(zip(frame["channel"], frame["channel_name"]))
    return charts.dependence(points, "value", "contribution", "channel", spec.label, TARGET, labels,
                             key="campaign_id", text="text", x_format=_value_axis(spec.kind))


def _value_axis(kind: str) -> dict:
    return {"percent": {"tickformat": ".1%"}, "currency": {"tickformat": ",.2f"}}.get(kind, {})


@callback(Output("ex-feature", "value"), Input("ex-importance", "clickData"), prevent_initial_call=True)
def pick_feature(click: dict | None):
    point = (click or {}).get("points", [{}])[0]
    return point.get("customdata") or no_update


@callback(Output("ex-nav", "pathname"), Input("ex-picker", "value"), Input("ex-beeswarm", "clickData"),
          Input("ex-dependence", "clickData"), State("ex-selected", "data"), prevent_initial_call=True)
def open_campaign(picked: int | None, swarm_click: dict | None, dependence_click: dict | None,
                  current: int | None):
    """Picking or clicking a campaign opens its explanation: the URL changes, so it can be shared."""
    if ctx.triggered_id == "ex-picker":
        target = picked
    else:
        click = swarm_click if ctx.triggered_id == "ex-beeswarm" else dependence_click
        target = ((click or {}).get("points") or [{}])[0].get("customdata")
    if target is None or target == current:
        return no_update
    return campaign_href(int(target))
