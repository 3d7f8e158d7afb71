"""The admin gate, until there is a user system: one shared token from DEMETRA_ADMIN_TOKEN.

Unset means local mode — a single person on their own machine — so everyone is admin and the
page says so plainly rather than pretending to protect anything. Set, every change checks the
token typed on the page against it on the server, per request: the browser never learns the
right answer, and hiding buttons is a courtesy, not the protection.
"""
from __future__ import annotations

import hmac

import dash_bootstrap_components as dbc
from dash import html

from db.config import get_settings

REFUSED = ("Enter the admin token first: changes to sources are limited to admins "
           "(the token is set by DEMETRA_ADMIN_TOKEN on the server).")


def _configured() -> str | None:
    secret = get_settings().admin_token
    value = secret.get_secret_value().strip() if secret is not None else ""
    return value or None


def admin_required() -> bool:
    return _configured() is not None


def is_admin(token: str | None) -> bool:
    """True in local mode, or when `token` equals the configured one (constant-time compare)."""
    configured = _configured()
    if configured is None:
        return True
    return bool(token) and hmac.compare_digest(token.strip().encode(), configured.encode())


def admin_panel(input_id: str) -> html.Div:
    """The token field when a token is configured; otherwise a note that this is local mode.

    The field always exists (hidden in local mode) so callbacks can take it as State either way.
    """
    field = dbc.Input(id=input_id, type="password", placeholder="Admin token", autocomplete="current-password",
                      persistence=True, persistence_type="session", size="sm")
    if admin_required():
        return html.Div([
            dbc.InputGroup([dbc.InputGroupText("Admin", className="small"), field], size="sm"),
            html.Small("Needed to add, edit, pause, remove sources and to write uploads.",
                       className="text-muted"),
        ])
    return html.Div([
        html.Div(field, hidden=True),
        dbc.Alert("Local mode: DEMETRA_ADMIN_TOKEN is not set, so everyone who can open this page is an "
                  "admin and can change sources.", color="light", className="small py-2 mb-0",
                  id=f"{input_id}-local"),
    ])
