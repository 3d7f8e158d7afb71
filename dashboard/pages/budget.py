"""Budget: what each channel really returns, where its curve flattens, how to split a budget,
and what a split of your own would bring.

Everything starts from the response curves the hourly fit_curves step stores (modeling.budget:
adstock + Hill curves anchored on the business's own outcome). Plans and what-if predictions
are computed on demand from those curves — plan() takes ~20-80 ms, predict_outcome ~1 ms — so
the form answers as it is edited. Amounts are steady-state daily amounts in the reporting
currency: the spend a channel would hold day after day, and the outcome that brings.

Platforms' own ROI is shown next to the modelled one on purpose: platforms claim every
conversion their ads touched, and the gap between the two is what the curves correct for.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import dash
import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import ALL, Input, Output, State, callback, dash_table, dcc, html, no_update
from dash.dash_table.Format import Format, Scheme, Sign

from dashboard import data
from dashboard.components import charts
from dashboard.components.admin import REFUSED, admin_panel, is_admin
from dashboard.components.cards import panel, run_stamp, run_unavailable
from dashboard.components.tables import metric_column, table_style
from dashboard.components.upload import decode_contents, upload_box
from dashboard.state import ViewState
from db import metrics as mx
from db import planning_queries as pq
from db.config import get_settings
from jobs.sources.lift import read_lift_tests
from jobs.sources.upload import UploadError
from modeling import budget
from modeling.budget import Curves

dash.register_page(__name__, path="/budget", name="Budget", order=3, title="DEMETRA — Budget")

OBJECTIVES = {"revenue": "Most revenue", "conversions": "Most conversions",
              "target_cpa": "Most conversions at a target CPA"}
TARGET_OF = {"revenue": "revenue", "conversions": "conversions", "target_cpa": "conversions"}
DEFAULT_MAX_CHANGE = 30
#: Sliders reach this multiple of a channel's spend: far enough to see a curve flatten.
SLIDER_RANGE = 3.0
CURVE_POINTS = 60
GRAPH_CONFIG = {"displayModeBar": False}
MAX_LIFT_BYTES = 2 * 1024 * 1024  # a results file is a few rows
SLIDER = "bu-slider"


class Returns(NamedTuple):
    """How one target's returns read: revenue per unit of spend (ROAS-like, ×) or, for
    conversions, its inverse, cost per conversion — 0.03 conversions per dollar means little
    to anyone, $33 per conversion does. (A NamedTuple: Dash imports page modules outside
    sys.modules, where @dataclass cannot resolve the module's annotations.)"""

    outcome: mx.Metric
    per_spend: mx.Metric
    invert: bool

    def of(self, per_unit: np.ndarray | pd.Series) -> np.ndarray:
        values = np.asarray(per_unit, float)
        if not self.invert:
            return values
        return np.divide(1.0, values, out=np.full(values.shape, np.nan), where=values > 0)


RETURNS = {"revenue": Returns(mx.get("revenue"), mx.get("roas"), False),
           "conversions": Returns(mx.get("conversions"), mx.get("cpa"), True)}


def _currency() -> str:
    return get_settings().reporting_currency


def _curves(objective: str) -> Curves | None:
    run = data.planning_run(pq.CURVES)
    if run is None or run.status != pq.OK:
        return None
    return data.fitted_curves(run.id).get(TARGET_OF.get(objective, "revenue"))


def slider_max(curves: Curves) -> pd.Series:
    """SLIDER_RANGE × a channel's recent daily spend, or of its window average when it has
    paused lately (a paused channel still needs room to be switched back on)."""
    average = curves.roi["spend"] / len(curves.baseline)
    return SLIDER_RANGE * np.maximum(curves.current, average)


def _step(top: float) -> float:
    """A round step giving 1,000-10,000 positions: fine enough that a slider starts within a
    unit of today's spend, so "against spend now" starts at about zero."""
    return float(10 ** math.floor(math.log10(top / 1000))) if top > 0 else 1.0


def layout(**_query: str) -> html.Div:
    run = data.planning_run(pq.CURVES)
    unavailable = run_unavailable(
        run, "No response curves yet", "The first fit runs in the next hourly cycle.",
        "It fits how each channel's spend turns into revenue and conversions (with diminishing "
        "returns and carry-over) against the business's own totals, from up to a year of history; "
        "this page then compares reported and modelled ROI, recommends a budget split and answers "
        "what-if questions.")
    if unavailable:
        return unavailable
    fits = data.fitted_curves(run.id)
    objectives = [o for o in OBJECTIVES if TARGET_OF[o] in fits]
    curves = fits[TARGET_OF[objectives[0]]]
    return html.Div([
        html.P(_fit_note(run), className="small text-muted mb-2", id="bu-run"),
        dbc.Row([
            dbc.Col(panel("Reported vs modelled return", dcc.Loading(dcc.Graph(id="bu-returns",
                                                                               config=GRAPH_CONFIG)),
                          "Reported: what the platform claims per unit of spend. Modelled: what the spend "
                          "caused, with its 95% interval. Marginal: what the next unit of spend would "
                          "bring; below the modelled return, each extra unit brings less than the "
                          "average one did (diminishing returns)."),
                    lg=6, className="mb-3"),
            dbc.Col(panel("Response curves", dcc.Loading(dcc.Graph(id="bu-curves", config=GRAPH_CONFIG)),
                          "Daily spend held steadily → incremental outcome per day. ● spend now (28-day "
                          "average), ◆ the recommendation below. Where a curve flattens, more spend "
                          "buys little."), lg=6, className="mb-3"),
        ]),
        html.Div(_calibration(), className="mb-3"),
        html.Div(_optimiser(curves, fits, objectives), className="mb-3"),
        _what_if(curves),
    ])


def _calibration() -> dbc.Card:
    columns = [{"name": "Channel", "id": "label"}, {"name": "Test window", "id": "window"},
               {"name": "Measured lift", "id": "measured"}, {"name": "Curves imply (95%)", "id": "implied"},
               {"name": "Agreement", "id": "agreement"}]
    return panel("Calibration: lift tests", [
        html.Div(id="bu-lift-note", className="small mb-2"),
        dash_table.DataTable(id="bu-lift", columns=columns, **table_style(left=["label", "window", "agreement"])),
        html.Details([
            html.Summary("Add lift-test results", className="small mt-3 mb-2"),
            dbc.Row(dbc.Col(admin_panel("bu-admin-token"), xs=12, md=6), className="mb-2"),
            upload_box("bu-lift-upload", MAX_LIFT_BYTES),
            html.Div(id="bu-lift-result"),
        ]),
    ], "A lift test (e.g. a geo holdout: the channel switched off in some regions for a few weeks) measures "
       "what the channel's spend brought in its window. The curves are fitted to agree with every test within "
       "its error; Curves imply is what the fitted curves say the test should have measured. A results file "
       "has the columns channel, date_from, date_to, metric (revenue or conversions), lift, standard_error "
       "(or ci_low and ci_high), optionally spend and currency; Robyn's liftStartDate, liftEndDate and liftAbs "
       "work too. The next hourly fit uses them (or: python -m jobs lift-import tests.csv).")


def lift_rows(curves: Curves) -> list[dict]:
    """One row per lift test the curves were fitted with, in the target's units."""
    fmt = RETURNS[curves.target].outcome.format
    names = data.channel_labels()
    rows = []
    for r in curves.lift.itertuples(index=False):
        gap = (r.modelled - r.lift) / r.standard_error
        agreement = ("within its error" if abs(gap) <= 2 else
                     f"curves {'above' if gap > 0 else 'below'} the test by {abs(gap):.1f} standard errors")
        rows.append({"channel": r.channel, "label": names.get(r.channel, r.channel),
                     "window": f"{r.date_from:%d %b %Y} – {r.date_to:%d %b %Y}",
                     "measured": f"{fmt(r.lift, _currency())} ± {r.standard_error / abs(r.lift):.0%}"
                                 if r.lift else f"0 ± {fmt(r.standard_error, _currency())}",
                     "implied": f"{fmt(r.modelled, _currency())} ({fmt(r.modelled_lo, _currency())} … "
                                f"{fmt(r.modelled_hi, _currency())})",
                     "agreement": agreement})
    return rows


@callback(Output("bu-lift", "data"), Output("bu-lift-note", "children"), Input("bu-objective", "value"))
def update_lift(objective: str):
    curves = _curves(objective)
    if curves is None:
        return no_update, no_update
    rows = lift_rows(curves)
    if rows:
        note = (f"{len(rows)} lift tests calibrate these {curves.target} curves.")
    elif curves.target_source != "outcome":
        note = "Lift tests calibrate curves fitted against the business's own totals; these are not."
    else:
        note = ("No lift tests yet: the curves' sizes rest on the business totals alone. One test of a "
                "channel at ±10% sizes it better than a year of totals can.")
    return rows, note


def _fit_note(run: pq.Artefact) -> str:
    fits = run.summary["fits"]
    source = ("the business's own totals (outcome_daily)" if run.summary["outcome_complete"]
              else "the platforms' own claims (no business totals for every day, so these curves "
                   "cannot correct for over-attribution)")
    fit = ", ".join(f"{t} R² {f['r2']:.2f}" for t, f in fits.items())
    return (f"Curves fitted against {source} on {run_stamp(run)}; {fit}. Daily amounts in "
            f"{_currency()}, the reporting currency. The period filter does not apply; the channel filter "
            "narrows the charts, while plans cover every channel.")


def _plan_table_style() -> dict:
    """The shared table look, with wrapping text: the "why" column holds a sentence."""
    style = table_style(left=["label", "reason"], cell={"whiteSpace": "normal", "height": "auto"},
                        header={"whiteSpace": "normal"})
    style["style_cell_conditional"].append({"if": {"column_id": "reason"}, "minWidth": "260px"})
    return style


def _optimiser(curves: Curves, fits: dict[str, Curves], objectives: list[str]) -> dbc.Card:
    currency = _currency()
    names = data.channel_labels()
    money = metric_column("spend", currency)
    conversions = fits.get("conversions")
    cpa_now = (float(conversions.current.sum() / conversions.expected_response(conversions.current.to_numpy()).sum())
               if conversions is not None else None)
    form = dbc.Row([
        dbc.Col([dbc.Label("Total daily budget", html_for="bu-total", className="small mb-1"),
                 dbc.InputGroup([dbc.InputGroupText(currency),
                                 dbc.Input(id="bu-total", type="number", min=0, debounce=True,
                                           value=round(float(curves.current.sum())))])], xs=12, md=3),
        dbc.Col([dbc.Label("Objective", className="small mb-1"),
                 dbc.RadioItems(id="bu-objective", value=objectives[0],
                                options=[{"label": OBJECTIVES[o], "value": o} for o in objectives])],
                xs=12, md=4),
        dbc.Col([dbc.Label("Target CPA", html_for="bu-cpa", className="small mb-1"),
                 dbc.InputGroup([dbc.InputGroupText(currency),
                                 dbc.Input(id="bu-cpa", type="number", min=0, debounce=True,
                                           value=round(cpa_now, 2) if cpa_now and math.isfinite(cpa_now)
                                           else None)])], xs=6, md=2),
        dbc.Col([dbc.Label("Max change per channel", html_for="bu-max-change", className="small mb-1"),
                 dbc.InputGroup([dbc.InputGroupText("±"),
                                 dbc.Input(id="bu-max-change", type="number", min=0, max=500, debounce=True,
                                           value=DEFAULT_MAX_CHANGE),
                                 dbc.InputGroupText("%")])], xs=6, md=3),
    ], className="g-2 mb-3")
    limits = dash_table.DataTable(
        id="bu-limits", editable=True,
        columns=[{"name": "Channel", "id": "label", "editable": False},
                 {**money, "id": "current", "name": "Now / day", "editable": False},
                 {**money, "id": "min", "name": "Min / day"}, {**money, "id": "max", "name": "Max / day"}],
        data=[{"channel": c, "label": names.get(c, c), "current": round(float(curves.current[c]), 2),
               "min": None, "max": None} for c in curves.channels],
        style_data_conditional=[{"if": {"column_id": c}, "backgroundColor": "#fbfcfd"} for c in ("min", "max")],
        **table_style(bold=["label"]))
    result = dash_table.DataTable(
        id="bu-plan-table",
        columns=[{"name": "Channel", "id": "label"}, {**money, "id": "current", "name": "Now / day"},
                 {**money, "id": "recommended", "name": "Recommended / day"},
                 {"name": "Change", "id": "change", "type": "numeric",
                  "format": Format(precision=0, scheme=Scheme.percentage, sign=Sign.positive)},
                 {"name": "Saturation now → after", "id": "saturation"},
                 {"name": "Marginal return now → after", "id": "marginal"},
                 {"name": "Why", "id": "reason"}],
        **_plan_table_style())
    return panel("Recommend a split", [
        form,
        html.Details([html.Summary("Per-channel limits (optional)", className="small mb-2"), limits],
                     className="mb-3"),
        dcc.Store(id="bu-plan"),
        dcc.Loading(html.Div(id="bu-plan-summary", className="mb-2")),
        result,
    ], "Same curves and inputs always give the same split. Intervals are 95% and come from refitting "
       "the curves on resampled history; they do not cover a change in the market itself.")


def _what_if(curves: Curves) -> dbc.Card:
    names = data.channel_labels()
    currency = _currency()
    tops = slider_max(curves)
    sliders = []
    for c in curves.channels:
        step = _step(float(tops[c]))
        sliders.append(dbc.Col([
            html.Strong(names.get(c, c), className="small d-block mb-1 text-truncate"),
            dcc.Slider(id={"type": SLIDER, "channel": c}, min=0, max=float(tops[c]), step=step,
                       value=round(round(float(curves.current[c]) / step) * step, 10), marks=None,
                       updatemode="mouseup",
                       className="bu-slider"),
            html.Div(f"now {mx.get('spend').format(float(curves.current[c]), currency)} a day",
                     className="small text-muted"),
        ], xs=12, md=6, xl=4, className="mb-3"))
    return panel("What if", [
        dbc.Row(sliders, className="g-3"),
        dbc.Row([
            dbc.Col(dcc.Loading(html.Div(id="bu-whatif")), xs=12, md=8),
            dbc.Col(dbc.Button("Reset to recommended", id="bu-reset", color="primary", outline=True,
                               className="w-100"), xs=12, md=4, className="mt-2 mt-md-0"),
        ], className="align-items-center"),
    ], "One slider per channel, from 0 to 3× its spend now: the predicted outcome is the steady-state "
       "daily total (baseline included) at those spends, for the objective chosen above.")


def _money(value: float) -> str:
    return mx.get("spend").format(value, _currency())


@callback(Output("bu-cpa", "disabled"), Input("bu-objective", "value"))
def toggle_cpa(objective: str) -> bool:
    return objective != "target_cpa"


def returns_frame(curves: Curves) -> pd.DataFrame:
    """Reported, modelled and marginal return per channel in the target's reading (ROAS-like
    or cost per conversion); inverting swaps an interval's ends."""
    view = RETURNS[curves.target]
    roi = curves.roi
    low, high = ("modelled_roi_hi", "modelled_roi_lo") if view.invert else ("modelled_roi_lo", "modelled_roi_hi")
    m_low, m_high = ("mroi_hi", "mroi_lo") if view.invert else ("mroi_lo", "mroi_hi")
    return pd.DataFrame({
        "channel": roi.index, "reported": view.of(roi["reported_roi"]),
        "modelled": view.of(roi["modelled_roi"]), "lo": view.of(roi[low]), "hi": view.of(roi[high]),
        "marginal": view.of(roi["mroi"]), "marginal_lo": view.of(roi[m_low]),
        "marginal_hi": view.of(roi[m_high]),
    })


def _shown(channels: tuple[str, ...], store: dict | None) -> list[str]:
    wanted = ViewState.from_store(store).channels
    return [c for c in channels if not wanted or c in wanted]


@callback(Output("bu-returns", "figure"), Input("view-state", "data"), Input("bu-objective", "value"))
def update_returns(store: dict | None, objective: str):
    curves = _curves(objective)
    if curves is None:
        return no_update
    view = RETURNS[curves.target]
    names = data.channel_labels()
    frame = returns_frame(curves)
    frame = frame[frame["channel"].isin(_shown(curves.channels, store))]
    frame = frame.sort_values("modelled", ascending=view.invert, na_position="last")
    frame["label"] = frame["channel"].map(names).fillna(frame["channel"])
    estimates = [charts.Estimate("Reported", "reported", color="#BDC3C7", symbol="square"),
                 charts.Estimate("Modelled", "modelled", "lo", "hi", color=charts.PALETTE[0]),
                 charts.Estimate("Marginal", "marginal", "marginal_lo", "marginal_hi", color=charts.PALETTE[3],
                                 symbol="diamond")]
    return charts.forest(frame, "label", estimates, view.per_spend, _currency())


@callback(Output("bu-curves", "figure"), Input("view-state", "data"), Input("bu-plan", "data"),
          State("bu-objective", "value"))
def update_curves(store: dict | None, plan: dict | None, objective: str):
    curves = _curves((plan or {}).get("objective", objective))
    if curves is None:
        return no_update
    shown = _shown(curves.channels, store)
    tops = slider_max(curves).to_numpy()
    grid = np.linspace(0.0, 1.0, CURVE_POINTS)[:, None] * tops[None, :]
    response = curves.expected_response(grid)
    lines = pd.DataFrame({"channel": np.repeat(np.array(curves.channels)[None, :], CURVE_POINTS, axis=0).ravel(),
                          "spend": grid.ravel(), "response": response.ravel()})
    points = {"now": curves.current.to_numpy()}
    if plan:
        points["recommended"] = np.array([plan["split"][c] for c in curves.channels])
    markers = pd.DataFrame([{"channel": c, "spend": spend[i], "response": curves.expected_response(spend)[i], "name": name}
                            for name, spend in points.items() for i, c in enumerate(curves.channels)])
    lines, markers = lines[lines["channel"].isin(shown)], markers[markers["channel"].isin(shown)]
    return charts.response_curves(lines, markers, mx.get("spend"), RETURNS[curves.target].outcome,
                                  data.channel_labels(), _currency())


def _number(value) -> float | None:
    """An edited cell or input as a number; blank or unreadable means "no limit"."""
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def _outcome_range(view: Returns, values: tuple[float, float, float], signed: bool = False) -> str:
    fmt = view.outcome.format
    mean, lo, hi = values
    sign = "+" if signed and mean >= 0 else ""
    return f"{sign}{fmt(mean, _currency())} (95%: {fmt(lo, _currency())} … {fmt(hi, _currency())})"


@callback(Output("bu-plan-summary", "children"), Output("bu-plan-table", "data"), Output("bu-plan", "data"),
          Input("bu-total", "value"), Input("bu-objective", "value"), Input("bu-cpa", "value"),
          Input("bu-max-change", "value"), Input("bu-limits", "data"))
def recommend(total, objective: str, target_cpa, max_change_pct, limits: list[dict] | None):
    curves = _curves(objective)
    if curves is None:
        return no_update, no_update, no_update
    total, target_cpa, max_change_pct = _number(total), _number(target_cpa), _number(max_change_pct)
    if not total or total <= 0:
        return dbc.Alert("Enter a total daily budget above zero.", color="warning", className="py-2"), [], None
    if objective == "target_cpa" and not target_cpa:
        return dbc.Alert("Enter the target CPA.", color="warning", className="py-2"), [], None
    bounds = {row["channel"]: (_number(row.get("min")), _number(row.get("max"))) for row in limits or []}
    try:
        result = budget.plan(curves, total, objective=objective, bounds=bounds,
                             max_change=None if max_change_pct is None else max_change_pct / 100,
                             target_cpa=target_cpa if objective == "target_cpa" else None)
    except ValueError as err:
        return dbc.Alert(f"No split fits these limits: {err}.", color="warning", className="py-2"), [], None
    view = RETURNS[curves.target]
    names = data.channel_labels()
    table = result.table
    marginal_now, marginal_new = view.of(table["mroi_now"]), view.of(table["mroi_new"])
    fmt = view.per_spend.format
    rows = [{"channel": c, "label": names.get(c, c), "current": r.current, "recommended": r.recommended,
             "change": r.change, "saturation": f"{r.saturation_now:.0%} → {r.saturation_new:.0%}",
             "marginal": f"{fmt(marginal_now[i], _currency())} → {fmt(marginal_new[i], _currency())}",
             "reason": r.reason}
            for i, (c, r) in enumerate(table.iterrows())]
    spent = sum(result.split.values())
    summary = [
        html.Div([html.Strong("Expected: "), f"{_outcome_range(view, result.expected)} "
                  f"{view.outcome.label.lower()} a day"], id="bu-expected",
                 **{"data-value": repr(result.expected[0])}),
        html.Div([html.Strong(f"Against spend now ({_money(sum(result.current.values()))} a day): "),
                  _outcome_range(view, result.uplift, signed=True),
                  f" a day, spending {_money(spent)} of the {_money(total)} budget"], id="bu-uplift",
                 **{"data-value": repr(result.uplift[0])}),
    ]
    store = {"objective": objective, "split": result.split, "expected": list(result.expected),
             "uplift": list(result.uplift)}
    return summary, rows, store


@callback(Output("bu-whatif", "children"), Input({"type": SLIDER, "channel": ALL}, "value"),
          Input("bu-objective", "value"),
          State({"type": SLIDER, "channel": ALL}, "id"))
def what_if(values: list[float | None], objective: str, ids: list[dict]):
    curves = _curves(objective)
    if curves is None or not ids:
        return no_update
    spend = {i["channel"]: float(v or 0.0) for i, v in zip(ids, values)}
    view = RETURNS[curves.target]
    predicted = budget.predict_outcome(curves, spend)
    now = budget.predict_outcome(curves, dict(zip(curves.channels, curves.current.to_numpy().tolist())))
    change = predicted[0] - now[0]
    result = html.Div([
        html.Div([html.Strong(f"Predicted daily {view.outcome.label.lower()}: "),
                  html.Span(view.outcome.format(predicted[0], _currency()), id="bu-whatif-mean",
                            **{"data-value": repr(predicted[0]), "data-lo": repr(predicted[1]),
                               "data-hi": repr(predicted[2])}),
                  f" (95%: {view.outcome.format(predicted[1], _currency())} … "
                  f"{view.outcome.format(predicted[2], _currency())})"]),
        html.Div(f"{'+' if change >= 0 else '−'}{view.outcome.format(abs(change), _currency())} against "
                 f"spend now, at {_money(sum(spend.values()))} a day in total "
                 f"(now {_money(float(curves.current.sum()))}).", className="small text-muted"),
    ])
    return result


@callback(Output({"type": SLIDER, "channel": ALL}, "value"), Output({"type": SLIDER, "channel": ALL}, "max"),
          Input("bu-reset", "n_clicks"), State("bu-plan", "data"), State({"type": SLIDER, "channel": ALL}, "id"),
          State({"type": SLIDER, "channel": ALL}, "max"), prevent_initial_call=True)
def reset_to_recommended(_clicks: int, plan: dict | None, ids: list[dict], tops: list[float]):
    """Sliders to the recommended split; a slider whose range is too short grows to fit it."""
    if not plan:
        return [no_update] * len(ids), [no_update] * len(ids)
    values = [float(plan["split"][i["channel"]]) for i in ids]
    return values, [max(float(t), v) for t, v in zip(tops, values)]


@callback(Output("bu-lift-result", "children"), Input("bu-lift-upload", "contents"),
          State("bu-lift-upload", "filename"), State("bu-admin-token", "value"), prevent_initial_call=True)
def upload_lift_tests(contents: str | None, filename: str | None, token: str | None):
    """Store a results file whole, or nothing and say why."""
    if not contents:
        return no_update
    if not is_admin(token):
        return dbc.Alert(REFUSED, color="warning", className="py-2 small")
    try:
        tests = read_lift_tests(decode_contents(contents), filename or "upload")
        stored = data.import_lift_tests(tests, f"upload {filename}")
    except (ValueError, UploadError) as err:  # IngestError is a ValueError
        return dbc.Alert(f"Nothing was stored: {err}", color="danger", className="py-2 small", id="bu-lift-error")
    return dbc.Alert(f"Stored {stored} lift-test result{'s' if stored != 1 else ''} from {filename}; the next "
                     "hourly fit calibrates the curves on them.", color="success", className="py-2 small",
                     id="bu-lift-stored")
