"""One configured source as a card: health, numbers, pinned message, sync progress and actions.

Cards rather than a table because a connection has a name, a badge, four facts, an error that
can run to a paragraph and up to five buttons: as rows they would scroll sideways on a phone,
as cards they stack. Buttons carry pattern-matching ids ({"type": "src-sync", "id": 12}) so one
callback serves every card.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from dashboard.components.status import status_badge, timestamp
from db.sources import SourceRecord
from jobs.sources.registry import CONNECTORS, OTHER_KINDS

#: Kinds a person can add: the API connectors, and "upload" to file uploads under a name.
ADDABLE: dict[str, str] = {**{kind: cls.label for kind, cls in CONNECTORS.items()}, "upload": OTHER_KINDS["upload"]}
#: A message pinned to one card ({"ok": True/False/None, "text": ...}) until the next replaces it.
Note = dict[str, Any]


def kind_label(kind: str) -> str:
    return ADDABLE.get(kind) or OTHER_KINDS.get(kind) or kind


def field_label(name: str) -> str:
    """"access_token" → "Access token"."""
    return name.replace("_", " ").capitalize()


def _action(label: str, kind: str, source_id: int, **props: Any) -> dbc.Button:
    return dbc.Button(label, id={"type": kind, "id": source_id}, size="sm", n_clicks=0, **props)


def _actions(record: SourceRecord, running: bool) -> html.Div:
    """What can be done with the source in its state: "Reconnect" replaces "Sync now" while the
    platform wants new credentials, and a paused source cannot be synced until resumed."""
    api = record.kind in CONNECTORS
    buttons = []
    if api:
        buttons.append(_action("Test connection", "src-test", record.id, color="dark", outline=True))
        if record.status == "needs_reauth":
            buttons.append(_action("Reconnect", "src-reconnect", record.id, color="warning"))
        else:
            paused = record.status == "paused"
            buttons.append(_action("Sync now", "src-sync", record.id, color="primary", disabled=running or paused,
                                   title="Resume the source first" if paused else None))
    buttons.append(_action("Edit", "src-edit", record.id, color="dark", outline=True))
    if api:
        buttons.append(_action("Resume" if record.status == "paused" else "Pause", "src-pause", record.id,
                               color="dark", outline=True))
    buttons.append(_action("Remove", "src-remove", record.id, color="danger", outline=True))
    return html.Div(buttons, className="d-flex flex-wrap gap-2 mt-2")


def _fact(label: str, value: Any) -> dbc.Col:
    return dbc.Col([html.Div(label, className="small text-muted"), html.Div(value, className="text-break")],
                   xs=6, md=3, className="mb-2")


def _credentials(record: SourceRecord) -> Any:
    """Masked values only ("••••abcd"): enough to recognise which token is stored."""
    if record.credentials_problem:
        return html.Span(record.credentials_problem, className="text-danger small")
    if not record.credentials_masked:
        return "—"
    return [html.Div([html.Span(field_label(k) + " ", className="small text-muted"), html.Code(v)])
            for k, v in sorted(record.credentials_masked.items())]


def progress_bar(state: Mapping[str, Any]) -> html.Div:
    """A running job: the bar never shows empty, so "queued" still reads as something happening."""
    fraction = float(state.get("progress") or 0.0)
    return html.Div([
        dbc.Progress(value=round(max(fraction, 0.05) * 100, 1), striped=True, animated=True, className="mb-1",
                     style={"height": "10px"}),
        html.Div(f"{state.get('status', 'queued')}: {state.get('message') or '…'}", className="small text-muted"),
    ], className="mt-2 src-progress")


def source_card(record: SourceRecord, note: Note | None, progress: Mapping[str, Any] | None,
                now: dt.datetime) -> dbc.Card:
    running = progress is not None
    status = "syncing" if running or record.is_syncing(now) else record.status
    body: list[Any] = [
        html.Div([
            html.Div([html.H6(record.name, className="mb-0 text-break"),
                      html.Small(kind_label(record.kind), className="text-muted")], className="me-2"),
            status_badge(status),
        ], className="d-flex justify-content-between align-items-start mb-2"),
        dbc.Row([
            _fact("Account", record.account_ref or "—"),
            _fact("Last successful sync", timestamp(record.last_success_at, now)),
            _fact("Rows (last sync)", f"{record.rows_last_sync:,}" if record.last_success_at else "—"),
            _fact("Credentials", _credentials(record)),
        ], className="g-2"),
    ]
    if record.last_error:
        body.append(html.Div([html.Strong("Last error: "), record.last_error],
                             className="small text-danger text-break src-last-error"))
    if progress is not None:
        body.append(progress_bar(progress))
    if note:
        color = {True: "success", False: "danger"}.get(note["ok"], "info")
        body.append(dbc.Alert(note["text"], color=color, className="py-1 px-2 small mt-2 mb-0 text-break src-note"))
    body.append(_actions(record, running))
    return dbc.Card(dbc.CardBody(body), className="shadow-sm mb-2 src-card")
