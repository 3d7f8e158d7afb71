"""The add / edit source form: its fields, built from the connector class, and their checks.

Credential fields always start blank. On edit each one says which value is stored ("••••abcd")
and that leaving it blank keeps it, which is what db.sources.update_source does with a blank.
Settings are not secret, so they are shown as stored; a blank setting means the default.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.components.source_card import ADDABLE, field_label
from db.sources import SourceRecord
from jobs.sources.registry import CONNECTORS

MAX_LOOKBACK_DAYS = 365
CURRENCY_CODE = re.compile(r"[A-Z]{3}")
DEFAULT_KIND = "meta"


class FormError(ValueError):
    """A value refused before the store sees it; the message names the field and the fix."""


def parse_settings(lookback: Any, timezone: str | None, currency: str | None,
                   base_url: str | None) -> dict[str, Any]:
    """Form values → source settings; blanks become None, which update_source removes."""
    timezone, currency, base_url = ((v or "").strip() or None for v in (timezone, currency, base_url))
    days = None
    if lookback not in (None, ""):
        try:
            days = int(lookback)
            whole = days == float(lookback)
        except (TypeError, ValueError):
            whole = False
        if not whole or not 0 <= days <= MAX_LOOKBACK_DAYS:
            raise FormError(f"Look-back days must be a whole number from 0 to {MAX_LOOKBACK_DAYS}.")
    if timezone:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise FormError(f"Unknown time zone {timezone!r}: use a name such as Europe/Moscow.") from None
    if currency:
        currency = currency.upper()
        if not CURRENCY_CODE.fullmatch(currency):
            raise FormError("Currency must be a three-letter code such as USD.")
    if base_url and not re.match(r"https?://[^\s/]+", base_url):
        raise FormError("The API base URL must start with http:// or https://.")
    return {"lookback_days": days, "timezone": timezone, "currency": currency, "base_url": base_url}


def typed_credentials(ids: list[dict], values: list[str | None]) -> dict[str, str]:
    """The credential fields a person filled in; blank ones are left out (= keep the stored)."""
    return {i["field"]: v.strip() for i, v in zip(ids, values) if v and v.strip()}


def missing_credentials(kind: str, typed: Mapping[str, str]) -> list[str]:
    return [f for f in CONNECTORS[kind].required_credentials if f not in typed] if kind in CONNECTORS else []


def credential_inputs(kind: str, masked: Mapping[str, str]) -> list:
    """One password field per credential the connector declares, blank, saying what is stored."""
    if kind not in CONNECTORS:
        return [html.P("Upload sources have no credentials: files uploaded below can be recorded under "
                       "this source.", className="small text-muted mb-0")]
    cls = CONNECTORS[kind]
    fields = []
    for name in cls.credential_fields:
        stored = masked.get(name)
        placeholder = (f"stored {stored} — leave blank to keep" if stored
                       else "required" if name in cls.required_credentials else "optional")
        fields.append(dbc.Col([
            dbc.Label(field_label(name), className="small mb-1"),
            dbc.Input(id={"type": "src-cred", "field": name}, type="password", value="", placeholder=placeholder,
                      autocomplete="new-password"),
        ], xs=12, sm=6))
    return [dbc.Row(fields, className="g-2")]


def _labelled(label: str, control: Any, help_text: str | None = None, **width: Any) -> dbc.Col:
    parts = [dbc.Label(label, className="small mb-1"), control]
    if help_text:
        parts.append(dbc.FormText(help_text))
    return dbc.Col(parts, **width)


def form_body(record: SourceRecord | None, hint: str | None = None) -> list:
    """The form's fields for a new source (record None) or filled from a stored one; the kind of a
    stored source is fixed (its credentials and data belong to that platform)."""
    settings = record.settings if record else {}
    kind = record.kind if record else DEFAULT_KIND
    return [
        dbc.Alert(hint, id="src-f-alert", is_open=bool(hint), color="warning", className="py-2 small"),
        dbc.Label("Kind", className="small mb-1"),
        dcc.Dropdown(id="src-f-kind", clearable=False, value=kind, disabled=record is not None,
                     options=[{"label": label, "value": k} for k, label in ADDABLE.items()]),
        dbc.Row([
            _labelled("Name", dbc.Input(id="src-f-name", value=record.name if record else "",
                                        placeholder="e.g. Meta — main account"), xs=12, sm=6),
            _labelled("Account id / login", dbc.Input(id="src-f-account", value=record.account_ref if record else "",
                                                      placeholder="act_123…, 123-456-7890, a login…"), xs=12, sm=6),
        ], className="g-2 mt-1"),
        html.H6("Credentials", className="mt-3 mb-1"),
        html.Div(id="src-f-creds"),
        html.Div([
            html.H6("Settings", className="mt-3 mb-1"),
            dbc.Row([
                _labelled("Look-back days", dbc.Input(id="src-f-lookback", type="number", min=0,
                                                      max=MAX_LOOKBACK_DAYS, step=1,
                                                      value=settings.get("lookback_days")),
                          "Recent days re-read on every sync, as platforms restate them.", xs=12, sm=4),
                _labelled("Time zone", dbc.Input(id="src-f-timezone", value=settings.get("timezone") or "",
                                                 placeholder="from the platform"), xs=6, sm=4),
                _labelled("Currency", dbc.Input(id="src-f-currency", value=settings.get("currency") or "",
                                                placeholder="from the platform", maxLength=3), xs=6, sm=4),
            ], className="g-2"),
            html.Details([
                html.Summary("Advanced", className="small mt-2"),
                dbc.Row(_labelled("API base URL", dbc.Input(id="src-f-base-url", value=settings.get("base_url") or "",
                                                            placeholder="the platform's own", type="url"),
                                  "A proxy, a sandbox or a test server.", xs=12), className="mt-1"),
            ]),
        ], id="src-f-settings", hidden=kind not in CONNECTORS),
    ]
