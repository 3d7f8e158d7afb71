"""The app factory: one Dash app, its Flask server, cache, API and error handling."""
from __future__ import annotations

import logging
from pathlib import Path

import dash
from dash import set_props
from flask import Flask

from dashboard.api import api
from dashboard.cache import init_cache

log = logging.getLogger("demetra.web")
ROOT = Path(__file__).resolve().parents[1]


def _on_callback_error(err: Exception) -> None:
    """Never a stack trace in the browser: a readable alert, the details in the server log."""
    log.exception("callback failed", exc_info=err)
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(err, SQLAlchemyError):
        message = "The database is not reachable right now. The page will work again once it is back."
    else:
        message = f"Something went wrong while updating this view ({type(err).__name__}). It has been logged."
    set_props("global-alert", {"children": message, "is_open": True})


def create_app() -> dash.Dash:
    server = Flask(__name__)
    server.register_blueprint(api)
    init_cache(server)
    app = dash.Dash(
        __name__, server=server, use_pages=True, pages_folder=str(ROOT / "dashboard" / "pages"),
        assets_folder=str(ROOT / "assets"), title="DEMETRA", update_title=None,
        suppress_callback_exceptions=True, on_error=_on_callback_error,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    from dashboard.components.layout import shell

    app.layout = shell
    return app
