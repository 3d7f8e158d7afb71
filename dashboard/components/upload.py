"""Showing a parsed upload before anything is written: totals, the column mapping, the problems
and the first rows, so a person can check the numbers against their own sheet and decide.

Built from `jobs.sources.upload.UploadResult` (rows, problems, mapping); no database access.
"""
from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import dash_table, dcc, html

from jobs.sources.upload import UploadResult

PREVIEW_ROWS = 20
NO_CURRENCY = "(no currency)"
#: The counts a person checks against their spreadsheet's own column sums.
COUNTED = ("impressions", "clicks", "conversions")
#: Preview columns in reading order; keys a file happens to carry beyond these follow them.
COLUMN_ORDER = ("date", "hour", "platform", "account_id", "campaign_id", "campaign_name", "ad_set_id", "ad_id",
                "currency", "spend", "impressions", "clicks", "conversions", "revenue", "leads", "reach")


def decode_contents(contents: str) -> bytes:
    """dcc.Upload's data URL → the file's bytes."""
    try:
        return base64.b64decode(contents.split(",", 1)[1], validate=True)
    except (IndexError, binascii.Error):
        raise ValueError("the upload did not arrive intact; choose the file again") from None


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB"


def upload_box(upload_id: str, max_bytes: int) -> dcc.Upload:
    """A drop zone that also opens the file picker on tap (phones cannot drag)."""
    return dcc.Upload(
        id=upload_id, accept=".csv,.tsv,.txt,.xlsx", max_size=max_bytes, multiple=False,
        children=html.Div([html.Strong("Drop a CSV or XLSX file here"), html.Span(" or "),
                           html.A("choose one", href="#", className="link-primary"),
                           html.Div(f"up to {megabytes(max_bytes)} (the browser does not send a larger file: "
                                    "split it)", className="small text-muted")]),
        className="upload-box text-center p-3 mb-3",
        style={"border": "2px dashed #BDC3C7", "borderRadius": "8px", "background": "#fff", "cursor": "pointer"},
        style_active={"borderColor": "#18BC9C", "background": "#F2FBF9"},
        style_reject={"borderColor": "#E74C3C", "background": "#FDF2F1"},
    )


def _number(value: float) -> str:
    """Thousands grouped; fractions only when the file has them (a derivative's fractional clicks)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def preview_totals(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Row count, spend per currency (never summed across currencies) and the summed counts."""
    spend: dict[str, float] = defaultdict(float)
    counts = dict.fromkeys(COUNTED, 0.0)
    n = 0
    for row in rows:
        n += 1
        spend[str(row.get("currency") or NO_CURRENCY)] += float(row.get("spend") or 0)
        for key in COUNTED:
            counts[key] += float(row.get(key) or 0)
    return {"rows": n, "spend": {cur: round(v, 6) for cur, v in sorted(spend.items())},
            **{key: round(v, 6) for key, v in counts.items()}}


def totals_text(totals: Mapping[str, Any]) -> str:
    """"1,234 rows · spend USD 5,000.00 · 120,000 impressions · …" for a sentence or a badge."""
    spend = ", ".join(f"{cur} {value:,.2f}" for cur, value in totals["spend"].items()) or "0"
    counts = " · ".join(f"{_number(totals[key])} {key}" for key in COUNTED)
    return f"{totals['rows']:,} rows · spend {spend} · {counts}"


def problems_list(problems: Sequence[str], ok_text: str = "No problems found.") -> dbc.Alert:
    """Every problem on its own line, so a person can fix the file in one pass."""
    if not problems:
        return dbc.Alert(ok_text, color="success", className="py-2 mb-2 problems-list")
    return dbc.Alert([
        html.Strong(f"{len(problems)} problem{'s' if len(problems) != 1 else ''}: nothing will be written "
                    "until the file is fixed"),
        html.Ul([html.Li(p) for p in problems], className="mb-0 mt-1 small"),
    ], color="danger", className="py-2 mb-2 problems-list")


def _mapping(mapping: Mapping[str, str]) -> html.Div:
    if not mapping:
        return html.Div()
    chips = [html.Span([html.Code(key), " ← ", column], className="badge text-bg-light fw-normal me-1 mb-1",
                       style={"whiteSpace": "normal"}) for key, column in mapping.items()]
    return html.Div([html.Div("Columns recognised", className="small fw-semibold mb-1"), html.Div(chips)],
                    className="mb-2 upload-mapping")


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    present = {key for row in rows for key in row}
    return [c for c in COLUMN_ORDER if c in present] + sorted(present - set(COLUMN_ORDER))


def _cell(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


def rows_table(table_id: str, rows: Sequence[Mapping[str, Any]]) -> dash_table.DataTable:
    """The parsed rows as they will be stored; scrolls inside its card on a phone."""
    columns = _columns(rows)
    return dash_table.DataTable(
        id=table_id, columns=[{"name": c, "id": c} for c in columns],
        data=[{c: _cell(row.get(c)) for c in columns} for row in rows],
        style_table={"overflowX": "auto", "maxWidth": "100%"}, style_as_list_view=True,
        style_cell={"fontFamily": "inherit", "fontSize": 12, "padding": "4px 8px", "whiteSpace": "nowrap"},
        style_header={"fontWeight": 600, "backgroundColor": "#f8f9fa"},
    )


def upload_preview(result: UploadResult, filename: str, table_id: str) -> html.Div:
    """Summary and totals, recognised columns, problems, then the first rows."""
    totals = preview_totals(result.rows)
    summary = totals_text(totals) if result.rows else "no rows could be read"
    parts: list[Any] = [
        html.Div([html.Strong(filename), f" — {summary}"], className="mb-2 upload-summary"),
        _mapping(result.mapping),
        problems_list(result.problems),
    ]
    if result.rows:
        shown = min(PREVIEW_ROWS, len(result.rows))
        parts += [html.Div(f"First {shown} of {len(result.rows):,} rows as they will be stored",
                           className="small text-muted mb-1"),
                  rows_table(table_id, result.rows[:PREVIEW_ROWS])]
    return html.Div(parts)
