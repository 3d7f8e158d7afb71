"""Data sources: the connected ad accounts, their health, and file uploads.

One card per source (components.source_card) with the actions a person takes on a connection:
test it, sync it now (the RQ job's progress polled by a dcc.Interval), reconnect it when the
platform revoked access, pause, edit, remove. Changes are admin-only (components.admin);
credentials are typed into blank fields and only their masked form ever reaches the browser.

Uploads are previewed first — parsed rows, totals, recognised columns, every problem — and
written only on a second click, whole or not at all. The write re-parses the same bytes with the
same defaults and checks a digest of both against the preview's, so what lands is exactly what
the person saw, and no parsed rows wait on the server between the two clicks.

Expected failures (bad input, a refused upload, credentials that cannot be decrypted, a queue
that is down) are answered here in words; anything else goes to the app's on_error alert.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update, set_props
from dash.exceptions import PreventUpdate
from redis.exceptions import RedisError

from dashboard.components.admin import REFUSED, admin_panel, is_admin
from dashboard.components.source_card import ADDABLE, Note, kind_label, source_card
from dashboard.components.source_form import (
    CURRENCY_CODE, DEFAULT_KIND, FormError, credential_inputs, form_body, missing_credentials, parse_settings,
    typed_credentials,
)
from dashboard.components.upload import (decode_contents, preview_totals, problems_list, totals_text,
                                         upload_box, upload_preview)
from db import queries
from db.config import get_settings
from db.ingest import PLATFORM_NAMES, IngestError
from db.secrets import SecretsError
from db.session import unit_of_work
from db.sources import (
    LockLost, SourceConfigError, SourceNotFound, SourceRecord, create_source, delete_source, get_source,
    list_sources, set_status, update_source,
)
from jobs.sources import sync as source_sync
from jobs.sources.base import ClientOptions
from jobs.sources.http import RetryPolicy
from jobs.sources.registry import CONNECTORS
from jobs.sources.upload import MAX_UPLOAD_BYTES, UploadResult

dash.register_page(__name__, path="/sources", name="Data sources", order=50, title="DEMETRA — Data sources")

POLL_MS = 1000
#: RQ job states after which polling stops ("unknown": the job expired or Redis went away).
FINISHED = {"finished", "failed", "stopped", "canceled", "unknown"}
GONE = "This source was removed meanwhile."
#: A person is waiting at a "Test" button inside a web request: two tries and short timeouts
#: rather than the sync's five tries with minutes of back-off (which would outlast the worker).
INTERACTIVE = ClientOptions(policy=RetryPolicy(attempts=2, base_delay=0.5, max_delay=2.0, max_wait=5.0,
                                               timeout=15.0))


def _note(ok: bool | None, text: str) -> Note:
    return {"ok": ok, "text": text}


def _require_click() -> None:
    """Pattern-matched buttons are re-created with the list: only a real click (n_clicks ≥ 1) acts."""
    if not (ctx.triggered and ctx.triggered[0]["value"]):
        raise PreventUpdate


def _say(text: str, color: str = "success") -> None:
    """The page's message line, from any callback (as app.py's on_error does for the global alert).
    Return no_update after it, not PreventUpdate: a prevented update drops the side update too."""
    set_props("src-message", {"children": text, "color": color, "is_open": True})


def _read_sources() -> list[SourceRecord]:
    with unit_of_work() as conn:
        return list_sources(conn)


def _read_source(source_id: int) -> SourceRecord:
    with unit_of_work() as conn:
        return get_source(conn, source_id)


# ---------------------------------------------------------------------------------------------
# Layout

def layout(**_query: str) -> html.Div:
    return html.Div([
        dcc.Store(id="src-refresh", data=0),
        dcc.Store(id="src-editing"),
        dcc.Store(id="src-removing"),
        dcc.Store(id="src-preview-key"),
        dcc.Interval(id="src-poll", interval=POLL_MS, disabled=True),
        dbc.Row([
            dbc.Col(html.H4("Data sources", className="mb-0"), xs=12, md=True, className="mb-2"),
            dbc.Col(admin_panel("src-admin-token"), xs=12, md=5, lg=4, className="mb-2"),
            dbc.Col(dbc.Button("+ Add source", id="src-add", color="primary", n_clicks=0, className="w-100"),
                    xs=12, md="auto", className="mb-2"),
        ], className="align-items-start g-2"),
        dbc.Alert(id="src-message", is_open=False, dismissable=True, className="py-2"),
        # The stores sit inside the Loading so a sync that runs inline (no Redis) shows a spinner;
        # delay_show keeps the one-second polls from flashing it.
        dcc.Loading([
            dcc.Store(id="src-notes", data={}),
            dcc.Store(id="src-jobs", data={}),
            dcc.Store(id="src-progress", data={}),
            html.Div(id="src-list", className="mb-3"),
        ], delay_show=400, overlay_style={"visibility": "visible", "opacity": 0.6}),
        _upload_card(),
        _form_modal(),
        _remove_modal(),
    ], className="sources-page")


def _upload_card() -> dbc.Card:
    def field(label: str, control: Any, **width: Any) -> dbc.Col:
        return dbc.Col([dbc.Label(label, className="small mb-1"), control], **width)

    defaults = dbc.Row([
        field("Channel, if the file has none", dcc.Dropdown(
            id="src-u-platform", placeholder="from the file",
            options=[{"label": name, "value": slug} for slug, name in PLATFORM_NAMES.items()]), xs=12, md=3),
        field("Account, if the file has none", dbc.Input(id="src-u-account", placeholder="from the file",
                                                         debounce=True), xs=6, md=3),
        field("Currency, if the file has none", dbc.Input(id="src-u-currency", placeholder="e.g. USD",
                                                          maxLength=3, debounce=True), xs=6, md=2),
        field("Record under source (optional)", dcc.Dropdown(id="src-u-source", placeholder="none"), xs=12, md=4),
    ], className="g-2 mb-3")
    return dbc.Card([
        dbc.CardHeader(html.H6("Upload a file", className="mb-0")),
        dbc.CardBody([
            html.P("CSV or XLSX: a platform report, a Kaggle “Social Media Advertising” export or your own "
                   "sheet. Columns are recognised by their names; you see the parsed rows and every problem "
                   "before anything is written.", className="small text-muted"),
            defaults,
            upload_box("src-upload", MAX_UPLOAD_BYTES),
            dcc.Loading(html.Div(id="src-preview"), delay_show=300),
            dbc.Button("Write rows", id="src-write", color="success", disabled=True, n_clicks=0, className="mt-2"),
            dcc.Loading(html.Div(id="src-upload-result", className="mt-2"), delay_show=300),
        ]),
    ], className="shadow-sm mb-3")


def _form_modal() -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle(id="src-form-title")),
        dbc.ModalBody(id="src-form-body"),
        dbc.ModalFooter([
            dbc.Button("Test these credentials", id="src-f-test", color="secondary", outline=True, n_clicks=0,
                       className="me-auto"),
            dbc.Button("Cancel", id="src-f-cancel", color="light", n_clicks=0),
            dbc.Button("Save", id="src-f-save", color="primary", n_clicks=0),
        ], className="flex-wrap gap-2"),
    ], id="src-form", is_open=False, fullscreen="sm-down", size="lg", scrollable=True)


def _remove_modal() -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle("Remove source?")),
        dbc.ModalBody(id="src-remove-text"),
        dbc.ModalFooter([
            dbc.Button("Cancel", id="src-remove-cancel", color="light", n_clicks=0),
            dbc.Button("Remove", id="src-remove-confirm", color="danger", n_clicks=0),
        ]),
    ], id="src-remove-modal", is_open=False, centered=True)


# ---------------------------------------------------------------------------------------------
# The list

def _summary(records: list[SourceRecord]) -> html.Div:
    attention = sum(1 for r in records if r.status in ("needs_reauth", "error"))
    text = f"{len(records)} source{'s' if len(records) != 1 else ''}"
    if attention:
        text += f" · {attention} need{'s' if attention == 1 else ''} attention"
    return html.Div(text, className="small text-muted mb-2", id="src-summary")


def _empty_list() -> dbc.Card:
    return dbc.Card(dbc.CardBody([
        html.H6("No sources yet", className="card-title"),
        html.P("Add an ad account to sync it every hour, or upload a file below.", className="mb-0 small"),
    ]), className="shadow-sm mb-2", id="src-empty")


@callback(Output("src-list", "children"), Output("src-u-source", "options"),
          Input("src-refresh", "data"), Input("src-notes", "data"), Input("src-progress", "data"))
def render_sources(_refresh: int, notes: dict | None, progress: dict | None):
    records = _read_sources()
    now = dt.datetime.now(dt.timezone.utc)
    notes, progress = notes or {}, progress or {}
    cards = [source_card(r, notes.get(str(r.id)), progress.get(str(r.id)), now) for r in records]
    uploads = [{"label": r.name, "value": r.id} for r in records if r.kind == "upload"]
    return [_summary(records), *(cards or [_empty_list()])], uploads


# ---------------------------------------------------------------------------------------------
# Test connection, sync now (with progress), pause / resume

@callback(Output("src-notes", "data", allow_duplicate=True),
          Input({"type": "src-test", "id": ALL}, "n_clicks"), State("src-notes", "data"), prevent_initial_call=True)
def test_source(_clicks, notes: dict | None):
    _require_click()
    source_id = ctx.triggered_id["id"]
    try:
        check = source_sync.test_connection(source_id, options=INTERACTIVE)
        note = _note(check.ok, check.message)
    except SecretsError as exc:
        note = _note(False, str(exc))
    except SourceNotFound:
        note = _note(False, GONE)
    return {**(notes or {}), str(source_id): note}


def _inline_outcome(before: SourceRecord, after: SourceRecord) -> Note:
    """Without Redis the sync ran inside the request: the source row tells how it went."""
    if after.last_success_at and after.last_success_at != before.last_success_at:
        return _note(True, f"Synced: {after.rows_last_sync:,} rows (ran here: no job queue is configured).")
    if after.status in ("error", "needs_reauth") and after.last_error:
        return _note(False, f"Sync failed: {after.last_error}")
    return _note(None, f"Nothing was synced: the source is {after.status}.")


def _start_sync(source_id: int, jobs: dict, progress: dict, notes: dict) -> None:
    key = str(source_id)
    if key in jobs:
        return
    try:
        before = _read_source(source_id)
        job_id = source_sync.sync_now(source_id)
    except SourceNotFound:
        notes[key] = _note(False, GONE)
        return
    except (RedisError, OSError):
        notes[key] = _note(False, "The job queue (Redis) is not reachable right now; nothing was started. "
                                  "Try again shortly.")
        return
    if job_id is None:
        notes[key] = _inline_outcome(before, _read_source(source_id))
        return
    jobs[key] = job_id
    progress[key] = {"status": "queued", "progress": 0.0, "message": "waiting for a worker"}
    notes.pop(key, None)


def _finished_note(state: Mapping[str, Any]) -> Note:
    message = state.get("message") or ""
    if state["status"] == "finished":
        return _note(True, f"Sync finished: {message}")
    if state["status"] == "unknown":
        return _note(None, f"Lost track of the sync job ({message}); the status above shows how it ended.")
    return _note(False, f"Sync {state['status']}: {message or 'see the last error'}")


def _poll(jobs: dict, progress: dict, notes: dict) -> None:
    for key, job_id in list(jobs.items()):
        try:
            state = source_sync.job_progress(job_id)
        except (RedisError, OSError):
            state = {"status": "unknown", "progress": 0.0, "message": "the job queue is not reachable"}
        if state["status"] in FINISHED:
            jobs.pop(key)
            progress.pop(key, None)
            notes[key] = _finished_note(state)
        else:
            progress[key] = state


@callback(Output("src-jobs", "data"), Output("src-progress", "data"),
          Output("src-notes", "data", allow_duplicate=True), Output("src-poll", "disabled"),
          Input({"type": "src-sync", "id": ALL}, "n_clicks"), Input("src-poll", "n_intervals"),
          State("src-jobs", "data"), State("src-progress", "data"), State("src-notes", "data"),
          prevent_initial_call=True)
def sync_sources(_clicks, _tick, jobs: dict | None, progress: dict | None, notes: dict | None):
    """One owner for the job ids: a click enqueues (or runs inline), each tick polls them all;
    the interval runs only while some job is unfinished."""
    jobs, progress, notes = dict(jobs or {}), dict(progress or {}), dict(notes or {})
    if isinstance(ctx.triggered_id, dict):
        _require_click()
        _start_sync(ctx.triggered_id["id"], jobs, progress, notes)
    else:
        _poll(jobs, progress, notes)
    return jobs, progress, notes, not jobs


@callback(Output("src-refresh", "data", allow_duplicate=True),
          Input({"type": "src-pause", "id": ALL}, "n_clicks"), State("src-admin-token", "value"),
          State("src-refresh", "data"), prevent_initial_call=True)
def pause_source(_clicks, token: str | None, refresh: int | None):
    _require_click()
    if not is_admin(token):
        _say(REFUSED, "warning")
        return no_update
    source_id = ctx.triggered_id["id"]
    try:
        with unit_of_work() as conn:
            record = get_source(conn, source_id)
            target = "active" if record.status == "paused" else "paused"
            set_status(conn, source_id, target)
    except (SourceNotFound, SourceConfigError) as exc:
        _say(GONE if isinstance(exc, SourceNotFound) else str(exc), "danger")
        return (refresh or 0) + 1
    _say(f"{record.name} resumed: it syncs with the next hourly cycle." if target == "active"
         else f"{record.name} paused: no syncs until it is resumed.")
    return (refresh or 0) + 1


# ---------------------------------------------------------------------------------------------
# Add / edit / reconnect

@callback(Output("src-form", "is_open"), Output("src-form-title", "children"), Output("src-editing", "data"),
          Output("src-form-body", "children"),
          Input("src-add", "n_clicks"), Input({"type": "src-edit", "id": ALL}, "n_clicks"),
          Input({"type": "src-reconnect", "id": ALL}, "n_clicks"), Input("src-f-cancel", "n_clicks"),
          State("src-admin-token", "value"), prevent_initial_call=True)
def open_form(_add, _edit, _reconnect, _cancel, token: str | None):
    """A fresh form on every opening: blank credentials, settings as stored."""
    _require_click()
    if ctx.triggered_id == "src-f-cancel":
        return False, no_update, no_update, no_update
    if not is_admin(token):
        _say(REFUSED, "warning")
        return no_update, no_update, no_update, no_update
    if ctx.triggered_id == "src-add":
        return True, "Add a source", {"id": None, "masked": {}}, form_body(None)
    try:
        record = _read_source(ctx.triggered_id["id"])
    except SourceNotFound:
        _say(GONE, "info")
        return no_update, no_update, no_update, no_update
    reconnect = ctx.triggered_id["type"] == "src-reconnect"
    hint = (f"{record.name} needs re-authorisation: enter fresh credentials. Saving them makes it active again."
            if reconnect else None)
    title = f"{'Reconnect' if reconnect else 'Edit'} {record.name}"
    return True, title, {"id": record.id, "masked": record.credentials_masked}, form_body(record, hint)


@callback(Output("src-f-creds", "children"), Output("src-f-settings", "hidden"), Output("src-f-test", "disabled"),
          Output("src-f-lookback", "placeholder"),
          Input("src-f-kind", "value"), State("src-editing", "data"))
def form_fields(kind: str | None, editing: dict | None):
    """Credential fields come from the connector class; upload sources have none."""
    kind = kind or DEFAULT_KIND
    api = kind in CONNECTORS
    lookback = f"default {CONNECTORS[kind].default_lookback_days}" if api else ""
    return credential_inputs(kind, (editing or {}).get("masked") or {}), not api, not api, lookback


def save_form(editing: Mapping[str, Any] | None, kind: str, name: str | None, account: str | None,
              credentials: Mapping[str, str], settings: Mapping[str, Any]) -> tuple[int, str]:
    """Create or update the source; returns (id, message for its card). Raises FormError,
    SourceConfigError, SourceNotFound or SecretsError, each with a message for the form."""
    name, account = (name or "").strip(), (account or "").strip()
    if not name:
        raise FormError("Give the source a name.")
    api = kind in CONNECTORS
    if api and not account:
        raise FormError("Enter the account id or login this source reads.")
    source_id = (editing or {}).get("id")
    if source_id is None:
        if kind not in ADDABLE:
            raise FormError(f"Unknown kind {kind!r}.")
        missing = missing_credentials(kind, credentials)
        if missing:
            raise FormError("Enter " + ", ".join(m.replace("_", " ") for m in missing) + ".")
        with unit_of_work() as conn:
            source_id = create_source(conn, kind=kind, name=name, account_ref=account, credentials=credentials,
                                      settings={k: v for k, v in settings.items() if v is not None})
        return source_id, "Added. Use “Test connection”, then “Sync now” or wait for the hourly cycle."
    with unit_of_work() as conn:
        update_source(conn, source_id, name=name, account_ref=account, credentials=credentials,
                      settings=settings if api else None)
    return source_id, "Saved, with the new credentials." if credentials else "Saved; the stored credentials were kept."


_FORM_STATE = (State("src-editing", "data"), State("src-f-kind", "value"), State("src-f-name", "value"),
               State("src-f-account", "value"), State({"type": "src-cred", "field": ALL}, "id"),
               State({"type": "src-cred", "field": ALL}, "value"), State("src-f-lookback", "value"),
               State("src-f-timezone", "value"), State("src-f-currency", "value"), State("src-f-base-url", "value"))


@callback(Output("src-form", "is_open", allow_duplicate=True), Output("src-f-alert", "children"),
          Output("src-f-alert", "color"), Output("src-f-alert", "is_open"),
          Output("src-refresh", "data", allow_duplicate=True), Output("src-notes", "data", allow_duplicate=True),
          Input("src-f-save", "n_clicks"), *_FORM_STATE, State("src-admin-token", "value"),
          State("src-refresh", "data"), State("src-notes", "data"), prevent_initial_call=True)
def save_source(_clicks, editing, kind, name, account, cred_ids, cred_values, lookback, timezone, currency,
                base_url, token, refresh, notes):
    _require_click()
    if not is_admin(token):
        return no_update, REFUSED, "warning", True, no_update, no_update
    try:
        settings = parse_settings(lookback, timezone, currency, base_url) if kind in CONNECTORS else {}
        source_id, message = save_form(editing, kind, name, account, typed_credentials(cred_ids, cred_values),
                                       settings)
    except (FormError, SourceConfigError, SecretsError) as exc:
        return no_update, str(exc), "danger", True, no_update, no_update
    except SourceNotFound:
        return no_update, GONE, "danger", True, no_update, no_update
    return False, None, "info", False, (refresh or 0) + 1, {**(notes or {}), str(source_id): _note(True, message)}


@callback(Output("src-f-alert", "children", allow_duplicate=True), Output("src-f-alert", "color", allow_duplicate=True),
          Output("src-f-alert", "is_open", allow_duplicate=True),
          Input("src-f-test", "n_clicks"), *_FORM_STATE, prevent_initial_call=True)
def test_form(_clicks, editing, kind, _name, account, cred_ids, cred_values, lookback, timezone, currency,
              base_url):
    """Try typed credentials before saving; stored ones are tested from the source's card."""
    _require_click()
    typed = typed_credentials(cred_ids, cred_values)
    if (editing or {}).get("id") is not None and not typed:
        return ("The stored credentials are tested with “Test connection” on the source's card; "
                "here only newly typed ones are tried."), "info", True
    try:
        settings = {k: v for k, v in parse_settings(lookback, timezone, currency, base_url).items() if v is not None}
    except FormError as exc:
        return str(exc), "danger", True
    check = source_sync.test_credentials(kind, (account or "").strip(), typed, settings, options=INTERACTIVE)
    return check.message, "success" if check.ok else "danger", True


