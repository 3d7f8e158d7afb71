"""Cards the planning pages share: a titled panel, and what a page shows instead of a stored
run it cannot use yet.

A stored run can be missing (the hourly cycle has not run since the install) or unusable (too
little history); the two need different words, because only the second asks the user to wait
for data rather than for the next hour.
"""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html
from dash.development.base_component import Component

from dashboard.components.status import relative_time
from db.planning_queries import OK, Artefact


def panel(title: str, body: Component | list, note: str | None = None, **props) -> dbc.Card:
    """A card with a title bar; `note` is a muted line under the body saying how to read it."""
    children = list(body) if isinstance(body, list) else [body]
    if note:
        children.append(html.P(note, className="small text-muted mb-0 mt-2"))
    return dbc.Card([dbc.CardHeader(html.H6(title, className="mb-0")), dbc.CardBody(children)],
                    className="shadow-sm h-100", **props)


def run_unavailable(run: Artefact | None, title: str, first_run: str, explains: str) -> dbc.Card | None:
    """None when `run` can be shown; otherwise the card that says why it cannot."""
    if run is not None and run.status == OK:
        return None
    if run is None:
        text = first_run
    else:
        text = f"Not enough data yet: {run.summary.get('message', 'too few days of data')}."
    return dbc.Card(dbc.CardBody([
        html.H5(title, className="card-title"),
        html.P(text, id="planning-empty", className="mb-1"),
        html.P(explains, className="small text-muted mb-0"),
    ]), className="shadow-sm")


def run_stamp(run: Artefact) -> str:
    """"3 Mar – 30 Jun 2026 (120 days), updated 12 min ago": which data a stored run saw."""
    window = (f"{run.date_from:%-d %b %Y} – {run.date_to:%-d %b %Y}"
              if run.date_from and run.date_to else "no data")
    return f"{window} ({run.summary.get('days', 0)} days), updated {relative_time(run.created_at)}"
