"""The recommendations card: what the hourly `recommend` step wrote, and what it rests on."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.components.status import relative_time
from db.planning_queries import Artefact


def _facts(facts: list[dict]) -> dbc.ListGroup:
    return dbc.ListGroup([dbc.ListGroupItem([html.Strong(f["action"], className="d-block"),
                                             html.Span(f["text"], className="small")],
                                            className="py-2") for f in facts], flush=True)


def _source(run: Artefact) -> str:
    summary = run.summary
    stamp = f"Updated {relative_time(run.created_at)} from the models' stored results."
    if summary.get("source") == "llm":
        return (f"{stamp} Written by {summary['model']} from the facts below; every number in it was "
                "checked against them.")
    why = f" ({summary['rejected']})" if summary.get("rejected") else ""
    return f"{stamp} Each line is a computed fact; the language model was not used{why}."


def advice_card(run: Artefact | None) -> dbc.Card | None:
    """None until the first recommendations have been written."""
    if run is None:
        return None
    facts = run.summary.get("facts", [])
    if not facts:
        body = [html.P("Nothing stands out: no budget move, alert or efficiency gap is large and "
                       "certain enough to recommend.", className="mb-0 text-muted", id="ov-advice-empty")]
    elif run.summary.get("source") == "llm":
        body = [dcc.Markdown(run.summary["text"], id="ov-advice-text"),
                html.Details([html.Summary("The facts behind it", className="small"), _facts(facts)])]
    else:
        body = [_facts(facts)]
    return dbc.Card([
        dbc.CardHeader(html.H6("Recommendations", className="mb-0")),
        dbc.CardBody([*body, html.P(_source(run), className="small text-muted mb-0 mt-2")]),
    ], className="shadow-sm mb-3", id="ov-advice")