# ---------------------------------------------------------------------------------------------
# Remove

@callback(Output("src-remove-modal", "is_open"), Output("src-remove-text", "children"),
          Output("src-removing", "data"),
          Input({"type": "src-remove", "id": ALL}, "n_clicks"), Input("src-remove-cancel", "n_clicks"),
          State("src-admin-token", "value"), prevent_initial_call=True)
def ask_remove(_clicks, _cancel, token: str | None):
    _require_click()
    if ctx.triggered_id == "src-remove-cancel":
        return False, no_update, None
    if not is_admin(token):
        _say(REFUSED, "warning")
        return no_update, no_update, no_update
    try:
        record = _read_source(ctx.triggered_id["id"])
    except SourceNotFound:
        _say(GONE, "info")
        return no_update, no_update, no_update
    text = [html.P(["Remove ", html.Strong(record.name), f" ({kind_label(record.kind)})? Its stored credentials "
                    "are deleted and it is no longer synced."]),
            html.P("Data already loaded from it stays in the dashboard.", className="small text-muted mb-0")]
    return True, text, record.id


@callback(Output("src-remove-modal", "is_open", allow_duplicate=True),
          Output("src-refresh", "data", allow_duplicate=True),
          Input("src-remove-confirm", "n_clicks"), State("src-removing", "data"), State("src-admin-token", "value"),
          State("src-refresh", "data"), prevent_initial_call=True)
