"""How a source's health reads at a glance: a status badge and "12 min ago" times.

Airbyte and Supermetrics users scan a connection list by badge colour and by how long ago the
last good sync was, so both are worded and coloured the same wherever a source is shown.
"""
from __future__ import annotations

import datetime as dt

import dash_bootstrap_components as dbc
from dash import html

#: status → (label, Bootstrap colour). "syncing" is not stored: it is a lease being held.
STATUS_STYLE: dict[str, tuple[str, str]] = {
    "active": ("active", "success"),
    "needs_reauth": ("needs re-authorisation", "warning"),
    "error": ("error", "danger"),
    "paused": ("paused", "secondary"),
    "syncing": ("syncing", "info"),
}


def status_badge(status: str) -> dbc.Badge:
    label, color = STATUS_STYLE.get(status, (status, "secondary"))
    return dbc.Badge(label, color=color, pill=True, className="status-badge")


def relative_time(when: dt.datetime | None, now: dt.datetime | None = None, never: str = "never") -> str:
    """"just now", "12 min ago", "3 h ago", "yesterday", "5 days ago", then the date itself:
    past a month the day is more useful than a count. Clock skew (a time in the future) reads
    as "just now" rather than a negative age."""
    if when is None:
        return never
    now = now or dt.datetime.now(dt.timezone.utc)
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return "just now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} h ago"
    days = hours // 24
    if days == 1:
        return "yesterday"
    if days < 30:
        return f"{days} days ago"
    return when.strftime("%-d %b %Y")


def timestamp(when: dt.datetime | None, now: dt.datetime | None = None, never: str = "never") -> html.Span:
    """The relative time, with the exact UTC time on hover."""
    title = when.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if when else None
    return html.Span(relative_time(when, now, never), title=title)
