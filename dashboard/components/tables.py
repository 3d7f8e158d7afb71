"""Sortable metric tables whose formatting comes from the metric registry."""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from dash import dash_table
from dash.dash_table.Format import Format, Scheme, Symbol

from db import metrics as mx


def metric_column(slug: str, currency: str) -> dict:
    """A DataTable column formatted from the metric registry (shared by every page's tables)."""
    metric = mx.get(slug)
    fmt: Format
    if metric.kind == "percent":
        fmt = Format(precision=2, scheme=Scheme.percentage)
    elif metric.kind == "currency":
        sym = mx.CURRENCY_SYMBOLS.get(currency, currency + " ")
        fmt = Format(precision=2, scheme=Scheme.fixed, group=True, symbol=Symbol.yes, symbol_prefix=sym)
    elif metric.kind in ("multiple", "ratio"):
        fmt = Format(precision=2, scheme=Scheme.fixed)
    else:
        fmt = Format(precision=0, scheme=Scheme.fixed, group=True)
    return {"name": metric.short or metric.label, "id": slug, "type": "numeric", "format": fmt}


def table_style(left: Sequence[str] = (), bold: Sequence[str] = (), cell: dict | None = None,
                header: dict | None = None, links: bool = False) -> dict:
    """The DataTable look every page shares: numbers right, `left` columns left (`bold` ones bold),
    scrolling inside its card on a phone. `links`: markdown links open in the same tab."""
    style = {
        "style_as_list_view": True, "style_table": {"overflowX": "auto"},
        "style_cell": {"fontFamily": "inherit", "fontSize": 13, "padding": "6px 10px", "textAlign": "right",
                       **(cell or {})},
        "style_cell_conditional": [{"if": {"column_id": c}, "textAlign": "left",
                                    **({"fontWeight": 600} if c in bold else {})} for c in (*left, *bold)],
        "style_header": {"fontWeight": 600, "backgroundColor": "#f8f9fa", **(header or {})},
    }
    if links:  # a selectable cell swallows the click on its link
        style.update(markdown_options={"link_target": "_self"}, cell_selectable=False)
    return style


def metric_table(table_id: str, frame: pd.DataFrame, key: str, key_label: str, slugs: list[str],
                 currency: str, link: bool = False) -> dash_table.DataTable:
    """`link`: the key column holds markdown links (to a deeper level or an explanation)."""
    data = frame[[key, *slugs]].sort_values(slugs[0], ascending=False)
    return dash_table.DataTable(
        id=table_id,
        columns=[{"name": key_label, "id": key, **({"presentation": "markdown"} if link else {})}]
        + [metric_column(s, currency) for s in slugs],
        data=data.to_dict("records"), sort_action="native", **table_style(bold=[key], links=link),
    )