def remove_source(_clicks, source_id: int | None, token: str | None, refresh: int | None):
    _require_click()
    if source_id is None:
        raise PreventUpdate
    if not is_admin(token):
        _say(REFUSED, "warning")
        return False, no_update
    try:
        with unit_of_work() as conn:
            name = get_source(conn, source_id).name
            delete_source(conn, source_id)
    except SourceNotFound:
        _say("That source was already removed.", "info")
        return False, (refresh or 0) + 1
    _say(f"Removed {name}.")
    return False, (refresh or 0) + 1


# ---------------------------------------------------------------------------------------------
# Upload: preview, then write

def _defaults(platform: str | None, account: str | None, currency: str | None) -> dict[str, str]:
    values = {"platform": platform, "account_id": (account or "").strip(), "currency": (currency or "").strip().upper()}
    return {k: v for k, v in values.items() if v}


def upload_digest(data: bytes, defaults: Mapping[str, str]) -> str:
    """What pins a preview: the file's bytes and the defaults it was parsed with."""
    return hashlib.sha256(data + json.dumps(dict(defaults), sort_keys=True).encode()).hexdigest()


def _currency_problems(rows: list[dict], defaults: Mapping[str, str]) -> list[str]:
    """Found at preview so the write cannot fail after the page said "no problems": a malformed
    default code, or a currency without an exchange rate to the reporting currency."""
    problems = []
    if "currency" in defaults and not CURRENCY_CODE.fullmatch(defaults["currency"]):
        problems.append(f"the currency {defaults['currency']!r} is not a three-letter code such as USD")
    missing = sorted({str(r["currency"]) for r in rows if r.get("currency")} - set(queries.currencies()))
    if missing:
        problems.append(f"no exchange rate to {get_settings().reporting_currency} for {', '.join(missing)} yet: "
                        "import FX rates first, or upload the file in a currency that has them")
    return problems


