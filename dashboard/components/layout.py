"""The app shell: a navbar that collapses on a phone, the filter bar and the page container."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard.components.filter_bar import filter_bar


def navbar() -> dbc.Navbar:
    links = [dbc.NavItem(dbc.NavLink(page["name"], href=page["relative_path"], active="exact"))
             for page in dash.page_registry.values() if page.get("nav", True)]
    return dbc.Navbar(dbc.Container([
        dbc.NavbarBrand([html.Span("DEMETRA", className="brand-word"),
                         html.Small(" ad-channel analytics", className="brand-sub d-none d-sm-inline")], href="/"),
        dbc.NavbarToggler(id="nav-toggle", n_clicks=0),
        dbc.Collapse(dbc.Nav(links, className="ms-auto", navbar=True), id="nav-collapse", is_open=False,
                     navbar=True),
    ], fluid=True), color="primary", dark=True, className="mb-3 shadow-sm")


def shell() -> html.Div:
    return html.Div([
        dcc.Location(id="url", refresh="callback-nav"),
        dcc.Store(id="view-state"),
        navbar(),
        dbc.Container([
            dbc.Alert(id="global-alert", is_open=False, dismissable=True, color="danger"),
            filter_bar(),
            dash.page_container,
        ], fluid=True, className="pb-5"),
    ])


@callback(Output("nav-collapse", "is_open"), Input("nav-toggle", "n_clicks"), State("nav-collapse", "is_open"),
          prevent_initial_call=True)
def toggle_nav(_clicks: int, is_open: bool) -> bool:
    return not is_open