def _read_kind(source_id: int) -> str | None:
    """The kind of the source an upload is recorded under; None when it no longer exists."""
    try:
        return _read_source(source_id).kind
    except SourceNotFound:
        return None


def parse_file(contents: str, filename: str, defaults: Mapping[str, str]) -> tuple[UploadResult, str]:
    """The upload's rows and problems (nothing written) and the digest that pins them."""
    try:
        data = decode_contents(contents)
    except ValueError as exc:
        return UploadResult(problems=[str(exc)]), ""
    result = source_sync.preview_upload(data, filename, defaults=defaults)
    result.problems.extend(_currency_problems(result.rows, defaults))
    return result, upload_digest(data, defaults)


@callback(Output("src-preview", "children"), Output("src-write", "disabled"), Output("src-write", "children"),
          Output("src-preview-key", "data"), Output("src-upload-result", "children"),
          Input("src-upload", "contents"), Input("src-u-platform", "value"), Input("src-u-account", "value"),
          Input("src-u-currency", "value"), State("src-upload", "filename"))
def preview_file(contents: str | None, platform, account, currency, filename: str | None):
    if not contents:
        return (html.Div("Nothing uploaded yet.", className="small text-muted", id="src-preview-empty"), True,
                "Write rows", None, None)
    filename = filename or "upload.csv"
    result, digest = parse_file(contents, filename, _defaults(platform, account, currency))
    totals = preview_totals(result.rows)
    writable = bool(result.rows) and not result.problems
    label = f"Write {totals['rows']:,} rows" if writable else "Write rows"
    key = {"digest": digest, "filename": filename, "totals": totals} if writable else None
    return upload_preview(result, filename, "src-preview-table"), not writable, label, key, None


@callback(Output("src-upload-result", "children", allow_duplicate=True),
          Output("src-write", "disabled", allow_duplicate=True), Output("src-refresh", "data", allow_duplicate=True),
          Input("src-write", "n_clicks"), State("src-upload", "contents"), State("src-upload", "filename"),
          State("src-u-platform", "value"), State("src-u-account", "value"), State("src-u-currency", "value"),
          State("src-u-source", "value"), State("src-preview-key", "data"), State("src-admin-token", "value"),
          State("src-refresh", "data"), prevent_initial_call=True)
def write_file(_clicks, contents, filename, platform, account, currency, source_id, previewed, token, refresh):
    """Write exactly what was previewed, whole, in one transaction."""
    _require_click()

    def refused(text: str, color: str = "warning"):
        return dbc.Alert(text, color=color, className="py-2"), no_update, no_update

    if not is_admin(token):
        return refused(REFUSED)
    if not contents or not previewed:
        return refused("Upload a file and check its preview first.")
    if source_id is not None:
        kind = _read_kind(source_id)
        if kind != "upload":
            return refused(GONE if kind is None else "Files can only be recorded under an upload source.")
    result, digest = parse_file(contents, filename or "upload.csv", _defaults(platform, account, currency))
    if digest != previewed["digest"]:
        return refused("The file or its defaults changed since the preview; check the new preview, then write.")
    try:
        written = source_sync.commit_upload(result, source_id=source_id)
    except source_sync.UploadRefused as exc:
        return problems_list(exc.problems), True, no_update
    except IngestError as exc:
        return refused(f"Nothing was written: {exc}", "danger")
    except LockLost:  # record_success found no row: the chosen source was deleted meanwhile
        return refused(f"Nothing was written: {GONE}", "danger")
    text = (f"Wrote {written:,} daily rows from {previewed['filename']} ({totals_text(previewed['totals'])}). "
            "The dashboard shows them now.")
    return (dbc.Alert(text, color="success", className="py-2", id="src-written"), True,
            (refresh or 0) + 1 if source_id else no_update)
